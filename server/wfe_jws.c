/* SPDX-License-Identifier: ISC */
/* ACME request JWS: flattened JSON serialization (RFC 7515 7.2.2) under the
 * rules of RFC 8555 6.2 (protected header only, alg, nonce, url, jwk xor
 * kid) and signature verification over common/cb_jwk.c. */
#include "wfe_int.h"

#include <stdlib.h>
#include <string.h>

#include "cb_b64url.h"

/* Shown to clients that send an alg we do not verify (RFC 8555 6.2). */
#define WFE_JWS_ALGS "RS256, ES256, ES384, ES512, EdDSA"

/* A base64url protected header longer than this decodes to more than
 * CB_MAX_JWK_BYTES. */
#define WFE_JWS_MAX_PROTECTED (CB_MAX_JWK_BYTES / 3 * 4 + 4)

/* The string member KEY of OBJ, or NULL when it is absent, not a string or
 * holds a NUL byte; *LEN gets its length. */
static const char *
wfe_jws_string(const json_t *obj, const char *key, size_t *len)
{
	const json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) != json_string_length(v))
		return NULL;
	*len = json_string_length(v);
	return s;
}

/* True when V nests at most BUDGET levels of arrays and objects. The
 * recursion stops once BUDGET is spent, so it is bounded by BUDGET. */
static bool
wfe_json_depth_ok(const json_t *v, int budget)
{
	json_t *obj = (json_t *)v; /* jansson's iterators are not const */
	const char *key;
	json_t *child;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return true;
	if (budget <= 0)
		return false;
	if (json_is_array(v)) {
		json_array_foreach (obj, i, child) {
			if (!wfe_json_depth_ok(child, budget - 1))
				return false;
		}
		return true;
	}
	json_object_foreach (obj, key, child) {
		if (!wfe_json_depth_ok(child, budget - 1))
			return false;
	}
	return true;
}

/* Parses LEN bytes of JSON that must be an object, refusing duplicate
 * members and nesting deeper than CB_MAX_JSON_DEPTH. WHAT names the text in
 * the problem. Caller owns the result; NULL with malformed set on failure. */
static json_t *
wfe_jws_load_object(
    const char *buf, size_t len, const char *what, struct cb_problem *prob)
{
	json_error_t jerr;
	json_t *obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (obj == NULL) {
		if (json_error_code(&jerr) == json_error_duplicate_key)
			cb_problem_set(prob, CB_PROB_MALFORMED,
			    "%s has a duplicate member", what);
		else
			cb_problem_set(prob, CB_PROB_MALFORMED,
			    "%s is not valid JSON (line %d, column %d)", what,
			    jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(obj)) {
		cb_problem_set(
		    prob, CB_PROB_MALFORMED, "%s is not a JSON object", what);
		goto fail;
	}
	if (!wfe_json_depth_ok(obj, CB_MAX_JSON_DEPTH)) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "%s nests deeper than %d levels", what, CB_MAX_JSON_DEPTH);
		goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/* RFC 8555 6.2: "alg" must name an asymmetric algorithm we verify; "none"
 * and the MAC algorithms are refused like any unknown name. RFC 7515 4.1.11:
 * we understand no extension, so any "crit" is refused. */
static int
wfe_jws_header_alg(
    const json_t *hdr, struct wfe_jws *out, struct cb_problem *prob)
{
	const char *name;
	size_t len;

	if (json_object_get(hdr, "alg") == NULL)
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "protected header has no \"alg\"");
	if ((name = wfe_jws_string(hdr, "alg", &len)) == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "protected header \"alg\" is not a string");
	out->alg = cb_jwk_alg_parse(name);
	if (out->alg == CB_JWK_ALG_NONE)
		return cb_problem_set(prob, CB_PROB_BAD_SIGNATURE_ALGORITHM,
		    "JWS algorithm not supported; supported "
		    "algorithms: " WFE_JWS_ALGS);
	if (json_object_get(hdr, "crit") != NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "protected header \"crit\" names extensions not supported");
	return 0;
}

/* RFC 8555 6.2: exactly one of "jwk" (new-account, revoke by certificate
 * key) and "kid" (the account URL). A "jwk" must suit "alg"; a mismatch is
 * badSignatureAlgorithm, the type RFC 8555 6.2 gives to an unusable alg. */
static int
wfe_jws_header_key(
    const json_t *hdr, struct wfe_jws *out, struct cb_problem *prob)
{
	const json_t *jwk = json_object_get(hdr, "jwk");
	const json_t *kid = json_object_get(hdr, "kid");
	const char *s;
	size_t len = 0;

	if (jwk != NULL && kid != NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "protected header has both \"jwk\" and \"kid\"");
	if (jwk == NULL && kid == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "protected header has neither \"jwk\" nor \"kid\"");
	if (kid != NULL) {
		s = wfe_jws_string(hdr, "kid", &len);
		if (s == NULL || len == 0 || len > CB_MAX_URL_LEN)
			return cb_problem_set(prob, CB_PROB_MALFORMED,
			    "protected header \"kid\" must be a URL of at "
			    "most %d characters",
			    CB_MAX_URL_LEN);
		out->kid = cb_strdup(s);
		return 0;
	}
	if (!json_is_object(jwk))
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "protected header \"jwk\" is not an object");
	if (cb_jwk_parse(jwk, &out->jwk, prob) != 0)
		return -1;
	out->has_jwk = true;
	if (!cb_jwk_alg_matches(&out->jwk, out->alg))
		return cb_problem_set(prob, CB_PROB_BAD_SIGNATURE_ALGORITHM,
		    "JWS algorithm %s does not match the JWK's key type",
		    cb_jwk_alg_name(out->alg));
	return 0;
}

/* True when S is made only of base64url characters (RFC 8555 6.5.1). */
static bool
wfe_jws_is_b64url(const char *s)
{
	return strspn(s,
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	           "0123456789-_") == strlen(s);
}

/* RFC 8555 6.4: "url" is required; 6.5: "nonce" is required on every
 * request except the inner JWS of a key change. A nonce that cannot be one
 * of ours is badNonce, so the client retries with a fresh one. */
static int
wfe_jws_header_url_nonce(const json_t *hdr, bool require_nonce,
    struct wfe_jws *out, struct cb_problem *prob)
{
	const char *s;
	size_t len = 0;

	if (json_object_get(hdr, "url") == NULL)
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "protected header has no \"url\"");
	s = wfe_jws_string(hdr, "url", &len);
	if (s == NULL || len == 0 || len > CB_MAX_URL_LEN)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "protected header \"url\" must be a URL of at most %d "
		    "characters",
		    CB_MAX_URL_LEN);
	memcpy(out->url, s, len + 1);
	if (json_object_get(hdr, "nonce") == NULL) {
		if (require_nonce)
			return cb_problem_set(prob, CB_PROB_BAD_NONCE,
			    "JWS has no anti-replay nonce");
		return 0;
	}
	s = wfe_jws_string(hdr, "nonce", &len);
	if (s == NULL || len == 0 || len > CB_MAX_NONCE_LEN ||
	    !wfe_jws_is_b64url(s))
		return cb_problem_set(prob, CB_PROB_BAD_NONCE,
		    "JWS has a malformed anti-replay nonce");
	memcpy(out->nonce, s, len + 1);
	return 0;
}

/* Decodes and checks the protected header (B64 of LEN characters). */
static int
wfe_jws_protected(const char *b64, size_t len, bool require_nonce,
    struct wfe_jws *out, struct cb_problem *prob)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	json_t *hdr = NULL;
	int rc = -1;

	if (len == 0) {
		cb_problem_set(
		    prob, CB_PROB_MALFORMED, "JWS protected header is empty");
		goto out;
	}
	if (len > WFE_JWS_MAX_PROTECTED) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS protected header is larger than %d bytes",
		    CB_MAX_JWK_BYTES);
		goto out;
	}
	if (cb_b64url_decode(b64, len, &raw, &rawlen) != 0) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS protected header is not valid base64url");
		goto out;
	}
	hdr = wfe_jws_load_object(
	    (const char *)raw, rawlen, "JWS protected header", prob);
	if (hdr == NULL || wfe_jws_header_alg(hdr, out, prob) != 0 ||
	    wfe_jws_header_key(hdr, out, prob) != 0 ||
	    wfe_jws_header_url_nonce(hdr, require_nonce, out, prob) != 0)
		goto out;
	rc = 0;
out:
	json_decref(hdr);
	free(raw);
	return rc;
}

/* Fetches the three members of a flattened JWS; refuses any other. */
static int
wfe_jws_members(const json_t *obj, const char **prot, size_t *plen,
    const char **payload, size_t *paylen, const char **sig, size_t *siglen,
    struct cb_problem *prob)
{
	if (!json_is_object(obj))
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "JWS is not a JSON object");
	/* RFC 8555 6.2: the unprotected header is not used. */
	if (json_object_get(obj, "header") != NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS unprotected header not allowed");
	if (json_object_get(obj, "signatures") != NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS must use the flattened JSON serialization");
	if ((*prot = wfe_jws_string(obj, "protected", plen)) == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS \"protected\" missing or not a string");
	if ((*payload = wfe_jws_string(obj, "payload", paylen)) == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS \"payload\" missing or not a string");
	if ((*sig = wfe_jws_string(obj, "signature", siglen)) == NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS \"signature\" missing or not a string");
	if (json_object_size(obj) != 3)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS has members other than \"protected\", \"payload\" "
		    "and \"signature\"");
	return 0;
}

int
wfe_jws_parse_json(const json_t *obj, bool require_nonce, struct wfe_jws *out,
    struct cb_problem *prob)
{
	const char *prot = NULL, *payload = NULL, *sig = NULL;
	size_t plen = 0, paylen = 0, siglen = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (wfe_jws_members(
	        obj, &prot, &plen, &payload, &paylen, &sig, &siglen, prob) != 0)
		goto out;
	if (wfe_jws_protected(prot, plen, require_nonce, out, prob) != 0)
		goto out;
	if (cb_b64url_decode(
	        payload, paylen, &out->payload, &out->payload_len) != 0) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS payload is not valid base64url");
		goto out;
	}
	if (siglen == 0 ||
	    cb_b64url_decode(sig, siglen, &out->sig, &out->sig_len) != 0) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS signature is empty or not valid base64url");
		goto out;
	}
	/* RFC 7515 5.2: the signing input is the two encoded parts as sent. */
	out->signing_input = cb_malloc(plen + 1 + paylen + 1);
	memcpy(out->signing_input, prot, plen);
	out->signing_input[plen] = '.';
	memcpy(out->signing_input + plen + 1, payload, paylen);
	out->signing_input[plen + 1 + paylen] = '\0';
	rc = 0;
out:
	if (rc != 0)
		wfe_jws_clear(out);
	return rc;
}

int
wfe_jws_parse(const char *body, size_t len, bool require_nonce,
    struct wfe_jws *out, struct cb_problem *prob)
{
	json_t *obj = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (body == NULL || len == 0) {
		cb_problem_set(
		    prob, CB_PROB_MALFORMED, "request body is empty");
		goto out;
	}
	if (len > CB_MAX_BODY_BYTES) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "request body is larger than %d bytes", CB_MAX_BODY_BYTES);
		goto out;
	}
	if ((obj = wfe_jws_load_object(body, len, "JWS", prob)) == NULL)
		goto out;
	rc = wfe_jws_parse_json(obj, require_nonce, out, prob);
out:
	json_decref(obj);
	return rc;
}

int
wfe_jws_verify(const struct wfe_jws *jws, const struct cb_jwk *key,
    struct cb_problem *prob)
{
	if (!cb_jwk_alg_matches(key, jws->alg))
		return cb_problem_set(prob, CB_PROB_BAD_SIGNATURE_ALGORITHM,
		    "JWS algorithm %s does not match the account key",
		    cb_jwk_alg_name(jws->alg));
	if (jws->signing_input == NULL ||
	    cb_jwk_verify(key, jws->alg,
	        (const unsigned char *)jws->signing_input,
	        strlen(jws->signing_input), jws->sig, jws->sig_len) != 0)
		return cb_problem_set(
		    prob, CB_PROB_MALFORMED, "JWS verification error");
	return 0;
}

bool
wfe_jws_is_post_as_get(const struct wfe_jws *jws)
{
	return jws->payload_len == 0;
}

int
wfe_jws_payload_object(
    const struct wfe_jws *jws, json_t **out, struct cb_problem *prob)
{
	*out = NULL;
	if (jws->payload_len == 0)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "JWS payload is empty; a JSON object is expected");
	*out = wfe_jws_load_object(
	    (const char *)jws->payload, jws->payload_len, "JWS payload", prob);
	return *out != NULL ? 0 : -1;
}

void
wfe_jws_clear(struct wfe_jws *jws)
{
	if (jws == NULL)
		return;
	free(jws->kid);
	cb_jwk_clear(&jws->jwk);
	free(jws->payload);
	free(jws->signing_input);
	free(jws->sig);
	memset(jws, 0, sizeof(*jws));
}
