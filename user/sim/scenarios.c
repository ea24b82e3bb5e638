/*
 * sim/scenarios.c — the scenario generators and the NAB loader.
 *
 * Every generator draws from its own splitmix64 stream seeded with (seed, name), so adding
 * a scenario never changes another one's trace. Incidents are placed first (their times
 * are the labels), then the demand is written around them; labels are therefore exact, not
 * inferred from the trace. All generated scenarios start with 2 cores and 2048 MiB (the
 * reference system's min_cpu_cores and a common LXC size) on 1 s steps.
 */
#include "sim/scenarios.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/errbuf.h"

#define GEN_STEP_MS 1000
#define HOUR_MS 3600000LL
#define MIN_MS 60000LL
#define INIT_CORES 2.0
#define INIT_MEM_MB 2048.0

/* ---- deterministic randomness -------------------------------------------------------- */

struct rng {
	uint64_t s;
	bool have_spare;
	double spare;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_uniform(struct rng *r) /* [0, 1) */
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

static double rng_normal(struct rng *r)
{
	if (r->have_spare) {
		r->have_spare = false;
		return r->spare;
	}
	double u, v, s;
	do {
		u = 2.0 * rng_uniform(r) - 1.0;
		v = 2.0 * rng_uniform(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	double k = sqrt(-2.0 * log(s) / s);
	r->spare = v * k;
	r->have_spare = true;
	return u * k;
}

static void rng_seed(struct rng *r, uint64_t seed, const char *name)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a of the name, mixed with the seed */
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	r->s = seed ^ h;
	r->have_spare = false;
	rng_next(r);
}

/* ---- building a scenario ------------------------------------------------------------- */

static int scenario_alloc(struct scenario *s, const char *name, uint32_t vmid, int64_t start_ms,
                          int64_t step_ms, size_t n_steps, size_t max_incidents)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->vmid = vmid;
	s->start_ms = start_ms;
	s->step_ms = step_ms;
	s->n_steps = n_steps;
	s->init_cpu_cores = INIT_CORES;
	s->init_mem_mb = INIT_MEM_MB;
	cm_params_default(&s->params);
	s->demand = calloc(n_steps ? n_steps : 1, sizeof *s->demand);
	s->incidents = calloc(max_incidents ? max_incidents : 1, sizeof *s->incidents);
	if (!s->demand || !s->incidents) {
		scenario_free(s);
		return -1;
	}
	return 0;
}

static void add_incident(struct scenario *s, enum incident_kind k, int64_t start, int64_t end,
                         bool relievable)
{
	s->incidents[s->n_incidents++] = (struct scenario_incident){
		.kind = k, .start_ms = start, .end_ms = end, .relievable = relievable };
}

static int64_t step_time(const struct scenario *s, size_t i)
{
	return s->start_ms + (int64_t)i * s->step_ms;
}

static double clamp_min(double v, double lo)
{
	return v < lo ? lo : v;
}

/* A quiet container: a few processes, almost no CPU. */
static void gen_idle(struct scenario *s, struct rng *r)
{
	for (size_t i = 0; i < s->n_steps; i++) {
		s->demand[i].cpu_cores = 0.02 + 0.01 * fabs(rng_normal(r));
		s->demand[i].mem_mb = 220.0 + 3.0 * rng_normal(r);
		s->demand[i].nr_procs = 12;
	}
}

/* Busy but healthy: AR(1) noise around 45 % of 2 cores, memory wobbling near 900 MiB. */
static void gen_steady_noisy(struct scenario *s, struct rng *r)
{
	double x = 0, y = 0;
	for (size_t i = 0; i < s->n_steps; i++) {
		x = 0.9 * x + sqrt(0.19) * rng_normal(r);
		y = 0.98 * y + sqrt(1 - 0.98 * 0.98) * rng_normal(r);
		s->demand[i].cpu_cores = clamp_min(0.9 + 0.22 * x, 0.05);
		s->demand[i].mem_mb = 900.0 + 60.0 * y;
		s->demand[i].nr_procs = (uint32_t)(90 + lround(4.0 * rng_normal(r)));
	}
}

/* Two days of a daily curve peaking at noon above the initial 2 cores; each incident is
 * the span where the noise-free curve is above the initial allocation. */
static void gen_diurnal(struct scenario *s, struct rng *r)
{
	const double base = 1.2, amp = 1.4, day = 24.0 * HOUR_MS;
	bool above = false;
	int64_t start = 0;
	for (size_t i = 0; i < s->n_steps; i++) {
		int64_t t = step_time(s, i) - s->start_ms;
		double phase = 2.0 * M_PI * ((double)t - 6.0 * HOUR_MS) / day;
		double smooth = base + amp * sin(phase);
		s->demand[i].cpu_cores = clamp_min(smooth + 0.08 * rng_normal(r), 0.05);
		s->demand[i].mem_mb = 1000.0 + 350.0 * sin(phase) + 10.0 * rng_normal(r);
		s->demand[i].nr_procs = (uint32_t)(100 + 60 * (1 + sin(phase)));
		bool now_above = smooth > s->init_cpu_cores;
		if (now_above && !above)
			start = step_time(s, i);
		if (!now_above && above)
			add_incident(s, INCIDENT_DIURNAL_PEAK, start, step_time(s, i), true);
		above = now_above;
	}
	if (above)
		add_incident(s, INCIDENT_DIURNAL_PEAK, start, step_time(s, s->n_steps), true);
}

/* Six CPU bursts, one per 2 h slot: 3–20 min at 2.5–3.8 cores on a 0.4-core base. */
static void gen_cpu_burst(struct scenario *s, struct rng *r)
{
	for (int k = 0; k < 6; k++) {
		int64_t slot = s->start_ms + k * 2 * HOUR_MS;
		int64_t start = slot + (int64_t)rng_range(r, 20, 80) * MIN_MS;
		int64_t len = (int64_t)rng_range(r, 3, 20) * MIN_MS;
		add_incident(s, INCIDENT_CPU_BURST, start, start + len, true);
	}
	double level[6];
	for (int k = 0; k < 6; k++)
		level[k] = rng_range(r, 2.5, 3.8);
	for (size_t i = 0; i < s->n_steps; i++) {
		int inc = scenario_incident_at(s, step_time(s, i));
		double cpu = 0.4 + 0.05 * rng_normal(r);
		if (inc >= 0)
			cpu = level[inc] + 0.15 * rng_normal(r);
		s->demand[i].cpu_cores = clamp_min(cpu, 0.05);
		s->demand[i].mem_mb = 700.0 + 8.0 * rng_normal(r);
		s->demand[i].nr_procs = inc >= 0 ? 140 : 90;
	}
}

/* Three leaks on a 600 MiB base: slow (10 MiB/min, 150 min, ends in the swap band),
 * medium (40 MiB/min, 60 min) and fast (150 MiB/min, 20 min): the last two OOM at 2 GiB.
 * Each leak ends with a fix that returns memory to the base. */
static void gen_memory_leak(struct scenario *s, struct rng *r)
{
	static const double rate[3] = { 10.0, 40.0, 150.0 };
	static const int minutes[3] = { 150, 60, 20 };
	int64_t slot0 = s->start_ms;
	for (int k = 0; k < 3; k++) {
		int64_t start = slot0 + k * 4 * HOUR_MS + (int64_t)rng_range(r, 15, 45) * MIN_MS;
		add_incident(s, INCIDENT_MEM_LEAK, start, start + minutes[k] * MIN_MS, true);
	}
	for (size_t i = 0; i < s->n_steps; i++) {
		int64_t t = step_time(s, i);
		int inc = scenario_incident_at(s, t);
		double mem = 600.0 + 5.0 * rng_normal(r);
		if (inc >= 0)
			mem += rate[inc] * (double)(t - s->incidents[inc].start_ms) / MIN_MS;
		s->demand[i].mem_mb = mem;
		s->demand[i].cpu_cores = clamp_min(0.3 + 0.04 * rng_normal(r), 0.05);
		s->demand[i].nr_procs = 60;
	}
}

/* Three fork storms: processes jump to 1500–3000 in 30 s, each costs CPU and 0.8 MiB. */
static void gen_fork_storm(struct scenario *s, struct rng *r)
{
	double procs[3];
	for (int k = 0; k < 3; k++) {
		int64_t start = s->start_ms + k * 2 * HOUR_MS + (int64_t)rng_range(r, 20, 70) * MIN_MS;
		int64_t len = (int64_t)rng_range(r, 2, 7) * MIN_MS;
		add_incident(s, INCIDENT_FORK_STORM, start, start + len, true);
		procs[k] = rng_range(r, 1500, 3000);
	}
	for (size_t i = 0; i < s->n_steps; i++) {
		int64_t t = step_time(s, i);
		int inc = scenario_incident_at(s, t);
		double n = 60;
		if (inc >= 0) {
			double ramp = (double)(t - s->incidents[inc].start_ms) / 30000.0;
			n = 60 + (procs[inc] - 60) * (ramp < 1 ? ramp : 1);
		}
		double cpu = 0.3 + 0.04 * rng_normal(r) + (n - 60) * 0.0013;
		s->demand[i].cpu_cores = clamp_min(cpu, 0.05);
		s->demand[i].mem_mb = 500.0 + 4.0 * rng_normal(r) + (n - 60) * 0.8;
		s->demand[i].nr_procs = (uint32_t)n;
	}
}

/* Pressure without own usage: a steady 0.3-core container stalled 40–70 % of the time by
 * others during four 10–30 min windows. No resize relieves it. */
static void gen_noisy_neighbour(struct scenario *s, struct rng *r)
{
	double stall[4];
	for (int k = 0; k < 4; k++) {
		int64_t start = s->start_ms + k * 90 * MIN_MS + (int64_t)rng_range(r, 20, 60) * MIN_MS;
		int64_t len = (int64_t)rng_range(r, 10, 30) * MIN_MS;
		add_incident(s, INCIDENT_NEIGHBOUR, start, start + len, false);
		stall[k] = rng_range(r, 0.4, 0.7);
	}
	for (size_t i = 0; i < s->n_steps; i++) {
		int inc = scenario_incident_at(s, step_time(s, i));
		s->demand[i].cpu_cores = clamp_min(0.3 + 0.04 * rng_normal(r), 0.05);
		s->demand[i].mem_mb = 600.0 + 5.0 * rng_normal(r);
		s->demand[i].neighbour_stall = inc >= 0 ? stall[inc] + 0.05 * rng_normal(r) : 0.0;
		s->demand[i].nr_procs = 70;
	}
}

struct generator {
	const char *name;
	int hours;
	size_t max_incidents;
	void (*fn)(struct scenario *, struct rng *);
};

static const struct generator generators[] = {
	{ "idle", 6, 0, gen_idle },
	{ "steady_noisy", 6, 0, gen_steady_noisy },
	{ "diurnal", 48, 4, gen_diurnal },
	{ "cpu_burst", 12, 6, gen_cpu_burst },
	{ "memory_leak", 12, 3, gen_memory_leak },
	{ "fork_storm", 6, 3, gen_fork_storm },
	{ "noisy_neighbour", 6, 4, gen_noisy_neighbour },
};
#define N_GENERATORS (sizeof generators / sizeof generators[0])

size_t scenario_generated_count(void)
{
	return N_GENERATORS;
}

const char *scenario_generated_name(size_t i)
{
	return i < N_GENERATORS ? generators[i].name : NULL;
}

int scenario_generate(const char *name, uint64_t seed, struct scenario *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_GENERATORS; i++) {
		const struct generator *g = &generators[i];
		if (strcmp(g->name, name) != 0)
			continue;
		size_t n = (size_t)(g->hours * HOUR_MS / GEN_STEP_MS);
		if (scenario_alloc(out, g->name, (uint32_t)(101 + i), SCENARIO_START_MS, GEN_STEP_MS, n,
		                   g->max_incidents) != 0) {
			errbuf_set(err, errlen, "scenario %s: out of memory", name);
			return -1;
		}
		struct rng r;
		rng_seed(&r, seed, g->name);
		g->fn(out, &r);
		return 0;
	}
	errbuf_set(err, errlen, "unknown scenario '%s'", name);
	return -1;
}

const char *incident_kind_name(enum incident_kind k)
{
	switch (k) {
	case INCIDENT_CPU_BURST: return "cpu_burst";
	case INCIDENT_DIURNAL_PEAK: return "diurnal_peak";
	case INCIDENT_MEM_LEAK: return "memory_leak";
	case INCIDENT_FORK_STORM: return "fork_storm";
	case INCIDENT_NEIGHBOUR: return "noisy_neighbour";
	case INCIDENT_NAB_ANOMALY: return "nab_anomaly";
	}
	return "unknown";
}

int scenario_incident_at(const struct scenario *s, int64_t t_ms)
{
	for (size_t i = 0; i < s->n_incidents; i++)
		if (t_ms >= s->incidents[i].start_ms && t_ms < s->incidents[i].end_ms)
			return (int)i;
	return -1;
}

void scenario_free(struct scenario *s)
{
	free(s->demand);
	free(s->incidents);
	s->demand = NULL;
	s->incidents = NULL;
	s->n_steps = 0;
	s->n_incidents = 0;
}

/* ---- NAB ------------------------------------------------------------------------------ */

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" as UTC → ms since the epoch. */
static int parse_nab_time(const char *s, int64_t *out_ms)
{
	int Y, M, D, h, m, sec, used = 0;
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &used) != 6)
		return -1;
	if (Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 ||
	    h < 0 || m < 0 || sec < 0)
		return -1;
	const char *rest = s + used;
	if (*rest == '.') {
		rest++;
		while (*rest >= '0' && *rest <= '9')
			rest++;
	}
	if (*rest != '\0' && *rest != '\r' && *rest != '\n')
		return -1;
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
	                 .tm_hour = h, .tm_min = m, .tm_sec = sec };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out_ms = (int64_t)t * 1000;
	return 0;
}

struct nab_point {
	int64_t t_ms;
	double value;
};

#define NAB_MAX_POINTS 1000000

static int read_nab_csv(const char *path, struct nab_point **pts, size_t *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[256];
	size_t cap = 0, cnt = 0, lineno = 0;
	struct nab_point *p = NULL;
	int rc = -1;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			errbuf_set(err, errlen, "%s:%zu: line too long", path, lineno);
			goto out;
		}
		if (lineno == 1 && strncmp(line, "timestamp", 9) == 0)
			continue;
		if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0')
			continue;
		char *comma = strchr(line, ',');
		if (!comma) {
			errbuf_set(err, errlen, "%s:%zu: expected 'timestamp,value'", path, lineno);
			goto out;
		}
		*comma = '\0';
		struct nab_point pt;
		if (parse_nab_time(line, &pt.t_ms) != 0) {
			errbuf_set(err, errlen, "%s:%zu: bad timestamp '%s'", path, lineno, line);
			goto out;
		}
		char *end;
		errno = 0;
		pt.value = strtod(comma + 1, &end);
		while (*end == '\r' || *end == '\n' || *end == ' ')
			end++;
		if (errno || end == comma + 1 || *end != '\0' || !isfinite(pt.value) || pt.value < 0 ||
		    pt.value > 100.0) {
			errbuf_set(err, errlen, "%s:%zu: bad value (want a percentage 0..100)", path, lineno);
			goto out;
		}
		if (cnt > 0 && pt.t_ms <= p[cnt - 1].t_ms) {
			errbuf_set(err, errlen, "%s:%zu: timestamps must increase", path, lineno);
			goto out;
		}
		if (cnt == cap) {
			if (cap >= NAB_MAX_POINTS) {
				errbuf_set(err, errlen, "%s: more than %d points", path, NAB_MAX_POINTS);
				goto out;
			}
			size_t ncap = cap ? cap * 2 : 1024;
			struct nab_point *np = realloc(p, ncap * sizeof *np);
			if (!np) {
				errbuf_set(err, errlen, "%s: out of memory", path);
				goto out;
			}
			p = np;
			cap = ncap;
		}
		p[cnt++] = pt;
	}
	if (ferror(f)) {
		errbuf_set(err, errlen, "%s: read error", path);
		goto out;
	}
	if (cnt < 2) {
		errbuf_set(err, errlen, "%s: fewer than 2 points", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	if (rc == 0) {
		*pts = p;
		*n = cnt;
	} else {
		free(p);
	}
	return rc;
}

static int load_windows(const char *windows_json, const char *key, struct scenario *s,
                        char *err, size_t errlen)
{
	json_object *root = json_object_from_file(windows_json);
	if (!root) {
		errbuf_set(err, errlen, "%s: cannot read or parse JSON", windows_json);
		return -1;
	}
	int rc = -1;
	json_object *arr;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, key, &arr) || !json_object_is_type(arr, json_type_array)) {
		errbuf_set(err, errlen, "%s: no window list for '%s'", windows_json, key);
		goto out;
	}
	size_t n = json_object_array_length(arr);
	s->incidents = calloc(n ? n : 1, sizeof *s->incidents);
	if (!s->incidents) {
		errbuf_set(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *w = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(w, json_type_array) || json_object_array_length(w) != 2) {
			errbuf_set(err, errlen, "%s: '%s' window %zu is not [start, end]", windows_json, key, i);
			goto out;
		}
		int64_t t[2];
		for (int j = 0; j < 2; j++) {
			json_object *v = json_object_array_get_idx(w, (size_t)j);
			if (!json_object_is_type(v, json_type_string) ||
			    parse_nab_time(json_object_get_string(v), &t[j]) != 0) {
				errbuf_set(err, errlen, "%s: '%s' window %zu: bad time", windows_json, key, i);
				goto out;
			}
		}
		if (t[1] <= t[0]) {
			errbuf_set(err, errlen, "%s: '%s' window %zu ends before it starts", windows_json, key, i);
			goto out;
		}
		/* NAB windows are inclusive of their end point; ours are [start, end) */
		add_incident(s, INCIDENT_NAB_ANOMALY, t[0], t[1] + 1, true);
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

int scenario_load_nab(const char *csv_path, const char *windows_json, uint32_t vmid,
                      struct scenario *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct nab_point *pts = NULL;
	size_t n = 0;
	if (read_nab_csv(csv_path, &pts, &n, err, errlen) != 0)
		return -1;

	const char *base = strrchr(csv_path, '/');
	base = base ? base + 1 : csv_path;
	char name[SCENARIO_NAME_MAX];
	const char *id = base;
	if (strncmp(id, "ec2_cpu_utilization_", 20) == 0)
		id += 20;
	snprintf(name, sizeof name, "nab_%.*s", (int)strcspn(id, "."), id);

	int64_t span = pts[n - 1].t_ms - pts[0].t_ms;
	size_t steps = (size_t)(span / NAB_STEP_MS) + 1;
	if (scenario_alloc(out, name, vmid, pts[0].t_ms, NAB_STEP_MS, steps, 0) != 0) {
		free(pts);
		errbuf_set(err, errlen, "%s: out of memory", csv_path);
		return -1;
	}
	free(out->incidents);
	out->incidents = NULL;
	if (load_windows(windows_json, base, out, err, errlen) != 0) {
		free(pts);
		scenario_free(out);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < steps; i++) {
		int64_t t = step_time(out, i);
		while (k + 1 < n && pts[k + 1].t_ms <= t)
			k++;
		double v = pts[k].value;
		if (k + 1 < n) {
			double f = (double)(t - pts[k].t_ms) / (double)(pts[k + 1].t_ms - pts[k].t_ms);
			v += f * (pts[k + 1].value - pts[k].value);
		}
		out->demand[i].cpu_cores = v / 100.0 * NAB_REF_CORES;
		out->demand[i].mem_mb = 768.0;
		out->demand[i].nr_procs = 120;
	}
	free(pts);
	return 0;
}

int scenario_shared_dir(char *buf, size_t len)
{
	struct stat st;
	const char *env = getenv("LXCSCALE_SHARED");
	if (env && *env && stat(env, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(buf, len, "%s", env);
		return 0;
	}
	env = getenv("LXCSCALE_TOP");
	if (env && *env) {
		snprintf(buf, len, "%s/../shared", env);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	snprintf(buf, len, "/work/shared");
	if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return -1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int scenario_nab_files(const char *nab_dir, char (*names)[NAB_FILE_MAX], size_t max)
{
	DIR *d = opendir(nab_dir);
	if (!d)
		return -1;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < max) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "ec2_cpu_utilization_", 20) != 0 || len < 4 || len >= NAB_FILE_MAX ||
		    strcmp(e->d_name + len - 4, ".csv") != 0)
			continue;
		memcpy(names[n++], e->d_name, len + 1);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_name);
	return (int)n;
}
