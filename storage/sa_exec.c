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

/* sa_log_pgerr() at LEVEL. */
static void
sa_log_pgerr_at(int level, const char *what, const char *msg)
{
	char line[1024];
	size_t i;

	snprintf(line, sizeof(line), "%s", msg != NULL ? msg : "");
	for (i = strlen(line); i > 0 && line[i - 1] == '\n'; i--)
		line[i - 1] = '\0';
	for (i = 0; line[i] != '\0'; i++)
		if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
			line[i] = ' ';
	cb_log(level, "sa: %s: %s", what, line);
}

void
sa_log_pgerr(const char *what, const char *msg)
{
	sa_log_pgerr_at(LOG_ERR, what, msg);
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
	sa_log_pgerr_at(c->errors_rerun ? LOG_DEBUG : LOG_ERR, what,
	    PQresultErrorMessage(r));
	return SA_ERR;
}

/* What a batch sent, in order; each gets one result. */
enum sa_cmd_kind {
	SA_CMD_BEGIN,
	SA_CMD_PREPARE,
	SA_CMD_EXEC,
	SA_CMD_COMMIT,
};

struct sa_cmd {
	enum sa_cmd_kind kind;
	int item; /* index into the batch's items, or -1 for BEGIN */
};

/* Up to BEGIN, then a preparation and an execution per item, then up to
 * COMMIT. */
#define SA_RUN_CMDS (2 + 2 * SA_RUN_MAX)

/* Queues the commands of a batch and the Sync that ends it; CMDS and
 * *NCMD say what was queued, even when a send fails. */
static int
sa_batch_send(struct sa_conn *c, const struct sa_batch_item *items, int n,
    struct sa_cmd *cmds, int *ncmd)
{
	uint64_t preparing = 0;

	*ncmd = 0;
	if (c->begin_pending) {
		c->begin_pending = false;
		if (!PQsendQueryParams(
		        c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
			return SA_ERR;
		cmds[(*ncmd)++] = (struct sa_cmd){SA_CMD_BEGIN, -1};
	}
	for (int i = 0; i < n; i++) {
		const struct sa_stmt *st = items[i].st;
		uint64_t bit = UINT64_C(1) << st->id;

		if (((c->prepared | preparing) & bit) == 0) {
			if (!PQsendPrepare(
			        c->pg, st->name, st->sql, st->nparams, NULL))
				return SA_ERR;
			preparing |= bit;
			cmds[(*ncmd)++] = (struct sa_cmd){SA_CMD_PREPARE, i};
		}
		if (!PQsendQueryPrepared(c->pg, st->name, st->nparams,
		        items[i].vals, items[i].lens, items[i].fmts, 0))
			return SA_ERR;
		cmds[(*ncmd)++] = (struct sa_cmd){SA_CMD_EXEC, i};
	}
	if (c->commit_pending) {
		c->commit_pending = false;
		if (!PQsendQueryParams(
		        c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
			return SA_ERR;
		cmds[(*ncmd)++] = (struct sa_cmd){SA_CMD_COMMIT, -1};
	}
	return PQpipelineSync(c->pg) ? SA_OK : SA_ERR;
}

/* Reads every result up to the Sync: the first of command K into
 * RES[K]. Each command's results end with a NULL; two NULLs in a row
 * mean nothing more will come (the connection is gone). */
static void
sa_batch_collect(struct sa_conn *c, PGresult **res, int ncmd)
{
	PGresult *r;
	int k = 0, nulls = 0;

	while (nulls < 2) {
		r = PQgetResult(c->pg);
		if (r == NULL) {
			nulls++;
			k++;
			continue;
		}
		nulls = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (k < ncmd && res[k] == NULL)
			res[k] = r;
		else
			PQclear(r);
	}
}

/* Checks the results in order up to the first failure, recording
 * preparations and handing the executions' results to OUTS. */
static int
sa_batch_check(struct sa_conn *c, const struct sa_batch_item *items,
    const struct sa_cmd *cmds, PGresult **res, int ncmd, PGresult **outs)
{
	for (int k = 0; k < ncmd; k++) {
		const struct sa_stmt *st =
		    cmds[k].item >= 0 ? items[cmds[k].item].st : NULL;
		int rc = sa_result_check(c, res[k],
		    st != NULL                         ? st->name
		        : cmds[k].kind == SA_CMD_BEGIN ? "begin"
		                                       : "commit");

		if (rc != SA_OK)
			return rc;
		if (cmds[k].kind == SA_CMD_PREPARE)
			c->prepared |= UINT64_C(1) << st->id;
		if (cmds[k].kind == SA_CMD_EXEC) {
			outs[cmds[k].item] = res[k];
			res[k] = NULL;
		}
	}
	return SA_OK;
}

/* Whether ITEMS hold a statement that may share its commit. */
static bool
sa_batch_grouped(const struct sa_batch_item *items, int n)
{
	for (int i = 0; i < n; i++)
		if (items[i].st->grouped)
			return true;
	return false;
}

int
sa_exec_batch(struct sa_conn *c, const struct sa_batch_item *items, int n,
    PGresult **outs)
{
	if (n < 1 || n > SA_BATCH_MAX) {
		cb_log(LOG_ERR, "sa: batch of %d statements", n);
		return SA_ERR;
	}
	if (c->group != NULL && !sa_in_tx(c) && sa_batch_grouped(items, n))
		return sa_group_exec(c->group, c, items, n, outs);
	return sa_batch_run(c, items, n, outs);
}

int
sa_batch_run(struct sa_conn *c, const struct sa_batch_item *items, int n,
    PGresult **outs)
{
	struct sa_cmd cmds[SA_RUN_CMDS];
	PGresult *res[SA_RUN_CMDS] = {NULL};
	int ncmd = 0, rc = SA_ERR;

	if (n < 1 || n > SA_RUN_MAX) {
		cb_log(LOG_ERR, "sa: run of %d statements", n);
		return SA_ERR;
	}
	for (int i = 0; i < n; i++)
		outs[i] = NULL;
	if (!PQenterPipelineMode(c->pg)) {
		sa_log_pgerr("pipeline", PQerrorMessage(c->pg));
		return SA_ERR;
	}
	if (sa_batch_send(c, items, n, cmds, &ncmd) != SA_OK) {
		sa_log_pgerr("pipeline send", PQerrorMessage(c->pg));
		/* Ends what was queued, so the collection below returns. */
		(void)PQpipelineSync(c->pg);
	}
	sa_batch_collect(c, res, ncmd);
	rc = sa_batch_check(c, items, cmds, res, ncmd, outs);
	/* A connection left in pipeline mode is reset by the pool
	 * (sa_conn_alive). */
	if (!PQexitPipelineMode(c->pg)) {
		sa_log_pgerr("pipeline end", PQerrorMessage(c->pg));
		rc = SA_ERR;
	}
	for (int k = 0; k < ncmd; k++)
		PQclear(res[k]);
	if (rc != SA_OK) {
		for (int i = 0; i < n; i++) {
			PQclear(outs[i]);
			outs[i] = NULL;
		}
	}
	return rc;
}

int
sa_exec(struct sa_conn *c, const struct sa_stmt *st, const char *const *vals,
    const int *lens, const int *fmts, PGresult **out)
{
	const struct sa_batch_item item = {st, vals, lens, fmts};
	PGresult *r = NULL;
	int rc;

	*out = NULL;
	if ((c->prepared & (UINT64_C(1) << st->id)) == 0 || c->begin_pending ||
	    c->commit_pending || (st->grouped && c->group != NULL))
		return sa_exec_batch(c, &item, 1, out);
	r = PQexecPrepared(c->pg, st->name, st->nparams, vals, lens, fmts, 0);
	rc = sa_result_check(c, r, st->name);
	if (rc == SA_OK) {
		*out = r;
		r = NULL;
	}
	PQclear(r);
	return rc;
}

int
sa_exec_simple(struct sa_conn *c, const char *sql, const char *what)
{
	PGresult *r = NULL;
	int rc;

	if (c->begin_pending) {
		/* No pipelining with the simple protocol: BEGIN alone. */
		c->begin_pending = false;
		if (sa_exec_simple(c, "BEGIN", "begin") != SA_OK)
			return SA_ERR;
	}
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
sa_i64_array(const int64_t *v, int n)
{
	size_t len = 3 + (size_t)n * SA_I64_BUF, o = 0;
	char *s = cb_malloc(len);

	s[o++] = '{';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(
		    s + o, len - o, "%s%" PRId64, i > 0 ? "," : "", v[i]);
	snprintf(s + o, len - o, "}");
	return s;
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
