/* SPDX-License-Identifier: ISC */
/* Issued certificates: recording an issuance (with its names for rate
 * limits and its order's completion), lookup and revocation. */
#include "sa_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

/* One statement, so the certificate, its names and the order's VALID
 * state commit together both alone and inside the finalize transaction. */
static const struct sa_stmt sa_cert_insert_stmt = {
    SA_STMT_CERT_INSERT,
    "sa_cert_insert",
    "WITH c AS (INSERT INTO certificates (serial, account_id, order_id,"
    "  der, not_before, not_after, fqdn_set_hash)"
    "  VALUES ($1::text, $2::bigint, NULLIF($3::bigint, 0), $4::bytea,"
    "  to_timestamp($5::double precision),"
    "  to_timestamp($6::double precision), $7::bytea)"
    "  RETURNING serial, issued),"
    " n AS (INSERT INTO issued_names (name, serial, issued)"
    "  SELECT t.name, c.serial, c.issued"
    "  FROM c, unnest($8::text[]) AS t (name)),"
    " o AS (UPDATE orders SET status = 'valid', cert_serial = $1::text"
    "  WHERE id = $3::bigint)"
    " SELECT 1 FROM c",
    8,
    false,
};

/* The same rows, written only if the order is still the account's,
 * pending, unexpired, and every authorization of it valid and unexpired:
 * the check and the record are one statement, so it stands alone (no
 * transaction held across signing) and commits with other requests'
 * writes (group commit). The UPDATE comes first: its row lock orders it
 * against a concurrent finalize of the same order, which then finds the
 * order no longer pending. */
static const struct sa_stmt sa_cert_insert_ready_stmt = {
    SA_STMT_CERT_INSERT_READY,
    "sa_cert_insert_ready",
    "WITH o AS (UPDATE orders SET status = 'valid', cert_serial = $1::text"
    "  WHERE id = $3::bigint AND account_id = $2::bigint"
    "  AND status = 'pending' AND expires > now()"
    "  AND NOT EXISTS (SELECT 1 FROM order_authzs oa"
    "   JOIN authzs a ON a.id = oa.authz_id WHERE oa.order_id = $3::bigint"
    "   AND (a.status <> 'valid' OR a.expires <= now()))"
    "  RETURNING id),"
    " c AS (INSERT INTO certificates (serial, account_id, order_id,"
    "  der, not_before, not_after, fqdn_set_hash)"
    "  SELECT $1::text, $2::bigint, o.id, $4::bytea,"
    "  to_timestamp($5::double precision),"
    "  to_timestamp($6::double precision), $7::bytea FROM o"
    "  RETURNING serial, issued),"
    " n AS (INSERT INTO issued_names (name, serial, issued)"
    "  SELECT t.name, c.serial, c.issued"
    "  FROM c, unnest($8::text[]) AS t (name))"
    " SELECT 1 FROM c",
    8,
    true,
};

static const struct sa_stmt sa_cert_get_stmt = {
    SA_STMT_CERT_GET,
    "sa_cert_get",
    "SELECT serial, account_id, order_id, der,"
    " floor(extract(epoch FROM issued))::bigint,"
    " floor(extract(epoch FROM not_before))::bigint,"
    " floor(extract(epoch FROM not_after))::bigint, revoked_at IS NOT NULL,"
    " floor(extract(epoch FROM revoked_at))::bigint, revoked_reason"
    " FROM certificates WHERE serial = $1::text",
    1,
    false,
};

static const struct sa_stmt sa_cert_revoke_stmt = {
    SA_STMT_CERT_REVOKE,
    "sa_cert_revoke",
    "WITH u AS (UPDATE certificates SET revoked_at = now(),"
    "  revoked_reason = $2::integer"
    "  WHERE serial = $1::text AND revoked_at IS NULL RETURNING 1)"
    " SELECT (SELECT count(*) FROM u),"
    " EXISTS (SELECT 1 FROM certificates WHERE serial = $1::text)",
    2,
    false,
};

void
sa_cert_clear(struct sa_cert *cert)
{
	if (cert == NULL)
		return;
	free(cert->der);
	memset(cert, 0, sizeof(*cert));
}

/* Runs ST, sa_cert_insert_stmt or sa_cert_insert_ready_stmt, for NC;
 * SA_OK with *ROWS, the rows it returned. */
static int
sa_cert_write(struct sa_conn *c, const struct sa_stmt *st,
    const struct sa_new_cert *nc, int *rows)
{
	char abuf[SA_I64_BUF], obuf[SA_I64_BUF], nbbuf[SA_I64_BUF],
	    nabuf[SA_I64_BUF];
	const char *vals[8];
	int lens[8] = {0}, fmts[8] = {0};
	char *names = NULL;
	PGresult *r = NULL;
	int rc = SA_ERR;

	if (nc->nnames < 0 || nc->nnames > CB_MAX_IDENTIFIERS ||
	    nc->der_len > CB_MAX_CERT_BYTES) {
		cb_log(LOG_ERR, "sa: certificate %s: %d names, %zu bytes",
		    nc->serial, nc->nnames, nc->der_len);
		goto out;
	}
	names = sa_text_array(nc->names, nc->nnames);
	vals[0] = nc->serial;
	vals[1] = sa_i64(abuf, nc->account_id);
	vals[2] = sa_i64(obuf, nc->order_id);
	vals[3] = (const char *)nc->der;
	lens[3] = (int)nc->der_len;
	fmts[3] = 1;
	vals[4] = sa_i64(nbbuf, (int64_t)nc->not_before);
	vals[5] = sa_i64(nabuf, (int64_t)nc->not_after);
	vals[6] = (const char *)nc->fqdn_set_hash;
	lens[6] = (int)sizeof(nc->fqdn_set_hash);
	fmts[6] = 1;
	vals[7] = names;
	rc = sa_exec(c, st, vals, lens, fmts, &r);
	if (rc == SA_OK)
		*rows = PQntuples(r);
out:
	PQclear(r);
	free(names);
	return rc;
}

int
sa_cert_insert(struct sa_conn *c, const struct sa_new_cert *nc)
{
	int rows = 0;

	return sa_cert_write(c, &sa_cert_insert_stmt, nc, &rows);
}

int
sa_cert_insert_if_ready(struct sa_conn *c, const struct sa_new_cert *nc)
{
	int rows = 0,
	    rc = sa_cert_write(c, &sa_cert_insert_ready_stmt, nc, &rows);

	if (rc == SA_OK && rows == 0)
		return SA_CONFLICT;
	return rc;
}

/* Copies the bytea in text form at ROW, COL into OUT. */
static int
sa_cert_read_der(const PGresult *r, int row, int col, struct sa_cert *out)
{
	unsigned char *bin;
	size_t len = 0;

	bin = PQunescapeBytea(
	    (const unsigned char *)PQgetvalue(r, row, col), &len);
	if (bin == NULL) {
		cb_log(LOG_ERR, "sa: certificate %s: bad bytea", out->serial);
		return SA_ERR;
	}
	out->der = cb_malloc(len);
	memcpy(out->der, bin, len);
	out->der_len = len;
	PQfreemem(bin);
	return SA_OK;
}

int
sa_cert_get(struct sa_conn *c, const char *serial, struct sa_cert *out)
{
	const char *vals[] = {serial};
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sa_exec(c, &sa_cert_get_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	if (PQntuples(r) == 0) {
		rc = SA_NOTFOUND;
		goto out;
	}
	sa_col_copy(r, 0, 0, out->serial, sizeof(out->serial));
	out->account_id = sa_col_i64(r, 0, 1);
	out->order_id = sa_col_i64(r, 0, 2);
	out->issued = (time_t)sa_col_i64(r, 0, 4);
	out->not_before = (time_t)sa_col_i64(r, 0, 5);
	out->not_after = (time_t)sa_col_i64(r, 0, 6);
	out->revoked = sa_col_bool(r, 0, 7);
	out->revoked_at = (time_t)sa_col_i64(r, 0, 8);
	out->revoked_reason = (int)sa_col_i64(r, 0, 9);
	rc = sa_cert_read_der(r, 0, 3, out);
out:
	PQclear(r);
	return rc;
}

int
sa_cert_revoke(struct sa_conn *c, const char *serial, int reason)
{
	char rbuf[SA_I64_BUF];
	const char *vals[] = {serial, sa_i64(rbuf, reason)};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_cert_revoke_stmt, vals, NULL, NULL, &r);
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
