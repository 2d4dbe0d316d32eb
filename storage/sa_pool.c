/* SPDX-License-Identifier: ISC */
/* Connections, the connection pool and transactions. */
#include "sa_int.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

struct sa_pool {
	int size;
	struct sa_conn **conns; /* all SIZE connections, owned */
	struct sa_group *group; /* owned; NULL without group commit */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled when a connection is returned */
	/* guards: idle, nidle */
	struct sa_conn **idle;
	int nidle;
};

/* Server notices arrive here instead of libpq's stderr printer. A FATAL
 * one while idle is the server closing the session (terminated backend,
 * shutdown): the next acquire reconnects. */
static void
sa_notice(void *arg, const PGresult *r)
{
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	int level = LOG_DEBUG;

	(void)arg;
	if (sev == NULL)
		sev = "NOTICE";
	if (strcmp(sev, "WARNING") == 0 || strcmp(sev, "ERROR") == 0 ||
	    strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0)
		level = LOG_WARNING;
	cb_log(level, "sa: server %s: %s", sev, msg != NULL ? msg : "");
}

/* Per-session settings, applied after every (re)connect. Prepared
 * statements do not survive a new session. */
static int
sa_conn_setup(struct sa_conn *c)
{
	c->prepared = 0;
	c->begin_pending = false;
	c->commit_pending = false;
	/* Every statement is a keyed lookup of a few rows. Without this
	 * the planner picks sequential scans and hash joins while the
	 * statistics are missing or old (a fresh database's first minute, a
	 * table that just grew), and a cached generic plan keeps them: each
	 * request then reads whole tables. Plain index scans and nested
	 * loops are also the cheapest plans to start for a few rows (bitmap
	 * scans and hashes cost about a tenth of PostgreSQL's CPU). */
	if (sa_exec_simple(c,
	        "SET enable_seqscan = off; SET enable_bitmapscan = off;"
	        " SET enable_hashjoin = off; SET enable_mergejoin = off",
	        "planner settings") != SA_OK)
		return SA_ERR;
	/* For the same reason a prepared statement is planned once: the
	 * planner would otherwise re-plan those with array parameters on
	 * every execution (about a fifth of a millisecond each). */
	if (sa_exec_simple(c, "SET plan_cache_mode = force_generic_plan",
	        "plan_cache_mode") != SA_OK)
		return SA_ERR;
	if (c->synchronous_commit)
		return SA_OK;
	return sa_exec_simple(
	    c, "SET synchronous_commit = off", "synchronous_commit");
}

/* What sa_conn_open() sets unless the connection string or the
 * environment (PGCONNECT_TIMEOUT) does: seconds a connection attempt may
 * take per address, and milliseconds data sent may stay unacknowledged
 * before the connection counts as lost (TCP only). */
#define SA_CONNECT_TIMEOUT "5"
#define SA_TCP_USER_TIMEOUT "15000"

/* The keywords and values (NULL-terminated) for PQconnectdbParams() with
 * expand_dbname: the defaults above that the connection string leaves
 * unset, the string itself, and the fallback application name. */
#define SA_CONN_PARAMS_MAX 8
struct sa_conn_params {
	const char *keys[SA_CONN_PARAMS_MAX];
	const char *vals[SA_CONN_PARAMS_MAX]; /* lent */
};

/* Whether option KEY has a value in OPTS (NULL: none has). */
static bool
sa_opt_is_set(const PQconninfoOption *opts, const char *key)
{
	for (; opts != NULL && opts->keyword != NULL; opts++)
		if (strcmp(opts->keyword, key) == 0)
			return opts->val != NULL && opts->val[0] != '\0';
	return false;
}

/* Fills P for CONNINFO, which must outlive P. */
static void
sa_conn_params_init(struct sa_conn_params *p, const char *conninfo)
{
	/* Without these, a server that stops answering holds a connection
	 * attempt, or a statement whose packets go unacknowledged, for as
	 * long as the operating system's TCP timeouts: minutes. */
	static const char *const defaults[][2] = {
	    {"connect_timeout", SA_CONNECT_TIMEOUT},
	    {"tcp_user_timeout", SA_TCP_USER_TIMEOUT},
	};
	/* NULL when CONNINFO does not parse: a plain database name, or
	 * garbage that the connection attempt reports. */
	PQconninfoOption *given = PQconninfoParse(conninfo, NULL);
	/* The environment's values (PGCONNECT_TIMEOUT); NULL if no memory. */
	PQconninfoOption *env = PQconndefaults();
	int n = 0;

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (sa_opt_is_set(given, defaults[i][0]) ||
		    sa_opt_is_set(env, defaults[i][0]))
			continue;
		p->keys[n] = defaults[i][0];
		p->vals[n++] = defaults[i][1];
	}
	/* After the defaults, which it would override (libpq keeps the last
	 * value given); expand_dbname: a key=value string or a URI. */
	p->keys[n] = "dbname";
	p->vals[n++] = conninfo;
	p->keys[n] = "fallback_application_name";
	p->vals[n++] = "cobble";
	p->keys[n] = NULL;
	p->vals[n] = NULL;
	PQconninfoFree(given);
	PQconninfoFree(env);
}

struct sa_conn *
sa_conn_open(const char *conninfo, bool synchronous_commit)
{
	struct sa_conn_params params;
	struct sa_conn *c = NULL, *ret = NULL;

	sa_conn_params_init(&params, conninfo);
	c = cb_calloc(1, sizeof(*c));
	c->synchronous_commit = synchronous_commit;
	c->pg = PQconnectdbParams(params.keys, params.vals, 1);
	if (c->pg == NULL) {
		cb_log(LOG_ERR, "sa: connect: out of memory");
		goto out;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		sa_log_pgerr("connect", PQerrorMessage(c->pg));
		goto out;
	}
	PQsetNoticeReceiver(c->pg, sa_notice, NULL);
	if (sa_conn_setup(c) != SA_OK)
		goto out;
	ret = c;
	c = NULL;
out:
	sa_conn_close(c);
	return ret;
}

void
sa_conn_close(struct sa_conn *c)
{
	if (c == NULL)
		return;
	PQfinish(c->pg);
	free(c);
}

/* Whether C still has a session. An idle connection has nothing to read
 * unless the server is closing it; reading then surfaces the message and
 * the EOF, and libpq marks the connection bad. A connection a failed batch
 * left in pipeline mode counts as lost: resetting it is the way out. */
static bool
sa_conn_alive(struct sa_conn *c)
{
	struct pollfd pfd;

	if (PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF)
		return false;

	for (int i = 0; i < 4 && PQstatus(c->pg) == CONNECTION_OK; i++) {
		pfd.fd = PQsocket(c->pg);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(c->pg))
			break;
	}
	return PQstatus(c->pg) == CONNECTION_OK;
}

/* One attempt, with the options of the first connection: bounded by
 * connect_timeout per address (sa_conn_params_init()). */
static int
sa_conn_reset(struct sa_conn *c)
{
	cb_log(LOG_WARNING, "sa: database connection lost, reconnecting");
	PQreset(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		sa_log_pgerr("reconnect", PQerrorMessage(c->pg));
		return SA_ERR;
	}
	return sa_conn_setup(c);
}

struct sa_pool *
sa_pool_new(const char *conninfo, int size, bool synchronous_commit)
{
	struct sa_pool *p = NULL, *ret = NULL;

	if (size < 1) {
		cb_log(LOG_ERR, "sa: pool size %d < 1", size);
		return NULL;
	}
	p = cb_calloc(1, sizeof(*p));
	p->conns = cb_calloc((size_t)size, sizeof(*p->conns));
	p->idle = cb_calloc((size_t)size, sizeof(*p->idle));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (; p->size < size; p->size++) {
		p->conns[p->size] = sa_conn_open(conninfo, synchronous_commit);
		if (p->conns[p->size] == NULL)
			goto out;
		p->idle[p->nidle++] = p->conns[p->size];
	}
	ret = p;
	p = NULL;
out:
	sa_pool_free(p);
	return ret;
}

void
sa_pool_free(struct sa_pool *p)
{
	if (p == NULL)
		return;
	sa_group_free(p->group);
	for (int i = 0; i < p->size; i++)
		sa_conn_close(p->conns[i]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->idle);
	free(p->conns);
	free(p);
}

void
sa_pool_group_commit(struct sa_pool *p)
{
	if (p->group != NULL)
		return;
	p->group = sa_group_new();
	/* Before any connection is handed out: no lock needed. */
	for (int i = 0; i < p->size; i++)
		p->conns[i]->group = p->group;
}

struct sa_conn *
sa_pool_acquire(struct sa_pool *p)
{
	struct sa_conn *c;

	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	c = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->mu);
	/* Checked outside the lock: a reconnect may take a while. */
	if (!sa_conn_alive(c) && sa_conn_reset(c) != SA_OK) {
		sa_pool_release(p, c);
		return NULL;
	}
	return c;
}

void
sa_pool_release(struct sa_pool *p, struct sa_conn *c)
{
	if (c == NULL)
		return;
	if (PQstatus(c->pg) == CONNECTION_OK && sa_in_tx(c)) {
		cb_log(LOG_WARNING,
		    "sa: connection returned inside a "
		    "transaction, rolling back");
		sa_tx_rollback(c);
	}
	c->begin_pending = false;
	c->commit_pending = false;
	pthread_mutex_lock(&p->mu);
	p->idle[p->nidle++] = c;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

bool
sa_in_tx(struct sa_conn *c)
{
	PGTransactionStatusType ts = PQtransactionStatus(c->pg);

	return c->begin_pending || ts == PQTRANS_INTRANS ||
	    ts == PQTRANS_INERROR;
}

int
sa_tx_begin(struct sa_conn *c)
{
	if (sa_in_tx(c)) {
		cb_log(LOG_ERR, "sa: BEGIN inside a transaction");
		return SA_ERR;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		sa_log_pgerr("begin", PQerrorMessage(c->pg));
		return SA_ERR;
	}
	/* BEGIN goes out with the transaction's first statement, in the same
	 * round trip (sa_exec). Nothing is visible before that statement
	 * runs: under READ COMMITTED, BEGIN takes no snapshot. */
	c->begin_pending = true;
	return SA_OK;
}

int
sa_tx_commit(struct sa_conn *c)
{
	if (c->begin_pending) {
		/* Nothing ran: nothing to commit. */
		c->begin_pending = false;
		return SA_OK;
	}
	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_INTRANS:
		return sa_exec_simple(c, "COMMIT", "commit");
	case PQTRANS_INERROR:
		/* COMMIT would silently roll back; say so instead. */
		cb_log(LOG_ERR, "sa: commit of a failed transaction");
		sa_tx_rollback(c);
		return SA_ERR;
	default:
		cb_log(LOG_ERR, "sa: commit outside a transaction");
		return SA_ERR;
	}
}

int
sa_tx_commit_with_next(struct sa_conn *c)
{
	if (!sa_in_tx(c) || PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
		cb_log(LOG_ERR, "sa: commit outside a usable transaction");
		return SA_ERR;
	}
	c->commit_pending = true;
	return SA_OK;
}

void
sa_tx_rollback(struct sa_conn *c)
{
	if (c != NULL)
		c->commit_pending = false;
	if (c == NULL || !sa_in_tx(c))
		return;
	if (c->begin_pending) {
		c->begin_pending = false;
		return;
	}
	(void)!sa_exec_simple(c, "ROLLBACK", "rollback");
}
