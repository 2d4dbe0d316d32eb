/* SPDX-License-Identifier: ISC */
/* ACME resources as JSON (RFC 8555 7.1.2-7.1.5). */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_util.h"

static json_t *
wfe_time_json(time_t t)
{
	char buf[CB_TIME_BUF];

	return json_string(cb_time_format(t, buf));
}

/* Stored JSON text (problems, records, contacts) back into the tree. */
static json_t *
wfe_stored_json(const char *text)
{
	if (text == NULL)
		return NULL;
	return json_loads(text, JSON_DECODE_ANY, NULL);
}

json_t *
wfe_render_account(const struct wfe_req *req, const struct sa_account *a)
{
	json_t *obj, *key;
	char *orders = wfe_url(req, "/acme/acct/%" PRId64 "/orders", a->id);

	key = json_loads(a->jwk_json, 0, NULL);
	obj = json_pack("{s:s, s:o, s:s, s:o}", "status",
	    sa_status_name(a->status), "contact",
	    a->contact_json != NULL ? wfe_stored_json(a->contact_json)
	                            : json_array(),
	    "orders", orders, "createdAt", wfe_time_json(a->created));
	if (obj != NULL && key != NULL)
		json_object_set_new(obj, "key", key);
	else
		json_decref(key);
	free(orders);
	return obj;
}

static json_t *
wfe_ident_json(const struct sa_ident *id)
{
	return json_pack("{s:s, s:s}", "type", id->type, "value", id->value);
}

json_t *
wfe_render_order(const struct wfe_req *req, const struct sa_order *o)
{
	enum sa_status st = ra_order_status(o, time(NULL));
	json_t *obj, *idents = json_array(), *authzs = json_array();
	char *fin = wfe_url(req, "/acme/order/%" PRId64 "/finalize", o->id);

	for (int i = 0; i < o->nauthz; i++) {
		char *u =
		    wfe_url(req, "/acme/authz/%" PRId64, o->authz[i].authz_id);

		json_array_append_new(
		    idents, wfe_ident_json(&o->authz[i].ident));
		json_array_append_new(authzs, json_string(u));
		free(u);
	}
	obj = json_pack("{s:s, s:o, s:o, s:o, s:s}", "status",
	    sa_status_name(st), "expires", wfe_time_json(o->expires),
	    "identifiers", idents, "authorizations", authzs, "finalize", fin);
	free(fin);
	if (obj == NULL)
		return NULL;
	if (o->not_before != 0)
		json_object_set_new(
		    obj, "notBefore", wfe_time_json(o->not_before));
	if (o->not_after != 0)
		json_object_set_new(
		    obj, "notAfter", wfe_time_json(o->not_after));
	if (o->error_json != NULL && st == SA_STATUS_INVALID)
		json_object_set_new(
		    obj, "error", wfe_stored_json(o->error_json));
	if (st == SA_STATUS_VALID && o->cert_serial[0] != '\0') {
		char *cert = wfe_url(req, "/acme/cert/%s", o->cert_serial);

		json_object_set_new(obj, "certificate", json_string(cert));
		free(cert);
	}
	return obj;
}

json_t *
wfe_render_challenge(const struct wfe_req *req, const struct sa_challenge *ch)
{
	char *url = wfe_url(req, "/acme/chall/%" PRId64, ch->id);
	json_t *obj;

	obj = json_pack("{s:s, s:s, s:s, s:s}", "type", ch->type, "url", url,
	    "status", sa_status_name(ch->status), "token", ch->token);
	free(url);
	if (obj == NULL)
		return NULL;
	if (ch->validated != 0)
		json_object_set_new(
		    obj, "validated", wfe_time_json(ch->validated));
	if (ch->error_json != NULL)
		json_object_set_new(
		    obj, "error", wfe_stored_json(ch->error_json));
	if (ch->record_json != NULL)
		json_object_set_new(
		    obj, "validationRecord", wfe_stored_json(ch->record_json));
	return obj;
}

json_t *
wfe_render_authz(const struct wfe_req *req, const struct sa_authz *a)
{
	enum sa_status st = ra_authz_status(a->status, a->expires, time(NULL));
	json_t *obj, *chals = json_array();

	for (int i = 0; i < a->nchallenges; i++) {
		const struct sa_challenge *ch = &a->challenges[i];

		/* RFC 8555 7.1.4: a valid authorization lists the challenge
		 * that was validated. */
		if (st == SA_STATUS_VALID && ch->status != SA_STATUS_VALID)
			continue;
		json_array_append_new(chals, wfe_render_challenge(req, ch));
	}
	obj = json_pack("{s:o, s:s, s:o, s:o}", "identifier",
	    wfe_ident_json(&a->ident), "status", sa_status_name(st), "expires",
	    wfe_time_json(a->expires), "challenges", chals);
	if (obj != NULL && a->wildcard)
		json_object_set_new(obj, "wildcard", json_true());
	return obj;
}
