/*
 * lxcscale — the command-line tool: a table of subcommands (see cli/cli.h) and a dispatcher.
 * The table is the only list of commands; `lxcscale help` prints it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command commands[] = {
	{ "help", cli_help, "list the commands" },
	{ "version", cli_version, "print the version" },
	{ "model", cli_model, "model eval: train the anomaly model on a CSV (JSON); model show: the daemon's model" },
	{ "status", cli_status, "containers: limits, usage, pressure, score, last decision ([ID])" },
	{ "scale", cli_scale, "set limits now: scale ID --cores N --memory MB [--no-persist]" },
	{ "decisions", cli_decisions, "the decision journal; --follow streams new decisions" },
	{ "undo", cli_undo, "put a container back to its limits before a decision: undo SEQ | --container ID [--since T]" },
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

/* The API commands' common options may come before the command (`lxcscale --url U status`):
 * they are moved after it, where the command's getopt_long reads them. */
static bool global_opt(const char *a, bool *takes_value)
{
	static const char *const with_value[] = {"--url", "--api-key", "--config"};
	*takes_value = false;
	if (!strcmp(a, "--json"))
		return true;
	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++) {
		size_t n = strlen(with_value[i]);
		if (!strncmp(a, with_value[i], n) && (a[n] == '\0' || a[n] == '=')) {
			*takes_value = a[n] == '\0';
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	int first = 1;
	char **moved = NULL;
	for (bool v; first < argc && global_opt(argv[first], &v); first += v ? 2 : 1)
		if (v && first + 1 >= argc) {
			fprintf(stderr, "lxcscale: %s needs a value\n", argv[first]);
			return 2;
		}
	if (first > 1 && first < argc) {
		/* argv[first] is the command: [prog, cmd, its args..., the global options] */
		moved = calloc((size_t)argc + 1, sizeof(*moved));
		if (!moved)
			return 1;
		int n = 0;
		moved[n++] = argv[0];
		for (int i = first; i < argc; i++)
			moved[n++] = argv[i];
		for (int i = 1; i < first; i++)
			moved[n++] = argv[i];
		argv = moved;
	}
	if (argc < 2 || first >= argc) {
		print_commands(stderr);
		free(moved);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	else if (!strcmp(name, "--version"))
		name = "version";
	int rc = 2;
	size_t i = 0;
	while (i < N_COMMANDS && strcmp(commands[i].name, name) != 0)
		i++;
	if (i < N_COMMANDS) {
		rc = commands[i].fn(argc - 1, argv + 1);
	} else {
		fprintf(stderr, "lxcscale: unknown command '%s'\n", argv[1]);
		print_commands(stderr);
	}
	free(moved);
	return rc;
}
