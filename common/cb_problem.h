/* SPDX-License-Identifier: ISC */
/* Client-visible failures: ACME problem types (RFC 8555 6.7, RFC 7807). */
#ifndef CB_PROBLEM_H
#define CB_PROBLEM_H

#include <stdbool.h>

#include <jansson.h>

#include "cb_mem.h"

enum cb_prob_type {
	CB_PROB_NONE = 0,
	CB_PROB_ACCOUNT_DOES_NOT_EXIST,
	CB_PROB_ALREADY_REVOKED,
	CB_PROB_BAD_CSR,
	CB_PROB_BAD_NONCE,
	CB_PROB_BAD_PUBLIC_KEY,
	CB_PROB_BAD_REVOCATION_REASON,
	CB_PROB_BAD_SIGNATURE_ALGORITHM,
	CB_PROB_CAA,
	CB_PROB_COMPOUND,
	CB_PROB_CONNECTION,
	CB_PROB_DNS,
	CB_PROB_EXTERNAL_ACCOUNT_REQUIRED,
	CB_PROB_INCORRECT_RESPONSE,
	CB_PROB_INVALID_CONTACT,
	CB_PROB_MALFORMED,
	CB_PROB_ORDER_NOT_READY,
	CB_PROB_RATE_LIMITED,
	CB_PROB_REJECTED_IDENTIFIER,
	CB_PROB_SERVER_INTERNAL,
	CB_PROB_TLS,
	CB_PROB_UNAUTHORIZED,
	CB_PROB_UNSUPPORTED_CONTACT,
	CB_PROB_UNSUPPORTED_IDENTIFIER,
	CB_PROB_USER_ACTION_REQUIRED,
	/* HTTP-level refusals: rendered as "malformed" with their own status.
	 */
	CB_PROB_NOT_FOUND,
	CB_PROB_METHOD_NOT_ALLOWED,
	CB_PROB_UNSUPPORTED_MEDIA_TYPE,
	CB_PROB_PAYLOAD_TOO_LARGE,
	CB_PROB_CONFLICT,
	CB_PROB_TYPE_COUNT
};

#define CB_PROB_DETAIL_MAX 256
#define CB_PROB_IDENT_MAX 256
#define CB_PROB_SUB_MAX 8

struct cb_subproblem {
	enum cb_prob_type type;
	char detail[CB_PROB_DETAIL_MAX];
	char ident_type[8];
	char ident_value[CB_PROB_IDENT_MAX];
};

struct cb_problem {
	enum cb_prob_type type;
	char detail[CB_PROB_DETAIL_MAX];
	/* Optional: the identifier the problem is about (ident_type "" if
	 * none). */
	char ident_type[8];
	char ident_value[CB_PROB_IDENT_MAX];
	int nsub;
	struct cb_subproblem sub[CB_PROB_SUB_MAX];
};

/* Clears PROB to "no problem". */
void cb_problem_init(struct cb_problem *prob);
/* Sets TYPE and a printf-formatted detail unless a problem is already set
 * (the first, most specific cause wins). Never allocates. Returns -1 so a
 * caller can write `return cb_problem_set(...)`. PROB may be NULL. */
int cb_problem_set(struct cb_problem *prob, enum cb_prob_type type,
    const char *fmt, ...) CB_PRINTF(3, 4);
/* Records the identifier PROB is about. */
void cb_problem_set_ident(
    struct cb_problem *prob, const char *type, const char *value);
/* Appends a subproblem (RFC 8555 6.7.1); ignored when the array is full. */
void cb_problem_add_sub(struct cb_problem *prob, enum cb_prob_type type,
    const char *ident_type, const char *ident_value, const char *fmt, ...)
    CB_PRINTF(5, 6);
/* True when PROB holds a problem. */
bool cb_problem_is_set(const struct cb_problem *prob);
/* The "type" URN (urn:ietf:params:acme:error:...); "about:blank" for
 * CB_PROB_NONE. */
const char *cb_prob_type_urn(enum cb_prob_type type);
/* The short name (e.g. "badNonce"), for logs. */
const char *cb_prob_type_name(enum cb_prob_type type);
/* Parses a short name or full URN back to a type; CB_PROB_NONE if unknown. */
enum cb_prob_type cb_prob_type_parse(const char *s);
/* The HTTP status a problem of TYPE is served with. */
int cb_prob_type_status(enum cb_prob_type type);
/* Renders PROB as an RFC 7807 object (type, detail, status, identifier,
 * subproblems). Caller owns the reference; NULL only if jansson fails. */
json_t *cb_problem_to_json(const struct cb_problem *prob);

#endif
