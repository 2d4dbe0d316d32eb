/* SPDX-License-Identifier: ISC */
/* Declarations shared inside server/ (the WFE and the RA). */
#ifndef WFE_INT_H
#define WFE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cb_jwk.h"
#include "cb_limits.h"
#include "cb_mem.h"
#include "cb_problem.h"

/* ---- JWS (wfe_jws.c): RFC 7515 flattened JSON serialization, RFC 8555
 * 6.2 rules ---- */

struct wfe_jws {
	enum cb_jwk_alg alg;
	char nonce[CB_MAX_NONCE_LEN + 1]; /* "" if absent (inner keyChange) */
	char url[CB_MAX_URL_LEN + 1];
	char *kid;	/* owned, or NULL when the header carries "jwk" */
	bool has_jwk;
	struct cb_jwk jwk; /* when has_jwk */
	unsigned char *payload; /* owned, decoded; empty for POST-as-GET */
	size_t payload_len;
	char *signing_input; /* owned: protected "." payload, as sent */
	unsigned char *sig;  /* owned, decoded signature */
	size_t sig_len;
};

/* Parses a flattened JWS body (LEN bytes, at most CB_MAX_BODY_BYTES):
 * exactly "protected", "payload", "signature" (an unprotected "header" is
 * refused), protected header with a supported "alg" (else
 * badSignatureAlgorithm), "url", exactly one of "jwk"/"kid" (the jwk parsed
 * and its alg checked), "nonce" when REQUIRE_NONCE (badNonce if missing).
 * Does not verify the signature. Sets malformed, badNonce,
 * badSignatureAlgorithm or badPublicKey. OUT is empty on failure. */
int wfe_jws_parse(const char *body, size_t len, bool require_nonce,
    struct wfe_jws *out, struct cb_problem *prob) CB_MUSTCHECK;
/* Same, from an already parsed JSON object (the inner JWS of keyChange). */
int wfe_jws_parse_json(const json_t *obj, bool require_nonce,
    struct wfe_jws *out, struct cb_problem *prob) CB_MUSTCHECK;
/* Verifies JWS's signature with KEY (JWS's own jwk or the account key);
 * checks the alg fits the key. Sets malformed ("JWS verification error")
 * or badSignatureAlgorithm. */
int wfe_jws_verify(const struct wfe_jws *jws, const struct cb_jwk *key,
    struct cb_problem *prob) CB_MUSTCHECK;
/* True for POST-as-GET (empty payload). */
bool wfe_jws_is_post_as_get(const struct wfe_jws *jws);
/* Decodes the payload as a JSON object (duplicate keys refused, depth at
 * most CB_MAX_JSON_DEPTH). Caller owns *OUT. Sets malformed. */
int wfe_jws_payload_object(const struct wfe_jws *jws, json_t **out,
    struct cb_problem *prob) CB_MUSTCHECK;
/* Frees what JWS owns; safe on a zeroed struct. */
void wfe_jws_clear(struct wfe_jws *jws);

#endif
