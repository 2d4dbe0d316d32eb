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

struct bench_signer {
	pthread_mutex_t lock; /* guards: ctx */
	EVP_PKEY_CTX *ctx;    /* EVP_PKEY_sign() initialised, SHA-256 set */
	EVP_MD *sha256;       /* fetched once: no implicit fetch per digest */
};

struct bench_signer *
bench_signer_new(EVP_PKEY *key)
{
	struct bench_signer *s = cb_calloc(1, sizeof(*s));
	bool rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
	int ok;

	pthread_mutex_init(&s->lock, NULL);
	ERR_clear_error();
	if (EVP_PKEY_get_size(key) > BENCH_MAX_SIG ||
	    (s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (s->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL ||
	    EVP_PKEY_sign_init(s->ctx) != 1)
		goto fail;
	ok =
	    !rsa || EVP_PKEY_CTX_set_rsa_padding(s->ctx, RSA_PKCS1_PADDING) > 0;
	if (!ok || EVP_PKEY_CTX_set_signature_md(s->ctx, s->sha256) <= 0)
		goto fail;
	return s;
fail:
	bench_ssl_log("signer setup");
	bench_signer_free(s);
	return NULL;
}

void
bench_signer_free(struct bench_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_CTX_free(s->ctx);
	EVP_MD_free(s->sha256);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int
bench_signer_sign(struct bench_signer *s, const unsigned char *data, size_t len,
    unsigned char *sig, size_t *siglen)
{
	unsigned char md[32];
	int ok;

	ERR_clear_error();
	if (EVP_Digest(data, len, md, NULL, s->sha256, NULL) != 1) {
		bench_ssl_log("SHA-256");
		return -1;
	}
	*siglen = BENCH_MAX_SIG;
	/* One context, so one signature at a time: EVP_PKEY_CTX is not
	 * documented as safe to share. */
	pthread_mutex_lock(&s->lock);
	ok = EVP_PKEY_sign(s->ctx, sig, siglen, md, sizeof(md));
	pthread_mutex_unlock(&s->lock);
	if (ok != 1) {
		bench_ssl_log("signature");
		return -1;
	}
	return 0;
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
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (t == BENCH_KEY_P384)
		goto out; /* accounts sign with ES256 or RS256 only */
	out->alg = t == BENCH_KEY_P256 ? CB_JWK_ALG_ES256 : CB_JWK_ALG_RS256;
	if ((out->pkey = bench_pkey_generate(t)) == NULL ||
	    (out->signer = bench_signer_new(out->pkey)) == NULL)
		goto out;
	if (cb_jwk_from_pkey(out->pkey, &out->jwk) != 0) {
		cb_log(LOG_ERR, "bench: cannot build the account JWK");
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
	bench_signer_free(key->signer);
	EVP_PKEY_free(key->pkey);
	cb_jwk_clear(&key->jwk);
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
	unsigned char sig[BENCH_MAX_SIG], raw[64];
	size_t siglen = 0;

	if (bench_signer_sign(key->signer, (const unsigned char *)input,
	        strlen(input), sig, &siglen) != 0)
		return NULL;
	if (key->alg != CB_JWK_ALG_ES256)
		return cb_b64url_encode(sig, siglen);
	if (bench_ecdsa_raw(sig, siglen, raw, 32) != 0) {
		cb_log(LOG_ERR, "bench: malformed ECDSA signature");
		return NULL;
	}
	return cb_b64url_encode(raw, sizeof(raw));
}

/* The protected header (RFC 8555 6.2), base64url-encoded: alg, nonce,
 * url, and kid or the JWK (its canonical JSON text). */
static char *
bench_jws_protected(const struct bench_key *key, const char *kid,
    const char *nonce, const char *url)
{
	struct bench_buf hdr = {0};
	char *b64;

	bench_buf_puts(&hdr, "{\"alg\":");
	bench_buf_json_string(&hdr, cb_jwk_alg_name(key->alg));
	bench_buf_puts(&hdr, ",\"nonce\":");
	bench_buf_json_string(&hdr, nonce);
	bench_buf_puts(&hdr, ",\"url\":");
	bench_buf_json_string(&hdr, url);
	if (kid != NULL) {
		bench_buf_puts(&hdr, ",\"kid\":");
		bench_buf_json_string(&hdr, kid);
	} else {
		bench_buf_puts(&hdr, ",\"jwk\":");
		bench_buf_puts(&hdr, key->jwk.json);
	}
	bench_buf_puts(&hdr, "}");
	b64 = cb_b64url_encode((const unsigned char *)hdr.p, hdr.len);
	bench_buf_clear(&hdr);
	return b64;
}

char *
bench_jws_encode(const struct bench_key *key, const char *kid,
    const char *nonce, const char *url, const char *payload)
{
	struct bench_buf in = {0}, out = {0};
	char *prot, *pay, *sig = NULL, *body = NULL;

	if (payload == NULL)
		payload = "";
	prot = bench_jws_protected(key, kid, nonce, url);
	pay = cb_b64url_encode((const unsigned char *)payload, strlen(payload));
	bench_buf_puts(&in, prot);
	bench_buf_puts(&in, ".");
	bench_buf_puts(&in, pay);
	bench_buf_put(&in, "", 1);
	if ((sig = bench_jws_sign(key, in.p)) == NULL)
		goto out;
	/* RFC 7515 7.2.2; the members are base64url: nothing to escape. */
	bench_buf_puts(&out, "{\"protected\":\"");
	bench_buf_puts(&out, prot);
	bench_buf_puts(&out, "\",\"payload\":\"");
	bench_buf_puts(&out, pay);
	bench_buf_puts(&out, "\",\"signature\":\"");
	bench_buf_puts(&out, sig);
	bench_buf_puts(&out, "\"}");
	body = bench_buf_take(&out);
out:
	bench_buf_clear(&in);
	free(sig);
	free(pay);
	free(prot);
	return body;
}

int
bench_cert_key_generate(enum bench_keytype t, struct bench_cert_key *out)
{
	unsigned char *der = NULL;
	int len, rc = -1;

	memset(out, 0, sizeof(*out));
	if ((out->pkey = bench_pkey_generate(t)) == NULL ||
	    (out->signer = bench_signer_new(out->pkey)) == NULL)
		goto out;
	out->rsa = EVP_PKEY_get_base_id(out->pkey) == EVP_PKEY_RSA;
	ERR_clear_error();
	if ((len = i2d_PUBKEY(out->pkey, &der)) <= 0) {
		bench_ssl_log("public key encoding");
		goto out;
	}
	out->spki = cb_malloc((size_t)len);
	memcpy(out->spki, der, (size_t)len);
	out->spki_len = (size_t)len;
	rc = 0;
out:
	OPENSSL_free(der);
	if (rc != 0)
		bench_cert_key_clear(out);
	return rc;
}

void
bench_cert_key_clear(struct bench_cert_key *key)
{
	if (key == NULL)
		return;
	bench_signer_free(key->signer);
	EVP_PKEY_free(key->pkey);
	free(key->spki);
	memset(key, 0, sizeof(*key));
}
