/*
 * ui/ui.h — the dashboard's files, built into the programs that serve or write them.
 *
 * ui/ holds the web dashboard that lxcscaled serves under /ui/ (index.html, app.js,
 * app.css) and the replay report that `lxcscale replay --html` writes (report.js,
 * report.css), plus uPlot, the chart library, taken from npm (ui/package.json, pinned by
 * ui/package-lock.json, installed by `make deps`). The build turns every file into a byte
 * array (tools/embed.py), so nothing is installed beside the binaries and no page needs
 * the network: Proxmox hosts are often offline.
 *
 * Knows nothing of the daemon or the API: a table and a lookup.
 */
#ifndef LXCSCALE_UI_H
#define LXCSCALE_UI_H

#include <stddef.h>

struct ui_asset {
	const char *name;          /* as served: "index.html", "uplot.js" */
	const char *content_type;  /* "text/javascript; charset=utf-8" */
	const unsigned char *data; /* NUL-terminated (not counted in size) */
	size_t size;
};

extern const struct ui_asset ui_assets[];
extern const size_t ui_n_assets;

/* The asset of that name, or NULL. */
const struct ui_asset *ui_asset_find(const char *name);

#endif
