/* SPDX-License-Identifier: ISC */
/* Storage: PostgreSQL through libpq. Owns the schema and migrations, the
 * connection pool, the embedded cluster and every SQL statement. Knows no
 * HTTP and no ACME wire format: JSON columns are carried as opaque text. */
#ifndef SA_H
#define SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cb_jwk.h"
#include "cb_limits.h"
#include "cb_mem.h"

/* Return codes of every fallible sa_ function (STYLE rule 4). */
enum sa_rc {
	SA_OK = 0,
	SA_ERR = -1,      /* database or connection failure (logged) */
	SA_NOTFOUND = -2, /* no such row, or nothing to do */
	SA_CONFLICT = -3, /* a uniqueness or state condition failed */
	SA_EXISTS = -4,   /* an equivalent row exists; nothing written */
};

/* Persisted states of accounts, orders, authorizations and challenges
 * (RFC 8555 7.1.6). READY and EXPIRED are computed, never stored. */
enum sa_status {
	SA_STATUS_PENDING = 0,
	SA_STATUS_READY,
	SA_STATUS_PROCESSING,
	SA_STATUS_VALID,
	SA_STATUS_INVALID,
	SA_STATUS_DEACTIVATED,
	SA_STATUS_EXPIRED,
	SA_STATUS_REVOKED,
};

#define SA_MAX_CHALLENGES 4
#define SA_TYPE_LEN 16   /* "dns", "ip", "http-01", "tls-alpn-01"... */
#define SA_TOKEN_LEN 64  /* base64url tokens are 43 characters */
#define SA_SERIAL_LEN 41 /* hex serial, at most 20 bytes */

struct sa_conn;
struct sa_pool;
struct sa_embedded;

/* The RFC 8555 name of a status ("pending", ...). */
const char *sa_status_name(enum sa_status st);

/* ---- embedded cluster (sa_embedded.c) ---- */

/* Starts a private PostgreSQL in STATE_DIR/pgdata (initdb on first use) on
 * a Unix socket in STATE_DIR/pgsock, as RUN_AS (used only when running as
 * root; PostgreSQL refuses root), with fsync on. A stale postmaster.pid
 * left by a crash is removed when its process is gone. Blocks until the
 * server accepts connections. From then on a thread of its own watches
 * the server and starts it again, after a pause that grows while it keeps
 * dying (0.5 s to 10 s), if it exits (logged at LOG_ERR). Call it from a
 * thread that lives until sa_embedded_stop(), such as the main thread: the
 * server gets SIGINT when the calling thread ends. Returns NULL on failure
 * (logged). */
struct sa_embedded *sa_embedded_start(
    const char *state_dir, const char *run_as);
/* The libpq connection string for the embedded cluster; lent for the
 * lifetime of E. It stays the same across restarts. */
const char *sa_embedded_conninfo(const struct sa_embedded *e);
/* Stops the watching thread, then the cluster (fast shutdown); waits for
 * both, frees E. NULL is fine. */
void sa_embedded_stop(struct sa_embedded *e);

/* ---- connections and pool (sa_pool.c) ---- */

/* Opens one connection (used for LISTEN by validator workers). Sets
 * synchronous_commit as asked. NULL on failure (logged). */
struct sa_conn *sa_conn_open(const char *conninfo, bool synchronous_commit);
/* Closes C; NULL is fine. */
void sa_conn_close(struct sa_conn *c);
/* A pool of SIZE connections, opened at once. NULL on failure (logged). */
struct sa_pool *sa_pool_new(
    const char *conninfo, int size, bool synchronous_commit);
/* Closes every connection and frees P; NULL is fine. */
void sa_pool_free(struct sa_pool *p);
/* Group commit: from now on the writes that commit alone at the busiest
 * steps of an issuance (newOrder, the challenge answer, the validation
 * outcome, sa_cert_insert_if_ready()), when issued while another such write is
 * in flight, wait and then commit together, in one transaction on one of their
 * connections; each request still returns only once its write is durable. Call
 * before the first sa_pool_acquire(). */
void sa_pool_group_commit(struct sa_pool *p);
/* Borrows a connection, waiting while all are in use. A connection found
 * broken is re-established; NULL if that fails (the caller answers
 * serverInternal). Thread-safe. */
struct sa_conn *sa_pool_acquire(struct sa_pool *p);
/* Returns C to the pool. A connection left inside a transaction is rolled
 * back first. NULL is fine. Thread-safe. */
void sa_pool_release(struct sa_pool *p, struct sa_conn *c);
/* Applies every pending schema migration in one transaction under an
 * advisory lock, so several instances may start together. */
int sa_migrate(struct sa_conn *c) CB_MUSTCHECK;
/* Transactions spanning several sa_ calls (finalize). sa_tx_begin() sends
 * nothing: BEGIN goes out with the next statement, whose failure is then
 * the one reported. */
int sa_tx_begin(struct sa_conn *c) CB_MUSTCHECK;
int sa_tx_commit(struct sa_conn *c) CB_MUSTCHECK;
/* Ends the transaction with the next statement instead: COMMIT goes out
 * with it, in the same round trip, and that statement's success means
 * both succeeded. Its failure (or sa_tx_rollback() before it runs)
 * leaves the transaction to roll back. */
int sa_tx_commit_with_next(struct sa_conn *c) CB_MUSTCHECK;
void sa_tx_rollback(struct sa_conn *c);

/* ---- accounts (sa_account.c) ---- */

struct sa_account {
	int64_t id;
	enum sa_status status; /* VALID or DEACTIVATED */
	char *jwk_json;        /* owned: canonical JWK (cb_jwk.json) */
	char thumbprint[CB_JWK_THUMBPRINT_LEN];
	char *contact_json; /* owned: JSON array of URLs, "[]" if none */
	time_t created;
};

/* Frees what A owns; safe on a zeroed struct. */
void sa_account_clear(struct sa_account *a);
/* Inserts a valid account. SA_CONFLICT if the thumbprint is taken. */
int sa_account_insert(struct sa_conn *c, const char *jwk_json,
    const char *thumbprint, const char *contact_json, int64_t *id) CB_MUSTCHECK;
int sa_account_get(
    struct sa_conn *c, int64_t id, struct sa_account *out) CB_MUSTCHECK;
int sa_account_get_by_thumbprint(struct sa_conn *c, const char *thumbprint,
    struct sa_account *out) CB_MUSTCHECK;
int sa_account_update_contact(
    struct sa_conn *c, int64_t id, const char *contact_json) CB_MUSTCHECK;
/* VALID -> DEACTIVATED; SA_NOTFOUND if not valid. */
int sa_account_deactivate(struct sa_conn *c, int64_t id) CB_MUSTCHECK;
/* Replaces the key; SA_CONFLICT if another account has THUMBPRINT. */
int sa_account_change_key(struct sa_conn *c, int64_t id, const char *jwk_json,
    const char *thumbprint) CB_MUSTCHECK;
/* Order ids of the account with id > AFTER_ID, ascending, at most MAX into
 * IDS; *N is how many. */
int sa_account_orders(struct sa_conn *c, int64_t account_id, int64_t after_id,
    int max, int64_t *ids, int *n) CB_MUSTCHECK;

/* ---- authorizations and challenges (sa_authz.c) ---- */

struct sa_ident {
	char type[SA_TYPE_LEN]; /* "dns" (later "ip") */
	char value[CB_MAX_DNS_NAME + 1];
};

struct sa_challenge {
	int64_t id;
	int64_t authz_id;
	char type[SA_TYPE_LEN];
	char token[SA_TOKEN_LEN];
	enum sa_status status; /* PENDING, PROCESSING, VALID, INVALID */
	time_t validated;      /* 0 if not yet */
	char *error_json;      /* owned, problem object, or NULL */
	char *record_json;     /* owned, validationRecord array, or NULL */
};

struct sa_authz {
	int64_t id;
	int64_t account_id;
	struct sa_ident ident;
	bool wildcard;
	enum sa_status status; /* stored status; expiry is the caller's */
	time_t expires;
	int nchallenges;
	struct sa_challenge challenges[SA_MAX_CHALLENGES];
};

/* Frees what A owns; safe on a zeroed struct. */
void sa_authz_clear(struct sa_authz *a);
/* Puts A's challenges in the order storage reads them: by id, that is,
 * as they were created. */
void sa_authz_sort_challenges(struct sa_authz *a);
/* The authorization with its challenges (ordered by id). */
int sa_authz_get(
    struct sa_conn *c, int64_t id, struct sa_authz *out) CB_MUSTCHECK;
/* The authorization that challenge CHALLENGE_ID belongs to, with all its
 * challenges, in one query; SA_NOTFOUND if there is no such challenge. */
int sa_authz_get_by_challenge(
    struct sa_conn *c, int64_t challenge_id, struct sa_authz *out) CB_MUSTCHECK;
/* PENDING or VALID -> DEACTIVATED; SA_CONFLICT otherwise. */
int sa_authz_deactivate(struct sa_conn *c, int64_t id) CB_MUSTCHECK;
/* The newest VALID authorization of ACCOUNT_ID for IDENT (and WILDCARD)
 * that expires after MIN_EXPIRES; SA_NOTFOUND if none. */
int sa_authz_find_valid(struct sa_conn *c, int64_t account_id,
    const struct sa_ident *ident, bool wildcard, time_t min_expires,
    int64_t *authz_id) CB_MUSTCHECK;
/* The challenge alone. */
int sa_challenge_get(
    struct sa_conn *c, int64_t id, struct sa_challenge *out) CB_MUSTCHECK;
void sa_challenge_clear(struct sa_challenge *ch);
/* Queues validation: PENDING -> PROCESSING when the authorization is
 * ACCOUNT_ID's, the challenge and its authorization are pending, the
 * authorization has not expired and no other challenge of it is
 * processing or valid. With LEASE_SECONDS > 0 the task is leased to the
 * caller, who validates it (another instance takes it over only once the
 * lease ends); with 0 every instance's workers are NOTIFYed. OUT, unless
 * NULL, gets the authorization as it is afterwards, read in the same
 * round trip. SA_OK when queued, SA_CONFLICT (OUT filled) if a condition
 * failed, SA_NOTFOUND if there is no such challenge. */
int sa_challenge_begin(struct sa_conn *c, int64_t challenge_id,
    int64_t account_id, int lease_seconds, struct sa_authz *out) CB_MUSTCHECK;

/* ---- the validation work queue (sa_queue.c) ---- */

struct sa_task {
	int64_t challenge_id;
	int64_t authz_id;
	int64_t account_id;
	char type[SA_TYPE_LEN];
	char token[SA_TOKEN_LEN];
	struct sa_ident ident;
	char thumbprint[CB_JWK_THUMBPRINT_LEN]; /* account key's, for the key
	                                           authorization */
};

/* Claims one PROCESSING challenge nobody holds (FOR UPDATE SKIP LOCKED),
 * leasing it for LEASE_SECONDS so a crashed worker's task is retried.
 * SA_NOTFOUND when the queue is empty. */
int sa_task_claim(
    struct sa_conn *c, int lease_seconds, struct sa_task *out) CB_MUSTCHECK;
/* Records the outcome in one transaction: the challenge becomes VALID or
 * INVALID with ERROR_JSON (NULL when valid) and RECORD_JSON, validated
 * now; its authorization becomes VALID expiring at AUTHZ_EXPIRES, or
 * INVALID. SA_CONFLICT if the challenge is no longer processing. OUT,
 * unless NULL, gets the authorization as it is afterwards (same round
 * trip), or is left zeroed if it could not be read. */
int sa_task_finish(struct sa_conn *c, const struct sa_task *t, bool valid,
    const char *error_json, const char *record_json, time_t authz_expires,
    struct sa_authz *out) CB_MUSTCHECK;
/* Gives up the lease of a task that will not be validated here (shutting
 * down), so any instance's workers may claim it at once. */
int sa_task_release(struct sa_conn *c, int64_t challenge_id) CB_MUSTCHECK;

/* What a LISTEN connection heard. */
#define SA_NOTICE_MAX_ACCOUNTS 32
struct sa_notices {
	bool work; /* validation work was queued for any worker */
	/* Accounts changed (contact, key, status), by any instance. */
	int naccounts;
	int64_t accounts[SA_NOTICE_MAX_ACCOUNTS];
	bool accounts_overflow; /* more changed than fit: assume all did */
};

/* LISTENs on C (a dedicated connection) for queued work and account
 * changes. */
int sa_queue_listen(struct sa_conn *c) CB_MUSTCHECK;
/* Waits up to TIMEOUT_MS for notifications on C and reports them in OUT.
 * 0 when notified or timed out, -1 if the connection failed (reopen it,
 * LISTEN again, and assume anything may have changed meanwhile). */
int sa_queue_wait(
    struct sa_conn *c, int timeout_ms, struct sa_notices *out) CB_MUSTCHECK;

/* ---- orders (sa_order.c) ---- */

struct sa_order_authz {
	int64_t authz_id;
	struct sa_ident ident;
	bool wildcard;
	enum sa_status status;
	time_t expires;
	/* sa_order_insert() only: the ids of a new authorization's
	 * challenges, as sa_new_authz.challenges lists them. */
	int64_t challenge_ids[SA_MAX_CHALLENGES];
};

struct sa_order {
	int64_t id;
	int64_t account_id;
	enum sa_status status; /* stored: PENDING, PROCESSING, VALID, INVALID */
	time_t expires;
	time_t not_before; /* 0 if not requested */
	time_t not_after;  /* 0 if not requested */
	time_t created;
	int nauthz;                   /* one per identifier, in request order */
	struct sa_order_authz *authz; /* owned */
	char *error_json;             /* owned, or NULL */
	char cert_serial[SA_SERIAL_LEN]; /* "" until VALID */
};

/* Frees what O owns; safe on a zeroed struct. */
void sa_order_clear(struct sa_order *o);

struct sa_new_challenge {
	char type[SA_TYPE_LEN];
	char token[SA_TOKEN_LEN];
};

/* sa_new_authz.reuse_id: reuse the account's newest valid authorization
 * for the identifier if there is one, else create this one. */
#define SA_REUSE_LOOKUP (-1)

struct sa_new_authz {
	struct sa_ident ident;
	bool wildcard;
	/* An existing authorization, SA_REUSE_LOOKUP, or 0 to create one. */
	int64_t reuse_id;
	time_t expires; /* the new authorization's, or the reused one's */
	int nchallenges;
	struct sa_new_challenge challenges[SA_MAX_CHALLENGES];
};

struct sa_new_order {
	int64_t account_id;
	time_t expires;
	time_t not_before, not_after; /* 0 if absent */
	const char *idents_key; /* sorted identifiers, for reuse lookups */
	/* If not 0, a pending order sa_order_find_pending() finds at this
	 * time is returned instead of a new one. */
	time_t reuse_pending_at;
	/* SA_REUSE_LOOKUP finds only authorizations expiring after this. */
	time_t reuse_authz_after;
	int nauthz;
	const struct sa_new_authz *authz;
};

/* Inserts the order, its new authorizations and challenges and the links
 * to reused ones, atomically, in one statement (one round trip) that also
 * looks up what may be reused (reuse_pending_at, SA_REUSE_LOOKUP).
 * SA_EXISTS, with nothing written and the pending order's id in
 * *ORDER_ID, if there is one to reuse. SA_CONFLICT, with nothing written,
 * if a given reused authorization is no longer pending or valid, or is
 * another account's. OUT, unless NULL, gets the new order as stored (as
 * sa_order_get() would read it), without reading it back. */
int sa_order_insert(struct sa_conn *c, const struct sa_new_order *o,
    int64_t *order_id, struct sa_order *out) CB_MUSTCHECK;
/* The order with its authorizations. */
int sa_order_get(
    struct sa_conn *c, int64_t id, struct sa_order *out) CB_MUSTCHECK;
/* The newest order of ACCOUNT_ID with IDENTS_KEY that is stored PENDING,
 * requested no notBefore/notAfter, is unexpired at NOW, and none of whose
 * authorizations is invalid, deactivated or expired; SA_NOTFOUND if none. */
int sa_order_find_pending(struct sa_conn *c, int64_t account_id,
    const char *idents_key, time_t now, int64_t *order_id) CB_MUSTCHECK;
/* Inside a transaction: the order, locked FOR UPDATE (finalize). */
int sa_order_get_for_update(
    struct sa_conn *c, int64_t id, struct sa_order *out) CB_MUSTCHECK;
/* Marks the order INVALID with ERROR_JSON. */
int sa_order_set_invalid(
    struct sa_conn *c, int64_t id, const char *error_json) CB_MUSTCHECK;

/* ---- certificates (sa_cert.c) ---- */

struct sa_new_cert {
	const char *serial; /* hex */
	int64_t account_id;
	int64_t order_id;
	const unsigned char *der;
	size_t der_len;
	time_t not_before, not_after;
	unsigned char fqdn_set_hash[32];
	const char *const *names; /* issued names, lowercase */
	int nnames;
};

struct sa_cert {
	char serial[SA_SERIAL_LEN];
	int64_t account_id;
	int64_t order_id;
	unsigned char *der; /* owned */
	size_t der_len;
	time_t issued, not_before, not_after;
	bool revoked;
	time_t revoked_at;
	int revoked_reason;
};

void sa_cert_clear(struct sa_cert *cert);
/* Records an issued certificate, its names (for rate limits) and its
 * FQDN-set hash, and marks its order VALID with the serial. Meant to run in
 * the finalize transaction. */
int sa_cert_insert(
    struct sa_conn *c, const struct sa_new_cert *nc) CB_MUSTCHECK;
/* The same, outside a transaction, in one statement that first checks
 * the order: NC's order must be NC's account's, pending and unexpired,
 * with every authorization valid and unexpired, now. SA_CONFLICT, with
 * nothing written, if not (or if the serial is taken). A grouped write
 * (sa_pool_group_commit()). */
int sa_cert_insert_if_ready(
    struct sa_conn *c, const struct sa_new_cert *nc) CB_MUSTCHECK;
int sa_cert_get(
    struct sa_conn *c, const char *serial, struct sa_cert *out) CB_MUSTCHECK;
/* Records revocation; SA_CONFLICT if already revoked. */
int sa_cert_revoke(
    struct sa_conn *c, const char *serial, int reason) CB_MUSTCHECK;

#endif
