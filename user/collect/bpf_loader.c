/*
 * collect/bpf_loader.c — loads lxcscale's BPF objects and turns their maps into per-container
 * deltas for the daemon (API and contract in collect/bpf_loader.h).
 *
 * Design in plain words:
 *   - One skeleton per concern (runqlat, memstall, oomkill, lifecycle). The first object
 *     loaded creates (or, after a crash, reuses from the pin directory) the shared maps;
 *     the later ones are given the same map fds with bpf_map__reuse_fd(), so all programs
 *     write into one container set, one aggregate map, one ring buffer. A concern whose
 *     load or attach fails (tracepoint absent in this kernel) is dropped with a warning.
 *   - tp_btf is probed once by loading a trivial BTF-typed program for sched_switch; when
 *     it fails every object uses its raw_tp copies (bpf_program__set_autoload).
 *   - The aggregates are cumulative. A user-side table remembers, per registered
 *     container, the sums over CPUs at the previous drain; a drain reads the aggregates
 *     whose change flag the programs raised (lxs_dirty, mapped into our memory), sums
 *     over CPUs and subtracts. Now and then it reads them all (batch lookups). Nothing is
 *     deleted in the kernel during a drain, so no increment is lost between a read and a
 *     reset, and a flag is cleared before the read it asks for.
 *   - Pinning: libbpf pins the maps declared LIBBPF_PIN_BY_NAME under pin_dir; a pinned
 *     map that no longer matches the program (an upgrade changed a struct) makes the first
 *     load fail, and the loader then removes the stale pins and loads once more.
 */
#include "collect/bpf_loader.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "base/errbuf.h"
#include "lifecycle.skel.h"
#include "lxcscale.h"
#include "memstall.skel.h"
#include "oomkill.skel.h"
#include "runqlat.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* The layout must be the one the BPF side compiled (see lxcscale.h). */
_Static_assert(sizeof(struct lxs_cagg) == (LXS_HIST_SLOTS + 11) * 8, "lxs_cagg layout");
_Static_assert(sizeof(struct lxs_event) == 40 + LXS_COMM_LEN + LXS_PATH_LEN, "lxs_event layout");
_Static_assert(sizeof(struct lxs_ctr) == 16, "lxs_ctr layout");

#define LXS_BATCH 64             /* entries per batch lookup: 64 x CPUs x 344 B of buffer */
#define LXS_MAX_LINKS 16         /* attached programs, all concerns */
#define LXS_NR_CONCERNS 4
#define RUNQ_CPU_VSIZE 16        /* runqlat.bpf.c's struct runq_cpu_val: ts, cgid */

/* Names of the maps every object shares. */
static const char *const shared_maps[] = {
	"lxs_ctrs", "lxs_cagg", "lxs_events", "lxs_stats", "lxs_ratelim", "lxs_dirty",
};
#define NR_SHARED (sizeof(shared_maps) / sizeof(shared_maps[0]))

struct concern {
	const char *name;
	unsigned bit;
	void *skel;
	struct bpf_object *obj;
	void (*destroy)(void *skel);
};

/* Per registered container: the sums at the previous drain, in a dense array that grows
 * with the containers (a removal moves the last entry into the hole). The index over it
 * is open addressing with linear probing and backward-shift deletion (no tombstones), and
 * it uses the BPF side's hash with as many slots as there are change flags: the entries
 * behind flag i are the run of occupied slots from i whose home is i. */
#define CT_INDEX_CAP LXS_DIRTY_SLOTS
#define CT_EMPTY 0               /* index slot: free; otherwise entry position + 1 */
#define FULL_DRAIN_EVERY 64      /* drains between two full reads (see lxs_bpf_drain) */
_Static_assert(CT_INDEX_CAP >= 2 * LXS_MAX_CONTAINERS, "index load factor about 1/2 at most");

struct ct_entry {
	uint64_t cgid;
	bool first;              /* baseline unknown: report zero deltas at the next drain */
	uint32_t seen_gen;       /* drain generation that last reported it */
	struct lxs_cagg prev;
};

struct lxs_bpf {
	struct lxs_bpf_opts opts;
	char pin_dir[PATH_MAX];
	bool pinning;
	bool use_btf;
	unsigned concerns;
	struct concern c[LXS_NR_CONCERNS];
	struct bpf_link *links[LXS_MAX_LINKS];
	int nr_links;
	int shared_fd[NR_SHARED];
	int ctrs_fd, cagg_fd, stats_fd;
	int runq_cpu_fd;         /* runqlat's per-CPU "what runs here", -1 without runqlat */
	void *cpu_vals;          /* ncpus slots of it, for lxs_bpf_on_cpu */
	struct lxs_on_cpu *on_cpu; /* ncpus: lxs_bpf_on_cpu's answer */
	struct ring_buffer *rb;
	lxs_bpf_event_fn cb_fn;
	void *cb_ctx;
	int cb_count;
	bool cb_stop;
	int ncpus;
	size_t vsize;            /* one CPU's value in a per-CPU map, rounded to 8 */
	uint64_t *batch_keys;
	void *batch_vals;
	void *one_val;           /* ncpus * vsize, for add/iterate */
	struct ct_entry *ents;   /* nr_cts used of ents_cap */
	size_t nr_cts, ents_cap;
	uint32_t *idx;           /* CT_INDEX_CAP slots */
	struct lxs_dirty *dirty; /* lxs_dirty mapped; NULL: every drain reads everything */
	uint64_t *taken;         /* the flag words taken by the current drain */
	unsigned drains_to_full; /* 0: the next drain reads every aggregate */
	struct lxs_bpf_drain_stats dstats;
	int stats_fd_enable;     /* fd from BPF_ENABLE_STATS, -1 when off */
	bool batch_unsupported;
	uint32_t drain_gen;      /* bumped per drain: "seen" without clearing the table */
};

/* ---- messages -------------------------------------------------------------------------- */

/* libbpf's own messages: warnings only, unless LXCSCALE_BPF_DEBUG is set. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static int debug = -1;

	if (debug < 0)
		debug = getenv("LXCSCALE_BPF_DEBUG") != NULL;
	if (level == LIBBPF_DEBUG && !debug)
		return 0;
	if (level == LIBBPF_INFO && !debug)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

const char *lxs_event_type_name(uint32_t type)
{
	switch (type) {
	case LXS_EV_OOM_KILL: return "oom_kill";
	case LXS_EV_RECLAIM_STALL: return "reclaim_stall";
	case LXS_EV_DRECLAIM_STALL: return "direct_reclaim_stall";
	case LXS_EV_RUNQ_DELAY: return "runq_delay";
	case LXS_EV_CG_MKDIR: return "cgroup_mkdir";
	case LXS_EV_CG_RMDIR: return "cgroup_rmdir";
	default: return "unknown";
	}
}

/* ---- options and pre-flight -------------------------------------------------------------- */

void lxs_bpf_opts_default(struct lxs_bpf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->container_level = 2;
	o->runq_notify_ns = 5000000ULL;
	o->reclaim_notify_ns = 10000000ULL;
	o->notify_interval_ns = 1000000000ULL;
	o->want_runq = o->want_mem = o->want_oom = o->want_lifecycle = true;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == (unsigned long)BPF_FS_MAGIC;
}

static bool pin_wanted(const struct lxs_bpf_opts *o)
{
	return !o->pin_dir || o->pin_dir[0];
}

static const char *pin_dir_of(const struct lxs_bpf_opts *o)
{
	return o->pin_dir ? o->pin_dir : LXS_PIN_DIR;
}

static int check_opts(const struct lxs_bpf_opts *o, char *err, size_t errlen)
{
	if (o->container_level < 1 || o->container_level > 64) {
		errbuf_set(err, errlen, "BPF: container level %d out of range 1..64", o->container_level);
		return -EINVAL;
	}
	if (pin_wanted(o)) {
		const char *d = pin_dir_of(o);

		if (d[0] != '/' || strlen(d) >= PATH_MAX - 32 || strstr(d, "/../")) {
			errbuf_set(err, errlen, "BPF: pin directory '%s' must be an absolute path", d);
			return -EINVAL;
		}
	}
	if (!o->want_runq && !o->want_mem && !o->want_oom && !o->want_lifecycle) {
		errbuf_set(err, errlen, "BPF: no concern requested");
		return -EINVAL;
	}
	return 0;
}

int lxs_bpf_preflight(const struct lxs_bpf_opts *o, char *err, size_t errlen)
{
	int rc = check_opts(o, err, errlen);

	if (rc)
		return rc;
	if (geteuid() != 0) {
		errbuf_set(err, errlen,
			   "BPF: loading tracepoint programs needs root (uid 0); running as uid %u",
			   (unsigned)geteuid());
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		errbuf_set(err, errlen,
			   "BPF: this kernel exposes no BTF (/sys/kernel/btf/vmlinux: %s); "
			   "lxcscale needs a kernel built with CONFIG_DEBUG_INFO_BTF=y "
			   "(Debian and Proxmox kernels are)", strerror(errno));
		return -ENOTSUP;
	}
	if (pin_wanted(o) && !is_bpffs("/sys/fs/bpf")) {
		struct stat st;

		if (stat("/sys/fs/bpf", &st) != 0) {
			errbuf_set(err, errlen,
				   "BPF: /sys/fs/bpf does not exist, so bpffs cannot be mounted to pin "
				   "lxcscale's maps (kernel without CONFIG_BPF_SYSCALL?)");
			return -ENOENT;
		}
	}
	return 0;
}

static int ensure_bpffs(char *err, size_t errlen)
{
	if (is_bpffs("/sys/fs/bpf"))
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
		int e = errno;

		errbuf_set(err, errlen, "BPF: bpffs is not mounted at /sys/fs/bpf and mounting it "
			   "failed: %s (mount -t bpf bpf /sys/fs/bpf)", strerror(e));
		return -e;
	}
	return 0;
}

/* Removes the files of a pin directory (our maps only ever) and the directory. */
static void clear_pin_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* ---- tp_btf probe ------------------------------------------------------------------------ */

/* Loads `r0 = 0; exit` as a BTF-typed raw tracepoint program for sched_switch. */
static bool probe_tp_btf(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = BPF_TRACE_RAW_TP);
	int id, fd;

	id = libbpf_find_vmlinux_btf_id("sched_switch", BPF_TRACE_RAW_TP);
	if (id <= 0)
		return false;
	po.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &po);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* ---- the objects --------------------------------------------------------------------------- */

#define SET_KNOBS(s, o)                                                        \
	do {                                                                   \
		(s)->rodata->container_level = (uint32_t)(o)->container_level; \
		(s)->rodata->runq_notify_ns = (o)->runq_notify_ns;             \
		(s)->rodata->reclaim_notify_ns = (o)->reclaim_notify_ns;       \
		(s)->rodata->notify_interval_ns = (o)->notify_interval_ns;     \
		(s)->rodata->lifecycle_parent = (o)->lifecycle_parent;         \
		(s)->rodata->count_other = (o)->count_other;                   \
	} while (0)

#define DEFINE_OPEN(sk)                                                                    \
	static void destroy_##sk(void *s) { sk##__destroy(s); }                            \
	static int open_##sk(struct concern *c, const struct lxs_bpf_opts *o,              \
			     const struct bpf_object_open_opts *oo)                        \
	{                                                                                  \
		struct sk *s = sk##__open_opts(oo);                                        \
		if (!s)                                                                    \
			return errno ? -errno : -ENOMEM;                                   \
		SET_KNOBS(s, o);                                                           \
		c->skel = s;                                                               \
		c->obj = s->obj;                                                           \
		c->destroy = destroy_##sk;                                                 \
		return 0;                                                                  \
	}

DEFINE_OPEN(runqlat)
DEFINE_OPEN(memstall)
DEFINE_OPEN(oomkill)
DEFINE_OPEN(lifecycle)

typedef int (*open_fn)(struct concern *, const struct lxs_bpf_opts *,
		       const struct bpf_object_open_opts *);

static void concern_free(struct concern *c)
{
	if (c->skel && c->destroy)
		c->destroy(c->skel);
	c->skel = NULL;
	c->obj = NULL;
}

/* Chooses tp_btf or raw_tp programs, shares the first object's maps, loads. */
static int concern_load(struct lxs_bpf *b, struct concern *c)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	size_t i;

	bpf_object__for_each_program(prog, c->obj) {
		const char *sec = bpf_program__section_name(prog);
		bool is_btf = strncmp(sec, "tp_btf/", 7) == 0;

		bpf_program__set_autoload(prog, is_btf == b->use_btf);
	}
	bpf_object__for_each_map(map, c->obj) {
		const char *name = bpf_map__name(map);

		for (i = 0; i < NR_SHARED; i++)
			if (strcmp(name, shared_maps[i]) == 0)
				break;
		/* reuse_fd replaces the map's name string: `name` is not used after it */
		if (i < NR_SHARED && b->shared_fd[i] >= 0) {
			int err = bpf_map__reuse_fd(map, b->shared_fd[i]);

			if (err)
				return err;
		}
		if (!b->pinning && bpf_map__pin_path(map))
			bpf_map__set_pin_path(map, NULL);
	}
	return bpf_object__load(c->obj);
}

/* After the first successful load: remember the shared maps' fds. */
static int take_shared(struct lxs_bpf *b, struct concern *c)
{
	size_t i;

	for (i = 0; i < NR_SHARED; i++) {
		struct bpf_map *m;

		if (b->shared_fd[i] >= 0)
			continue;
		m = bpf_object__find_map_by_name(c->obj, shared_maps[i]);
		if (!m)
			return -ENOENT;
		b->shared_fd[i] = dup(bpf_map__fd(m));
		if (b->shared_fd[i] < 0)
			return -errno;
	}
	return 0;
}

static int concern_attach(struct lxs_bpf *b, struct concern *c)
{
	struct bpf_program *prog;
	int first = b->nr_links;

	bpf_object__for_each_program(prog, c->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		if (b->nr_links >= LXS_MAX_LINKS)
			return -E2BIG;
		l = bpf_program__attach(prog);
		if (!l) {
			int e = errno ? -errno : -EINVAL;

			while (b->nr_links > first)
				bpf_link__destroy(b->links[--b->nr_links]);
			return e;
		}
		b->links[b->nr_links++] = l;
	}
	return 0;
}

/* ---- user-side container table ------------------------------------------------------------- */

static size_t idx_home(uint64_t cgid)
{
	return lxs_dirty_slot(cgid) & (CT_INDEX_CAP - 1);
}

/* Index slot holding cgid, or CT_INDEX_CAP when absent. */
static size_t idx_slot(const struct lxs_bpf *b, uint64_t cgid)
{
	for (size_t i = idx_home(cgid); b->idx[i] != CT_EMPTY; i = (i + 1) & (CT_INDEX_CAP - 1))
		if (b->ents[b->idx[i] - 1].cgid == cgid)
			return i;
	return CT_INDEX_CAP;
}

static struct ct_entry *ct_find(struct lxs_bpf *b, uint64_t cgid)
{
	size_t i = idx_slot(b, cgid);

	return i == CT_INDEX_CAP ? NULL : &b->ents[b->idx[i] - 1];
}

/* Adds cgid (absent) with a zero entry. The entry array may move: pointers into it taken
 * before do not survive an insert. */
static struct ct_entry *ct_insert(struct lxs_bpf *b, uint64_t cgid)
{
	struct ct_entry *e;
	size_t i;

	if (b->nr_cts >= LXS_MAX_CONTAINERS + 1)
		return NULL;
	if (b->nr_cts == b->ents_cap) {
		size_t cap = b->ents_cap ? b->ents_cap * 2 : 16;
		struct ct_entry *n;

		if (cap > LXS_MAX_CONTAINERS + 1)
			cap = LXS_MAX_CONTAINERS + 1;
		n = realloc(b->ents, cap * sizeof(*n));
		if (!n)
			return NULL;
		b->ents = n;
		b->ents_cap = cap;
	}
	for (i = idx_home(cgid); b->idx[i] != CT_EMPTY; i = (i + 1) & (CT_INDEX_CAP - 1))
		;
	e = &b->ents[b->nr_cts];
	memset(e, 0, sizeof(*e));
	e->cgid = cgid;
	b->idx[i] = (uint32_t)++b->nr_cts;
	return e;
}

static void ct_remove(struct lxs_bpf *b, uint64_t cgid)
{
	const size_t mask = CT_INDEX_CAP - 1;
	size_t i = idx_slot(b, cgid), j, pos, last;

	if (i == CT_INDEX_CAP)
		return;
	pos = b->idx[i] - 1;
	/* Backward shift: move up every later entry of the run whose home is not in (i, j]. */
	for (j = (i + 1) & mask; b->idx[j] != CT_EMPTY; j = (j + 1) & mask) {
		size_t home = idx_home(b->ents[b->idx[j] - 1].cgid);
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);

		if (!stays) {
			b->idx[i] = b->idx[j];
			i = j;
		}
	}
	b->idx[i] = CT_EMPTY;
	/* Keep the array dense: the last entry fills the hole. */
	last = --b->nr_cts;
	if (pos != last) {
		b->ents[pos] = b->ents[last];
		b->idx[idx_slot(b, b->ents[pos].cgid)] = (uint32_t)pos + 1;
	}
}

/* Creates the container's aggregate with zeros on every CPU; false if it already existed. */
static int cagg_create(struct lxs_bpf *b, uint64_t cgid, bool *created)
{
	memset(b->one_val, 0, (size_t)b->ncpus * b->vsize);
	*created = false;
	if (bpf_map_update_elem(b->cagg_fd, &cgid, b->one_val, BPF_NOEXIST) == 0) {
		*created = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -errno;
}

/* ---- open / close -------------------------------------------------------------------------- */

static int try_open_all(struct lxs_bpf *b, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		unsigned bit;
		open_fn open;
	} table[LXS_NR_CONCERNS] = {
		{ "runqlat", LXS_CONCERN_RUNQ, open_runqlat },
		{ "memstall", LXS_CONCERN_MEM, open_memstall },
		{ "oomkill", LXS_CONCERN_OOM, open_oomkill },
		{ "lifecycle", LXS_CONCERN_LIFECYCLE, open_lifecycle },
	};
	const bool want[LXS_NR_CONCERNS] = {
		b->opts.want_runq, b->opts.want_mem, b->opts.want_oom, b->opts.want_lifecycle,
	};
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = b->pinning ? b->pin_dir : NULL);
	int i, rc, first_err = 0;

	for (i = 0; i < LXS_NR_CONCERNS; i++) {
		struct concern *c = &b->c[i];

		if (!want[i])
			continue;
		c->name = table[i].name;
		c->bit = table[i].bit;
		rc = table[i].open(c, &b->opts, &oo);
		if (!rc)
			rc = concern_load(b, c);
		if (!rc)
			rc = take_shared(b, c);
		if (!rc)
			rc = concern_attach(b, c);
		if (rc) {
			fprintf(stderr, "lxcscale: BPF %s programs not available (as %s): %s\n",
				table[i].name, b->use_btf ? "tp_btf" : "raw_tp", strerror(-rc));
			concern_free(c);
			if (!first_err)
				first_err = rc;
			continue;
		}
		b->concerns |= c->bit;
	}
	if (!b->concerns && first_err == -EPERM) {
		errbuf_set(err, errlen, "BPF: the kernel refused to load the programs although we run "
			   "as root: the service lacks CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), or "
			   "kernel.unprivileged_bpf_disabled/lockdown forbids it");
		return first_err;
	}
	if (!b->concerns) {
		errbuf_set(err, errlen, "BPF: no program could be loaded and attached (%s); run with "
			   "LXCSCALE_BPF_DEBUG=1 for libbpf's log", strerror(-first_err));
		return first_err ? first_err : -ENOENT;
	}
	return 0;
}

static void free_objects(struct lxs_bpf *b)
{
	size_t i;
	int k;

	while (b->nr_links > 0)
		bpf_link__destroy(b->links[--b->nr_links]);
	if (b->rb) {
		ring_buffer__free(b->rb);
		b->rb = NULL;
	}
	for (k = 0; k < LXS_NR_CONCERNS; k++)
		concern_free(&b->c[k]);
	for (i = 0; i < NR_SHARED; i++) {
		if (b->shared_fd[i] >= 0)
			close(b->shared_fd[i]);
		b->shared_fd[i] = -1;
	}
	b->concerns = 0;
}

static int on_ring_sample(void *ctx, void *data, size_t size);

static size_t dirty_map_len(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct lxs_dirty) + page - 1) / page * page;
}

/* Maps the change flags. Without them (a kernel older than 5.5 cannot map an array)
 * every drain reads every aggregate, as before: correct, only dearer. */
static void map_dirty(struct lxs_bpf *b)
{
	void *p;

	if (b->opts.force_full_drain || b->shared_fd[5] < 0)
		return;
	p = mmap(NULL, dirty_map_len(), PROT_READ | PROT_WRITE, MAP_SHARED, b->shared_fd[5], 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "lxcscale: BPF: cannot map the change flags (%s); every drain "
			"reads every container\n", strerror(errno));
		return;
	}
	b->dirty = p;
}

int lxs_bpf_open(struct lxs_bpf **out, const struct lxs_bpf_opts *o, char *err, size_t errlen)
{
	struct lxs_bpf *b;
	size_t i;
	int rc;

	*out = NULL;
	rc = lxs_bpf_preflight(o, err, errlen);
	if (rc)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b) {
		errbuf_set(err, errlen, "BPF: out of memory");
		return -ENOMEM;
	}
	b->opts = *o;
	b->opts.pin_dir = NULL; /* the copy below owns the path */
	if (!b->opts.notify_interval_ns)
		b->opts.notify_interval_ns = 1000000000ULL;
	b->stats_fd_enable = -1;
	b->batch_unsupported = o->force_iterate;
	b->ctrs_fd = b->cagg_fd = b->stats_fd = b->runq_cpu_fd = -1;
	for (i = 0; i < NR_SHARED; i++)
		b->shared_fd[i] = -1;
	b->pinning = pin_wanted(o);
	if (b->pinning)
		snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", pin_dir_of(o));

	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0) {
		errbuf_set(err, errlen, "BPF: cannot read the number of possible CPUs");
		free(b);
		return -EIO;
	}
	b->vsize = (sizeof(struct lxs_cagg) + 7) & ~(size_t)7;
	b->batch_keys = calloc(LXS_BATCH, sizeof(uint64_t));
	b->batch_vals = calloc((size_t)LXS_BATCH * b->ncpus, b->vsize);
	b->one_val = calloc((size_t)b->ncpus, b->vsize);
	b->idx = calloc(CT_INDEX_CAP, sizeof(*b->idx));
	b->taken = calloc(LXS_DIRTY_SLOTS / 8, sizeof(*b->taken));
	if (!b->batch_keys || !b->batch_vals || !b->one_val || !b->idx || !b->taken) {
		errbuf_set(err, errlen, "BPF: out of memory");
		rc = -ENOMEM;
		goto fail;
	}

	libbpf_set_print(libbpf_print);
	if (b->pinning) {
		rc = ensure_bpffs(err, errlen);
		if (rc)
			goto fail;
		/* made here, not by libbpf at the first pin: libbpf warns about every map
		 * ("failed to statfs") when the directory is not there yet */
		if (mkdir(b->pin_dir, 0700) != 0 && errno != EEXIST) {
			rc = -errno;
			errbuf_set(err, errlen, "BPF: cannot create the pin directory %s: %s",
				   b->pin_dir, strerror(errno));
			goto fail;
		}
	}
	b->use_btf = !o->force_raw_tp && probe_tp_btf();

	rc = try_open_all(b, err, errlen);
	if (rc && b->pinning && access(b->pin_dir, F_OK) == 0) {
		/* Pins left by another version whose maps do not match: start afresh. */
		fprintf(stderr, "lxcscale: BPF load failed with the maps pinned in %s; "
			"removing them and loading again\n", b->pin_dir);
		free_objects(b);
		clear_pin_dir(b->pin_dir);
		rc = try_open_all(b, err, errlen);
	}
	if (rc)
		goto fail;

	b->ctrs_fd = b->shared_fd[0];
	b->cagg_fd = b->shared_fd[1];
	b->stats_fd = b->shared_fd[3];
	if (b->concerns & LXS_CONCERN_RUNQ) {
		b->runq_cpu_fd = bpf_object__find_map_fd_by_name(b->c[0].obj, "runq_cpu");
		b->cpu_vals = calloc((size_t)b->ncpus, RUNQ_CPU_VSIZE);
		b->on_cpu = calloc((size_t)b->ncpus, sizeof(*b->on_cpu));
		if (!b->cpu_vals || !b->on_cpu)
			b->runq_cpu_fd = -1;
	}
	map_dirty(b);
	b->rb = ring_buffer__new(b->shared_fd[2], on_ring_sample, b, NULL);
	if (!b->rb) {
		rc = errno ? -errno : -ENOMEM;
		errbuf_set(err, errlen, "BPF: cannot map the ring buffer: %s", strerror(-rc));
		goto fail;
	}
	if (o->count_other) {
		bool created;
		struct ct_entry *e;

		rc = cagg_create(b, LXS_OTHER_ID, &created);
		e = rc ? NULL : ct_insert(b, LXS_OTHER_ID);
		if (!e) {
			errbuf_set(err, errlen, "BPF: cannot create the host/other bucket");
			rc = rc ? rc : -ENOSPC;
			goto fail;
		}
		e->first = !created;
	}
	*out = b;
	return 0;
fail:
	lxs_bpf_close(b, false);
	return rc;
}

void lxs_bpf_close(struct lxs_bpf *b, bool unpin)
{
	if (!b)
		return;
	lxs_bpf_stats_disable(b);
	if (unpin && b->pinning) {
		int k;

		for (k = 0; k < LXS_NR_CONCERNS; k++) {
			struct bpf_map *m;

			if (!b->c[k].obj)
				continue;
			bpf_object__for_each_map(m, b->c[k].obj)
				if (bpf_map__is_pinned(m))
					bpf_map__unpin(m, NULL);
		}
		rmdir(b->pin_dir);
	}
	free_objects(b);
	free(b->batch_keys);
	free(b->batch_vals);
	free(b->one_val);
	free(b->cpu_vals);
	free(b->on_cpu);
	if (b->dirty)
		munmap(b->dirty, dirty_map_len());
	free(b->ents);
	free(b->idx);
	free(b->taken);
	free(b);
}

const char *lxs_bpf_attach_mode(const struct lxs_bpf *b)
{
	return b->use_btf ? "tp_btf" : "raw_tp";
}

unsigned lxs_bpf_concerns(const struct lxs_bpf *b)
{
	return b->concerns;
}

/* ---- container set ------------------------------------------------------------------------- */

static bool valid_cgid(uint64_t cgid)
{
	return cgid > LXS_OTHER_ID && cgid != UINT64_MAX;
}

int lxs_bpf_add_container(struct lxs_bpf *b, uint64_t cgid, uint32_t vmid)
{
	struct lxs_ctr v = { .vmid = vmid };
	struct ct_entry *e;
	struct timespec ts;
	bool created;
	int rc;

	if (!valid_cgid(cgid))
		return -EINVAL;
	e = ct_find(b, cgid);
	if (!e && b->nr_cts >= LXS_MAX_CONTAINERS + (b->opts.count_other ? 1 : 0))
		return -ENOSPC;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v.added_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (bpf_map_update_elem(b->ctrs_fd, &cgid, &v, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	rc = cagg_create(b, cgid, &created);
	if (rc) {
		bpf_map_delete_elem(b->ctrs_fd, &cgid);
		return rc == -E2BIG ? -ENOSPC : rc;
	}
	if (e)
		return 0; /* already tracked: keep its baseline */
	e = ct_insert(b, cgid);
	if (!e) {
		bpf_map_delete_elem(b->ctrs_fd, &cgid);
		bpf_map_delete_elem(b->cagg_fd, &cgid);
		return -ENOSPC;
	}
	e->first = !created; /* an existing entry (pinned map after a crash) has unknown baseline */
	return 0;
}

int lxs_bpf_remove_container(struct lxs_bpf *b, uint64_t cgid)
{
	int rc = 0;

	if (!valid_cgid(cgid))
		return -EINVAL;
	/* Out of the set first, so the programs do not re-create the aggregate. */
	if (bpf_map_delete_elem(b->ctrs_fd, &cgid) && errno != ENOENT)
		rc = -errno;
	if (bpf_map_delete_elem(b->cagg_fd, &cgid) && errno != ENOENT && !rc)
		rc = -errno;
	ct_remove(b, cgid);
	return rc;
}

/* Deletes every key of a map (fd) that is not in the table. Keys are collected first:
 * deleting while walking with get_next_key could restart the walk. */
static int prune_map(struct lxs_bpf *b, int fd, int *removed)
{
	uint64_t *stale = b->batch_keys, key, next;
	void *cur = NULL;
	size_t n = 0, i;
	int more = 1;

	while (more) {
		n = 0;
		cur = NULL;
		while (n < LXS_BATCH && bpf_map_get_next_key(fd, cur, &next) == 0) {
			key = next;
			cur = &key;
			if (!ct_find(b, key))
				stale[n++] = key;
		}
		more = n == LXS_BATCH;
		for (i = 0; i < n; i++) {
			if (bpf_map_delete_elem(fd, &stale[i]) == 0)
				(*removed)++;
			else if (errno != ENOENT)
				return -errno;
		}
	}
	return 0;
}

int lxs_bpf_prune(struct lxs_bpf *b)
{
	int removed = 0, rc;

	rc = prune_map(b, b->ctrs_fd, &removed); /* the set first: stops new aggregates */
	if (!rc)
		rc = prune_map(b, b->cagg_fd, &removed);
	return rc ? rc : removed;
}

/* ---- ring buffer --------------------------------------------------------------------------- */

int lxs_bpf_ring_fd(const struct lxs_bpf *b)
{
	return b->rb ? ring_buffer__epoll_fd(b->rb) : -1;
}

static int on_ring_sample(void *ctx, void *data, size_t size)
{
	struct lxs_bpf *b = ctx;
	struct lxs_event ev;

	if (b->cb_stop)
		return -ECANCELED;
	if (size < sizeof(ev))
		return 0; /* not ours: ignore rather than read past the record */
	memcpy(&ev, data, sizeof(ev));
	ev.comm[LXS_COMM_LEN - 1] = 0;
	ev.path[LXS_PATH_LEN - 1] = 0;
	b->cb_count++;
	if (b->cb_fn && b->cb_fn(&ev, b->cb_ctx)) {
		b->cb_stop = true;
		return -ECANCELED;
	}
	return 0;
}

int lxs_bpf_consume(struct lxs_bpf *b, lxs_bpf_event_fn fn, void *ctx)
{
	int rc;

	if (!b->rb)
		return -EBADF;
	b->cb_fn = fn;
	b->cb_ctx = ctx;
	b->cb_count = 0;
	b->cb_stop = false;
	rc = ring_buffer__consume(b->rb);
	b->cb_fn = NULL;
	if (rc < 0 && rc != -ECANCELED)
		return rc;
	return b->cb_count;
}

/* ---- drain --------------------------------------------------------------------------------- */

uint64_t lxs_hist_quantile_ns(const uint64_t *hist, size_t slots, double q)
{
	uint64_t total = 0, cum = 0;
	double target;
	size_t i;

	for (i = 0; i < slots; i++)
		total += hist[i];
	if (!total || !(q >= 0.0))
		return 0;
	if (q > 1.0)
		q = 1.0;
	target = q * (double)total;
	if (target < 1.0)
		target = 1.0;
	for (i = 0; i < slots; i++) {
		double lo, hi, frac;

		if (!hist[i] || (double)(cum + hist[i]) < target) {
			cum += hist[i];
			continue;
		}
		lo = i == 0 ? 0.0 : (double)(1ULL << i) * 1000.0;
		hi = (double)(1ULL << (i + 1)) * 1000.0;
		frac = (target - (double)cum) / (double)hist[i];
		return (uint64_t)(lo + frac * (hi - lo));
	}
	return (uint64_t)((double)(1ULL << slots) * 1000.0);
}

/* Sums the per-CPU values of one entry. */
static void sum_cpus(const struct lxs_bpf *b, const void *vals, struct lxs_cagg *sum)
{
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)sum;
	size_t words = sizeof(*sum) / sizeof(uint64_t), w;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for (cpu = 0; cpu < b->ncpus; cpu++) {
		src = (const uint64_t *)((const char *)vals + (size_t)cpu * b->vsize);
		for (w = 0; w < words; w++)
			dst[w] += src[w];
	}
}

static uint64_t sub_counter(uint64_t now, uint64_t prev)
{
	return now >= prev ? now - prev : now; /* re-created entry: count from zero */
}

static void make_delta(struct ct_entry *e, const struct lxs_cagg *now, struct lxs_ct_delta *d)
{
	const uint64_t *a = (const uint64_t *)now, *p = (const uint64_t *)&e->prev;
	struct lxs_cagg diff;
	uint64_t *o = (uint64_t *)&diff;
	size_t words = sizeof(diff) / sizeof(uint64_t), w;

	memset(d, 0, sizeof(*d));
	d->cgid = e->cgid;
	d->first = e->first;
	if (e->first) {
		memset(&diff, 0, sizeof(diff));
	} else {
		for (w = 0; w < words; w++)
			o[w] = sub_counter(a[w], p[w]);
	}
	e->prev = *now;
	e->first = false;

	memcpy(d->runq_hist, diff.runq_hist, sizeof(d->runq_hist));
	d->runq_count = diff.runq_count;
	d->runq_sum_ns = diff.runq_sum_ns;
	d->runq_p50_ns = lxs_hist_quantile_ns(d->runq_hist, LXS_HIST_SLOTS, 0.50);
	d->runq_p99_ns = lxs_hist_quantile_ns(d->runq_hist, LXS_HIST_SLOTS, 0.99);
	d->oncpu_ns = diff.oncpu_ns;
	d->nvcsw = diff.nvcsw;
	d->nivcsw = diff.nivcsw;
	d->reclaim_ns = diff.reclaim_ns;
	d->reclaim_count = diff.reclaim_count;
	d->reclaim_pages = diff.reclaim_pages;
	d->dreclaim_ns = diff.dreclaim_ns;
	d->dreclaim_count = diff.dreclaim_count;
	d->oom_kills = diff.oom_kills;
}

struct drain_out {
	struct lxs_ct_delta *out;
	size_t cap, n;
	bool overflow;
};

/* Reports an aggregate that changed since the previous report (or whose baseline is
 * new); an unchanged one has nothing to say. One whose delta cannot be written (out is
 * full) keeps its previous sums, so the next drain reports this interval too; its change
 * flag is raised again for that. */
static void drain_entry(struct lxs_bpf *b, struct ct_entry *e, const void *vals, struct drain_out *d)
{
	struct lxs_cagg sum;

	if (e->seen_gen == b->drain_gen)
		return; /* a duplicate (a batch walk that restarted) */
	e->seen_gen = b->drain_gen;
	sum_cpus(b, vals, &sum);
	if (!e->first && memcmp(&sum, &e->prev, sizeof(sum)) == 0)
		return;
	if (d->n >= d->cap) {
		d->overflow = true;
		if (b->dirty)
			__atomic_store_n(&b->dirty->flag[lxs_dirty_slot(e->cgid)], 1, __ATOMIC_RELAXED);
		return;
	}
	make_delta(e, &sum, &d->out[d->n++]);
	b->dstats.reported++;
}

/* An aggregate found by walking the map: ignored unless the daemon registered it (a
 * stale one after a crash is left for lxs_bpf_prune). */
static void drain_one(struct lxs_bpf *b, uint64_t key, const void *vals, struct drain_out *d)
{
	struct ct_entry *e = ct_find(b, key);

	if (e)
		drain_entry(b, e, vals, d);
}

static int drain_iterate(struct lxs_bpf *b, struct drain_out *d)
{
	uint64_t key, next;
	void *cur = NULL;

	while (bpf_map_get_next_key(b->cagg_fd, cur, &next) == 0) {
		key = next;
		cur = &key;
		if (bpf_map_lookup_elem(b->cagg_fd, &key, b->one_val) == 0)
			drain_one(b, key, b->one_val, d);
		else if (errno != ENOENT)
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int drain_batch(struct lxs_bpf *b, struct drain_out *d)
{
	uint64_t in_batch = 0, out_batch = 0;
	bool first = true;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	for (;;) {
		__u32 count = LXS_BATCH, i;
		int rc = bpf_map_lookup_batch(b->cagg_fd, first ? NULL : &in_batch, &out_batch,
					      b->batch_keys, b->batch_vals, &count, &bo);
		int e = rc ? errno : 0;

		if (rc && e != ENOENT)
			return -e;
		for (i = 0; i < count && i < LXS_BATCH; i++)
			drain_one(b, b->batch_keys[i],
				  (char *)b->batch_vals + (size_t)i * b->ncpus * b->vsize, d);
		if (rc) /* ENOENT: that was the last batch */
			return 0;
		in_batch = out_batch;
		first = false;
	}
}

/* Every aggregate: batch lookups, or key iteration on kernels without them. */
static int drain_all(struct lxs_bpf *b, struct drain_out *d)
{
	int rc = -EINVAL;

	b->dstats.full++;
	if (!b->batch_unsupported) {
		rc = drain_batch(b, d);
		if (rc == -EINVAL || rc == -ENOTSUP || rc == -EOPNOTSUPP) {
			/* kernel without batch ops on this map type: iterate from now on (what a
			 * batch already reported is marked seen and not reported twice) */
			b->batch_unsupported = true;
		}
	}
	if (b->batch_unsupported)
		rc = drain_iterate(b, d);
	return rc;
}

/* Takes every raised change flag (atomic exchange, a word of 8 flags at a time) into
 * b->taken and returns how many were raised. */
static size_t take_flags(struct lxs_bpf *b)
{
	uint64_t *w = (uint64_t *)b->dirty->flag;
	size_t n = 0;

	for (size_t i = 0; i < LXS_DIRTY_SLOTS / 8; i++) {
		uint64_t old = 0;

		if (__atomic_load_n(&w[i], __ATOMIC_RELAXED))
			old = __atomic_exchange_n(&w[i], 0, __ATOMIC_SEQ_CST);
		b->taken[i] = old;
		for (uint64_t v = old; v; v >>= 8)
			n += (v & 0xff) != 0;
	}
	return n;
}

/* Reads the aggregates of the containers behind one change flag. */
static int drain_flag(struct lxs_bpf *b, size_t flag, struct drain_out *d)
{
	for (size_t i = flag; b->idx[i] != CT_EMPTY; i = (i + 1) & (CT_INDEX_CAP - 1)) {
		struct ct_entry *e = &b->ents[b->idx[i] - 1];

		if (idx_home(e->cgid) != flag)
			continue;
		b->dstats.lookups++;
		if (bpf_map_lookup_elem(b->cagg_fd, &e->cgid, b->one_val) == 0)
			drain_entry(b, e, b->one_val, d);
		else if (errno != ENOENT)
			return -errno;
	}
	return 0;
}

static int drain_flagged(struct lxs_bpf *b, struct drain_out *d)
{
	for (size_t i = 0; i < LXS_DIRTY_SLOTS / 8; i++) {
		uint8_t f[8];

		if (!b->taken[i])
			continue;
		memcpy(f, &b->taken[i], sizeof(f)); /* byte k of the word is flag 8i + k */
		for (size_t k = 0; k < 8; k++) {
			int rc = f[k] ? drain_flag(b, i * 8 + k, d) : 0;

			if (rc)
				return rc;
		}
	}
	return 0;
}

static void clear_seen(struct lxs_bpf *b)
{
	if (++b->drain_gen == 0) { /* wrapped: make every stored generation stale */
		for (size_t i = 0; i < b->nr_cts; i++)
			b->ents[i].seen_gen = 0;
		b->drain_gen = 1;
	}
}

/*
 * With the change flags, a drain reads only the aggregates flagged since the previous
 * one: an idle container costs nothing. When more than a quarter of the containers are
 * flagged, one walk of the whole map (64 entries per system call) is cheaper than a
 * lookup each, so the drain reads everything. It also reads everything at the first
 * drain (the baselines of aggregates reused after a crash) and every FULL_DRAIN_EVERY
 * drains, so that a flag lost to anything outside the daemon (a map edited with
 * bpftool) costs at most a few seconds of reporting delay, never a count.
 */
int lxs_bpf_drain(struct lxs_bpf *b, struct lxs_ct_delta *out, size_t cap, size_t *n)
{
	struct drain_out d = { .out = out, .cap = cap };
	size_t flagged = 0;
	int rc;

	*n = 0;
	if (!out && cap)
		return -EINVAL;
	clear_seen(b);
	b->dstats.drains++;
	if (b->dirty)
		flagged = take_flags(b);
	if (!b->dirty || b->drains_to_full == 0 || flagged * 4 > b->nr_cts) {
		rc = drain_all(b, &d);
		b->drains_to_full = FULL_DRAIN_EVERY;
	} else {
		rc = drain_flagged(b, &d);
		b->drains_to_full--;
	}
	*n = d.n;
	if (rc)
		return rc;
	return d.overflow ? -ENOBUFS : 0;
}

int lxs_bpf_on_cpu(struct lxs_bpf *b, const struct lxs_on_cpu **out, size_t *n)
{
	const uint32_t zero = 0;

	*out = b->on_cpu;
	*n = 0;
	if (b->runq_cpu_fd < 0)
		return 0;
	if (bpf_map_lookup_elem(b->runq_cpu_fd, &zero, b->cpu_vals))
		return -errno;
	for (int cpu = 0; cpu < b->ncpus; cpu++) {
		const uint64_t *v = (const uint64_t *)((const char *)b->cpu_vals + (size_t)cpu * RUNQ_CPU_VSIZE);

		if (!v[1] || v[1] == LXS_OTHER_ID || !ct_find(b, v[1]))
			continue;
		b->on_cpu[*n].cgid = v[1];
		b->on_cpu[*n].since_ns = v[0];
		(*n)++;
	}
	return 0;
}

int lxs_bpf_read(struct lxs_bpf *b, uint64_t cgid, struct lxs_cagg *sum)
{
	if (bpf_map_lookup_elem(b->cagg_fd, &cgid, b->one_val))
		return -errno;
	sum_cpus(b, b->one_val, sum);
	return 0;
}

void lxs_bpf_drain_stats(const struct lxs_bpf *b, struct lxs_bpf_drain_stats *st)
{
	*st = b->dstats;
	st->change_flags = b->dirty != NULL;
}

_Static_assert(sizeof(struct lxs_stats) == LXS_STAT_NR * sizeof(__u64),
	       "enum lxs_stat indexes struct lxs_stats as __u64s");

int lxs_bpf_stat(const struct lxs_bpf *b, enum lxs_stat which, uint64_t *value)
{
	__u32 key = 0;
	struct lxs_stats *vals;
	int cpu;

	*value = 0;
	if ((unsigned)which >= LXS_STAT_NR)
		return -EINVAL;
	vals = calloc((size_t)b->ncpus, sizeof(*vals)); /* 40 bytes: per-CPU values are 8-aligned */
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(b->stats_fd, &key, vals)) {
		int e = -errno;

		free(vals);
		return e;
	}
	for (cpu = 0; cpu < b->ncpus; cpu++)
		*value += ((const __u64 *)&vals[cpu])[which];
	free(vals);
	return 0;
}

/* ---- run-time statistics ------------------------------------------------------------------- */

int lxs_bpf_stats_enable(struct lxs_bpf *b)
{
	int fd;

	if (b->stats_fd_enable >= 0)
		return 0;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		return fd < -1 ? fd : -errno;
	b->stats_fd_enable = fd;
	return 0;
}

void lxs_bpf_stats_disable(struct lxs_bpf *b)
{
	if (b->stats_fd_enable >= 0)
		close(b->stats_fd_enable);
	b->stats_fd_enable = -1;
}

int lxs_bpf_prog_stats(const struct lxs_bpf *b, struct lxs_prog_stat *out, size_t cap, size_t *n)
{
	int k;

	*n = 0;
	for (k = 0; k < LXS_NR_CONCERNS; k++) {
		struct bpf_program *prog;

		if (!b->c[k].obj)
			continue;
		bpf_object__for_each_program(prog, b->c[k].obj) {
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			int fd = bpf_program__fd(prog);

			if (fd < 0 || !bpf_program__autoload(prog))
				continue;
			if (*n >= cap)
				return -ENOBUFS;
			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(fd, &info, &len))
				return -errno;
			snprintf(out[*n].name, sizeof(out[*n].name), "%s", info.name);
			out[*n].run_cnt = info.run_cnt;
			out[*n].run_time_ns = info.run_time_ns;
			(*n)++;
		}
	}
	return 0;
}

void lxs_bpf_opts_from_config(const struct lxcscale_config *c, struct lxs_bpf_opts *o)
{
	lxs_bpf_opts_default(o);
	o->pin_dir = c->bpf.pin_path;
	o->runq_notify_ns = (uint64_t)c->bpf.runq_threshold_us * 1000;
	o->reclaim_notify_ns = (uint64_t)c->bpf.reclaim_threshold_us * 1000;
	/* The schema bounds it to 1..1000000: an interval of 1 s down to 1 us, never 0. */
	int eps = c->bpf.events_per_second > 0 ? c->bpf.events_per_second : 1;
	o->notify_interval_ns = 1000000000ULL / (uint64_t)eps;
}
