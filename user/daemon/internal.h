/*
 * daemon/internal.h — the daemon's internal state, shared by its files:
 *   daemon/daemon.c     set-up, tear-down, containers coming and going, event fds, commands
 *   daemon/tick.c       sampling, evaluation, the tick, metrics, systemd status
 *   daemon/emit.c       a granted decision: log line, suggestions, record, actuation, publication
 *   daemon/actuation.c  actuation (journal, actuator, persister) and Proxmox config reads
 *   daemon/backend.c    the REST API's backend: snapshots published each tick, manual limits
 * Nothing outside user/daemon/ includes this.
 */
#ifndef LXCSCALE_DAEMON_INT_H
#define LXCSCALE_DAEMON_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "act/act.h"
#include "base/cmdq.h"
#include "base/loop.h"
#include "cgroup.h"
#include "collect/bpf_loader.h"
#include "collect/ctextra.h"
#include "collect/sampler.h"
#include "compat/metrics_writer.h"
#include "compat/suggestions.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/publish.h"
#include "decide/evaluate.h"
#include "decide/policy.h"
#include "features/features.h"
#include "iforest.h"
#include "pve/cfgread.h"
#include "record/recorder.h"
#include "score/model.h"

#define EVENT_DEBOUNCE_MS 20      /* an event re-samples a container at most this often */
#define SCHED_NONE (-2)           /* ct->sched_list: on no list (removed) */
#define SCHED_HOT (-1)            /* ct->sched_list: on the hot list */
#define STATUS_EVERY_MS 5000      /* systemd STATUS= */
#define TRIM_EVERY_MS 60000       /* malloc_trim: give freed heap pages back */
#define HOT_HOLD_MS 5000          /* a container stays hot this long after its last hot sign */
#define HOT_NEAR 0.8              /* usage above this share of a scale-up threshold is hot */
#define IDLE_CPU_PCT 2.0          /* CPU use (% of the allocation) under which a container may be idle */
/* How often a container's files are read, what is carried over: collect/sampler.h. */

struct ct {
	struct daemon *d;
	uint32_t vmid;
	cg_ct *cg;
	uint64_t cgid;
	struct feat_history *hist;
	struct policy_state pol;
	struct ctextra extra;
	struct model_ct *mct;
	struct alloc alloc;
	bool have_raw;               /* sampled once: features_history_raw(hist) is the newest */

	struct oom_tracker oom;      /* OOM kills taken by its last evaluation */
	struct sampler_bpf bpf;      /* what BPF reported of it (drain_bpf, the ring's OOM kills) */
	bool cpu_from_bpf;           /* its last sample took cpu.stat as unchanged from BPF */

	int64_t last_train_ms, last_sample_ms, budget_log_ms;
	/* Sampling schedule (daemon/tick.c): on the hot list (read every tick) while
	 * now < hot_until_ms or it is new, else on the wheel, read on the ticks where
	 * (tick number + slot) is a multiple of its period in ticks (quiet or idle). */
	int64_t hot_until_ms;
	uint32_t slot;
	bool idle;                   /* the last evaluation saw nothing going on */
	int32_t sched_list;          /* SCHED_NONE, SCHED_HOT or a wheel bucket */
	struct ct *sched_prev, *sched_next;
	/* Limit files (cpu.max, memory.max...) are read at the first sample, while hot, after
	 * our own write (limits.stale) and every LIMITS_EVERY_SAMPLES-th sample otherwise;
	 * between two such reads their values are carried over from the last one. */
	struct sampler_limits_cache limits;
	uint8_t psi_carried;         /* samples in a row that carried pressure over */
	int psi_fd[2];               /* [0] memory some, [1] cpu some; -1 when none */
	int mev_fd;                  /* memory.events (owned by cg), -1 when none */
	bool gone;

	bool scored;
	iforest_result score;
	struct decision *last;       /* the newest decision, NULL before the first (most never get one) */

	/* allocation from the Proxmox config (0 = not known: cgroup limits, then assumed_*) */
	double cfg_cores, cfg_ram_mb;
	/* changes applied to it so far: the tag of each config read asked, so an answer read
	 * before a newer change was persisted (it would hand back the old allocation and the
	 * policy would decide the same change again) is dropped */
	uint64_t alloc_changes;
	uint64_t last_change_seq;    /* journal seq of the newest change applied (0: none) */
	/* a change applied and not yet persisted: until its persist (which reads the config
	 * again) a read for any other reason would hand back the config from before it */
	bool persist_pending;
	/* a memory shrink in progress toward this size (0: none): the allocation the policy sees
	 * meanwhile, so it does not decide the same shrink again and restart it every cooldown */
	double shrink_to_mb;
	char name[64];               /* hostname from the Proxmox config; "" until read */
	/* What its Proxmox config's tags say (daemon/actuation.c, each config read): tags.ignore
	 * leaves it alone; <tags.tier_prefix><name> picks tiers.<name> (tag_tier, -1: none or
	 * no such tier) unless a tier's containers list names it (daemon_ct_tier). */
	bool tag_ignored;
	int tag_tier;
	char tag_tier_name[CFG_TIER_NAME_MAX]; /* the tier the tag asked for, found or not */
	/* its <persist.config_dir>/<vmid>.conf as last seen (daemon/actuation.c): a change asks
	 * for a read; conf_recent, a change in the same second as the look, asks again at the
	 * next look (a second write within that second leaves mtime and maybe size alone) */
	bool conf_seen, conf_recent;
	int64_t conf_mtime_ns, conf_size;
	uint64_t conf_ino;
	int64_t next_reread_ms;      /* persist.reread_seconds: the next read asked anyway */
	double psi_avg10[3];         /* cpu, memory, io: PSI some avg10 of the last sample */
	double psi_full_avg10[3];    /* and full */
	double runq_p99_max_us;      /* BPF's worst run-queue p99 since the last history point */
	int64_t last_hist_ms;        /* last point published to the API's history */
	bool pub_stale;              /* read, scored, decided or renamed since its last publication */
	int64_t psi_event_ms[2];     /* last PSI event published (memory, cpu) */
	/* the first event since the last decision (daemon_note_wake): the next policy decision
	 * within DECISION_WAKE_HOLD_MS names it and says how long after it came */
	enum decision_wake wake;
	uint64_t wake_ns;            /* monotonic */
};

#define DAEMON_DECISIONS_KEPT 1024 /* the API's decision history (and read back at start) */

struct daemon {
	const struct lxcscale_config *cfg;
	struct daemon_opts opts;
	struct loop *loop;

	cg_hier *hier;
	cg_ctset *ctset;
	regex_t id_re;
	bool id_re_ok;

	struct ct **cts;             /* sorted by vmid */
	size_t n_cts, cap_cts;
	struct ct **cgid_tab;        /* by cgroup id (daemon_find_cgid), cgid_cap a power of 2 */
	size_t cgid_n, cgid_cap;
	struct ct **dead;            /* removed, freed at the next tick */
	size_t n_dead, cap_dead;

	struct feat_select sel;
	struct policy_tier tiers[CFG_TIERS_MAX];
	struct policy_config pc;
	struct sampler_opts sopts;
	struct ctextra_roots roots;

	struct model *model;
	struct metrics_writer *mw;
	struct suggestions *sugg;
	struct recorder *rec;        /* record_file: every sample and decision, for replay */
	struct cmdq *cmdq;
	struct lxs_bpf *bpf;
	int64_t bpf_drain_ms;        /* monotonic ms of the last BPF drain (its interval) */
	uint64_t last_tick_ns, late_warned_ns; /* when the last tick began; the last late-tick warning */
	struct sampler_bpf_host bpf_drains; /* drains run, the last that failed, CPU counted */
	struct lxs_ct_delta *deltas;
	size_t deltas_cap;

	int timer_id;
	daemon_apply_fn apply;
	void *apply_ctx;
	uint64_t seq;
	uint64_t tick_no;            /* ticks run; with ct->slot, which quiet containers are due */
	uint32_t next_slot;          /* handed to containers as they come, spreading them */
	struct ct *hot;              /* containers read every tick (ct->sched_*) */
	struct ct **buckets;         /* the wheel: waiting containers by their next due tick */
	uint32_t n_buckets;          /* = idle_ticks when the wheel was made */
	uint32_t quiet_ticks, idle_ticks; /* the quiet and idle periods in ticks */
	struct ct **due;             /* the tick's containers to read */
	size_t due_cap;
	struct decision *props;      /* the tick's wishes */
	size_t props_cap;

	/* actuation (daemon/actuation.c); NULL in dry run */
	struct actuate *act;
	struct actuator_outcome last_outcome; /* of the last decision handed to the actuator */
	struct cfgread *cfgr;        /* Proxmox config reader; NULL when pct / the API is absent */
	struct daemon_pub *pub;      /* what the REST API reads (daemon/backend.c) */
	struct api_health health;    /* /health/check's daemon parts, published on each change */
	bool pub_dirty;              /* a decision, a container came or went: republish at once */
	int64_t next_pub_ms;         /* the container list's next periodic publication */

	double host_cpus, host_ram_mb;
	int64_t alloc_ucores, alloc_ram_kib; /* sum of the known allocations (daemon_budget) */
	int64_t next_metrics_ms, next_status_ms, next_trim_ms, next_conf_look_ms;
	uint64_t metrics_cpu_ns_mark;
	int64_t metrics_wall_mark_ms;
	struct daemon_stats st;
};

int64_t daemon_mono_ms(void);
uint64_t daemon_mono_ns(void);
int64_t daemon_wall_ms(void);

/* daemon/daemon.c */
/* Sets one /health/check part ("cgroup", "bpf", "journal", "persist") and publishes it. */
void daemon_health(struct daemon *d, const char *name, enum api_health_state state, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct ct *daemon_find(struct daemon *d, uint32_t vmid);
/* What applies to a container: ignore_lxc or its tags.ignore tag; its tier (the config's
 * tier lists first, then its tier tag; -1: none) and that tier's params and scaling. */
bool daemon_ct_ignored(const struct daemon *d, const struct ct *ct);
const char *daemon_ct_ignored_why(const struct daemon *d, const struct ct *ct); /* NULL: not */
int daemon_ct_tier(const struct daemon *d, const struct ct *ct);
const struct policy_params *daemon_ct_params(const struct daemon *d, const struct ct *ct);
const struct cfg_scaling *daemon_ct_scaling(const struct daemon *d, const struct ct *ct);
struct ct *daemon_find_cgid(struct daemon *d, uint64_t cgid);
void daemon_remove_ct(struct daemon *d, struct ct *ct);
void daemon_free_dead(struct daemon *d);

/* daemon/tick.c */
bool daemon_sample_ct(struct daemon *d, struct ct *ct, int64_t now_ms);
bool daemon_evaluate_ct(struct daemon *d, struct ct *ct, int64_t now_ms, struct decision *out);
void daemon_mark_hot(struct ct *ct, int64_t now_ms);
void daemon_sched_add(struct daemon *d, struct ct *ct);
void daemon_sched_remove(struct daemon *d, struct ct *ct);
void daemon_evaluate_now(struct daemon *d, struct ct *ct, bool force);
/* An event for the container came: remember it as what woke the next decision, unless an
 * earlier one within DECISION_WAKE_HOLD_MS is still waiting. */
void daemon_note_wake(struct ct *ct, enum decision_wake why);
void daemon_budget(struct daemon *d, struct policy_budget *b);
void daemon_budget_track(struct daemon *d, const struct alloc *a, int sign); /* +1 add, -1 remove */

/* daemon/actuation.c */
void daemon_act_tick(struct daemon *d);          /* shrinks, config answers */
void daemon_act_ct_added(struct daemon *d, struct ct *ct);
void daemon_act_alloc(const struct ct *ct, struct alloc *a, struct feat_raw *raw);
void daemon_act_stop(struct daemon *d);
int daemon_start_config_reads(struct daemon *d);

/* daemon/backend.c */
void daemon_publish(struct daemon *d, int64_t now_ms);
void daemon_publish_psi(struct daemon *d, struct ct *ct, int which, int64_t now_ms);
void daemon_publish_oom(struct daemon *d, struct ct *ct, uint64_t kills, const char *source);

#endif
