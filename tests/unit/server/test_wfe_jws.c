/* SPDX-License-Identifier: ISC */
/* Unit tests for server/wfe_jws.c: requests signed here with fresh keys of
 * every supported alg, and each way a request body can be refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "cb_b64url.h"
#include "wfe_int.h"

#define TEST_URL "https://ca.example/acme/new-account"
#define TEST_KID "https://ca.example/acme/acct/7"
#define TEST_NONCE "oFzhZ3Xjvd2ybmRKTHT9T9tY6hVFeiEDdJ9-9Xh0w9I"
#define TEST_PAYLOAD "{\"termsOfServiceAgreed\":true}"

struct test_key {
	enum cb_jwk_alg alg;
	EVP_PKEY *priv;
	struct cb_jwk jwk;
};

/* One key per alg, made once: RSA key generation is slow. */
struct test_keys {
	struct test_key k[CB_JWK_ALG_EDDSA + 1];
};

static EVP_PKEY *
keygen(enum cb_jwk_alg alg)
{
	switch (alg) {
	case CB_JWK_ALG_RS256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case CB_JWK_ALG_ES256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case CB_JWK_ALG_ES384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	case CB_JWK_ALG_ES512:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	case CB_JWK_ALG_EDDSA:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	case CB_JWK_ALG_NONE:
		break;
	}
	return NULL;
}

static int
setup_keys(void **state)
{
	struct test_keys *keys = cb_calloc(1, sizeof(*keys));

	for (int a = CB_JWK_ALG_RS256; a <= CB_JWK_ALG_EDDSA; a++) {
		struct test_key *k = &keys->k[a];

		k->alg = (enum cb_jwk_alg)a;
		k->priv = keygen(k->alg);
		if (k->priv == NULL || cb_jwk_from_pkey(k->priv, &k->jwk) != 0)
			return -1;
	}
	*state = keys;
	return 0;
}

static int
teardown_keys(void **state)
{
	struct test_keys *keys = *state;

	for (int a = CB_JWK_ALG_RS256; a <= CB_JWK_ALG_EDDSA; a++) {
		EVP_PKEY_free(keys->k[a].priv);
		cb_jwk_clear(&keys->k[a].jwk);
	}
	free(keys);
	return 0;
}

/* Signs DATA for ALG with KEY; ECDSA's DER becomes raw R||S (RFC 7518
 * 3.4). Returns the base64url signature. */
static char *
sign_b64(EVP_PKEY *key, enum cb_jwk_alg alg, const char *data)
{
	static const size_t field[] = {[CB_JWK_ALG_ES256] = 32,
	    [CB_JWK_ALG_ES384] = 48,
	    [CB_JWK_ALG_ES512] = 66};
	const EVP_MD *md = alg == CB_JWK_ALG_ES384 ? EVP_sha384()
	    : alg == CB_JWK_ALG_ES512              ? EVP_sha512()
	    : alg == CB_JWK_ALG_EDDSA              ? NULL
	                                           : EVP_sha256();
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	unsigned char *der, raw[132];
	const unsigned char *p;
	ECDSA_SIG *es;
	size_t n = 0, f;
	char *out;

	assert_int_equal(EVP_DigestSignInit(mctx, NULL, md, NULL, key), 1);
	assert_int_equal(EVP_DigestSign(mctx, NULL, &n,
	                     (const unsigned char *)data, strlen(data)),
	    1);
	der = cb_malloc(n);
	assert_int_equal(EVP_DigestSign(mctx, der, &n,
	                     (const unsigned char *)data, strlen(data)),
	    1);
	EVP_MD_CTX_free(mctx);
	if (alg == CB_JWK_ALG_RS256 || alg == CB_JWK_ALG_EDDSA) {
		out = cb_b64url_encode(der, n);
		free(der);
		return out;
	}
	f = field[alg];
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)n);
	assert_non_null(es);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)f), f);
	assert_int_equal(
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + f, (int)f), f);
	ECDSA_SIG_free(es);
	free(der);
	return cb_b64url_encode(raw, 2 * f);
}

static char *
b64_str(const char *s)
{
	return cb_b64url_encode((const unsigned char *)s, strlen(s));
}

/* A protected header for K: with its jwk, or the kid when USE_KID. */
static json_t *
header_new(const struct test_key *k, bool use_kid)
{
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg",
	    cb_jwk_alg_name(k->alg), "nonce", TEST_NONCE, "url", TEST_URL);

	if (use_kid)
		json_object_set_new(hdr, "kid", json_string(TEST_KID));
	else
		json_object_set_new(
		    hdr, "jwk", json_loads(k->jwk.json, 0, NULL));
	return hdr;
}

/* The flattened JWS body of HDR (reference stolen) and PAYLOAD (NULL for
 * POST-as-GET) signed by K. Caller frees. */
static char *
jws_body(const struct test_key *k, json_t *hdr, const char *payload)
{
	char *hdr_text = json_dumps(hdr, JSON_COMPACT);
	char *prot = b64_str(hdr_text);
	char *pay = b64_str(payload != NULL ? payload : "");
	char *input = cb_asprintf("%s.%s", prot, pay);
	char *sig = sign_b64(k->priv, k->alg, input);
	json_t *body = json_pack("{s:s, s:s, s:s}", "protected", prot,
	    "payload", pay, "signature", sig);
	char *text = json_dumps(body, JSON_COMPACT);

	json_decref(body);
	json_decref(hdr);
	free(hdr_text);
	free(prot);
	free(pay);
	free(input);
	free(sig);
	return text;
}

/* A body with a protected header of HDR_TEXT, payload "e30" ({}) and a
 * dummy signature, for refusals that come before any signature check. */
static char *
raw_body(const char *hdr_text)
{
	char *prot = b64_str(hdr_text);
	char *text = cb_asprintf(
	    "{\"protected\":\"%s\",\"payload\":\"e30\",\"signature\":\"AAAA\"}",
	    prot);

	free(prot);
	return text;
}

static void
assert_jws_empty(const struct wfe_jws *jws)
{
	assert_null(jws->kid);
	assert_null(jws->payload);
	assert_null(jws->signing_input);
	assert_null(jws->sig);
	assert_null(jws->jwk.pkey);
	assert_false(jws->has_jwk);
}

/* Parses BODY (require_nonce on), expects TYPE, and a detail containing
 * WANT when WANT is not NULL. */
static void
parse_fails(const char *body, enum cb_prob_type type, const char *want)
{
	struct cb_problem prob;
	struct wfe_jws jws;

	cb_problem_init(&prob);
	assert_int_equal(
	    wfe_jws_parse(body, strlen(body), true, &jws, &prob), -1);
	if (prob.type != type || (want != NULL && !strstr(prob.detail, want)))
		fail_msg("%.200s: got %s (%s), want %s (%s)", body,
		    cb_prob_type_name(prob.type), prob.detail,
		    cb_prob_type_name(type), want != NULL ? want : "");
	assert_jws_empty(&jws);
}

static void
parse_header_fails(
    const char *hdr_text, enum cb_prob_type type, const char *want)
{
	char *body = raw_body(hdr_text);

	parse_fails(body, type, want);
	free(body);
}

static void
parse_ok(const char *body, bool require_nonce, struct wfe_jws *jws)
{
	struct cb_problem prob;

	cb_problem_init(&prob);
	if (wfe_jws_parse(body, strlen(body), require_nonce, jws, &prob) != 0)
		fail_msg("refused: %s: %s", cb_prob_type_name(prob.type),
		    prob.detail);
}

static void
test_happy_jwk_each_alg(void **state)
{
	struct test_keys *keys = *state;

	for (int a = CB_JWK_ALG_RS256; a <= CB_JWK_ALG_EDDSA; a++) {
		const struct test_key *k = &keys->k[a];
		char *body = jws_body(k, header_new(k, false), TEST_PAYLOAD);
		struct cb_problem prob;
		struct wfe_jws jws;
		json_t *payload = NULL;

		parse_ok(body, true, &jws);
		assert_int_equal(jws.alg, k->alg);
		assert_true(jws.has_jwk);
		assert_null(jws.kid);
		assert_string_equal(jws.url, TEST_URL);
		assert_string_equal(jws.nonce, TEST_NONCE);
		assert_string_equal(jws.jwk.thumbprint, k->jwk.thumbprint);
		assert_false(wfe_jws_is_post_as_get(&jws));
		cb_problem_init(&prob);
		assert_int_equal(wfe_jws_verify(&jws, &jws.jwk, &prob), 0);
		assert_int_equal(
		    wfe_jws_payload_object(&jws, &payload, &prob), 0);
		assert_true(json_is_true(
		    json_object_get(payload, "termsOfServiceAgreed")));
		assert_false(cb_problem_is_set(&prob));
		json_decref(payload);
		wfe_jws_clear(&jws);
		assert_jws_empty(&jws);
		free(body);
	}
}

/* A kid request is verified with the account key; POST-as-GET. */
static void
test_happy_kid_post_as_get(void **state)
{
	struct test_keys *keys = *state;

	for (int a = CB_JWK_ALG_RS256; a <= CB_JWK_ALG_EDDSA; a++) {
		const struct test_key *k = &keys->k[a];
		char *body = jws_body(k, header_new(k, true), NULL);
		struct cb_problem prob;
		struct wfe_jws jws;
		json_t *payload = NULL;

		parse_ok(body, true, &jws);
		assert_false(jws.has_jwk);
		assert_string_equal(jws.kid, TEST_KID);
		assert_true(wfe_jws_is_post_as_get(&jws));
		assert_int_equal(jws.payload_len, 0);
		cb_problem_init(&prob);
		assert_int_equal(wfe_jws_verify(&jws, &k->jwk, &prob), 0);
		/* A handler wanting an object gets malformed. */
		assert_int_equal(
		    wfe_jws_payload_object(&jws, &payload, &prob), -1);
		assert_null(payload);
		assert_int_equal(prob.type, CB_PROB_MALFORMED);
		wfe_jws_clear(&jws);
		free(body);
	}
}

/* The signing input is the protected header and payload as sent. */
static void
test_signing_input_as_sent(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	char *body = jws_body(k, header_new(k, false), "{}");
	json_t *obj = json_loads(body, 0, NULL);
	char *expect = cb_asprintf("%s.%s",
	    json_string_value(json_object_get(obj, "protected")),
	    json_string_value(json_object_get(obj, "payload")));
	struct wfe_jws jws;

	(void)state;
	parse_ok(body, true, &jws);
	assert_string_equal(jws.signing_input, expect);
	wfe_jws_clear(&jws);
	json_decref(obj);
	free(expect);
	free(body);
}

/* The inner JWS of a key change: parsed from JSON, no nonce required. */
static void
test_inner_no_nonce(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_EDDSA];
	json_t *hdr = header_new(k, false), *obj;
	struct cb_problem prob;
	struct wfe_jws jws;
	char *body;

	json_object_del(hdr, "nonce");
	body = jws_body(k, hdr, "{\"account\":\"" TEST_KID "\"}");
	obj = json_loads(body, 0, NULL);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_parse_json(obj, false, &jws, &prob), 0);
	assert_string_equal(jws.nonce, "");
	assert_int_equal(wfe_jws_verify(&jws, &jws.jwk, &prob), 0);
	wfe_jws_clear(&jws);
	/* The same JWS as an outer request lacks its nonce. */
	assert_int_equal(wfe_jws_parse_json(obj, true, &jws, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_BAD_NONCE);
	assert_jws_empty(&jws);
	json_decref(obj);
	free(body);
}

static void
test_not_json(void **state)
{
	struct cb_problem prob;
	struct wfe_jws jws;

	(void)state;
	parse_fails("not json", CB_PROB_MALFORMED, "not valid JSON");
	parse_fails("{\"protected\":", CB_PROB_MALFORMED, "not valid JSON");
	parse_fails("[]", CB_PROB_MALFORMED, "not a JSON object");
	parse_fails("\"str\"", CB_PROB_MALFORMED, NULL);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_parse("", 0, true, &jws, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_parse(NULL, 0, true, &jws, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_parse_json(NULL, true, &jws, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
}

static void
test_body_too_large(void **state)
{
	struct cb_problem prob;
	struct wfe_jws jws;
	size_t len = CB_MAX_BODY_BYTES + 1;
	char *big = cb_malloc(len);

	(void)state;
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_parse(big, len, true, &jws, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
	assert_non_null(strstr(prob.detail, "larger"));
	free(big);
}

static void
test_duplicate_keys(void **state)
{
	(void)state;
	parse_fails("{\"protected\":\"e30\",\"protected\":\"e30\","
	            "\"payload\":\"\",\"signature\":\"AAAA\"}",
	    CB_PROB_MALFORMED, "duplicate");
	parse_header_fails("{\"alg\":\"ES256\",\"alg\":\"ES256\",\"kid\":\"k\","
	                   "\"url\":\"u\",\"nonce\":\"n\"}",
	    CB_PROB_MALFORMED, "duplicate");
}

static void
test_missing_members(void **state)
{
	(void)state;
	parse_fails("{\"payload\":\"\",\"signature\":\"AAAA\"}",
	    CB_PROB_MALFORMED, "\"protected\"");
	parse_fails("{\"protected\":\"e30\",\"signature\":\"AAAA\"}",
	    CB_PROB_MALFORMED, "\"payload\"");
	parse_fails("{\"protected\":\"e30\",\"payload\":\"\"}",
	    CB_PROB_MALFORMED, "\"signature\"");
	parse_fails(
	    "{\"protected\":\"e30\",\"payload\":1,\"signature\":\"AA\"}",
	    CB_PROB_MALFORMED, "\"payload\"");
	parse_fails("{\"protected\":\"e30\",\"payload\":\"\",\"signature\":"
	            "\"AAAA\",\"extra\":1}",
	    CB_PROB_MALFORMED, "members other");
	parse_fails("{\"protected\":\"e30\",\"payload\":\"\",\"signature\":"
	            "\"AAAA\",\"signatures\":[]}",
	    CB_PROB_MALFORMED, "flattened");
	parse_fails("{\"protected\":\"\",\"payload\":\"\",\"signature\":"
	            "\"AAAA\"}",
	    CB_PROB_MALFORMED, "empty");
}

/* A JSON object built in memory may hold NUL bytes in strings. */
static void
test_nul_in_member(void **state)
{
	json_t *obj = json_pack("{s:s%, s:s, s:s}", "protected", "e30\0x",
	    (size_t)5, "payload", "", "signature", "AAAA");
	struct cb_problem prob;
	struct wfe_jws jws;

	(void)state;
	assert_non_null(obj);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_parse_json(obj, true, &jws, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
	assert_jws_empty(&jws);
	json_decref(obj);
}

/* RFC 8555 6.2: the unprotected header is refused, even when valid. */
static void
test_unprotected_header(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	char *body = jws_body(k, header_new(k, false), "{}");
	json_t *obj = json_loads(body, 0, NULL);
	char *with_header;

	json_object_set_new(obj, "header", json_pack("{s:s}", "kid", "x"));
	with_header = json_dumps(obj, JSON_COMPACT);
	parse_fails(with_header, CB_PROB_MALFORMED, "unprotected header");
	free(with_header);
	json_decref(obj);
	free(body);
}

static void
test_bad_base64url(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	char *body = jws_body(k, header_new(k, false), "{}");
	json_t *obj = json_loads(body, 0, NULL);
	static const char *members[] = {"protected", "payload", "signature"};

	/* Padding, a standard-alphabet character, a stray space. */
	for (size_t i = 0; i < 3; i++) {
		static const char *suffix[] = {"=", "+", " "};

		for (size_t j = 0; j < 3; j++) {
			json_t *copy = json_deep_copy(obj);
			const char *old = json_string_value(
			    json_object_get(copy, members[i]));
			char *bad = cb_asprintf("%s%s", old, suffix[j]);
			char *text;

			json_object_set_new(copy, members[i], json_string(bad));
			text = json_dumps(copy, JSON_COMPACT);
			parse_fails(text, CB_PROB_MALFORMED, "base64url");
			free(text);
			free(bad);
			json_decref(copy);
		}
	}
	json_decref(obj);
	free(body);
	/* The protected header is not JSON, or not an object. */
	parse_header_fails("not json", CB_PROB_MALFORMED, "not valid JSON");
	parse_header_fails("[\"alg\"]", CB_PROB_MALFORMED, "not a JSON object");
}

static void
test_bad_alg(void **state)
{
	(void)state;
	parse_header_fails("{\"alg\":\"none\",\"kid\":\"" TEST_KID
	                   "\",\"url\":\"" TEST_URL "\",\"nonce\":\"" TEST_NONCE
	                   "\"}",
	    CB_PROB_BAD_SIGNATURE_ALGORITHM,
	    "RS256, ES256, ES384, ES512, EdDSA");
	parse_header_fails("{\"alg\":\"HS256\",\"kid\":\"" TEST_KID
	                   "\",\"url\":\"" TEST_URL "\",\"nonce\":\"" TEST_NONCE
	                   "\"}",
	    CB_PROB_BAD_SIGNATURE_ALGORITHM, NULL);
	parse_header_fails("{\"alg\":\"XY999\",\"kid\":\"" TEST_KID
	                   "\",\"url\":\"" TEST_URL "\",\"nonce\":\"" TEST_NONCE
	                   "\"}",
	    CB_PROB_BAD_SIGNATURE_ALGORITHM, NULL);
	parse_header_fails("{\"alg\":\"ES256\\u0000x\",\"kid\":\"k\",\"url\":"
	                   "\"u\",\"nonce\":\"n\"}",
	    CB_PROB_MALFORMED, NULL);
	parse_header_fails("{\"alg\":256,\"kid\":\"" TEST_KID "\"}",
	    CB_PROB_MALFORMED, "\"alg\"");
	parse_header_fails("{\"kid\":\"" TEST_KID "\",\"url\":\"" TEST_URL
	                   "\",\"nonce\":\"" TEST_NONCE "\"}",
	    CB_PROB_MALFORMED, "\"alg\"");
	parse_header_fails(
	    "{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false,"
	    "\"kid\":\"" TEST_KID "\",\"url\":\"" TEST_URL
	    "\",\"nonce\":\"" TEST_NONCE "\"}",
	    CB_PROB_MALFORMED, "crit");
}

static void
test_jwk_kid_exclusive(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	json_t *hdr = header_new(k, false);
	char *body;

	json_object_set_new(hdr, "kid", json_string(TEST_KID));
	body = jws_body(k, hdr, "{}");
	parse_fails(body, CB_PROB_MALFORMED, "both");
	free(body);
	hdr = header_new(k, true);
	json_object_del(hdr, "kid");
	body = jws_body(k, hdr, "{}");
	parse_fails(body, CB_PROB_MALFORMED, "neither");
	free(body);
}

static void
test_bad_key_members(void **state)
{
	char *long_kid = cb_malloc(CB_MAX_URL_LEN + 2);
	char *hdr;

	(void)state;
	parse_header_fails(
	    "{\"alg\":\"ES256\",\"jwk\":\"str\",\"url\":\"" TEST_URL
	    "\",\"nonce\":\"" TEST_NONCE "\"}",
	    CB_PROB_MALFORMED, "\"jwk\"");
	parse_header_fails("{\"alg\":\"ES256\",\"kid\":7,\"url\":\"" TEST_URL
	                   "\",\"nonce\":\"" TEST_NONCE "\"}",
	    CB_PROB_MALFORMED, "\"kid\"");
	parse_header_fails("{\"alg\":\"ES256\",\"kid\":\"\",\"url\":\"" TEST_URL
	                   "\",\"nonce\":\"" TEST_NONCE "\"}",
	    CB_PROB_MALFORMED, "\"kid\"");
	memset(long_kid, 'k', CB_MAX_URL_LEN + 1);
	long_kid[CB_MAX_URL_LEN + 1] = '\0';
	hdr = cb_asprintf("{\"alg\":\"ES256\",\"kid\":\"%s\",\"url\":"
	                  "\"" TEST_URL "\",\"nonce\":\"" TEST_NONCE "\"}",
	    long_kid);
	parse_header_fails(hdr, CB_PROB_MALFORMED, "\"kid\"");
	free(hdr);
	free(long_kid);
	/* RFC 8037's private key as the jwk. */
	parse_header_fails(
	    "{\"alg\":\"EdDSA\",\"jwk\":{\"kty\":\"OKP\",\"crv\":"
	    "\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7Mmk"
	    "ZcDusAxyuf2A\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPa"
	    "piMlrwIaaPcHURo\"},\"url\":\"" TEST_URL
	    "\",\"nonce\":\"" TEST_NONCE "\"}",
	    CB_PROB_BAD_PUBLIC_KEY, NULL);
}

static void
test_nonce(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	static const char *bad[] = {"", "has space", "pad==", "n\\n"};
	char long_nonce[CB_MAX_NONCE_LEN + 2];
	json_t *hdr = header_new(k, true);
	char *body, *text;

	json_object_del(hdr, "nonce");
	body = jws_body(k, hdr, "{}");
	parse_fails(body, CB_PROB_BAD_NONCE, "no anti-replay nonce");
	free(body);
	memset(long_nonce, 'n', sizeof(long_nonce) - 1);
	long_nonce[sizeof(long_nonce) - 1] = '\0';
	hdr = header_new(k, true);
	json_object_set_new(hdr, "nonce", json_string(long_nonce));
	body = jws_body(k, hdr, "{}");
	parse_fails(body, CB_PROB_BAD_NONCE, "malformed");
	free(body);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text =
		    cb_asprintf("{\"alg\":\"ES256\",\"kid\":\"" TEST_KID
		                "\",\"url\":\"" TEST_URL "\",\"nonce\":\"%s\"}",
		        bad[i]);
		parse_header_fails(text, CB_PROB_BAD_NONCE, NULL);
		free(text);
	}
	/* jansson refuses a NUL escape outright. */
	parse_header_fails("{\"alg\":\"ES256\",\"kid\":\"" TEST_KID
	                   "\",\"url\":\"" TEST_URL
	                   "\",\"nonce\":\"n\\u0000\"}",
	    CB_PROB_MALFORMED, "not valid JSON");
	parse_header_fails("{\"alg\":\"ES256\",\"kid\":\"" TEST_KID
	                   "\",\"url\":\"" TEST_URL "\",\"nonce\":17}",
	    CB_PROB_BAD_NONCE, NULL);
}

static void
test_url(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	char *url = cb_malloc(CB_MAX_URL_LEN + 2);
	json_t *hdr;
	struct wfe_jws jws;
	char *body;

	hdr = header_new(k, true);
	json_object_del(hdr, "url");
	body = jws_body(k, hdr, "{}");
	parse_fails(body, CB_PROB_MALFORMED, "\"url\"");
	free(body);
	/* CB_MAX_URL_LEN characters pass, one more does not. */
	memset(url, 'u', CB_MAX_URL_LEN + 1);
	url[CB_MAX_URL_LEN] = '\0';
	hdr = header_new(k, true);
	json_object_set_new(hdr, "url", json_string(url));
	body = jws_body(k, hdr, "{}");
	parse_ok(body, true, &jws);
	assert_int_equal(strlen(jws.url), CB_MAX_URL_LEN);
	wfe_jws_clear(&jws);
	free(body);
	url[CB_MAX_URL_LEN] = 'u';
	url[CB_MAX_URL_LEN + 1] = '\0';
	hdr = header_new(k, true);
	json_object_set_new(hdr, "url", json_string(url));
	body = jws_body(k, hdr, "{}");
	parse_fails(body, CB_PROB_MALFORMED, "\"url\"");
	free(body);
	free(url);
	parse_header_fails("{\"alg\":\"ES256\",\"kid\":\"" TEST_KID
	                   "\",\"url\":[],\"nonce\":\"" TEST_NONCE "\"}",
	    CB_PROB_MALFORMED, "\"url\"");
}

static void
test_protected_too_large(void **state)
{
	size_t n = CB_MAX_JWK_BYTES + 10;
	char *pad = cb_malloc(n + 1), *hdr;

	(void)state;
	memset(pad, 'p', n);
	pad[n] = '\0';
	hdr = cb_asprintf("{\"alg\":\"ES256\",\"kid\":\"" TEST_KID "\",\"x\":"
	                  "\"%s\"}",
	    pad);
	parse_header_fails(hdr, CB_PROB_MALFORMED, "larger");
	free(hdr);
	free(pad);
}

/* Signed by one key, checked against another of the same type; or one byte
 * of the signature or payload changed after signing. */
static void
test_wrong_signature(void **state)
{
	struct test_keys *keys = *state;

	for (int a = CB_JWK_ALG_RS256; a <= CB_JWK_ALG_EDDSA; a++) {
		const struct test_key *k = &keys->k[a];
		char *body = jws_body(k, header_new(k, true), "{}");
		EVP_PKEY *other_key = keygen(k->alg);
		struct cb_jwk other;
		struct cb_problem prob;
		struct wfe_jws jws;

		assert_int_equal(cb_jwk_from_pkey(other_key, &other), 0);
		parse_ok(body, true, &jws);
		cb_problem_init(&prob);
		assert_int_equal(wfe_jws_verify(&jws, &other, &prob), -1);
		assert_int_equal(prob.type, CB_PROB_MALFORMED);
		assert_string_equal(prob.detail, "JWS verification error");
		jws.sig[jws.sig_len - 1] ^= 0x01;
		cb_problem_init(&prob);
		assert_int_equal(wfe_jws_verify(&jws, &k->jwk, &prob), -1);
		assert_string_equal(prob.detail, "JWS verification error");
		jws.sig[jws.sig_len - 1] ^= 0x01;
		jws.signing_input[strlen(jws.signing_input) - 1] ^= 0x01;
		cb_problem_init(&prob);
		assert_int_equal(wfe_jws_verify(&jws, &k->jwk, &prob), -1);
		jws.signing_input[strlen(jws.signing_input) - 1] ^= 0x01;
		cb_problem_init(&prob);
		assert_int_equal(wfe_jws_verify(&jws, &k->jwk, &prob), 0);
		/* ECDSA signatures must be raw R||S: a truncated one fails. */
		jws.sig_len--;
		assert_int_equal(wfe_jws_verify(&jws, &k->jwk, &prob), -1);
		wfe_jws_clear(&jws);
		cb_jwk_clear(&other);
		EVP_PKEY_free(other_key);
		free(body);
	}
}

static void
test_empty_signature(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	char *body = jws_body(k, header_new(k, true), "{}");
	json_t *obj = json_loads(body, 0, NULL);
	char *text;

	json_object_set_new(obj, "signature", json_string(""));
	text = json_dumps(obj, JSON_COMPACT);
	parse_fails(text, CB_PROB_MALFORMED, "signature");
	free(text);
	json_decref(obj);
	free(body);
}

/* "alg" that does not fit the jwk; an account key of another type. */
static void
test_alg_key_mismatch(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *ec = &keys->k[CB_JWK_ALG_ES256];
	const struct test_key *rsa = &keys->k[CB_JWK_ALG_RS256];
	struct cb_problem prob;
	struct wfe_jws jws;
	json_t *hdr = header_new(ec, false);
	char *body;

	json_object_set_new(hdr, "alg", json_string("ES384"));
	body = jws_body(ec, hdr, "{}");
	parse_fails(body, CB_PROB_BAD_SIGNATURE_ALGORITHM, "does not match");
	free(body);
	hdr = header_new(ec, false);
	json_object_set_new(hdr, "jwk", json_loads(rsa->jwk.json, 0, NULL));
	body = jws_body(ec, hdr, "{}");
	parse_fails(body, CB_PROB_BAD_SIGNATURE_ALGORITHM, "does not match");
	free(body);
	/* kid: the parse cannot tell, the verification does. */
	body = jws_body(ec, header_new(ec, true), "{}");
	parse_ok(body, true, &jws);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_verify(&jws, &rsa->jwk, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_BAD_SIGNATURE_ALGORITHM);
	cb_problem_init(&prob);
	assert_int_equal(
	    wfe_jws_verify(&jws, &keys->k[CB_JWK_ALG_ES512].jwk, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_BAD_SIGNATURE_ALGORITHM);
	wfe_jws_clear(&jws);
	free(body);
}

/* N objects nested in each other: {"a":{"a":...{}}}. */
static char *
nested(int n)
{
	size_t len = (size_t)n * 6 + 1;
	char *s = cb_malloc(len + 1), *p = s;

	for (int i = 0; i < n - 1; i++)
		p += sprintf(p, "{\"a\":");
	p += sprintf(p, "{}");
	for (int i = 0; i < n - 1; i++)
		*p++ = '}';
	*p = '\0';
	return s;
}

static void
test_payload_depth(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_ES256];
	char *deep = nested(CB_MAX_JSON_DEPTH), *deeper;
	struct cb_problem prob;
	struct wfe_jws jws;
	json_t *payload = NULL;
	char *body = jws_body(k, header_new(k, true), deep);

	parse_ok(body, true, &jws);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_payload_object(&jws, &payload, &prob), 0);
	json_decref(payload);
	wfe_jws_clear(&jws);
	free(body);
	deeper = nested(CB_MAX_JSON_DEPTH + 1);
	body = jws_body(k, header_new(k, true), deeper);
	parse_ok(body, true, &jws);
	assert_int_equal(wfe_jws_payload_object(&jws, &payload, &prob), -1);
	assert_null(payload);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
	assert_non_null(strstr(prob.detail, "deeper"));
	wfe_jws_clear(&jws);
	free(body);
	free(deeper);
	/* Arrays count too. */
	body = jws_body(k, header_new(k, true),
	    "{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}");
	parse_ok(body, true, &jws);
	cb_problem_init(&prob);
	assert_int_equal(wfe_jws_payload_object(&jws, &payload, &prob), -1);
	wfe_jws_clear(&jws);
	free(body);
	free(deep);
}

static void
test_payload_not_object(void **state)
{
	struct test_keys *keys = *state;
	const struct test_key *k = &keys->k[CB_JWK_ALG_EDDSA];
	static const char *bad[] = {
	    "[1]", "not json", "\"s\"", "{\"a\":1,\"a\":2}"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *body = jws_body(k, header_new(k, true), bad[i]);
		struct cb_problem prob;
		struct wfe_jws jws;
		json_t *payload = NULL;

		parse_ok(body, true, &jws);
		cb_problem_init(&prob);
		assert_int_equal(wfe_jws_verify(&jws, &k->jwk, &prob), 0);
		assert_int_equal(
		    wfe_jws_payload_object(&jws, &payload, &prob), -1);
		assert_int_equal(prob.type, CB_PROB_MALFORMED);
		assert_null(payload);
		wfe_jws_clear(&jws);
		free(body);
	}
}

static void
test_clear_zeroed(void **state)
{
	struct wfe_jws jws;

	(void)state;
	memset(&jws, 0, sizeof(jws));
	wfe_jws_clear(&jws);
	wfe_jws_clear(&jws);
	wfe_jws_clear(NULL);
	assert_jws_empty(&jws);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_happy_jwk_each_alg),
	    cmocka_unit_test(test_happy_kid_post_as_get),
	    cmocka_unit_test(test_signing_input_as_sent),
	    cmocka_unit_test(test_inner_no_nonce),
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_body_too_large),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_missing_members),
	    cmocka_unit_test(test_nul_in_member),
	    cmocka_unit_test(test_unprotected_header),
	    cmocka_unit_test(test_bad_base64url),
	    cmocka_unit_test(test_bad_alg),
	    cmocka_unit_test(test_jwk_kid_exclusive),
	    cmocka_unit_test(test_bad_key_members),
	    cmocka_unit_test(test_nonce),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_protected_too_large),
	    cmocka_unit_test(test_wrong_signature),
	    cmocka_unit_test(test_empty_signature),
	    cmocka_unit_test(test_alg_key_mismatch),
	    cmocka_unit_test(test_payload_depth),
	    cmocka_unit_test(test_payload_not_object),
	    cmocka_unit_test(test_clear_zeroed),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
