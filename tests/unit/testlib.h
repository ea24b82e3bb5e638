/*
 * testlib.h — the fixture pieces several unit tests share: a temporary folder and its
 * removal, small whole-file reads and writes, the helper programs built next to the test
 * binary ($BUILD/tests/tools/...), the stand-in `pct` environment with a cgroup tree of
 * plain files, a fake cgroup mount with its containers, a configuration from key/value
 * pairs, a daemon on its own event loop, and a python3 http.server on loopback.
 *
 * Header-only on purpose: the Makefile builds each tests/unit/test_*.c as one translation
 * unit linked with the libraries, so shared test code lives here as static inline functions
 * (inline: no warning for the ones a test does not use). Include it after <cmocka.h>;
 * helpers that cannot go on without their file assert, the set-up helpers return -1 so a
 * cmocka setup can fail cleanly. Every name starts with tl_.
 *
 * The parts that need a library's types are compiled only when the test included that
 * library's header first (cgroup.h, config/config.h, daemon/daemon.h), so a test of the
 * base helpers does not depend on the daemon's headers.
 */
#ifndef LXCSCALE_TESTLIB_H
#define LXCSCALE_TESTLIB_H

#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- files ------------------------------------------------------------------------------ */

/* Writes TEXT to DIR/NAME in place (open, truncate, write), like a cgroupfs write: a reader
 * that keeps the file open sees the new content. */
static inline void tl_put(const char *dir, const char *name, const char *text)
{
	char path[512];
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Replaces PATH with TEXT as a whole (a temporary file renamed over it), the way the stand-in
 * `pct` writes its files: a process reading at the same moment sees the old or the new file,
 * never half of one. */
static inline void tl_write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	assert_true((size_t)snprintf(tmp, sizeof(tmp), "%s.t", path) < sizeof(tmp));
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* tl_write_atomic on DIR/NAME. */
static inline void tl_put_atomic(const char *dir, const char *name, const char *text)
{
	char path[512];
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	tl_write_atomic(path, text);
}

/* The whole of PATH (up to 64 KiB) in a static buffer, or MISSING when it cannot be opened.
 * The next call overwrites the buffer. */
static inline char *tl_slurp_or(const char *path, const char *missing)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	if (!f)
		return strcpy(buf, missing);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The whole of PATH, "" when it cannot be opened (tl_slurp_or's buffer). */
static inline char *tl_slurp(const char *path)
{
	return tl_slurp_or(path, "");
}

/* tl_slurp on DIR/NAME. */
static inline char *tl_read(const char *dir, const char *name)
{
	char path[512];
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	return tl_slurp(path);
}

/* DIR/NAME without its trailing newlines, the way a cgroup value is compared;
 * "<missing>" when the file cannot be opened (tl_slurp_or's buffer). */
static inline char *tl_get(const char *dir, const char *name)
{
	char path[512];
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	char *buf = tl_slurp_or(path, "<missing>");
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

/* DIR/NAME as a whole (up to 64 KiB), for a file the test made: one that cannot be opened
 * fails the test. Its own static buffer, overwritten by the next call. */
static inline char *tl_cat(const char *dir, const char *name)
{
	static char buf[65536];
	char path[512];
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- temporary folders ------------------------------------------------------------------ */

/* Makes /tmp/lxcscale-test-WHAT-XXXXXX into DIR. 0, or -1. */
static inline int tl_tempdir(char *dir, size_t len, const char *what)
{
	if ((size_t)snprintf(dir, len, "/tmp/lxcscale-test-%s-XXXXXX", what) >= len)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static inline int tl_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes DIR and everything below it (no shell, does not follow links or cross into a
 * mount). 0, or -1 when something could not be removed. */
static inline int tl_rm_rf(const char *dir)
{
	if (access(dir, F_OK) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(dir, tl_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* ---- helper programs -------------------------------------------------------------------- */

/* OUT = $BUILD/tests/tools/NAME, found next to this test binary; 0 when it is executable,
 * else -1 after saying so on stderr (PROG is argv[0] for the message). */
static inline int tl_tool_path(const char *prog, const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	if ((size_t)snprintf(out, len, "%s/tools/%s", dirname(self), name) >= len)
		return -1;
	if (access(out, X_OK) != 0) {
		fprintf(stderr, "%s: %s is missing (%s): make tests\n", prog, name, out);
		return -1;
	}
	return 0;
}

/* ---- the stand-in pct and a cgroup tree of plain files ----------------------------------- */

/* Points the stand-in `pct` at PVE_DIR (its <vmid>.conf and <vmid>.state files), logging to
 * LOG or not at all when LOG is NULL, with none of its failure modes switched on. */
static inline void tl_pct_env(const char *pve_dir, const char *log)
{
	setenv("PCT_STAND_IN_DIR", pve_dir, 1);
	if (log)
		setenv("PCT_STAND_IN_LOG", log, 1);
	else
		unsetenv("PCT_STAND_IN_LOG");
	unsetenv("PCT_STAND_IN_FAIL");
	unsetenv("PCT_STAND_IN_FAIL_MESSAGE");
	unsetenv("PCT_STAND_IN_HANG");
	unsetenv("PCT_STAND_IN_DELAY_MS");
}

/* Switches off the failure modes a test may have set for the stand-in `pct`. */
static inline void tl_pct_env_clear(void)
{
	unsetenv("PCT_STAND_IN_FAIL");
	unsetenv("PCT_STAND_IN_FAIL_MESSAGE");
	unsetenv("PCT_STAND_IN_HANG");
	unsetenv("PCT_STAND_IN_DELAY_MS");
}

/* Below the temporary folder DIR: CG (DIR/cg, a cgroup mount of plain files with CG/lxc and
 * its cpuset.cpus.effective = CPUS) and PVE (DIR/pve, the stand-in's config folder). */
static inline int tl_fake_host(const char *dir, char *cg, size_t cg_len, char *pve, size_t pve_len,
                        const char *cpus)
{
	char lxc[PATH_MAX], text[64];
	if ((size_t)snprintf(cg, cg_len, "%s/cg", dir) >= cg_len ||
	    (size_t)snprintf(pve, pve_len, "%s/pve", dir) >= pve_len ||
	    (size_t)snprintf(lxc, sizeof(lxc), "%s/lxc", cg) >= sizeof(lxc))
		return -1;
	if (mkdir(cg, 0755) != 0 || mkdir(pve, 0755) != 0 || mkdir(lxc, 0755) != 0)
		return -1;
	snprintf(text, sizeof(text), "%s\n", cpus);
	tl_put(lxc, "cpuset.cpus.effective", text);
	return 0;
}

/* ---- a fake cgroup mount ----------------------------------------------------------------- */

/* One file of a fake container: its path below lxc/<id>/ and its content. */
struct tl_cg_file {
	const char *name;
	const char *text;
};

/* Makes /tmp/lxcscale-test-WHAT-XXXXXX into ROOT with an empty ROOT/lxc: the shape of a
 * Proxmox host's cgroup2 mount, for the cgroup library ({ .mount = ROOT }) or the daemon
 * (cgroup.mount). 0, or -1. Remove it with tl_rm_rf(ROOT). */
static inline int tl_cg_tree(char *root, size_t len, const char *what)
{
	char lxc[PATH_MAX];
	if (tl_tempdir(root, len, what) != 0)
		return -1;
	if ((size_t)snprintf(lxc, sizeof(lxc), "%s/lxc", root) >= sizeof(lxc))
		return -1;
	return mkdir(lxc, 0755);
}

/* Container ID below the fake mount ROOT: ROOT/lxc/ID and its ns/ (made if missing) with
 * the N files of FILES written into it (files may be NULL when N is 0). */
static inline void tl_cg_ct(const char *root, uint32_t id, const struct tl_cg_file *files, size_t n)
{
	char dir[PATH_MAX], ns[PATH_MAX + 4];
	assert_true((size_t)snprintf(dir, sizeof(dir), "%s/lxc/%u", root, id) < sizeof(dir));
	snprintf(ns, sizeof(ns), "%s/ns", dir);
	assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
	assert_true(mkdir(ns, 0755) == 0 || errno == EEXIST);
	for (size_t i = 0; i < n; i++)
		tl_put(dir, files[i].name, files[i].text);
}

#ifdef LXCSCALE_CGROUP_H
/* The cgroup library's view of the fake mount ROOT. */
static inline cg_hier *tl_cg_hier(const char *root)
{
	struct cg_config cfg = { .mount = root };
	cg_hier *h = NULL;
	assert_int_equal(cg_hier_open(&cfg, &h), CG_OK);
	return h;
}
#endif

/* ---- a configuration from key/value pairs ------------------------------------------------ */

#ifdef LXCSCALE_CONFIG_H
/* A configuration with the "key", "value" pairs of BASE and then of MORE set on the
 * defaults (each list NULL-terminated, or NULL; a later pair wins), finalized. A key or a
 * value the schema refuses fails the test, with the schema's diagnostics on stderr. */
static inline struct lxcscale_config *tl_config_kv(const char *const *base, const char *const *more)
{
	struct lxcscale_config *c = config_new();
	assert_non_null(c);
	struct config_diag d;
	memset(&d, 0, sizeof(d));
	const char *const *lists[2] = { base, more };
	for (int i = 0; i < 2; i++)
		for (const char *const *kv = lists[i]; kv && kv[0]; kv += 2)
			assert_int_equal(config_set(c, kv[0], kv[1], "t", &d), 0);
	if (config_finalize(c, &d) != 0) {
		config_diag_print(&d, stderr);
		fail();
	}
	return c;
}
#endif

/* ---- a daemon on its own event loop ------------------------------------------------------ */

#ifdef LXCSCALE_DAEMON_H
/* What a daemon test holds: the configuration the daemon started with, its loop, itself. */
struct tl_daemon {
	struct lxcscale_config *cfg;
	struct loop *loop;
	struct daemon *d;
};

/* Starts a daemon on CFG (the fixture owns it from now on) with OPTS, on a new loop. A
 * daemon_new failure fails the test with daemon_new's message. */
static inline void tl_daemon_start(struct tl_daemon *t, struct lxcscale_config *cfg,
                                   const struct daemon_opts *opts)
{
	char err[512];
	t->cfg = cfg;
	t->loop = loop_new();
	assert_non_null(t->loop);
	t->d = daemon_new(cfg, t->loop, opts, err, sizeof(err));
	if (!t->d)
		fail_msg("daemon_new: %s", err);
}

/* Stops the daemon, then frees its loop and its configuration, in that order. */
static inline void tl_daemon_stop(struct tl_daemon *t)
{
	daemon_free(t->d);
	loop_free(t->loop);
	config_free(t->cfg);
	memset(t, 0, sizeof(*t));
}
#endif

/* ---- a python3 http.server on loopback --------------------------------------------------- */

/* Starts /usr/bin/python3 on SCRIPT (written to DIR/server.py) with argv[1] = DIR/port and
 * then ARGS (NULL-terminated, may be NULL). The script binds 127.0.0.1:0 and writes its port
 * to the file named by argv[1] (atomically: write elsewhere, rename). Waits up to 30 s for
 * it. The server's pid, or -1 (the server exited, never answered, or fork failed); *PORT is
 * set on success. */
static inline pid_t tl_http_server(const char *dir, const char *script, const char *const args[], int *port)
{
	char path[PATH_MAX], portfile[PATH_MAX];
	snprintf(path, sizeof(path), "%s/server.py", dir);
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	tl_write_atomic(path, script);
	const char *argv[16] = {"python3", path, portfile};
	int n = 3;
	for (int i = 0; args && args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv("/usr/bin/python3", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 3000 && access(portfile, F_OK) != 0; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return -1; /* the server must not die */
		usleep(10000);
	}
	*port = atoi(tl_slurp(portfile));
	if (*port <= 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* Stops a server tl_http_server started (pid <= 0: nothing to stop). */
static inline void tl_http_server_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

#endif
