/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_csr.c: CSRs that OpenSSL parses and
 * verifies, with the right names, CN, key and signature; their
 * CertificationRequestInfo is byte for byte what OpenSSL's X509_REQ makes
 * of the same names and key; long lengths and a first name too long for a
 * CN. */
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

/* The length of the DER element at P (AVAIL bytes), header included. */
static size_t
der_elem_len(const unsigned char *p, size_t avail)
{
	size_t n, h = 2;

	assert_true(avail >= 2);
	n = p[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;

		assert_true(k >= 1 && k <= 4 && avail >= 2 + k);
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = (n << 8) | p[2 + i];
		/* DER: the shortest length form */
		assert_true(n >= 0x80 && (k == 1 || (n >> (8 * (k - 1))) != 0));
		h += k;
	}
	assert_true(h + n <= avail);
	return h + n;
}

/* The request OpenSSL builds for NAMES and KEY, unsigned: the reference
 * for the CertificationRequestInfo. Returns its DER (caller frees). */
static unsigned char *
reference_info(EVP_PKEY *key, char *const *names, size_t n, int *len)
{
	X509_REQ *req = X509_REQ_new();
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	unsigned char *der = NULL;

	assert_non_null(req);
	assert_non_null(gens);
	assert_int_equal(X509_REQ_set_version(req, 0), 1);
	if (strlen(names[0]) <= 64)
		assert_int_equal(
		    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req),
		        "CN", MBSTRING_ASC, (const unsigned char *)names[0], -1,
		        -1, 0),
		    1);
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		assert_int_equal(
		    ASN1_STRING_set(s, names[i], (int)strlen(names[i])), 1);
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
	}
	assert_int_equal(X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0,
	                     X509V3_ADD_DEFAULT),
	    1);
	assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	*len = i2d_re_X509_REQ_tbs(req, &der);
	assert_true(*len > 0);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	return der;
}

/* Decodes a base64url CSR and checks its DER, names, CN, key and
 * signature against KEY. */
static void
check_csr(const char *b64, const struct bench_cert_key *key, char *const *names,
    size_t n)
{
	unsigned char *der = NULL, *ref;
	const unsigned char *p;
	size_t len = 0, hdr, info;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) * exts;
	GENERAL_NAMES *gens;
	char cn[256];
	int reflen;

	assert_int_equal(cb_b64url_decode(b64, strlen(b64), &der, &len), 0);
	/* One SEQUENCE, then the info, byte for byte OpenSSL's. */
	assert_int_equal(der_elem_len(der, len), len);
	hdr = 2 + (der[1] & 0x80 ? (size_t)(der[1] & 0x7f) : 0);
	info = der_elem_len(der + hdr, len - hdr);
	ref = reference_info(key->pkey, names, n, &reflen);
	assert_int_equal(info, (size_t)reflen);
	assert_memory_equal(der + hdr, ref, (size_t)reflen);
	OPENSSL_free(ref);

	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	assert_non_null(req);
	assert_ptr_equal(p, der + len);
	assert_int_equal(X509_REQ_verify(req, key->pkey), 1);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key->pkey), 1);
	assert_int_equal(X509_REQ_get_signature_nid(req),
	    key->rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);
	if (strlen(names[0]) <= 64) {
		assert_true(
		    X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req),
		        NID_commonName, cn, sizeof(cn)) > 0);
		assert_string_equal(cn, names[0]);
	} else {
		assert_int_equal(
		    X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
	}
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
	struct bench_cert_key key;
	char *one, *three;

	assert_int_equal(bench_cert_key_generate(t, &key), 0);
	one = bench_csr_encode(&key, names, 1);
	three = bench_csr_encode(&key, names, 3);
	assert_non_null(one);
	assert_non_null(three);
	check_csr(one, &key, names, 1);
	check_csr(three, &key, names, 3);
	assert_null(bench_csr_encode(&key, names, 0));
	free(one);
	free(three);
	bench_cert_key_clear(&key);
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

/* BENCH_MAX_NAMES names of 64 characters (long-form lengths of one and
 * two octets), and a first name of 65 characters: no CN. */
static void
test_csr_long(void **state)
{
	char *names[BENCH_MAX_NAMES];
	struct bench_cert_key key;
	char *csr;

	(void)state;
	assert_int_equal(bench_cert_key_generate(BENCH_KEY_RSA2048, &key), 0);
	for (int i = 0; i < BENCH_MAX_NAMES; i++) {
		char pad[64];

		/* "nIII-" + pad + ".bench.cobble.test": 65, then 64 */
		memset(pad, 'a', sizeof(pad));
		pad[i == 0 ? 42 : 41] = '\0';
		names[i] = cb_asprintf("n%03d-%s.bench.cobble.test", i, pad);
	}
	assert_int_equal(strlen(names[0]), 65);
	assert_int_equal(strlen(names[1]), 64);
	csr = bench_csr_encode(&key, names, BENCH_MAX_NAMES);
	assert_non_null(csr);
	check_csr(csr, &key, names, BENCH_MAX_NAMES);
	free(csr);
	/* From the second name on: a CN of exactly 64 characters. */
	csr = bench_csr_encode(&key, names + 1, 2);
	assert_non_null(csr);
	check_csr(csr, &key, names + 1, 2);
	free(csr);
	for (int i = 0; i < BENCH_MAX_NAMES; i++)
		free(names[i]);
	bench_cert_key_clear(&key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csr_p256),
	    cmocka_unit_test(test_csr_p384),
	    cmocka_unit_test(test_csr_rsa2048),
	    cmocka_unit_test(test_csr_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
