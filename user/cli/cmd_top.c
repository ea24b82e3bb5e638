/*
 * cli/cmd_top.c — `lxcscale top`: the containers live, from the daemon's REST API.
 *
 * On a terminal it is a full-screen view: the terminal goes to raw mode and the alternate
 * screen, and is put back on every way out (q, Ctrl-C, SIGTERM, SIGHUP, an error). Each frame
 * is drawn from the top left over the previous one, line by line (erase to end of line),
 * so nothing scrolls and nothing flickers. Keys:
 *
 *   q           quit
 *   c m p s l v sort by CPU, memory, pressure, score, last change, VMID (again: reverse)
 *   / TEXT Enter  show only rows whose VMID or name contains TEXT (Esc: no filter)
 *   space       pause (the data stops; keys still work)
 *   j k, arrows move the selection; Enter opens the container; Esc or Backspace goes back
 *
 * Each row carries sparklines of CPU% and memory% over the last minutes, from the daemon's
 * one-point-a-second history (GET /api/v1/containers/{id}), refreshed every few frames for
 * the rows on screen. The detail view shows the container's limits, usage, pressure, score
 * and its last decisions with their outcomes and reasons. Everything fits 80x24.
 *
 * When stdout is not a terminal it prints the plain table of `lxcscale status` once per
 * interval (for --iterations frames, or until Ctrl-C).
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/apijson.h"
#include "cli/cli.h"
#include "cli/client.h"

#define TOP_ROWS_MAX 4096
#define SPARK_W 8                 /* characters per sparkline */
#define SPARK_SECONDS 240         /* what one sparkline spans: 30 s a character */
#define HISTORY_EVERY 5           /* frames between history refreshes */

static volatile sig_atomic_t top_stop, top_resized;
static void on_stop(int sig)
{
	(void)sig;
	top_stop = 1;
}
static void on_winch(int sig)
{
	(void)sig;
	top_resized = 1;
}

/* ---- the terminal ---------------------------------------------------------------------- */

static struct termios saved_tio;
static bool tio_saved, screen_on;

static void screen_restore(void)
{
	if (screen_on) {
		fputs("\033[?25h\033[?1049l", stdout); /* cursor back, main screen back */
		fflush(stdout);
		screen_on = false;
	}
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = false;
	}
}

/* Raw keys (no echo, no line editing; Ctrl-C still a signal), the alternate screen. */
static int screen_start(void)
{
	if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
		return -1;
	tio_saved = true;
	atexit(screen_restore);
	struct termios t = saved_tio;
	t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0)
		return -1;
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	screen_on = true;
	return 0;
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;
	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* Lines of the frame so far: the first starts at the top left, each next one on a new
 * line, and the last is not followed by a line break (that would scroll the screen). */
static int lines_out;

/* One screen line: cut to the width (counting characters, not bytes), erase the rest. */
static void line_out(const char *s, int cols, bool inverse)
{
	if (lines_out++)
		fputs("\r\n", stdout);
	int w = 0;
	const char *p = s;
	for (; *p; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80) {
			if (w == cols)
				break;
			w++;
		}
	}
	printf("%s%.*s\033[K%s", inverse ? "\033[7m" : "", (int)(p - s), s, inverse ? "\033[0m" : "");
}

/* ---- the data --------------------------------------------------------------------------- */

struct row {
	unsigned vmid;
	char name[24];
	double cores, mem_mb, cpu_pct, mem_pct, psi, score;
	double last_ms;              /* the last decision's time, 0: none */
	char last[16];               /* "cpu↑", "mem↓", ... */
	float cpu_hist[SPARK_W], mem_hist[SPARK_W];
	bool have_hist;
};

enum sort_key { SORT_VMID, SORT_CPU, SORT_MEM, SORT_PSI, SORT_SCORE, SORT_LAST };
static const char *const sort_names[] = {"vmid", "cpu", "memory", "pressure", "score", "last change"};

struct top {
	struct cli_conn conn;
	struct row *rows;
	size_t n;
	enum sort_key sort;
	bool reverse, paused;
	char filter[32];
	bool editing;                /* typing a filter */
	size_t sel;                  /* index into the shown rows */
	unsigned detail;             /* a container's vmid open in the detail view, 0: none */
	char status[160];            /* the last fetch problem, shown in the footer */
	long frame;
};

static const struct row *find_row(const struct top *t, unsigned vmid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].vmid == vmid)
			return &t->rows[i];
	return NULL;
}

/* The newest SPARK_SECONDS of a history, as SPARK_W bucket maxima (0..100). */
static void history_into(json_object *hist, float *cpu, float *mem)
{
	size_t n = hist ? json_object_array_length(hist) : 0;
	for (int k = 0; k < SPARK_W; k++)
		cpu[k] = mem[k] = -1;
	if (!n)
		return;
	double newest = cli_jnum(json_object_array_get_idx(hist, n - 1), "time_ms");
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(hist, i);
		double age = (newest - cli_jnum(p, "time_ms")) / 1000.0;
		if (age < 0 || age >= SPARK_SECONDS)
			continue;
		int k = SPARK_W - 1 - (int)(age / (SPARK_SECONDS / SPARK_W));
		float c = (float)cli_jnum(p, "cpu_pct"), m = (float)cli_jnum(p, "mem_pct");
		if (c > cpu[k])
			cpu[k] = c;
		if (m > mem[k])
			mem[k] = m;
	}
}

static void spark(const float *v, char *out, size_t len)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	size_t o = 0;
	out[0] = '\0';
	for (int k = 0; k < SPARK_W && o + 4 < len; k++) {
		if (v[k] < 0) {
			out[o++] = ' ';
		} else {
			int b = (int)(v[k] / 100.0f * 7.0f + 0.5f);
			b = b < 0 ? 0 : b > 7 ? 7 : b;
			memcpy(out + o, bars[b], 3);
			o += 3;
		}
		out[o] = '\0';
	}
}

static void last_of(json_object *d, char *out, size_t len)
{
	const char *cc = cli_jstr(d, "cpu.change"), *mc = cli_jstr(d, "memory.change");
	bool cpu = *cc && strcmp(cc, "none"), mem = *mc && strcmp(mc, "none");
	if (!d || (!cpu && !mem)) {
		snprintf(out, len, "-");
		return;
	}
	bool up = cpu ? cli_jnum(d, "cpu.to") > cli_jnum(d, "cpu.from")
		      : cli_jnum(d, "memory.to_mb") > cli_jnum(d, "memory.from_mb");
	snprintf(out, len, "%s%s", cpu ? "cpu" : "mem", up ? "↑" : "↓");
}

/* Fetches the list; keeps each known row's history. 0, or an exit code for a fatal answer. */
static int fetch(struct top *t)
{
	json_object *j;
	char *raw = NULL;
	int rc = cli_get_json(&t->conn, "/api/v1/containers", &j, &raw);
	if (rc)
		return rc;
	free(raw);
	json_object *arr = cli_jget(j, "containers");
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (n > TOP_ROWS_MAX)
		n = TOP_ROWS_MAX;
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		json_object_put(j);
		snprintf(t->status, sizeof(t->status), "out of memory");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(arr, i);
		struct row *r = &rows[i];
		r->vmid = (unsigned)cli_jnum(c, "vmid");
		snprintf(r->name, sizeof(r->name), "%s", cli_jstr(c, "name"));
		r->cores = cli_jnum(c, "limits.cores");
		r->mem_mb = cli_jnum(c, "limits.memory_mb");
		r->cpu_pct = cli_jnum(c, "usage.cpu_pct");
		r->mem_pct = cli_jnum(c, "usage.memory_pct");
		r->psi = fmax(cli_jnum(c, "pressure.cpu_some_avg10"), cli_jnum(c, "pressure.memory_some_avg10"));
		r->score = cli_jnum(c, "score.anomaly_score");
		json_object *d = cli_jget(c, "last_decision");
		if (d && !json_object_is_type(d, json_type_null))
			r->last_ms = cli_jnum(d, "time_ms");
		last_of(d && !json_object_is_type(d, json_type_null) ? d : NULL, r->last, sizeof(r->last));
		json_object *ign = cli_jget(c, "ignored");
		if (ign && json_object_get_boolean(ign))
			snprintf(r->last, sizeof(r->last), "ign"); /* ignore_lxc: never scaled */
		const struct row *old = find_row(t, r->vmid);
		if (old && old->have_hist) {
			memcpy(r->cpu_hist, old->cpu_hist, sizeof(r->cpu_hist));
			memcpy(r->mem_hist, old->mem_hist, sizeof(r->mem_hist));
			r->have_hist = true;
		}
	}
	json_object_put(j);
	free(t->rows);
	t->rows = rows;
	t->n = n;
	t->status[0] = '\0';
	return 0;
}

static void fetch_history(struct top *t, struct row *r)
{
	char path[64];
	snprintf(path, sizeof(path), "/api/v1/containers/%u", r->vmid);
	char *body = NULL, err[256] = "";
	long st = cli_request(&t->conn, "GET", path, NULL, &body, err, sizeof(err));
	if (st == 200) {
		json_object *j = json_tokener_parse(body);
		history_into(cli_jget(j, "history"), r->cpu_hist, r->mem_hist);
		r->have_hist = true;
		json_object_put(j);
	}
	free(body);
}

/* ---- ordering and filtering ------------------------------------------------------------- */

static enum sort_key g_sort;
static bool g_reverse;

static double key_of(const struct row *r)
{
	switch (g_sort) {
	case SORT_CPU: return r->cpu_pct;
	case SORT_MEM: return r->mem_pct;
	case SORT_PSI: return r->psi;
	case SORT_SCORE: return r->score;
	case SORT_LAST: return r->last_ms;
	case SORT_VMID: break;
	}
	return -(double)r->vmid; /* VMID ascending reads naturally: highest key first below */
}

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	double kx = key_of(x), ky = key_of(y);
	int c = kx > ky ? -1 : kx < ky ? 1 : (x->vmid > y->vmid) - (x->vmid < y->vmid);
	return g_reverse ? -c : c;
}

static size_t shown_rows(const struct top *t, const struct row **out)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];
		char id[16];
		snprintf(id, sizeof(id), "%u", r->vmid);
		if (t->filter[0] && !strstr(id, t->filter) && !strstr(r->name, t->filter))
			continue;
		out[k++] = r;
	}
	g_sort = t->sort;
	g_reverse = t->reverse;
	qsort(out, k, sizeof(*out), cmp_rows);
	return k;
}

/* ---- drawing ---------------------------------------------------------------------------- */

static void age_text(double ms, char *out, size_t len)
{
	if (ms <= 0) {
		if (len)
			out[0] = '\0';
		return;
	}
	double s = (double)time(NULL) - ms / 1000.0;
	if (s < 0)
		s = 0;
	if (s < 100)
		snprintf(out, len, "%.0fs", s);
	else if (s < 6000)
		snprintf(out, len, "%.0fm", s / 60);
	else
		snprintf(out, len, "%.0fh", s / 3600);
}

static void draw_list(struct top *t, int rows, int cols)
{
	static const struct row *shown[TOP_ROWS_MAX];
	size_t k = shown_rows(t, shown);
	if (t->sel >= k)
		t->sel = k ? k - 1 : 0;
	char line[512], ts[16];
	time_t now = time(NULL);
	strftime(ts, sizeof(ts), "%T", localtime(&now));
	snprintf(line, sizeof(line), "lxcscale top  %s  %zu containers%s  sort: %s%s%s%s", ts, t->n,
		 t->paused ? "  PAUSED" : "", sort_names[t->sort], t->reverse ? " (reversed)" : "",
		 t->filter[0] || t->editing ? "  filter: " : "", t->filter);
	line_out(line, cols, false);
	line_out("VMID   NAME      CORES MEM_MB  CPU% CPU(4m)   MEM% MEM(4m)   PSI SCORE LAST", cols, true);
	int body = rows - 3; /* title, header, footer */
	size_t first = t->sel >= (size_t)body ? t->sel - (size_t)body + 1 : 0;
	int drawn = 0;
	for (size_t i = first; i < k && drawn < body; i++, drawn++) {
		const struct row *r = shown[i];
		char cs[SPARK_W * 3 + 1], ms[SPARK_W * 3 + 1], age[8];
		spark(r->cpu_hist, cs, sizeof(cs));
		spark(r->mem_hist, ms, sizeof(ms));
		age_text(r->last_ms, age, sizeof(age));
		snprintf(line, sizeof(line), "%-6u %-9.9s %5.2f %6.0f %5.1f %s %5.1f %s %5.1f %5.2f %s %s", r->vmid,
			 r->name, r->cores, r->mem_mb, r->cpu_pct, cs, r->mem_pct, ms, r->psi, r->score, r->last, age);
		line_out(line, cols, i == t->sel);
	}
	for (; drawn < body; drawn++)
		line_out("", cols, false);
	if (t->editing)
		snprintf(line, sizeof(line), "filter: %s_   (Enter: keep, Esc: clear)", t->filter);
	else if (t->status[0])
		snprintf(line, sizeof(line), "! %s", t->status);
	else
		snprintf(line, sizeof(line), "q quit  c m p s l v sort  / filter  space pause  j k select  Enter open");
	line_out(line, cols, false);
}

static void draw_detail(struct top *t, int rows, int cols)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/api/v1/containers/%u", t->detail);
	json_object *c = NULL, *dj = NULL;
	char *raw = NULL, *raw2 = NULL, err[256] = "";
	long st = cli_request(&t->conn, "GET", path, NULL, &raw, err, sizeof(err));
	if (st == 200)
		c = json_tokener_parse(raw);
	int used = 0;
	snprintf(line, sizeof(line), "lxcscale top  container %u %s", t->detail, c ? cli_jstr(c, "name") : "");
	line_out(line, cols, true);
	used++;
	if (!c) {
		snprintf(line, sizeof(line), "not available (%s)", st < 0 ? err : "not running under the daemon");
		line_out(line, cols, false);
		used++;
	} else {
		snprintf(line, sizeof(line), "limits    %.2f cores, %.0f MiB", cli_jnum(c, "limits.cores"),
			 cli_jnum(c, "limits.memory_mb"));
		line_out(line, cols, false);
		snprintf(line, sizeof(line), "usage     cpu %.1f %%, memory %.0f MiB (%.1f %%)", cli_jnum(c, "usage.cpu_pct"),
			 cli_jnum(c, "usage.memory_mb"), cli_jnum(c, "usage.memory_pct"));
		line_out(line, cols, false);
		snprintf(line, sizeof(line), "pressure  cpu %.2f, memory %.2f, io %.2f (PSI some avg10)",
			 cli_jnum(c, "pressure.cpu_some_avg10"), cli_jnum(c, "pressure.memory_some_avg10"),
			 cli_jnum(c, "pressure.io_some_avg10"));
		line_out(line, cols, false);
		const char *tier = cli_jstr(c, "tier"), *by = cli_jstr(c, "ignored_by");
		snprintf(line, sizeof(line), "policy    %s%s%s", tier[0] ? "tiers." : "global scaling", tier,
			 !by[0] ? "" : !strcmp(by, "tag") ? "; ignored (its Proxmox tag): never scaled"
							  : "; ignored (ignore_lxc): never scaled");
		line_out(line, cols, false);
		json_object *an = cli_jget(c, "score.anomaly");
		snprintf(line, sizeof(line), "score     %.3f%s", cli_jnum(c, "score.anomaly_score"),
			 an && json_object_get_boolean(an) ? " (anomaly)" : "");
		line_out(line, cols, false);
		float cpu[SPARK_W], mem[SPARK_W];
		char cs[SPARK_W * 3 + 1], ms[SPARK_W * 3 + 1];
		history_into(cli_jget(c, "history"), cpu, mem);
		spark(cpu, cs, sizeof(cs));
		spark(mem, ms, sizeof(ms));
		snprintf(line, sizeof(line), "last 4 min  cpu %s  memory %s", cs, ms);
		line_out(line, cols, false);
		line_out("", cols, false);
		used += 8;
	}
	line_out("last decisions (newest last)", cols, true);
	used++;
	snprintf(path, sizeof(path), "/api/v1/decisions?vmid=%u&limit=8&newest=true", t->detail);
	if (cli_request(&t->conn, "GET", path, NULL, &raw2, err, sizeof(err)) == 200)
		dj = json_tokener_parse(raw2);
	json_object *arr = cli_jget(dj, "decisions");
	size_t k = arr ? json_object_array_length(arr) : 0;
	size_t fit = rows - 2 > used ? (size_t)(rows - 2 - used) / 2 : 0; /* two lines each */
	for (size_t i = k > fit ? k - fit : 0; i < k; i++) { /* the newest that fit */
		json_object *d = json_object_array_get_idx(arr, i);
		char what[96], ts[16];
		time_t tt = (time_t)(cli_jnum(d, "time_ms") / 1000);
		strftime(ts, sizeof(ts), "%T", localtime(&tt));
		cli_decision_summary(d, what, sizeof(what));
		snprintf(line, sizeof(line), "%s %-6.0f %s: %s", ts, cli_jnum(d, "seq"), cli_jstr(d, "outcome"), what);
		line_out(line, cols, false);
		snprintf(line, sizeof(line), "    %s", cli_jstr(d, "detail"));
		line_out(line, cols, false);
		used += 2;
	}
	if (k == 0) {
		line_out("(none)", cols, false);
		used++;
	}
	for (; used < rows - 1; used++)
		line_out("", cols, false);
	line_out("Esc or Backspace: back   q quit", cols, false);
	json_object_put(c);
	json_object_put(dj);
	free(raw);
	free(raw2);
}

static void draw(struct top *t)
{
	int rows, cols;
	term_size(&rows, &cols);
	fputs("\033[H", stdout);
	lines_out = 0;
	if (t->detail)
		draw_detail(t, rows, cols);
	else
		draw_list(t, rows, cols);
	fputs("\033[J", stdout);
	fflush(stdout);
}

/* ---- keys ------------------------------------------------------------------------------- */

static void set_sort(struct top *t, enum sort_key k)
{
	t->reverse = t->sort == k ? !t->reverse : false;
	t->sort = k;
	t->sel = 0;
}

/* One key (or an escape sequence); returns false to quit. */
static bool on_key(struct top *t, const char *k, size_t n)
{
	if (t->editing) {
		size_t l = strlen(t->filter);
		if (k[0] == '\r' || k[0] == '\n') {
			t->editing = false;
		} else if (k[0] == 27) {
			t->editing = false;
			t->filter[0] = '\0';
		} else if (k[0] == 127 || k[0] == 8) {
			if (l)
				t->filter[l - 1] = '\0';
		} else if (k[0] >= 32 && k[0] < 127 && l + 1 < sizeof(t->filter)) {
			t->filter[l] = k[0];
			t->filter[l + 1] = '\0';
		}
		t->sel = 0;
		return true;
	}
	bool up = n >= 3 && k[0] == 27 && k[1] == '[' && k[2] == 'A';
	bool down = n >= 3 && k[0] == 27 && k[1] == '[' && k[2] == 'B';
	if (t->detail) {
		if (k[0] == 'q')
			return false;
		if ((k[0] == 27 && n == 1) || k[0] == 127 || k[0] == 8)
			t->detail = 0;
		return true;
	}
	if (up || k[0] == 'k') {
		if (t->sel)
			t->sel--;
		return true;
	}
	if (down || k[0] == 'j') {
		t->sel++;
		return true;
	}
	switch (k[0]) {
	case 'q': return false;
	case 'c': set_sort(t, SORT_CPU); break;
	case 'm': set_sort(t, SORT_MEM); break;
	case 'p': set_sort(t, SORT_PSI); break;
	case 's': set_sort(t, SORT_SCORE); break;
	case 'l': set_sort(t, SORT_LAST); break;
	case 'v': set_sort(t, SORT_VMID); break;
	case ' ': t->paused = !t->paused; break;
	case '/': t->editing = true; break;
	case 27: /* a lone Esc; other sequences (arrows left, right...) do nothing */
		if (n == 1)
			t->filter[0] = '\0';
		break;
	case '\r':
	case '\n': {
		static const struct row *shown[TOP_ROWS_MAX];
		size_t cnt = shown_rows(t, shown);
		if (t->sel < cnt)
			t->detail = shown[t->sel]->vmid;
		break;
	}
	default: break;
	}
	return true;
}

/* ---- the command ------------------------------------------------------------------------ */

static int run_plain(struct cli_conn *conn, double interval, long iterations)
{
	for (long n = 0; !top_stop && (iterations == 0 || n < iterations); n++) {
		json_object *j;
		char *raw = NULL;
		int rc = cli_get_json(conn, "/api/v1/containers", &j, &raw);
		if (rc)
			return rc;
		time_t now = time(NULL);
		char ts[32];
		strftime(ts, sizeof(ts), "%T", localtime(&now));
		json_object *arr = cli_jget(j, "containers");
		size_t count = arr ? json_object_array_length(arr) : 0;
		printf("lxcscale top — %s — %zu containers — %s\n", conn->base, count, ts);
		cli_print_table_header(stdout);
		for (size_t i = 0; i < count; i++)
			cli_print_row(stdout, json_object_array_get_idx(arr, i));
		putchar('\n');
		fflush(stdout);
		free(raw);
		json_object_put(j);
		if (iterations && n + 1 >= iterations)
			break;
		struct timespec ts2 = {(time_t)interval, (long)((interval - floor(interval)) * 1e9)};
		while (!top_stop && nanosleep(&ts2, &ts2) != 0)
			;
	}
	return CLI_OK;
}

static int run_screen(struct top *t, double interval, long iterations)
{
	if (screen_start() != 0) {
		fprintf(stderr, "lxcscale top: cannot set up the terminal: %s\n", strerror(errno));
		return CLI_FAIL;
	}
	int rc = fetch(t);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (rc == 0 && !top_stop) {
		if (t->frame % HISTORY_EVERY == 0 && !t->paused) {
			int rows, cols;
			term_size(&rows, &cols);
			static const struct row *shown[TOP_ROWS_MAX];
			size_t k = shown_rows(t, shown);
			for (size_t i = 0; i < k && i < (size_t)rows; i++)
				fetch_history(t, (struct row *)shown[i]);
		}
		draw(t);
		t->frame++;
		if (iterations && t->frame >= iterations)
			break;
		next.tv_sec += (time_t)interval;
		next.tv_nsec += (long)((interval - floor(interval)) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		for (;;) { /* keys until the next frame is due */
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long ms = (long)(next.tv_sec - now.tv_sec) * 1000 + (next.tv_nsec - now.tv_nsec) / 1000000;
			if (ms <= 0 || top_stop)
				break;
			struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
			int pr = poll(&pfd, 1, (int)ms);
			if (top_resized) {
				top_resized = 0;
				fputs("\033[2J", stdout);
				draw(t);
			}
			if (pr <= 0)
				continue;
			char k[64];
			ssize_t n = read(STDIN_FILENO, k, sizeof(k) - 1);
			if (n <= 0)
				continue;
			k[n] = '\0';
			/* keys typed ahead arrive together: one at a time, an escape sequence whole */
			for (ssize_t i = 0; i < n && !top_stop;) {
				size_t len = k[i] == 27 && i + 2 < n && k[i + 1] == '[' ? 3 : 1;
				if (!on_key(t, k + i, len))
					top_stop = 1;
				i += (ssize_t)len;
			}
			if (top_stop)
				break;
			draw(t);
		}
		if (!t->paused && !top_stop)
			rc = fetch(t);
	}
	screen_restore();
	return rc;
}

int cli_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{"interval", required_argument, NULL, 'i'},
		{"iterations", required_argument, NULL, 'n'},
		CLI_COMMON_OPTS,
		{NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	double interval = 1.0;
	long iterations = 0;
	int o;
	char *end;
	optind = 1;
	while ((o = getopt_long(argc, argv, "i:n:h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, o, optarg))
			continue;
		switch (o) {
		case 'i':
			interval = strtod(optarg, &end);
			if (!*optarg || *end || !(interval >= 0.1) || interval > 3600) {
				fprintf(stderr, "lxcscale top: --interval wants seconds from 0.1 to 3600, not '%s'\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (!*optarg || *end || iterations < 1) {
				fprintf(stderr, "lxcscale top: --iterations wants a number of frames (1 or more), not '%s'\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'h':
			printf("usage: lxcscale top [--interval S] [--iterations N] [options]\n"
			       "The containers live. On a terminal: a full-screen view with keys\n"
			       "  q quit   c m p s l v sort by cpu, memory, pressure, score, last change,\n"
			       "  vmid (again: reversed)   / filter   space pause   j k or arrows select\n"
			       "  Enter open the container (limits, usage, pressure, its decisions)\n"
			       "  Esc back; sparklines show the last 4 minutes of CPU%% and memory%%.\n"
			       "Otherwise (a pipe, a file) the plain table of `status` each interval.\n"
			       "  --interval S     seconds between frames (0.1 to 3600, default 1)\n"
			       "  --iterations N   stop after N frames\n" CLI_COMMON_HELP);
			return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	struct top t;
	memset(&t, 0, sizeof(t));
	int rc = cli_conn_setup(&t.conn, &com);
	if (rc)
		return rc;
	t.conn.timeout_s = 10;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	if (t.conn.json || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		rc = t.conn.json ? CLI_USAGE : run_plain(&t.conn, interval, iterations);
	else
		rc = run_screen(&t, interval, iterations);
	if (t.conn.json)
		fprintf(stderr, "lxcscale top: --json is for the other commands (lxcscale status --json)\n");
	free(t.rows);
	return rc;
}
