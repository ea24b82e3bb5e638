/*
 * test_log.c — the logger's formats, levels, redaction, rotation and thread safety.
 * stderr is redirected into a temporary file so the real write path is exercised.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "testlib.h"

static char dir[64];
static int saved_stderr = -1;
static char err_path[128];

static int setup(void **state)
{
	(void)state;
	if (tl_tempdir(dir, sizeof(dir), "log") != 0)
		return -1;
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_set_journal(0);
	log_set_level(LOGL_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_close();
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	return tl_rm_rf(dir);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

static void truncate_stderr(void)
{
	assert_int_equal(ftruncate(STDERR_FILENO, 0), 0);
	lseek(STDERR_FILENO, 0, SEEK_SET);
}

static void test_timestamp_format_and_levels(void **state)
{
	(void)state;
	truncate_stderr();
	log_set_journal(0);
	log_set_level(LOGL_INFO);
	log_debug("hidden %d", 1);
	log_info("shown %d", 2);
	log_critical("bad %s", "thing");
	char *out = slurp(err_path);
	assert_null(strstr(out, "hidden"));
	/* "YYYY-MM-DD HH:MM:SS.mmm [INFO] shown 2" */
	char *line = strstr(out, " [INFO] shown 2\n");
	assert_non_null(line);
	assert_true(line - out == 23);
	assert_true(out[4] == '-' && out[7] == '-' && out[10] == ' ' && out[13] == ':' && out[19] == '.');
	assert_non_null(strstr(out, " [CRITICAL] bad thing\n"));
	free(out);
	log_set_level(LOGL_DEBUG);
}

static void test_journal_prefixes(void **state)
{
	(void)state;
	truncate_stderr();
	log_set_journal(1);
	log_debug("d");
	log_info("i");
	log_warning("w");
	log_error("e");
	log_critical("c");
	char *out = slurp(err_path);
	assert_string_equal(out, "<7>d\n<6>i\n<4>w\n<3>e\n<2>c\n");
	free(out);
	log_set_journal(0);
}

static void test_journal_detection_needs_our_stderr(void **state)
{
	(void)state;
	struct stat st;
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	char js[64];
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	truncate_stderr();
	log_set_journal(-1);
	log_warning("to the journal");
	/* inherited from a parent whose stderr was the journal, but ours is not */
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_set_journal(-1);
	log_warning("to a terminal");
	unsetenv("JOURNAL_STREAM");
	log_set_journal(0);
	char *out = slurp(err_path);
	assert_true(strncmp(out, "<4>to the journal\n", 18) == 0);
	assert_non_null(strstr(out, " [WARNING] to a terminal\n"));
	free(out);
}

static void test_redaction_and_line_injection(void **state)
{
	(void)state;
	truncate_stderr();
	log_add_secret("tok-5ecr3t-value");
	log_add_secret("abc"); /* too short to register: would mask ordinary words */
	log_info("token=%s again %s; abc stays", "tok-5ecr3t-value", "xtok-5ecr3t-valuex");
	log_info("first line\nforged [CRITICAL] line\r");
	char buf[128] = "url https://h/tok-5ecr3t-value/x";
	log_redact(buf, sizeof(buf));
	assert_string_equal(buf, "url https://h/***/x");
	log_clear_secrets();
	log_info("after clear: tok-5ecr3t-value");
	char *out = slurp(err_path);
	assert_non_null(strstr(out, "token=*** again x***x; abc stays\n"));
	assert_non_null(strstr(out, "first line\\nforged [CRITICAL] line\\r\n"));
	assert_non_null(strstr(out, "after clear: tok-5ecr3t-value"));
	/* exactly three lines */
	int lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	free(out);
}

static void test_file_and_rotation(void **state)
{
	(void)state;
	char path[128], p1[140], p2[140], p3[140];
	snprintf(path, sizeof(path), "%s/daemon.log", dir);
	snprintf(p1, sizeof(p1), "%s.1", path);
	snprintf(p2, sizeof(p2), "%s.2", path);
	snprintf(p3, sizeof(p3), "%s.3", path);
	struct log_file_opts o = { .path = path, .rotate = true, .max_bytes = 400, .backups = 2 };
	assert_int_equal(log_set_file(&o), 0);
	log_set_journal(1); /* the file always gets timestamps */
	for (int i = 0; i < 40; i++)
		log_info("line %02d padding padding padding", i);
	log_set_journal(0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 400);
	assert_int_equal(stat(p1, &st), 0);
	assert_true(st.st_size <= 400);
	assert_int_equal(stat(p2, &st), 0);
	assert_int_not_equal(stat(p3, &st), 0); /* only 2 backups kept */
	char *cur = slurp(path);
	assert_non_null(strstr(cur, "[INFO] line 39 padding"));
	assert_null(strstr(cur, "<6>"));
	free(cur);
	char *old = slurp(p1);
	assert_null(strstr(old, "line 39"));
	free(old);

	/* backups 0: the file is simply started again */
	struct log_file_opts o0 = { .path = path, .rotate = true, .max_bytes = 300, .backups = 0 };
	assert_int_equal(log_set_file(&o0), 0);
	for (int i = 0; i < 20; i++)
		log_info("zero %02d padding padding padding", i);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 300);

	/* rotate false: grows */
	struct log_file_opts on = { .path = path, .rotate = false, .max_bytes = 100, .backups = 2 };
	assert_int_equal(log_set_file(&on), 0);
	for (int i = 0; i < 20; i++)
		log_info("grow %02d padding padding padding", i);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 1000);

	/* a file that cannot be opened: error, stderr logging goes on */
	struct log_file_opts bad = { .path = "/nonexistent-dir/x.log" };
	assert_int_equal(log_set_file(&bad), -1);
	log_info("still logging");
	struct log_file_opts none = { 0 };
	assert_int_equal(log_set_file(&none), 0);
}

#define THREADS 4
#define LINES 400

static void *writer(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < LINES; i++)
		log_info("thread %ld line %04d %s", id, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	return NULL;
}

static void test_threads_never_interleave(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/threads.log", dir);
	struct log_file_opts o = { .path = path, .rotate = true, .max_bytes = 1 << 20, .backups = 1 };
	assert_int_equal(log_set_file(&o), 0);
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	struct log_file_opts none = { 0 };
	log_set_file(&none);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	char line[512];
	int n = 0, seen[THREADS] = { 0 };
	while (fgets(line, sizeof(line), f)) {
		long id;
		int i;
		/* every line is whole: timestamp, level, our text, newline */
		assert_int_equal(sscanf(line + 24, "[INFO] thread %ld line %d", &id, &i), 2);
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(i, seen[id]); /* in order per thread */
		seen[id]++;
		assert_non_null(strstr(line, "xxxxxxxxxx\n"));
		n++;
	}
	fclose(f);
	assert_int_equal(n, THREADS * LINES);
}

static void test_level_names(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOGL_DEBUG);
	assert_int_equal(log_level_parse("CRITICAL"), LOGL_CRITICAL);
	assert_int_equal(log_level_parse("verbose"), -1);
	assert_string_equal(log_level_name(LOGL_WARNING), "WARNING");
	log_set_level(99); /* ignored */
	assert_int_equal(log_get_level(), LOGL_DEBUG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timestamp_format_and_levels),
		cmocka_unit_test(test_journal_prefixes),
		cmocka_unit_test(test_journal_detection_needs_our_stderr),
		cmocka_unit_test(test_redaction_and_line_injection),
		cmocka_unit_test(test_file_and_rotation),
		cmocka_unit_test(test_threads_never_interleave),
		cmocka_unit_test(test_level_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
