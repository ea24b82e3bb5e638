/*
 * cli/replay_html.h — `lxcscale replay --html FILE`: the replay's results as one web page.
 *
 * The page is a single file that needs nothing else: no network, no file beside it, so it
 * can be mailed, attached to a ticket or opened from an offline Proxmox host. It holds, in
 * this order: uPlot's and the report's style sheets, the data (sim/report_data.h: JSON in a
 * <script type="application/json" id="data"> element), uPlot, and ui/report.js, which reads
 * the data and draws the page. All four files are the ones the build embedded (ui/ui.h).
 *
 * The file is written next to its final name and renamed over it once complete, so a
 * reader never sees half a report and a failed write leaves an older report as it was.
 */
#ifndef LXCSCALE_REPLAY_HTML_H
#define LXCSCALE_REPLAY_HTML_H

#include <stddef.h>

#include "sim/report_data.h"

/* Writes the page for r to path. Returns 0, or -1 with "cannot write PATH: why" in err. */
int replay_html_write(const char *path, const struct report *r, char *err, size_t errlen);

#endif
