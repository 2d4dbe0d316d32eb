/* SPDX-License-Identifier: ISC */
/* Storage internals shared by the sa_*.c files: the connection, the
 * statement table and the helpers that run statements and read results. */
#ifndef SA_INT_H
#define SA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sa.h"

/* Every prepared ("hot") statement, one bit each in sa_conn.prepared. */
enum sa_stmt_id {
	SA_STMT_ACCOUNT_INSERT = 0,
	SA_STMT_ACCOUNT_GET,
	SA_STMT_ACCOUNT_GET_BY_THUMBPRINT,
	SA_STMT_ACCOUNT_UPDATE_CONTACT,
	SA_STMT_ACCOUNT_DEACTIVATE,
	SA_STMT_ACCOUNT_CHANGE_KEY,
	SA_STMT_ACCOUNT_ORDERS,
	SA_STMT_AUTHZ_GET,
	SA_STMT_AUTHZ_GET_BY_CHALLENGE,
	SA_STMT_AUTHZ_DEACTIVATE,
	SA_STMT_AUTHZ_FIND_VALID,
	SA_STMT_CHALLENGE_GET,
	SA_STMT_CHALLENGE_LOCK_AUTHZ,
	SA_STMT_CHALLENGE_BEGIN,
	SA_STMT_TASK_CLAIM,
	SA_STMT_TASK_FINISH,
	SA_STMT_TASK_RELEASE,
	SA_STMT_ORDER_INSERT,
	SA_STMT_ORDER_GET,
	SA_STMT_ORDER_GET_FOR_UPDATE,
	SA_STMT_ORDER_FIND_PENDING,
	SA_STMT_ORDER_SET_INVALID,
	SA_STMT_CERT_INSERT,
	SA_STMT_CERT_INSERT_READY,
	SA_STMT_CERT_GET,
	SA_STMT_CERT_REVOKE,
	SA_STMT_COUNT
};

_Static_assert(SA_STMT_COUNT <= 64, "sa_conn.prepared is a 64-bit mask");

/* One SQL statement, prepared on first use on each connection. */
struct sa_stmt {
	enum sa_stmt_id id;
	const char *name; /* the prepared statement's name */
	const char *sql;
	int nparams;
	/* A write that commits on its own at the hottest points of an
	 * issuance: outside a transaction, a batch holding one shares its
	 * commit with other requests' (sa_group.c). */
	bool grouped;
};

/* One libpq connection. Used by one thread at a time (the pool hands it
 * out); never shared concurrently. */
struct sa_conn {
	PGconn *pg;
	bool synchronous_commit;
	uint64_t prepared; /* bit (1 << sa_stmt_id) once prepared here */
	/* sa_tx_begin() was called and BEGIN not sent yet: it goes out with
	 * the next statement, in the same round trip. */
	bool begin_pending;
	/* sa_tx_commit_with_next() was called: COMMIT goes out right after
	 * the next statement, in the same round trip. */
	bool commit_pending;
	/* Lent by the pool: where grouped batches go (NULL: nowhere). */
	struct sa_group *group;
	/* A statement's error is logged at debug only: what failed is run
	 * again on its own, which logs it (sa_group.c). */
	bool errors_rerun;
};

/* The LISTEN/NOTIFY channels: validation work queued for any worker,
 * and accounts changed (the payload is the account id). */
#define SA_QUEUE_CHANNEL "cobble_tasks"
#define SA_ACCOUNT_CHANNEL "cobble_accounts"

/* Room for an int64 in decimal, with sign and NUL. */
#define SA_I64_BUF 24

/* Formats V into BUF (SA_I64_BUF bytes); returns BUF. */
const char *sa_i64(char *buf, int64_t v);

/* Logs a libpq message MSG about WHAT at LOG_ERR, on one line. */
void sa_log_pgerr(const char *what, const char *msg);

/* Runs ST with NPARAMS values (text unless FMTS says 1 for binary, then
 * LENS gives the length). Prepares ST first if this connection has not,
 * and sends a pending BEGIN, in the same round trip. SA_OK with *OUT set
 * (caller PQclear()s it), SA_CONFLICT on a unique violation (not
 * logged), SA_ERR otherwise (logged). */
int sa_exec(struct sa_conn *c, const struct sa_stmt *st,
    const char *const *vals, const int *lens, const int *fmts,
    PGresult **out) CB_MUSTCHECK;
/* One statement of a batch (sa_exec_batch). */
struct sa_batch_item {
	const struct sa_stmt *st;
	const char *const *vals;
	const int *lens; /* NULL, or as sa_exec() */
	const int *fmts;
};

/* The most statements one batch may hold. */
#define SA_BATCH_MAX 4

/* Runs the N (<= SA_BATCH_MAX) statements of ITEMS in one round trip
 * (libpq pipeline mode), in order, with a pending BEGIN first and any
 * preparation needed. Outside a transaction they form one: committed
 * together at the end, or not at all. Inside the caller's they join it.
 * Each statement takes its own snapshot when the previous one has
 * finished (READ COMMITTED), so it sees what was committed while an
 * earlier one waited for a lock. SA_OK with OUTS[i] set for each item
 * (caller PQclear()s them); otherwise the code of the first statement
 * that failed, as sa_exec() classifies it, and every OUTS[i] NULL. */
int sa_exec_batch(struct sa_conn *c, const struct sa_batch_item *items, int n,
    PGresult **outs) CB_MUSTCHECK;

/* The most statements sa_batch_run() takes: a group of batches. */
#define SA_RUN_MAX 64

/* sa_exec_batch() for up to SA_RUN_MAX statements, on C itself: never
 * handed to a group. */
int sa_batch_run(struct sa_conn *c, const struct sa_batch_item *items, int n,
    PGresult **outs) CB_MUSTCHECK;

/* ---- group commit (sa_group.c) ---- */

/* The queue of grouped batches shared by a pool's connections: the
 * batches of many requests run in one transaction, on the connection of
 * the first of them: one commit and one WAL flush for all. */
struct sa_group;

struct sa_group *sa_group_new(void);
/* Logs the counts and frees G; nothing may be running in it. */
void sa_group_free(struct sa_group *g);
/* sa_exec_batch() through G: runs ITEMS at once on C when no group is in
 * flight; otherwise waits until the group holding them has committed (or
 * failed), running that group on C when C's request is the first queued.
 * Returns as sa_exec_batch() does. */
int sa_group_exec(struct sa_group *g, struct sa_conn *c,
    const struct sa_batch_item *items, int n, PGresult **outs) CB_MUSTCHECK;
/* How many groups G has run, and how many batches they held. */
void sa_group_counts(struct sa_group *g, uint64_t *groups, uint64_t *batches);

/* Shared with sa_task_finish(): the authorization of challenge $1 with
 * its challenges, read into an sa_authz by sa_authz_read(). */
extern const struct sa_stmt sa_authz_get_by_challenge_stmt;
int sa_authz_read(const PGresult *r, struct sa_authz *out) CB_MUSTCHECK;
/* Runs SQL without parameters (BEGIN, COMMIT, LISTEN, DDL). SA_OK or
 * SA_ERR (logged with WHAT). */
int sa_exec_simple(
    struct sa_conn *c, const char *sql, const char *what) CB_MUSTCHECK;
/* The number of rows a command changed (PQcmdTuples). */
long sa_cmd_rows(const PGresult *r);

/* Whether C is inside a transaction block (open, failed, or begun with
 * its BEGIN still pending). */
bool sa_in_tx(struct sa_conn *c);

/* Column readers for text results. NULL reads as 0, false, "" or NULL. */
int64_t sa_col_i64(const PGresult *r, int row, int col);
bool sa_col_bool(const PGresult *r, int row, int col);
bool sa_col_isnull(const PGresult *r, int row, int col);
/* A copy of the value (cb_strdup) or NULL; caller owns it. */
char *sa_col_dup(const PGresult *r, int row, int col);
/* Copies the value into BUF of size N, truncating (the schema bounds the
 * columns read this way). */
void sa_col_copy(const PGresult *r, int row, int col, char *buf, size_t n);
/* Parses a status name; SA_ERR (logged) if unknown. */
int sa_col_status(
    const PGresult *r, int row, int col, enum sa_status *out) CB_MUSTCHECK;

/* A PostgreSQL text[] literal of the N strings in V, for one parameter;
 * caller owns it. */
char *sa_text_array(const char *const *v, int n);
/* A PostgreSQL bigint[] literal of the N numbers in V; caller owns it. */
char *sa_i64_array(const int64_t *v, int n);

#endif
