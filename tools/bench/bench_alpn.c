/* SPDX-License-Identifier: ISC */
/* TLS-ALPN-01 (RFC 8737) for the built-in responder: a TLS server context
 * that accepts only ALPN "acme-tls/1" and answers each ClientHello with a
 * self-signed certificate for the name it asks for (SNI), carrying the
 * SHA-256 digest of that name's key authorization in the critical
 * acmeIdentifier extension. The certificate is made during the handshake,
 * so the responder's table is the only state. */
#include "bench.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cb_log.h"

/* id-pe-acmeIdentifier (RFC 8737 6.1). */
#define BENCH_ALPN_OID "1.3.6.1.5.5.7.1.31"
/* The protocol, in the wire format of RFC 7301: length, then bytes. */
static const unsigned char bench_alpn_proto[] = "\012acme-tls/1";

struct bench_alpn {
	SSL_CTX *ctx;
	EVP_PKEY *key; /* signs every validation certificate */
	struct bench_responder *r;
};

/* The extension's value: DER of the OCTET STRING holding the digest. */
static X509_EXTENSION *
bench_alpn_ext(const char *keyauth)
{
	unsigned char der[2 + 32];
	unsigned int dlen = 0;
	ASN1_OBJECT *oid = OBJ_txt2obj(BENCH_ALPN_OID, 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;

	der[0] = V_ASN1_OCTET_STRING;
	der[1] = 32;
	if (oid != NULL && val != NULL &&
	    EVP_Digest(keyauth, strlen(keyauth), der + 2, &dlen, EVP_sha256(),
	        NULL) == 1 &&
	    dlen == 32 && ASN1_OCTET_STRING_set(val, der, sizeof(der)) == 1)
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(val);
	return ext;
}

/* Adds the subjectAltName holding NAME as its only dNSName. */
static bool
bench_alpn_add_san(X509 *x, const char *name)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	bool ok = false;

	if (gens == NULL || gen == NULL || ia5 == NULL ||
	    ASN1_STRING_set(ia5, name, (int)strlen(name)) != 1)
		goto out;
	GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
	ia5 = NULL;
	if (sk_GENERAL_NAME_push(gens, gen) <= 0)
		goto out;
	gen = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0) == 1;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return ok;
}

X509 *
bench_alpn_cert(const char *name, const char *keyauth, EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new();
	X509_EXTENSION *ext = bench_alpn_ext(keyauth);
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	bool ok = false;

	if (x == NULL || subj == NULL || ext == NULL ||
	    RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok = bn != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	        (const unsigned char *)name, -1, -1, 0) == 1 &&
	    X509_set_subject_name(x, subj) == 1 &&
	    X509_set_issuer_name(x, subj) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	    X509_set_pubkey(x, key) == 1 && bench_alpn_add_san(x, name) &&
	    X509_add_ext(x, ext, -1) == 1 &&
	    X509_sign(x, key, EVP_sha256()) > 0;
out:
	BN_free(bn);
	X509_EXTENSION_free(ext);
	X509_NAME_free(subj);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A ClientHello without ALPN is not a TLS-ALPN-01 validation. */
static int
bench_alpn_on_hello(SSL *ssl, int *alert, void *arg)
{
	const unsigned char *ext;
	size_t len;

	(void)arg;
	if (SSL_client_hello_get0_ext(ssl,
	        TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
	        &len) == 1)
		return SSL_CLIENT_HELLO_SUCCESS;
	*alert = SSL_AD_NO_APPLICATION_PROTOCOL;
	return SSL_CLIENT_HELLO_ERROR;
}

/* The certificate for the name the client asks for, if it is in the
 * responder's table. */
static int
bench_alpn_on_name(SSL *ssl, int *alert, void *arg)
{
	struct bench_alpn *a = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char *ka = name != NULL ? bench_responder_find(a->r, name) : NULL;
	X509 *x;
	bool ok;

	if (ka == NULL) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	x = bench_alpn_cert(name, ka, a->key);
	free(ka);
	ok = x != NULL && SSL_use_certificate(ssl, x) == 1 &&
	    SSL_use_PrivateKey(ssl, a->key) == 1;
	X509_free(x);
	if (!ok) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

static int
bench_alpn_on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen,
	        bench_alpn_proto, sizeof(bench_alpn_proto) - 1, in,
	        inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

struct bench_alpn *
bench_alpn_new(struct bench_responder *r)
{
	struct bench_alpn *a = cb_calloc(1, sizeof(*a));

	a->r = r;
	a->key = EVP_EC_gen("P-256");
	a->ctx = SSL_CTX_new(TLS_server_method());
	if (a->key == NULL || a->ctx == NULL ||
	    SSL_CTX_set_min_proto_version(a->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_num_tickets(a->ctx, 0) != 1) {
		cb_log(LOG_ERR, "bench: TLS-ALPN-01 responder: no TLS context");
		bench_alpn_free(a);
		return NULL;
	}
	SSL_CTX_set_client_hello_cb(a->ctx, bench_alpn_on_hello, NULL);
	SSL_CTX_set_tlsext_servername_callback(a->ctx, bench_alpn_on_name);
	SSL_CTX_set_tlsext_servername_arg(a->ctx, a);
	SSL_CTX_set_alpn_select_cb(a->ctx, bench_alpn_on_alpn, NULL);
	return a;
}

SSL *
bench_alpn_ssl(struct bench_alpn *a, int fd)
{
	SSL *ssl = SSL_new(a->ctx);

	if (ssl != NULL && fd >= 0 && SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (ssl != NULL)
		SSL_set_accept_state(ssl);
	return ssl;
}

void
bench_alpn_free(struct bench_alpn *a)
{
	if (a == NULL)
		return;
	SSL_CTX_free(a->ctx);
	EVP_PKEY_free(a->key);
	free(a);
}
