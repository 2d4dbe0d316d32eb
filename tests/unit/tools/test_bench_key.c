/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_key.c: JWS objects that Cobble's own
 * verifier (common/cb_jwk.c) accepts, for ES256 and RS256, and CSRs with
 * the right names, key and signature. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench.h"
#include "cb_b64url.h"

/* Decodes base64url member NAME of OBJ into a NUL-terminated buffer. */
static char *
b64_member(const json_t *obj, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(obj, name));
	unsigned char *out = NULL;
	size_t n = 0;
	char *text;

	assert_non_null(s);
	assert_int_equal(cb_b64url_decode(s, strlen(s), &out, &n), 0);
	text = cb_malloc(n + 1);
	memcpy(text, out, n);
	text[n] = '\0';
	free(out);
	if (len != NULL)
		*len = n;
	return text;
}

/* Checks JWS text BODY: header fields, payload, and the signature with
 * cb_jwk_verify over the public JWK. */
static void
check_jws(const struct bench_key *k, const char *body, const char *kid,
    const char *payload)
{
	json_t *jws = json_loads(body, 0, NULL), *hdr;
	char *hdrtext, *pay, *sig, *input;
	const char *prot, *p64;
	size_t siglen;

	assert_non_null(jws);
	hdrtext = b64_member(jws, "protected", NULL);
	hdr = json_loads(hdrtext, 0, NULL);
	assert_non_null(hdr);
	assert_string_equal(json_string_value(json_object_get(hdr, "alg")),
	    cb_jwk_alg_name(k->alg));
	assert_string_equal(
	    json_string_value(json_object_get(hdr, "nonce")), "n0nce");
	assert_string_equal(json_string_value(json_object_get(hdr, "url")),
	    "https://ca/acme/x");
	if (kid != NULL) {
		assert_string_equal(
		    json_string_value(json_object_get(hdr, "kid")), kid);
		assert_null(json_object_get(hdr, "jwk"));
	} else {
		assert_null(json_object_get(hdr, "kid"));
		assert_true(
		    json_equal(json_object_get(hdr, "jwk"), k->jwk_obj));
	}
	pay = b64_member(jws, "payload", NULL);
	assert_string_equal(pay, payload != NULL ? payload : "");
	sig = b64_member(jws, "signature", &siglen);
	if (k->alg == CB_JWK_ALG_ES256)
		assert_int_equal(siglen, 64); /* raw R||S, not DER */
	prot = json_string_value(json_object_get(jws, "protected"));
	p64 = json_string_value(json_object_get(jws, "payload"));
	input = cb_asprintf("%s.%s", prot, p64);
	assert_int_equal(
	    cb_jwk_verify(&k->jwk, k->alg, (const unsigned char *)input,
	        strlen(input), (const unsigned char *)sig, siglen),
	    0);
	/* A changed input must not verify. */
	input[0] ^= 1;
	assert_int_equal(
	    cb_jwk_verify(&k->jwk, k->alg, (const unsigned char *)input,
	        strlen(input), (const unsigned char *)sig, siglen),
	    -1);
	free(input);
	free(sig);
	free(pay);
	json_decref(hdr);
	free(hdrtext);
	json_decref(jws);
}

static void
jws_roundtrip(enum bench_keytype t, enum cb_jwk_alg alg)
{
	struct bench_key k;
	char *a, *b, *c;

	assert_int_equal(bench_key_generate(t, &k), 0);
	assert_int_equal(k.alg, alg);
	assert_true(cb_jwk_alg_matches(&k.jwk, alg));
	assert_int_equal(strlen(k.jwk.thumbprint), 43);
	a = bench_jws_encode(&k, NULL, "n0nce", "https://ca/acme/x",
	    "{\"termsOfServiceAgreed\":true}");
	b = bench_jws_encode(
	    &k, "https://ca/acme/acct/7", "n0nce", "https://ca/acme/x", NULL);
	c = bench_jws_encode(
	    &k, "https://ca/acme/acct/7", "n0nce", "https://ca/acme/x", "{}");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	check_jws(&k, a, NULL, "{\"termsOfServiceAgreed\":true}");
	check_jws(&k, b, "https://ca/acme/acct/7", NULL);
	check_jws(&k, c, "https://ca/acme/acct/7", "{}");
	free(a);
	free(b);
	free(c);
	bench_key_clear(&k);
	bench_key_clear(&k); /* twice is harmless */
}

static void
test_jws_es256(void **state)
{
	(void)state;
	jws_roundtrip(BENCH_KEY_P256, CB_JWK_ALG_ES256);
}

static void
test_jws_rs256(void **state)
{
	(void)state;
	jws_roundtrip(BENCH_KEY_RSA2048, CB_JWK_ALG_RS256);
}

static void
test_account_key_p384_refused(void **state)
{
	struct bench_key k;

	(void)state;
	assert_int_equal(bench_key_generate(BENCH_KEY_P384, &k), -1);
	assert_null(k.pkey);
}

/* Decodes a base64url CSR and checks names, CN, key and signature. */
static void
check_csr(const char *b64, EVP_PKEY *key, char *const *names, size_t n)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) * exts;
	GENERAL_NAMES *gens;
	char cn[256];

	assert_int_equal(cb_b64url_decode(b64, strlen(b64), &der, &len), 0);
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key), 1);
	assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req),
	                NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, names[0]);
	exts = X509_REQ_get_extensions(req);
	assert_non_null(exts);
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), (int)n);
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, (int)i);
		const ASN1_IA5STRING *s;

		assert_int_equal(g->type, GEN_DNS);
		s = g->d.dNSName;
		assert_int_equal(ASN1_STRING_length(s), (int)strlen(names[i]));
		assert_memory_equal(
		    ASN1_STRING_get0_data(s), names[i], strlen(names[i]));
	}
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	free(der);
}

static void
csr_for(enum bench_keytype t)
{
	char *names[] = {"abc.bench.cobble.test", "def.bench.cobble.test",
	    "ghi.bench.cobble.test"};
	EVP_PKEY *key = bench_pkey_generate(t);
	char *one, *three;

	assert_non_null(key);
	one = bench_csr_encode(key, names, 1);
	three = bench_csr_encode(key, names, 3);
	assert_non_null(one);
	assert_non_null(three);
	check_csr(one, key, names, 1);
	check_csr(three, key, names, 3);
	assert_null(bench_csr_encode(key, names, 0));
	free(one);
	free(three);
	EVP_PKEY_free(key);
}

static void
test_csr_p256(void **state)
{
	(void)state;
	csr_for(BENCH_KEY_P256);
}

static void
test_csr_p384(void **state)
{
	(void)state;
	csr_for(BENCH_KEY_P384);
}

static void
test_csr_rsa2048(void **state)
{
	(void)state;
	csr_for(BENCH_KEY_RSA2048);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jws_es256),
	    cmocka_unit_test(test_jws_rs256),
	    cmocka_unit_test(test_account_key_p384_refused),
	    cmocka_unit_test(test_csr_p256),
	    cmocka_unit_test(test_csr_p384),
	    cmocka_unit_test(test_csr_rsa2048),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
