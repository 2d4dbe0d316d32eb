/* SPDX-License-Identifier: ISC */
/* Orders: creation with their authorizations and challenges, lookup,
 * reuse of a pending order, locking for finalize, failure. */
#include "sa_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

static const struct sa_stmt sa_order_insert_stmt = {
    SA_STMT_ORDER_INSERT,
    "sa_order_insert",
    "INSERT INTO orders (account_id, idents_key, expires, not_before,"
    " not_after) VALUES ($1::bigint, $2::text,"
    " to_timestamp($3::double precision),"
    " to_timestamp($4::double precision),"
    " to_timestamp($5::double precision)) RETURNING id",
    5,
};

/* A new authorization, its challenges (in the given order) and its link
 * to the order, in one statement. */
static const struct sa_stmt sa_order_insert_authz_stmt = {
    SA_STMT_ORDER_INSERT_AUTHZ,
    "sa_order_insert_authz",
    "WITH a AS (INSERT INTO authzs (account_id, ident_type, ident_value,"
    "  wildcard, expires) VALUES ($1::bigint, $2::text, $3::text,"
    "  $4::boolean, to_timestamp($5::double precision)) RETURNING id),"
    " l AS (INSERT INTO order_authzs (order_id, authz_id, position)"
    "  SELECT $6::bigint, id, $7::integer FROM a),"
    " ch AS (INSERT INTO challenges (authz_id, type, token)"
    "  SELECT a.id, t.type, t.token FROM a,"
    "  unnest($8::text[], $9::text[]) WITH ORDINALITY AS t (type, token, n)"
    "  ORDER BY t.n)"
    " SELECT id FROM a",
    9,
};

/* Reuses an authorization of the same account that is still usable. */
static const struct sa_stmt sa_order_link_authz_stmt = {
    SA_STMT_ORDER_LINK_AUTHZ,
    "sa_order_link_authz",
    "INSERT INTO order_authzs (order_id, authz_id, position)"
    " SELECT $1::bigint, id, $3::integer FROM authzs"
    " WHERE id = $2::bigint AND account_id = $4::bigint"
    " AND status IN ('pending', 'valid')",
    4,
};

/* One row per authorization in request order; an order without any is one
 * row with NULL authorization columns. */
#define SA_ORDER_SELECT                                                        \
	"SELECT o.id, o.account_id, o.status,"                                 \
	" floor(extract(epoch FROM o.expires))::bigint,"                       \
	" floor(extract(epoch FROM o.not_before))::bigint,"                    \
	" floor(extract(epoch FROM o.not_after))::bigint,"                     \
	" floor(extract(epoch FROM o.created))::bigint,"                       \
	" o.error, o.cert_serial,"                                             \
	" a.id, a.ident_type, a.ident_value, a.wildcard, a.status,"            \
	" floor(extract(epoch FROM a.expires))::bigint"                        \
	" FROM orders o"                                                       \
	" LEFT JOIN order_authzs oa ON oa.order_id = o.id"                     \
	" LEFT JOIN authzs a ON a.id = oa.authz_id"                            \
	" WHERE o.id = $1::bigint ORDER BY oa.position"

static const struct sa_stmt sa_order_get_stmt = {
    SA_STMT_ORDER_GET,
    "sa_order_get",
    SA_ORDER_SELECT,
    1,
};

static const struct sa_stmt sa_order_get_for_update_stmt = {
    SA_STMT_ORDER_GET_FOR_UPDATE,
    "sa_order_get_for_update",
    SA_ORDER_SELECT " FOR UPDATE OF o",
    1,
};

static const struct sa_stmt sa_order_find_pending_stmt = {
    SA_STMT_ORDER_FIND_PENDING,
    "sa_order_find_pending",
    "SELECT o.id FROM orders o WHERE o.account_id = $1::bigint"
    " AND o.idents_key = $2::text AND o.status = 'pending'"
    " AND o.expires > to_timestamp($3::double precision)"
    " AND NOT EXISTS (SELECT 1 FROM order_authzs oa"
    "  JOIN authzs a ON a.id = oa.authz_id WHERE oa.order_id = o.id"
    "  AND (a.status IN ('invalid', 'deactivated')"
    "  OR a.expires <= to_timestamp($3::double precision)))"
    " ORDER BY o.id DESC LIMIT 1",
    3,
};

static const struct sa_stmt sa_order_set_invalid_stmt = {
    SA_STMT_ORDER_SET_INVALID,
    "sa_order_set_invalid",
    "UPDATE orders SET status = 'invalid', error = $2::text"
    " WHERE id = $1::bigint",
    2,
};

void
sa_order_clear(struct sa_order *o)
{
	if (o == NULL)
		return;
	free(o->authz);
	free(o->error_json);
	memset(o, 0, sizeof(*o));
}

/* A time parameter: NULL for 0 ("not requested"). */
static const char *
sa_time_param(char *buf, time_t t)
{
	return t == 0 ? NULL : sa_i64(buf, (int64_t)t);
}

static int
sa_order_insert_row(
    struct sa_conn *c, const struct sa_new_order *o, int64_t *order_id)
{
	char abuf[SA_I64_BUF], ebuf[SA_I64_BUF], nbbuf[SA_I64_BUF],
	    nabuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(abuf, o->account_id), o->idents_key,
	    sa_i64(ebuf, (int64_t)o->expires),
	    sa_time_param(nbbuf, o->not_before),
	    sa_time_param(nabuf, o->not_after)};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_order_insert_stmt, vals, NULL, NULL, &r);
	if (rc == SA_OK)
		*order_id = sa_col_i64(r, 0, 0);
	PQclear(r);
	return rc;
}

static int
sa_order_insert_authz(
    struct sa_conn *c, const struct sa_new_order *o, int64_t order_id, int pos)
{
	const struct sa_new_authz *na = &o->authz[pos];
	const char *types[SA_MAX_CHALLENGES], *tokens[SA_MAX_CHALLENGES];
	char abuf[SA_I64_BUF], ebuf[SA_I64_BUF], obuf[SA_I64_BUF],
	    pbuf[SA_I64_BUF];
	char *type_arr = NULL, *token_arr = NULL;
	const char *vals[9];
	PGresult *r = NULL;
	int rc = SA_ERR;

	if (na->nchallenges < 0 || na->nchallenges > SA_MAX_CHALLENGES) {
		cb_log(LOG_ERR, "sa: %d challenges for one authz",
		    na->nchallenges);
		goto out;
	}
	for (int i = 0; i < na->nchallenges; i++) {
		types[i] = na->challenges[i].type;
		tokens[i] = na->challenges[i].token;
	}
	type_arr = sa_text_array(types, na->nchallenges);
	token_arr = sa_text_array(tokens, na->nchallenges);
	vals[0] = sa_i64(abuf, o->account_id);
	vals[1] = na->ident.type;
	vals[2] = na->ident.value;
	vals[3] = na->wildcard ? "t" : "f";
	vals[4] = sa_i64(ebuf, (int64_t)na->expires);
	vals[5] = sa_i64(obuf, order_id);
	vals[6] = sa_i64(pbuf, pos);
	vals[7] = type_arr;
	vals[8] = token_arr;
	rc = sa_exec(c, &sa_order_insert_authz_stmt, vals, NULL, NULL, &r);
out:
	PQclear(r);
	free(type_arr);
	free(token_arr);
	return rc;
}

static int
sa_order_link_authz(
    struct sa_conn *c, const struct sa_new_order *o, int64_t order_id, int pos)
{
	char obuf[SA_I64_BUF], zbuf[SA_I64_BUF], pbuf[SA_I64_BUF],
	    abuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(obuf, order_id),
	    sa_i64(zbuf, o->authz[pos].reuse_id), sa_i64(pbuf, pos),
	    sa_i64(abuf, o->account_id)};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_order_link_authz_stmt, vals, NULL, NULL, &r);
	if (rc == SA_OK && sa_cmd_rows(r) == 0) {
		/* Deactivated or failed since the caller looked it up. */
		rc = SA_CONFLICT;
	}
	PQclear(r);
	return rc;
}

int
sa_order_insert(
    struct sa_conn *c, const struct sa_new_order *o, int64_t *order_id)
{
	bool own = false;
	int rc;

	if (o->nauthz < 1 || o->nauthz > CB_MAX_IDENTIFIERS) {
		cb_log(LOG_ERR, "sa: order with %d identifiers", o->nauthz);
		return SA_ERR;
	}
	rc = sa_tx_enter(c, &own);
	if (rc != SA_OK)
		return rc;
	rc = sa_order_insert_row(c, o, order_id);
	for (int i = 0; rc == SA_OK && i < o->nauthz; i++) {
		if (o->authz[i].reuse_id != 0)
			rc = sa_order_link_authz(c, o, *order_id, i);
		else
			rc = sa_order_insert_authz(c, o, *order_id, i);
	}
	return sa_tx_leave(c, own, rc);
}

/* Fills one authorization summary from columns 9.. of ROW. */
static int
sa_order_authz_read(const PGresult *r, int row, struct sa_order_authz *oa)
{
	if (sa_col_status(r, row, 13, &oa->status) != SA_OK)
		return SA_ERR;
	oa->authz_id = sa_col_i64(r, row, 9);
	sa_col_copy(r, row, 10, oa->ident.type, sizeof(oa->ident.type));
	sa_col_copy(r, row, 11, oa->ident.value, sizeof(oa->ident.value));
	oa->wildcard = sa_col_bool(r, row, 12);
	oa->expires = (time_t)sa_col_i64(r, row, 14);
	return SA_OK;
}

/* Fills OUT from the rows of SA_ORDER_SELECT. */
static int
sa_order_read(const PGresult *r, struct sa_order *out)
{
	int n = PQntuples(r);

	if (n == 0)
		return SA_NOTFOUND;
	if (sa_col_status(r, 0, 2, &out->status) != SA_OK)
		return SA_ERR;
	out->id = sa_col_i64(r, 0, 0);
	out->account_id = sa_col_i64(r, 0, 1);
	out->expires = (time_t)sa_col_i64(r, 0, 3);
	out->not_before = (time_t)sa_col_i64(r, 0, 4);
	out->not_after = (time_t)sa_col_i64(r, 0, 5);
	out->created = (time_t)sa_col_i64(r, 0, 6);
	out->error_json = sa_col_dup(r, 0, 7);
	sa_col_copy(r, 0, 8, out->cert_serial, sizeof(out->cert_serial));
	out->authz = cb_calloc((size_t)n, sizeof(*out->authz));
	for (int i = 0; i < n && !sa_col_isnull(r, i, 9); i++) {
		if (sa_order_authz_read(r, i, &out->authz[i]) != SA_OK)
			return SA_ERR;
		out->nauthz++;
	}
	return SA_OK;
}

static int
sa_order_select(struct sa_conn *c, const struct sa_stmt *st, int64_t id,
    struct sa_order *out)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id)};
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sa_exec(c, st, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	rc = sa_order_read(r, out);
	if (rc != SA_OK)
		sa_order_clear(out);
out:
	PQclear(r);
	return rc;
}

int
sa_order_get(struct sa_conn *c, int64_t id, struct sa_order *out)
{
	return sa_order_select(c, &sa_order_get_stmt, id, out);
}

int
sa_order_get_for_update(struct sa_conn *c, int64_t id, struct sa_order *out)
{
	if (!sa_in_tx(c)) {
		/* The lock would end with the statement. */
		memset(out, 0, sizeof(*out));
		cb_log(LOG_ERR, "sa: order %lld locked outside a transaction",
		    (long long)id);
		return SA_ERR;
	}
	return sa_order_select(c, &sa_order_get_for_update_stmt, id, out);
}

int
sa_order_find_pending(struct sa_conn *c, int64_t account_id,
    const char *idents_key, time_t now, int64_t *order_id)
{
	char abuf[SA_I64_BUF], nbuf[SA_I64_BUF];
	const char *vals[] = {
	    sa_i64(abuf, account_id), idents_key, sa_i64(nbuf, (int64_t)now)};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_order_find_pending_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	if (PQntuples(r) == 0) {
		rc = SA_NOTFOUND;
		goto out;
	}
	*order_id = sa_col_i64(r, 0, 0);
out:
	PQclear(r);
	return rc;
}

int
sa_order_set_invalid(struct sa_conn *c, int64_t id, const char *error_json)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, id), error_json};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_order_set_invalid_stmt, vals, NULL, NULL, &r);
	if (rc == SA_OK && sa_cmd_rows(r) == 0)
		rc = SA_NOTFOUND;
	PQclear(r);
	return rc;
}
