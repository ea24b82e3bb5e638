/*
 * lxcscaled — the lxcscale daemon: flags, configuration, single instance, logging, the
 * start-up capability summary and the event loop (signals: TERM/INT stop, HUP reload).
 * The work itself (sampling, features, model, policy, decisions) is daemon/daemon.h's, created
 * on the same loop after the host survey and handed each reloaded configuration.
 * Unless dry_run (global and every tier), the daemon's actuation starts next (journal
 * replay and reconcile, logged, before the first tick), then the REST API (api.h, when
 * api.enabled) with the daemon as its backend. A reload restarts the API only when its settings changed, and starts the
 * actuation when dry_run was turned off.
 *
 * Start-up order matters and is fixed: flags -> configuration (errors go to stderr and
 * exit 1 before anything else happens) -> lock (a second instance exits 1 naming the
 * first) -> detach unless --foreground or under systemd -> logging -> host survey -> loop.
 *
 * Configuration sources, later ones winning: embedded defaults; then --config FILE, or
 * else /etc/lxcscale/lxcscale.yaml when it exists, or else the reference system's
 * /etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml (+ its API file) when they exist, so a host
 * switching from LXC AutoScale ML needs no new file; then --api-config FILE; then flags.
 * A reload (SIGHUP) repeats exactly that; if the result has errors it is reported and the
 * running configuration stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "base/lockfile.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/sdnotify.h"
#include "collect/hostprobe.h"
#include "config/config.h"
#include "daemon/api_settings.h"
#include "daemon/daemon.h"
#include "decide/params.h"

#define MAX_OVERRIDES 32

struct override {
	const char *key, *value, *flag;
};

struct options {
	const char *config;      /* --config */
	const char *api_config;  /* --api-config */
	const char *check;       /* --check-config FILE */
	int foreground, print_config, print_table, print_template, print_man, omit_secrets;
	struct override ov[MAX_OVERRIDES];
	int n_ov;
};

struct lxcscaled {
	struct options opt;
	struct lxcscale_config *cfg;
	struct config_diag *diag;  /* messages of the start-up configuration, until logged */
	struct loop *loop;
	struct daemon *brain;    /* daemon/daemon.h: sampling, features, model, policy, decisions */
	struct api_server *api;  /* NULL when disabled or when it could not listen */
	struct lxcscale_config *api_cfg; /* the copy the server's settings point into */
	const char *api_keys[API_CONFIG_MAX_KEYS];
	int lock_fd;
	int reloads;
};

enum {
	OPT_CONFIG = 256, OPT_API_CONFIG, OPT_FOREGROUND, OPT_LOG_LEVEL, OPT_CHECK, OPT_PRINT,
	OPT_TABLE, OPT_TEMPLATE, OPT_MAN, OPT_VERSION, OPT_HELP, OPT_RECORD, OPT_DRY_RUN, OPT_VERBOSITY, OPT_FORCE_SAVE,
	OPT_OMIT_SECRETS,
	OPT_KEYED, /* options below map one-to-one to a config key (flag_keys[]) */
};

/* reference flags that set one key each, in the order of OPT_KEYED + i */
static const struct { const char *flag, *key; } flag_keys[] = {
	{ "contamination", "model.contamination" },
	{ "n_estimators", "model.n_estimators" },
	{ "max_samples", "model.max_samples" },
	{ "random_state", "model.random_state" },
	{ "spike-threshold", "spike_detection.spike_threshold" },
	{ "ram-chunk-size", "scaling.ram_chunk_size" },
	{ "ram-upper-limit", "scaling.ram_upper_limit" },
	{ "smoothing-factor", "scaling.smoothing_factor" },
};
#define N_FLAG_KEYS (int)(sizeof(flag_keys) / sizeof(flag_keys[0]))

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: lxcscaled [options]\n"
	        "Resizes Proxmox VE LXC containers while they run (cgroup v2 + PSI + eBPF + isolation forest).\n"
	        "\n"
	        "  --config FILE           configuration (default %s if it exists,\n"
	        "                          else %s, else built-in defaults)\n"
	        "  --api-config FILE       also read the reference API file (lxc_autoscale_api.yaml)\n"
	        "  --foreground            do not detach (implied under systemd)\n"
	        "  --log-level LEVEL       DEBUG, INFO, WARNING, ERROR or CRITICAL\n"
	        "  --check-config FILE     validate FILE, print the problems, exit 0 (valid) or 1\n"
	        "  --print-config          print the effective configuration as YAML that loads back\n"
	        "                          as it is, secrets (API keys, tokens) included\n"
	        "  --omit-secrets          with --print-config: leave the secret keys out (comments)\n"
	        "  --print-config-table    print the configuration key table (markdown)\n"
	        "  --print-config-template print every key with its default, commented (conf/lxcscale.yaml)\n"
	        "  --print-config-man      print the lxcscale.yaml(5) manual page (man/lxcscale.yaml.5)\n"
	        "  --record FILE           record every sample to FILE (record_file)\n"
	        "  --version, --help\n"
	        "reference (LXC AutoScale ML) flags:\n"
	        "  --dry-run               decide and log, change nothing (scaling.dry_run)\n"
	        "  --verbosity 0|1|2       WARNING, INFO or DEBUG\n"
	        "  --contamination X       model.contamination\n"
	        "  --n_estimators N        model.n_estimators\n"
	        "  --max_samples N         model.max_samples\n"
	        "  --random_state N        model.random_state\n"
	        "  --spike-threshold X     spike_detection.spike_threshold\n"
	        "  --ram-chunk-size MB     scaling.ram_chunk_size\n"
	        "  --ram-upper-limit MB    scaling.ram_upper_limit\n"
	        "  --smoothing-factor X    scaling.smoothing_factor\n"
	        "  --force-save            model.force_save\n",
	        CONFIG_DEFAULT_PATH, CONFIG_REFERENCE_PATH);
}

static char *owned_paths[8]; /* reachable for the process's life, so not a leak */
static int n_owned_paths;

/* Paths from the command line, made absolute: the daemon chdirs to / when it detaches and
 * re-reads the same files on SIGHUP. Kept for the life of the process. */
static const char *absolute(const char *path)
{
	if (path[0] == '/')
		return path;
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return path;
	char *abs = NULL;
	if (n_owned_paths >= 8 || asprintf(&abs, "%s/%s", cwd, path) < 0)
		return path;
	owned_paths[n_owned_paths++] = abs;
	return abs;
}

static int add_override(struct options *o, const char *key, const char *value, const char *flag)
{
	if (o->n_ov >= MAX_OVERRIDES) {
		fprintf(stderr, "lxcscaled: too many options\n");
		return -1;
	}
	o->ov[o->n_ov++] = (struct override){ key, value, flag };
	return 0;
}

/* Returns 0 to go on, 1 when done (exit 0), 2 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static struct option longopts[OPT_KEYED - 256 + N_FLAG_KEYS + 1] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "api-config", required_argument, NULL, OPT_API_CONFIG },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "check-config", required_argument, NULL, OPT_CHECK },
		{ "print-config", no_argument, NULL, OPT_PRINT },
		{ "print-config-table", no_argument, NULL, OPT_TABLE },
		{ "print-config-template", no_argument, NULL, OPT_TEMPLATE },
		{ "print-config-man", no_argument, NULL, OPT_MAN },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "verbosity", required_argument, NULL, OPT_VERBOSITY },
		{ "force-save", no_argument, NULL, OPT_FORCE_SAVE },
		{ "omit-secrets", no_argument, NULL, OPT_OMIT_SECRETS },
	};
	int base = OPT_KEYED - 256;
	for (int i = 0; i < N_FLAG_KEYS; i++)
		longopts[base + i] = (struct option){ flag_keys[i].flag, required_argument, NULL, OPT_KEYED + i };

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = 0;
		switch (ch) {
		case OPT_CONFIG: o->config = absolute(optarg); break;
		case OPT_API_CONFIG: o->api_config = absolute(optarg); break;
		case OPT_FOREGROUND: o->foreground = 1; break;
		case OPT_LOG_LEVEL: rc = add_override(o, "log_level", optarg, "--log-level"); break;
		case OPT_CHECK: o->check = optarg; break;
		case OPT_PRINT: o->print_config = 1; break;
		case OPT_OMIT_SECRETS: o->omit_secrets = 1; break;
		case OPT_TABLE: o->print_table = 1; break;
		case OPT_TEMPLATE: o->print_template = 1; break;
		case OPT_MAN: o->print_man = 1; break;
		case OPT_VERSION: printf("lxcscaled %s\n", LXCSCALE_VERSION); return 1;
		case OPT_HELP: usage(stdout); return 1;
		case OPT_RECORD: rc = add_override(o, "record_file", absolute(optarg), "--record"); break;
		case OPT_DRY_RUN: rc = add_override(o, "scaling.dry_run", "true", "--dry-run"); break;
		case OPT_FORCE_SAVE: rc = add_override(o, "model.force_save", "true", "--force-save"); break;
		case OPT_VERBOSITY: {
			static const char *const lv[] = { "WARNING", "INFO", "DEBUG" };
			if (strlen(optarg) != 1 || optarg[0] < '0' || optarg[0] > '2') {
				fprintf(stderr, "--verbosity: error: --verbosity=%s must be 0, 1 or 2\n", optarg);
				return 2;
			}
			rc = add_override(o, "log_level", lv[optarg[0] - '0'], "--verbosity");
			break;
		}
		case '?':
			if (optopt)
				fprintf(stderr, "lxcscaled: option needs a value or is unknown: %s\n", argv[optind - 1]);
			else
				fprintf(stderr, "lxcscaled: unknown option: %s\n", argv[optind - 1]);
			fprintf(stderr, "Try 'lxcscaled --help'.\n");
			return 2;
		default:
			if (ch >= OPT_KEYED && ch < OPT_KEYED + N_FLAG_KEYS) {
				static char flagname[N_FLAG_KEYS][40];
				int i = ch - OPT_KEYED;
				snprintf(flagname[i], sizeof(flagname[i]), "--%s", flag_keys[i].flag);
				rc = add_override(o, flag_keys[i].key, optarg, flagname[i]);
			} else {
				return 2;
			}
		}
		if (rc)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "lxcscaled: unexpected argument: %s\nTry 'lxcscaled --help'.\n", argv[optind]);
		return 2;
	}
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* All sources, in order (see the top comment). */
static int build_config(const struct options *o, const char *only_file, struct lxcscale_config *c,
                        struct config_diag *d)
{
	config_defaults(c);
	if (only_file) {
		config_load_file(c, only_file, d);
	} else if (o->config) {
		config_load_file(c, o->config, d);
	} else if (exists(CONFIG_DEFAULT_PATH)) {
		config_load_file(c, CONFIG_DEFAULT_PATH, d);
	} else if (exists(CONFIG_REFERENCE_PATH)) {
		config_load_file(c, CONFIG_REFERENCE_PATH, d);
		if (!o->api_config && exists(CONFIG_REFERENCE_API_PATH))
			config_load_file(c, CONFIG_REFERENCE_API_PATH, d);
	}
	if (o->api_config)
		config_load_file(c, o->api_config, d);
	for (int i = 0; i < o->n_ov; i++)
		config_set(c, o->ov[i].key, o->ov[i].value, o->ov[i].flag, d);
	return config_finalize(c, d);
}

static void apply_logging(const struct lxcscale_config *c)
{
	log_set_level(c->log_level);
	log_clear_secrets();
	for (int i = 0; i < c->authentication.api_keys.n; i++)
		log_add_secret(c->authentication.api_keys.v[i]);
	log_add_secret(c->proxmox_api.token_secret);
	log_add_secret(c->notifications.gotify_token);
	log_add_secret(c->notifications.webhook_url);
	log_add_secret(c->notifications.uptime_kuma_url);
	struct log_file_opts lf = {
		.path = c->log_file,
		.rotate = c->logging.rotate,
		.max_bytes = (uint64_t)c->logging.max_log_size_mb << 20,
		.backups = c->logging.backup_count,
	};
	if (log_set_file(&lf) != 0)
		log_error("cannot open log_file %s: %m; logging to stderr only", c->log_file);
}

static void log_diag(const struct config_diag *d)
{
	for (int i = 0; i < d->n; i++)
		log_msg(d->msg[i].severity == CFG_DIAG_ERROR ? LOGL_ERROR : LOGL_WARNING, "%s", d->msg[i].text);
	int more = d->errors + d->warnings - d->n;
	if (more > 0)
		log_warning("(%d more configuration messages not shown)", more);
}

static const char *config_sources(const struct lxcscale_config *c, char *buf, size_t len)
{
	if (c->meta.n_files == 0) {
		snprintf(buf, len, "built-in defaults (no configuration file)");
		return buf;
	}
	size_t o = 0;
	for (int i = 0; i < c->meta.n_files && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " + " : "", c->meta.files[i]);
	return buf;
}

static void on_diff(const char *key, const char *from, const char *to, void *arg)
{
	(void)arg;
	log_info("reload: %s: %s -> %s", key, from, to);
}

/* ---- the REST API --------------------------------------------------------------------- */

static void api_settings_for(const struct lxcscale_config *c, struct api_settings *s, const char **keys)
{
	api_settings_from_config(c, s, keys);
	s->pct_path = c->persist.pct_path; /* routes the daemon does not manage run this pct */
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Would the server need a restart to take config b instead of a? */
static bool api_settings_differ(const struct lxcscale_config *a, const struct lxcscale_config *b)
{
	if (a->api.enabled != b->api.enabled)
		return true;
	const char *ka[API_CONFIG_MAX_KEYS], *kb[API_CONFIG_MAX_KEYS];
	struct api_settings x, y;
	api_settings_for(a, &x, ka);
	api_settings_for(b, &y, kb);
	if (!str_eq(x.host, y.host) || x.port != y.port || x.auth_enabled != y.auth_enabled ||
	    x.n_api_keys != y.n_api_keys || x.rate_limit_enabled != y.rate_limit_enabled ||
	    x.rate_limit_max != y.rate_limit_max || x.rate_limit_window_s != y.rate_limit_window_s ||
	    x.lxc_timeout_s != y.lxc_timeout_s || !str_eq(x.lxc_node, y.lxc_node) ||
	    !str_eq(x.pct_path, y.pct_path) || x.max_body_bytes != y.max_body_bytes ||
	    !str_eq(x.tls_cert_file, y.tls_cert_file) || !str_eq(x.tls_key_file, y.tls_key_file) ||
	    x.ui_enabled != y.ui_enabled)
		return true;
	for (size_t i = 0; i < x.n_api_keys; i++)
		if (strcmp(x.api_keys[i], y.api_keys[i]))
			return true;
	return false;
}

static void api_down(struct lxcscaled *dm)
{
	if (dm->api) {
		api_stop(dm->api);
		log_info("REST API stopped");
	}
	dm->api = NULL;
	config_free(dm->api_cfg);
	dm->api_cfg = NULL;
}

static void api_up(struct lxcscaled *dm)
{
	if (!dm->cfg->api.enabled) {
		log_info("REST API: off (api.enabled: false)");
		return;
	}
	dm->api_cfg = config_new();
	if (!dm->api_cfg) {
		log_error("REST API: out of memory; not serving it");
		return;
	}
	*dm->api_cfg = *dm->cfg;
	struct api_settings s;
	api_settings_for(dm->api_cfg, &s, dm->api_keys);
	struct api_backend b;
	daemon_api_backend(dm->brain, &b);
	char err[512];
	dm->api = api_start(&s, &b, err, sizeof(err));
	if (!dm->api) {
		log_error("REST API: cannot serve on %s:%u: %s; running without it (server.host, server.port)",
			  s.host, (unsigned)s.port, err);
		return;
	}
	log_info("REST API on %s%s:%u (reference routes and /api/v1; manual scaling goes through the daemon)",
		 s.tls_cert_file ? "https://" : "http://", s.host, (unsigned)api_port(dm->api));
}

static void start_actuation(struct lxcscaled *dm)
{
	char err[512];
	if (daemon_start_actuation(dm->brain, err, sizeof(err)) != 0)
		log_error("%s: decisions are logged, NOT applied", err);
	else
		log_info("live: each decision is journalled (%s), written to the cgroup, read back, "
			 "then persisted (persist.backend: %s)", dm->cfg->journal_file,
			 dm->cfg->persist.backend == CFG_PERSIST_API ? "api" : "pct");
}

static void reload(struct lxcscaled *dm)
{
	sdnotify_send("RELOADING=1\nSTATUS=reloading configuration");
	struct lxcscale_config *n = config_new();
	struct config_diag *d = calloc(1, sizeof(*d));
	if (!n || !d) {
		log_error("reload failed: out of memory; keeping the running configuration");
		goto out;
	}
	if (build_config(&dm->opt, NULL, n, d) != 0) {
		log_error("reload failed: %d error%s in the new configuration; keeping the running configuration",
		          d->errors, d->errors == 1 ? "" : "s");
		log_diag(d);
		goto out;
	}
	if (strcmp(n->lock_file, dm->cfg->lock_file)) {
		log_warning("reload: lock_file change to %s takes effect at the next start", n->lock_file);
		memcpy(n->lock_file, dm->cfg->lock_file, sizeof(n->lock_file));
	}
	log_diag(d);
	int changes = config_diff(dm->cfg, n, on_diff, NULL);
	struct lxcscale_config *old = dm->cfg;
	if (dm->brain)
		daemon_reconfigure(dm->brain, n);
	bool api_restart = api_settings_differ(old, n) || (n->api.enabled && !dm->api);
	dm->cfg = n;
	n = NULL;
	config_free(old);
	apply_logging(dm->cfg);
	if (dm->brain && config_is_live(dm->cfg) && !daemon_actuating(dm->brain))
		start_actuation(dm);
	if (api_restart && dm->brain) {
		log_info("reload: the REST API's settings changed: restarting it");
		api_down(dm);
		api_up(dm);
	}
	dm->reloads++;
	char src[2048];
	log_info("configuration reloaded from %s: %d change%s", config_sources(dm->cfg, src, sizeof(src)), changes,
	         changes == 1 ? "" : "s");
out:
	config_free(n);
	free(d);
	sdnotify_send("READY=1\nSTATUS=running");
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct lxcscaled *dm = arg;
	switch (signo) {
	case SIGHUP:
		log_info("SIGHUP: reloading the configuration");
		reload(dm);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("%s: stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
		sdnotify_send("STOPPING=1");
		loop_stop(l);
		break;
	default:
		break;
	}
}

/* systemd's watchdog: pinged from a loop timer, so a stuck loop stops the pings and
 * systemd restarts us (WatchdogSec= in the unit). */
static void on_watchdog(struct loop *l, int timer_id, uint64_t expirations, void *arg)
{
	(void)l;
	(void)timer_id;
	(void)expirations;
	(void)arg;
	sdnotify_send("WATCHDOG=1");
}

/* Every container holds about seven fds (its cgroup files, PSI triggers, memory.events),
 * so a host with a thousand containers needs several thousand; systemd starts services
 * with a soft RLIMIT_NOFILE of 1024 and expects programs that need more to raise it to the
 * hard limit themselves (everything here uses epoll, never select). */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_debug("RLIMIT_NOFILE raised from %llu to %llu", (unsigned long long)was,
			  (unsigned long long)rl.rlim_max);
	else
		log_warning("cannot raise RLIMIT_NOFILE from %llu to %llu: %m", (unsigned long long)was,
			    (unsigned long long)rl.rlim_max);
}

/* Classic detach when started by hand without --foreground: fork, setsid, fork. */
static int detach(int lock_fd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return lockfile_write_pid(lock_fd, getpid());
}

/* ---- one-shot modes -------------------------------------------------------------------- */

/* The printing modes that need no configuration but the defaults (--version and --help are
 * parse_options()'s). Returns -1 when none was asked for, else the exit code. */
static int print_mode(const struct options *o)
{
	if (o->print_table) {
		config_print_table(stdout);
		return 0;
	}
	if (o->print_man) {
		config_print_man(stdout);
		return 0;
	}
	if (o->print_template) {
		struct lxcscale_config *t = config_new();
		if (!t)
			return 1;
		config_print(t, stdout, CONFIG_PRINT_COMMENTS);
		config_free(t);
		return 0;
	}
	return -1;
}

/* --check-config FILE: that file alone, its problems on stderr, the verdict on stdout. */
static int check_config(struct lxcscaled *dm)
{
	const char *file = dm->opt.check;
	struct config_diag *d = dm->diag;
	int rc = build_config(&dm->opt, file, dm->cfg, d);
	config_diag_print(d, stderr);
	if (rc == 0)
		printf("%s: configuration OK (%d warning%s)\n", file, d->warnings, d->warnings == 1 ? "" : "s");
	else
		printf("%s: %d error%s\n", file, d->errors, d->errors == 1 ? "" : "s");
	return rc == 0 ? 0 : 1;
}

/* The configuration to start with, from every source; --check-config and --print-config end
 * here. Returns -1 to go on starting, else the exit code. Errors go to stderr: logging is
 * not set up yet. */
static int load_config(struct lxcscaled *dm)
{
	dm->diag = calloc(1, sizeof(*dm->diag));
	dm->cfg = config_new();
	if (!dm->diag || !dm->cfg) {
		fprintf(stderr, "lxcscaled: out of memory\n");
		return 1;
	}
	if (dm->opt.check)
		return check_config(dm);
	struct config_diag *d = dm->diag;
	if (build_config(&dm->opt, NULL, dm->cfg, d) != 0) {
		config_diag_print(d, stderr);
		fprintf(stderr, "lxcscaled: the configuration has %d error%s; not starting\n", d->errors,
		        d->errors == 1 ? "" : "s");
		return 1;
	}
	if (dm->opt.print_config) {
		config_diag_print(d, stderr);
		config_print(dm->cfg, stdout, dm->opt.omit_secrets ? CONFIG_PRINT_OMIT_SECRETS : CONFIG_PRINT_SECRETS);
		return 0;
	}
	return -1;
}

/* ---- start-up, run, clean-up --------------------------------------------------------- */

/* Holds the signals, takes the single-instance lock and detaches: 0 or the exit code. */
static int claim_host(struct lxcscaled *dm)
{
	/* From here on a signal must not kill us half-started: hold TERM/INT/HUP until the
	 * loop's signalfd reads them (a SIGHUP during start-up becomes a reload, not a death). */
	sigset_t held;
	sigemptyset(&held);
	sigaddset(&held, SIGTERM);
	sigaddset(&held, SIGINT);
	sigaddset(&held, SIGHUP);
	sigprocmask(SIG_BLOCK, &held, NULL);

	char err[1024];
	pid_t holder = 0;
	dm->lock_fd = lockfile_acquire(dm->cfg->lock_file, &holder, err, sizeof(err));
	if (dm->lock_fd < 0) {
		fprintf(stderr, "lxcscaled: %s\n", err);
		return 1;
	}

	bool under_systemd = getenv("NOTIFY_SOCKET") != NULL;
	if (!dm->opt.foreground && !under_systemd) {
		if (!dm->cfg->log_file[0])
			fprintf(stderr, "lxcscaled: detaching without log_file: logs are discarded "
			                "(use --foreground or set log_file)\n");
		if (detach(dm->lock_fd) != 0) {
			fprintf(stderr, "lxcscaled: cannot detach: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}

/* Logging from the configuration, then what the host offers (logged). */
static void start_logging_and_survey(struct lxcscaled *dm)
{
	log_set_journal(-1);
	apply_logging(dm->cfg);
	char src[2048];
	log_info("lxcscaled %s starting (PID %ld); configuration: %s", LXCSCALE_VERSION, (long)getpid(),
	         config_sources(dm->cfg, src, sizeof(src)));
	log_diag(dm->diag);
	free(dm->diag); /* reported: a reload builds its own */
	dm->diag = NULL;

	raise_fd_limit();
	struct hostprobe hp;
	hostprobe_run(&hp, dm->cfg);
	hostprobe_report(&hp, dm->cfg);
	if (!config_is_live(dm->cfg))
		log_info("dry run: decisions are logged, nothing is changed");
	else if (dm->cfg->scaling.dry_run)
		log_info("dry run, except for the containers of tiers with dry_run: false");
}

static void arm_watchdog(struct lxcscaled *dm)
{
	uint64_t wd_usec = 0;
	if (sdnotify_watchdog_usec(&wd_usec) <= 0 || wd_usec < 2000)
		return;
	uint64_t every_ms = wd_usec / 2000; /* twice per watchdog period */
	if (loop_add_timer(dm->loop, every_ms, every_ms, on_watchdog, NULL) < 0)
		log_error("cannot arm the systemd watchdog timer: %m");
	else
		log_info("systemd watchdog: pinging every %llu ms", (unsigned long long)every_ms);
}

/* The loop, the daemon on it, the actuation (unless dry run) and the API: 0 or the exit code. */
static int start_daemon(struct lxcscaled *dm)
{
	dm->loop = loop_new();
	int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	if (!dm->loop || loop_add_signals(dm->loop, sigs, 3, on_signal, dm) != 0) {
		log_critical("cannot set up the event loop: %m");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	char err[1024];
	dm->brain = daemon_new(dm->cfg, dm->loop, NULL, err, sizeof(err));
	if (!dm->brain) {
		log_critical("cannot start: %s", err);
		return 1;
	}
	if (config_is_live(dm->cfg))
		start_actuation(dm);
	api_up(dm);
	arm_watchdog(dm);
	return 0;
}

static int run(struct lxcscaled *dm)
{
	sdnotify_send("READY=1\nSTATUS=running");
	log_info("ready: SIGHUP reloads the configuration, SIGTERM stops");
	int rc = loop_run(dm->loop) == 0 ? 0 : 1;
	if (rc)
		log_critical("event loop failed: %m");
	log_info("stopped");
	return rc;
}

/* The one way out, from wherever start-up stopped: everything here takes what was never set up. */
static void cleanup(struct lxcscaled *dm)
{
	daemon_cancel_commands(dm->brain); /* API requests waiting on the loop get their answer */
	api_down(dm); /* before the daemon: its threads read the daemon's snapshots */
	daemon_free(dm->brain);
	loop_free(dm->loop);
	lockfile_release(dm->lock_fd);
	config_free(dm->cfg);
	free(dm->diag);
	log_close();
}

int main(int argc, char **argv)
{
	struct lxcscaled dm = { .lock_fd = -1 };
	int rc = parse_options(argc, argv, &dm.opt);
	if (rc == 1)
		return 0;
	if (rc == 2)
		return 2;
	if ((rc = print_mode(&dm.opt)) >= 0)
		return rc;
	if ((rc = load_config(&dm)) < 0 && (rc = claim_host(&dm)) == 0) {
		start_logging_and_survey(&dm);
		if ((rc = start_daemon(&dm)) == 0)
			rc = run(&dm);
	}
	cleanup(&dm);
	return rc;
}
