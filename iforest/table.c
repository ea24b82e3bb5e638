/*
 * table.c — a small, strict CSV reader for numeric tables (plain or gzip through zlib).
 *
 * The first line names the columns; every other non-empty line must have exactly that many
 * cells, each a complete finite number (surrounding spaces allowed). Lines are bounded at
 * 1 MiB and columns at 4096; the first problem is reported as "line N: why" and nothing is
 * returned. Used by `lxcscale model eval` and by the tests; it knows nothing about forests.
 */
#include "iforest.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define LINE_CAP (1u << 20)
#define MAX_COLS 4096

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = 0;
		s++;
	}
	return s;
}

void iforest_table_free(iforest_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->names && i < t->cols; i++)
		free(t->names[i]);
	free(t->names);
	free(t->data);
	memset(t, 0, sizeof(*t));
}

int iforest_table_read(const char *path, iforest_table *t, char *err, size_t errlen)
{
	if (!path || !t)
		return IFOREST_E_INVAL;
	memset(t, 0, sizeof(*t));
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return fail(err, errlen, IFOREST_E_IO, "cannot open: %s", strerror(errno ? errno : ENOMEM));
	char *line = malloc(LINE_CAP);
	size_t cap = 0, lineno = 0;
	int rc = IFOREST_E_NOMEM;
	if (!line)
		goto out;

	rc = IFOREST_E_PARSE;
	for (;;) {
		lineno++;
		if (!gzgets(gz, line, LINE_CAP)) {
			rc = fail(err, errlen, IFOREST_E_PARSE, "line %zu: no header line", lineno);
			goto out;
		}
		if (*trim(line))
			break;
	}
	if (strlen(line) >= LINE_CAP - 2) {
		rc = fail(err, errlen, IFOREST_E_PARSE, "line %zu: longer than 1 MiB", lineno);
		goto out;
	}
	{
		size_t cols = 1;
		for (char *p = line; *p; p++)
			cols += *p == ',';
		if (cols > MAX_COLS) {
			rc = fail(err, errlen, IFOREST_E_PARSE, "line %zu: more than %d columns", lineno, MAX_COLS);
			goto out;
		}
		t->names = calloc(cols, sizeof(char *));
		if (!t->names) {
			rc = IFOREST_E_NOMEM;
			goto out;
		}
		t->cols = cols;
		char *p = line;
		for (size_t c = 0; c < cols; c++) {
			char *comma = strchr(p, ',');
			if (comma)
				*comma = 0;
			t->names[c] = strdup(trim(p));
			if (!t->names[c]) {
				rc = IFOREST_E_NOMEM;
				goto out;
			}
			p = comma ? comma + 1 : p + strlen(p);
		}
	}
	for (;;) {
		lineno++;
		if (!gzgets(gz, line, LINE_CAP))
			break;
		size_t len = strlen(line);
		if (len >= LINE_CAP - 2 && line[len - 1] != '\n') {
			rc = fail(err, errlen, IFOREST_E_PARSE, "line %zu: longer than 1 MiB", lineno);
			goto out;
		}
		if (!*trim(line))
			continue;
		if ((t->rows + 1) * t->cols > cap) {
			size_t nc = cap ? cap * 2 : t->cols * 1024;
			double *d = realloc(t->data, nc * sizeof(double));
			if (!d) {
				rc = IFOREST_E_NOMEM;
				goto out;
			}
			t->data = d;
			cap = nc;
		}
		double *row = t->data + t->rows * t->cols;
		char *p = line;
		for (size_t c = 0; c < t->cols; c++) {
			char *comma = strchr(p, ',');
			if (comma)
				*comma = 0;
			else if (c + 1 < t->cols) {
				rc = fail(err, errlen, IFOREST_E_PARSE, "line %zu: %zu cells, expected %zu",
				          lineno, c + 1, t->cols);
				goto out;
			}
			char *cell = trim(p), *end;
			errno = 0;
			double v = strtod(cell, &end);
			if (!*cell || *end || errno == ERANGE || !isfinite(v)) {
				rc = fail(err, errlen, IFOREST_E_PARSE, "line %zu: column %zu (%s): not a finite number: \"%.40s\"",
				          lineno, c + 1, t->names[c], cell);
				goto out;
			}
			row[c] = v;
			p = comma ? comma + 1 : p + strlen(p);
			if (!comma && c + 1 == t->cols)
				break;
			if (comma && c + 1 == t->cols) {
				rc = fail(err, errlen, IFOREST_E_PARSE, "line %zu: more than %zu cells", lineno, t->cols);
				goto out;
			}
		}
		t->rows++;
	}
	{
		int zerr;
		gzerror(gz, &zerr);
		if (zerr != Z_OK && zerr != Z_STREAM_END) {
			rc = fail(err, errlen, IFOREST_E_IO, "line %zu: read error (corrupt gzip?)", lineno);
			goto out;
		}
	}
	if (t->rows == 0) {
		rc = fail(err, errlen, IFOREST_E_EMPTY, "no data rows");
		goto out;
	}
	rc = IFOREST_OK;
out:
	free(line);
	gzclose(gz);
	if (rc != IFOREST_OK)
		iforest_table_free(t);
	return rc;
}
