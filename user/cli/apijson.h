/*
 * cli/apijson.h — reading the daemon's JSON answers in the lxcscale commands (defined in
 * cli/cmd_daemon.c, shared with cli/cmd_top.c): dotted-path getters that give defaults for
 * what is missing, one GET with the exit-code mapping, and the container table's rows.
 */
#ifndef LXCSCALE_CLI_APIJSON_H
#define LXCSCALE_CLI_APIJSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/client.h"

/* "limits.cores" -> that member, or NULL */
json_object *cli_jget(json_object *o, const char *path);
/* the number there, 0 when missing */
double cli_jnum(json_object *o, const char *path);
/* the string there, "" when missing */
const char *cli_jstr(json_object *o, const char *path);
/* "cpu 1→2 (psi)" for a decision object, "-" for none */
void cli_decision_summary(json_object *d, char *buf, size_t len);
/* GET path: CLI_OK with the parsed answer and its text (free both), else the exit code
 * with the API's message printed */
int cli_get_json(const struct cli_conn *conn, const char *path, json_object **out, char **raw);
/* the `status` table: its header line and one container's row */
void cli_print_table_header(FILE *f);
void cli_print_row(FILE *f, json_object *c);

#endif
