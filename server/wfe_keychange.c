/* SPDX-License-Identifier: ISC */
/* Account key rollover (RFC 8555 7.3.5): an outer JWS signed by the old
 * key carrying an inner JWS signed by the new one. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_log.h"
#include "pa.h"

static int
wfe_inner_check(struct wfe_req *req, const struct wfe_jws *inner,
    const struct wfe_key_change *kc, struct cb_problem *prob)
{
	struct cb_jwk old = {0};
	char *kid = NULL;
	int rc = -1;

	if (!inner->has_jwk) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "the inner JWS must carry the new key as a jwk");
		goto out;
	}
	/* RFC 8555 7.3.5: the inner JWS MUST NOT carry a nonce. */
	if (inner->nonce[0] != '\0') {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "the inner JWS must not have a nonce");
		goto out;
	}
	if (strcmp(inner->url, req->jws.url) != 0) {
		cb_problem_set(
		    prob, CB_PROB_MALFORMED, "inner and outer JWS urls differ");
		goto out;
	}
	if (wfe_jws_verify(inner, &inner->jwk, prob) != 0)
		goto out;
	kid = wfe_url(req, "/acme/acct/%" PRId64, req->account.id);
	if (strcmp(kc->account, kid) != 0 || strcmp(req->jws.kid, kid) != 0) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "keyChange \"account\" is not the signing account");
		goto out;
	}
	if (cb_jwk_parse(kc->old_key, &old, prob) != 0)
		goto out;
	if (strcmp(old.thumbprint, req->account_key.thumbprint) != 0) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "\"oldKey\" is not the account's current key");
		goto out;
	}
	if (pa_key_check(inner->jwk.pkey, true, CB_PROB_BAD_PUBLIC_KEY, prob) !=
	    0)
		goto out;
	rc = 0;
out:
	cb_jwk_clear(&old);
	free(kid);
	return rc;
}

static int
wfe_key_conflict(struct wfe_req *req, struct sa_conn *db,
    const struct wfe_jws *inner, struct cb_problem *prob)
{
	struct sa_account other = {0};

	if (sa_account_get_by_thumbprint(db, inner->jwk.thumbprint, &other) ==
	    SA_OK) {
		char *url = wfe_url(req, "/acme/acct/%" PRId64, other.id);

		wfe_req_set_location(req, url);
		free(url);
	}
	sa_account_clear(&other);
	return cb_problem_set(prob, CB_PROB_CONFLICT,
	    "the new key already belongs to an account");
}

int
wfe_handle_key_change(struct wfe_req *req, struct cb_problem *prob)
{
	struct wfe_key_change kc = {0};
	struct wfe_jws inner = {0};
	json_t *outer = NULL, *payload = NULL;
	struct sa_conn *db;
	int rc = -1, src;
	int64_t id;

	if (wfe_auth_post(req, WFE_AUTH_KID, prob) != 0 ||
	    wfe_jws_payload_object(&req->jws, &outer, prob) != 0 ||
	    wfe_jws_parse_json(outer, false, &inner, prob) != 0 ||
	    wfe_jws_payload_object(&inner, &payload, prob) != 0 ||
	    wfe_key_change_parse(payload, &kc, prob) != 0 ||
	    wfe_inner_check(req, &inner, &kc, prob) != 0 ||
	    (db = wfe_req_db(req, prob)) == NULL)
		goto out;
	src = sa_account_change_key(
	    db, req->account.id, inner.jwk.json, inner.jwk.thumbprint);
	wfe_acctcache_forget(&req->ctx->accounts, req->account.id);
	if (src == SA_CONFLICT) {
		wfe_key_conflict(req, db, &inner, prob);
		goto out;
	}
	id = req->account.id;
	sa_account_clear(&req->account);
	if (src != SA_OK || sa_account_get(db, id, &req->account) != SA_OK) {
		cb_problem_set(
		    prob, CB_PROB_SERVER_INTERNAL, "cannot change the key");
		goto out;
	}
	wfe_log(req, LOG_NOTICE, "account key changed acct=%" PRId64 " jwk=%s",
	    req->account.id, inner.jwk.thumbprint);
	wfe_req_set_json(req, 200, wfe_render_account(req, &req->account));
	rc = 0;
out:
	wfe_key_change_clear(&kc);
	wfe_jws_clear(&inner);
	json_decref(payload);
	json_decref(outer);
	return rc;
}
