/*
 * config/schema.c — THE list of configuration keys.
 *
 * One row per key: dotted name, type, the field it fills (offset + size), default as YAML
 * text, range, flags, and a one-line description. The loader (config/config.c), the flag
 * overrides, `--print-config`, `--print-config-table` (the README table) and every error
 * message read this table; nothing else knows key names. To add a key: add a field to
 * struct lxcscale_config and one row here; the round-trip and README tests pick it up.
 *
 * Rows are grouped by section: the printer keeps the order of first appearance.
 * Legacy reference keys are either honoured (CFG_F_LEGACY, with a field) or CFG_IGNORED
 * (one warning naming the key and saying why). A CFG_F_LEGACY key is one the reference's
 * newest code no longer reads: honoured in lxcscale's own file, ignored in a reference file
 * (config_key_use), where its warning says what it would do here (ref_effect).
 */
#include "config/config.h"

#include <string.h>

#define OFF(f) offsetof(struct lxcscale_config, f), sizeof(((struct lxcscale_config *)0)->f)
#define BOOL(k, f, d, fl, ds)            { k, CFG_BOOL, OFF(f), d, 0, 0, NULL, fl, NULL, ds, NULL }
#define INT(k, f, d, lo, hi, fl, ds)     { k, CFG_INT, OFF(f), d, lo, hi, NULL, fl, NULL, ds, NULL }
#define DBL(k, f, d, lo, hi, fl, ds)     { k, CFG_DOUBLE, OFF(f), d, lo, hi, NULL, fl, NULL, ds, NULL }
#define STR(k, f, d, fl, ds)             { k, CFG_STRING, OFF(f), d, 0, 0, NULL, fl, NULL, ds, NULL }
#define ENUM(k, f, d, ch, fl, ds)        { k, CFG_ENUM, OFF(f), d, 0, 0, ch, fl, NULL, ds, NULL }
#define STRLIST(k, f, fl, ds)            { k, CFG_STRLIST, OFF(f), "", 0, 0, NULL, fl, NULL, ds, NULL }
#define VMLIST(k, f, fl, ds)             { k, CFG_VMLIST, OFF(f), "", 0, 0, NULL, fl, NULL, ds, NULL }
#define IGNORED(k, fl, ds)               { k, CFG_IGNORED, 0, 0, NULL, 0, 0, NULL, fl, NULL, ds, NULL }
#define ALIAS(k, target, fl, ds)         { k, CFG_IGNORED, 0, 0, NULL, 0, 0, NULL, fl, target, ds, NULL }
/* Legacy reference keys (CFG_F_LEGACY): honoured in lxcscale's own file; in a reference file
 * ignored, as the reference ignores them, with a warning saying `eff` ("{}": the value). */
#define LEG_INT(k, f, d, lo, hi, fl, ds, eff)  { k, CFG_INT, OFF(f), d, lo, hi, NULL, (fl) | LEG, NULL, ds, eff }
#define LEG_DBL(k, f, d, lo, hi, fl, ds, eff)  { k, CFG_DOUBLE, OFF(f), d, lo, hi, NULL, (fl) | LEG, NULL, ds, eff }
#define LEG_BOOL(k, f, d, fl, ds, eff)         { k, CFG_BOOL, OFF(f), d, 0, 0, NULL, (fl) | LEG, NULL, ds, eff }

#define ML CFG_F_REF_ML
#define API CFG_F_REF_API
#define MON CFG_F_REF_MON
#define LEG CFG_F_LEGACY
#define TIER CFG_F_TIER
#define GT0 CFG_F_GT0
#define PATH CFG_F_PATH
#define URL CFG_F_URL
#define SECRET CFG_F_SECRET
#define REQ CFG_F_REQUIRED

#define MiB_MAX 16777216 /* 16 TiB in MiB */
#define WEEK 604800

const struct cfg_key config_schema[] = {
	/* ---- top level: the reference model service's keys ---- */
	STR("log_file", log_file, "", PATH | ML,
	    "log file, rotated by size (logging.*); empty: stderr only, which systemd sends to the journal"),
	ENUM("log_level", log_level, "INFO", "DEBUG|INFO|WARNING|ERROR|CRITICAL", CFG_F_ICASE | ML,
	     "least severe level logged"),
	STR("lock_file", lock_file, "/run/lxcscale.lock", PATH | REQ | ML,
	    "single-instance lock: held with flock for the daemon's life, holds its PID"),
	STR("data_file", data_file, "/var/log/lxc_metrics.json", PATH | ML,
	    "metrics file in the reference format, for tools that read it: the last 1000 to 1125 "
	    "cycles (each appended in place; every 125 cycles a rewrite trims it back to 1000)"),
	INT("interval_seconds", interval_seconds, "600", 1, 86400, ML,
	    "the reference's model cycle: lxcscale replay's reference policy decides once per this; "
	    "lxcscaled itself decides every sample_interval_ms (model.rebuild_every paces its rebuilds)"),
	INT("max_metrics_age_seconds", max_metrics_age_seconds, "0", 0, WEEK, ML,
	    "a history whose newest record is older than this draws a warning from lxcscale "
	    "import-metrics (the reference skipped such a file); 0: 3 x interval_seconds. lxcscaled "
	    "samples live: nothing it reads goes stale"),
	VMLIST("ignore_lxc", ignore_lxc, ML,
	       "containers never scaled; ids as integers or strings (\"101\" and 101 are the same)"),

	/* ---- top level: lxcscale's ---- */
	INT("sample_interval_ms", sample_interval_ms, "100", 10, 60000, 0,
	    "sampling tick; PSI triggers and memory.events wake the daemon sooner"),
	INT("history_length", history_length, "1000", 8, 1000000, 0,
	    "samples per container the features look back over: cpu_trend and memory_trend fit "
	    "the newest history_length rolling means (once full, the window slides by whole "
	    "buckets of ceil(history_length / 16) samples); memory does not grow with it"),
	INT("metrics_interval_seconds", metrics_interval_seconds, "60", 0, 86400, 0,
	    "how often data_file is written; 0: never"),
	STR("model_file", model_file, "/var/lib/lxcscale/model.bin", PATH, "saved isolation forest(s)"),
	STR("suggestions_file", suggestions_file, "/var/log/lxcscale/suggestions.jsonl", PATH,
	    "one JSON line per decision, with its reason and the features that isolated the sample"),
	STR("journal_file", journal_file, "/var/lib/lxcscale/journal", PATH,
	    "pending persists, replayed at start so cgroup limits and Proxmox config agree"),
	STR("record_file", record_file, "", PATH,
	    "record every sample here for `lxcscale replay`; empty: off"),
	STR("state_dir", state_dir, "/var/lib/lxcscale", PATH | REQ, "directory for the daemon's state"),

	/* ---- scaling: reference keys ---- */
	INT("scaling.max_cpu_cores", scaling.max_cpu_cores, "4", 1, 8192, ML | TIER,
	    "most cores a container is given"),
	INT("scaling.min_cpu_cores", scaling.min_cpu_cores, "2", 1, 8192, ML | TIER,
	    "fewest cores a container is given"),
	INT("scaling.max_ram_mb", scaling.max_ram_mb, "8192", 16, MiB_MAX, ML | TIER,
	    "most memory a container is given, MiB"),
	INT("scaling.min_ram_mb", scaling.min_ram_mb, "1024", 16, MiB_MAX, ML | TIER,
	    "least memory a container is given, MiB"),
	INT("scaling.cpu_scale_step", scaling.cpu_scale_step, "1", 0, 8192, ML | TIER | GT0,
	    "cores added or removed per decision"),
	INT("scaling.ram_scale_step_mb", scaling.ram_scale_step_mb, "512", 0, MiB_MAX, ML | TIER | GT0,
	    "memory added or removed per decision, MiB"),
	DBL("scaling.cpu_scale_up_threshold", scaling.cpu_scale_up_threshold, "75", 0, 100, ML | TIER,
	    "scale up above this CPU % of the allocation"),
	DBL("scaling.cpu_scale_down_threshold", scaling.cpu_scale_down_threshold, "30", 0, 100, ML | TIER,
	    "scale down below this CPU % of the allocation"),
	DBL("scaling.ram_scale_up_threshold", scaling.ram_scale_up_threshold, "75", 0, 100, ML | TIER,
	    "scale up above this memory % of the allocation (page cache not counted)"),
	DBL("scaling.ram_scale_down_threshold", scaling.ram_scale_down_threshold, "30", 0, 100, ML | TIER,
	    "scale down below this memory % of the allocation"),
	DBL("scaling.min_confidence", scaling.min_confidence, "0", 0, 100, ML | TIER,
	    "act only when the model's confidence (0..100) is at least this"),
	BOOL("scaling.dry_run", scaling.dry_run, "false", ML | TIER,
	     "decide and log, change nothing (a tier may set it either way; lxcscaled --dry-run covers every tier)"),
	/* ---- scaling: legacy reference keys. The reference's 2024 and 1.2.0 files ship them, its
	 * newest code reads none of them (docs/reference-compat.md): honoured in lxcscale's own
	 * file, ignored with a warning in a reference file ---- */
	LEG_INT("scaling.total_cores", host.total_cores, "0", 0, 8192, ML,
	        "host CPU budget: containers' cores never sum above this minus reserve_cpu_cores; 0: the host's CPUs",
	        "set the host budget to {} cores for all containers together"),
	LEG_INT("scaling.total_ram_mb", host.total_ram_mb, "0", 0, MiB_MAX, ML,
	        "host memory budget, MiB: containers' memory never sums above this minus reserve_memory_mb; 0: MemTotal",
	        "set the host budget to {} MiB of memory for all containers together"),
	LEG_DBL("scaling.target_cpu_load_percent", scaling.target_cpu_load_percent, "0", 0, 100, ML | TIER,
	        "when > 0, a CPU scale-up adds enough cores to bring usage to this %; 0: cpu_scale_step",
	        "size every CPU scale-up to bring usage to {} % instead of adding scaling.cpu_scale_step cores"),
	LEG_INT("scaling.ram_chunk_size", scaling.ram_chunk_size, "0", 0, MiB_MAX, ML | TIER,
	        "smallest memory change per decision, MiB; 0: no minimum",
	        "make every memory change at least {} MiB"),
	LEG_INT("scaling.ram_upper_limit", scaling.ram_upper_limit, "0", 0, MiB_MAX, ML | TIER,
	        "largest memory change per decision, MiB (urgent steps included); 0: no limit",
	        "make every memory change at most {} MiB, urgent ones included"),
	/* ---- scaling: lxcscale's ---- */
	INT("scaling.cooldown_up_seconds", scaling.cooldown_up_seconds, "10", 0, 86400, TIER,
	    "after a change, no scale-up for this long (urgent PSI/OOM decisions excepted)"),
	INT("scaling.cooldown_down_seconds", scaling.cooldown_down_seconds, "120", 0, 86400, TIER,
	    "after a change, no scale-down for this long"),
	DBL("scaling.smoothing_factor", scaling.smoothing_factor, "0.1", 0, 1, TIER | GT0,
	    "EWMA weight of the newest sample in the usage the thresholds see (1: no smoothing)"),
	INT("scaling.memory_headroom_mb", scaling.memory_headroom_mb, "64", 0, 65536, TIER,
	    "memory.max is never set below memory.current plus this, MiB"),
	INT("scaling.memory_shrink_step_mb", scaling.memory_shrink_step_mb, "128", 0, MiB_MAX, TIER | GT0,
	    "memory.high is lowered by at most this per step while shrinking, MiB"),
	INT("scaling.reserve_cpu_cores", host.reserve_cpu_cores, "1", 0, 8192, 0,
	    "cores kept for the host, never given to containers"),
	INT("scaling.reserve_memory_mb", host.reserve_memory_mb, "1024", 0, MiB_MAX, 0,
	    "memory kept for the host, MiB"),

	{ "tiers", CFG_TIERS, OFF(tiers), "", 0, 0, NULL, 0, NULL,
	  "per-container overrides: `tiers: {NAME: {containers: [101, 102], max_cpu_cores: 8}}`; any scaling key marked tier-able",
	  NULL },

	/* ---- model ---- */
	DBL("model.contamination", model.contamination, "0.05", 0, 0.5, ML | GT0,
	    "expected share of anomalies; sets the score threshold"),
	INT("model.n_estimators", model.n_estimators, "100", 1, 10000, ML, "trees in the forest"),
	INT("model.max_samples", model.max_samples, "64", 2, 1000000, ML, "samples per tree"),
	INT("model.random_state", model.random_state, "42", 0, 2147483647, ML, "seed, for reproducible forests"),
	INT("model.window", model.window, "1000", 16, 1000000, 0, "training samples per container (newest)"),
	INT("model.rebuild_every", model.rebuild_every, "600", 1, 100000000, 0,
	    "new samples per container between incremental tree replacements"),
	BOOL("model.per_container", model.per_container, "false", 0,
	     "also one forest per container (~250 KB each at the default window); false: the one host-wide forest, like the reference"),
	BOOL("model.force_save", model.force_save, "false", 0,
	     "write model_file after every rebuild, not only at shutdown (reference --force-save)"),
	STRLIST("model.features", model.features, 0, "feature names the model uses; empty: the reference's 26 but time_diff (the sampler's cadence here)"),

	DBL("spike_detection.spike_threshold", spike_detection.spike_threshold, "2", 0, 100, ML | GT0,
	    "a sample is a spike when it is this many rolling std-devs from the rolling mean"),
	INT("spike_detection.rolling_window", spike_detection.rolling_window, "5", 1, 10000, ML,
	    "window of the rolling features, samples"),

	LEG_BOOL("feature_engineering.include_io_activity", feature_engineering.include_io_activity, "true", ML,
	         "false: leave the I/O features out of the model",
	         "keep (true) or leave out (false) the I/O features of the model"),
	LEG_BOOL("feature_engineering.include_network_activity", feature_engineering.include_network_activity, "true",
	         ML, "false: leave the network features out of the model",
	         "keep (true) or leave out (false) the network features of the model"),
	IGNORED("prediction.use_latest_only", ML,
		"lxcscale always scores each container's newest sample"),
	IGNORED("prediction.include_rolling_features", ML,
		"the rolling features are part of the feature set (see model.features)"),

	BOOL("circuit_breaker.enabled", circuit_breaker.enabled, "true", ML,
	     "stop persisting a container's changes after repeated failures"),
	INT("circuit_breaker.failure_threshold", circuit_breaker.failure_threshold, "3", 1, 1000, ML,
	    "consecutive failures that open the breaker"),
	INT("circuit_breaker.timeout_seconds", circuit_breaker.timeout_seconds, "1800", 1, WEEK, ML,
	    "how long an open breaker blocks before one retry"),

	/* ---- the reference model's HTTP client: lxcscaled scales directly ---- */
	IGNORED("api.api_url", ML, "lxcscaled changes limits itself instead of calling an HTTP API"),
	IGNORED("api.cores_endpoint", ML, "lxcscaled changes limits itself instead of calling an HTTP API"),
	IGNORED("api.ram_endpoint", ML, "lxcscaled changes limits itself instead of calling an HTTP API"),
	IGNORED("api.timeout_seconds", ML, "lxcscaled changes limits itself instead of calling an HTTP API"),
	IGNORED("api.timeout", ML, "lxcscaled changes limits itself instead of calling an HTTP API"),
	IGNORED("api.api_key", ML | SECRET, "lxcscaled changes limits itself instead of calling an HTTP API"),
	IGNORED("api.max_concurrent", ML, "lxcscaled changes limits itself instead of calling an HTTP API"),
	IGNORED("retry_logic.max_retries", ML, "use persist.max_retries"),
	IGNORED("retry_logic.retry_delay", ML, "use persist.retry_base_ms"),
	/* ---- our REST API ---- */
	BOOL("api.enabled", api.enabled, "true", 0, "serve the REST API (reference routes) on server.host:server.port"),
	STR("api.tls_cert", api.tls_cert, "", PATH, "PEM certificate: serve HTTPS; empty: plain HTTP"),
	STR("api.tls_key", api.tls_key, "", PATH, "PEM private key for api.tls_cert"),
	INT("api.max_body_bytes", api.max_body_bytes, "65536", 1024, 16777216, 0, "largest request body accepted"),
	BOOL("api.ui", api.ui, "true", 0,
	     "serve the web dashboard under /ui/ on the API's listener (same address, TLS and API key; "
	     "its files are built into lxcscaled)"),

	/* ---- cgroup, PSI, BPF ---- */
	STR("cgroup.mount", cgroup.mount, "", PATH,
	    "cgroup v2 mount; empty: found in /proc/self/mountinfo (/sys/fs/cgroup or /sys/fs/cgroup/unified)"),
	STR("cgroup.root", cgroup.root, "", 0,
	    "containers' parent cgroup, relative to the mount or absolute; empty: lxc when present"),
	STR("cgroup.id_pattern", cgroup.id_pattern, "^[1-9][0-9]{2,8}$", CFG_F_REGEX | REQ,
	    "POSIX extended regex a container cgroup's name must match (its vmid)"),
	DBL("cgroup.assumed_cores", cgroup.assumed_cores, "0", 0, 8192, 0,
	    "cores assumed for a container whose cgroup has no CPU limit (no cpu.max quota, no cpuset: "
	    "hosts without those controllers); 0: unknown, its CPU is not scaled"),
	INT("cgroup.assumed_ram_mb", cgroup.assumed_ram_mb, "0", 0, MiB_MAX, 0,
	    "memory (MiB) assumed for a container whose cgroup has no memory.max; 0: unknown, its memory is not scaled"),
	INT("cgroup.quiet_sample_interval_ms", cgroup.quiet_sample_interval_ms, "1000", 0, 60000, 0,
	    "how often a quiet container's cgroup files are read; a hot one (a PSI, OOM or BPF event in "
	    "the last 5 s, usage near a scale-up threshold, pressure, a decision wanted or just made) is "
	    "read every sample_interval_ms. Quiet containers are spread evenly over the ticks; their limit "
	    "files (cpu.max, cpuset, memory.max/high, swap.max) are read every 10th time, so a change made "
	    "outside lxcscale shows within 10 readings. "
	    "0 (or not above sample_interval_ms): every container every tick"),
	INT("cgroup.idle_sample_interval_ms", cgroup.idle_sample_interval_ms, "5000", 0, 60000, 0,
	    "how often an idle container's cgroup files are read: a quiet one whose last reading showed "
	    "under 2 % CPU of its allocation, no CPU or memory pressure stalls, no throttling and nothing "
	    "to change. There is such a tier only with BPF, whose on-CPU time (like a PSI trigger, a "
	    "memory.events change or a BPF event) makes the container hot at the next tick; without BPF "
	    "idle containers are read as quiet ones, since a burst that raises no stall would wait for "
	    "the idle reading. When none of its tasks ran since its previous reading (cpu.stat "
	    "unchanged; with BPF, no scheduling event, and then cpu.stat is not read either) and its PSI "
	    "triggers are armed, the reading keeps the previous pressure totals instead of reading the "
	    "three pressure files; every 6th idle reading reads everything. 0 (or not above "
	    "quiet_sample_interval_ms, or quiet_sample_interval_ms reading every container every tick): "
	    "idle containers are read as often as quiet ones"),
	INT("psi.window_ms", psi.window_ms, "500", 500, 10000, 0,
	    "PSI trigger window (the kernel needs 2 s multiples without CAP_SYS_RESOURCE)"),
	INT("psi.cpu_stall_ms", psi.cpu_stall_ms, "50", 1, 10000, 0,
	    "CPU 'some' stall per window that wakes the daemon for a container"),
	INT("psi.memory_stall_ms", psi.memory_stall_ms, "50", 1, 10000, 0,
	    "memory 'some' stall per window that wakes the daemon for a container"),
	BOOL("bpf.enabled", bpf.enabled, "true", 0, "load the tracepoint programs (off: cgroup files only)"),
	STR("bpf.pin_path", bpf.pin_path, "/sys/fs/bpf/lxcscale", PATH | REQ, "where maps are pinned for bpftool"),
	INT("bpf.runq_threshold_us", bpf.runq_threshold_us, "5000", 1, 10000000, 0,
	    "a run-queue wait longer than this is reported as an event"),
	INT("bpf.reclaim_threshold_us", bpf.reclaim_threshold_us, "1000", 1, 10000000, 0,
	    "a direct reclaim longer than this is reported as an event"),
	INT("bpf.events_per_second", bpf.events_per_second, "1", 1, 1000000, 0,
	    "ring-buffer events per second for one container, event type and CPU, most (one per "
	    "1 s / this); the rest are only counted in the pinned lxs_stats map"),

	/* ---- persistence ---- */
	ENUM("persist.backend", persist.backend, "pct", "pct|api", 0,
	     "how changes are persisted: pct set, or the Proxmox REST API (proxmox_api.*)"),
	STR("persist.pct_path", persist.pct_path, "/usr/sbin/pct", PATH | REQ, "the pct program (run with argv, never a shell)"),
	INT("persist.timeout_seconds", persist.timeout_seconds, "30", 1, 3600, 0, "per pct call or API request"),
	INT("persist.debounce_ms", persist.debounce_ms, "500", 0, 600000, 0,
	    "changes to one container within this are coalesced into one persist"),
	INT("persist.max_retries", persist.max_retries, "3", 0, 100, 0, "retries of a failed persist"),
	INT("persist.retry_base_ms", persist.retry_base_ms, "1000", 1, 600000, 0,
	    "first retry delay, doubled each retry"),
	STR("persist.config_dir", persist.config_dir, "/etc/pve/lxc", PATH,
	    "where Proxmox keeps each container's <vmid>.conf: a change there (an admin's pct set, "
	    "a tag set in the web UI) is noticed within 2 s and the config read again; empty: not watched"),
	INT("persist.reread_seconds", persist.reread_seconds, "300", 0, WEEK, 0,
	    "read every container's Proxmox config again this often, changed or not (a safety net "
	    "for configs outside persist.config_dir); 0: only at discovery, after a persist and on a change"),

	/* ---- Proxmox tags: exclusion and tiers set where the containers are managed ---- */
	STR("tags.ignore", tags.ignore, "lxcscale-ignore", 0,
	    "a container whose Proxmox config has this tag is watched but never scaled, as if in "
	    "ignore_lxc (scale asks for --force); empty: no tag excludes"),
	STR("tags.tier_prefix", tags.tier_prefix, "lxcscale-tier-", 0,
	    "a tag <prefix><name> puts the container in tiers.<name> (a tier's containers list wins "
	    "over a tag); empty: tags pick no tier"),

	STR("proxmox_api.url", proxmox_api.url, "https://127.0.0.1:8006", URL, "Proxmox VE API base URL"),
	STR("proxmox_api.node", proxmox_api.node, "", 0, "node name; empty: lxc.node, else this host's name"),
	STR("proxmox_api.token_id", proxmox_api.token_id, "", 0, "API token id, user@realm!name"),
	STR("proxmox_api.token_secret", proxmox_api.token_secret, "", SECRET, "API token secret"),
	STR("proxmox_api.ca_file", proxmox_api.ca_file, "", PATH, "CA bundle for the API's certificate"),
	BOOL("proxmox_api.verify_tls", proxmox_api.verify_tls, "true", 0, "verify the API's TLS certificate"),

	/* ---- notifications ---- */
	STR("notifications.webhook_url", notifications.webhook_url, "", URL | SECRET,
	    "POST a JSON event here on scaling failures and critical errors"),
	STR("notifications.gotify_url", notifications.gotify_url, "", URL, "Gotify server"),
	STR("notifications.gotify_token", notifications.gotify_token, "", SECRET, "Gotify application token"),
	STR("notifications.uptime_kuma_url", notifications.uptime_kuma_url, "", URL | SECRET,
	    "Uptime Kuma push URL: status=up with each scaling event, status=down with each failure"),

	/* ---- the reference API service's file (lxc_autoscale_api.yaml) ---- */
	STR("server.host", server.host, "127.0.0.1", API | REQ, "REST API listen address (the reference used 0.0.0.0)"),
	INT("server.port", server.port, "5000", 1, 65535, API, "REST API port"),
	STR("lxc.node", lxc.node, "", API, "node name reported by the health check; empty: this host's name"),
	INT("lxc.timeout_seconds", lxc.timeout_seconds, "30", 1, 3600, API,
	    "timeout of each pct call the API runs (snapshots, clones, storage)"),
	IGNORED("lxc.verify_ssl", API, "unused by the reference too"),
	IGNORED("lxc.default_storage", API, "unused by the reference too"),
	IGNORED("lxc.max_retries", API, "unused by the reference too; see persist.max_retries"),
	BOOL("rate_limiting.enabled", rate_limiting.enabled, "true", API, "per-client sliding-window rate limit (127.0.0.1 and ::1 exempt, as in the reference)"),
	INT("rate_limiting.max_requests_per_minute", rate_limiting.max_requests_per_minute, "120", 1, 1000000, API,
	    "requests per client per window"),
	INT("rate_limiting.time_window_seconds", rate_limiting.time_window_seconds, "60", 1, 86400, API,
	    "rate-limit window"),
	BOOL("authentication.enabled", authentication.enabled, "false", API, "require an X-API-Key header"),
	STRLIST("authentication.api_keys", authentication.api_keys, API | SECRET,
		"accepted API keys (compared in constant time)"),
	BOOL("error_handling.show_stack_traces", error_handling.show_stack_traces, "false", API,
	     "500 answers name the failing command's error and add stack_trace; off: the reference's texts"),
	BOOL("error_handling.log_errors", error_handling.log_errors, "true", API, "log every API error response"),
	BOOL("error_handling.notify_on_critical_errors", error_handling.notify_on_critical_errors, "false", API,
	     "send critical errors to notifications.*"),
	IGNORED("error_handling.notification_recipients", API, "no e-mail; use notifications.*"),
	ALIAS("logging.level", "log_level", API, "same as log_level (log_level wins when both are set)"),
	ALIAS("logging.log_file", "log_file", API | MON | CFG_F_MON_OWN,
	      "same as log_file (log_file wins when both are set); in lxc_monitor.yaml the monitor's own log, ignored"),
	BOOL("logging.rotate", logging.rotate, "true", API, "rotate log_file by size"),
	INT("logging.max_log_size_mb", logging.max_log_size_mb, "10", 1, 100000, API, "rotate log_file at this size, MiB"),
	INT("logging.backup_count", logging.backup_count, "5", 0, 1000, API, "rotated files kept"),
	IGNORED("logging.log_format", API, "lxcscale's line format is fixed"),
	IGNORED("logging.structured_logging", API, "unused by the reference too"),
	IGNORED("logging.access_log_file", API, "unused by the reference too"),
	IGNORED("logging.error_log_file", API, "unused by the reference too"),
	/* the reference monitor's own log (lxc_monitor.yaml) */
	IGNORED("logging.log_level", MON, "the reference monitor's own log level; lxcscaled's is log_level"),
	IGNORED("logging.log_max_bytes", MON,
		"the reference monitor's own log rotation; lxcscaled rotates log_file at logging.max_log_size_mb"),
	IGNORED("logging.log_backup_count", MON,
		"the reference monitor's own log rotation; lxcscaled keeps logging.backup_count files"),
	IGNORED("gunicorn", API | CFG_F_PREFIX, "lxcscaled serves the API itself; no gunicorn"),

	/* ---- the reference monitor service's file (lxc_monitor.yaml): lxcscaled samples the
	 * containers itself and writes the metrics file the monitor wrote ---- */
	ALIAS("monitoring.export_file", "data_file", MON,
	      "same as data_file (data_file wins when both are set): the metrics file the reference monitor wrote"),
	ALIAS("monitoring.check_interval", "metrics_interval_seconds", MON,
	      "same as metrics_interval_seconds (which wins when both are set): seconds between the metrics "
	      "file's cycles"),
	IGNORED("monitoring.max_metrics_entries", MON,
		"lxcscaled keeps the newest 1000 cycles in data_file (up to 1125 between trims)"),
	IGNORED("monitoring.enable_swap", MON,
		"lxcscaled reads swap, like every figure, from the host side (cgroup files), with nothing to switch off"),
	IGNORED("monitoring.enable_network", MON,
		"lxcscaled reads network counters from the host side; to keep them out of the model set "
		"feature_engineering.include_network_activity: false"),
	IGNORED("monitoring.enable_filesystem", MON,
		"lxcscaled reads the root file system's use from the host side, with nothing to switch off"),
	IGNORED("monitoring.parallel_processing", MON, "lxcscaled reads cgroup files itself: no pct exec workers"),
	IGNORED("monitoring.max_workers", MON, "lxcscaled reads cgroup files itself: no pct exec workers"),
	IGNORED("monitoring.excluded_devices", MON,
		"lxcscaled counts a container's I/O from its cgroup's io.stat, not per device from /proc/diskstats"),
	IGNORED("monitoring.retry_limit", MON, "lxcscaled reads cgroup files itself: no pct exec calls to retry"),
	IGNORED("monitoring.retry_delay", MON, "lxcscaled reads cgroup files itself: no pct exec calls to retry"),
	IGNORED("monitoring.command_timeout", MON, "lxcscaled reads cgroup files itself: no pct exec calls to time out"),
};

const size_t config_schema_len = sizeof(config_schema) / sizeof(config_schema[0]);

const struct cfg_key *config_key(const char *dotted)
{
	for (size_t i = 0; i < config_schema_len; i++)
		if (!(config_schema[i].flags & CFG_F_PREFIX) && strcmp(config_schema[i].key, dotted) == 0)
			return &config_schema[i];
	return NULL;
}

int config_key_index(const struct cfg_key *k)
{
	return (int)(k - config_schema);
}

int config_tier_key(const struct cfg_key *k)
{
	if (!k || !(k->flags & CFG_F_TIER))
		return -1;
	int n = 0;
	for (const struct cfg_key *p = config_schema; p < k; p++)
		if (p->flags & CFG_F_TIER)
			n++;
	return n;
}
