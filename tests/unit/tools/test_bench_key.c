/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_key.c: JWS objects that Cobble's own
 * verifier (common/cb_jwk.c) accepts, for ES256 and RS256, also from
 * several threads at once; signers; certificate keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

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
		json_t *jwk = json_loads(k->jwk.json, 0, NULL);

		assert_null(json_object_get(hdr, "kid"));
		assert_non_null(jwk);
		assert_true(json_equal(json_object_get(hdr, "jwk"), jwk));
		json_decref(jwk);
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

/* Signs with a signer many times over; each signature verifies with the
 * public key through a fresh EVP_DigestVerify. */
static void
signer_for(enum bench_keytype t)
{
	EVP_PKEY *key = bench_pkey_generate(t);
	struct bench_signer *s;
	unsigned char sig[BENCH_MAX_SIG];
	const char *msg = "abc.def";
	size_t siglen;

	assert_non_null(key);
	s = bench_signer_new(key);
	assert_non_null(s);
	for (int i = 0; i < 3; i++) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		assert_int_equal(
		    bench_signer_sign(s, (const unsigned char *)msg,
		        strlen(msg), sig, &siglen),
		    0);
		assert_true(siglen > 0 && siglen <= BENCH_MAX_SIG);
		assert_int_equal(
		    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
		assert_int_equal(EVP_DigestVerify(md, sig, siglen,
		                     (const unsigned char *)msg, strlen(msg)),
		    1);
		assert_int_equal(EVP_DigestVerify(md, sig, siglen,
		                     (const unsigned char *)"abc.deg", 7),
		    0);
		EVP_MD_CTX_free(md);
	}
	bench_signer_free(s);
	bench_signer_free(NULL);
	EVP_PKEY_free(key); /* after the signer: it holds its own reference */
}

static void
test_signer_p256(void **state)
{
	(void)state;
	signer_for(BENCH_KEY_P256);
}

static void
test_signer_rsa2048(void **state)
{
	(void)state;
	signer_for(BENCH_KEY_RSA2048);
}

/* Several threads share one account key: every JWS verifies. */
struct jws_thread_arg {
	const struct bench_key *key;
	int bad;
};

static void *
jws_thread(void *arg)
{
	struct jws_thread_arg *a = arg;

	for (int i = 0; i < 50; i++) {
		char *body = bench_jws_encode(a->key, "https://ca/acme/acct/7",
		    "n0nce", "https://ca/acme/x", "{}");
		json_t *jws = body != NULL ? json_loads(body, 0, NULL) : NULL;
		const char *prot =
		    json_string_value(json_object_get(jws, "protected"));
		const char *p64 =
		    json_string_value(json_object_get(jws, "payload"));
		const char *s64 =
		    json_string_value(json_object_get(jws, "signature"));
		unsigned char *sig = NULL;
		size_t siglen = 0;
		char *input;

		if (prot == NULL || p64 == NULL || s64 == NULL ||
		    cb_b64url_decode(s64, strlen(s64), &sig, &siglen) != 0) {
			a->bad++;
		} else {
			input = cb_asprintf("%s.%s", prot, p64);
			if (cb_jwk_verify(&a->key->jwk, a->key->alg,
			        (const unsigned char *)input, strlen(input),
			        sig, siglen) != 0)
				a->bad++;
			free(input);
		}
		free(sig);
		json_decref(jws);
		free(body);
	}
	return NULL;
}

static void
test_jws_shared_key_threads(void **state)
{
	struct jws_thread_arg args[4];
	pthread_t th[4];
	struct bench_key k;

	(void)state;
	assert_int_equal(bench_key_generate(BENCH_KEY_P256, &k), 0);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct jws_thread_arg){.key = &k};
		assert_int_equal(
		    pthread_create(&th[i], NULL, jws_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
	bench_key_clear(&k);
}

/* A certificate key carries its SubjectPublicKeyInfo, and the signer
 * matches the key type. */
static void
cert_key_for(enum bench_keytype t, bool rsa)
{
	struct bench_cert_key k;
	const unsigned char *p;
	EVP_PKEY *pub;

	assert_int_equal(bench_cert_key_generate(t, &k), 0);
	assert_int_equal(k.rsa, rsa);
	assert_non_null(k.signer);
	p = k.spki;
	pub = d2i_PUBKEY(NULL, &p, (long)k.spki_len);
	assert_non_null(pub);
	assert_ptr_equal(p, k.spki + k.spki_len);
	assert_int_equal(EVP_PKEY_eq(pub, k.pkey), 1);
	EVP_PKEY_free(pub);
	bench_cert_key_clear(&k);
	bench_cert_key_clear(&k); /* twice is harmless */
}

static void
test_cert_keys(void **state)
{
	(void)state;
	cert_key_for(BENCH_KEY_P256, false);
	cert_key_for(BENCH_KEY_P384, false);
	cert_key_for(BENCH_KEY_RSA2048, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jws_es256),
	    cmocka_unit_test(test_jws_rs256),
	    cmocka_unit_test(test_account_key_p384_refused),
	    cmocka_unit_test(test_signer_p256),
	    cmocka_unit_test(test_signer_rsa2048),
	    cmocka_unit_test(test_jws_shared_key_threads),
	    cmocka_unit_test(test_cert_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
