/*
 * sim/report_data.h — the replay's results as the JSON the HTML report draws from.
 *
 * `lxcscale replay --html FILE` writes one self-contained page (cli/replay_html.c): the
 * chart library, ui/report.js, and this data, inline in a <script type="application/json">
 * element. This module writes the data: what was replayed, the policies, the scorecard's
 * rows as printed (the same strings as the text scorecard, sim/scorecard.h), and per trace
 * its incidents, its timeline (sim/timeline.h: the time of each point, the demand, and per
 * policy the limits, the ranges where the limits hurt and the OOM kills) and its scorecard.
 *
 * The JSON goes inside an HTML <script> element, which ends at the first "</script" whatever
 * the JSON means: so every string is written with <, > and & as \u003c, \u003e and \u0026
 * (JSON.parse reads them back as the characters), along with the escapes JSON itself needs,
 * U+2028 and U+2029 (which older JavaScript does not allow in strings) as \u2028 and
 * \u2029, and any byte that is not valid UTF-8 as U+FFFD. Numbers are plain decimals; a
 * value that is not finite is null. Keys and the layout are described in ui/report.js, the
 * one reader.
 *
 * Times in the data are seconds: each trace's start as a Unix time, everything else since
 * that start.
 */
#ifndef LXCSCALE_REPORT_DATA_H
#define LXCSCALE_REPORT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/scenarios.h"
#include "sim/scorecard.h"
#include "sim/timeline.h"

#define REPORT_MAX_POLICIES 2

/* One trace: the trace, and per policy (in the order of report.policies) its run's timeline
 * and scorecard summary. */
struct report_trace {
	const struct scenario *trace;
	const struct timeline *runs[REPORT_MAX_POLICIES];
	const struct scorecard_summary *summary[REPORT_MAX_POLICIES];
};

struct report {
	const char *input;               /* what was replayed: a file name or "--scenario all" */
	const char *version;             /* lxcscale's */
	const char *const *policies;     /* column names: "lxcscale", "reference" */
	size_t n_policies;               /* 1..REPORT_MAX_POLICIES */
	const struct report_trace *traces;
	size_t n_traces;
	size_t max_points;               /* the most points a chart was given (timeline_begin) */
	const char *total_title;         /* the text scorecard's title: "total: 15 traces, ..." */
	const struct scorecard_summary *total; /* [n_policies] */
};

/* Writes s as a JSON string (quotes included), safe inside an HTML <script> element. */
void report_json_string(FILE *f, const char *s);

/* Writes v with at most `decimals` decimals, trailing zeros dropped ("2", "0.25", "-1.5");
 * null when v is not finite. */
void report_json_number(FILE *f, double v, int decimals);

/* Writes the whole data object. Returns 0, or -1 with a message in err: an inconsistent
 * report (no policy, a run missing, runs of one trace with different points), or a write
 * error on f (errno kept). */
int report_data_write(FILE *f, const struct report *r, char *err, size_t errlen);

#endif
