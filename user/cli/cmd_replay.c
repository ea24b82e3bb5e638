/*
 * cli/cmd_replay.c — `lxcscale replay`: what would each policy have done, and how well.
 *
 *   lxcscale replay FILE [--cores N] [--memory MIB] [--pve-configs DIR]
 *   lxcscale replay --scenario NAME|all [--seed N] [--no-nab]
 *   common: [--config FILE] [--policy lxcscale|reference|both] [--decisions FILE] [--quiet]
 *           [--per-scenario] [--jobs N] [--html FILE]
 *
 * FILE is a recording (lxcscaled --record) or the reference system's lxc_metrics.json; either
 * becomes one demand trace per container (sim/replay_input.h). Each container's allocation
 * comes from the recording, else from DIR/<vmid>.conf with --pve-configs (a copy of
 * /etc/pve/lxc/: `cores:` and `memory:` of the current config, read here, since cli/ does not
 * include pve/), else from --cores/--memory; a line on stderr per container says which.
 * On an lxc_metrics.json the reference column is its loop run over the whole file first, all
 * containers together (sim/reference_plan.h); a line on stderr sums up what it did.
 * --scenario runs the generated labelled scenarios and, with "all", the NAB series from the
 * shared data directory.
 * Every trace is run through each selected policy (sim/replay.h); decisions are printed one
 * per line (or written to --decisions FILE), then the scorecard, one column per policy.
 * The output is a pure function of the inputs and options: run it twice, get the same bytes.
 * Traces × policies run on --jobs threads (default: the online CPUs); each run writes into
 * its own buffer and scorecard, and everything is printed in trace order afterwards, so the
 * number of threads never changes a byte of the output.
 * --html FILE also keeps each run's timeline (sim/timeline.h: its demand and limits, cut to
 * a few thousand points) and writes them with every scorecard as one self-contained web page
 * (cli/replay_html.h), after the text, which it does not change.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/replay_html.h"
#include "config/config.h"
#include "sim/reference_plan.h"
#include "sim/replay.h"
#include "sim/replay_input.h"
#include "sim/report_data.h"
#include "sim/scenarios.h"
#include "sim/scorecard.h"
#include "sim/timeline.h"

#define MAX_TRACES 4096

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: lxcscale replay FILE [options]          a recording or an lxc_metrics.json\n"
	        "       lxcscale replay --scenario NAME|all [options]\n"
	        "options:\n"
	        "  --config FILE                      lxcscale.yaml (or the reference's lxc_autoscale_ml.yaml):\n"
	        "                                     scaling and model keys for both policies\n"
	        "  --policy lxcscale|reference|both   policies to run (default both, side by side)\n"
	        "  --scenario NAME|all                generated scenarios:");
	for (size_t i = 0; i < scenario_generated_count(); i++)
		fprintf(f, " %s", scenario_generated_name(i));
	fprintf(f, "\n"
	        "                                     (all = every one of them + the NAB series)\n"
	        "  --seed N                           scenario seed (default 1)\n"
	        "  --no-nab                           with --scenario all: skip the NAB series\n"
	        "  --cores N --memory MIB             allocation assumed for a container when the file and\n"
	        "                                     --pve-configs do not say (default 2 cores, 2048 MiB)\n"
	        "  --pve-configs DIR                  each container's allocation from DIR/<vmid>.conf\n"
	        "                                     (Proxmox's format: a copy of /etc/pve/lxc/)\n"
	        "  --decisions FILE                   write the decisions there instead of stdout\n"
	        "  --quiet                            print only the scorecard\n"
	        "  --per-scenario                     a scorecard per trace before the total\n"
	        "  --jobs N                           runs in parallel (default: online CPUs)\n"
	        "  --html FILE                        also write the results as one self-contained web page:\n"
	        "                                     per trace, charts of the demand against each policy's\n"
	        "                                     limits (incidents, throttling, OOM kills marked) and\n"
	        "                                     the scorecards; opens offline, from the file alone\n");
}

struct traces {
	struct scenario *v;
	size_t n, cap;
};

static int traces_push(struct traces *t, struct scenario *s)
{
	if (t->n == MAX_TRACES)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct scenario *p = realloc(t->v, cap * sizeof *p);
		if (!p)
			return -1;
		t->v = p;
		t->cap = cap;
	}
	t->v[t->n++] = *s;
	return 0;
}

static void traces_free(struct traces *t)
{
	for (size_t i = 0; i < t->n; i++)
		scenario_free(&t->v[i]);
	free(t->v);
}

static int add_generated(struct traces *t, const char *name, uint64_t seed)
{
	struct scenario s;
	char err[256];
	if (scenario_generate(name, seed, &s, err, sizeof err) != 0) {
		fprintf(stderr, "lxcscale replay: %s; the scenarios are: all", err);
		for (size_t i = 0; i < scenario_generated_count(); i++)
			fprintf(stderr, ", %s", scenario_generated_name(i));
		fputc('\n', stderr);
		return -1;
	}
	if (traces_push(t, &s) != 0) {
		scenario_free(&s);
		fprintf(stderr, "lxcscale replay: too many traces\n");
		return -1;
	}
	return 0;
}

static int add_nab(struct traces *t)
{
	char dir[PATH_MAX], csv[PATH_MAX + 64], win[PATH_MAX + 64], err[512];
	if (scenario_shared_dir(dir, sizeof dir) != 0) {
		fprintf(stderr, "lxcscale replay: no shared data directory (set LXCSCALE_SHARED); "
		                "NAB series skipped\n");
		return 0;
	}
	snprintf(win, sizeof win, "%s/data/nab/windows.json", dir);
	snprintf(csv, sizeof csv, "%s/data/nab", dir);
	static char files[64][NAB_FILE_MAX];
	int n = scenario_nab_files(csv, files, 64);
	if (n < 0) {
		fprintf(stderr, "lxcscale replay: %s: %s\n", csv, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(csv, sizeof csv, "%s/data/nab/%s", dir, files[i]);
		struct scenario s;
		if (scenario_load_nab(csv, win, (uint32_t)(201 + i), &s, err, sizeof err) != 0) {
			fprintf(stderr, "lxcscale replay: %s\n", err);
			return -1;
		}
		if (traces_push(t, &s) != 0) {
			scenario_free(&s);
			return -1;
		}
	}
	return 0;
}

/* one (trace, policy) run */
struct task {
	const struct scenario *trace;
	const struct replay_config *cfg;
	bool want_decisions;
	bool want_timeline; /* --html */
	size_t max_points;  /* per series of the timeline */
	char *out;          /* decisions, malloc'ed by open_memstream */
	size_t out_len;
	struct scorecard sc;
	struct timeline tl;
	char err[512];
	int rc;
};

struct pool {
	struct task *tasks;
	size_t n;
	atomic_size_t next;
};

static void run_task(struct task *t)
{
	FILE *f = NULL;
	if (t->want_decisions) {
		f = open_memstream(&t->out, &t->out_len);
		if (!f) {
			snprintf(t->err, sizeof t->err, "out of memory");
			t->rc = -1;
			return;
		}
	}
	t->rc = replay_run_traced(t->trace, t->cfg, f, &t->sc, t->want_timeline ? &t->tl : NULL,
	                          t->max_points, NULL, t->err, sizeof t->err);
	if (f && fclose(f) != 0 && t->rc == 0) {
		snprintf(t->err, sizeof t->err, "out of memory");
		t->rc = -1;
	}
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			return NULL;
		run_task(&p->tasks[i]);
	}
}

static void run_all(struct pool *p, unsigned jobs)
{
	pthread_t th[64];
	unsigned started = 0;
	if (jobs > 64)
		jobs = 64;
	if (jobs > p->n)
		jobs = (unsigned)p->n;
	for (unsigned i = 1; i < jobs; i++)
		if (pthread_create(&th[started], NULL, worker, p) == 0)
			started++;
	worker(p); /* this thread works too; with no threads it does everything */
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_pos(const char *s, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > max)
		return -1;
	*out = v;
	return 0;
}

/* ---- the command ---------------------------------------------------------------------- */

struct replay_opts {
	const char *file;             /* FILE, or NULL with --scenario */
	const char *scenario, *decisions_path, *config_path, *html_path;
	const char *pve_configs_dir;  /* --pve-configs DIR, or NULL */
	bool run[2];                  /* by enum replay_policy */
	bool quiet, per_scenario, nab;
	uint64_t seed, jobs;
	double cores, memory;
};

/* Returns -1 to go on, else the exit code: 0 after --help, 2 on a usage error (reported). */
static int parse_options(int argc, char **argv, struct replay_opts *r)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'C' },
		{ "scenario", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "no-nab", no_argument, NULL, 'N' },
		{ "cores", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "pve-configs", required_argument, NULL, 'V' },
		{ "decisions", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "per-scenario", no_argument, NULL, 'P' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	*r = (struct replay_opts){
		.run = { true, true }, .nab = true, .seed = 1, .cores = 2, .memory = 2048,
		.jobs = online > 0 ? (uint64_t)online : 1,
	};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (strcmp(optarg, "both") == 0) {
				r->run[0] = r->run[1] = true;
			} else {
				enum replay_policy p;
				if (replay_policy_parse(optarg, &p) != 0) {
					fprintf(stderr, "lxcscale replay: --policy: '%s' is not lxcscale, reference or both\n", optarg);
					return 2;
				}
				r->run[0] = p == REPLAY_LXCSCALE;
				r->run[1] = p == REPLAY_REFERENCE;
			}
			break;
		case 's': r->scenario = optarg; break;
		case 'C': r->config_path = optarg; break;
		case 'S':
			if (parse_u64(optarg, &r->seed) != 0) {
				fprintf(stderr, "lxcscale replay: --seed: '%s' is not a non-negative integer\n", optarg);
				return 2;
			}
			break;
		case 'N': r->nab = false; break;
		case 'c':
			if (parse_pos(optarg, 8192, &r->cores) != 0) {
				fprintf(stderr, "lxcscale replay: --cores: '%s' is not in (0, 8192]\n", optarg);
				return 2;
			}
			break;
		case 'm':
			if (parse_pos(optarg, 16777216, &r->memory) != 0) {
				fprintf(stderr, "lxcscale replay: --memory: '%s' is not in (0, 16777216] MiB\n", optarg);
				return 2;
			}
			break;
		case 'V': r->pve_configs_dir = optarg; break;
		case 'd': r->decisions_path = optarg; break;
		case 'q': r->quiet = true; break;
		case 'P': r->per_scenario = true; break;
		case 'j':
			if (parse_u64(optarg, &r->jobs) != 0 || r->jobs < 1 || r->jobs > 64) {
				fprintf(stderr, "lxcscale replay: --jobs: '%s' is not in 1..64\n", optarg);
				return 2;
			}
			break;
		case 'H':
			if (!optarg[0]) {
				fprintf(stderr, "lxcscale replay: --html: an empty file name\n");
				return 2;
			}
			r->html_path = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	r->file = optind < argc ? argv[optind] : NULL;
	if ((r->file == NULL) == (r->scenario == NULL) || optind + (r->file ? 1 : 0) != argc) {
		fprintf(stderr, "lxcscale replay: give either FILE or --scenario\n");
		usage(stderr);
		return 2;
	}
	if (r->pve_configs_dir && !r->file) {
		fprintf(stderr, "lxcscale replay: --pve-configs goes with FILE, not --scenario\n");
		return 2;
	}
	return -1;
}

/* --config FILE: *out stays NULL without one (both policies' defaults). 0 or -1 (reported). */
static int load_config(const char *path, struct lxcscale_config **out)
{
	*out = NULL;
	if (!path)
		return 0;
	struct config_diag *diag = calloc(1, sizeof *diag);
	struct lxcscale_config *conf = config_new();
	if (!diag || !conf) {
		fprintf(stderr, "lxcscale replay: out of memory\n");
		free(diag);
		config_free(conf);
		return -1;
	}
	config_load_file(conf, path, diag);
	config_finalize(conf, diag);
	if (diag->errors > 0) {
		config_diag_print(diag, stderr);
		free(diag);
		config_free(conf);
		return -1;
	}
	free(diag);
	*out = conf;
	return 0;
}

/* ---- --pve-configs DIR ------------------------------------------------------------------ */

/* A number of a config line ("cores: 4"): digits only, within lo..hi. */
static bool config_number(const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r')
		end++;
	if (errno || end == v || *end || v[0] < '0' || v[0] > '9' || (double)n < lo || (double)n > hi)
		return false;
	*out = (double)n;
	return true;
}

/* One <vmid>.conf as Proxmox writes it: "key: value" lines of the current config, up to the
 * first [section] (a snapshot or pending changes); `cores:` and `memory:` (MiB) are kept, a
 * missing one stays 0. 0, or -1 with a message. */
static int read_pve_config(const char *path, struct replay_allocation *a, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096];
	unsigned no = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		no++;
		if (line[0] == '[')
			break;
		line[strcspn(line, "\n")] = '\0';
		const char *key = NULL;
		double *dst = NULL, lo = 1, hi = 0;
		if (strncmp(line, "cores:", 6) == 0) {
			key = line + 6, dst = &a->cores, hi = 8192;
		} else if (strncmp(line, "memory:", 7) == 0) {
			key = line + 7, dst = &a->memory_mb, lo = 16, hi = 1 << 30;
		}
		if (!dst)
			continue;
		while (*key == ' ')
			key++;
		if (!config_number(key, lo, hi, dst)) {
			snprintf(err, errlen, "%s:%u: '%.32s' is not a number of %s", path, no, key,
			         dst == &a->cores ? "cores (1..8192)" : "MiB (16..2^30)");
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}

static int cmp_allocation(const void *a, const void *b)
{
	uint32_t x = ((const struct replay_allocation *)a)->vmid, y = ((const struct replay_allocation *)b)->vmid;
	return (x > y) - (x < y);
}

/* Every <vmid>.conf in dir, sorted by vmid. 0 with *out (malloc'ed) and *n, or -1 (reported). */
static int read_pve_configs(const char *dir, struct replay_allocation **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "lxcscale replay: --pve-configs %s: %s\n", dir, strerror(errno));
		return -1;
	}
	size_t cap = 0;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *end;
		errno = 0;
		unsigned long vmid = strtoul(e->d_name, &end, 10);
		if (errno || end == e->d_name || e->d_name[0] == '0' || strcmp(end, ".conf") != 0 ||
		    vmid > UINT32_MAX)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct replay_allocation *p = realloc(*out, cap * sizeof *p);
			if (!p) {
				fprintf(stderr, "lxcscale replay: out of memory\n");
				rc = -1;
				break;
			}
			*out = p;
		}
		struct replay_allocation *a = &(*out)[*n];
		memset(a, 0, sizeof *a);
		a->vmid = (uint32_t)vmid;
		char path[PATH_MAX], err[2 * PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		snprintf(a->from, sizeof a->from, "from %.*s", (int)sizeof a->from - 6, path);
		if (read_pve_config(path, a, err, sizeof err) != 0) {
			fprintf(stderr, "lxcscale replay: --pve-configs: %s\n", err);
			rc = -1;
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	qsort(*out, *n, sizeof **out, cmp_allocation);
	return 0;
}

/* ---- FILE ---------------------------------------------------------------------------------- */

/* Which allocation each container starts with, and where it came from: one line each. */
static void report_allocations(const struct replay_input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct scenario *s = &in->traces[i];
		fprintf(stderr, "lxcscale replay: %s: %g core%s, %g MiB, %s%s\n", s->name, s->init_cpu_cores,
		        s->init_cpu_cores == 1 ? "" : "s", s->init_mem_mb, s->alloc_from,
		        s->alloc_cores_unset || s->alloc_memory_unset
		                ? " (the reference sees no allocation and skips it)" : "");
	}
}

/* What the reference's loop did over the history, in one line. */
static void report_plan(const char *file, const struct reference_plan *plan)
{
	struct reference_plan_stats st;
	reference_plan_stats(plan, &st);
	char untrainable[96] = "";
	if (st.untrainable_cycles)
		snprintf(untrainable, sizeof untrainable, ", %zu with a NaN or infinite figure the model refused",
		         st.untrainable_cycles);
	fprintf(stderr,
	        "lxcscale replay: the reference's loop on %s: %zu cycles (%zu stale%s), %zu evaluations"
	        " (each cycle only the containers stamped with the newest timestamp), %zu skipped"
	        " (allocation unknown), %zu held back by min_confidence, %zu scaled\n",
	        file, st.cycles, st.stale_cycles, untrainable, st.evaluations, st.skipped_unknown,
	        st.held_by_confidence, st.actions);
}

/* FILE: one trace per container in it, into t; on a reference metrics file with the reference
 * column selected, its loop's plan into *plan. 0 or -1 (reported). */
static int load_file_traces(const struct replay_opts *r, const struct replay_config *ref_cfg,
                            struct traces *t, struct reference_plan **plan)
{
	char err[512], warn[512];
	struct replay_allocation *configs = NULL;
	size_t n_configs = 0;
	*plan = NULL;
	if (r->pve_configs_dir && read_pve_configs(r->pve_configs_dir, &configs, &n_configs) != 0)
		return -1;
	const struct replay_input_opts o = { .cores = r->cores, .memory_mb = r->memory,
	                                     .configs = configs, .n_configs = n_configs };
	struct replay_input in;
	int rc = 0;
	if (replay_input_read(r->file, &o, &in, warn, sizeof warn, err, sizeof err) != 0) {
		fprintf(stderr, "lxcscale replay: %s\n", err);
		free(configs);
		return -1;
	}
	if (warn[0])
		fprintf(stderr, "lxcscale replay: warning: %s\n", warn);
	report_allocations(&in);
	if (in.has_history && r->run[REPLAY_REFERENCE]) {
		if (reference_plan_build(&in.history, &ref_cfg->loop, ref_cfg->cycle_ms, replay_input_allocation,
		                         &in, plan, err, sizeof err) != 0) {
			fprintf(stderr, "lxcscale replay: %s\n", err);
			rc = -1;
		} else {
			report_plan(r->file, *plan);
		}
	}
	for (size_t i = 0; i < in.n; i++) {
		if (rc == 0 && traces_push(t, &in.traces[i]) == 0)
			continue;
		scenario_free(&in.traces[i]);
		rc = -1;
	}
	in.n = 0; /* moved into t, or freed */
	replay_input_free(&in);
	free(configs);
	return rc;
}

/* The traces the options name (and on a reference metrics file the reference's plan).
 * 0 or -1 (reported). */
static int load_traces(const struct replay_opts *r, const struct replay_config *ref_cfg, struct traces *t,
                       struct reference_plan **plan)
{
	*plan = NULL;
	if (!r->scenario)
		return load_file_traces(r, ref_cfg, t, plan);
	if (strcmp(r->scenario, "all") != 0)
		return add_generated(t, r->scenario, r->seed);
	int rc = 0;
	for (size_t i = 0; i < scenario_generated_count() && rc == 0; i++)
		rc = add_generated(t, scenario_generated_name(i), r->seed);
	if (rc == 0 && r->nab)
		rc = add_nab(t);
	return rc;
}

/* Where the decisions go: stdout, --decisions FILE, or nowhere with --quiet. 0 or -1. */
static int open_decisions(const struct replay_opts *r, FILE **dec)
{
	*dec = r->quiet ? NULL : stdout;
	if (!r->decisions_path)
		return 0;
	*dec = fopen(r->decisions_path, "w");
	if (!*dec) {
		fprintf(stderr, "lxcscale replay: %s: %s\n", r->decisions_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The scorecard's columns: the selected policies, in enum order. */
struct columns {
	size_t n;
	enum replay_policy policy[2];
	const char *names[2];
};

static void columns_from(const bool run[2], struct columns *c)
{
	c->n = 0;
	for (int p = 0; p < 2; p++)
		if (run[p]) {
			c->policy[c->n] = (enum replay_policy)p;
			c->names[c->n++] = replay_policy_name((enum replay_policy)p);
		}
}

/* Every (trace, column) pair, on `jobs` threads; task i * cols->n + k is trace i, column k.
 * 0 or -1 (reported). */
static int run_tasks(struct pool *pool, const struct traces *t, const struct replay_config cfg[2],
		     const struct columns *cols, bool want_decisions, bool want_timelines, unsigned jobs)
{
	const size_t max_points = timeline_points_for(t->n);
	pool->n = t->n * cols->n;
	pool->tasks = calloc(pool->n ? pool->n : 1, sizeof *pool->tasks);
	if (!pool->tasks) {
		fprintf(stderr, "lxcscale replay: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < cols->n; k++) {
			struct task *tk = &pool->tasks[i * cols->n + k];
			tk->trace = &t->v[i];
			tk->cfg = &cfg[cols->policy[k]];
			tk->want_decisions = want_decisions;
			tk->want_timeline = want_timelines;
			tk->max_points = max_points;
			scorecard_init(&tk->sc, NULL);
		}
	atomic_init(&pool->next, 0);
	run_all(pool, jobs);
	return 0;
}

static void pool_free(struct pool *pool)
{
	for (size_t i = 0; pool->tasks && i < pool->n; i++) {
		free(pool->tasks[i].out);
		scorecard_free(&pool->tasks[i].sc);
		timeline_free(&pool->tasks[i].tl);
	}
	free(pool->tasks);
}

/* Every scorecard's summary, kept for --html: trace i, column k at per_trace[i * n + k]. */
struct results {
	struct scorecard_summary *per_trace;
	struct scorecard_summary total[2];
	char title[96];
};

/* In trace order: each run's decisions (to dec, when set), a scorecard per trace with
 * --per-scenario, then the total; the summaries go into res. Stops at the first failed run.
 * 0 or -1 (reported). */
static int print_results(const struct pool *pool, const struct traces *t, const struct columns *cols,
			 FILE *dec, bool per_scenario, struct results *res)
{
	int rc = 0;
	struct scorecard total[2];
	const size_t n_runs = t->n * cols->n;
	res->per_trace = calloc(n_runs > 0 ? n_runs : 1, sizeof *res->per_trace);
	if (!res->per_trace) {
		fprintf(stderr, "lxcscale replay: out of memory\n");
		return -1;
	}
	for (size_t k = 0; k < cols->n; k++)
		scorecard_init(&total[k], NULL);
	uint64_t steps = 0;
	for (size_t i = 0; i < t->n && rc == 0; i++) {
		struct scorecard_summary *sum = &res->per_trace[i * cols->n];
		for (size_t k = 0; k < cols->n && rc == 0; k++) {
			struct task *tk = &pool->tasks[i * cols->n + k];
			if (tk->rc != 0) {
				fprintf(stderr, "lxcscale replay: %s: %s\n", cols->names[k], tk->err);
				rc = -1;
				break;
			}
			if (dec) {
				fprintf(dec, "# %s %s\n", cols->names[k], t->v[i].name);
				if (tk->out_len)
					fwrite(tk->out, 1, tk->out_len, dec);
			}
			if (scorecard_merge(&total[k], &tk->sc) != 0) {
				fprintf(stderr, "lxcscale replay: out of memory\n");
				rc = -1;
			}
			scorecard_summarise(&tk->sc, &sum[k]);
		}
		steps += t->v[i].n_steps;
		if (rc == 0 && per_scenario) {
			scorecard_print(stdout, t->v[i].name, sum, cols->names, cols->n);
			putchar('\n');
		}
	}
	if (rc == 0) {
		for (size_t k = 0; k < cols->n; k++)
			scorecard_summarise(&total[k], &res->total[k]);
		snprintf(res->title, sizeof res->title, "total: %zu trace%s, %" PRIu64 " steps", t->n,
		         t->n == 1 ? "" : "s", steps);
		scorecard_print(stdout, res->title, res->total, cols->names, cols->n);
	}
	for (size_t k = 0; k < cols->n; k++)
		scorecard_free(&total[k]);
	return rc;
}

/* --html FILE: the page, from the runs' timelines and the summaries. 0 or -1 (reported). */
static int write_html(const struct replay_opts *r, const struct pool *pool, const struct traces *t,
		      const struct columns *cols, const struct results *res)
{
	char input[PATH_MAX + 96], err[PATH_MAX + 640];
	if (r->file)
		snprintf(input, sizeof input, "%s", r->file);
	else
		snprintf(input, sizeof input, "--scenario %s --seed %" PRIu64 "%s", r->scenario, r->seed,
		         strcmp(r->scenario, "all") == 0 && !r->nab ? " --no-nab" : "");
	struct report_trace *rt = calloc(t->n ? t->n : 1, sizeof *rt);
	if (!rt) {
		fprintf(stderr, "lxcscale replay: cannot write %s: out of memory\n", r->html_path);
		return -1;
	}
	for (size_t i = 0; i < t->n; i++) {
		rt[i].trace = &t->v[i];
		for (size_t k = 0; k < cols->n; k++) {
			rt[i].runs[k] = &pool->tasks[i * cols->n + k].tl;
			rt[i].summary[k] = &res->per_trace[i * cols->n + k];
		}
	}
	const struct report rep = {
		.input = input,
		.version = LXCSCALE_VERSION,
		.policies = cols->names,
		.n_policies = cols->n,
		.traces = rt,
		.n_traces = t->n,
		.max_points = timeline_points_for(t->n),
		.total_title = res->title,
		.total = res->total,
	};
	int rc = replay_html_write(r->html_path, &rep, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "lxcscale replay: %s\n", err);
	free(rt);
	return rc;
}

int cli_replay(int argc, char **argv)
{
	struct replay_opts r;
	int rc = parse_options(argc, argv, &r);
	if (rc >= 0)
		return rc;
	struct lxcscale_config *conf;
	if (load_config(r.config_path, &conf) != 0)
		return 1;

	struct traces t = { 0 };
	FILE *dec = NULL;
	struct replay_config cfg[2];
	struct columns cols;
	struct pool pool = { 0 };
	struct reference_plan *plan = NULL;
	columns_from(r.run, &cols);
	rc = 0;
	if (replay_config_lxcscale(&cfg[0], conf) != 0 || replay_config_reference(&cfg[1], conf) != 0) {
		fprintf(stderr, "lxcscale replay: out of memory\n");
		rc = -1;
	}
	if (rc == 0)
		rc = load_traces(&r, &cfg[REPLAY_REFERENCE], &t, &plan);
	cfg[REPLAY_REFERENCE].plan = plan;
	if (rc == 0)
		rc = open_decisions(&r, &dec);
	struct results res = { 0 };
	if (rc == 0)
		rc = run_tasks(&pool, &t, cfg, &cols, dec != NULL, r.html_path != NULL, (unsigned)r.jobs);
	if (rc == 0)
		rc = print_results(&pool, &t, &cols, dec, r.per_scenario, &res);
	if (rc == 0 && r.html_path) {
		fflush(stdout); /* the text first, then a --html error after it */
		rc = write_html(&r, &pool, &t, &cols, &res);
	}

	free(res.per_trace);
	pool_free(&pool);
	if (r.decisions_path && dec && fclose(dec) != 0 && rc == 0) {
		fprintf(stderr, "lxcscale replay: %s: %s\n", r.decisions_path, strerror(errno));
		rc = -1;
	}
	traces_free(&t);
	reference_plan_free(plan);
	config_free(conf);
	return rc == 0 ? 0 : 1;
}
