/* SPDX-License-Identifier: ISC */
/* Accounts: creation, lookup by id and key thumbprint, contact and key
 * changes, deactivation, and the account's list of orders. */
#include "sa_int.h"

#include <stdlib.h>
#include <string.h>

#define SA_ACCOUNT_COLS                                                        \
	"id, status, jwk, thumbprint, contact,"                                \
	" floor(extract(epoch FROM created))::bigint"

/* Ends a change of account u.id: every instance's listener hears of it at
 * commit and forgets what it cached (server/wfe_acctcache.c). */
#define SA_ACCOUNT_NOTIFY                                                      \
	" SELECT pg_notify('" SA_ACCOUNT_CHANNEL "', u.id::text) FROM u"

static const struct sa_stmt sa_account_insert_stmt = {
    SA_STMT_ACCOUNT_INSERT,
    "sa_account_insert",
    "INSERT INTO accounts (jwk, thumbprint, contact)"
    " VALUES ($1::text, $2::text, $3::text) RETURNING id",
    3,
    false,
};

static const struct sa_stmt sa_account_get_stmt = {
    SA_STMT_ACCOUNT_GET,
    "sa_account_get",
    "SELECT " SA_ACCOUNT_COLS " FROM accounts WHERE id = $1::bigint",
    1,
    false,
};

static const struct sa_stmt sa_account_get_by_thumbprint_stmt = {
    SA_STMT_ACCOUNT_GET_BY_THUMBPRINT,
    "sa_account_get_by_thumbprint",
    "SELECT " SA_ACCOUNT_COLS " FROM accounts WHERE thumbprint = $1::text",
    1,
    false,
};

static const struct sa_stmt sa_account_update_contact_stmt = {
    SA_STMT_ACCOUNT_UPDATE_CONTACT,
    "sa_account_update_contact",
    "WITH u AS (UPDATE accounts SET contact = $2::text"
    "  WHERE id = $1::bigint RETURNING id)" SA_ACCOUNT_NOTIFY,
    2,
    false,
};

static const struct sa_stmt sa_account_deactivate_stmt = {
    SA_STMT_ACCOUNT_DEACTIVATE,
    "sa_account_deactivate",
    "WITH u AS (UPDATE accounts SET status = 'deactivated'"
    "  WHERE id = $1::bigint AND status = 'valid' RETURNING "
    "id)" SA_ACCOUNT_NOTIFY,
    1,
    false,
};

static const struct sa_stmt sa_account_change_key_stmt = {
    SA_STMT_ACCOUNT_CHANGE_KEY,
    "sa_account_change_key",
    "WITH u AS (UPDATE accounts SET jwk = $2::text, thumbprint = $3::text"
    "  WHERE id = $1::bigint RETURNING id)" SA_ACCOUNT_NOTIFY,
    3,
    false,
};

static const struct sa_stmt sa_account_orders_stmt = {
    SA_STMT_ACCOUNT_ORDERS,
    "sa_account_orders",
    "SELECT id FROM orders WHERE account_id = $1::bigint"
    " AND id > $2::bigint ORDER BY id LIMIT $3::integer",
    3,
    false,
};

void
sa_account_clear(struct sa_account *a)
{
	if (a == NULL)
		return;
	free(a->jwk_json);
	free(a->contact_json);
	memset(a, 0, sizeof(*a));
}

int
sa_account_insert(struct sa_conn *c, const char *jwk_json,
    const char *thumbprint, const char *contact_json, int64_t *id)
{
	const char *vals[] = {jwk_json, thumbprint, contact_json};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_account_insert_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	*id = sa_col_i64(r, 0, 0);
out:
	PQclear(r);
	return rc;
}

/* Fills OUT from row 0 of R (SA_ACCOUNT_COLS), or SA_NOTFOUND. */
static int
sa_account_read(const PGresult *r, struct sa_account *out)
{
	memset(out, 0, sizeof(*out));
	if (PQntuples(r) == 0)
		return SA_NOTFOUND;
	if (sa_col_status(r, 0, 1, &out->status) != SA_OK)
		return SA_ERR;
	out->id = sa_col_i64(r, 0, 0);
	out->jwk_json = sa_col_dup(r, 0, 2);
	sa_col_copy(r, 0, 3, out->thumbprint, sizeof(out->thumbprint));
	out->contact_json = sa_col_dup(r, 0, 4);
	out->created = (time_t)sa_col_i64(r, 0, 5);
	return SA_OK;
}

int
sa_account_get(struct sa_conn *c, int64_t id, struct sa_account *out)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id)};
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sa_exec(c, &sa_account_get_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	rc = sa_account_read(r, out);
out:
	PQclear(r);
	return rc;
}

int
sa_account_get_by_thumbprint(
    struct sa_conn *c, const char *thumbprint, struct sa_account *out)
{
	const char *vals[] = {thumbprint};
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sa_exec(
	    c, &sa_account_get_by_thumbprint_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	rc = sa_account_read(r, out);
out:
	PQclear(r);
	return rc;
}

/* Runs a change of one account (a row per changed account, see
 * SA_ACCOUNT_NOTIFY); SA_NOTFOUND if it changed none. */
static int
sa_account_update(
    struct sa_conn *c, const struct sa_stmt *st, const char *const *vals)
{
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, st, vals, NULL, NULL, &r);
	if (rc == SA_OK && PQntuples(r) == 0)
		rc = SA_NOTFOUND;
	PQclear(r);
	return rc;
}

int
sa_account_update_contact(
    struct sa_conn *c, int64_t id, const char *contact_json)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id), contact_json};

	return sa_account_update(c, &sa_account_update_contact_stmt, vals);
}

int
sa_account_deactivate(struct sa_conn *c, int64_t id)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id)};

	return sa_account_update(c, &sa_account_deactivate_stmt, vals);
}

int
sa_account_change_key(
    struct sa_conn *c, int64_t id, const char *jwk_json, const char *thumbprint)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id), jwk_json, thumbprint};

	/* The unique index on thumbprint turns a taken key into
	 * SA_CONFLICT. */
	return sa_account_update(c, &sa_account_change_key_stmt, vals);
}

int
sa_account_orders(struct sa_conn *c, int64_t account_id, int64_t after_id,
    int max, int64_t *ids, int *n)
{
	char abuf[SA_I64_BUF], bbuf[SA_I64_BUF], mbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(abuf, account_id), sa_i64(bbuf, after_id),
	    sa_i64(mbuf, max < 0 ? 0 : max)};
	PGresult *r = NULL;
	int rc;

	*n = 0;
	rc = sa_exec(c, &sa_account_orders_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	for (int i = 0; i < PQntuples(r) && i < max; i++)
		ids[(*n)++] = sa_col_i64(r, i, 0);
out:
	PQclear(r);
	return rc;
}
