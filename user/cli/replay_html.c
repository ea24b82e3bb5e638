/*
 * cli/replay_html.c — assembles the report page (cli/replay_html.h) and writes it atomically.
 *
 * The page is text pasted together: a fixed head, the two style sheets, the data, the two
 * scripts. Pasting is only safe when no piece can end the element it sits in, so the data
 * is escaped for it (sim/report_data.c) and each embedded file is checked before use: a
 * style sheet must not contain "</style", a script neither "</script" nor "<!--" (the HTML
 * parser treats both specially inside a script). Should a future uPlot ever contain one,
 * the report fails with a message instead of producing a broken page.
 *
 * Writing: a temporary file beside the target (PATH.tmp.PID, created exclusively, mode 0666
 * less the umask, like any file the user creates), flushed and synced, then renamed over
 * PATH; on any failure the temporary file is removed and PATH is left untouched.
 */
#include "cli/replay_html.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/errbuf.h"
#include "ui.h"

/* Does data[0..size) contain needle, ignoring ASCII case? */
static int contains_nocase(const unsigned char *data, size_t size, const char *needle)
{
	const size_t n = strlen(needle);
	for (size_t i = 0; n <= size && i <= size - n; i++) {
		size_t j = 0;
		while (j < n && tolower(data[i + j]) == tolower((unsigned char)needle[j]))
			j++;
		if (j == n)
			return 1;
	}
	return 0;
}

/* The embedded file `name`, checked to be safe inside its element; NULL with a reason. */
static const struct ui_asset *asset(const char *name, int is_script, char *why, size_t whylen)
{
	const struct ui_asset *a = ui_asset_find(name);
	if (!a || !a->data) {
		errbuf_set(why, whylen, "%s is not built into this lxcscale", name);
		return NULL;
	}
	const char *bad[2] = { is_script ? "</script" : "</style", is_script ? "<!--" : NULL };
	for (int i = 0; i < 2; i++)
		if (bad[i] && contains_nocase(a->data, a->size, bad[i])) {
			errbuf_set(why, whylen, "the built-in %s contains \"%s\" and cannot be inlined", name, bad[i]);
			return NULL;
		}
	return a;
}

/* Text for HTML element content: & < > " ' as character references. */
static void html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The page into f. 0, or -1 with a reason (a bad asset, the data's own check). */
static int write_page(FILE *f, const struct report *r, char *why, size_t whylen)
{
	const struct ui_asset *uplot_css = asset("uplot.css", 0, why, whylen);
	const struct ui_asset *report_css = uplot_css ? asset("report.css", 0, why, whylen) : NULL;
	const struct ui_asset *uplot_js = report_css ? asset("uplot.js", 1, why, whylen) : NULL;
	const struct ui_asset *report_js = uplot_js ? asset("report.js", 1, why, whylen) : NULL;
	if (!report_js)
		return -1;
	fputs("<!doctype html>\n<html><head><meta charset=utf-8>"
	      "<meta name=viewport content=\"width=device-width, initial-scale=1\">\n<title>", f);
	fputs("lxcscale replay: ", f);
	html_text(f, r->input);
	fputs("</title>\n<style>\n", f);
	fwrite(uplot_css->data, 1, uplot_css->size, f);
	fputs("\n", f);
	fwrite(report_css->data, 1, report_css->size, f);
	fputs("\n</style></head><body><div id=report></div>\n"
	      "<script type=\"application/json\" id=\"data\">", f);
	if (report_data_write(f, r, why, whylen) != 0)
		return -1;
	fputs("</script>\n<script>\n", f);
	fwrite(uplot_js->data, 1, uplot_js->size, f);
	fputs("\n</script>\n<script>\n", f);
	fwrite(report_js->data, 1, report_js->size, f);
	fputs("\n</script></body></html>\n", f);
	return 0;
}

int replay_html_write(const char *path, const struct report *r, char *err, size_t errlen)
{
	char tmp[PATH_MAX], why[512] = "";
	int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (!path[0] || n < 0 || (size_t)n >= sizeof tmp) {
		errbuf_set(err, errlen, "cannot write %s: %s", path, strerror(path[0] ? ENAMETOOLONG : ENOENT));
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		errbuf_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errbuf_set(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -1;
	}
	errno = 0;
	int rc = write_page(f, r, why, sizeof why);
	int e = errno;
	if (rc != 0 && ferror(f))
		why[0] = '\0'; /* the stream failed (a full disk): say why in the OS's words */
	if (rc == 0) {
		errno = 0;
		if (fflush(f) != 0 || ferror(f) || fsync(fd) != 0) {
			e = errno;
			rc = -1;
		}
	}
	if (fclose(f) != 0 && rc == 0) {
		e = errno;
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		e = errno;
		rc = -1;
	}
	if (rc != 0) {
		unlink(tmp);
		errbuf_set(err, errlen, "cannot write %s: %s", path, why[0] ? why : strerror(e ? e : EIO));
	}
	return rc;
}
