/* SPDX-License-Identifier: ISC */
/* The schema: versioned migrations, applied in order, each once. A
 * released migration is never edited; changes are new entries. */
#include "sa_int.h"

#include <stdlib.h>

#include "cb_log.h"

/* pg_advisory_xact_lock key: "cobble" in ASCII, 0x636f62626c65. */
#define SA_MIGRATE_LOCK "109330043137125"

/* Migration N+1 is sa_migrations[N]. Statuses are stored as the names of
 * sa_status_name(); times as timestamptz. */
static const char *const sa_migrations[] = {
    /* 1: accounts, orders, authorizations, challenges, certificates. */
    "CREATE TABLE accounts ("
    " id bigserial PRIMARY KEY,"
    " status text NOT NULL DEFAULT 'valid'"
    "  CHECK (status IN ('valid', 'deactivated')),"
    " jwk text NOT NULL,"
    " thumbprint text NOT NULL CHECK (length(thumbprint) < 44),"
    " contact text NOT NULL DEFAULT '[]',"
    " created timestamptz NOT NULL DEFAULT now());"
    "CREATE UNIQUE INDEX accounts_thumbprint ON accounts (thumbprint);"

    "CREATE TABLE orders ("
    " id bigserial PRIMARY KEY,"
    " account_id bigint NOT NULL REFERENCES accounts (id),"
    " idents_key text NOT NULL,"
    " status text NOT NULL DEFAULT 'pending'"
    "  CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),"
    " expires timestamptz NOT NULL,"
    " not_before timestamptz,"
    " not_after timestamptz,"
    " error text,"
    " cert_serial text CHECK (length(cert_serial) < 41),"
    " created timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX orders_account ON orders (account_id, id);"
    "CREATE INDEX orders_pending ON orders (account_id, idents_key)"
    " WHERE status = 'pending';"

    "CREATE TABLE authzs ("
    " id bigserial PRIMARY KEY,"
    " account_id bigint NOT NULL REFERENCES accounts (id),"
    " ident_type text NOT NULL CHECK (length(ident_type) < 16),"
    " ident_value text NOT NULL CHECK (length(ident_value) < 254),"
    " wildcard boolean NOT NULL DEFAULT false,"
    " status text NOT NULL DEFAULT 'pending' CHECK (status IN"
    "  ('pending', 'valid', 'invalid', 'deactivated')),"
    " expires timestamptz NOT NULL);"
    "CREATE INDEX authzs_valid ON authzs"
    " (account_id, ident_type, ident_value) WHERE status = 'valid';"

    "CREATE TABLE order_authzs ("
    " order_id bigint NOT NULL REFERENCES orders (id),"
    " authz_id bigint NOT NULL REFERENCES authzs (id),"
    " position integer NOT NULL,"
    " PRIMARY KEY (order_id, position));"

    "CREATE TABLE challenges ("
    " id bigserial PRIMARY KEY,"
    " authz_id bigint NOT NULL REFERENCES authzs (id),"
    " type text NOT NULL CHECK (length(type) < 16),"
    " token text NOT NULL CHECK (length(token) < 64),"
    " status text NOT NULL DEFAULT 'pending'"
    "  CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),"
    " validated timestamptz,"
    " error text,"
    " record text,"
    " lease_until timestamptz);"
    "CREATE INDEX challenges_authz ON challenges (authz_id, id);"
    "CREATE INDEX challenges_processing ON challenges (id)"
    " WHERE status = 'processing';"

    "CREATE TABLE certificates ("
    " serial text PRIMARY KEY CHECK (length(serial) < 41),"
    " account_id bigint NOT NULL REFERENCES accounts (id),"
    " order_id bigint REFERENCES orders (id),"
    " der bytea NOT NULL,"
    " issued timestamptz NOT NULL DEFAULT now(),"
    " not_before timestamptz NOT NULL,"
    " not_after timestamptz NOT NULL,"
    " fqdn_set_hash bytea NOT NULL,"
    " revoked_at timestamptz,"
    " revoked_reason integer);"
    "CREATE INDEX certificates_fqdn_set ON certificates"
    " (fqdn_set_hash, issued);"

    /* For rate limits: certificates per name over a window. */
    "CREATE TABLE issued_names ("
    " name text NOT NULL,"
    " serial text NOT NULL REFERENCES certificates (serial),"
    " issued timestamptz NOT NULL);"
    "CREATE INDEX issued_names_name ON issued_names (name, issued);",

    /* 2: no foreign keys. Each checked reference takes a KEY SHARE lock
     * on the referenced row, a WAL record and a dirtied page per insert
     * (about a third of an order insert's cost); rows are only ever
     * written by storage/ in statements that insert parent and children
     * together, and nothing is deleted. */
    "ALTER TABLE orders DROP CONSTRAINT orders_account_id_fkey;"
    "ALTER TABLE authzs DROP CONSTRAINT authzs_account_id_fkey;"
    "ALTER TABLE order_authzs DROP CONSTRAINT order_authzs_order_id_fkey;"
    "ALTER TABLE order_authzs DROP CONSTRAINT order_authzs_authz_id_fkey;"
    "ALTER TABLE challenges DROP CONSTRAINT challenges_authz_id_fkey;"
    "ALTER TABLE certificates DROP CONSTRAINT certificates_account_id_fkey;"
    "ALTER TABLE certificates DROP CONSTRAINT certificates_order_id_fkey;"
    "ALTER TABLE issued_names DROP CONSTRAINT issued_names_serial_fkey;",

    /* 3: the reuse lookups want the newest match (ORDER BY id DESC
     * LIMIT 1): with id last in the index a backward scan finds it
     * without sorting the matches. */
    "CREATE INDEX orders_pending_newest ON orders"
    " (account_id, idents_key, id) WHERE status = 'pending';"
    "DROP INDEX orders_pending;"
    "CREATE INDEX authzs_valid_newest ON authzs"
    " (account_id, ident_type, ident_value, id) WHERE status = 'valid';"
    "DROP INDEX authzs_valid;",
};

#define SA_NMIGRATIONS (int)(sizeof(sa_migrations) / sizeof(sa_migrations[0]))

/* The highest applied version, 0 for an empty database. */
static int
sa_migrate_current(struct sa_conn *c, int *version)
{
	PGresult *r = NULL;
	int rc = SA_ERR;

	if (sa_exec_simple(c,
	        "CREATE TABLE IF NOT EXISTS schema_migrations ("
	        " version integer PRIMARY KEY,"
	        " applied timestamptz NOT NULL DEFAULT now())",
	        "schema_migrations") != SA_OK)
		goto out;
	r = PQexec(
	    c->pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		sa_log_pgerr("schema version", PQresultErrorMessage(r));
		goto out;
	}
	*version = (int)sa_col_i64(r, 0, 0);
	rc = SA_OK;
out:
	PQclear(r);
	return rc;
}

static int
sa_migrate_apply(struct sa_conn *c, int version)
{
	const char *vals[1];
	char vbuf[SA_I64_BUF];
	PGresult *r = NULL;
	int rc = SA_ERR;

	cb_log(LOG_NOTICE, "sa: applying schema migration %d", version);
	if (sa_exec_simple(c, sa_migrations[version - 1], "migration") != SA_OK)
		goto out;
	vals[0] = sa_i64(vbuf, version);
	r = PQexecParams(c->pg,
	    "INSERT INTO schema_migrations (version) VALUES ($1::integer)", 1,
	    NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		sa_log_pgerr("schema_migrations", PQresultErrorMessage(r));
		goto out;
	}
	rc = SA_OK;
out:
	PQclear(r);
	return rc;
}

int
sa_migrate(struct sa_conn *c)
{
	int version = 0, rc = SA_ERR;

	if (sa_tx_begin(c) != SA_OK)
		return SA_ERR;
	/* Held until commit: concurrent starters wait here, then find the
	 * work done. */
	if (sa_exec_simple(c,
	        "SELECT pg_advisory_xact_lock(" SA_MIGRATE_LOCK ")",
	        "migration lock") != SA_OK)
		goto out;
	if (sa_migrate_current(c, &version) != SA_OK)
		goto out;
	if (version > SA_NMIGRATIONS) {
		cb_log(LOG_ERR,
		    "sa: database schema version %d is newer than this "
		    "cobble (%d)",
		    version, SA_NMIGRATIONS);
		goto out;
	}
	for (version++; version <= SA_NMIGRATIONS; version++)
		if (sa_migrate_apply(c, version) != SA_OK)
			goto out;
	rc = SA_OK;
out:
	if (rc != SA_OK) {
		sa_tx_rollback(c);
		return rc;
	}
	return sa_tx_commit(c);
}
