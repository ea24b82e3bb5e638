/*
 * sim/report_data.c — writes the report's JSON (sim/report_data.h), straight to the stream.
 *
 * Nothing is built in memory: the writer walks the traces and their timelines and prints as
 * it goes, so a report costs no more memory than the timelines themselves. Strings are few
 * (names, labels, kinds) and go through one escaping function; numbers go through one
 * formatting function with a fixed number of decimals per kind of figure (seconds to the
 * millisecond, cores to the thousandth, MiB to the tenth), enough for a chart and compact.
 */
#include "sim/report_data.h"

#include <math.h>
#include <string.h>

#include "base/errbuf.h"

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0 when the bytes
 * there are not one (bad lead byte, missing or bad continuation, overlong, surrogate, above
 * U+10FFFF). s is NUL-terminated, so a cut sequence stops at the NUL. */
static size_t utf8_sequence(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t len;
	uint32_t min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

void report_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', f);
	while (*p) {
		uint32_t cp;
		size_t len = utf8_sequence(p, &cp);
		if (len == 0) {
			fputs("\\ufffd", f); /* a byte that is not UTF-8: the replacement character */
			p++;
			continue;
		}
		switch (cp) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '<': case '>': case '&': case 0x2028: case 0x2029:
			fprintf(f, "\\u%04x", (unsigned)cp);
			break;
		default:
			if (cp < 0x20 || cp == 0x7F)
				fprintf(f, "\\u%04x", (unsigned)cp);
			else
				fwrite(p, 1, len, f);
		}
		p += len;
	}
	fputc('"', f);
}

void report_json_number(FILE *f, double v, int decimals)
{
	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	char buf[400]; /* any finite double with 9 decimals fits */
	int n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
	if (n <= 0 || (size_t)n >= sizeof buf) {
		fputs("null", f);
		return;
	}
	if (strchr(buf, '.')) {
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	fputs(strcmp(buf, "-0") == 0 ? "0" : buf, f);
}

#define DEC_S 3   /* seconds: to the millisecond */
#define DEC_CPU 3 /* cores */
#define DEC_MEM 1 /* MiB */

static void seconds(FILE *f, int64_t ms)
{
	report_json_number(f, (double)ms / 1000.0, DEC_S);
}

/* A key: ,"name": (no comma before the first of an object) */
static void key(FILE *f, const char *name, int *first)
{
	if (!*first)
		fputc(',', f);
	*first = 0;
	report_json_string(f, name);
	fputc(':', f);
}

static void string_array(FILE *f, const char *const *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		report_json_string(f, v[i]);
	}
	fputc(']', f);
}

/* The scorecard's cells as printed: one array per policy, one string per row. */
static void cells(FILE *f, const struct scorecard_summary *const *sum, size_t n_policies)
{
	fputc('[', f);
	for (size_t k = 0; k < n_policies; k++) {
		if (k)
			fputc(',', f);
		fputc('[', f);
		for (size_t row = 0; row < scorecard_row_count(); row++) {
			char cell[SCORECARD_CELL_MAX];
			scorecard_row_format(sum[k], row, cell, sizeof cell);
			if (row)
				fputc(',', f);
			report_json_string(f, cell);
		}
		fputc(']', f);
	}
	fputc(']', f);
}

/* One series of a timeline's points: [v0,v1,...] */
static void series(FILE *f, const struct timeline *tl, enum timeline_series s, int decimals)
{
	fputc('[', f);
	size_t n = timeline_points(tl);
	for (size_t i = 0; i < n; i++) {
		int64_t t;
		double v[TL_N_SERIES];
		timeline_point(tl, i, &t, v);
		if (i)
			fputc(',', f);
		report_json_number(f, v[s], decimals);
	}
	fputc(']', f);
}

static void times(FILE *f, const struct timeline *tl)
{
	fputc('[', f);
	size_t n = timeline_points(tl);
	for (size_t i = 0; i < n; i++) {
		int64_t t;
		double v[TL_N_SERIES];
		timeline_point(tl, i, &t, v);
		if (i)
			fputc(',', f);
		seconds(f, t);
	}
	fputc(']', f);
}

/* [[start,end],...] */
static void ranges(FILE *f, const struct timeline *tl, enum timeline_range_kind k)
{
	fputc('[', f);
	for (size_t i = 0; i < tl->n_ranges[k]; i++) {
		if (i)
			fputc(',', f);
		fputc('[', f);
		seconds(f, tl->ranges[k][i].start_ms);
		fputc(',', f);
		seconds(f, tl->ranges[k][i].end_ms);
		fputc(']', f);
	}
	fputc(']', f);
}

static void run_object(FILE *f, const char *policy, const struct timeline *tl)
{
	int first = 1;
	fputc('{', f);
	key(f, "policy", &first);
	report_json_string(f, policy);
	key(f, "cpu_limit", &first);
	series(f, tl, TL_CPU_LIMIT, DEC_CPU);
	key(f, "mem_limit", &first);
	series(f, tl, TL_MEM_LIMIT, DEC_MEM);
	key(f, "cpu_throttled", &first);
	ranges(f, tl, TL_CPU_THROTTLED);
	key(f, "mem_pressure", &first);
	ranges(f, tl, TL_MEM_PRESSURE);
	key(f, "oom", &first);
	fputc('[', f);
	for (size_t i = 0; i < tl->n_oom; i++) {
		if (i)
			fputc(',', f);
		seconds(f, tl->oom_ms[i]);
	}
	fputc(']', f);
	key(f, "oom_total", &first);
	fprintf(f, "%llu", (unsigned long long)tl->oom_total);
	fputc('}', f);
}

static void incidents(FILE *f, const struct scenario *s)
{
	fputc('[', f);
	for (size_t i = 0; i < s->n_incidents; i++) {
		const struct scenario_incident *in = &s->incidents[i];
		int first = 1;
		if (i)
			fputc(',', f);
		fputc('{', f);
		key(f, "kind", &first);
		report_json_string(f, incident_kind_name(in->kind));
		key(f, "start", &first);
		seconds(f, in->start_ms - s->start_ms);
		key(f, "end", &first);
		seconds(f, in->end_ms - s->start_ms);
		key(f, "relievable", &first);
		fputs(in->relievable ? "true" : "false", f);
		fputc('}', f);
	}
	fputc(']', f);
}

static void trace_object(FILE *f, const struct report *r, const struct report_trace *rt)
{
	const struct scenario *s = rt->trace;
	const struct timeline *tl = rt->runs[0]; /* the demand is the trace's: any run has it */
	int first = 1;
	fputc('{', f);
	key(f, "name", &first);
	report_json_string(f, s->name);
	key(f, "vmid", &first);
	fprintf(f, "%u", (unsigned)s->vmid);
	key(f, "start", &first);
	seconds(f, s->start_ms);
	key(f, "step", &first);
	seconds(f, s->step_ms);
	key(f, "steps", &first);
	fprintf(f, "%zu", s->n_steps);
	key(f, "bucket_steps", &first);
	fprintf(f, "%zu", tl->bucket_steps);
	key(f, "init_cpu", &first);
	report_json_number(f, s->init_cpu_cores, DEC_CPU);
	key(f, "init_mem", &first);
	report_json_number(f, s->init_mem_mb, DEC_MEM);
	key(f, "incidents", &first);
	incidents(f, s);
	key(f, "t", &first);
	times(f, tl);
	key(f, "cpu_demand", &first);
	series(f, tl, TL_CPU_DEMAND, DEC_CPU);
	key(f, "mem_demand", &first);
	series(f, tl, TL_MEM_DEMAND, DEC_MEM);
	key(f, "runs", &first);
	fputc('[', f);
	for (size_t k = 0; k < r->n_policies; k++) {
		if (k)
			fputc(',', f);
		run_object(f, r->policies[k], rt->runs[k]);
	}
	fputc(']', f);
	key(f, "cells", &first);
	cells(f, rt->summary, r->n_policies);
	fputc('}', f);
}

/* Everything the writer relies on, checked before the first byte. */
static int check(const struct report *r, char *err, size_t errlen)
{
	if (r->n_policies < 1 || r->n_policies > REPORT_MAX_POLICIES || !r->policies || !r->total) {
		errbuf_set(err, errlen, "report: %zu policies (1..%d)", r->n_policies, REPORT_MAX_POLICIES);
		return -1;
	}
	if (r->n_traces && !r->traces) {
		errbuf_set(err, errlen, "report: no traces");
		return -1;
	}
	for (size_t i = 0; i < r->n_traces; i++) {
		const struct report_trace *rt = &r->traces[i];
		if (!rt->trace) {
			errbuf_set(err, errlen, "report: trace %zu missing", i);
			return -1;
		}
		for (size_t k = 0; k < r->n_policies; k++) {
			if (!rt->runs[k] || !rt->summary[k] || !r->policies[k]) {
				errbuf_set(err, errlen, "report: %s: run %zu missing", rt->trace->name, k);
				return -1;
			}
			if (timeline_points(rt->runs[k]) != timeline_points(rt->runs[0]) ||
			    rt->runs[k]->bucket_steps != rt->runs[0]->bucket_steps) {
				errbuf_set(err, errlen, "report: %s: the runs have different timelines", rt->trace->name);
				return -1;
			}
		}
	}
	return 0;
}

int report_data_write(FILE *f, const struct report *r, char *err, size_t errlen)
{
	if (check(r, err, errlen) != 0)
		return -1;
	int first = 1;
	fputc('{', f);
	key(f, "generator", &first);
	report_json_string(f, "lxcscale replay");
	key(f, "version", &first);
	report_json_string(f, r->version ? r->version : "");
	key(f, "input", &first);
	report_json_string(f, r->input ? r->input : "");
	key(f, "policies", &first);
	string_array(f, r->policies, r->n_policies);
	key(f, "rows", &first);
	fputc('[', f);
	for (size_t row = 0; row < scorecard_row_count(); row++) {
		if (row)
			fputc(',', f);
		report_json_string(f, scorecard_row_label(row));
	}
	fputc(']', f);
	key(f, "max_points", &first);
	fprintf(f, "%zu", r->max_points);
	key(f, "total", &first);
	{
		int tf = 1;
		const struct scorecard_summary *sum[REPORT_MAX_POLICIES];
		for (size_t k = 0; k < r->n_policies; k++)
			sum[k] = &r->total[k];
		fputc('{', f);
		key(f, "title", &tf);
		report_json_string(f, r->total_title ? r->total_title : "total");
		key(f, "cells", &tf);
		cells(f, sum, r->n_policies);
		fputc('}', f);
	}
	key(f, "traces", &first);
	fputc('[', f);
	for (size_t i = 0; i < r->n_traces; i++) {
		if (i)
			fputc(',', f);
		fputc('\n', f); /* one trace a line: readable with head/grep, and still JSON */
		trace_object(f, r, &r->traces[i]);
	}
	fputs("]}", f);
	if (ferror(f)) {
		errbuf_set(err, errlen, "write error");
		return -1;
	}
	return 0;
}
