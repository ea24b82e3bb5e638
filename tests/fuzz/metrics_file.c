/*
 * metrics_file.c — libFuzzer target for the reference metrics-file reader and importer
 * (user/compat/metrics_file.c, user/compat/metrics_import.c).
 *
 * `lxcscale import-metrics` and the daemon's start-up read /var/log/lxc_metrics.json, a file
 * another program wrote (the reference system, or an older lxcscale) and that can be
 * truncated by a crash or edited by hand. The input is the file's contents, handed over as a
 * real file (a memfd, read through /proc/self/fd/N, so the reader's own open/read/size
 * checks run). Then:
 *   - metrics_file_read(): every accepted record must carry a vmid and finite values;
 *   - what was accepted is written back with the writer (metrics_file_append, in place) and
 *     read again: the same snapshots and records must come back (the writer's output is
 *     always readable, and the round trip keeps every value exactly);
 *   - the input as an existing history: the writer's loader (metrics_file_load: recovery of
 *     a cut-off tail, foreign layouts, trimming) then one append must leave a file the
 *     reader accepts, ending with the appended cycle;
 *   - json_check (the loader's validator) fed the input in two pieces and at once must agree,
 *     and what it accepts json-c must accept too (as an array element);
 *   - metrics_import() turns the history into feature vectors with the default selection;
 *     every vector handed out must be finite.
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/json_check.h"
#include "compat/metrics_file.h"
#include "compat/metrics_import.h"

#define KEEP_MAX 4096

struct kept {
	size_t snapshot;
	struct mf_container rec;
};

struct collect {
	struct metrics_file *out;
	size_t snapshots, records, appended; /* appended: snapshots with records */
	struct kept *keep;                   /* the first KEEP_MAX records, to compare */
	size_t n_keep;
};

static int kept_cmp(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;
	if (x->snapshot != y->snapshot)
		return x->snapshot < y->snapshot ? -1 : 1;
	return x->rec.vmid < y->rec.vmid ? -1 : x->rec.vmid > y->rec.vmid;
}

static bool finite_record(const struct mf_container *c)
{
	return isfinite(c->cpu_usage_percent) && isfinite(c->memory_usage_mb) &&
	       isfinite(c->swap_usage_mb) && isfinite(c->swap_total_mb) &&
	       isfinite(c->filesystem_usage_gb) && isfinite(c->filesystem_total_gb) &&
	       isfinite(c->filesystem_free_gb);
}

/* Equal where it matters: an unknown field is written as 0, so only known values compare. */
static bool same_record(const struct mf_container *a, const struct mf_container *b)
{
	uint32_t u = a->unknown;
#define SAME(field, bit) ((u & MF_BIT(bit)) || a->field == b->field)
	return a->vmid == b->vmid && strcmp(a->timestamp, b->timestamp) == 0 && a->unknown == b->unknown &&
	       SAME(cpu_usage_percent, MF_CPU) && SAME(memory_usage_mb, MF_MEMORY) &&
	       SAME(swap_usage_mb, MF_SWAP_USAGE) && SAME(swap_total_mb, MF_SWAP_TOTAL) &&
	       SAME(process_count, MF_PROCESSES) && SAME(io_reads, MF_IO) && SAME(io_writes, MF_IO) &&
	       SAME(rx_bytes, MF_NETWORK) && SAME(tx_bytes, MF_NETWORK) &&
	       SAME(filesystem_usage_gb, MF_FS_USAGE) && SAME(filesystem_total_gb, MF_FS_TOTAL) &&
	       SAME(filesystem_free_gb, MF_FS_FREE);
#undef SAME
}

static int on_snapshot(void *ctx, const struct mf_snapshot *s)
{
	struct collect *c = ctx;
	for (size_t i = 0; i < s->n; i++) {
		if (!finite_record(&s->containers[i]) ||
		    memchr(s->containers[i].timestamp, '\0', MF_TIMESTAMP_LEN) == NULL)
			abort();
		if (c->keep && c->n_keep < KEEP_MAX)
			c->keep[c->n_keep++] = (struct kept){c->appended, s->containers[i]};
	}
	c->snapshots++;
	c->records += s->n;
	if (s->n)
		c->appended++;
	char err[256];
	if (c->out && s->n &&
	    metrics_file_append(c->out, s->containers, s->n, s->has_summary ? &s->summary : NULL, err,
				sizeof(err)) != 0) {
		fprintf(stderr, "append failed: %s\n", err);
		abort();
	}
	return 0;
}

static int on_vector(void *ctx, uint32_t vmid, const double *x, unsigned n)
{
	(void)ctx;
	(void)vmid;
	for (unsigned i = 0; i < n; i++)
		if (!isfinite(x[i]))
			abort();
	return 0;
}

static char dir[] = "/dev/shm/lxcscale-fuzz-metrics-XXXXXX"; /* tmpfs: an fdatasync a cycle */
static char out_path[128];

static int last_vmid_cb(void *ctx, const struct mf_snapshot *s)
{
	*(uint32_t *)ctx = s->n ? s->containers[0].vmid : 0;
	return 0;
}

/* The input as the history on disk: load it (whatever it is), append one cycle; the file
 * must then read back and end with that cycle. */
static void load_then_append(const uint8_t *data, size_t size)
{
	FILE *f = fopen(out_path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	struct metrics_file *mf = metrics_file_new(out_path, 3);
	if (!mf)
		abort();
	char err[256];
	metrics_file_load(mf, err, sizeof(err)); /* may fail: the append then starts anew */
	struct mf_container c = {.vmid = 4242, .timestamp = "2026-01-01T00:00:00.000000", .process_count = 1};
	if (metrics_file_append(mf, &c, 1, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "append after load failed: %s\n", err);
		abort();
	}
	unsigned count = metrics_file_count(mf);
	metrics_file_free(mf);
	uint32_t last = 0;
	struct mf_read_stats st;
	if (metrics_file_read(out_path, last_vmid_cb, &last, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "history unreadable after load + append: %s\n", err);
		abort();
	}
	if (last != 4242 || st.snapshots > 4 || st.snapshots + st.skipped_snapshots != count) {
		fprintf(stderr, "after load + append: %zu snapshots (%zu skipped), writer counts %u\n",
			st.snapshots, st.skipped_snapshots, count);
		abort();
	}
	unlink(out_path);
}

/* 1 when json_check takes data as one value (whitespace after it allowed), split at `cut`. */
static int checked(const uint8_t *data, size_t size, size_t cut)
{
	struct json_check jc;
	json_check_init(&jc);
	size_t off = 0, used;
	enum json_check_result r = JSON_CHECK_MORE;
	const size_t pieces[2] = { cut, size - cut };
	for (int p = 0; p < 2 && r == JSON_CHECK_MORE; p++) {
		r = json_check_feed(&jc, (const char *)data + off, pieces[p], &used);
		off += used;
		if (r == JSON_CHECK_DONE)
			break;
	}
	if (r == JSON_CHECK_BAD || (r == JSON_CHECK_MORE && json_check_end(&jc) != JSON_CHECK_DONE))
		return 0;
	for (; off < size; off++)
		if (data[off] != ' ' && data[off] != '\n' && data[off] != '\t' && data[off] != '\r')
			return 0;
	return 1;
}

static void differential_check(const uint8_t *data, size_t size)
{
	int once = checked(data, size, size), split = checked(data, size, size ? data[0] % (size + 1) : 0);
	if (once != split) {
		fprintf(stderr, "json_check: %d at once, %d in two pieces\n", once, split);
		abort();
	}
	if (!once)
		return;
	char *wrapped = malloc(size + 2);
	if (!wrapped)
		return;
	wrapped[0] = '[';
	memcpy(wrapped + 1, data, size);
	wrapped[size + 1] = ']';
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, wrapped, (int)size + 2);
	enum json_tokener_error e = json_tokener_get_error(tok);
	json_object_put(o);
	json_tokener_free(tok);
	free(wrapped);
	if (e != json_tokener_success) {
		fprintf(stderr, "json_check accepts what json-c refuses: %s\n", json_tokener_error_desc(e));
		abort();
	}
}

static void remove_dir(void)
{
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
	unlink(out_path);
	unlink(tmp);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(out_path, sizeof(out_path), "%s/lxc_metrics.json", dir);
	atexit(remove_dir); /* libFuzzer ends with exit() at the end of its time */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024 * 1024)
		return 0;
	int fd = memfd_create("lxc_metrics.json", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	char err[256];
	static struct kept keep_a[KEEP_MAX], keep_b[KEEP_MAX];
	struct collect c = {.out = metrics_file_new(out_path, 100000), .keep = keep_a};
	struct mf_read_stats st;
	int rc = metrics_file_read(path, on_snapshot, &c, &st, err, sizeof(err));
	if (rc == 0 && c.out && metrics_file_count(c.out) > 0) {
		struct collect back = {.keep = keep_b};
		struct mf_read_stats st2;
		if (metrics_file_read(out_path, on_snapshot, &back, &st2, err, sizeof(err)) != 0) {
			fprintf(stderr, "the writer's own file does not read back: %s\n", err);
			abort();
		}
		/* records of empty snapshots are not appended: compare what was */
		if (back.records != c.records || st2.skipped_records != 0) {
			fprintf(stderr, "round trip: %zu records -> %zu (%zu skipped)\n", c.records,
				back.records, st2.skipped_records);
			abort();
		}
		/* the writer sorts a cycle's containers by id (as strings, like Python): compare
		 * cycle by cycle, each sorted by id */
		qsort(keep_a, c.n_keep, sizeof(keep_a[0]), kept_cmp);
		qsort(keep_b, back.n_keep, sizeof(keep_b[0]), kept_cmp);
		for (size_t i = 0; i < c.n_keep && i < back.n_keep; i++)
			if (keep_a[i].snapshot != keep_b[i].snapshot || !same_record(&keep_a[i].rec, &keep_b[i].rec)) {
				fprintf(stderr, "round trip changed record %zu (cycle %zu, vmid %u -> cycle %zu, vmid %u)\n",
					i, keep_a[i].snapshot, keep_a[i].rec.vmid, keep_b[i].snapshot, keep_b[i].rec.vmid);
				abort();
			}
	}
	metrics_file_free(c.out);
	unlink(out_path);
	load_then_append(data, size);
	differential_check(data, size);

	struct feat_select sel;
	features_select_default(&sel);
	struct metrics_import_stats is;
	metrics_import(path, &sel, 64, 16, on_vector, NULL, &is, err, sizeof(err));
	close(fd);
	return 0;
}
