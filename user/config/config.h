/*
 * config/config.h — lxcscale's configuration: one typed struct, filled through one schema table.
 *
 * The schema (config/schema.c) lists every key once: dotted name, type, default, range,
 * flags and description. The YAML loader, the flag overrides, `lxcscaled --print-config`,
 * the README key table and every error message are driven by that table, so the code, the
 * documentation and the diagnostics cannot disagree.
 *
 * Loading is in steps so the daemon can build a config from several sources and keep the
 * running one when a reload fails:
 *
 *     struct lxcscale_config *c = config_new();          // embedded defaults
 *     config_load_file(c, "/etc/lxcscale/lxcscale.yaml", &d);
 *     config_load_file(c, api_yaml, &d);                 // the reference API file, same struct
 *     config_set(c, "model.contamination", "0.1", "--contamination", &d);
 *     if (config_finalize(c, &d) != 0) ...               // cross-key rules, tier merge
 *
 * Every step adds messages to a `struct config_diag` ("file:line:col: error: ...") and the
 * result is usable only when diag.errors == 0 after config_finalize().
 *
 * Reading values: plain fields (`c->scaling.max_cpu_cores`, `c->psi.window_ms`, ...).
 * Per-container scaling limits (tiers): config_scaling_for(c, vmid).
 * Strings are fixed-size arrays (never NULL, "" when unset), so a config is a value: copy
 * it with `*dst = *src`, free it with config_free(). It is large (about 230 KiB with the
 * tier tables): allocate it with config_new(), never on the stack.
 * The functions below keep no global state; each config is used from one thread at a time.
 *
 * Folder: config/ owns the configuration: schema, loading, cross-key rules, printing.
 * May include: types/ base/ (the table in user/README.md).
 */
#ifndef LXCSCALE_CONFIG_H
#define LXCSCALE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_STR_MAX 512       /* longest string value + 1 (paths, URLs, tokens) */
#define CFG_LIST_MAX 64       /* entries in a list of strings */
#define CFG_LIST_STR_MAX 256  /* longest list entry + 1 (API keys, feature names) */
#define CFG_VMID_MAX 1024     /* entries in a list of container ids */
#define CFG_TIERS_MAX 32
#define CFG_TIER_NAME_MAX 64
#define CFG_VMID_MIN 100u     /* Proxmox's vmid range */
#define CFG_VMID_LIMIT 999999999u

#define CONFIG_DEFAULT_PATH "/etc/lxcscale/lxcscale.yaml"
#define CONFIG_REFERENCE_PATH "/etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml"
#define CONFIG_REFERENCE_API_PATH "/etc/lxc_autoscale_ml/lxc_autoscale_api.yaml"
#define CONFIG_REFERENCE_MONITOR_PATH "/etc/lxc_autoscale_ml/lxc_monitor.yaml"

/* Whose file a configuration file is, told by its name (config_file_kind). A reference file
 * is read as the reference read it: a legacy key that the reference itself ignores
 * (CFG_F_LEGACY) is ignored there too, with a warning; in lxcscale's own file it is
 * honoured. */
enum cfg_file_kind {
	CFG_FILE_OWN = 0,        /* lxcscale.yaml, or any other name */
	CFG_FILE_REF_ML,         /* lxc_autoscale_ml.yaml: the reference's model service */
	CFG_FILE_REF_API,        /* lxc_autoscale_api.yaml: its API service */
	CFG_FILE_REF_MONITOR,    /* lxc_monitor.yaml: its monitor service */
};

/* log levels, in the order of the `log_level` choices (base/log.h uses the same numbers) */
enum cfg_log_level { CFG_LOG_DEBUG = 0, CFG_LOG_INFO, CFG_LOG_WARNING, CFG_LOG_ERROR, CFG_LOG_CRITICAL };
enum cfg_persist_backend { CFG_PERSIST_PCT = 0, CFG_PERSIST_API };

struct cfg_strlist {
	int n;
	char v[CFG_LIST_MAX][CFG_LIST_STR_MAX];
};

struct cfg_vmlist {
	int n;
	uint32_t v[CFG_VMID_MAX]; /* sorted ascending, no duplicates */
};

/* The scaling policy's limits: global in `scaling.*`, overridable per tier. */
struct cfg_scaling {
	/* reference keys */
	int max_cpu_cores, min_cpu_cores;
	int max_ram_mb, min_ram_mb;
	int cpu_scale_step;           /* cores per decision */
	int ram_scale_step_mb;        /* MiB per decision */
	double cpu_scale_up_threshold, cpu_scale_down_threshold;  /* % of the allocation */
	double ram_scale_up_threshold, ram_scale_down_threshold;
	double min_confidence;        /* 0..100: act only when the model is at least this sure */
	bool dry_run;
	/* legacy reference keys with a meaning here */
	double target_cpu_load_percent; /* >0: scale-up sized to bring usage to this % */
	int ram_chunk_size;           /* smallest memory step, MiB; 0 = none */
	int ram_upper_limit;          /* largest memory step, MiB; 0 = no limit */
	/* lxcscale's */
	int cooldown_up_seconds, cooldown_down_seconds;
	double smoothing_factor;      /* EWMA weight of the newest sample, 0 < a <= 1 */
	int memory_headroom_mb;       /* memory.max never below memory.current + this */
	int memory_shrink_step_mb;    /* memory.high lowered by at most this per step */
};

/* Host-wide budget: not overridable per tier. */
struct cfg_host {
	int total_cores;              /* legacy scaling.total_cores: 0 = this host's CPUs */
	int total_ram_mb;             /* legacy scaling.total_ram_mb: 0 = this host's MemTotal */
	int reserve_cpu_cores;        /* kept for the host, never given to containers */
	int reserve_memory_mb;
};

/* Where a value came from, for messages ("file:line:col" or "--flag"). */
struct cfg_mark {
	uint8_t source;               /* CFG_SRC_* */
	uint8_t file;                 /* index into meta.files when source is FILE */
	uint8_t via_alias;            /* set through an alias key (an explicit key wins) */
	uint32_t line, column;        /* 1-based */
};
enum { CFG_SRC_DEFAULT = 0, CFG_SRC_FILE, CFG_SRC_FLAG };

#define CFG_TIER_KEYS_MAX 64

struct cfg_tier {
	char name[CFG_TIER_NAME_MAX];
	struct cfg_vmlist containers;
	struct cfg_scaling scaling;   /* effective (global + overrides) after config_finalize */
	struct cfg_scaling overrides; /* the values written in the tier */
	uint64_t set_mask;            /* bit i: tier-able key i was given (config_tier_key) */
	struct cfg_mark where;        /* the tier's name in the file */
	struct cfg_mark containers_mark;
	struct cfg_mark mark[CFG_TIER_KEYS_MAX];
};


#define CFG_KEYS_MAX 256
#define CFG_FILES_MAX 4

struct cfg_meta {
	char files[CFG_FILES_MAX][CFG_STR_MAX]; /* config files loaded, in order */
	uint8_t kind[CFG_FILES_MAX];            /* enum cfg_file_kind of each */
	int n_files;
	struct cfg_mark mark[CFG_KEYS_MAX];     /* per schema index */
	char flag[CFG_KEYS_MAX][24];            /* the flag that set a key, if any */
};

struct lxcscale_config {
	/* top level (reference ML file) */
	char log_file[CFG_STR_MAX];
	int log_level;                /* enum cfg_log_level */
	char lock_file[CFG_STR_MAX];
	char data_file[CFG_STR_MAX];  /* reference-format metrics file we write */
	int interval_seconds;         /* full model rebuild / suggestion cycle */
	int max_metrics_age_seconds;  /* 0 = 3 x interval_seconds */
	struct cfg_vmlist ignore_lxc;

	/* lxcscale's top-level */
	int sample_interval_ms;
	int history_length;           /* samples kept per container */
	int metrics_interval_seconds; /* data_file write period, 0 = never */
	char model_file[CFG_STR_MAX];
	char suggestions_file[CFG_STR_MAX];
	char journal_file[CFG_STR_MAX];
	char record_file[CFG_STR_MAX];
	char state_dir[CFG_STR_MAX];

	struct cfg_scaling scaling;
	struct cfg_host host;

	struct {
		double contamination;
		int n_estimators, max_samples, random_state;
		int window;               /* training samples per container */
		int rebuild_every;        /* samples between incremental tree replacements */
		bool per_container;
		bool force_save;
		struct cfg_strlist features; /* empty = the built-in feature set */
	} model;

	struct {
		double spike_threshold;
		int rolling_window;
	} spike_detection;

	struct {
		bool include_io_activity, include_network_activity;
	} feature_engineering;

	struct {
		bool enabled;
		int failure_threshold, timeout_seconds;
	} circuit_breaker;

	struct {
		char mount[CFG_STR_MAX];  /* "" = auto */
		char root[CFG_STR_MAX];   /* "" = auto ("lxc" when present) */
		char id_pattern[CFG_STR_MAX]; /* POSIX ERE a container directory must match */
		double assumed_cores;     /* allocation of a container without CPU limits, 0 = unknown */
		int assumed_ram_mb;       /* same for memory.max */
		int quiet_sample_interval_ms; /* a quiet container's sampling period; 0: every tick */
		int idle_sample_interval_ms;  /* an idle one's; 0 (or <= quiet): as a quiet one */
	} cgroup;

	struct {
		int window_ms, cpu_stall_ms, memory_stall_ms;
	} psi;

	struct {
		bool enabled;
		char pin_path[CFG_STR_MAX];
		int runq_threshold_us, reclaim_threshold_us, events_per_second;
	} bpf;

	struct {
		int backend;              /* enum cfg_persist_backend */
		char pct_path[CFG_STR_MAX];
		int timeout_seconds, debounce_ms, max_retries, retry_base_ms;
		char config_dir[CFG_STR_MAX]; /* Proxmox's <vmid>.conf folder, watched for changes */
		int reread_seconds;       /* every container's config read again this often; 0: never */
	} persist;

	struct {
		char ignore[CFG_STR_MAX];      /* a container with this Proxmox tag is left alone */
		char tier_prefix[CFG_STR_MAX]; /* tag <prefix><tier> puts it in tiers.<tier> */
	} tags;

	struct {
		char url[CFG_STR_MAX], node[CFG_STR_MAX];
		char token_id[CFG_STR_MAX], token_secret[CFG_STR_MAX], ca_file[CFG_STR_MAX];
		bool verify_tls;
	} proxmox_api;

	struct {
		char webhook_url[CFG_STR_MAX], gotify_url[CFG_STR_MAX], gotify_token[CFG_STR_MAX];
		char uptime_kuma_url[CFG_STR_MAX];
	} notifications;

	/* our REST API (the reference API file's keys below feed it too) */
	struct {
		bool enabled;
		char tls_cert[CFG_STR_MAX], tls_key[CFG_STR_MAX];
		int max_body_bytes;
		bool ui;                  /* the dashboard under /ui/ */
	} api;

	struct { char host[CFG_STR_MAX]; int port; } server;
	struct { char node[CFG_STR_MAX]; int timeout_seconds; } lxc;
	struct { bool enabled; int max_requests_per_minute, time_window_seconds; } rate_limiting;
	struct { bool enabled; struct cfg_strlist api_keys; } authentication;
	struct { bool show_stack_traces, log_errors, notify_on_critical_errors; } error_handling;
	struct { bool rotate; int max_log_size_mb, backup_count; } logging;

	struct cfg_tier tiers[CFG_TIERS_MAX];
	int n_tiers;

	struct cfg_meta meta;
};

/* ---- the schema ------------------------------------------------------------------------ */

enum cfg_type {
	CFG_BOOL = 0,
	CFG_INT,      /* int */
	CFG_DOUBLE,   /* double */
	CFG_STRING,   /* char[CFG_STR_MAX] */
	CFG_ENUM,     /* int index into `choices` ("a|b|c") */
	CFG_STRLIST,  /* struct cfg_strlist */
	CFG_VMLIST,   /* struct cfg_vmlist: strings or integers, normalised to vmids */
	CFG_TIERS,    /* the `tiers` map */
	CFG_IGNORED,  /* legacy/foreign: accepted, one warning, no field */
};

enum cfg_flag {
	CFG_F_SECRET = 1u << 0,      /* never printed or logged: shown as *** */
	CFG_F_LEGACY = 1u << 1,      /* a reference key kept for compatibility (honoured) */
	CFG_F_TIER = 1u << 2,        /* may be overridden per tier (scaling.* only) */
	CFG_F_GT0 = 1u << 3,         /* number must be > 0 ("must be greater than 0") */
	CFG_F_PATH = 1u << 4,        /* string must be empty or an absolute path */
	CFG_F_URL = 1u << 5,         /* string must be empty or start with http:// or https:// */
	CFG_F_ICASE = 1u << 6,       /* enum choices match case-insensitively */
	CFG_F_PREFIX = 1u << 7,      /* CFG_IGNORED entry matching every key under "key." */
	CFG_F_REGEX = 1u << 8,       /* string must compile as a POSIX ERE */
	CFG_F_REF_ML = 1u << 9,      /* key of the reference lxc_autoscale_ml.yaml */
	CFG_F_REF_API = 1u << 10,    /* key of the reference lxc_autoscale_api.yaml */
	CFG_F_REQUIRED = 1u << 11,   /* string must not be empty */
	CFG_F_REF_MON = 1u << 12,    /* key of the reference lxc_monitor.yaml */
	CFG_F_MON_OWN = 1u << 13,    /* in lxc_monitor.yaml this key is the monitor's own: ignored there */
};

struct cfg_key {
	const char *key;          /* dotted: "scaling.min_cpu_cores" */
	enum cfg_type type;
	size_t offset;            /* into struct lxcscale_config */
	size_t size;              /* of the field, checked against the type by the tests */
	const char *def;          /* default, as YAML scalar text ("" for empty lists) */
	double min, max;          /* numbers: inclusive range; strings: unused */
	const char *choices;      /* CFG_ENUM: "pct|api" */
	unsigned flags;           /* enum cfg_flag */
	const char *alias;        /* when set: this key writes `alias`'s field (same unit) */
	const char *desc;         /* one line, for --print-config-table and the README */
	const char *ref_effect;   /* CFG_F_LEGACY: what the key would do in lxcscale, said when a
	                           * reference file sets it ("{}": the value as written) */
};

extern const struct cfg_key config_schema[];
extern const size_t config_schema_len;

const struct cfg_key *config_key(const char *dotted);       /* exact lookup, NULL if none */
int config_key_index(const struct cfg_key *k);
/* Index of a tier-able key among the tier-able keys (bit in cfg_tier.set_mask), -1 if none. */
int config_tier_key(const struct cfg_key *k);

/* The kind of a configuration file, from its base name: lxc_autoscale_ml, lxc_autoscale_api
 * or lxc_monitor, alone or followed by '.', '_' or '-' (lxc_monitor.yaml, the installer's
 * lxc_autoscale_ml.yaml.new, a copy named lxc_autoscale_ml_v1.yaml), is the reference's;
 * any other name is lxcscale's own. */
enum cfg_file_kind config_file_kind(const char *path);
/* "lxcscale's", "the reference's lxc_autoscale_ml.yaml", ... */
const char *config_file_kind_name(enum cfg_file_kind kind);

/* What becomes of key k written in a file of `kind`: used, or accepted and not used. */
enum cfg_use {
	CFG_USE_YES = 0,
	CFG_USE_UNUSED,        /* a CFG_IGNORED key: no meaning in lxcscale */
	CFG_USE_REF_IGNORES,   /* a legacy key in a reference file: the reference ignores it too */
	CFG_USE_MONITOR_OWN,   /* a CFG_F_MON_OWN key in lxc_monitor.yaml: the monitor's own setting */
};
/* Returns the use; for any but CFG_USE_YES writes why into `why` (one line, no location):
 * for CFG_USE_REF_IGNORES what the key would do in lxcscale with `value` (the YAML scalar as
 * written, or NULL for a non-scalar) and which key of lxcscale.yaml does it. */
enum cfg_use config_key_use(const struct cfg_key *k, enum cfg_file_kind kind, const char *value, char *why,
                            size_t len);
/* What legacy key k would do in lxcscale with `value` (as written; NULL: "its value"):
 * its ref_effect filled in ("set the host budget to 4 cores for all containers together"). */
void config_ref_effect(const struct cfg_key *k, const char *value, char *buf, size_t len);

/* ---- diagnostics ------------------------------------------------------------------------ */

#define CFG_DIAG_MAX 64
#define CFG_DIAG_LEN 512

enum { CFG_DIAG_ERROR = 0, CFG_DIAG_WARNING };

struct config_diag {
	int errors, warnings;
	int n;                        /* messages kept (the first CFG_DIAG_MAX) */
	struct { int severity; char text[CFG_DIAG_LEN]; } msg[CFG_DIAG_MAX];
};

/* text: "LOCATION: error: MESSAGE" / "LOCATION: warning: MESSAGE" */
void config_diag_print(const struct config_diag *d, FILE *to);
void config_diag_clear(struct config_diag *d);
/* The first message containing `needle`, or NULL. For tests and callers that inspect. */
const char *config_diag_find(const struct config_diag *d, const char *needle);

/* ---- loading ----------------------------------------------------------------------------- */

struct lxcscale_config *config_new(void);          /* defaults; NULL on ENOMEM */
void config_free(struct lxcscale_config *c);
void config_defaults(struct lxcscale_config *c);

/* Merge a YAML file (ours, or one of the reference's: lxc_autoscale_ml.yaml,
 * lxc_autoscale_api.yaml, lxc_monitor.yaml; config_file_kind tells them apart by name)
 * into c. Returns 0, or -1 when it added an error to d. */
int config_load_file(struct lxcscale_config *c, const char *path, struct config_diag *d);
/* Same, from memory; `name` is used in messages and gives the kind. */
int config_load_string(struct lxcscale_config *c, const char *name, const char *yaml,
                       size_t len, struct config_diag *d);
/* One key from text (a command-line flag): the same parser and rules as the file. */
int config_set(struct lxcscale_config *c, const char *dotted, const char *value,
               const char *flag, struct config_diag *d);
/* Cross-key rules and tier merge. Returns 0 when d has no errors at all. */
int config_finalize(struct lxcscale_config *c, struct config_diag *d);

/* The scaling limits that apply to a container (its tier's, or the global ones). */
const struct cfg_scaling *config_scaling_for(const struct lxcscale_config *c, uint32_t vmid);
/* The index in c->tiers of the first tier listing vmid, -1 when none does. */
int config_tier_of(const struct lxcscale_config *c, uint32_t vmid);
bool config_ignored(const struct lxcscale_config *c, uint32_t vmid);
const char *config_log_level_name(int level);

/* ---- output ------------------------------------------------------------------------------ */

/* room for any one value printed as YAML (the longest is a full list of strings) */
#define CFG_VALUE_TEXT_MAX (CFG_LIST_MAX * (CFG_LIST_STR_MAX * 4 + 4) + CFG_VMID_MAX * 12 + 64)

enum {
	CONFIG_PRINT_SECRETS = 1,  /* print secret values instead of *** (--print-config) */
	CONFIG_PRINT_OMIT_SECRETS = 8, /* config_print: secret keys as a comment line, no value */
	CONFIG_PRINT_COMMENTS = 2, /* a commented template (conf/lxcscale.yaml) */
	CONFIG_PRINT_NO_HEADER = 4, /* leave out the opening comment lines (the caller writes its own) */
};

/* The effective configuration as YAML that config_load_file() reads back. */
void config_print(const struct lxcscale_config *c, FILE *to, unsigned flags);
/* The same, with a note before a key's line: `note` returns text for key k (NULL: none),
 * printed as comment lines (one per '\n'-separated line) at the key's indent. */
typedef const char *(*config_note_fn)(const struct cfg_key *k, void *arg);
void config_print_noted(const struct lxcscale_config *c, FILE *to, unsigned flags, config_note_fn note,
                        void *arg);
/* One key's value as YAML text (secrets as *** unless CONFIG_PRINT_SECRETS). */
int config_format_value(const struct lxcscale_config *c, const struct cfg_key *k, char *buf,
                        size_t len, unsigned flags);
/* Calls fn for every key whose value differs (values as printed, secrets as ***);
 * returns the number of differences. Used to log what a reload changed. */
typedef void (*config_diff_fn)(const char *key, const char *from, const char *to, void *arg);
int config_diff(const struct lxcscale_config *a, const struct lxcscale_config *b, config_diff_fn fn, void *arg);
/* The markdown key table for the README (between the config-table markers). */
void config_print_table(FILE *to);
/* The lxcscale.yaml(5) manual page (roff), every key from the schema (make readme). */
void config_print_man(FILE *to);

/* True when some container may be changed: scaling.dry_run is off, or a tier turns it off
 * for its containers. The daemon starts its actuation only then. */
bool config_is_live(const struct lxcscale_config *c);

#endif
