/*
 * test_proc.c — user/base/proc.c against real processes: success, non-zero exit, timeouts
 * (including a child that ignores SIGTERM and a grandchild that keeps the pipe open),
 * missing programs, output far above the capture bound, argv passed verbatim (spaces,
 * quotes, ';', '$(...)'), a blocked signal mask in the caller, a custom environment and
 * several threads spawning at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/proc.h"

static void test_success(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/echo", "hello", NULL};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, NULL, &r);
	assert_int_equal(rc, PROC_OK);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "hello\n");
	assert_int_equal(r.out_len, 6);
	assert_string_equal(r.err, "");
	assert_false(r.out_truncated);
	assert_true(proc_succeeded(rc, &r));
	proc_result_free(&r);
}

static void test_nonzero_exit(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sh", "-c", "echo partial; echo 'CT is locked (backup)' >&2; exit 3",
			      NULL};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, NULL, &r);
	assert_int_equal(rc, PROC_OK);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 3);
	assert_false(proc_succeeded(rc, &r));
	assert_string_equal(r.out, "partial\n");
	assert_string_equal(r.err, "CT is locked (backup)\n");
	char msg[128];
	proc_describe(rc, &r, msg, sizeof(msg));
	assert_string_equal(msg, "exit status 3: CT is locked (backup)");
	proc_result_free(&r);
}

static void test_timeout_sigterm(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sleep", "30", NULL};
	struct proc_opts o = {.timeout_ms = 200};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, &o, &r);
	assert_int_equal(rc, PROC_ETIMEOUT);
	assert_true(r.timed_out);
	assert_false(r.exited);
	assert_int_equal(r.term_signal, SIGTERM);
	assert_false(proc_succeeded(rc, &r));
	char msg[128];
	proc_describe(rc, &r, msg, sizeof(msg));
	assert_non_null(strstr(msg, "timed out"));
	proc_result_free(&r);
}

static void test_timeout_ignores_sigterm(void **state)
{
	(void)state;
	/* The shell ignores TERM and waits on a sleep that ignores it too (inherited). */
	const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 30; echo survived", NULL};
	struct proc_opts o = {.timeout_ms = 200, .kill_grace_ms = 100};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, &o, &r);
	assert_int_equal(rc, PROC_ETIMEOUT);
	assert_int_equal(r.term_signal, SIGKILL);
	assert_null(strstr(r.out, "survived"));
	proc_result_free(&r);
}

/* A process is gone when /proc/<pid> is absent or it is a zombie waiting for init. */
static int process_gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static void test_grandchild_holding_pipe_is_killed(void **state)
{
	(void)state;
	/* The child exits at once; its background sleep keeps stdout open. */
	const char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; exit 0", NULL};
	struct proc_opts o = {.timeout_ms = 300, .kill_grace_ms = 100};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, &o, &r);
	assert_int_equal(rc, PROC_ETIMEOUT);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	pid_t gc = (pid_t)atoi(r.out);
	assert_true(gc > 1);
	/* Death is asynchronous to the kill; give the kernel a moment, without a threshold
	 * on the outcome: the loop only ends early. */
	for (int i = 0; i < 200 && !process_gone(gc); i++)
		usleep(10000);
	assert_true(process_gone(gc));
	proc_result_free(&r);
}

static void test_missing_binary(void **state)
{
	(void)state;
	const char *argv[] = {"/nonexistent/pct", "list", NULL};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, NULL, &r);
	assert_int_equal(rc, PROC_ENOTFOUND);
	assert_false(proc_succeeded(rc, &r));
	assert_non_null(r.out);
	assert_non_null(r.err);
	char msg[128];
	proc_describe(rc, &r, msg, sizeof(msg));
	assert_non_null(strstr(msg, "not found"));
	proc_result_free(&r);

	const char *argv2[] = {"lxcscale-no-such-program-xyz", NULL};
	struct proc_opts o = {.search_path = true};
	rc = proc_run(argv2, &o, &r);
	assert_int_equal(rc, PROC_ENOTFOUND);
	proc_result_free(&r);
}

static void test_not_executable(void **state)
{
	(void)state;
	const char *argv[] = {"/etc/hostname", NULL};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, NULL, &r);
	assert_int_equal(rc, PROC_EEXEC);
	proc_result_free(&r);
}

static void test_invalid_args(void **state)
{
	(void)state;
	struct proc_result r;
	assert_int_equal(proc_run(NULL, NULL, &r), PROC_EINVAL);
	proc_result_free(&r);
	const char *argv[] = {"", NULL};
	assert_int_equal(proc_run(argv, NULL, &r), PROC_EINVAL);
	proc_result_free(&r);
	assert_int_equal(proc_run(argv, NULL, NULL), PROC_EINVAL);
}

static void test_huge_output_truncated(void **state)
{
	(void)state;
	/* 8 MB on stdout, 1 MB on stderr: both bounded, the child still exits 0. */
	const char *argv[] = {"/bin/sh", "-c",
			      "head -c 8000000 /dev/zero | tr '\\0' a; head -c 1000000 /dev/zero >&2",
			      NULL};
	struct proc_opts o = {.max_capture = 65536, .timeout_ms = 20000};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, &o, &r);
	assert_int_equal(rc, PROC_OK);
	assert_true(proc_succeeded(rc, &r));
	assert_int_equal(r.out_len, 65536);
	assert_true(r.out_truncated);
	assert_int_equal(strlen(r.out), 65536);
	assert_int_equal(r.out[0], 'a');
	assert_int_equal(r.out[65535], 'a');
	assert_int_equal(r.err_len, 65536);
	assert_true(r.err_truncated);
	proc_result_free(&r);
}

static void test_exact_capture_not_truncated(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sh", "-c", "printf 12345678", NULL};
	struct proc_opts o = {.max_capture = 8};
	struct proc_result r;
	assert_int_equal(proc_run(argv, &o, &r), PROC_OK);
	assert_string_equal(r.out, "12345678");
	assert_false(r.out_truncated);
	proc_result_free(&r);
}

static void test_argv_verbatim(void **state)
{
	(void)state;
	const char *argv[] = {"/usr/bin/printf", "[%s]\\n", "a b", "\"quoted\"", "it's",
			      "x; rm -rf /", "$(id)", "`id`", "-rf", "", "tab\there", NULL};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, NULL, &r);
	assert_int_equal(rc, PROC_OK);
	assert_string_equal(r.out, "[a b]\n[\"quoted\"]\n[it's]\n[x; rm -rf /]\n[$(id)]\n[`id`]\n"
				   "[-rf]\n[]\n[tab\there]\n");
	proc_result_free(&r);
}

static void test_blocked_signals_not_inherited(void **state)
{
	(void)state;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	const char *argv[] = {"/bin/sleep", "30", NULL};
	struct proc_opts o = {.timeout_ms = 150, .kill_grace_ms = 5000};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, &o, &r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(rc, PROC_ETIMEOUT);
	/* SIGTERM worked, so the child did not inherit our mask. */
	assert_int_equal(r.term_signal, SIGTERM);
	proc_result_free(&r);
}

static void test_custom_env_and_stdin(void **state)
{
	(void)state;
	char *envp[] = {"LXCSCALE_PROC_TEST=yes", NULL};
	const char *argv[] = {"/bin/sh", "-c", "echo \"$LXCSCALE_PROC_TEST\"; cat; echo end", NULL};
	struct proc_opts o = {.envp = envp};
	struct proc_result r;
	assert_int_equal(proc_run(argv, &o, &r), PROC_OK);
	/* stdin is /dev/null, so cat ends at once */
	assert_string_equal(r.out, "yes\nend\n");
	proc_result_free(&r);
}

static void test_killed_by_signal(void **state)
{
	(void)state;
	const char *argv[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
	struct proc_result r;
	enum proc_err rc = proc_run(argv, NULL, &r);
	assert_int_equal(rc, PROC_OK);
	assert_false(r.exited);
	assert_int_equal(r.term_signal, SIGKILL);
	assert_false(proc_succeeded(rc, &r));
	char msg[128];
	proc_describe(rc, &r, msg, sizeof(msg));
	assert_string_equal(msg, "killed by signal 9");
	proc_result_free(&r);
}

#define THREADS 8
#define RUNS_PER_THREAD 10

static void *thread_body(void *arg)
{
	long id = (long)arg;
	char tag[32], want[40];
	snprintf(tag, sizeof(tag), "thread-%ld", id);
	snprintf(want, sizeof(want), "%s\n", tag);
	for (int i = 0; i < RUNS_PER_THREAD; i++) {
		const char *argv[] = {"/bin/echo", tag, NULL};
		struct proc_result r;
		enum proc_err rc = proc_run(argv, NULL, &r);
		int ok = rc == PROC_OK && r.exited && r.exit_code == 0 && strcmp(r.out, want) == 0;
		proc_result_free(&r);
		if (!ok)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_body, (void *)i), 0);
	int failures = 0;
	for (int i = 0; i < THREADS; i++) {
		void *ret;
		pthread_join(t[i], &ret);
		failures += ret != NULL;
	}
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_nonzero_exit),
		cmocka_unit_test(test_timeout_sigterm),
		cmocka_unit_test(test_timeout_ignores_sigterm),
		cmocka_unit_test(test_grandchild_holding_pipe_is_killed),
		cmocka_unit_test(test_missing_binary),
		cmocka_unit_test(test_not_executable),
		cmocka_unit_test(test_invalid_args),
		cmocka_unit_test(test_huge_output_truncated),
		cmocka_unit_test(test_exact_capture_not_truncated),
		cmocka_unit_test(test_argv_verbatim),
		cmocka_unit_test(test_blocked_signals_not_inherited),
		cmocka_unit_test(test_custom_env_and_stdin),
		cmocka_unit_test(test_killed_by_signal),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
