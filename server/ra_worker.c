/* SPDX-License-Identifier: ISC */
/* Validation workers (DESIGN.md: the work queue). A challenge this
 * instance accepted is leased to it in the same statement and handed to
 * a worker in memory; tasks nobody holds (another instance's overflow, a
 * crashed instance's expired leases) are claimed from PostgreSQL when
 * the LISTEN thread hears of them or once a second. The LISTEN thread
 * also hears of account changes and keeps the account cache honest.
 * A crash loses nothing: an unfinished lease runs out and any instance's
 * worker takes the task. */
#include "wfe_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_log.h"
#include "va.h"

/* How often the database is looked at without a notification (expired
 * leases of a crashed instance, a lost notification). */
#define RA_IDLE_WAIT_MS 1000
/* Tries at storing a validation outcome, and the pauses between them
 * (2 s in all: a lost connection, a database restarting). */
#define RA_RECORD_TRIES 3
static const int ra_record_pause_ms[RA_RECORD_TRIES - 1] = {500, 1500};

struct ra_worker {
	struct wfe_ctx *ctx;
	struct va_ctx *va;
};

bool
ra_queue_reserve(struct ra_queue *q)
{
	bool ok;

	if (!q->ready)
		return false;
	pthread_mutex_lock(&q->lock);
	ok = !q->stopping && q->ntasks + q->reserved < RA_QUEUE_CAP;
	if (ok)
		q->reserved++;
	pthread_mutex_unlock(&q->lock);
	return ok;
}

void
ra_queue_cancel(struct ra_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->reserved--;
	pthread_mutex_unlock(&q->lock);
}

void
ra_queue_push(struct ra_queue *q, const struct sa_task *t)
{
	pthread_mutex_lock(&q->lock);
	q->reserved--;
	q->tasks[(q->head + q->ntasks) % RA_QUEUE_CAP] = *t;
	q->ntasks++;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* Asks an idle worker to claim from the database. */
static void
ra_wake(struct ra_queue *q)
{
	pthread_mutex_lock(&q->lock);
	if (q->db_looks < q->max_db_looks)
		q->db_looks++;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* What a worker should do next. */
enum ra_next {
	RA_NEXT_TASK,  /* validate the task handed over */
	RA_NEXT_CLAIM, /* claim from the database */
	RA_NEXT_IDLE,  /* nothing came within the wait */
	RA_NEXT_STOP,
};

/* Sleeps until there is work or TIMEOUT_MS pass. */
static enum ra_next
ra_wait(struct ra_queue *q, int timeout_ms, struct sa_task *t)
{
	enum ra_next next = RA_NEXT_IDLE;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	while (q->ntasks == 0 && q->db_looks == 0 && !q->stopping)
		if (pthread_cond_timedwait(&q->cond, &q->lock, &until) ==
		    ETIMEDOUT)
			break;
	if (q->stopping) {
		next = RA_NEXT_STOP;
	} else if (q->ntasks > 0) {
		*t = q->tasks[q->head];
		q->head = (q->head + 1) % RA_QUEUE_CAP;
		q->ntasks--;
		next = RA_NEXT_TASK;
	} else if (q->db_looks > 0) {
		q->db_looks--;
		next = RA_NEXT_CLAIM;
	}
	pthread_mutex_unlock(&q->lock);
	return next;
}

static char *
ra_problem_text(const struct cb_problem *prob)
{
	json_t *doc = cb_problem_to_json(prob);
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	return text;
}

/* One try at storing the outcome, with ERR the problem document text
 * (NULL when valid). SA_OK, or SA_CONFLICT when the challenge was no
 * longer processing (finished meanwhile: nothing to store); SA_ERR if the
 * database could not be reached or the statement failed. */
static int
ra_record_once(struct ra_worker *w, const struct sa_task *t,
    const struct va_result *res, const char *err)
{
	const struct cb_config *cfg = w->ctx->cfg;
	struct sa_conn *db = sa_pool_acquire(w->ctx->pool);
	struct sa_authz after = {0};
	int rc;

	if (db == NULL)
		return SA_ERR;
	rc = sa_task_finish(db, t, res->valid, err, res->record_json,
	    time(NULL) + cfg->valid_authz_lifetime, &after);
	if (rc != SA_OK && rc != SA_CONFLICT)
		rc = SA_ERR;
	else if (after.id != 0)
		wfe_authzcache_put(&w->ctx->authzs, &after);
	else /* no copy: what was cached before is out of date */
		wfe_authzcache_forget(&w->ctx->authzs, t->authz_id);
	sa_authz_clear(&after);
	sa_pool_release(w->ctx->pool, db);
	return rc;
}

/* Sleeps MS unless the server is stopping; false if it is. */
static bool
ra_pause(struct wfe_ctx *ctx, int ms)
{
	struct timespec step = {0, 50 * 1000000L};

	for (int slept = 0; slept < ms; slept += 50) {
		if (atomic_load(&ctx->stopping))
			return false;
		nanosleep(&step, NULL);
	}
	return !atomic_load(&ctx->stopping);
}

/* Gives back the lease of T, whose outcome could not be stored, so that
 * any instance's worker validates it again now rather than when the
 * lease ends. */
static void
ra_give_back(struct ra_worker *w, const struct sa_task *t)
{
	struct sa_conn *db = sa_pool_acquire(w->ctx->pool);

	if (db != NULL && sa_task_release(db, t->challenge_id) == SA_OK)
		cb_log(LOG_ERR,
		    "chall=%" PRId64 " cannot record the outcome: dropped, "
		    "lease given back for another validation",
		    t->challenge_id);
	else
		cb_log(LOG_ERR,
		    "chall=%" PRId64 " cannot record the outcome: dropped, "
		    "validated again when its lease ends (%d s)",
		    t->challenge_id, RA_LEASE_SECONDS);
	sa_pool_release(w->ctx->pool, db);
}

/* Stores the outcome of T. A database restarting or a connection lost
 * gets RA_RECORD_TRIES tries, RA_RECORD_PAUSE_MS apart; then the outcome
 * is dropped and the task handed back to the queue. */
static void
ra_record(
    struct ra_worker *w, const struct sa_task *t, const struct va_result *res)
{
	char *err = res->valid ? NULL : ra_problem_text(&res->prob);
	int rc = SA_ERR;

	for (int i = 0; i < RA_RECORD_TRIES; i++) {
		if (i > 0 && !ra_pause(w->ctx, ra_record_pause_ms[i - 1]))
			break;
		rc = ra_record_once(w, t, res, err);
		if (rc != SA_ERR)
			break;
		cb_log(LOG_WARNING,
		    "chall=%" PRId64
		    " cannot record the outcome (try %d of %d)",
		    t->challenge_id, i + 1, RA_RECORD_TRIES);
	}
	if (rc == SA_ERR)
		ra_give_back(w, t);
	cb_log(LOG_NOTICE,
	    "validation chall=%" PRId64 " acct=%" PRId64 " type=%s ident=%s "
	    "result=%s problem=%s recorded=%s",
	    t->challenge_id, t->account_id, t->type, t->ident.value,
	    res->valid ? "valid" : "invalid",
	    res->valid ? "none" : cb_prob_type_name(res->prob.type),
	    rc == SA_ERR ? "no" : "yes");
	free(err);
}

static void
ra_validate(struct ra_worker *w, const struct sa_task *t)
{
	char *keyauth = cb_key_authorization(t->token, t->thumbprint);
	struct va_result res = {0};
	struct va_task vt = {
	    .challenge_type = t->type,
	    .ident_type = t->ident.type,
	    .ident_value = t->ident.value,
	    .token = t->token,
	    .key_authorization = keyauth,
	};

	if (va_validate(w->va, &vt, &res) != 0 && !cb_problem_is_set(&res.prob))
		cb_problem_set(&res.prob, CB_PROB_SERVER_INTERNAL,
		    "validation failed internally");
	if (cb_problem_is_set(&res.prob))
		res.valid = false;
	ra_record(w, t, &res);
	va_result_clear(&res);
	free(keyauth);
}

/* Claims a task from the database and validates it. */
static void
ra_claim(struct ra_worker *w)
{
	struct sa_conn *db = sa_pool_acquire(w->ctx->pool);
	struct sa_task t;
	int rc;

	if (db == NULL)
		return;
	rc = sa_task_claim(db, RA_LEASE_SECONDS, &t);
	sa_pool_release(w->ctx->pool, db);
	if (rc != SA_OK)
		return;
	/* There may be more: let another idle worker look, in parallel. */
	ra_wake(&w->ctx->queue);
	ra_validate(w, &t);
}

static void *
ra_worker_main(void *arg)
{
	struct ra_worker *w = arg;
	struct sa_task t;
	enum ra_next next;

	while ((next = ra_wait(&w->ctx->queue, RA_IDLE_WAIT_MS, &t)) !=
	    RA_NEXT_STOP) {
		if (next == RA_NEXT_TASK)
			ra_validate(w, &t);
		else if (next == RA_NEXT_CLAIM)
			ra_claim(w);
	}
	va_free(w->va);
	free(w);
	return NULL;
}

static struct sa_conn *
ra_listen(const char *conninfo)
{
	struct sa_conn *c = sa_conn_open(conninfo, true);

	if (c != NULL && sa_queue_listen(c) != SA_OK) {
		sa_conn_close(c);
		c = NULL;
	}
	return c;
}

static int64_t
ra_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void
ra_heard(struct wfe_ctx *ctx, const struct sa_notices *n)
{
	if (n->accounts_overflow) {
		wfe_acctcache_set_live(&ctx->accounts, true);
		return;
	}
	for (int i = 0; i < n->naccounts; i++)
		wfe_acctcache_forget(&ctx->accounts, n->accounts[i]);
}

/* Turns NOTIFYs into wake-ups and account cache invalidations; wakes a
 * worker to look at the database at least every RA_IDLE_WAIT_MS. LISTEN
 * is registered before any claim can come up empty, so a notification
 * sent meanwhile is queued, not lost. The account cache serves only
 * while this connection is up. */
static void *
ra_listener_main(void *arg)
{
	struct wfe_ctx *ctx = arg;
	struct sa_conn *c = NULL;
	struct sa_notices n;
	struct timespec now, last = {0};

	while (!atomic_load(&ctx->stopping)) {
		if (c == NULL) {
			if ((c = ra_listen(ctx->conninfo)) == NULL) {
				sleep(1);
				ra_wake(&ctx->queue);
				continue;
			}
			wfe_acctcache_set_live(&ctx->accounts, true);
		}
		if (sa_queue_wait(c, RA_IDLE_WAIT_MS, &n) != 0) {
			wfe_acctcache_set_live(&ctx->accounts, false);
			sa_conn_close(c);
			c = NULL;
			continue;
		}
		ra_heard(ctx, &n);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (n.work || ra_ms_between(&last, &now) >= RA_IDLE_WAIT_MS) {
			ra_wake(&ctx->queue);
			last = now;
		}
	}
	wfe_acctcache_set_live(&ctx->accounts, false);
	sa_conn_close(c);
	return NULL;
}

static struct ra_worker *
ra_worker_new(struct wfe_ctx *ctx)
{
	const struct cb_config *cfg = ctx->cfg;
	struct ra_worker *w = cb_calloc(1, sizeof(*w));
	struct va_config vc = {
	    .http01_port = cfg->va_http01_port,
	    .dns_server = cfg->va_dns_server,
	    .allow_loopback = cfg->va_allow_loopback,
	    .allow_private = cfg->va_allow_private,
	    .timeout_ms = cfg->va_timeout_ms,
	    .always_valid = cfg->va_always_valid,
	    .delay_ms = cfg->va_delay_ms,
	};

	w->ctx = ctx;
	w->va = va_new(&vc);
	if (w->va == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

static int
ra_queue_init(struct ra_queue *q, int nworkers)
{
	memset(q, 0, sizeof(*q));
	q->max_db_looks = (unsigned)nworkers;
	if (pthread_mutex_init(&q->lock, NULL) != 0)
		return -1;
	if (pthread_cond_init(&q->cond, NULL) != 0) {
		pthread_mutex_destroy(&q->lock);
		return -1;
	}
	q->tasks = cb_calloc(RA_QUEUE_CAP, sizeof(*q->tasks));
	q->ready = true;
	return 0;
}

/* Gives back the leases of tasks handed over but not validated, so the
 * next instance to look takes them at once. */
static void
ra_queue_release(struct wfe_ctx *ctx)
{
	struct ra_queue *q = &ctx->queue;
	struct sa_conn *db;

	if (q->ntasks == 0 || (db = sa_pool_acquire(ctx->pool)) == NULL)
		return;
	for (; q->ntasks > 0; q->ntasks--) {
		const struct sa_task *t = &q->tasks[q->head];

		if (sa_task_release(db, t->challenge_id) != SA_OK)
			cb_log(LOG_WARNING,
			    "chall=%" PRId64 " lease kept until it ends",
			    t->challenge_id);
		q->head = (q->head + 1) % RA_QUEUE_CAP;
	}
	sa_pool_release(ctx->pool, db);
}

static int
ra_start_worker(struct wfe_ctx *ctx, int i)
{
	struct ra_worker *w = ra_worker_new(ctx);

	if (w == NULL) {
		cb_log(LOG_ERR, "cannot start validation worker %d", i);
		return -1;
	}
	if (pthread_create(&ctx->workers[i], NULL, ra_worker_main, w) != 0) {
		va_free(w->va);
		free(w);
		cb_log(LOG_ERR, "cannot start validation thread %d", i);
		return -1;
	}
	ctx->nworkers++;
	return 0;
}

int
ra_workers_start(struct wfe_ctx *ctx, const char *conninfo)
{
	int n = ctx->cfg->va_workers;
	struct sa_conn *probe;

	if (ra_queue_init(&ctx->queue, n) != 0)
		return -1;
	ctx->conninfo = cb_strdup(conninfo);
	/* Fail at start, not silently later, if LISTEN cannot work. */
	probe = ra_listen(conninfo);
	if (probe == NULL) {
		cb_log(LOG_ERR, "cannot LISTEN for validation work");
		return -1;
	}
	sa_conn_close(probe);
	ctx->workers = cb_calloc((size_t)n, sizeof(*ctx->workers));
	for (int i = 0; i < n; i++)
		if (ra_start_worker(ctx, i) != 0)
			return -1;
	if (pthread_create(&ctx->listener, NULL, ra_listener_main, ctx) != 0) {
		cb_log(LOG_ERR, "cannot start the validation listener");
		return -1;
	}
	ctx->listener_started = true;
	return 0;
}

void
ra_workers_stop(struct wfe_ctx *ctx)
{
	struct ra_queue *q = &ctx->queue;

	atomic_store(&ctx->stopping, true);
	if (q->ready) {
		pthread_mutex_lock(&q->lock);
		q->stopping = true;
		pthread_cond_broadcast(&q->cond);
		pthread_mutex_unlock(&q->lock);
	}
	for (int i = 0; i < ctx->nworkers; i++)
		pthread_join(ctx->workers[i], NULL);
	if (ctx->listener_started)
		pthread_join(ctx->listener, NULL);
	if (q->ready) {
		ra_queue_release(ctx);
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->lock);
		free(q->tasks);
	}
	free(ctx->workers);
	free(ctx->conninfo);
	ctx->workers = NULL;
	ctx->conninfo = NULL;
	ctx->nworkers = 0;
	ctx->listener_started = false;
	q->ready = false;
}
