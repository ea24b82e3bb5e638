/*
 * test_fsutil.c — fs_mkdir_parent on a temporary folder: nested folders with their modes,
 * folders that exist already, a path with no folder part, a file in the way (ENOTDIR),
 * and errbuf_set's NULL / zero-length / cut-to-fit cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/errbuf.h"
#include "base/fsutil.h"
#include "testlib.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	umask(022);
	return tl_tempdir(dir, sizeof(dir), "fsutil");
}

static int teardown(void **state)
{
	(void)state;
	return tl_rm_rf(dir);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	return st.st_mode & 07777;
}

static void test_creates_nested_folders(void **state)
{
	(void)state;
	char file[160], a[128], ab[140];
	snprintf(file, sizeof(file), "%s/a/b/model.bin", dir);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(ab, sizeof(ab), "%s/a/b", dir);
	assert_int_equal(fs_mkdir_parent(file), 0);
	assert_int_equal(mode_of(a), 0755);
	assert_int_equal(mode_of(ab), 0750); /* the folder that holds the file */
	assert_int_equal(access(file, F_OK), -1); /* the file itself is not made */
	/* again: everything exists, nothing changes */
	assert_int_equal(fs_mkdir_parent(file), 0);
	assert_int_equal(mode_of(ab), 0750);
}

static void test_nothing_to_make(void **state)
{
	(void)state;
	assert_int_equal(fs_mkdir_parent("model.bin"), 0);
	assert_int_equal(fs_mkdir_parent("/model.bin"), 0);
}

static void test_file_in_the_way(void **state)
{
	(void)state;
	char file[160];
	tl_put(dir, "plain", "x\n");
	snprintf(file, sizeof(file), "%s/plain/sub/model.bin", dir);
	errno = 0;
	assert_int_equal(fs_mkdir_parent(file), -1);
	assert_int_equal(errno, ENOTDIR);
	/* the holding folder's name taken by a file counts as existing; opening the file
	 * itself then fails with ENOTDIR, which names the problem */
	snprintf(file, sizeof(file), "%s/plain/model.bin", dir);
	assert_int_equal(fs_mkdir_parent(file), 0);
	assert_null(fopen(file, "w"));
	assert_int_equal(errno, ENOTDIR);
}

static void test_errbuf(void **state)
{
	(void)state;
	char buf[8];
	errbuf_set(NULL, 10, "x %d", 1);
	memcpy(buf, "keep", 5);
	errbuf_set(buf, 0, "x %d", 1);
	assert_string_equal(buf, "keep");
	errbuf_set(buf, sizeof(buf), "%s: %d", "file", 12345);
	assert_string_equal(buf, "file: 1"); /* cut to fit, terminated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_creates_nested_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_make, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_in_the_way, setup, teardown),
		cmocka_unit_test(test_errbuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
