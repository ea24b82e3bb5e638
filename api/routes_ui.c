/*
 * routes_ui.c — GET /ui and /ui/<file>: the web dashboard, from the files built into the
 * binary (ui/ui.h), so a Proxmox host needs nothing installed and no network to show it.
 *
 * The files hold no data: every figure on the page comes from the /api/v1 routes, with the key the
 * page asks for (kept in the browser's sessionStorage), so they are served without one.
 * A strict Content-Security-Policy lets the page load only its own scripts and styles and
 * talk only to this server: no inline script, no external font, frame or form target.
 * `api.ui: false` turns the dashboard off (404).
 */
#include "internal.h"

#include <string.h>

#include "ui.h"

#define UI_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

void route_ui(struct req *r)
{
	if (!r->srv->set.ui_enabled) {
		resp_error_code(r, 404, "ui_off", NULL, "The dashboard is turned off (api.ui: false)");
		return;
	}
	if (!strcmp(r->url, "/ui")) { /* relative links need the slash */
		resp_text(r, 301, "text/plain; charset=utf-8", "/ui/\n", 5);
		resp_set_header(r, "Location", "/ui/");
		return;
	}
	const char *name = r->url + strlen("/ui/");
	const struct ui_asset *a = ui_asset_find(name[0] ? name : "index.html");
	if (!a) {
		resp_error_code(r, 404, "no_such_file", NULL, "No such dashboard file");
		return;
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(a->size, (void *)a->data,
								    MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		resp_internal(r, "out of memory");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
	MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	r->custom = resp;
	r->status = 200;
}
