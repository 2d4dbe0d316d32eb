/* SPDX-License-Identifier: ISC */
/* Declarations shared inside the CA module: the context, and the OpenSSL,
 * extension and file helpers its source files have in common. */
#ifndef CA_INT_H
#define CA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/x509.h>

#include "ca.h"

/* Largest PEM file read from disk (operator-provided or ours). */
#define CA_MAX_FILE_BYTES (1024 * 1024)
/* Serial numbers are this many random bytes (CA/B BR 7.1: >= 64 bits). */
#define CA_SERIAL_BYTES 16
/* Certificates are backdated this much to tolerate clock skew. */
#define CA_BACKDATE_SECS 60
/* Longest subject CN (RFC 5280 ub-common-name). */
#define CA_MAX_CN 64

/* Filled once by ca_open() and never modified afterwards, so every thread
 * may use it without a lock (OpenSSL objects are only read: signing uses a
 * fresh digest context per call). */
struct ca_ctx {
	X509 *root;                     /* the trust anchor */
	X509 *inter;                    /* the issuer of leaves */
	EVP_PKEY *inter_key;            /* the intermediate's private key */
	EVP_PKEY *inter_pub;            /* borrowed from inter */
	const EVP_MD *md;               /* leaf signature digest; NULL: EdDSA */
	ASN1_OCTET_STRING *inter_keyid; /* the leaves' AKI keyIdentifier */
	char *root_pem, *inter_pem;
	char *root_path;
	char *aia_url;   /* caIssuers URL, or NULL for none */
	char *state_dir; /* NULL when files are configured */
	char *tls_cert_file, *tls_key_file; /* NULL: issue our own */
	int validity_days;
	/* The leaf extensions that do not depend on the request, encoded
	 * once: basicConstraints, keyUsage (signing keys; RSA keys), EKU,
	 * AKI, and AIA (NULL without aia_url). Leaves get copies. */
	X509_EXTENSION *leaf_bc, *leaf_ku_sign, *leaf_ku_rsa, *leaf_eku;
	X509_EXTENSION *leaf_aki, *leaf_aia;
};

/* Logs the message, a colon, and the whole OpenSSL error queue on one
 * line at LEVEL; always empties the queue. */
void ca_log_ssl(int level, const char *fmt, ...) CB_PRINTF(2, 3);

/* DIR "/" NAME; caller owns the result. */
char *ca_path_join(const char *dir, const char *name);
/* mkdir -p: creates missing parents with mode 0755 and PATH with MODE.
 * An existing directory is fine. Returns 0 or -1 (logged). */
int ca_mkdir_p(const char *path, mode_t mode) CB_MUSTCHECK;
/* Takes an exclusive flock on DIR/.lock, waiting for it. Returns the
 * descriptor (closing it releases the lock) or -1 (logged). */
int ca_lock_dir(const char *dir) CB_MUSTCHECK;
/* True when PATH exists. */
bool ca_file_exists(const char *path);
/* Reads the whole file (at most CA_MAX_FILE_BYTES), NUL-terminated, length
 * in *LEN if LEN is not NULL. Caller owns it. NULL on failure (logged). */
char *ca_file_read(const char *path, size_t *len);
/* Replaces PATH atomically with BUF (temporary file, fsync, rename) with
 * permissions MODE. Returns 0 or -1 (logged). */
int ca_file_write(
    const char *path, const char *buf, size_t len, mode_t mode) CB_MUSTCHECK;
/* Wipes and frees a NUL-terminated secret; NULL is fine. */
void ca_secret_free(char *s);

/* PEM of X or of the private key K; caller owns it (wipe the key's with
 * ca_secret_free). NULL on failure (logged). */
char *ca_cert_to_pem(X509 *x);
char *ca_key_to_pem(EVP_PKEY *k);
/* The first certificate / the private key in a PEM buffer or file. The
 * caller owns the result; NULL on failure (logged, naming WHAT). Encrypted
 * keys are refused rather than prompting for a passphrase. */
X509 *ca_cert_from_pem(const char *pem, size_t len, const char *what);
EVP_PKEY *ca_key_from_pem(const char *pem, size_t len, const char *what);
X509 *ca_cert_load(const char *path);
EVP_PKEY *ca_key_load(const char *path);
/* A new EC key on CURVE ("P-256") or RSA key of BITS; caller owns it. */
EVP_PKEY *ca_key_new_ec(const char *curve);
EVP_PKEY *ca_key_new_rsa(size_t bits);
/* The digest K signs certificates with: SHA-256 for RSA and P-256, SHA-384
 * for P-384, SHA-512 for P-521, none (NULL) for EdDSA. -1 if unsupported. */
int ca_key_digest(EVP_PKEY *k, const EVP_MD **md) CB_MUSTCHECK;
/* True when NAME is an IPv4 or IPv6 literal; then OUT (16 bytes) holds its
 * network form and *OUTLEN 4 or 16. */
bool ca_name_is_ip(const char *name, unsigned char *out, size_t *outlen);

/* A random positive 16-byte serial (top bit clear, first byte non-zero so
 * the DER content is exactly 16 bytes). Caller owns *OUT. */
int ca_serial_random(ASN1_INTEGER **out) CB_MUSTCHECK;
/* Lowercase hex of a non-negative serial of at most 20 bytes ("00" for
 * zero). Returns 0 or -1. */
int ca_serial_format(
    const ASN1_INTEGER *serial, char out[CA_SERIAL_LEN]) CB_MUSTCHECK;
/* Sets X's validity to NOT_BEFORE..NOT_AFTER. */
int ca_set_validity(X509 *x, time_t not_before, time_t not_after) CB_MUSTCHECK;
/* Adds the extension NID from a fixed OpenSSL config string VALUE (never
 * from input). Returns 0 or -1 (logged). */
int ca_ext_add_conf(X509 *x, int nid, const char *value) CB_MUSTCHECK;
/* Builds CTX's leaf_* extensions from inter_keyid and aia_url. Returns 0
 * or -1 (logged). */
int ca_leaf_exts_init(struct ca_ctx *ctx) CB_MUSTCHECK;
/* Frees them; safe when they were never built. */
void ca_leaf_exts_clear(struct ca_ctx *ctx);
/* Adds the subject key identifier: SHA-1 of X's public key (RFC 5280
 * 4.2.1.2 method 1). */
int ca_ext_add_ski(X509 *x) CB_MUSTCHECK;
/* Adds an authority key identifier holding KEYID. */
int ca_ext_add_aki(X509 *x, const ASN1_OCTET_STRING *keyid) CB_MUSTCHECK;
/* X's key identifier: its SKI extension, or the SHA-1 of its key when it
 * has none. Caller owns the result; NULL on failure (logged). */
ASN1_OCTET_STRING *ca_key_id(X509 *x);

#endif
