/* SPDX-License-Identifier: ISC */
/* Authorizations and their challenges: lookup, reuse, deactivation, and
 * queueing a challenge for validation. */
#include "sa_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

/* 8 columns, read by sa_challenge_read(). */
#define SA_CHALLENGE_COLS                                                      \
	"c.id, c.authz_id, c.type, c.token, c.status,"                         \
	" floor(extract(epoch FROM c.validated))::bigint, c.error, c.record"

static const struct sa_stmt sa_authz_get_stmt = {
    SA_STMT_AUTHZ_GET,
    "sa_authz_get",
    "SELECT a.id, a.account_id, a.ident_type, a.ident_value, a.wildcard,"
    " a.status, floor(extract(epoch FROM a.expires))::bigint,"
    " " SA_CHALLENGE_COLS
    " FROM authzs a LEFT JOIN challenges c ON c.authz_id = a.id"
    " WHERE a.id = $1::bigint",
    1,
    false,
};

const struct sa_stmt sa_authz_get_by_challenge_stmt = {
    SA_STMT_AUTHZ_GET_BY_CHALLENGE,
    "sa_authz_get_by_challenge",
    "SELECT a.id, a.account_id, a.ident_type, a.ident_value, a.wildcard,"
    " a.status, floor(extract(epoch FROM a.expires))::bigint,"
    " " SA_CHALLENGE_COLS
    " FROM authzs a LEFT JOIN challenges c ON c.authz_id = a.id"
    " WHERE a.id = (SELECT authz_id FROM challenges"
    "  WHERE id = $1::bigint)",
    1,
    false,
};

/* One statement: the row count says whether it changed, the EXISTS
 * whether there was anything to change. */
static const struct sa_stmt sa_authz_deactivate_stmt = {
    SA_STMT_AUTHZ_DEACTIVATE,
    "sa_authz_deactivate",
    "WITH u AS (UPDATE authzs SET status = 'deactivated'"
    "  WHERE id = $1::bigint AND status IN ('pending', 'valid')"
    "  RETURNING id)"
    " SELECT (SELECT count(*) FROM u),"
    " EXISTS (SELECT 1 FROM authzs WHERE id = $1::bigint)",
    1,
    false,
};

static const struct sa_stmt sa_authz_find_valid_stmt = {
    SA_STMT_AUTHZ_FIND_VALID,
    "sa_authz_find_valid",
    "SELECT id FROM authzs WHERE account_id = $1::bigint"
    " AND ident_type = $2::text AND ident_value = $3::text"
    " AND wildcard = $4::boolean AND status = 'valid'"
    " AND expires > to_timestamp($5::double precision)"
    " ORDER BY id DESC LIMIT 1",
    5,
    false,
};

static const struct sa_stmt sa_challenge_get_stmt = {
    SA_STMT_CHALLENGE_GET,
    "sa_challenge_get",
    "SELECT " SA_CHALLENGE_COLS " FROM challenges c WHERE c.id = $1::bigint",
    1,
    false,
};

/* Serializes sa_challenge_begin() per authorization: the next statement
 * starts after the lock is granted, with a snapshot of its own, so it
 * sees what a concurrent begin or finish committed. One statement cannot
 * do this: all its parts share the snapshot taken when it started, before
 * the lock was waited for, and the re-check after the wait (EvalPlanQual)
 * covers only the rows it updates, never a sibling challenge. Both
 * statements travel together (sa_exec_batch), so this costs no extra
 * round trip. */
static const struct sa_stmt sa_challenge_lock_authz_stmt = {
    SA_STMT_CHALLENGE_LOCK_AUTHZ,
    "sa_challenge_lock_authz",
    "SELECT a.id FROM authzs a JOIN challenges c ON c.authz_id = a.id"
    " WHERE c.id = $1::bigint FOR UPDATE OF a",
    1,
    true,
};

static const struct sa_stmt sa_challenge_begin_stmt = {
    SA_STMT_CHALLENGE_BEGIN,
    "sa_challenge_begin",
    "WITH u AS (UPDATE challenges c"
    "  SET status = 'processing', lease_until = CASE WHEN $2::integer > 0"
    "   THEN now() + make_interval(secs => $2::integer) END"
    "  FROM authzs a"
    "  WHERE c.id = $1::bigint AND a.id = c.authz_id"
    "  AND a.account_id = $3::bigint"
    "  AND c.status = 'pending' AND a.status = 'pending'"
    "  AND a.expires > now()"
    /* A scalar subquery, not NOT EXISTS: the planner may turn NOT
     * EXISTS into an anti-join scanning every challenge while the table
     * has no statistics yet; this stays one index probe. */
    "  AND (SELECT count(*) FROM challenges s"
    "   WHERE s.authz_id = c.authz_id"
    "   AND s.status IN ('processing', 'valid')) = 0"
    "  RETURNING c.id)"
    /* A leased task is the caller's to hand over; others wait for
     * workers to notice it. */
    " SELECT (SELECT pg_notify('" SA_QUEUE_CHANNEL "', u.id::text)"
    "  WHERE $2::integer = 0) IS NULL FROM u",
    3,
    false,
};

void
sa_challenge_clear(struct sa_challenge *ch)
{
	if (ch == NULL)
		return;
	free(ch->error_json);
	free(ch->record_json);
	memset(ch, 0, sizeof(*ch));
}

void
sa_authz_clear(struct sa_authz *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < a->nchallenges; i++)
		sa_challenge_clear(&a->challenges[i]);
	memset(a, 0, sizeof(*a));
}

/* Fills OUT from SA_CHALLENGE_COLS starting at column COL of ROW. */
static int
sa_challenge_read(const PGresult *r, int row, int col, struct sa_challenge *out)
{
	memset(out, 0, sizeof(*out));
	if (sa_col_status(r, row, col + 4, &out->status) != SA_OK)
		return SA_ERR;
	out->id = sa_col_i64(r, row, col);
	out->authz_id = sa_col_i64(r, row, col + 1);
	sa_col_copy(r, row, col + 2, out->type, sizeof(out->type));
	sa_col_copy(r, row, col + 3, out->token, sizeof(out->token));
	out->validated = (time_t)sa_col_i64(r, row, col + 5);
	out->error_json = sa_col_dup(r, row, col + 6);
	out->record_json = sa_col_dup(r, row, col + 7);
	return SA_OK;
}

static int
sa_challenge_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct sa_challenge *)a)->id;
	int64_t y = ((const struct sa_challenge *)b)->id;

	return (x > y) - (x < y);
}

/* Fills OUT from the rows of sa_authz_get_stmt; challenges in the order
 * they were created (sorted here: a Sort node costs PostgreSQL more). */
void
sa_authz_sort_challenges(struct sa_authz *a)
{
	qsort(a->challenges, (size_t)a->nchallenges, sizeof(a->challenges[0]),
	    sa_challenge_cmp);
}

int
sa_authz_read(const PGresult *r, struct sa_authz *out)
{
	int n = PQntuples(r);

	if (n == 0)
		return SA_NOTFOUND;
	if (sa_col_status(r, 0, 5, &out->status) != SA_OK)
		return SA_ERR;
	out->id = sa_col_i64(r, 0, 0);
	out->account_id = sa_col_i64(r, 0, 1);
	sa_col_copy(r, 0, 2, out->ident.type, sizeof(out->ident.type));
	sa_col_copy(r, 0, 3, out->ident.value, sizeof(out->ident.value));
	out->wildcard = sa_col_bool(r, 0, 4);
	out->expires = (time_t)sa_col_i64(r, 0, 6);
	if (n > SA_MAX_CHALLENGES) {
		cb_log(LOG_WARNING, "sa: authz %lld has %d challenges",
		    (long long)out->id, n);
		n = SA_MAX_CHALLENGES;
	}
	/* LEFT JOIN: an authorization without challenges is one row of
	 * NULLs. */
	for (int i = 0; i < n && !sa_col_isnull(r, i, 7); i++) {
		if (sa_challenge_read(r, i, 7, &out->challenges[i]) != SA_OK)
			return SA_ERR;
		out->nchallenges++;
	}
	sa_authz_sort_challenges(out);
	return SA_OK;
}

/* Runs ST (an authorization query keyed by one id) into OUT. */
static int
sa_authz_select(struct sa_conn *c, const struct sa_stmt *st, int64_t id,
    struct sa_authz *out)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id)};
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sa_exec(c, st, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	rc = sa_authz_read(r, out);
	if (rc != SA_OK)
		sa_authz_clear(out);
out:
	PQclear(r);
	return rc;
}

int
sa_authz_get(struct sa_conn *c, int64_t id, struct sa_authz *out)
{
	return sa_authz_select(c, &sa_authz_get_stmt, id, out);
}

int
sa_authz_get_by_challenge(
    struct sa_conn *c, int64_t challenge_id, struct sa_authz *out)
{
	return sa_authz_select(
	    c, &sa_authz_get_by_challenge_stmt, challenge_id, out);
}

int
sa_authz_deactivate(struct sa_conn *c, int64_t id)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id)};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_authz_deactivate_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	if (sa_col_i64(r, 0, 0) > 0)
		rc = SA_OK;
	else if (sa_col_bool(r, 0, 1))
		rc = SA_CONFLICT;
	else
		rc = SA_NOTFOUND;
out:
	PQclear(r);
	return rc;
}

int
sa_authz_find_valid(struct sa_conn *c, int64_t account_id,
    const struct sa_ident *ident, bool wildcard, time_t min_expires,
    int64_t *authz_id)
{
	char abuf[SA_I64_BUF], tbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(abuf, account_id), ident->type,
	    ident->value, wildcard ? "t" : "f",
	    sa_i64(tbuf, (int64_t)min_expires)};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_authz_find_valid_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	if (PQntuples(r) == 0) {
		rc = SA_NOTFOUND;
		goto out;
	}
	*authz_id = sa_col_i64(r, 0, 0);
out:
	PQclear(r);
	return rc;
}

int
sa_challenge_get(struct sa_conn *c, int64_t id, struct sa_challenge *out)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id)};
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sa_exec(c, &sa_challenge_get_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	if (PQntuples(r) == 0) {
		rc = SA_NOTFOUND;
		goto out;
	}
	rc = sa_challenge_read(r, 0, 0, out);
out:
	PQclear(r);
	return rc;
}

int
sa_challenge_begin(struct sa_conn *c, int64_t challenge_id, int64_t account_id,
    int lease_seconds, struct sa_authz *out)
{
	char idbuf[SA_I64_BUF], lbuf[SA_I64_BUF], abuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, challenge_id),
	    sa_i64(lbuf, lease_seconds), sa_i64(abuf, account_id)};
	const struct sa_batch_item items[] = {
	    {&sa_challenge_lock_authz_stmt, vals, NULL, NULL},
	    {&sa_challenge_begin_stmt, vals, NULL, NULL},
	    {&sa_authz_get_by_challenge_stmt, vals, NULL, NULL},
	};
	PGresult *r[3] = {NULL, NULL, NULL};
	int rc;

	/* One round trip, one transaction (or the caller's); the NOTIFY is
	 * delivered at commit, when workers can see the row. The read
	 * after the change sees it (its own snapshot, same transaction). */
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	rc = sa_exec_batch(c, items, out != NULL ? 3 : 2, r);
	if (rc != SA_OK)
		goto out;
	if (PQntuples(r[0]) == 0) {
		rc = SA_NOTFOUND;
		goto out;
	}
	if (out != NULL && sa_authz_read(r[2], out) != SA_OK) {
		sa_authz_clear(out);
		rc = SA_ERR;
		goto out;
	}
	if (PQntuples(r[1]) == 0)
		rc = SA_CONFLICT;
out:
	for (int i = 0; i < 3; i++)
		PQclear(r[i]);
	return rc;
}
