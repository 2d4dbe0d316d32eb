/* SPDX-License-Identifier: ISC */
/* Account resources (RFC 8555 7.3): newAccount, update, deactivation,
 * the orders list and key rollover. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"
#include "pa.h"

static int
wfe_contacts_check(char *const *contacts, int n, struct cb_problem *prob)
{
	for (int i = 0; i < n; i++)
		if (pa_contact_check(contacts[i], prob) != 0)
			return -1;
	return 0;
}

/* Answers with the account A: 201 when CREATED, else 200. */
static void
wfe_account_reply(struct wfe_req *req, const struct sa_account *a, bool created)
{
	char *url = wfe_url(req, "/acme/acct/%" PRId64, a->id);

	wfe_req_set_location(req, url);
	wfe_req_set_json(req, created ? 201 : 200, wfe_render_account(req, a));
	free(url);
}

static int
wfe_payload(struct wfe_req *req, json_t **body, struct cb_problem *prob)
{
	return wfe_jws_payload_object(&req->jws, body, prob);
}

/* RFC 8555 7.3.1: the same key again returns the existing account. */
static int
wfe_existing_account(struct wfe_req *req, struct sa_conn *db,
    struct sa_account *a, struct cb_problem *prob)
{
	int rc = sa_account_get_by_thumbprint(db, req->jws.jwk.thumbprint, a);

	if (rc == SA_NOTFOUND)
		return 1;
	if (rc != SA_OK)
		return cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "cannot look up the account");
	if (a->status != SA_STATUS_VALID)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "the account of this key is deactivated");
	wfe_account_reply(req, a, false);
	return 0;
}

static int
wfe_create_account(struct wfe_req *req, struct sa_conn *db,
    const struct wfe_new_account *na, struct cb_problem *prob)
{
	struct sa_account a = {0};
	char *contacts = wfe_contacts_json(na->contacts, na->ncontacts);
	int64_t id;
	int rc = -1, src;

	src = sa_account_insert(
	    db, req->jws.jwk.json, req->jws.jwk.thumbprint, contacts, &id);
	if (src == SA_CONFLICT) {
		/* A concurrent request registered the same key first. */
		rc = wfe_existing_account(req, db, &a, prob) == 0 ? 0 : -1;
		goto out;
	}
	if (src != SA_OK || sa_account_get(db, id, &a) != SA_OK) {
		cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot create the account");
		goto out;
	}
	wfe_log(req, LOG_NOTICE, "account created acct=%" PRId64 " jwk=%s", id,
	    req->jws.jwk.thumbprint);
	wfe_account_reply(req, &a, true);
	rc = 0;
out:
	sa_account_clear(&a);
	free(contacts);
	return rc;
}

int
wfe_handle_new_account(struct wfe_req *req, struct cb_problem *prob)
{
	struct wfe_new_account na = {0};
	struct sa_account a = {0};
	struct sa_conn *db;
	json_t *body = NULL;
	int rc = -1, found;

	if (wfe_auth_post(req, WFE_AUTH_JWK, prob) != 0 ||
	    wfe_payload(req, &body, prob) != 0 ||
	    wfe_new_account_parse(body, &na, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL)
		goto out;
	found = wfe_existing_account(req, db, &a, prob);
	if (found <= 0) {
		rc = found;
		goto out;
	}
	if (na.only_return_existing) {
		cb_problem_set(prob, CB_PROB_ACCOUNT_DOES_NOT_EXIST,
		    "no account exists with this key");
		goto out;
	}
	if (req->ctx->cfg->terms_of_service[0] != '\0' && !na.tos_agreed) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "you must agree to the terms of service");
		goto out;
	}
	if (pa_key_check(
	        req->jws.jwk.pkey, true, CB_PROB_BAD_PUBLIC_KEY, prob) != 0 ||
	    wfe_contacts_check(na.contacts, na.ncontacts, prob) != 0)
		goto out;
	rc = wfe_create_account(req, db, &na, prob);
out:
	sa_account_clear(&a);
	wfe_new_account_clear(&na);
	json_decref(body);
	return rc;
}

/* The account in the URL must be the one that signed (RFC 8555 7.3.2). */
static int
wfe_own_account(struct wfe_req *req, int64_t id, struct cb_problem *prob)
{
	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0)
		return -1;
	if (req->account.id != id)
		return cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "this request is signed by another account");
	return 0;
}

static int
wfe_update_account(struct wfe_req *req, struct sa_conn *db,
    const struct wfe_account_update *au, struct cb_problem *prob)
{
	char *contacts = NULL;
	int rc = -1;

	if (au->has_contact) {
		if (wfe_contacts_check(au->contacts, au->ncontacts, prob) != 0)
			goto out;
		contacts = wfe_contacts_json(au->contacts, au->ncontacts);
		if (sa_account_update_contact(db, req->account.id, contacts) !=
		    SA_OK)
			goto fail;
	}
	if (au->deactivate) {
		if (sa_account_deactivate(db, req->account.id) != SA_OK)
			goto fail;
		wfe_log(req, LOG_NOTICE, "account deactivated acct=%" PRId64,
		    req->account.id);
	}
	rc = 0;
	goto out;
fail:
	cb_problem_set(
	    prob, CB_PROB_SERVER_INTERNAL, "cannot update the account");
out:
	/* Other instances hear of the change at commit; this one forgets
	 * now, before replying. */
	wfe_acctcache_forget(&req->ctx->accounts, req->account.id);
	free(contacts);
	return rc;
}

int
wfe_handle_account(struct wfe_req *req, int64_t id, struct cb_problem *prob)
{
	struct wfe_account_update au = {0};
	struct sa_conn *db;
	json_t *body = NULL;
	int rc = -1;

	if (wfe_own_account(req, id, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL)
		goto out;
	if (!wfe_jws_is_post_as_get(&req->jws)) {
		if (wfe_payload(req, &body, prob) != 0 ||
		    wfe_account_update_parse(body, &au, prob) != 0 ||
		    wfe_update_account(req, db, &au, prob) != 0)
			goto out;
	}
	/* Authentication may have used the cache, which keeps no JWK or
	 * contact: the reply shows the stored account. */
	sa_account_clear(&req->account);
	if (sa_account_get(db, id, &req->account) != SA_OK) {
		cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot reload the account");
		goto out;
	}
	wfe_account_reply(req, &req->account, false);
	rc = 0;
out:
	wfe_account_update_clear(&au);
	json_decref(body);
	return rc;
}

int
wfe_handle_account_orders(
    struct wfe_req *req, int64_t id, int64_t cursor, struct cb_problem *prob)
{
	int64_t ids[CB_ORDERS_PER_PAGE + 1];
	json_t *list = json_array();
	struct sa_conn *db;
	int n = 0, shown;

	if (wfe_own_account(req, id, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL)
		goto fail;
	if (sa_account_orders(
	        db, id, cursor, CB_ORDERS_PER_PAGE + 1, ids, &n) != SA_OK) {
		cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot list orders");
		goto fail;
	}
	shown = n > CB_ORDERS_PER_PAGE ? CB_ORDERS_PER_PAGE : n;
	for (int i = 0; i < shown; i++) {
		char *u = wfe_url(req, "/acme/order/%" PRId64, ids[i]);

		json_array_append_new(list, json_string(u));
		free(u);
	}
	/* RFC 8555 7.1.2.1: further pages are linked with rel="next". */
	if (n > CB_ORDERS_PER_PAGE) {
		char *next = wfe_url(req,
		    "/acme/acct/%" PRId64 "/orders?cursor=%" PRId64, id,
		    ids[shown - 1]);

		wfe_req_add_link(req, next, "next");
		free(next);
	}
	wfe_req_set_json(req, 200, json_pack("{s:o}", "orders", list));
	return 0;
fail:
	json_decref(list);
	return -1;
}
