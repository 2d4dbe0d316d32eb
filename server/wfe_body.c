/* SPDX-License-Identifier: ISC */
/* One parser per ACME request body (RFC 8555 7.3-7.6): the only code in
 * the server that reads the payload's json_t. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_b64url.h"
#include "cb_util.h"

/* RFC 8555 7.1: unknown members are ignored; known ones must have the
 * right JSON type. Absent and null members are the same. */
static int
wfe_get_string(const json_t *body, const char *key, const char **out,
    struct cb_problem *prob)
{
	const json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static int
wfe_get_bool(
    const json_t *body, const char *key, bool *out, struct cb_problem *prob)
{
	const json_t *v = json_object_get(body, key);

	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "\"%s\" must be a boolean", key);
	*out = json_is_true(v);
	return 0;
}

static int
wfe_get_b64url(const json_t *body, const char *key, size_t max,
    unsigned char **out, size_t *outlen, struct cb_problem *prob)
{
	const char *s;

	if (wfe_get_string(body, key, &s, prob) != 0)
		return -1;
	if (s == NULL)
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "\"%s\" is required", key);
	if (strlen(s) > max / 3 * 4 + 4)
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "\"%s\" is too large", key);
	if (cb_b64url_decode(s, strlen(s), out, outlen) != 0)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "\"%s\" is not valid base64url", key);
	return 0;
}

static int
wfe_contacts_parse(const json_t *body, char **contacts, int *n, bool *has,
    struct cb_problem *prob)
{
	const json_t *arr = json_object_get(body, "contact");
	size_t i;
	json_t *v;

	*n = 0;
	*has = arr != NULL && !json_is_null(arr);
	if (!*has)
		return 0;
	if (!json_is_array(arr))
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "\"contact\" must be an array of strings");
	if (json_array_size(arr) > CB_MAX_CONTACTS)
		return cb_problem_set(prob, CB_PROB_INVALID_CONTACT,
		    "at most %d contacts", CB_MAX_CONTACTS);
	json_array_foreach (arr, i, v) {
		if (!json_is_string(v) ||
		    json_string_length(v) > CB_MAX_CONTACT_LEN)
			return cb_problem_set(prob, CB_PROB_INVALID_CONTACT,
			    "contacts must be strings of at most %d bytes",
			    CB_MAX_CONTACT_LEN);
		contacts[(*n)++] = cb_strdup(json_string_value(v));
	}
	return 0;
}

static void
wfe_contacts_free(char **contacts, int n)
{
	for (int i = 0; i < n; i++)
		free(contacts[i]);
}

char *
wfe_contacts_json(char *const *contacts, int n)
{
	json_t *arr = json_array();
	char *out;

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_string(contacts[i]));
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (out == NULL)
		abort();
	return out;
}

int
wfe_new_account_parse(
    const json_t *body, struct wfe_new_account *out, struct cb_problem *prob)
{
	memset(out, 0, sizeof(*out));
	if (wfe_contacts_parse(body, out->contacts, &out->ncontacts,
	        &out->has_contact, prob) != 0 ||
	    wfe_get_bool(
	        body, "termsOfServiceAgreed", &out->tos_agreed, prob) != 0 ||
	    wfe_get_bool(body, "onlyReturnExisting", &out->only_return_existing,
	        prob) != 0) {
		wfe_new_account_clear(out);
		return -1;
	}
	return 0;
}

void
wfe_new_account_clear(struct wfe_new_account *na)
{
	wfe_contacts_free(na->contacts, na->ncontacts);
	memset(na, 0, sizeof(*na));
}

int
wfe_account_update_parse(
    const json_t *body, struct wfe_account_update *out, struct cb_problem *prob)
{
	const char *status;

	memset(out, 0, sizeof(*out));
	if (wfe_get_string(body, "status", &status, prob) != 0)
		return -1;
	/* RFC 8555 7.3.6: "deactivated" is the only status a client sets. */
	if (status != NULL && strcmp(status, "deactivated") != 0 &&
	    strcmp(status, "valid") != 0)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "invalid status \"%s\" for an account update", status);
	out->deactivate = status != NULL && strcmp(status, "deactivated") == 0;
	if (wfe_contacts_parse(body, out->contacts, &out->ncontacts,
	        &out->has_contact, prob) != 0) {
		wfe_account_update_clear(out);
		return -1;
	}
	return 0;
}

void
wfe_account_update_clear(struct wfe_account_update *au)
{
	wfe_contacts_free(au->contacts, au->ncontacts);
	memset(au, 0, sizeof(*au));
}

static int
wfe_ident_parse(const json_t *v, struct sa_ident *out, struct cb_problem *prob)
{
	const char *type = NULL, *value = NULL;

	if (!json_is_object(v) || wfe_get_string(v, "type", &type, prob) != 0 ||
	    wfe_get_string(v, "value", &value, prob) != 0 || type == NULL ||
	    value == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "identifiers must be objects with string type and value");
	if (strlen(type) >= sizeof(out->type))
		return cb_problem_set(prob, CB_PROB_UNSUPPORTED_IDENTIFIER,
		    "unsupported identifier type");
	if (strlen(value) >= sizeof(out->value))
		return cb_problem_set(prob, CB_PROB_REJECTED_IDENTIFIER,
		    "identifier longer than %d characters", CB_MAX_DNS_NAME);
	snprintf(out->type, sizeof(out->type), "%s", type);
	snprintf(out->value, sizeof(out->value), "%s", value);
	return 0;
}

static int
wfe_time_member(
    const json_t *body, const char *key, time_t *out, struct cb_problem *prob)
{
	const char *s;

	*out = 0;
	if (wfe_get_string(body, key, &s, prob) != 0)
		return -1;
	if (s != NULL && cb_time_parse(s, out) != 0)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "\"%s\" is not an RFC 3339 date", key);
	/* 0 means "not requested": the epoch would be silently ignored.
	 * No date up to it can be in policy (ra_check_validity()). */
	if (s != NULL && *out <= 0)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "\"%s\" must be after 1970-01-01T00:00:00Z", key);
	return 0;
}

int
wfe_new_order_parse(const json_t *body, int max_identifiers,
    struct wfe_new_order *out, struct cb_problem *prob)
{
	const json_t *arr = json_object_get(body, "identifiers");
	size_t i;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "\"identifiers\" must be a non-empty array");
	if (json_array_size(arr) > (size_t)max_identifiers)
		return cb_problem_set(prob, CB_PROB_REJECTED_IDENTIFIER,
		    "an order may have at most %d identifiers",
		    max_identifiers);
	json_array_foreach (arr, i, v) {
		if (wfe_ident_parse(v, &out->idents[out->nidents++], prob) != 0)
			return -1;
	}
	if (wfe_time_member(body, "notBefore", &out->not_before, prob) != 0 ||
	    wfe_time_member(body, "notAfter", &out->not_after, prob) != 0)
		return -1;
	return 0;
}

int
wfe_finalize_parse(
    const json_t *body, struct wfe_finalize *out, struct cb_problem *prob)
{
	memset(out, 0, sizeof(*out));
	if (wfe_get_b64url(body, "csr", CB_MAX_CSR_BYTES, &out->csr,
	        &out->csr_len, prob) != 0) {
		if (prob->type == CB_PROB_MALFORMED)
			prob->type = CB_PROB_BAD_CSR;
		return -1;
	}
	return 0;
}

void
wfe_finalize_clear(struct wfe_finalize *f)
{
	free(f->csr);
	memset(f, 0, sizeof(*f));
}

int
wfe_revoke_parse(
    const json_t *body, struct wfe_revoke *out, struct cb_problem *prob)
{
	const json_t *reason = json_object_get(body, "reason");

	memset(out, 0, sizeof(*out));
	if (reason != NULL && !json_is_null(reason)) {
		if (!json_is_integer(reason))
			return cb_problem_set(prob,
			    CB_PROB_BAD_REVOCATION_REASON,
			    "\"reason\" must be an integer");
		json_int_t r = json_integer_value(reason);

		/* RFC 5280 5.3.1 codes a subscriber may give (as Boulder):
		 * unspecified, keyCompromise, affiliationChanged,
		 * superseded, cessationOfOperation. */
		if (r != 0 && r != 1 && r != 3 && r != 4 && r != 5)
			return cb_problem_set(prob,
			    CB_PROB_BAD_REVOCATION_REASON,
			    "reason %lld is not allowed; use 0, 1, 3, 4 or 5",
			    (long long)r);
		out->reason = (int)r;
	}
	return wfe_get_b64url(body, "certificate", CB_MAX_CERT_BYTES,
	    &out->cert, &out->cert_len, prob);
}

void
wfe_revoke_clear(struct wfe_revoke *r)
{
	free(r->cert);
	memset(r, 0, sizeof(*r));
}

int
wfe_key_change_parse(
    const json_t *body, struct wfe_key_change *out, struct cb_problem *prob)
{
	const char *account;
	json_t *old = json_object_get(body, "oldKey");

	memset(out, 0, sizeof(*out));
	if (wfe_get_string(body, "account", &account, prob) != 0)
		return -1;
	if (account == NULL || !json_is_object(old))
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "keyChange needs \"account\" and \"oldKey\"");
	out->account = cb_strdup(account);
	out->old_key = json_incref(old);
	return 0;
}

void
wfe_key_change_clear(struct wfe_key_change *kc)
{
	free(kc->account);
	json_decref(kc->old_key);
	memset(kc, 0, sizeof(*kc));
}
