/* SPDX-License-Identifier: ISC */
/* Authorizations and challenges (RFC 8555 7.5): fetching, deactivating,
 * and responding to a challenge, which queues validation. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

/* Turns the storage result RC of loading A into a problem, and refuses
 * other accounts' authorizations (RFC 8555 7.5). */
static int
wfe_own_authz(struct wfe_req *req, int rc, const struct sa_authz *a,
    struct cb_problem *prob)
{
	if (rc == SA_NOTFOUND)
		return cb_problem_set(prob, CB_PROB_NOT_FOUND,
		    "no such authorization or challenge");
	if (rc != SA_OK)
		return cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot load the authorization");
	if (a->account_id != req->account.id)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "this authorization belongs to another account");
	return 0;
}

/* Loads authorization ID into A: a read (POST-as-GET) may be answered
 * with what this instance last wrote (wfe_authzcache.c); an update reads
 * the database. */
static int
wfe_load_authz(struct wfe_req *req, int64_t id, struct sa_authz *a,
    struct sa_conn **db, struct cb_problem *prob)
{
	if (wfe_jws_is_post_as_get(&req->jws) &&
	    wfe_authzcache_get(&req->ctx->authzs, id, a))
		return wfe_own_authz(req, SA_OK, a, prob);
	if ((*db = wfe_req_db(req, prob)) == NULL)
		return -1;
	return wfe_own_authz(req, sa_authz_get(*db, id, a), a, prob);
}

/* After deactivating A: replaces A by what storage holds now (a
 * validation may have ended since A was read) and caches that; if it
 * cannot be read, A stays as it is and storage answers the next reads. */
static void
wfe_authz_recache(struct wfe_req *req, struct sa_conn *db, struct sa_authz *a)
{
	struct sa_authz now = {0};

	if (sa_authz_get(db, a->id, &now) != SA_OK) {
		wfe_authzcache_forget(&req->ctx->authzs, a->id);
		return;
	}
	sa_authz_clear(a);
	*a = now; /* takes over what NOW owns */
	wfe_authzcache_put(&req->ctx->authzs, a);
}

/* RFC 8555 7.5.2: the only change a client may make is deactivation. */
static int
wfe_authz_update(struct wfe_req *req, struct sa_conn *db, struct sa_authz *a,
    struct cb_problem *prob)
{
	const json_t *status;
	json_t *body = NULL;
	int rc = -1;

	if (wfe_jws_payload_object(&req->jws, &body, prob) != 0)
		goto out;
	status = json_object_get(body, "status");
	if (!json_is_string(status) ||
	    strcmp(json_string_value(status), "deactivated") != 0) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "the only update allowed is {\"status\": \"deactivated\"}");
		goto out;
	}
	rc = sa_authz_deactivate(db, a->id);
	if (rc == SA_CONFLICT) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "only pending or valid authorizations can be deactivated");
		rc = -1;
		goto out;
	}
	if (rc != SA_OK) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot deactivate the authorization");
		rc = -1;
		goto out;
	}
	a->status = SA_STATUS_DEACTIVATED;
	wfe_authz_recache(req, db, a);
	rc = 0;
out:
	json_decref(body);
	return rc;
}

int
wfe_handle_authz(struct wfe_req *req, int64_t id, struct cb_problem *prob)
{
	struct sa_authz a = {0};
	struct sa_conn *db = NULL;
	int rc = -1;

	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0 ||
	    wfe_load_authz(req, id, &a, &db, prob) != 0)
		goto out;
	if (!wfe_jws_is_post_as_get(&req->jws) &&
	    wfe_authz_update(req, db, &a, prob) != 0)
		goto out;
	if (ra_authz_status(a.status, a.expires, time(NULL)) ==
	    SA_STATUS_PENDING)
		req->retry_after = req->ctx->cfg->retry_after;
	wfe_req_set_json(req, 200, wfe_render_authz(req, &a));
	rc = 0;
out:
	sa_authz_clear(&a);
	return rc;
}

static const struct sa_challenge *
wfe_find_challenge(const struct sa_authz *a, int64_t id)
{
	for (int i = 0; i < a->nchallenges; i++)
		if (a->challenges[i].id == id)
			return &a->challenges[i];
	return NULL;
}

/* Hands the task of challenge ID of A, just leased to this instance, to
 * a validation worker: no NOTIFY, no claim. */
static int
wfe_challenge_handoff(struct wfe_req *req, const struct sa_authz *a, int64_t id,
    struct cb_problem *prob)
{
	const struct sa_challenge *ch =
	    wfe_find_challenge((struct sa_authz *)a, id);
	struct sa_task t = {
	    .challenge_id = id,
	    .authz_id = a->id,
	    .account_id = a->account_id,
	    .ident = a->ident,
	};

	if (ch == NULL) {
		/* Not expected; the lease runs out and a worker claims it. */
		ra_queue_cancel(&req->ctx->queue);
		return cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "challenge missing from its authorization");
	}
	memcpy(t.type, ch->type, sizeof(t.type));
	memcpy(t.token, ch->token, sizeof(t.token));
	/* The authorization is the signer's (sa_challenge_begin()). */
	memcpy(t.thumbprint, req->account.thumbprint, sizeof(t.thumbprint));
	ra_queue_push(&req->ctx->queue, &t);
	return 0;
}

/* RFC 8555 7.5.1: a POST with a JSON object (normally "{}") asks the
 * server to validate; the result comes later, so "processing" now. One
 * round trip queues challenge ID when it can be (pending, the signer's)
 * and reads its authorization into A as it is afterwards. */
static int
wfe_challenge_respond(struct wfe_req *req, struct sa_conn *db, int64_t id,
    struct sa_authz *a, struct cb_problem *prob)
{
	struct ra_queue *q = &req->ctx->queue;
	json_t *body = NULL;
	bool handoff;
	int rc;

	if (wfe_jws_payload_object(&req->jws, &body, prob) != 0)
		return -1;
	json_decref(body);
	handoff = ra_queue_reserve(q);
	rc = sa_challenge_begin(
	    db, id, req->account.id, handoff ? RA_LEASE_SECONDS : 0, a);
	if (rc != SA_OK && handoff)
		ra_queue_cancel(q);
	if (rc != SA_OK && rc != SA_CONFLICT && rc != SA_NOTFOUND)
		return cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot queue the validation");
	/* Not queued: not found, another account's, or no longer pending
	 * (then the reply shows the current state). */
	if (wfe_own_authz(req, rc == SA_NOTFOUND ? rc : SA_OK, a, prob) != 0)
		return -1;
	if (rc != SA_OK)
		return 0;
	/* Before the hand-off: the validation result comes later. */
	wfe_authzcache_put(&req->ctx->authzs, a);
	if (handoff && wfe_challenge_handoff(req, a, id, prob) != 0)
		return -1;
	wfe_log(req, LOG_INFO, "validation queued chall=%" PRId64 " ident=%s",
	    id, a->ident.value);
	return 0;
}

int
wfe_handle_challenge(struct wfe_req *req, int64_t id, struct cb_problem *prob)
{
	const struct sa_challenge *cur;
	struct sa_authz a = {0};
	struct sa_conn *db;
	char *up = NULL;
	int rc = -1;

	/* One query: the challenge comes with its authorization. */
	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL)
		goto out;
	if (wfe_jws_is_post_as_get(&req->jws)
	        ? wfe_own_authz(
	              req, sa_authz_get_by_challenge(db, id, &a), &a, prob) != 0
	        : wfe_challenge_respond(req, db, id, &a, prob) != 0)
		goto out;
	if ((cur = wfe_find_challenge(&a, id)) == NULL) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "challenge missing from its authorization");
		goto out;
	}
	if (cur->status == SA_STATUS_PROCESSING)
		req->retry_after = req->ctx->cfg->retry_after;
	up = wfe_url(req, "/acme/authz/%" PRId64, a.id);
	wfe_req_add_link(req, up, "up");
	wfe_req_set_json(req, 200, wfe_render_challenge(req, cur));
	rc = 0;
out:
	free(up);
	sa_authz_clear(&a);
	return rc;
}
