/* SPDX-License-Identifier: ISC */
/* Keys, JWS signing (RFC 7515, RFC 8555 6.2) and CSRs for cobble-bench. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cb_b64url.h"
#include "cb_log.h"

/* Logs the OpenSSL error queue in one line after WHAT failed. */
static void
bench_ssl_log(const char *what)
{
	char line[512] = "";
	unsigned long e;
	size_t off = 0;

	while ((e = ERR_get_error()) != 0 && off < sizeof(line) - 1) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
		    off > 0 ? "; " : "", one);
		if (off >= sizeof(line))
			off = sizeof(line) - 1;
	}
	cb_log(LOG_ERR, "bench: %s failed: %s", what, line);
}

EVP_PKEY *
bench_pkey_generate(enum bench_keytype t)
{
	EVP_PKEY *k = NULL;

	ERR_clear_error();
	switch (t) {
	case BENCH_KEY_P256:
		k = EVP_EC_gen("P-256");
		break;
	case BENCH_KEY_P384:
		k = EVP_EC_gen("P-384");
		break;
	case BENCH_KEY_RSA2048:
		k = EVP_RSA_gen(2048);
		break;
	}
	if (k == NULL)
		bench_ssl_log("key generation");
	return k;
}

int
bench_key_generate(enum bench_keytype t, struct bench_key *out)
{
	json_error_t jerr;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (t == BENCH_KEY_P384)
		goto out; /* accounts sign with ES256 or RS256 only */
	out->alg = t == BENCH_KEY_P256 ? CB_JWK_ALG_ES256 : CB_JWK_ALG_RS256;
	if ((out->pkey = bench_pkey_generate(t)) == NULL)
		goto out;
	if (cb_jwk_from_pkey(out->pkey, &out->jwk) != 0) {
		cb_log(LOG_ERR, "bench: cannot build the account JWK");
		goto out;
	}
	out->jwk_obj = json_loads(out->jwk.json, 0, &jerr);
	if (out->jwk_obj == NULL) {
		cb_log(LOG_ERR, "bench: JWK JSON: %s", jerr.text);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		bench_key_clear(out);
	return rc;
}

void
bench_key_clear(struct bench_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	cb_jwk_clear(&key->jwk);
	json_decref(key->jwk_obj);
	memset(key, 0, sizeof(*key));
}

/* RFC 7518 3.4: ES256 signatures are R and S, 32 bytes each, not DER. */
static int
bench_ecdsa_raw(
    const unsigned char *der, size_t derlen, unsigned char *out, size_t half)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	const BIGNUM *r, *s;
	int rc = -1;

	if (sig == NULL)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, (int)half) != (int)half ||
	    BN_bn2binpad(s, out + half, (int)half) != (int)half)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	return rc;
}

/* Signs INPUT with KEY for the JWS; returns base64url of the signature. */
static char *
bench_jws_sign(const struct bench_key *key, const char *input)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL, raw[64];
	size_t siglen = 0;
	char *b64 = NULL;

	ERR_clear_error();
	if (md == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input,
	        strlen(input)) != 1)
		goto out;
	sig = cb_malloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input,
	        strlen(input)) != 1)
		goto out;
	if (key->alg == CB_JWK_ALG_ES256) {
		if (bench_ecdsa_raw(sig, siglen, raw, 32) != 0)
			goto out;
		b64 = cb_b64url_encode(raw, sizeof(raw));
	} else {
		b64 = cb_b64url_encode(sig, siglen);
	}
out:
	if (b64 == NULL)
		bench_ssl_log("JWS signature");
	free(sig);
	EVP_MD_CTX_free(md);
	return b64;
}

/* The protected header, base64url-encoded. */
static char *
bench_jws_protected(const struct bench_key *key, const char *kid,
    const char *nonce, const char *url)
{
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg",
	    cb_jwk_alg_name(key->alg), "nonce", nonce, "url", url);
	char *text = NULL, *b64 = NULL;

	if (hdr == NULL)
		goto out;
	if (kid != NULL) {
		if (json_object_set_new(hdr, "kid", json_string(kid)) != 0)
			goto out;
	} else if (json_object_set(hdr, "jwk", key->jwk_obj) != 0) {
		goto out;
	}
	if ((text = json_dumps(hdr, JSON_COMPACT)) == NULL)
		goto out;
	b64 = cb_b64url_encode((const unsigned char *)text, strlen(text));
out:
	free(text);
	json_decref(hdr);
	return b64;
}

char *
bench_jws_encode(const struct bench_key *key, const char *kid,
    const char *nonce, const char *url, const char *payload)
{
	char *prot = NULL, *pay = NULL, *input = NULL, *sig = NULL;
	char *body = NULL;
	json_t *jws = NULL;

	if (payload == NULL)
		payload = "";
	if ((prot = bench_jws_protected(key, kid, nonce, url)) == NULL)
		goto out;
	pay = cb_b64url_encode((const unsigned char *)payload, strlen(payload));
	input = cb_asprintf("%s.%s", prot, pay);
	if ((sig = bench_jws_sign(key, input)) == NULL)
		goto out;
	jws = json_pack("{s:s, s:s, s:s}", "protected", prot, "payload", pay,
	    "signature", sig);
	if (jws != NULL)
		body = json_dumps(jws, JSON_COMPACT);
out:
	json_decref(jws);
	free(sig);
	free(input);
	free(pay);
	free(prot);
	return body;
}

/* Adds to REQ the subjectAltName extension listing NAMES as dNSNames. */
static int
bench_csr_add_san(X509_REQ *req, char *const *names, size_t n)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	int rc = -1;

	if (gens == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (g == NULL || s == NULL ||
		    ASN1_STRING_set(s, names[i], (int)strlen(names[i])) != 1) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(s);
			goto out;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		if (sk_GENERAL_NAME_push(gens, g) <= 0) {
			GENERAL_NAME_free(g);
			goto out;
		}
	}
	if (X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0,
	        X509V3_ADD_DEFAULT) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1)
		goto out;
	rc = 0;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return rc;
}

char *
bench_csr_encode(EVP_PKEY *key, char *const *names, size_t n)
{
	X509_REQ *req = NULL;
	unsigned char *der = NULL;
	char *b64 = NULL;
	int len;

	ERR_clear_error();
	if (n == 0 || (req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, 0) != 1)
		goto out;
	/* A CN of at most 64 characters; our names are short. */
	if (strlen(names[0]) <= 64 &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	        MBSTRING_ASC, (const unsigned char *)names[0], -1, -1, 0) != 1)
		goto out;
	if (bench_csr_add_san(req, names, n) != 0 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	if ((len = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	b64 = cb_b64url_encode(der, (size_t)len);
out:
	if (b64 == NULL)
		bench_ssl_log("CSR");
	OPENSSL_free(der);
	X509_REQ_free(req);
	return b64;
}
