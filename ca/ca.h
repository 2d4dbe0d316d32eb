/* SPDX-License-Identifier: ISC */
/* The CA: the issuer hierarchy (generated on first start or loaded), CSR
 * decoding, certificate profiles and signing. The only module that touches
 * private keys; others get DER, PEM and public keys. */
#ifndef CA_H
#define CA_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "cb_config.h"
#include "cb_limits.h"
#include "cb_mem.h"
#include "cb_problem.h"

#define CA_SERIAL_LEN 41 /* hex of at most 20 bytes, plus NUL */

struct ca_ctx;

/* Opens the CA described by CFG: loads ca.root_cert, ca.intermediate_cert
 * and ca.intermediate_key when set, otherwise loads or (first start)
 * generates a root and an intermediate under CFG->state_dir/ca/ (ECDSA
 * P-256 by default, RSA 2048/3072 with ca.key_type "rsa"; keys mode 0600).
 * Returns NULL on failure (logged). The context is thread-safe. */
struct ca_ctx *ca_open(const struct cb_config *cfg);
/* Frees CTX and wipes its keys; NULL is fine. */
void ca_free(struct ca_ctx *ctx);
/* PEM of the root and of the intermediate; lent for CTX's lifetime. */
const char *ca_root_pem(const struct ca_ctx *ctx);
const char *ca_intermediate_pem(const struct ca_ctx *ctx);
/* Path of the root certificate's PEM file, to tell the operator. */
const char *ca_root_path(const struct ca_ctx *ctx);

/* A decoded, signature-checked CSR (RFC 2986, RFC 8555 7.4). */
struct ca_csr {
	EVP_PKEY *pubkey; /* owned */
	char **dns_names; /* owned, lowercased, as in the SAN extension */
	int ndns;
	char **ip_names; /* owned, textual IP addresses from the SAN */
	int nip;
	char *cn;            /* owned, lowercased subject CN, or NULL */
	unsigned char *spki; /* owned: DER SubjectPublicKeyInfo of pubkey */
	size_t spki_len;
};

/* Decodes DER (at most CB_MAX_CSR_BYTES), checks its self-signature and
 * extracts the names and key. Sets badCSR on any failure. */
int ca_csr_parse(const unsigned char *der, size_t len, struct ca_csr *out,
    struct cb_problem *prob) CB_MUSTCHECK;
/* Frees what CSR owns; safe on a zeroed struct. */
void ca_csr_clear(struct ca_csr *csr);

struct ca_issue_req {
	const char *const *dns_names; /* the SANs, in order */
	int ndns;
	const char *cn;   /* subject CN, or NULL for none */
	EVP_PKEY *pubkey; /* borrowed: the subject key */
	/* Optional, borrowed: PUBKEY's DER SubjectPublicKeyInfo as the CSR
	 * carried it (ca_csr.spki), put into the certificate as is instead
	 * of re-encoding PUBKEY. NULL: PUBKEY is encoded. */
	const unsigned char *spki;
	size_t spki_len;
	time_t not_before; /* 0: now (backdated one minute) */
	time_t not_after;  /* 0: not_before + ca.cert_validity_days */
};

struct ca_cert {
	char serial[CA_SERIAL_LEN]; /* lowercase hex */
	unsigned char *der;         /* owned */
	size_t der_len;
	time_t not_before, not_after;
};

/* Signs a leaf: random positive serial with 127 bits of entropy, SANs,
 * EKU serverAuth, KU by key type, basicConstraints CA:FALSE, AKI/SKI, AIA
 * caIssuers (CFG base_url + "/intermediate"). Thread-safe. */
int ca_issue(struct ca_ctx *ctx, const struct ca_issue_req *req,
    struct ca_cert *out, struct cb_problem *prob) CB_MUSTCHECK;
/* Frees what CERT owns; safe on a zeroed struct. */
void ca_cert_clear(struct ca_cert *cert);
/* The download form: the leaf DER as PEM followed by the intermediate.
 * DER is one of our stored certificates: only its outer structure is
 * checked. Caller owns the string; NULL if DER is not shaped like a
 * certificate. */
char *ca_chain_pem(
    const struct ca_ctx *ctx, const unsigned char *der, size_t len);

/* What revocation needs from a certificate a client sent. */
struct ca_cert_info {
	char serial[CA_SERIAL_LEN];
	EVP_PKEY *pubkey; /* owned */
	char **dns_names; /* owned: the dNSName SANs, as in the certificate */
	int ndns;
};

/* Decodes DER (at most CB_MAX_CERT_BYTES) and checks our intermediate
 * signed it. Sets malformed (undecodable) or unauthorized (not ours). */
int ca_cert_parse(const struct ca_ctx *ctx, const unsigned char *der,
    size_t len, struct ca_cert_info *out, struct cb_problem *prob) CB_MUSTCHECK;
void ca_cert_info_clear(struct ca_cert_info *info);

/* The API's TLS credentials: ca.tls files when configured, otherwise a
 * certificate for NAMES plus localhost, 127.0.0.1 and ::1 issued by the
 * intermediate, stored under state_dir/tls/ and reissued when missing,
 * expiring within 30 days, or not covering NAMES. CERT_PEM holds the leaf
 * then the intermediate. Caller owns both strings (wipe the key). */
int ca_tls_credentials(struct ca_ctx *ctx, const char *const *names, int nnames,
    char **cert_pem, char **key_pem) CB_MUSTCHECK;

#endif
