/*
 * lxcscale — the command-line tool: a table of subcommands (see cli/cli.h) and a dispatcher.
 * The table is the only list of commands; `lxcscale help` prints it.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command commands[] = {
	{ "help", cli_help, "list the commands" },
	{ "version", cli_version, "print the version" },
	{ "model", cli_model, "model eval: train the anomaly model on a CSV (JSON); model show: the daemon's model" },
	{ "status", cli_status, "containers: limits, usage, pressure, score, last decision ([ID])" },
	{ "scale", cli_scale, "set limits now: scale ID --cores N --memory MB [--no-persist]" },
	{ "decisions", cli_decisions, "the decision journal; --follow streams new decisions" },
	{ "top", cli_top, "a live table of containers, refreshed in place" },
	{ "replay", cli_replay, "replay a recording, a metrics file or scenarios through the policies" },
	{ "import-metrics", cli_import_metrics, "seed the model from a reference lxc_metrics.json" },
	{ "migrate-config", cli_migrate_config, "convert LXC AutoScale ML's lxc_autoscale_ml.yaml into lxcscale.yaml" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int cli_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("lxcscale %s\n", LXCSCALE_VERSION);
	return 0;
}

static void print_commands(FILE *to)
{
	int width = 0; /* the longest name, so the descriptions form one column */
	for (size_t i = 0; i < N_COMMANDS; i++)
		if ((int)strlen(commands[i].name) > width)
			width = (int)strlen(commands[i].name);
	fprintf(to, "usage: lxcscale <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(to, "  %-*s  %s\n", width, commands[i].name, commands[i].help);
	fprintf(to, "\n`lxcscale <command> --help` describes a command's options.\n");
}

int cli_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_commands(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_commands(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	else if (!strcmp(name, "--version"))
		name = "version";
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "lxcscale: unknown command '%s'\n", argv[1]);
	print_commands(stderr);
	return 2;
}
