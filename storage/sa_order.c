/* SPDX-License-Identifier: ISC */
/* Orders: creation with their authorizations and challenges, lookup,
 * reuse of a pending order, locking for finalize, failure. */
#include "sa_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

/* The newest order of account $1 with identifiers $2 that is stored
 * pending, requested no validity, is unexpired at NOW (a parameter
 * reference) and none of whose authorizations is invalid, deactivated or
 * expired then: what a repeated newOrder gets back. */
#define SA_PENDING_ORDER_SQL(NOW)                                              \
	"SELECT o.id FROM orders o WHERE o.account_id = $1::bigint"            \
	" AND o.idents_key = $2::text AND o.status = 'pending'"                \
	" AND o.not_before IS NULL AND o.not_after IS NULL"                    \
	" AND o.expires > to_timestamp(" NOW "::double precision)"             \
	" AND NOT EXISTS (SELECT 1 FROM order_authzs oa"                       \
	"  JOIN authzs a ON a.id = oa.authz_id WHERE oa.order_id = o.id"       \
	"  AND (a.status IN ('invalid', 'deactivated')"                        \
	"  OR a.expires <= to_timestamp(" NOW "::double precision)))"          \
	" ORDER BY o.id DESC LIMIT 1"

/* The pending order newOrder may return instead (with $14, NOW). */
#define SA_ORDER_PENDING_CTE " pend AS (" SA_PENDING_ORDER_SQL("$14") "),"

/* The order, its new authorizations with their challenges, and its links
 * to new and reused authorizations, in one statement: atomic on its own
 * and inside a caller's transaction, in one round trip. $6..$10 hold one
 * element per authorization in request order (reuse id, SA_REUSE_LOOKUP
 * (negative) or 0 for a new one, and the new one's columns), $11..$13 one per
 * challenge of the authorizations that may be new (the 1-based position,
 * type, token) in their order. With $14 (NOW), a pending order found by
 * SA_PENDING_ORDER_SQL is returned instead, alone and with NULL
 * authorization columns, and nothing is written.
 *
 * r: how many reused authorizations are no longer usable (deactivated or
 * failed since the caller looked them up, or another account's); any
 * makes the order insert, and so every other part, write nothing: no row
 * returned. Written as a count of = ANY matches: a NOT EXISTS per id may
 * become an anti-join scanning authzs.
 * t: the request's authorizations; v the newest valid authorization of
 * the account for a looked-up one that outlives $15 (one probe of
 * authzs_valid_newest, none for the others).
 * p: each position's authorization id, new ones drawn from the sequence
 * here so challenges and links can refer to them by position, and its
 * status and expiry (e: a given reused one as stored).
 * The result: a row per authorization and new challenge of it (NULL
 * challenge columns for a reused one). */
static const struct sa_stmt sa_order_insert_stmt = {
    SA_STMT_ORDER_INSERT,
    "sa_order_insert",
    "WITH r AS (SELECT (SELECT count(DISTINCT t.id)"
    "  FROM unnest($6::bigint[]) AS t (id) WHERE t.id > 0)"
    "  - (SELECT count(*) FROM authzs a WHERE a.id = ANY ($6::bigint[])"
    "  AND a.account_id = $1::bigint AND a.status IN ('pending', 'valid'))"
    "  AS n)," SA_ORDER_PENDING_CTE
    " o AS (INSERT INTO orders (account_id, idents_key, expires,"
    "  not_before, not_after) SELECT $1::bigint, $2::text,"
    "  to_timestamp($3::double precision),"
    "  to_timestamp($4::double precision),"
    "  to_timestamp($5::double precision) FROM r WHERE r.n = 0"
    "  AND ($14::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM pend))"
    "  RETURNING id),"
    " t AS (SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[],"
    "  $9::boolean[], $10::bigint[]) WITH ORDINALITY"
    "  AS t (reuse, type, value, wildcard, expires, pos)),"
    " p AS (SELECT t.pos, t.reuse > 0 OR v.id IS NOT NULL AS reused,"
    "  CASE WHEN t.reuse > 0 THEN t.reuse WHEN v.id IS NOT NULL"
    "  THEN v.id ELSE nextval('authzs_id_seq') END AS id,"
    "  t.type, t.value, t.wildcard,"
    "  coalesce(e.status, v.status, 'pending') AS status,"
    "  coalesce(e.expires, v.expires,"
    "  to_timestamp(t.expires::double precision)) AS expires"
    "  FROM o, t LEFT JOIN authzs e ON t.reuse > 0 AND e.id = t.reuse"
    "  LEFT JOIN LATERAL (SELECT id, status, expires FROM authzs"
    "  WHERE t.reuse < 0 AND account_id = $1::bigint"
    "  AND ident_type = t.type AND ident_value = t.value"
    "  AND wildcard = t.wildcard AND status = 'valid'"
    "  AND expires > to_timestamp($15::double precision)"
    "  ORDER BY id DESC LIMIT 1) v ON true),"
    " a AS (INSERT INTO authzs (id, account_id, ident_type, ident_value,"
    "  wildcard, expires) SELECT p.id, $1::bigint, p.type, p.value,"
    "  p.wildcard, p.expires FROM p WHERE NOT p.reused RETURNING id),"
    " ch AS (INSERT INTO challenges (authz_id, type, token)"
    "  SELECT a.id, c.type, c.token FROM unnest($11::integer[],"
    "  $12::text[], $13::text[]) WITH ORDINALITY AS c (pos, type, token, n)"
    "  JOIN p ON p.pos = c.pos JOIN a ON a.id = p.id ORDER BY c.n"
    "  RETURNING id, authz_id, token),"
    " l AS (INSERT INTO order_authzs (order_id, authz_id, position)"
    "  SELECT o.id, p.id, p.pos - 1 FROM o, p)"
    " SELECT o.id, p.id, p.pos, p.status,"
    "  floor(extract(epoch FROM p.expires))::bigint, ch.id, ch.token"
    "  FROM o, p LEFT JOIN ch ON ch.authz_id = p.id"
    " UNION ALL SELECT pend.id, NULL, NULL, NULL, NULL, NULL, NULL"
    "  FROM pend WHERE $14::bigint IS NOT NULL",
    15,
    true,
};

/* One row per authorization with its position in the request (placed
 * by sa_order_read(): a Sort node costs PostgreSQL more); an order
 * without any is one row with NULL authorization columns. */
#define SA_ORDER_SELECT                                                        \
	"SELECT o.id, o.account_id, o.status,"                                 \
	" floor(extract(epoch FROM o.expires))::bigint,"                       \
	" floor(extract(epoch FROM o.not_before))::bigint,"                    \
	" floor(extract(epoch FROM o.not_after))::bigint,"                     \
	" floor(extract(epoch FROM o.created))::bigint,"                       \
	" o.error, o.cert_serial,"                                             \
	" a.id, a.ident_type, a.ident_value, a.wildcard, a.status,"            \
	" floor(extract(epoch FROM a.expires))::bigint, oa.position"           \
	" FROM orders o"                                                       \
	" LEFT JOIN order_authzs oa ON oa.order_id = o.id"                     \
	" LEFT JOIN authzs a ON a.id = oa.authz_id"                            \
	" WHERE o.id = $1::bigint"

static const struct sa_stmt sa_order_get_stmt = {
    SA_STMT_ORDER_GET,
    "sa_order_get",
    SA_ORDER_SELECT,
    1,
    false,
};

static const struct sa_stmt sa_order_get_for_update_stmt = {
    SA_STMT_ORDER_GET_FOR_UPDATE,
    "sa_order_get_for_update",
    SA_ORDER_SELECT " FOR UPDATE OF o",
    1,
    false,
};

static const struct sa_stmt sa_order_find_pending_stmt = {
    SA_STMT_ORDER_FIND_PENDING,
    "sa_order_find_pending",
    SA_PENDING_ORDER_SQL("$3"),
    3,
    false,
};

static const struct sa_stmt sa_order_set_invalid_stmt = {
    SA_STMT_ORDER_SET_INVALID,
    "sa_order_set_invalid",
    "UPDATE orders SET status = 'invalid', error = $2::text"
    " WHERE id = $1::bigint",
    2,
    false,
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

/* The array parameters of sa_order_insert_stmt, owned. */
struct sa_order_arrays {
	char *reuse, *types, *values, *wildcards, *expires;
	char *ch_pos, *ch_types, *ch_tokens;
};

static void
sa_order_arrays_clear(struct sa_order_arrays *a)
{
	free(a->reuse);
	free(a->types);
	free(a->values);
	free(a->wildcards);
	free(a->expires);
	free(a->ch_pos);
	free(a->ch_types);
	free(a->ch_tokens);
	memset(a, 0, sizeof(*a));
}

/* The columns of an order's authorizations and challenges before they
 * become array literals; on the heap (about 14 KiB at the limits). */
struct sa_order_cols {
	int64_t reuse[CB_MAX_IDENTIFIERS], expires[CB_MAX_IDENTIFIERS];
	const char *types[CB_MAX_IDENTIFIERS], *values[CB_MAX_IDENTIFIERS];
	const char *wildcards[CB_MAX_IDENTIFIERS];
	int nch;
	int64_t ch_pos[CB_MAX_IDENTIFIERS * SA_MAX_CHALLENGES];
	const char *ch_types[CB_MAX_IDENTIFIERS * SA_MAX_CHALLENGES];
	const char *ch_tokens[CB_MAX_IDENTIFIERS * SA_MAX_CHALLENGES];
};

/* Fills K from O (1 <= nauthz <= CB_MAX_IDENTIFIERS); challenges only
 * for authorizations that may be new. */
static int
sa_order_cols_fill(const struct sa_new_order *o, struct sa_order_cols *k)
{
	for (int i = 0; i < o->nauthz; i++) {
		const struct sa_new_authz *na = &o->authz[i];

		k->reuse[i] = na->reuse_id;
		k->types[i] = na->ident.type;
		k->values[i] = na->ident.value;
		k->wildcards[i] = na->wildcard ? "t" : "f";
		k->expires[i] = (int64_t)na->expires;
		if (na->reuse_id > 0)
			continue;
		if (na->nchallenges < 0 ||
		    na->nchallenges > SA_MAX_CHALLENGES) {
			cb_log(LOG_ERR, "sa: %d challenges for one authz",
			    na->nchallenges);
			return SA_ERR;
		}
		for (int j = 0; j < na->nchallenges; j++, k->nch++) {
			k->ch_pos[k->nch] = i + 1;
			k->ch_types[k->nch] = na->challenges[j].type;
			k->ch_tokens[k->nch] = na->challenges[j].token;
		}
	}
	return SA_OK;
}

/* Builds the array literals for O into A. */
static int
sa_order_arrays_build(const struct sa_new_order *o, struct sa_order_arrays *a)
{
	struct sa_order_cols *k = cb_calloc(1, sizeof(*k));
	int n = o->nauthz, rc = SA_ERR;

	if (sa_order_cols_fill(o, k) != SA_OK)
		goto out;
	a->reuse = sa_i64_array(k->reuse, n);
	a->types = sa_text_array(k->types, n);
	a->values = sa_text_array(k->values, n);
	a->wildcards = sa_text_array(k->wildcards, n);
	a->expires = sa_i64_array(k->expires, n);
	a->ch_pos = sa_i64_array(k->ch_pos, k->nch);
	a->ch_types = sa_text_array(k->ch_types, k->nch);
	a->ch_tokens = sa_text_array(k->ch_tokens, k->nch);
	rc = SA_OK;
out:
	free(k);
	return rc;
}

/* A time parameter: NULL for 0 ("not requested"). */
static const char *
sa_time_param(char *buf, time_t t)
{
	return t == 0 ? NULL : sa_i64(buf, (int64_t)t);
}

/* Records the new challenge of ROW, found by its token, in OA. */
static void
sa_order_fill_challenge(const struct sa_new_authz *na, const PGresult *r,
    int row, struct sa_order_authz *oa)
{
	const char *token = PQgetvalue(r, row, 6);

	if (PQgetisnull(r, row, 5))
		return;
	for (int j = 0; j < na->nchallenges; j++)
		if (strcmp(na->challenges[j].token, token) == 0)
			oa->challenge_ids[j] = sa_col_i64(r, row, 5);
}

/* Fills OUT with the order O just stored as R: per authorization and
 * new challenge of it, the order id, the authorization's id, position
 * (from 1), status and expiry, the challenge's id and token. SA_ERR
 * unless every authorization is there. */
static int
sa_order_fill_new(
    const struct sa_new_order *o, const PGresult *r, struct sa_order *out)
{
	int seen = 0;

	memset(out, 0, sizeof(*out));
	out->id = sa_col_i64(r, 0, 0);
	out->account_id = o->account_id;
	out->status = SA_STATUS_PENDING;
	out->expires = o->expires;
	out->not_before = o->not_before;
	out->not_after = o->not_after;
	out->created = time(NULL);
	out->authz = cb_calloc((size_t)o->nauthz, sizeof(*out->authz));
	out->nauthz = o->nauthz;
	for (int row = 0; row < PQntuples(r); row++) {
		int64_t i = sa_col_i64(r, row, 2) - 1;
		const struct sa_new_authz *na;
		struct sa_order_authz *oa;

		if (i < 0 || i >= o->nauthz)
			return SA_ERR;
		na = &o->authz[i];
		oa = &out->authz[i];
		if (oa->authz_id == 0)
			seen++;
		oa->authz_id = sa_col_i64(r, row, 1);
		oa->ident = na->ident;
		oa->wildcard = na->wildcard;
		if (sa_col_status(r, row, 3, &oa->status) != SA_OK)
			return SA_ERR;
		oa->expires = (time_t)sa_col_i64(r, row, 4);
		sa_order_fill_challenge(na, r, row, oa);
	}
	return seen == o->nauthz ? SA_OK : SA_ERR;
}

int
sa_order_insert(struct sa_conn *c, const struct sa_new_order *o,
    int64_t *order_id, struct sa_order *out)
{
	char abuf[SA_I64_BUF], ebuf[SA_I64_BUF], nbbuf[SA_I64_BUF],
	    nabuf[SA_I64_BUF], pbuf[SA_I64_BUF], mbuf[SA_I64_BUF];
	struct sa_order_arrays arr = {0};
	struct sa_order mine = {0};
	const char *vals[15];
	PGresult *r = NULL;
	int rc = SA_ERR;

	if (o->nauthz < 1 || o->nauthz > CB_MAX_IDENTIFIERS) {
		cb_log(LOG_ERR, "sa: order with %d identifiers", o->nauthz);
		goto out;
	}
	if (sa_order_arrays_build(o, &arr) != SA_OK)
		goto out;
	vals[0] = sa_i64(abuf, o->account_id);
	vals[1] = o->idents_key;
	vals[2] = sa_i64(ebuf, (int64_t)o->expires);
	vals[3] = sa_time_param(nbbuf, o->not_before);
	vals[4] = sa_time_param(nabuf, o->not_after);
	vals[5] = arr.reuse;
	vals[6] = arr.types;
	vals[7] = arr.values;
	vals[8] = arr.wildcards;
	vals[9] = arr.expires;
	vals[10] = arr.ch_pos;
	vals[11] = arr.ch_types;
	vals[12] = arr.ch_tokens;
	vals[13] = sa_time_param(pbuf, o->reuse_pending_at);
	vals[14] = sa_i64(mbuf, (int64_t)o->reuse_authz_after);
	rc = sa_exec(c, &sa_order_insert_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	if (PQntuples(r) == 0) {
		/* A reused authorization is no longer usable. */
		rc = SA_CONFLICT;
		goto out;
	}
	if (PQgetisnull(r, 0, 1)) {
		/* An identical pending order: nothing written. */
		*order_id = sa_col_i64(r, 0, 0);
		rc = SA_EXISTS;
		goto out;
	}
	*order_id = sa_col_i64(r, 0, 0);
	if (sa_order_fill_new(o, r, out != NULL ? out : &mine) != SA_OK) {
		cb_log(LOG_ERR,
		    "sa: order insert: %d rows do not cover %d "
		    "authorizations",
		    PQntuples(r), o->nauthz);
		rc = SA_ERR;
	}
	if (out == NULL || rc != SA_OK)
		sa_order_clear(out != NULL ? out : &mine);
out:
	PQclear(r);
	sa_order_arrays_clear(&arr);
	return rc;
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
		int64_t pos = sa_col_i64(r, i, 15);

		if (pos < 0 || pos >= n || out->authz[pos].authz_id != 0 ||
		    sa_order_authz_read(r, i, &out->authz[pos]) != SA_OK) {
			cb_log(LOG_ERR, "sa: order %lld: bad authorization row",
			    (long long)out->id);
			return SA_ERR;
		}
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
