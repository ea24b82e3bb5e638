/*
 * test_journal.c — the change journal against real files: replay, torn tails, corruption,
 * compaction, a full disk (a real tiny tmpfs and RLIMIT_FSIZE), and a real SIGKILL while
 * a child process journals as fast as it can.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "act/journal.h"
#include "testlib.h"

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (tl_tempdir(f->dir, sizeof(f->dir), "journal") != 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/journal", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	umount2(f->dir, MNT_DETACH); /* only mounted by the tmpfs test; harmless otherwise */
	if (tl_rm_rf(f->dir) != 0)
		return -1;
	free(f);
	return 0;
}

static struct journal_change change(uint32_t vmid, uint32_t cpu_from, uint32_t cpu_to)
{
	struct journal_change c = {
		.vmid = vmid, .what = JOURNAL_CPU | JOURNAL_MEM,
		.cpu_before_milli = cpu_from, .cpu_after_milli = cpu_to,
		.mem_before_mb = 1024, .mem_after_mb = 2048,
	};
	return c;
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_replay_keeps_open_changes(void **state)
{
	struct fx *f = *state;
	struct journal *j;
	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.records, 0);

	struct journal_change a = change(101, 2000, 3000), b = change(102, 1000, 2000),
			      c = change(103, 4000, 2000);
	assert_int_equal(journal_begin(j, &a), 0);
	assert_int_equal(journal_begin(j, &b), 0);
	assert_int_equal(journal_begin(j, &c), 0);
	assert_true(a.seq < b.seq && b.seq < c.seq);

	struct journal_change readback = a;
	readback.cpu_after_milli = 2900; /* what the kernel really holds */
	assert_int_equal(journal_mark(j, a.seq, JOURNAL_APPLIED, &readback), 0);
	assert_int_equal(journal_mark(j, b.seq, JOURNAL_APPLIED, NULL), 0);
	assert_int_equal(journal_mark(j, b.seq, JOURNAL_PERSISTED, NULL), 0);
	assert_int_equal(journal_mark(j, c.seq, JOURNAL_CANCELLED, NULL), 0);
	assert_int_equal(journal_mark(j, c.seq, JOURNAL_APPLIED, NULL), -ENOENT);
	assert_int_equal(journal_file_records(j), 7);
	journal_close(j);
	assert_int_equal(file_size(f->path), 7 * JOURNAL_RECORD_SIZE);

	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.records, 7);
	assert_int_equal(info.corrupt, 0);
	assert_int_equal(info.torn_bytes, 0);
	assert_int_equal(info.open_changes, 1);
	size_t n;
	const struct journal_change *open = journal_open_changes(j, &n);
	assert_int_equal(n, 1);
	assert_int_equal(open[0].vmid, 101);
	assert_int_equal(open[0].state, JOURNAL_APPLIED);
	assert_int_equal(open[0].cpu_after_milli, 2900);
	assert_int_equal(open[0].mem_after_mb, 2048);

	/* sequence numbers continue after a restart, never reused */
	struct journal_change d = change(104, 1000, 1500);
	assert_int_equal(journal_begin(j, &d), 0);
	assert_true(d.seq > c.seq);
	journal_close(j);
}

static void test_mark_persisted_upto(void **state)
{
	struct fx *f = *state;
	struct journal *j;
	assert_int_equal(journal_open(f->path, &j, NULL), 0);
	struct journal_change c[4] = {change(200, 1000, 2000), change(200, 2000, 3000),
				      change(201, 1000, 2000), change(200, 3000, 4000)};
	for (int i = 0; i < 4; i++)
		assert_int_equal(journal_begin(j, &c[i]), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(journal_mark(j, c[i].seq, JOURNAL_APPLIED, NULL), 0);
	/* c[3] is still pending (its cgroup write has not finished): it must stay open */
	assert_int_equal(journal_mark_persisted_upto(j, 200, c[3].seq), 2);
	size_t n;
	const struct journal_change *open = journal_open_changes(j, &n);
	assert_int_equal(n, 2);
	assert_int_equal(open[0].vmid, 201);
	assert_int_equal(open[1].seq, c[3].seq);
	journal_close(j);
}

/* A crash in the middle of write(): the file ends in a partial record. */
static void test_torn_tail_is_cut(void **state)
{
	struct fx *f = *state;
	struct journal *j;
	assert_int_equal(journal_open(f->path, &j, NULL), 0);
	struct journal_change a = change(101, 1000, 2000), b = change(102, 1000, 2000);
	assert_int_equal(journal_begin(j, &a), 0);
	assert_int_equal(journal_begin(j, &b), 0);
	journal_close(j);
	assert_int_equal(truncate(f->path, 2 * JOURNAL_RECORD_SIZE - 23), 0);

	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.records, 1);
	assert_int_equal(info.torn_bytes, JOURNAL_RECORD_SIZE - 23);
	assert_int_equal(info.corrupt, 0);
	assert_int_equal(info.open_changes, 1);
	assert_int_equal(file_size(f->path), JOURNAL_RECORD_SIZE);
	/* appending after the cut yields a clean file */
	struct journal_change c = change(103, 1000, 2000);
	assert_int_equal(journal_begin(j, &c), 0);
	assert_true(c.seq > a.seq);
	journal_close(j);
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.records, 2);
	assert_int_equal(info.torn_bytes, 0);
	journal_close(j);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char b;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

/* A full-length last record whose bytes did not all reach the disk is a tear too; a damaged
 * record in the middle is skipped and counted, the records after it still count. */
static void test_crc_damage(void **state)
{
	struct fx *f = *state;
	struct journal *j;
	assert_int_equal(journal_open(f->path, &j, NULL), 0);
	struct journal_change c[3] = {change(1, 1, 2), change(2, 1, 2), change(3, 1, 2)};
	for (int i = 0; i < 3; i++)
		assert_int_equal(journal_begin(j, &c[i]), 0);
	journal_close(j);
	flip_byte(f->path, JOURNAL_RECORD_SIZE + 17);     /* vmid of record 2 */
	flip_byte(f->path, 2 * JOURNAL_RECORD_SIZE + 40); /* mem of record 3 */

	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.records, 1);
	assert_int_equal(info.torn_bytes, 2 * JOURNAL_RECORD_SIZE);
	assert_int_equal(info.corrupt, 0);
	journal_close(j);

	/* now damage only a middle record */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(journal_open(f->path, &j, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(journal_begin(j, &c[i]), 0);
	journal_close(j);
	flip_byte(f->path, JOURNAL_RECORD_SIZE + 3);
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.records, 2);
	assert_int_equal(info.corrupt, 1);
	assert_int_equal(info.torn_bytes, 0);
	size_t n;
	const struct journal_change *open = journal_open_changes(j, &n);
	assert_int_equal(n, 2);
	assert_int_equal(open[0].vmid, 1);
	assert_int_equal(open[1].vmid, 3);
	journal_close(j);
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct journal *j;
	assert_int_equal(journal_open(f->path, &j, NULL), 0);
	journal_set_compact_threshold(j, 16);
	struct journal_change keep = change(999, 1000, 8000);
	assert_int_equal(journal_begin(j, &keep), 0);
	uint64_t last = 0;
	for (int i = 0; i < 100; i++) {
		struct journal_change c = change(300 + (uint32_t)i % 7, 1000, 2000);
		assert_int_equal(journal_begin(j, &c), 0);
		assert_int_equal(journal_mark(j, c.seq, JOURNAL_APPLIED, NULL), 0);
		assert_int_equal(journal_mark(j, c.seq, JOURNAL_PERSISTED, NULL), 0);
		last = c.seq;
	}
	assert_true(journal_file_records(j) <= 17);
	assert_int_equal(file_size(f->path), (off_t)journal_file_records(j) * JOURNAL_RECORD_SIZE);
	journal_close(j);

	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.open_changes, 1);
	struct journal_change next = change(5, 1, 2);
	assert_int_equal(journal_begin(j, &next), 0);
	/* compaction dropped the closed records; a record of an open change with a lower seq
	 * than the highest used may be all that is left, yet seqs must not go back: */
	assert_true(next.seq > keep.seq);
	(void)last;
	journal_close(j);
	assert_int_equal(access(f->path, F_OK), 0);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(access(tmp, F_OK), -1);
}

/* ENOSPC on a real, tiny tmpfs: the change is refused, nothing half-written stays behind,
 * and the journal works again once space is back. */
static void test_disk_full_tmpfs(void **state)
{
	struct fx *f = *state;
	if (mount("lxcscale-test", f->dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0700") < 0) {
		print_message("cannot mount a tmpfs (%s)\n", strerror(errno));
		skip();
	}
	struct journal *j;
	assert_int_equal(journal_open(f->path, &j, NULL), 0);
	struct journal_change a = change(101, 1000, 2000);
	assert_int_equal(journal_begin(j, &a), 0);

	/* fill every remaining block */
	char filler[128];
	snprintf(filler, sizeof(filler), "%s/filler", f->dir);
	int fd = open(filler, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	char block[512];
	memset(block, 'x', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	close(fd);

	/* the journal's first page still has room: use it up, then the refusal must come */
	int rc = 0, accepted = 0;
	for (int i = 0; i < 1000 && rc == 0; i++) {
		struct journal_change c = change(102, 1000, 2000);
		rc = journal_begin(j, &c);
		if (rc == 0)
			accepted++;
	}
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(journal_error(j), 0); /* a write refusal, not an fsync failure */
	size_t n;
	journal_open_changes(j, &n);
	assert_int_equal(n, 1 + (size_t)accepted);
	assert_int_equal(file_size(f->path) % JOURNAL_RECORD_SIZE, 0);

	assert_int_equal(unlink(filler), 0);
	struct journal_change b = change(103, 1000, 2000);
	assert_int_equal(journal_begin(j, &b), 0);
	journal_close(j);

	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.open_changes, 2 + (size_t)accepted);
	assert_int_equal(info.torn_bytes, 0);
	journal_close(j);
}

/* RLIMIT_FSIZE lets the kernel accept only part of a record (a short write): the journal
 * must cut it back, refuse the change and leave a clean file. Runs in a child. */
static void test_short_write_is_cut_back(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = {JOURNAL_RECORD_SIZE * 3 + 20, JOURNAL_RECORD_SIZE * 3 + 20};
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		struct journal *j;
		if (journal_open(f->path, &j, NULL) < 0)
			_exit(11);
		int accepted = 0, rc = 0;
		while (rc == 0 && accepted < 100) {
			struct journal_change c = change(101, 1000, 2000);
			rc = journal_begin(j, &c);
			if (rc == 0)
				accepted++;
		}
		if (rc != -EFBIG)
			_exit(12);
		journal_close(j);
		_exit(accepted);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_int_equal(file_size(f->path), 3 * JOURNAL_RECORD_SIZE);
	struct journal *j;
	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.records, 3);
	assert_int_equal(info.torn_bytes, 0);
	journal_close(j);
}

/* A real SIGKILL while a child journals flat out: every change the child was told was
 * journalled (it reports each seq through a pipe after journal_begin returned) is found
 * on replay, and the file opens cleanly. */
static void test_sigkill_loses_nothing_acknowledged(void **state)
{
	struct fx *f = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct journal *j;
		if (journal_open(f->path, &j, NULL) < 0)
			_exit(1);
		for (uint32_t i = 1;; i++) {
			struct journal_change c = change(100 + i % 50, 1000, 2000);
			if (journal_begin(j, &c) < 0)
				_exit(2);
			if (write(p[1], &c.seq, sizeof(c.seq)) != sizeof(c.seq))
				_exit(3);
			if (i % 2 == 0 && journal_mark(j, c.seq, JOURNAL_APPLIED, NULL) < 0)
				_exit(4);
		}
	}
	close(p[1]);
	uint64_t seqs[64], got = 0;
	while (got < 64 && read(p[0], &seqs[got], sizeof(uint64_t)) == sizeof(uint64_t))
		got++;
	assert_int_equal(got, 64);
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	close(p[0]);

	struct journal *j;
	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(info.corrupt, 0);
	assert_true(info.open_changes >= 64);
	size_t n;
	const struct journal_change *open = journal_open_changes(j, &n);
	for (uint64_t i = 0; i < got; i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = open[k].seq == seqs[i];
		assert_true(found);
	}
	journal_close(j);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct journal *j;
	assert_int_equal(journal_open(f->dir, &j, NULL), -EISDIR);
	char link[160];
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(journal_open(link, &j, NULL), -ELOOP); /* never follow a planted link */
	assert_int_equal(journal_open("", &j, NULL), -EINVAL);

	/* a file that is not a journal at all (a wrong setting): refused, and left untouched */
	char junk[160];
	snprintf(junk, sizeof(junk), "%s/junk", f->dir);
	FILE *fp = fopen(junk, "w");
	for (int i = 0; i < 1000; i++)
		fputs("this is not a journal\n", fp);
	fclose(fp);
	assert_int_equal(journal_open(junk, &j, NULL), -EBADMSG);
	assert_int_equal(file_size(junk), 22000);

	assert_int_equal(journal_open(f->path, &j, NULL), 0);
	struct journal_change c = change(0, 1, 2);
	assert_int_equal(journal_begin(j, &c), -EINVAL);
	c = change(5, 1, 2);
	c.what = 0;
	assert_int_equal(journal_begin(j, &c), -EINVAL);
	c.what = 0x80;
	assert_int_equal(journal_begin(j, &c), -EINVAL);
	assert_int_equal(journal_mark(j, 12345, JOURNAL_PERSISTED, NULL), -ENOENT);
	assert_int_equal(journal_mark(j, 1, (enum journal_state)9, NULL), -EINVAL);
	journal_close(j);
}

/* The caller's seq is taken when larger than every one before (the daemon's decision
 * number), else the journal numbers on; the largest survives a reopen. */
static void test_caller_seq(void **state)
{
	struct fx *f = *state;
	struct journal *j;
	struct journal_open_info info;
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(journal_last_seq(j), 0);
	struct journal_change a = change(101, 1000, 2000), b = change(101, 2000, 1000),
			      c = change(102, 1000, 2000);
	a.seq = 100;
	assert_int_equal(journal_begin(j, &a), 0);
	assert_int_equal(a.seq, 100);
	assert_int_equal(journal_begin(j, &b), 0); /* seq 0: the journal's next */
	assert_int_equal(b.seq, 101);
	c.seq = 50; /* not larger: not taken */
	assert_int_equal(journal_begin(j, &c), 0);
	assert_int_equal(c.seq, 102);
	assert_int_equal(journal_last_seq(j), 102);
	journal_close(j);
	assert_int_equal(journal_open(f->path, &j, &info), 0);
	assert_int_equal(journal_last_seq(j), 102);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay_keeps_open_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_persisted_upto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caller_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crc_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_tmpfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_is_cut_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_loses_nothing_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
