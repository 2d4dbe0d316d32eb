/* SPDX-License-Identifier: ISC */
/* The validation work queue: challenges in state processing are the work
 * items; workers claim them with leases and are woken by NOTIFY. */
#include "sa_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

/* The lease makes a crashed worker's task claimable again once it ends;
 * SKIP LOCKED keeps concurrent claimers off each other's rows. */
static const struct sa_stmt sa_task_claim_stmt = {
    SA_STMT_TASK_CLAIM,
    "sa_task_claim",
    "UPDATE challenges c"
    " SET lease_until = now() + make_interval(secs => $1::integer)"
    " FROM authzs a, accounts ac"
    " WHERE c.id = (SELECT id FROM challenges"
    "  WHERE status = 'processing'"
    "  AND (lease_until IS NULL OR lease_until < now())"
    "  ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " AND a.id = c.authz_id AND ac.id = a.account_id"
    " RETURNING c.id, c.authz_id, a.account_id, c.type, c.token,"
    " a.ident_type, a.ident_value, ac.thumbprint",
    1,
    false,
};

/* One statement, so one transaction even outside sa_tx_begin(). The
 * authorization follows only while it is still pending (not deactivated
 * meanwhile). */
static const struct sa_stmt sa_task_finish_stmt = {
    SA_STMT_TASK_FINISH,
    "sa_task_finish",
    "WITH ch AS (UPDATE challenges SET status = $2::text,"
    "  error = $3::text, record = $4::text, validated = now(),"
    "  lease_until = NULL"
    "  WHERE id = $1::bigint AND status = 'processing'"
    "  RETURNING authz_id),"
    " az AS (UPDATE authzs SET status = $2::text,"
    "  expires = CASE WHEN $2::text = 'valid'"
    "   THEN to_timestamp($5::double precision) ELSE expires END"
    "  WHERE id IN (SELECT authz_id FROM ch) AND status = 'pending'"
    "  RETURNING id)"
    " SELECT (SELECT count(*) FROM ch), (SELECT count(*) FROM az)",
    5,
    true,
};

int
sa_task_claim(struct sa_conn *c, int lease_seconds, struct sa_task *out)
{
	char lbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(lbuf, lease_seconds)};
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sa_exec(c, &sa_task_claim_stmt, vals, NULL, NULL, &r);
	if (rc != SA_OK)
		goto out;
	if (PQntuples(r) == 0) {
		rc = SA_NOTFOUND;
		goto out;
	}
	out->challenge_id = sa_col_i64(r, 0, 0);
	out->authz_id = sa_col_i64(r, 0, 1);
	out->account_id = sa_col_i64(r, 0, 2);
	sa_col_copy(r, 0, 3, out->type, sizeof(out->type));
	sa_col_copy(r, 0, 4, out->token, sizeof(out->token));
	sa_col_copy(r, 0, 5, out->ident.type, sizeof(out->ident.type));
	sa_col_copy(r, 0, 6, out->ident.value, sizeof(out->ident.value));
	sa_col_copy(r, 0, 7, out->thumbprint, sizeof(out->thumbprint));
out:
	PQclear(r);
	return rc;
}

int
sa_task_finish(struct sa_conn *c, const struct sa_task *t, bool valid,
    const char *error_json, const char *record_json, time_t authz_expires,
    struct sa_authz *out)
{
	char idbuf[SA_I64_BUF], ebuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, t->challenge_id),
	    sa_status_name(valid ? SA_STATUS_VALID : SA_STATUS_INVALID),
	    valid ? NULL : error_json, record_json,
	    sa_i64(ebuf, (int64_t)authz_expires)};
	/* One round trip, one transaction; the read sees the change. */
	const struct sa_batch_item items[] = {
	    {&sa_task_finish_stmt, vals, NULL, NULL},
	    {&sa_authz_get_by_challenge_stmt, vals, NULL, NULL},
	};
	PGresult *r[2] = {NULL, NULL};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	rc = sa_exec_batch(c, items, out != NULL ? 2 : 1, r);
	if (rc != SA_OK)
		goto out;
	if (sa_col_i64(r[0], 0, 0) == 0)
		rc = SA_CONFLICT;
	else if (sa_col_i64(r[0], 0, 1) == 0)
		cb_log(LOG_INFO,
		    "sa: challenge %lld finished, its authz was no "
		    "longer pending",
		    (long long)t->challenge_id);
	/* The outcome is stored either way; only the copy is missing. */
	if (out != NULL &&
	    (PQntuples(r[1]) == 0 || sa_authz_read(r[1], out) != SA_OK)) {
		cb_log(LOG_ERR,
		    "sa: challenge %lld: authorization not read back",
		    (long long)t->challenge_id);
		sa_authz_clear(out);
	}
out:
	PQclear(r[0]);
	PQclear(r[1]);
	return rc;
}

static const struct sa_stmt sa_task_release_stmt = {
    SA_STMT_TASK_RELEASE,
    "sa_task_release",
    "UPDATE challenges SET lease_until = NULL"
    " WHERE id = $1::bigint AND status = 'processing'",
    1,
    false,
};

int
sa_task_release(struct sa_conn *c, int64_t challenge_id)
{
	char idbuf[SA_I64_BUF];
	const char *vals[] = {sa_i64(idbuf, challenge_id)};
	PGresult *r = NULL;
	int rc;

	rc = sa_exec(c, &sa_task_release_stmt, vals, NULL, NULL, &r);
	PQclear(r);
	return rc;
}

int
sa_queue_listen(struct sa_conn *c)
{
	return sa_exec_simple(c,
	    "LISTEN " SA_QUEUE_CHANNEL "; LISTEN " SA_ACCOUNT_CHANNEL,
	    "listen");
}

static void
sa_notices_add_account(struct sa_notices *out, const char *payload)
{
	char *end;
	long long id = strtoll(payload, &end, 10);

	if (*end != '\0' || id <= 0 ||
	    out->naccounts == SA_NOTICE_MAX_ACCOUNTS) {
		out->accounts_overflow = true;
		return;
	}
	out->accounts[out->naccounts++] = id;
}

/* Moves the notifications libpq has parsed into OUT; returns how many. */
static int
sa_queue_drain(struct sa_conn *c, struct sa_notices *out)
{
	PGnotify *n;
	int count = 0;

	while ((n = PQnotifies(c->pg)) != NULL) {
		if (strcmp(n->relname, SA_ACCOUNT_CHANNEL) == 0)
			sa_notices_add_account(out, n->extra);
		else
			out->work = true;
		PQfreemem(n);
		count++;
	}
	return count;
}

/* Whether C's socket has bytes to read right now. */
static bool
sa_queue_readable(struct sa_conn *c, int timeout_ms, int *err)
{
	struct pollfd pfd = {PQsocket(c->pg), POLLIN, 0};
	int n;

	*err = 0;
	if (pfd.fd < 0) {
		cb_log(LOG_ERR, "sa: queue connection is closed");
		*err = -1;
		return false;
	}
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0 && errno != EINTR) {
		cb_log(LOG_ERR, "sa: poll: %s", strerror(errno));
		*err = -1;
	}
	return n > 0;
}

int
sa_queue_wait(struct sa_conn *c, int timeout_ms, struct sa_notices *out)
{
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (sa_queue_drain(c, out) > 0)
		return 0;
	if (!sa_queue_readable(c, timeout_ms, &err))
		return err;
	/* Keep reading while bytes arrive, so a server closing the session
	 * (message, then EOF) is noticed now rather than on the next call. */
	for (int i = 0; i < 4; i++) {
		if (!PQconsumeInput(c->pg)) {
			sa_log_pgerr("queue wait", PQerrorMessage(c->pg));
			return -1;
		}
		if (!sa_queue_readable(c, 0, &err))
			break;
	}
	(void)sa_queue_drain(c, out);
	return err;
}
