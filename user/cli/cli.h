/*
 * cli/cli.h — the `lxcscale` command's subcommands.
 *
 * `lxcscale <command> [args]` looks the command up in the table in user/cli/main.c and
 * calls its function with argc/argv starting at the command name (argv[0] = "status"),
 * so each command parses its own options with getopt_long. A command returns the
 * process exit status: 0 success, 1 failure, 2 usage error.
 *
 * To add a command: implement `int cli_<name>(int argc, char **argv)` in its own file
 * under user/ (e.g. user/cli_status.c), declare it below, and add one row to the table
 * in user/cli/main.c: { "status", cli_status, "one line of help" }.
 *
 * Folder: cli/ owns the lxcscale command: its subcommands and the HTTP client for the daemon's
 * API.
 * May include: types/ base/ config/ features/ score/ decide/ record/ compat/ sim/ iforest/ and
 * ui/ (the table in user/README.md).
 */
#ifndef LXCSCALE_CLI_H
#define LXCSCALE_CLI_H

typedef int (*cli_fn)(int argc, char **argv);

struct cli_command {
	const char *name;
	cli_fn fn;
	const char *help;
};

int cli_version(int argc, char **argv);
int cli_help(int argc, char **argv);
int cli_migrate_config(int argc, char **argv); /* user/cli/cmd_migrate.c */
int cli_replay(int argc, char **argv);     /* user/cli/cmd_replay.c */
int cli_model(int argc, char **argv);      /* user/cli/cmd_model.c: lxcscale model eval */

/* user/cli/cmd_daemon.c: commands that talk to the daemon's REST API (exit codes: cli/client.h) */
int cli_status(int argc, char **argv);
int cli_scale(int argc, char **argv);
int cli_decisions(int argc, char **argv);
int cli_undo(int argc, char **argv);
int cli_top(int argc, char **argv);
int cli_model_show(int argc, char **argv); /* `lxcscale model show` */
int cli_import_metrics(int argc, char **argv);   /* user/cli/cmd_import.c */

/* Commands added by their modules (declare here, add a row in user/cli/main.c):
 *   int cli_status(int argc, char **argv);
 *   int cli_scale(int argc, char **argv);
 */

#endif
