/* SPDX-License-Identifier: ISC */
/* Running statements: lazy preparation, error classification and logging,
 * and reading values out of text results. */
#include "sa_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

/* SQLSTATE unique_violation: a client-visible conflict, not a fault. */
#define SA_SQLSTATE_UNIQUE "23505"

const char *
sa_i64(char *buf, int64_t v)
{
	snprintf(buf, SA_I64_BUF, "%" PRId64, v);
	return buf;
}

void
sa_log_pgerr(const char *what, const char *msg)
{
	char line[1024];
	size_t i;

	snprintf(line, sizeof(line), "%s", msg != NULL ? msg : "");
	for (i = strlen(line); i > 0 && line[i - 1] == '\n'; i--)
		line[i - 1] = '\0';
	for (i = 0; line[i] != '\0'; i++)
		if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
			line[i] = ' ';
	cb_log(LOG_ERR, "sa: %s: %s", what, line);
}

/* Classifies the result R of WHAT; SA_OK when it succeeded. */
static int
sa_result_check(struct sa_conn *c, const PGresult *r, const char *what)
{
	const char *state;

	if (r == NULL) {
		sa_log_pgerr(what, PQerrorMessage(c->pg));
		return SA_ERR;
	}
	switch (PQresultStatus(r)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		return SA_OK;
	default:
		break;
	}
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (state != NULL && strcmp(state, SA_SQLSTATE_UNIQUE) == 0) {
		cb_log(LOG_DEBUG, "sa: %s: unique violation", what);
		return SA_CONFLICT;
	}
	sa_log_pgerr(what, PQresultErrorMessage(r));
	return SA_ERR;
}

int
sa_exec(struct sa_conn *c, const struct sa_stmt *st, const char *const *vals,
    const int *lens, const int *fmts, PGresult **out)
{
	uint64_t bit = UINT64_C(1) << st->id;
	PGresult *r = NULL;
	int rc = SA_ERR;

	*out = NULL;
	if ((c->prepared & bit) == 0) {
		r = PQprepare(c->pg, st->name, st->sql, st->nparams, NULL);
		if (sa_result_check(c, r, st->name) != SA_OK)
			goto out;
		PQclear(r);
		r = NULL;
		c->prepared |= bit;
	}
	r = PQexecPrepared(c->pg, st->name, st->nparams, vals, lens, fmts, 0);
	rc = sa_result_check(c, r, st->name);
	if (rc != SA_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	PQclear(r);
	return rc;
}

int
sa_exec_simple(struct sa_conn *c, const char *sql, const char *what)
{
	PGresult *r = NULL;
	int rc;

	r = PQexec(c->pg, sql);
	rc = sa_result_check(c, r, what);
	if (rc == SA_CONFLICT) {
		sa_log_pgerr(what, PQresultErrorMessage(r));
		rc = SA_ERR;
	}
	PQclear(r);
	return rc;
}

long
sa_cmd_rows(const PGresult *r)
{
	return strtol(PQcmdTuples((PGresult *)r), NULL, 10);
}

int64_t
sa_col_i64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool
sa_col_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

bool
sa_col_isnull(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

char *
sa_col_dup(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return cb_strdup(PQgetvalue(r, row, col));
}

void
sa_col_copy(const PGresult *r, int row, int col, char *buf, size_t n)
{
	snprintf(buf, n, "%s", PQgetvalue(r, row, col));
}

char *
sa_text_array(const char *const *v, int n)
{
	size_t len = 3, o = 0;
	char *s;

	for (int i = 0; i < n; i++)
		len += 2 * strlen(v[i]) + 3;
	s = cb_malloc(len);
	s[o++] = '{';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			s[o++] = ',';
		s[o++] = '"';
		for (const char *p = v[i]; *p != '\0'; p++) {
			/* Array literal quoting, not SQL: the whole literal
			 * travels as one parameter value. */
			if (*p == '"' || *p == '\\')
				s[o++] = '\\';
			s[o++] = *p;
		}
		s[o++] = '"';
	}
	s[o++] = '}';
	s[o] = '\0';
	return s;
}
