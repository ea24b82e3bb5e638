/*
 * pct.c — a stand-in for Proxmox's `pct` (and, by the name it is called with, `pvesh` and
 * `pvecm`) so tests can run the real code paths that shell out to them, here and inside the
 * busybox VM. It edits `<vmid>.conf` files in $PCT_STAND_IN_DIR in Proxmox's format
 * (`key: value` lines, `#` description lines, `[snapshot]` sections) and answers like the
 * real tool: single- and double-dash options, `--opt=value`, parameter checks with the
 * real "400 Parameter verification failed." text, `lock:` honoured ("CT is locked (backup)"),
 * errors on stderr with exit status 255 (what a `die` in PVE's CLI handler gives).
 *
 * Subcommands: set config status list snapshot listsnapshot delsnapshot rollback clone
 * start stop shutdown reboot destroy resize unlock. With PCT_STAND_IN_LXC set, start/stop/
 * shutdown/reboot and `set` on a running container drive the real LXC runtime (pct_lxc.h). Run state lives next to the config in `<vmid>.state`
 * ("running"/"stopped"; absent means stopped), because the real one is not in the config.
 *
 * Test controls (environment):
 *   PCT_STAND_IN_DIR        folder holding <vmid>.conf (required)
 *   PCT_STAND_IN_LOG        append one line per call: the argv, tab-separated, with
 *                           \t \n \\ escaped (argv[0] reduced to its basename)
 *   PCT_STAND_IN_ONLY       comma list of subcommands the controls below apply to (default all)
 *   PCT_STAND_IN_DELAY_MS   sleep this long before acting
 *   PCT_STAND_IN_HANG       non-empty: sleep forever (until killed) before acting
 *   PCT_STAND_IN_ANSWER_DELAY_MS  act at once, then hold the answer (stdout, the exit) this
 *                           long: a slow pct whose output tells the state when it acted
 *   PCT_STAND_IN_FAIL       exit with this status before acting (after logging) ...
 *   PCT_STAND_IN_FAIL_MESSAGE  ... printing this on stderr (default "command failed")
 *   PCT_STAND_IN_NODE       node name (default "pve")
 * Every mutation happens under an flock on $PCT_STAND_IN_DIR/.pct.lock and is written
 * through a temporary file and rename, so concurrent callers see whole configs.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define MAX_ITEMS 256
#define MAX_SECTIONS 64
#define EXIT_DIE 255

struct item {
	char *key;   /* NULL for a `#` description line kept verbatim in `value` */
	char *value;
};

struct section {
	char name[64]; /* "" for the main section */
	struct item items[MAX_ITEMS];
	int n;
};

struct conf {
	struct section sec[MAX_SECTIONS];
	int n;
};

static const char *g_dir;
static const char *g_node = "pve";
static const char *g_prog = "pct";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_DIE);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die("out of memory");
	return p;
}

/* ---- argv log and injected behaviour ---------------------------------------------------- */

static void log_argv(int argc, char **argv)
{
	const char *path = getenv("PCT_STAND_IN_LOG");
	if (!path || !*path)
		return;
	size_t cap = 64;
	for (int i = 0; i < argc; i++)
		cap += 2 * strlen(argv[i]) + 1;
	char *line = malloc(cap), *p = line;
	if (!line)
		return;
	for (int i = 0; i < argc; i++) {
		const char *a = i == 0 ? g_prog : argv[i];
		if (i)
			*p++ = '\t';
		for (; *a; a++) {
			if (*a == '\t' || *a == '\n' || *a == '\\') {
				*p++ = '\\';
				*p++ = *a == '\t' ? 't' : *a == '\n' ? 'n' : '\\';
			} else {
				*p++ = *a;
			}
		}
	}
	*p++ = '\n';
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		/* one write() per line: O_APPEND keeps concurrent callers' lines whole */
		if (write(fd, line, (size_t)(p - line)) < 0) {
			/* nothing sensible to do: the log is a test aid */
		}
		close(fd);
	}
	free(line);
}

static bool controls_apply(const char *sub)
{
	const char *only = getenv("PCT_STAND_IN_ONLY");
	if (!only || !*only)
		return true;
	size_t n = strlen(sub);
	for (const char *p = only; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, sub, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static void sleep_env_ms(const char *name)
{
	const char *v = getenv(name);
	long ms = v && *v ? strtol(v, NULL, 10) : 0;
	if (ms > 0) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/* atexit handlers run before exit() flushes stdout: the answer waits in its buffer */
static void hold_answer(void)
{
	sleep_env_ms("PCT_STAND_IN_ANSWER_DELAY_MS");
}

static void injected_behaviour(const char *sub)
{
	if (!controls_apply(sub))
		return;
	sleep_env_ms("PCT_STAND_IN_DELAY_MS");
	const char *answer_delay = getenv("PCT_STAND_IN_ANSWER_DELAY_MS");
	if (answer_delay && *answer_delay)
		atexit(hold_answer);
	const char *hang = getenv("PCT_STAND_IN_HANG");
	if (hang && *hang)
		for (;;)
			pause();
	const char *fail = getenv("PCT_STAND_IN_FAIL");
	if (fail && *fail) {
		const char *msg = getenv("PCT_STAND_IN_FAIL_MESSAGE");
		fprintf(stderr, "%s\n", msg && *msg ? msg : "command failed");
		exit((int)strtol(fail, NULL, 10));
	}
}

/* ---- config files --------------------------------------------------------------------- */

static void conf_path(char *buf, size_t len, unsigned vmid, const char *ext)
{
	snprintf(buf, len, "%s/%u.%s", g_dir, vmid, ext);
}

static bool conf_exists(unsigned vmid)
{
	char path[4096];
	conf_path(path, sizeof(path), vmid, "conf");
	return access(path, F_OK) == 0;
}

static void section_set(struct section *s, const char *key, const char *value)
{
	for (int i = 0; i < s->n; i++)
		if (s->items[i].key && strcmp(s->items[i].key, key) == 0) {
			free(s->items[i].value);
			s->items[i].value = xstrdup(value);
			return;
		}
	if (s->n == MAX_ITEMS)
		die("too many options in config");
	s->items[s->n].key = xstrdup(key);
	s->items[s->n].value = xstrdup(value);
	s->n++;
}

static const char *section_get(const struct section *s, const char *key)
{
	for (int i = 0; i < s->n; i++)
		if (s->items[i].key && strcmp(s->items[i].key, key) == 0)
			return s->items[i].value;
	return NULL;
}

static void section_del(struct section *s, const char *key)
{
	for (int i = 0; i < s->n; i++)
		if (s->items[i].key && strcmp(s->items[i].key, key) == 0) {
			free(s->items[i].key);
			free(s->items[i].value);
			memmove(&s->items[i], &s->items[i + 1], sizeof(s->items[0]) * (size_t)(s->n - i - 1));
			s->n--;
			return;
		}
}

static void section_copy(struct section *dst, const struct section *src)
{
	for (int i = 0; i < src->n; i++) {
		if (!src->items[i].key)
			continue;
		if (!strcmp(src->items[i].key, "snaptime") || !strcmp(src->items[i].key, "parent"))
			continue;
		section_set(dst, src->items[i].key, src->items[i].value);
	}
}

static void section_clear(struct section *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->items[i].key);
		free(s->items[i].value);
	}
	s->n = 0;
}

static struct section *conf_section(struct conf *c, const char *name)
{
	for (int i = 1; i < c->n; i++)
		if (strcmp(c->sec[i].name, name) == 0)
			return &c->sec[i];
	return NULL;
}

static void conf_free(struct conf *c)
{
	for (int i = 0; i < c->n; i++)
		section_clear(&c->sec[i]);
	c->n = 0;
}

static void conf_missing(unsigned vmid)
{
	die("Configuration file 'nodes/%s/lxc/%u.conf' does not exist", g_node, vmid);
}

static void conf_load(struct conf *c, unsigned vmid)
{
	char path[4096], line[8192];
	conf_path(path, sizeof(path), vmid, "conf");
	FILE *f = fopen(path, "re");
	if (!f)
		conf_missing(vmid);
	memset(c, 0, sizeof(*c));
	c->n = 1;
	struct section *cur = &c->sec[0];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (line[0] == '[') {
			char *end = strchr(line, ']');
			if (!end || c->n == MAX_SECTIONS)
				die("unable to parse config line '%s'", line);
			*end = '\0';
			cur = &c->sec[c->n++];
			snprintf(cur->name, sizeof(cur->name), "%.63s", line + 1);
			continue;
		}
		if (line[0] == '#') {
			if (cur->n == MAX_ITEMS)
				die("too many lines in config");
			cur->items[cur->n].key = NULL;
			cur->items[cur->n].value = xstrdup(line);
			cur->n++;
			continue;
		}
		char *colon = strchr(line, ':');
		if (!colon)
			die("vm %u - unable to parse config: %s", vmid, line);
		*colon = '\0';
		const char *val = colon + 1;
		while (*val == ' ')
			val++;
		section_set(cur, line, val);
	}
	fclose(f);
}

static void section_write(FILE *f, const struct section *s)
{
	for (int i = 0; i < s->n; i++) {
		if (!s->items[i].key)
			fprintf(f, "%s\n", s->items[i].value);
	}
	for (int i = 0; i < s->n; i++) {
		if (s->items[i].key)
			fprintf(f, "%s: %s\n", s->items[i].key, s->items[i].value);
	}
}

static void conf_save(const struct conf *c, unsigned vmid)
{
	char path[4096], tmp[4200];
	conf_path(path, sizeof(path), vmid, "conf");
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "we");
	if (!f)
		die("unable to open file '%s' - %s", tmp, strerror(errno));
	section_write(f, &c->sec[0]);
	for (int i = 1; i < c->n; i++) {
		fprintf(f, "\n[%s]\n", c->sec[i].name);
		section_write(f, &c->sec[i]);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die("unable to write '%s' - %s", path, strerror(errno));
}

static void check_lock(const struct conf *c)
{
	const char *lock = section_get(&c->sec[0], "lock");
	if (lock)
		die("CT is locked (%s)", lock);
}

#include "pct_lxc.h"

static bool is_running(unsigned vmid)
{
	if (lxc_mode())
		return lxc_running(vmid);
	char path[4096], buf[32] = "";
	conf_path(path, sizeof(path), vmid, "state");
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strncmp(buf, "running", 7) == 0;
}

static void set_running(unsigned vmid, bool running)
{
	char path[4096];
	conf_path(path, sizeof(path), vmid, "state");
	FILE *f = fopen(path, "we");
	if (!f)
		die("unable to write '%s' - %s", path, strerror(errno));
	fputs(running ? "running\n" : "stopped\n", f);
	fclose(f);
}

/* ---- argument parsing (PVE's CLI accepts -opt and --opt, value next or after '=') ------ */

struct opt {
	const char *name;
	bool boolean;
	const char *value; /* set after parsing */
};

struct args {
	const char *pos[8];
	int npos;
	struct opt *opts;
	int nopts;
	/* for `set`: generic config keys in the order given */
	const char *set_keys[64];
	const char *set_vals[64];
	char set_keybuf[64][128]; /* keys given as --key=value */
	int nset;
};

static const char *usage_for(const char *sub)
{
	if (!strcmp(sub, "set")) return "pct set <vmid> [OPTIONS]";
	if (!strcmp(sub, "config")) return "pct config <vmid> [OPTIONS]";
	if (!strcmp(sub, "status")) return "pct status <vmid> [OPTIONS]";
	if (!strcmp(sub, "snapshot")) return "pct snapshot <vmid> <snapname> [OPTIONS]";
	if (!strcmp(sub, "listsnapshot")) return "pct listsnapshot <vmid>";
	if (!strcmp(sub, "delsnapshot")) return "pct delsnapshot <vmid> <snapname> [OPTIONS]";
	if (!strcmp(sub, "rollback")) return "pct rollback <vmid> <snapname> [OPTIONS]";
	if (!strcmp(sub, "clone")) return "pct clone <vmid> <newid> [OPTIONS]";
	if (!strcmp(sub, "start")) return "pct start <vmid> [OPTIONS]";
	if (!strcmp(sub, "stop")) return "pct stop <vmid> [OPTIONS]";
	if (!strcmp(sub, "shutdown")) return "pct shutdown <vmid> [OPTIONS]";
	if (!strcmp(sub, "reboot")) return "pct reboot <vmid> [OPTIONS]";
	if (!strcmp(sub, "destroy")) return "pct destroy <vmid> [OPTIONS]";
	if (!strcmp(sub, "resize")) return "pct resize <vmid> <disk> <size> [OPTIONS]";
	if (!strcmp(sub, "unlock")) return "pct unlock <vmid>";
	return "pct list";
}

static void die_usage(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die_usage(const char *sub, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\n", usage_for(sub));
	exit(EXIT_DIE);
}

/* Options `pct set` accepts that land in the config as they are. */
static bool settable_key(const char *k)
{
	static const char *const keys[] = {
		"arch", "cmode", "console", "cores", "cpulimit", "cpuunits", "debug", "description",
		"features", "hookscript", "hostname", "lock", "memory", "nameserver", "onboot",
		"ostype", "protection", "rootfs", "searchdomain", "startup", "swap", "tags",
		"template", "timezone", "tty", "unprivileged", NULL};
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	/* net0..net31, mp0..mp255, unused0.., dev0.. */
	static const char *const pfx[] = {"net", "mp", "unused", "dev", NULL};
	for (int i = 0; pfx[i]; i++) {
		size_t n = strlen(pfx[i]);
		if (!strncmp(k, pfx[i], n) && k[n] && strspn(k + n, "0123456789") == strlen(k + n))
			return true;
	}
	return false;
}

static void parse_args(const char *sub, int argc, char **argv, struct args *a, bool generic_set)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (arg[0] != '-' || arg[1] == '\0' || (isdigit((unsigned char)arg[1]) && !generic_set)) {
			if (a->npos == 8)
				die_usage(sub, "too many arguments");
			a->pos[a->npos++] = arg;
			continue;
		}
		const char *name = arg + (arg[1] == '-' ? 2 : 1);
		char namebuf[128];
		const char *eq = strchr(name, '=');
		const char *val = NULL;
		if (eq) {
			snprintf(namebuf, sizeof(namebuf), "%.*s", (int)(eq - name), name);
			name = namebuf;
			val = eq + 1;
		}
		struct opt *o = NULL;
		for (int j = 0; j < a->nopts; j++)
			if (!strcmp(a->opts[j].name, name))
				o = &a->opts[j];
		if (!o && generic_set && settable_key(name)) {
			if (!val) {
				if (i + 1 >= argc)
					die_usage(sub, "400 not enough arguments");
				val = argv[++i];
			}
			if (a->nset == 64)
				die_usage(sub, "too many options");
			if (name == namebuf) {
				memcpy(a->set_keybuf[a->nset], namebuf, sizeof(namebuf));
				name = a->set_keybuf[a->nset];
			}
			a->set_keys[a->nset] = name;
			a->set_vals[a->nset++] = val;
			continue;
		}
		if (!o)
			die_usage(sub, "Unknown option: %s\n400 unable to parse option", name);
		if (!val) {
			if (o->boolean) {
				val = "1";
				if (i + 1 < argc && (!strcmp(argv[i + 1], "0") || !strcmp(argv[i + 1], "1")))
					val = argv[++i];
			} else {
				if (i + 1 >= argc)
					die_usage(sub, "400 not enough arguments");
				val = argv[++i];
			}
		}
		o->value = val;
	}
}

static const char *opt_value(const struct args *a, const char *name)
{
	for (int j = 0; j < a->nopts; j++)
		if (!strcmp(a->opts[j].name, name))
			return a->opts[j].value;
	return NULL;
}

static bool opt_true(const struct args *a, const char *name)
{
	const char *v = opt_value(a, name);
	return v && strcmp(v, "0") != 0;
}

static void verify_failed(const char *sub, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void verify_failed(const char *sub, const char *param, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "400 Parameter verification failed.\n%s: ", param);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\n", usage_for(sub));
	exit(EXIT_DIE);
}

static unsigned parse_vmid(const char *sub, const char *param, const char *s)
{
	if (!s)
		die_usage(sub, "400 not enough arguments");
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		verify_failed(sub, param, "type check ('integer') failed - got '%s'", s);
	if (v < 100 || v > 999999999)
		verify_failed(sub, param, "value must be at least 100");
	return (unsigned)v;
}

static void check_int(const char *sub, const char *param, const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		verify_failed(sub, param, "type check ('integer') failed - got '%s'", s);
	if (v < lo)
		verify_failed(sub, param, "value must have a minimum value of %ld", lo);
	if (v > hi)
		verify_failed(sub, param, "value must have a maximum value of %ld", hi);
}

static void check_number(const char *sub, const char *param, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end)
		verify_failed(sub, param, "type check ('number') failed - got '%s'", s);
	if (v < lo || v > hi)
		verify_failed(sub, param, "value must be between %g and %g", lo, hi);
}

/* PVE's 'pve-configid' format, used for snapshot names. */
static void check_configid(const char *sub, const char *param, const char *s)
{
	size_t n = strlen(s);
	bool ok = n >= 2 && n <= 40 && isalpha((unsigned char)s[0]);
	for (size_t i = 1; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-';
	if (!ok)
		verify_failed(sub, param, "invalid format - invalid configuration ID '%s'", s);
}

/* ---- subcommands ----------------------------------------------------------------------- */

static int lock_dir(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/.pct.lock", g_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		die("can't lock file '%s' - %s", path, strerror(errno));
	return fd;
}

static int cmp_item_key(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	bool rx = !strncmp(x->key, "lxc.", 4), ry = !strncmp(y->key, "lxc.", 4);
	if (rx != ry)
		return rx ? 1 : -1; /* raw lxc.* keys come last, in file order */
	if (rx)
		return 0;
	return strcmp(x->key, y->key);
}

/* `pct config`: description first (decoded from the # lines), then keys sorted. */
static void print_section(const struct section *s)
{
	struct item sorted[MAX_ITEMS];
	int n = 0;
	bool desc = false;
	for (int i = 0; i < s->n; i++) {
		if (!s->items[i].key) {
			printf("%s%s", desc ? "\n" : "description: ", s->items[i].value + 1);
			desc = true;
		} else {
			sorted[n++] = s->items[i];
		}
	}
	if (desc)
		putchar('\n');
	qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp_item_key);
	for (int i = 0; i < n; i++) {
		if (!strcmp(sorted[i].key, "snaptime"))
			continue;
		printf("%s: %s\n", sorted[i].key, sorted[i].value);
	}
}

static int cmd_config(int argc, char **argv)
{
	struct opt o[] = {{"current", true, NULL}, {"snapshot", false, NULL}};
	struct args a = {.opts = o, .nopts = 2};
	parse_args("config", argc, argv, &a, false);
	unsigned vmid = parse_vmid("config", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	struct conf c;
	conf_load(&c, vmid);
	const char *snap = opt_value(&a, "snapshot");
	if (snap) {
		struct section *s = conf_section(&c, snap);
		if (!s)
			die("snapshot '%s' does not exist", snap);
		print_section(s);
	} else {
		print_section(&c.sec[0]);
	}
	conf_free(&c);
	return 0;
}

static int cmd_set(int argc, char **argv)
{
	struct opt o[] = {{"delete", false, NULL}, {"digest", false, NULL}, {"revert", false, NULL}};
	struct args a = {.opts = o, .nopts = 3};
	parse_args("set", argc, argv, &a, true);
	unsigned vmid = parse_vmid("set", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	if (a.npos > 1)
		die_usage("set", "400 too many arguments");
	for (int i = 0; i < a.nset; i++) {
		const char *k = a.set_keys[i], *v = a.set_vals[i];
		if (!strcmp(k, "cores"))
			check_int("set", k, v, 1, 8192);
		else if (!strcmp(k, "memory"))
			check_int("set", k, v, 16, 268435456);
		else if (!strcmp(k, "swap"))
			check_int("set", k, v, 0, 268435456);
		else if (!strcmp(k, "cpuunits"))
			check_int("set", k, v, 0, 500000);
		else if (!strcmp(k, "cpulimit"))
			check_number("set", k, v, 0, 8192);
		else if (!strcmp(k, "hostname") && (!*v || strlen(v) > 255))
			verify_failed("set", k, "invalid format - value does not look like a valid DNS name");
	}
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	const char *digest = opt_value(&a, "digest");
	(void)digest;
	bool only_lock_change = a.nset == 1 && !strcmp(a.set_keys[0], "lock");
	if (!only_lock_change)
		check_lock(&c);
	for (int i = 0; i < a.nset; i++)
		section_set(&c.sec[0], a.set_keys[i], a.set_vals[i]);
	const char *del = opt_value(&a, "delete");
	if (del) {
		char *copy = xstrdup(del), *save = NULL;
		for (char *k = strtok_r(copy, ", ;", &save); k; k = strtok_r(NULL, ", ;", &save))
			section_del(&c.sec[0], k);
		free(copy);
	}
	if (lxc_mode() && lxc_running(vmid)) {
		/* a running container gets the hot-pluggable options at once; any failure and
		 * the config stays as it was (update_vm writes nothing when an option failed) */
		const char *hot[] = {"memory", "swap", "cpulimit", "cpuunits"};
		bool memory_done = false;
		for (size_t h = 0; h < sizeof(hot) / sizeof(hot[0]); h++) {
			bool given = del && strstr(del, hot[h]);
			for (int i = 0; i < a.nset; i++)
				given = given || !strcmp(a.set_keys[i], hot[h]);
			bool is_mem = h < 2;
			if (!given || (is_mem && memory_done))
				continue;
			memory_done = memory_done || is_mem;
			char err[512];
			lxc_hotplug(vmid, hot[h], &c.sec[0], err, sizeof(err));
			if (err[0])
				verify_failed("set", hot[h], "%s", err);
		}
	}
	conf_save(&c, vmid);
	if (lxc_mode())
		lxc_write_config(vmid, &c.sec[0]);
	conf_free(&c);
	close(lk);
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	struct opt o[] = {{"verbose", true, NULL}};
	struct args a = {.opts = o, .nopts = 1};
	parse_args("status", argc, argv, &a, false);
	unsigned vmid = parse_vmid("status", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	if (!conf_exists(vmid))
		conf_missing(vmid);
	bool run = is_running(vmid);
	printf("status: %s\n", run ? "running" : "stopped");
	if (opt_true(&a, "verbose")) {
		struct conf c;
		conf_load(&c, vmid);
		const char *host = section_get(&c.sec[0], "hostname");
		const char *mem = section_get(&c.sec[0], "memory");
		const char *cores = section_get(&c.sec[0], "cores");
		printf("cpus: %s\n", cores ? cores : "1");
		printf("maxmem: %llu\n", (mem ? strtoull(mem, NULL, 10) : 512ULL) * 1048576ULL);
		printf("name: %s\n", host ? host : "");
		printf("vmid: %u\n", vmid);
		conf_free(&c);
	}
	return 0;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static int cmd_list(int argc, char **argv)
{
	struct args a = {0};
	parse_args("list", argc, argv, &a, false);
	DIR *d = opendir(g_dir);
	if (!d)
		die("unable to open '%s' - %s", g_dir, strerror(errno));
	unsigned ids[4096];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 4096) {
		unsigned id;
		char tail[8];
		if (sscanf(e->d_name, "%u.%7s", &id, tail) == 2 && !strcmp(tail, "conf"))
			ids[n++] = id;
	}
	closedir(d);
	qsort(ids, (size_t)n, sizeof(ids[0]), cmp_uint);
	printf("%-10s %-10s %-12s %-20s\n", "VMID", "Status", "Lock", "Name");
	for (int i = 0; i < n; i++) {
		struct conf c;
		conf_load(&c, ids[i]);
		const char *lock = section_get(&c.sec[0], "lock");
		const char *host = section_get(&c.sec[0], "hostname");
		printf("%-10u %-10s %-12s %-20s\n", ids[i], is_running(ids[i]) ? "running" : "stopped",
		       lock ? lock : "", host ? host : "");
		conf_free(&c);
	}
	return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
	struct opt o[] = {{"description", false, NULL}};
	struct args a = {.opts = o, .nopts = 1};
	parse_args("snapshot", argc, argv, &a, false);
	unsigned vmid = parse_vmid("snapshot", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	if (a.npos < 2)
		die_usage("snapshot", "400 not enough arguments");
	const char *name = a.pos[1];
	check_configid("snapshot", "snapname", name);
	if (!strcmp(name, "current") || !strcmp(name, "vzdump"))
		die("snapshot name '%s' is reserved", name);
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	check_lock(&c);
	if (conf_section(&c, name))
		die("snapshot name '%s' already used", name);
	if (c.n == MAX_SECTIONS)
		die("too many snapshots");
	struct section *s = &c.sec[c.n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	const char *desc = opt_value(&a, "description");
	if (desc) {
		s->items[s->n].key = NULL;
		size_t len = strlen(desc) + 2;
		s->items[s->n].value = malloc(len);
		if (!s->items[s->n].value)
			die("out of memory");
		snprintf(s->items[s->n].value, len, "#%s", desc);
		s->n++;
	}
	section_copy(s, &c.sec[0]);
	const char *parent = section_get(&c.sec[0], "parent");
	if (parent)
		section_set(s, "parent", parent);
	char t[32];
	snprintf(t, sizeof(t), "%lld", (long long)time(NULL));
	section_set(s, "snaptime", t);
	section_set(&c.sec[0], "parent", name);
	conf_save(&c, vmid);
	conf_free(&c);
	close(lk);
	return 0;
}

static int cmd_listsnapshot(int argc, char **argv)
{
	struct args a = {0};
	parse_args("listsnapshot", argc, argv, &a, false);
	unsigned vmid = parse_vmid("listsnapshot", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	struct conf c;
	conf_load(&c, vmid);
	/* Walk from the current parent back to the root, then print root first. */
	const char *chain[MAX_SECTIONS];
	int n = 0;
	const char *p = section_get(&c.sec[0], "parent");
	while (p && n < MAX_SECTIONS) {
		struct section *s = conf_section(&c, p);
		if (!s)
			break;
		chain[n++] = s->name;
		p = section_get(s, "parent");
	}
	int depth = 0;
	for (int i = n - 1; i >= 0; i--, depth++) {
		struct section *s = conf_section(&c, chain[i]);
		const char *st = section_get(s, "snaptime");
		char when[32] = "";
		if (st) {
			time_t tt = (time_t)strtoll(st, NULL, 10);
			struct tm tm;
			localtime_r(&tt, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		}
		const char *desc = "no-description";
		for (int j = 0; j < s->n; j++)
			if (!s->items[j].key) {
				desc = s->items[j].value + 1;
				break;
			}
		printf("%*s`-> %-*s %-21s %s\n", depth, "", 26 - depth, s->name, when, desc);
	}
	printf("%*s`-> %-*s %-21s %s\n", depth, "", 26 - depth, "current", "", "You are here!");
	conf_free(&c);
	return 0;
}

static int cmd_delsnapshot(int argc, char **argv)
{
	struct opt o[] = {{"force", true, NULL}};
	struct args a = {.opts = o, .nopts = 1};
	parse_args("delsnapshot", argc, argv, &a, false);
	unsigned vmid = parse_vmid("delsnapshot", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	if (a.npos < 2)
		die_usage("delsnapshot", "400 not enough arguments");
	const char *name = a.pos[1];
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	if (!opt_true(&a, "force"))
		check_lock(&c);
	struct section *s = conf_section(&c, name);
	if (!s)
		die("snapshot '%s' does not exist", name);
	const char *gp = section_get(s, "parent");
	char *grand = gp ? xstrdup(gp) : NULL;
	for (int i = 0; i < c.n; i++) {
		const char *pp = section_get(&c.sec[i], "parent");
		if (pp && !strcmp(pp, name)) {
			if (grand)
				section_set(&c.sec[i], "parent", grand);
			else
				section_del(&c.sec[i], "parent");
		}
	}
	free(grand);
	int idx = (int)(s - c.sec);
	section_clear(s);
	memmove(&c.sec[idx], &c.sec[idx + 1], sizeof(c.sec[0]) * (size_t)(c.n - idx - 1));
	c.n--;
	conf_save(&c, vmid);
	conf_free(&c);
	close(lk);
	return 0;
}

static int cmd_rollback(int argc, char **argv)
{
	struct opt o[] = {{"start", true, NULL}};
	struct args a = {.opts = o, .nopts = 1};
	parse_args("rollback", argc, argv, &a, false);
	unsigned vmid = parse_vmid("rollback", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	if (a.npos < 2)
		die_usage("rollback", "400 not enough arguments");
	const char *name = a.pos[1];
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	check_lock(&c);
	struct section *s = conf_section(&c, name);
	if (!s)
		die("snapshot '%s' does not exist", name);
	bool was_running = is_running(vmid);
	section_clear(&c.sec[0]);
	section_copy(&c.sec[0], s);
	section_set(&c.sec[0], "parent", name);
	conf_save(&c, vmid);
	conf_free(&c);
	/* the real rollback stops the CT; --start starts it again */
	if (was_running || opt_true(&a, "start"))
		set_running(vmid, opt_true(&a, "start"));
	close(lk);
	return 0;
}

static int cmd_clone(int argc, char **argv)
{
	struct opt o[] = {{"hostname", false, NULL}, {"snapname", false, NULL}, {"full", true, NULL},
			  {"description", false, NULL}, {"pool", false, NULL}, {"storage", false, NULL},
			  {"target", false, NULL}, {"bwlimit", false, NULL}};
	struct args a = {.opts = o, .nopts = 8};
	parse_args("clone", argc, argv, &a, false);
	unsigned vmid = parse_vmid("clone", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	unsigned newid = parse_vmid("clone", "newid", a.npos > 1 ? a.pos[1] : NULL);
	const char *host = opt_value(&a, "hostname");
	if (host && (!*host || strlen(host) > 255 || host[0] == '-'))
		verify_failed("clone", "hostname", "invalid format - value does not look like a valid DNS name");
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	check_lock(&c);
	if (conf_exists(newid))
		die("unable to create CT %u - CT %u already exists on node '%s'", newid, newid, g_node);
	const char *snap = opt_value(&a, "snapname");
	const struct section *from = &c.sec[0];
	if (snap) {
		from = conf_section(&c, snap);
		if (!from)
			die("snapshot '%s' does not exist", snap);
	} else if (is_running(vmid)) {
		die("Cloning a running container without a snapshot is not supported");
	}
	struct conf n;
	memset(&n, 0, sizeof(n));
	n.n = 1;
	section_copy(&n.sec[0], from);
	if (host)
		section_set(&n.sec[0], "hostname", host);
	conf_save(&n, newid);
	conf_free(&n);
	conf_free(&c);
	set_running(newid, false);
	close(lk);
	return 0;
}

static int cmd_startstop(const char *sub, int argc, char **argv)
{
	struct opt o[] = {{"skiplock", true, NULL}, {"overrule-shutdown", true, NULL},
			  {"debug", true, NULL}, {"timeout", false, NULL}};
	struct args a = {.opts = o, .nopts = 4};
	parse_args(sub, argc, argv, &a, false);
	unsigned vmid = parse_vmid(sub, "vmid", a.npos > 0 ? a.pos[0] : NULL);
	bool start = !strcmp(sub, "start");
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	if (!opt_true(&a, "skiplock"))
		check_lock(&c);
	bool reboot = !strcmp(sub, "reboot");
	if ((start || reboot) && !lxc_mode()) {
		conf_free(&c);
		if (start && is_running(vmid))
			die("CT %u already running", vmid);
		if (reboot && !is_running(vmid))
			die("CT %u not running", vmid);
		set_running(vmid, true);
		close(lk);
		return 0;
	}
	if (start && is_running(vmid))
		die("CT %u already running", vmid);
	if (!start && !is_running(vmid))
		die("CT %u not running", vmid);
	if (!lxc_mode()) {
		conf_free(&c);
		set_running(vmid, false);
		close(lk);
		return 0;
	}
	/* the runtime, outside the config lock as Proxmox's start/stop tasks run */
	close(lk);
	if (!start)
		lxc_stop(vmid, !strcmp(sub, "stop"), opt_value(&a, "timeout"));
	if (start || reboot)
		lxc_start(vmid, &c.sec[0]);
	conf_free(&c);
	return 0;
}

static int cmd_unlock(int argc, char **argv)
{
	struct args a = {0};
	parse_args("unlock", argc, argv, &a, false);
	unsigned vmid = parse_vmid("unlock", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	section_del(&c.sec[0], "lock");
	conf_save(&c, vmid);
	conf_free(&c);
	close(lk);
	return 0;
}

static int cmd_destroy(int argc, char **argv)
{
	struct opt o[] = {{"purge", true, NULL}, {"force", true, NULL},
			  {"destroy-unreferenced-disks", true, NULL}};
	struct args a = {.opts = o, .nopts = 3};
	parse_args("destroy", argc, argv, &a, false);
	unsigned vmid = parse_vmid("destroy", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	check_lock(&c);
	conf_free(&c);
	if (is_running(vmid) && !opt_true(&a, "force"))
		die("CT %u is running - destroy failed", vmid);
	char path[4096];
	conf_path(path, sizeof(path), vmid, "conf");
	unlink(path);
	conf_path(path, sizeof(path), vmid, "state");
	unlink(path);
	close(lk);
	return 0;
}

/* "8G", "512M", "1.5T", "+2G" -> bytes; unit-less means bytes for sizes in the config
 * and gigabytes for the command line (as PVE's parse_size / resize do). */
static bool parse_size(const char *s, bool default_g, double *bytes)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	double mult = default_g ? 1024.0 * 1024 * 1024 : 1;
	if (*end) {
		switch (*end) {
		case 'K': mult = 1024.0; break;
		case 'M': mult = 1024.0 * 1024; break;
		case 'G': mult = 1024.0 * 1024 * 1024; break;
		case 'T': mult = 1024.0 * 1024 * 1024 * 1024; break;
		default: return false;
		}
		if (end[1])
			return false;
	}
	*bytes = v * mult;
	return true;
}

static void format_size(double bytes, char *buf, size_t len)
{
	unsigned long long b = (unsigned long long)(bytes + 0.5);
	const unsigned long long T = 1ULL << 40, G = 1ULL << 30, M = 1ULL << 20, K = 1ULL << 10;
	if (b % T == 0) snprintf(buf, len, "%lluT", b / T);
	else if (b % G == 0) snprintf(buf, len, "%lluG", b / G);
	else if (b % M == 0) snprintf(buf, len, "%lluM", b / M);
	else if (b % K == 0) snprintf(buf, len, "%lluK", b / K);
	else snprintf(buf, len, "%llu", b);
}

static int cmd_resize(int argc, char **argv)
{
	struct opt o[] = {{"digest", false, NULL}};
	struct args a = {.opts = o, .nopts = 1};
	/* A size such as "+2G" starts with '+', not '-', so plain positional parsing works. */
	parse_args("resize", argc, argv, &a, false);
	unsigned vmid = parse_vmid("resize", "vmid", a.npos > 0 ? a.pos[0] : NULL);
	if (a.npos < 3)
		die_usage("resize", "400 not enough arguments");
	const char *disk = a.pos[1], *size = a.pos[2];
	if (strcmp(disk, "rootfs") && strncmp(disk, "mp", 2))
		verify_failed("resize", "disk", "value '%s' does not have a value in the enumeration 'rootfs, mp0, ...'", disk);
	bool delta = size[0] == '+';
	double req;
	if (!parse_size(size + delta, true, &req))
		verify_failed("resize", "size", "value does not match the regex pattern");
	int lk = lock_dir();
	struct conf c;
	conf_load(&c, vmid);
	check_lock(&c);
	const char *vol = section_get(&c.sec[0], disk);
	if (!vol)
		die("unable to parse config line for '%s'", disk);
	const char *sz = strstr(vol, "size=");
	double cur = 0;
	char unitless[64] = "";
	if (sz) {
		size_t n = strcspn(sz + 5, ",");
		snprintf(unitless, sizeof(unitless), "%.*s", (int)n, sz + 5);
		if (!parse_size(unitless, false, &cur))
			die("unable to parse size '%s'", unitless);
	}
	double newsize = delta ? cur + req : req;
	if (newsize < cur)
		die("unable to shrink disk size");
	char fmt[64], nv[2048];
	format_size(newsize, fmt, sizeof(fmt));
	if (sz) {
		size_t pre = (size_t)(sz - vol);
		const char *post = sz + 5 + strlen(unitless);
		snprintf(nv, sizeof(nv), "%.*ssize=%s%s", (int)pre, vol, fmt, post);
	} else {
		snprintf(nv, sizeof(nv), "%s,size=%s", vol, fmt);
	}
	section_set(&c.sec[0], disk, nv);
	conf_save(&c, vmid);
	conf_free(&c);
	close(lk);
	return 0;
}

/* ---- pvesh / pvecm ---------------------------------------------------------------------- */

static int pvesh_main(int argc, char **argv)
{
	/* pvesh get /nodes/<node>/status [--output-format json] */
	if (argc < 3 || strcmp(argv[1], "get"))
		die("pvesh stand-in: only 'get /nodes/<node>/status' is implemented");
	char node[256];
	if (sscanf(argv[2], "/nodes/%255[^/]/status", node) != 1)
		die("No '%s' handler defined", argv[2]);
	if (strcmp(node, g_node))
		die("hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known",
		    node, node);
	printf("{\"cpu\":0.0123,\"cpuinfo\":{\"cores\":%ld,\"cpus\":%ld,\"model\":\"stand-in\"},"
	       "\"memory\":{\"free\":1073741824,\"total\":4294967296,\"used\":3221225472},"
	       "\"uptime\":12345,\"loadavg\":[\"0.10\",\"0.20\",\"0.30\"]}\n",
	       sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}

static int pvecm_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "status"))
		die("pvecm stand-in: only 'status' is implemented");
	printf("Cluster information\n-------------------\nName:             stand-in\n"
	       "Config Version:   1\nTransport:        knet\nSecure auth:      on\n\n"
	       "Quorum information\n------------------\nNodes:            1\nQuorate:          Yes\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "pvesh") || !strcmp(base, "pvecm"))
		g_prog = base;
	const char *node = getenv("PCT_STAND_IN_NODE");
	if (node && *node)
		g_node = node;

	log_argv(argc, argv);
	const char *sub = argc > 1 ? argv[1] : "";
	injected_behaviour(sub);

	if (!strcmp(g_prog, "pvesh"))
		return pvesh_main(argc, argv);
	if (!strcmp(g_prog, "pvecm"))
		return pvecm_main(argc, argv);

	g_dir = getenv("PCT_STAND_IN_DIR");
	if (!g_dir || !*g_dir)
		die("pct stand-in: PCT_STAND_IN_DIR is not set");
	if (argc < 2)
		die("ERROR: no command specified");
	argc -= 2;
	argv += 2;
	if (!strcmp(sub, "set")) return cmd_set(argc, argv);
	if (!strcmp(sub, "config")) return cmd_config(argc, argv);
	if (!strcmp(sub, "status")) return cmd_status(argc, argv);
	if (!strcmp(sub, "list")) return cmd_list(argc, argv);
	if (!strcmp(sub, "snapshot")) return cmd_snapshot(argc, argv);
	if (!strcmp(sub, "listsnapshot")) return cmd_listsnapshot(argc, argv);
	if (!strcmp(sub, "delsnapshot")) return cmd_delsnapshot(argc, argv);
	if (!strcmp(sub, "rollback")) return cmd_rollback(argc, argv);
	if (!strcmp(sub, "clone")) return cmd_clone(argc, argv);
	if (!strcmp(sub, "start") || !strcmp(sub, "stop") || !strcmp(sub, "shutdown") || !strcmp(sub, "reboot"))
		return cmd_startstop(sub, argc, argv);
	if (!strcmp(sub, "destroy")) return cmd_destroy(argc, argv);
	if (!strcmp(sub, "unlock")) return cmd_unlock(argc, argv);
	if (!strcmp(sub, "resize")) return cmd_resize(argc, argv);
	die("unknown command 'pct %s'", sub);
}
