/* SPDX-License-Identifier: ISC */
/* Unit tests for common/cb_jwk.c: RFC 7638/7515/8037 vectors (in
 * tests/data/jws/), key policy, round trips through cb_jwk_from_pkey(),
 * signatures made here with fresh keys, key authorizations. */
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
#include "cb_jwk.h"

#define RFC7515_A2_N                                                           \
	"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw" \
	"-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b3269" \
	"0r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS" \
	"-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aG" \
	"hyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXp" \
	"oQ"
#define RFC7515_A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC7515_A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

static json_t *
load_vector(const char *name)
{
	char path[512];
	json_error_t jerr;
	json_t *v;

	snprintf(path, sizeof(path), "%s/jws/%s", COBBLE_TEST_DATA, name);
	v = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL)
		fail_msg("%s: %s", path, jerr.text);
	return v;
}

static void
parse_ok(const json_t *jwk, struct cb_jwk *out)
{
	struct cb_problem prob;

	cb_problem_init(&prob);
	if (cb_jwk_parse(jwk, out, &prob) != 0)
		fail_msg("JWK refused: %s", prob.detail);
	assert_non_null(out->pkey);
	assert_non_null(out->json);
	assert_int_equal(strlen(out->thumbprint), 43);
}

static void
parse_text_ok(const char *text, struct cb_jwk *out)
{
	struct cb_problem prob;

	cb_problem_init(&prob);
	if (cb_jwk_parse_text(text, strlen(text), out, &prob) != 0)
		fail_msg("JWK refused: %s", prob.detail);
}

/* Parses TEXT, expects refusal with TYPE, and checks OUT stays empty. */
static void
parse_text_fails(const char *text, enum cb_prob_type type)
{
	struct cb_problem prob;
	struct cb_jwk jwk;

	cb_problem_init(&prob);
	assert_int_equal(
	    cb_jwk_parse_text(text, strlen(text), &jwk, &prob), -1);
	if (prob.type != type)
		fail_msg("%s: got %s (%s), want %s", text,
		    cb_prob_type_name(prob.type), prob.detail,
		    cb_prob_type_name(type));
	assert_null(jwk.pkey);
	assert_null(jwk.json);
	assert_string_equal(jwk.thumbprint, "");
}

/* Verifies the vector's JWS: signing input "protected.payload" as sent. */
static int
verify_vector(const json_t *v, const struct cb_jwk *jwk, bool tamper_input,
    bool tamper_sig)
{
	const json_t *jws = json_object_get(v, "jws");
	const char *prot = json_string_value(json_object_get(jws, "protected"));
	const char *pay = json_string_value(json_object_get(jws, "payload"));
	const char *s64 = json_string_value(json_object_get(jws, "signature"));
	enum cb_jwk_alg alg =
	    cb_jwk_alg_parse(json_string_value(json_object_get(v, "alg")));
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *input;
	int rc;

	assert_int_not_equal(alg, CB_JWK_ALG_NONE);
	assert_int_equal(cb_b64url_decode(s64, strlen(s64), &sig, &siglen), 0);
	input = cb_asprintf("%s.%s", prot, pay);
	if (tamper_input)
		input[strlen(input) - 1] ^= 1;
	if (tamper_sig)
		sig[siglen / 2] ^= 0x40;
	rc = cb_jwk_verify(
	    jwk, alg, (const unsigned char *)input, strlen(input), sig, siglen);
	free(input);
	free(sig);
	return rc;
}

static void
check_vector(const char *name)
{
	json_t *v = load_vector(name);
	struct cb_jwk jwk;

	parse_ok(json_object_get(v, "jwk"), &jwk);
	assert_int_equal(verify_vector(v, &jwk, false, false), 0);
	assert_int_equal(verify_vector(v, &jwk, true, false), -1);
	assert_int_equal(verify_vector(v, &jwk, false, true), -1);
	cb_jwk_clear(&jwk);
	json_decref(v);
}

/* RFC 7638 3.1: the example key's thumbprint; "alg" and "kid" ignored. */
static void
test_rfc7638_thumbprint(void **state)
{
	json_t *v = load_vector("rfc7638_rsa.json");
	struct cb_jwk jwk;
	char *expect;

	(void)state;
	parse_ok(json_object_get(v, "jwk"), &jwk);
	assert_string_equal(jwk.thumbprint,
	    json_string_value(json_object_get(v, "thumbprint")));
	assert_string_equal(
	    jwk.thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	/* The canonical JSON of RFC 7638 3.1, the bytes that are hashed. */
	expect = cb_asprintf("{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}",
	    json_string_value(json_object_get(json_object_get(v, "jwk"), "n")));
	assert_string_equal(jwk.json, expect);
	assert_true(cb_jwk_alg_matches(&jwk, CB_JWK_ALG_RS256));
	assert_false(cb_jwk_alg_matches(&jwk, CB_JWK_ALG_ES256));
	free(expect);
	cb_jwk_clear(&jwk);
	json_decref(v);
}

static void
test_rfc7515_a2_rs256(void **state)
{
	(void)state;
	check_vector("rfc7515_a2_rs256.json");
}

static void
test_rfc7515_a3_es256(void **state)
{
	(void)state;
	check_vector("rfc7515_a3_es256.json");
}

static void
test_rfc7515_a4_es512(void **state)
{
	(void)state;
	check_vector("rfc7515_a4_es512.json");
}

/* RFC 8037 A.2-A.5: Ed25519 key, its thumbprint, the EdDSA example. */
static void
test_rfc8037_ed25519(void **state)
{
	json_t *v = load_vector("rfc8037_a4_ed25519.json");
	struct cb_jwk jwk;

	(void)state;
	parse_ok(json_object_get(v, "jwk"), &jwk);
	assert_string_equal(
	    jwk.thumbprint, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
	assert_string_equal(jwk.json,
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" RFC8037_X "\"}");
	json_decref(v);
	cb_jwk_clear(&jwk);
	check_vector("rfc8037_a4_ed25519.json");
}

/* A vector's signature under the wrong alg or with the wrong length. */
static void
test_verify_wrong_alg_or_length(void **state)
{
	json_t *v = load_vector("rfc7515_a3_es256.json");
	const char *s64 = json_string_value(
	    json_object_get(json_object_get(v, "jws"), "signature"));
	static const unsigned char data[] = "x";
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct cb_jwk jwk;

	(void)state;
	parse_ok(json_object_get(v, "jwk"), &jwk);
	assert_int_equal(cb_b64url_decode(s64, strlen(s64), &sig, &siglen), 0);
	assert_int_equal(siglen, 64);
	for (int a = CB_JWK_ALG_NONE; a <= CB_JWK_ALG_EDDSA; a++)
		if (a != CB_JWK_ALG_ES256)
			assert_int_equal(cb_jwk_verify(&jwk, (enum cb_jwk_alg)a,
			                     data, 1, sig, siglen),
			    -1);
	assert_int_equal(
	    cb_jwk_verify(&jwk, CB_JWK_ALG_ES256, data, 1, sig, 63), -1);
	assert_int_equal(
	    cb_jwk_verify(&jwk, CB_JWK_ALG_ES256, data, 1, sig, 0), -1);
	assert_int_equal(
	    cb_jwk_verify(NULL, CB_JWK_ALG_ES256, data, 1, sig, siglen), -1);
	free(sig);
	cb_jwk_clear(&jwk);
	json_decref(v);
}

static char *
rsa_jwk_text(const unsigned char *n, size_t nlen, const char *e)
{
	char *n64 = cb_b64url_encode(n, nlen);
	char *text =
	    cb_asprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", n64, e);

	free(n64);
	return text;
}

/* An odd modulus of BITS bits (not a real key: the size check comes first). */
static char *
rsa_jwk_of_bits(int bits, const char *e)
{
	size_t len = (size_t)(bits + 7) / 8;
	unsigned char *n = cb_malloc(len);
	char *text;

	memset(n, 0xa7, len);
	n[0] = (unsigned char)(1u << ((bits - 1) % 8));
	n[len - 1] |= 1;
	text = rsa_jwk_text(n, len, e);
	free(n);
	return text;
}

static void
test_rsa_policy(void **state)
{
	char *text;

	(void)state;
	text = rsa_jwk_of_bits(1024, "AQAB");
	parse_text_fails(text, CB_PROB_BAD_PUBLIC_KEY);
	free(text);
	text = rsa_jwk_of_bits(2047, "AQAB");
	parse_text_fails(text, CB_PROB_BAD_PUBLIC_KEY);
	free(text);
	text = rsa_jwk_of_bits(4097, "AQAB");
	parse_text_fails(text, CB_PROB_BAD_PUBLIC_KEY);
	free(text);
	/* e = 3, e = 65539, e = 1 and an even modulus are refused. */
	parse_text_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N
	                 "\",\"e\":\"Aw\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N
	                 "\",\"e\":\"AQAD\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N
	                 "\",\"e\":\"AQ\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	text = rsa_jwk_of_bits(2048, "AQAB");
	text[strlen(text) - 14] = 'A'; /* last n character: clear low bit */
	parse_text_fails(text, CB_PROB_BAD_PUBLIC_KEY);
	free(text);
}

/* RFC 7518 6.3.1.1 asks for no leading zero octets; one is tolerated and
 * the thumbprint is that of the minimal form. */
static void
test_rsa_leading_zero_canonical(void **state)
{
	unsigned char *n = NULL;
	size_t nlen = 0;
	unsigned char padded[300];
	struct cb_jwk a, b;
	char *text;

	(void)state;
	assert_int_equal(
	    cb_b64url_decode(RFC7515_A2_N, strlen(RFC7515_A2_N), &n, &nlen), 0);
	padded[0] = 0;
	memcpy(padded + 1, n, nlen);
	text = rsa_jwk_text(padded, nlen + 1, "AAEAAQ");
	parse_text_ok(text, &a);
	parse_text_ok(
	    "{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N "\",\"e\":\"AQAB\"}", &b);
	assert_string_equal(a.thumbprint, b.thumbprint);
	assert_string_equal(a.json, b.json);
	cb_jwk_clear(&a);
	cb_jwk_clear(&b);
	free(text);
	free(n);
}

static void
test_ec_checks(void **state)
{
	(void)state;
	/* y of another point: not on the curve. */
	parse_text_fails(
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X
	    "\",\"y\":\"" RFC7515_A3_X "\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	/* Coordinates of the wrong size for the curve. */
	parse_text_fails(
	    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" RFC7515_A3_X
	    "\",\"y\":\"" RFC7515_A3_Y "\"}",
	    CB_PROB_MALFORMED);
	parse_text_fails(
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" RFC7515_A3_X
	    "\",\"y\":\"AA\"}",
	    CB_PROB_MALFORMED);
	/* The point at infinity encoded as zeros. */
	parse_text_fails(
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
	    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":"
	    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails(
	    "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"" RFC7515_A3_X
	    "\",\"y\":\"" RFC7515_A3_Y "\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":"
	                 "\"" RFC7515_A3_X "\",\"y\":\"" RFC7515_A3_Y "\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"EC\",\"x\":\"" RFC7515_A3_X
	                 "\",\"y\":\"" RFC7515_A3_Y "\"}",
	    CB_PROB_MALFORMED);
}

static void
test_okp_checks(void **state)
{
	(void)state;
	parse_text_fails("{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" RFC8037_X
	                 "\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":"
	                 "\"" RFC8037_X "\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
	    CB_PROB_MALFORMED);
}

/* RFC 8037 A.1's private key and other private members. */
static void
test_private_members_refused(void **state)
{
	(void)state;
	parse_text_fails("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":"
	                 "\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
	                 "\"x\":\"" RFC8037_X "\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N
	                 "\",\"e\":\"AQAB\",\"p\":\"AQAB\"}",
	    CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails(
	    "{\"kty\":\"oct\",\"k\":\"AAAA\"}", CB_PROB_BAD_PUBLIC_KEY);
	parse_text_fails("{\"kty\":\"oct\"}", CB_PROB_BAD_PUBLIC_KEY);
}

static void
test_malformed_members(void **state)
{
	(void)state;
	parse_text_fails("[]", CB_PROB_MALFORMED);
	parse_text_fails("{}", CB_PROB_MALFORMED);
	parse_text_fails("{\"kty\":1}", CB_PROB_MALFORMED);
	parse_text_fails("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", CB_PROB_MALFORMED);
	parse_text_fails(
	    "{\"kty\":\"RSA\",\"n\":7,\"e\":\"AQAB\"}", CB_PROB_MALFORMED);
	parse_text_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N
	                 "\",\"e\":\"AQAB=\"}",
	    CB_PROB_MALFORMED);
	parse_text_fails("{\"kty\":\"RSA\",\"n\":\"" RFC7515_A2_N
	                 "\",\"e\":\"AQA+\"}",
	    CB_PROB_MALFORMED);
	parse_text_fails(
	    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
	    "\\u0000\"}",
	    CB_PROB_MALFORMED);
	parse_text_fails("{\"kty\":\"EC\",\"kty\":\"EC\"}", CB_PROB_MALFORMED);
	parse_text_fails("{\"kty\":", CB_PROB_MALFORMED);
	parse_text_fails("", CB_PROB_MALFORMED);
}

static void
test_parse_text_too_large(void **state)
{
	struct cb_problem prob;
	struct cb_jwk jwk;
	size_t len = 5000;
	char *big = cb_malloc(len);

	(void)state;
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	cb_problem_init(&prob);
	assert_int_equal(cb_jwk_parse_text(big, len, &jwk, &prob), -1);
	assert_int_equal(prob.type, CB_PROB_MALFORMED);
	free(big);
}

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

/* Signs DATA as a JWS signature of ALG (ECDSA converted to raw R||S). */
static unsigned char *
sign_raw(EVP_PKEY *key, enum cb_jwk_alg alg, const unsigned char *data,
    size_t len, size_t *siglen)
{
	static const size_t field[] = {[CB_JWK_ALG_ES256] = 32,
	    [CB_JWK_ALG_ES384] = 48,
	    [CB_JWK_ALG_ES512] = 66};
	const EVP_MD *md = alg == CB_JWK_ALG_ES384 ? EVP_sha384()
	    : alg == CB_JWK_ALG_ES512              ? EVP_sha512()
	    : alg == CB_JWK_ALG_EDDSA              ? NULL
	                                           : EVP_sha256();
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	unsigned char *der, *raw;
	const unsigned char *p;
	ECDSA_SIG *es;
	size_t n = 0, f;

	assert_int_equal(EVP_DigestSignInit(mctx, NULL, md, NULL, key), 1);
	assert_int_equal(EVP_DigestSign(mctx, NULL, &n, data, len), 1);
	der = cb_malloc(n);
	assert_int_equal(EVP_DigestSign(mctx, der, &n, data, len), 1);
	EVP_MD_CTX_free(mctx);
	if (alg == CB_JWK_ALG_RS256 || alg == CB_JWK_ALG_EDDSA) {
		*siglen = n;
		return der;
	}
	f = field[alg];
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)n);
	assert_non_null(es);
	raw = cb_malloc(2 * f);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)f), f);
	assert_int_equal(
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + f, (int)f), f);
	ECDSA_SIG_free(es);
	free(der);
	*siglen = 2 * f;
	return raw;
}

/* For each alg: a fresh key's JWK round-trips through its canonical JSON
 * with the same thumbprint, and verifies signatures made here. */
static void
test_from_pkey_roundtrip(void **state)
{
	static const unsigned char msg[] = "eyJhbGciOiJFUzI1NiJ9.e30";

	(void)state;
	for (int a = CB_JWK_ALG_RS256; a <= CB_JWK_ALG_EDDSA; a++) {
		enum cb_jwk_alg alg = (enum cb_jwk_alg)a;
		EVP_PKEY *key = keygen(alg);
		struct cb_jwk jwk, again, twice;
		unsigned char *sig;
		size_t siglen = 0;

		assert_non_null(key);
		assert_int_equal(cb_jwk_from_pkey(key, &jwk), 0);
		assert_true(cb_jwk_alg_matches(&jwk, alg));
		parse_text_ok(jwk.json, &again);
		assert_string_equal(again.thumbprint, jwk.thumbprint);
		assert_string_equal(again.json, jwk.json);
		assert_int_equal(cb_jwk_from_pkey(again.pkey, &twice), 0);
		assert_string_equal(twice.thumbprint, jwk.thumbprint);
		sig = sign_raw(key, alg, msg, sizeof(msg) - 1, &siglen);
		assert_int_equal(cb_jwk_verify(&again, alg, msg,
		                     sizeof(msg) - 1, sig, siglen),
		    0);
		assert_int_equal(cb_jwk_verify(&again, alg, msg,
		                     sizeof(msg) - 2, sig, siglen),
		    -1);
		free(sig);
		cb_jwk_clear(&twice);
		cb_jwk_clear(&again);
		cb_jwk_clear(&jwk);
		EVP_PKEY_free(key);
	}
}

/* R || S is turned into DER by hand: signatures whose R or S starts with
 * a zero byte (shorter INTEGER) or a set top bit (extra zero byte) still
 * verify, for every curve; all-zero halves, or a half too large, do not. */
static void
test_ecdsa_der_forms(void **state)
{
	static const unsigned char msg[] = "eyJhbGciOiJFUzI1NiJ9.e30";
	static const size_t field[] = {32, 48, 66};
	unsigned char *sig;
	size_t siglen = 0, f;
	struct cb_jwk jwk;
	EVP_PKEY *key;

	(void)state;
	for (int a = CB_JWK_ALG_ES256; a <= CB_JWK_ALG_ES512; a++) {
		enum cb_jwk_alg alg = (enum cb_jwk_alg)a;
		/* P-521: the top byte is 0 or 1, the top bit never set. */
		int zero = 0, high = alg == CB_JWK_ALG_ES512 ? 2 : 0;

		f = field[a - CB_JWK_ALG_ES256];
		key = keygen(alg);
		assert_int_equal(cb_jwk_from_pkey(key, &jwk), 0);
		/* About 1 in 128 signatures has a leading zero in R or S. */
		for (int i = 0; i < 4000 && (zero < 2 || high < 2); i++) {
			sig = sign_raw(key, alg, msg, sizeof(msg) - 1, &siglen);
			zero += sig[0] == 0 || sig[f] == 0;
			high += (sig[0] & 0x80) != 0 || (sig[f] & 0x80) != 0;
			assert_int_equal(cb_jwk_verify(&jwk, alg, msg,
			                     sizeof(msg) - 1, sig, siglen),
			    0);
			free(sig);
		}
		assert_true(zero >= 2);
		assert_true(high >= 2);
		sig = cb_calloc(1, 2 * f);
		assert_int_equal(
		    cb_jwk_verify(&jwk, alg, msg, sizeof(msg) - 1, sig, 2 * f),
		    -1);
		memset(sig, 0xff, 2 * f);
		assert_int_equal(
		    cb_jwk_verify(&jwk, alg, msg, sizeof(msg) - 1, sig, 2 * f),
		    -1);
		free(sig);
		cb_jwk_clear(&jwk);
		EVP_PKEY_free(key);
	}
}

/* The RFC 7638 key rebuilt from its EVP_PKEY has the RFC's thumbprint. */
static void
test_from_pkey_rfc7638(void **state)
{
	json_t *v = load_vector("rfc7638_rsa.json");
	struct cb_jwk jwk, built;

	(void)state;
	parse_ok(json_object_get(v, "jwk"), &jwk);
	assert_int_equal(cb_jwk_from_pkey(jwk.pkey, &built), 0);
	assert_string_equal(
	    built.thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	cb_jwk_clear(&built);
	cb_jwk_clear(&jwk);
	json_decref(v);
}

static void
test_from_pkey_refused(void **state)
{
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	EVP_PKEY *k256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	struct cb_jwk jwk;

	(void)state;
	assert_int_equal(cb_jwk_from_pkey(small, &jwk), -1);
	assert_null(jwk.pkey);
	assert_int_equal(cb_jwk_from_pkey(x25519, &jwk), -1);
	assert_int_equal(cb_jwk_from_pkey(k256, &jwk), -1);
	assert_int_equal(cb_jwk_from_pkey(NULL, &jwk), -1);
	EVP_PKEY_free(small);
	EVP_PKEY_free(x25519);
	EVP_PKEY_free(k256);
}

static void
test_alg_names(void **state)
{
	(void)state;
	assert_int_equal(cb_jwk_alg_parse("RS256"), CB_JWK_ALG_RS256);
	assert_int_equal(cb_jwk_alg_parse("ES256"), CB_JWK_ALG_ES256);
	assert_int_equal(cb_jwk_alg_parse("ES384"), CB_JWK_ALG_ES384);
	assert_int_equal(cb_jwk_alg_parse("ES512"), CB_JWK_ALG_ES512);
	assert_int_equal(cb_jwk_alg_parse("EdDSA"), CB_JWK_ALG_EDDSA);
	assert_int_equal(cb_jwk_alg_parse("none"), CB_JWK_ALG_NONE);
	assert_int_equal(cb_jwk_alg_parse("HS256"), CB_JWK_ALG_NONE);
	assert_int_equal(cb_jwk_alg_parse("rs256"), CB_JWK_ALG_NONE);
	assert_int_equal(cb_jwk_alg_parse("PS256"), CB_JWK_ALG_NONE);
	assert_int_equal(cb_jwk_alg_parse(""), CB_JWK_ALG_NONE);
	assert_int_equal(cb_jwk_alg_parse(NULL), CB_JWK_ALG_NONE);
	assert_string_equal(cb_jwk_alg_name(CB_JWK_ALG_EDDSA), "EdDSA");
	assert_string_equal(cb_jwk_alg_name(CB_JWK_ALG_ES512), "ES512");
	assert_string_equal(cb_jwk_alg_name(CB_JWK_ALG_NONE), "none");
	assert_string_equal(cb_jwk_alg_name((enum cb_jwk_alg)99), "none");
}

/* RFC 8555 8.1: token "." base64url(thumbprint). */
static void
test_key_authorization(void **state)
{
	char *ka;

	(void)state;
	ka = cb_key_authorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
	    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	assert_string_equal(ka,
	    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
	    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	free(ka);
}

static void
test_clear_is_idempotent(void **state)
{
	struct cb_jwk jwk;

	(void)state;
	memset(&jwk, 0, sizeof(jwk));
	cb_jwk_clear(&jwk);
	parse_text_ok("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
	              "\"}",
	    &jwk);
	cb_jwk_clear(&jwk);
	cb_jwk_clear(&jwk);
	cb_jwk_clear(NULL);
	assert_null(jwk.pkey);
	assert_false(cb_jwk_alg_matches(&jwk, CB_JWK_ALG_EDDSA));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7638_thumbprint),
	    cmocka_unit_test(test_rfc7515_a2_rs256),
	    cmocka_unit_test(test_rfc7515_a3_es256),
	    cmocka_unit_test(test_rfc7515_a4_es512),
	    cmocka_unit_test(test_rfc8037_ed25519),
	    cmocka_unit_test(test_verify_wrong_alg_or_length),
	    cmocka_unit_test(test_rsa_policy),
	    cmocka_unit_test(test_rsa_leading_zero_canonical),
	    cmocka_unit_test(test_ec_checks),
	    cmocka_unit_test(test_okp_checks),
	    cmocka_unit_test(test_private_members_refused),
	    cmocka_unit_test(test_malformed_members),
	    cmocka_unit_test(test_parse_text_too_large),
	    cmocka_unit_test(test_from_pkey_roundtrip),
	    cmocka_unit_test(test_ecdsa_der_forms),
	    cmocka_unit_test(test_from_pkey_rfc7638),
	    cmocka_unit_test(test_from_pkey_refused),
	    cmocka_unit_test(test_alg_names),
	    cmocka_unit_test(test_key_authorization),
	    cmocka_unit_test(test_clear_is_idempotent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
