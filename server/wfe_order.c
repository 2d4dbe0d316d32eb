/* SPDX-License-Identifier: ISC */
/* Order resources (RFC 8555 7.4): newOrder, fetching an order, finalize. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

/* Loads order ID for the signing account; other accounts' orders are
 * refused (RFC 8555 7.4: only its account may see an order). */
static int
wfe_load_order(struct wfe_req *req, struct sa_conn *db, int64_t id,
    struct sa_order *o, struct cb_problem *prob)
{
	int rc = sa_order_get(db, id, o);

	if (rc == SA_NOTFOUND)
		return cb_problem_set(prob, CB_PROB_NOT_FOUND, "no such order");
	if (rc != SA_OK)
		return cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot load the order");
	if (o->account_id != req->account.id)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "this order belongs to another account");
	return 0;
}

static void
wfe_order_reply(struct wfe_req *req, const struct sa_order *o, int status)
{
	enum sa_status st = ra_order_status(o, time(NULL));
	char *url = wfe_url(req, "/acme/order/%" PRId64, o->id);

	wfe_req_set_location(req, url);
	free(url);
	/* Clients poll at Retry-After: short, so they do not sleep long. */
	if (st == SA_STATUS_PENDING || st == SA_STATUS_PROCESSING)
		req->retry_after = req->ctx->cfg->retry_after;
	wfe_req_set_json(req, status, wfe_render_order(req, o));
}

int
wfe_handle_new_order(struct wfe_req *req, struct cb_problem *prob)
{
	struct wfe_new_order *no = cb_calloc(1, sizeof(*no));
	struct sa_order o = {0};
	struct sa_conn *db;
	json_t *body = NULL;
	int rc = -1;

	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0 ||
	    wfe_jws_payload_object(&req->jws, &body, prob) != 0 ||
	    wfe_new_order_parse(
	        body, req->ctx->cfg->max_identifiers, no, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL ||
	    ra_new_order(req, db, no, &o, prob) != 0)
		goto out;
	wfe_order_reply(req, &o, 201);
	rc = 0;
out:
	sa_order_clear(&o);
	json_decref(body);
	free(no);
	return rc;
}

int
wfe_handle_order(struct wfe_req *req, int64_t id, struct cb_problem *prob)
{
	struct sa_order o = {0};
	struct sa_conn *db;
	int rc = -1;

	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL ||
	    wfe_load_order(req, db, id, &o, prob) != 0)
		goto out;
	wfe_order_reply(req, &o, 200);
	rc = 0;
out:
	sa_order_clear(&o);
	return rc;
}

int
wfe_handle_finalize(struct wfe_req *req, int64_t id, struct cb_problem *prob)
{
	struct wfe_finalize fin = {0};
	struct sa_order o = {0};
	struct sa_conn *db;
	json_t *body = NULL;
	int rc = -1;

	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0 ||
	    wfe_jws_payload_object(&req->jws, &body, prob) != 0 ||
	    wfe_finalize_parse(body, &fin, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL)
		goto out;
	/* ra_finalize() checks the order exists and is this account's. */
	if (ra_finalize(req, db, id, &fin, &o, prob) != 0)
		goto out;
	wfe_order_reply(req, &o, 200);
	rc = 0;
out:
	sa_order_clear(&o);
	wfe_finalize_clear(&fin);
	json_decref(body);
	return rc;
}
