/* SPDX-License-Identifier: ISC */
/* Problem types, their URNs and HTTP statuses (RFC 8555 6.7). */
#include "cb_problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct cb_prob_info {
	const char *name;
	int status;
};

/* RFC 8555 6.7 lists the types; the statuses follow Boulder and Pebble. */
static const struct cb_prob_info cb_prob_table[CB_PROB_TYPE_COUNT] = {
    [CB_PROB_NONE] = {"", 200},
    [CB_PROB_ACCOUNT_DOES_NOT_EXIST] = {"accountDoesNotExist", 400},
    [CB_PROB_ALREADY_REVOKED] = {"alreadyRevoked", 400},
    [CB_PROB_BAD_CSR] = {"badCSR", 400},
    [CB_PROB_BAD_NONCE] = {"badNonce", 400},
    [CB_PROB_BAD_PUBLIC_KEY] = {"badPublicKey", 400},
    [CB_PROB_BAD_REVOCATION_REASON] = {"badRevocationReason", 400},
    [CB_PROB_BAD_SIGNATURE_ALGORITHM] = {"badSignatureAlgorithm", 400},
    [CB_PROB_CAA] = {"caa", 403},
    [CB_PROB_COMPOUND] = {"compound", 400},
    [CB_PROB_CONNECTION] = {"connection", 400},
    [CB_PROB_DNS] = {"dns", 400},
    [CB_PROB_EXTERNAL_ACCOUNT_REQUIRED] = {"externalAccountRequired", 400},
    [CB_PROB_INCORRECT_RESPONSE] = {"incorrectResponse", 400},
    [CB_PROB_INVALID_CONTACT] = {"invalidContact", 400},
    [CB_PROB_MALFORMED] = {"malformed", 400},
    [CB_PROB_ORDER_NOT_READY] = {"orderNotReady", 403},
    [CB_PROB_RATE_LIMITED] = {"rateLimited", 429},
    [CB_PROB_REJECTED_IDENTIFIER] = {"rejectedIdentifier", 400},
    [CB_PROB_SERVER_INTERNAL] = {"serverInternal", 500},
    [CB_PROB_TLS] = {"tls", 400},
    [CB_PROB_UNAUTHORIZED] = {"unauthorized", 403},
    [CB_PROB_UNSUPPORTED_CONTACT] = {"unsupportedContact", 400},
    [CB_PROB_UNSUPPORTED_IDENTIFIER] = {"unsupportedIdentifier", 400},
    [CB_PROB_USER_ACTION_REQUIRED] = {"userActionRequired", 403},
    [CB_PROB_NOT_FOUND] = {"notFound", 404},
    [CB_PROB_METHOD_NOT_ALLOWED] = {"methodNotAllowed", 405},
    [CB_PROB_UNSUPPORTED_MEDIA_TYPE] = {"unsupportedMediaType", 415},
    [CB_PROB_PAYLOAD_TOO_LARGE] = {"payloadTooLarge", 413},
    [CB_PROB_CONFLICT] = {"conflict", 409},
};

#define CB_PROB_URN_PREFIX "urn:ietf:params:acme:error:"

static bool
cb_prob_type_valid(enum cb_prob_type type)
{
	return type > CB_PROB_NONE && type < CB_PROB_TYPE_COUNT;
}

static bool
cb_prob_type_is_acme(enum cb_prob_type type)
{
	return type > CB_PROB_NONE && type < CB_PROB_NOT_FOUND;
}

/* vsnprintf() may cut a client-supplied UTF-8 character in two; JSON
 * needs valid UTF-8, so drop a trailing incomplete sequence. */
static void
cb_utf8_trim(char *s)
{
	size_t n = strlen(s), lead = n, need;
	unsigned char c;

	while (lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80 &&
	    n - lead < 3)
		lead--;
	if (lead == 0)
		return;
	c = (unsigned char)s[lead - 1];
	if (c < 0x80)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (n - (lead - 1) < need)
		s[lead - 1] = '\0';
}

void
cb_problem_init(struct cb_problem *prob)
{
	memset(prob, 0, sizeof(*prob));
}

int
cb_problem_set(
    struct cb_problem *prob, enum cb_prob_type type, const char *fmt, ...)
{
	va_list ap;

	if (prob == NULL || prob->type != CB_PROB_NONE)
		return -1;
	prob->type = cb_prob_type_valid(type) ? type : CB_PROB_SERVER_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(prob->detail, sizeof(prob->detail), fmt, ap);
	va_end(ap);
	cb_utf8_trim(prob->detail);
	return -1;
}

void
cb_problem_set_ident(
    struct cb_problem *prob, const char *type, const char *value)
{
	if (prob == NULL)
		return;
	snprintf(prob->ident_type, sizeof(prob->ident_type), "%s", type);
	snprintf(prob->ident_value, sizeof(prob->ident_value), "%s", value);
	cb_utf8_trim(prob->ident_value);
}

void
cb_problem_add_sub(struct cb_problem *prob, enum cb_prob_type type,
    const char *ident_type, const char *ident_value, const char *fmt, ...)
{
	struct cb_subproblem *s;
	va_list ap;

	if (prob == NULL || prob->nsub >= CB_PROB_SUB_MAX)
		return;
	s = &prob->sub[prob->nsub++];
	s->type = cb_prob_type_valid(type) ? type : CB_PROB_SERVER_INTERNAL;
	snprintf(s->ident_type, sizeof(s->ident_type), "%s", ident_type);
	snprintf(s->ident_value, sizeof(s->ident_value), "%s", ident_value);
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	cb_utf8_trim(s->detail);
	cb_utf8_trim(s->ident_value);
}

bool
cb_problem_is_set(const struct cb_problem *prob)
{
	return prob != NULL && prob->type != CB_PROB_NONE;
}

const char *
cb_prob_type_urn(enum cb_prob_type type)
{
	static const char *const urns[CB_PROB_NOT_FOUND] = {
#define U(t, n) [t] = CB_PROB_URN_PREFIX n
	    U(CB_PROB_ACCOUNT_DOES_NOT_EXIST, "accountDoesNotExist"),
	    U(CB_PROB_ALREADY_REVOKED, "alreadyRevoked"),
	    U(CB_PROB_BAD_CSR, "badCSR"),
	    U(CB_PROB_BAD_NONCE, "badNonce"),
	    U(CB_PROB_BAD_PUBLIC_KEY, "badPublicKey"),
	    U(CB_PROB_BAD_REVOCATION_REASON, "badRevocationReason"),
	    U(CB_PROB_BAD_SIGNATURE_ALGORITHM, "badSignatureAlgorithm"),
	    U(CB_PROB_CAA, "caa"),
	    U(CB_PROB_COMPOUND, "compound"),
	    U(CB_PROB_CONNECTION, "connection"),
	    U(CB_PROB_DNS, "dns"),
	    U(CB_PROB_EXTERNAL_ACCOUNT_REQUIRED, "externalAccountRequired"),
	    U(CB_PROB_INCORRECT_RESPONSE, "incorrectResponse"),
	    U(CB_PROB_INVALID_CONTACT, "invalidContact"),
	    U(CB_PROB_MALFORMED, "malformed"),
	    U(CB_PROB_ORDER_NOT_READY, "orderNotReady"),
	    U(CB_PROB_RATE_LIMITED, "rateLimited"),
	    U(CB_PROB_REJECTED_IDENTIFIER, "rejectedIdentifier"),
	    U(CB_PROB_SERVER_INTERNAL, "serverInternal"),
	    U(CB_PROB_TLS, "tls"),
	    U(CB_PROB_UNAUTHORIZED, "unauthorized"),
	    U(CB_PROB_UNSUPPORTED_CONTACT, "unsupportedContact"),
	    U(CB_PROB_UNSUPPORTED_IDENTIFIER, "unsupportedIdentifier"),
	    U(CB_PROB_USER_ACTION_REQUIRED, "userActionRequired"),
#undef U
	};

	/* HTTP-level refusals (404, 405, 413, 415) are "malformed" requests
	 * to ACME clients, as Boulder and Pebble serve them. */
	if (cb_prob_type_is_acme(type))
		return urns[type];
	if (cb_prob_type_valid(type))
		return urns[CB_PROB_MALFORMED];
	return "about:blank";
}

const char *
cb_prob_type_name(enum cb_prob_type type)
{
	if (!cb_prob_type_valid(type))
		return "none";
	return cb_prob_table[type].name;
}

enum cb_prob_type
cb_prob_type_parse(const char *s)
{
	size_t plen = strlen(CB_PROB_URN_PREFIX);

	if (strncmp(s, CB_PROB_URN_PREFIX, plen) == 0)
		s += plen;
	for (int t = CB_PROB_NONE + 1; t < CB_PROB_NOT_FOUND; t++)
		if (strcmp(s, cb_prob_table[t].name) == 0)
			return (enum cb_prob_type)t;
	return CB_PROB_NONE;
}

int
cb_prob_type_status(enum cb_prob_type type)
{
	if (!cb_prob_type_valid(type))
		return 500;
	return cb_prob_table[type].status;
}

static json_t *
cb_problem_ident_json(const char *type, const char *value)
{
	return json_pack("{s:s, s:s}", "type", type, "value", value);
}

json_t *
cb_problem_to_json(const struct cb_problem *prob)
{
	json_t *obj, *subs;

	obj = json_pack("{s:s, s:s, s:i}", "type", cb_prob_type_urn(prob->type),
	    "detail", prob->detail, "status", cb_prob_type_status(prob->type));
	if (obj == NULL)
		return NULL;
	if (prob->ident_type[0] != '\0')
		json_object_set_new(obj, "identifier",
		    cb_problem_ident_json(prob->ident_type, prob->ident_value));
	if (prob->nsub == 0)
		return obj;
	subs = json_array();
	for (int i = 0; i < prob->nsub; i++) {
		const struct cb_subproblem *s = &prob->sub[i];
		json_t *sj = json_pack("{s:s, s:s}", "type",
		    cb_prob_type_urn(s->type), "detail", s->detail);

		if (sj != NULL && s->ident_type[0] != '\0')
			json_object_set_new(sj, "identifier",
			    cb_problem_ident_json(
			        s->ident_type, s->ident_value));
		json_array_append_new(subs, sj);
	}
	json_object_set_new(obj, "subproblems", subs);
	return obj;
}
