/* SPDX-License-Identifier: ISC */
/* Validation workers: claim queued challenges from PostgreSQL, validate
 * them with the validator, record the outcome (DESIGN.md: the work
 * queue). A crash loses nothing: an unfinished claim's lease runs out and
 * another worker takes it. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_log.h"
#include "va.h"

/* Seconds a claimed challenge stays ours before another worker may retry
 * it: longer than any validation attempt. */
#define RA_LEASE_SECONDS 120
/* How long a worker sleeps on LISTEN before looking again anyway. */
#define RA_IDLE_WAIT_MS 1000

struct ra_worker {
	struct wfe_ctx *ctx;
	char *conninfo;
	struct va_ctx *va;
	struct sa_conn *listen;
	int index;
};

static void
ra_worker_free(struct ra_worker *w)
{
	if (w == NULL)
		return;
	sa_conn_close(w->listen);
	va_free(w->va);
	free(w->conninfo);
	free(w);
}

static char *
ra_problem_text(const struct cb_problem *prob)
{
	json_t *doc = cb_problem_to_json(prob);
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	return text;
}

static void
ra_record(
    struct ra_worker *w, const struct sa_task *t, const struct va_result *res)
{
	const struct cb_config *cfg = w->ctx->cfg;
	struct sa_conn *db = sa_pool_acquire(w->ctx->pool);
	char *err = res->valid ? NULL : ra_problem_text(&res->prob);
	int rc;

	if (db == NULL) {
		cb_log(LOG_ERR, "chall=%" PRId64 " cannot record: no database",
		    t->challenge_id);
		goto out;
	}
	rc = sa_task_finish(db, t, res->valid, err, res->record_json,
	    time(NULL) + cfg->valid_authz_lifetime);
	if (rc != SA_OK && rc != SA_CONFLICT)
		cb_log(LOG_ERR, "chall=%" PRId64 " cannot record the outcome",
		    t->challenge_id);
	cb_log(LOG_NOTICE,
	    "validation chall=%" PRId64 " acct=%" PRId64 " type=%s ident=%s "
	    "result=%s problem=%s",
	    t->challenge_id, t->account_id, t->type, t->ident.value,
	    res->valid ? "valid" : "invalid",
	    res->valid ? "none" : cb_prob_type_name(res->prob.type));
out:
	sa_pool_release(w->ctx->pool, db);
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

/* One round: claim and validate a task. 1 if one was done, 0 if the queue
 * was empty, -1 on a database failure. */
static int
ra_work_once(struct ra_worker *w)
{
	struct sa_conn *db = sa_pool_acquire(w->ctx->pool);
	struct sa_task t;
	int rc;

	if (db == NULL)
		return -1;
	rc = sa_task_claim(db, RA_LEASE_SECONDS, &t);
	sa_pool_release(w->ctx->pool, db);
	if (rc == SA_NOTFOUND)
		return 0;
	if (rc != SA_OK)
		return -1;
	ra_validate(w, &t);
	return 1;
}

static int
ra_listen(struct ra_worker *w)
{
	sa_conn_close(w->listen);
	w->listen = sa_conn_open(w->conninfo, true);
	if (w->listen == NULL || sa_queue_listen(w->listen) != SA_OK) {
		sa_conn_close(w->listen);
		w->listen = NULL;
		return -1;
	}
	return 0;
}

static void *
ra_worker_main(void *arg)
{
	struct ra_worker *w = arg;

	while (!atomic_load(&w->ctx->stopping)) {
		int rc = ra_work_once(w);

		if (rc > 0)
			continue;
		if (w->listen == NULL && ra_listen(w) != 0) {
			sleep(1);
			continue;
		}
		/* LISTEN was registered before the claim, so a NOTIFY sent
		 * in between is queued and wakes us at once. */
		if (sa_queue_wait(w->listen, RA_IDLE_WAIT_MS) != 0) {
			sa_conn_close(w->listen);
			w->listen = NULL;
		}
	}
	ra_worker_free(w);
	return NULL;
}

static struct ra_worker *
ra_worker_new(struct wfe_ctx *ctx, const char *conninfo, int index)
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
	w->index = index;
	w->conninfo = cb_strdup(conninfo);
	w->va = va_new(&vc);
	if (w->va == NULL || ra_listen(w) != 0) {
		ra_worker_free(w);
		return NULL;
	}
	return w;
}

int
ra_workers_start(struct wfe_ctx *ctx, const char *conninfo)
{
	int n = ctx->cfg->va_workers;

	ctx->workers = cb_calloc((size_t)n, sizeof(*ctx->workers));
	for (int i = 0; i < n; i++) {
		struct ra_worker *w = ra_worker_new(ctx, conninfo, i);

		if (w == NULL) {
			cb_log(LOG_ERR, "cannot start validation worker %d", i);
			return -1;
		}
		if (pthread_create(&ctx->workers[i], NULL, ra_worker_main, w) !=
		    0) {
			ra_worker_free(w);
			cb_log(LOG_ERR, "cannot start validation thread %d", i);
			return -1;
		}
		ctx->nworkers++;
	}
	return 0;
}

void
ra_workers_stop(struct wfe_ctx *ctx)
{
	atomic_store(&ctx->stopping, true);
	for (int i = 0; i < ctx->nworkers; i++)
		pthread_join(ctx->workers[i], NULL);
	free(ctx->workers);
	ctx->workers = NULL;
	ctx->nworkers = 0;
}
