/* SPDX-License-Identifier: ISC */
/* PKCS#10 certificate requests (RFC 2986) for finalize, written directly
 * in DER. Their shape is fixed (a CN, a subjectAltName of dNSNames and a
 * public key encoded once per key), and going through X509_REQ costs more
 * than the signature: OpenSSL 3 re-encodes and re-decodes the public key
 * through its provider machinery on every X509_REQ_set_pubkey(). */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#include "cb_b64url.h"

/* X.690 identifier octets used here. */
#define BENCH_DER_SEQUENCE 0x30
#define BENCH_DER_SET 0x31
#define BENCH_DER_OCTETS 0x04
#define BENCH_DER_BITS 0x03
#define BENCH_DER_UTF8 0x0c
#define BENCH_DER_CTX0 0xa0    /* [0] constructed: attributes */
#define BENCH_DER_DNSNAME 0x82 /* [2] IMPLICIT IA5String: dNSName */

/* Longest CN (RFC 5280 ub-common-name); longer first names get none. */
#define BENCH_CSR_MAX_CN 64

/* Pre-encoded elements: version v1(0), the OIDs of commonName,
 * extensionRequest (PKCS#9) and subjectAltName, and the signature
 * algorithms (RFC 5758 3.2: ecdsa-with-SHA256 without parameters; RFC 4055
 * 5: sha256WithRSAEncryption with NULL parameters). */
static const unsigned char bench_der_v1[] = {0x02, 0x01, 0x00};
static const unsigned char bench_oid_cn[] = {0x06, 0x03, 0x55, 0x04, 0x03};
static const unsigned char bench_oid_extreq[] = {
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
static const unsigned char bench_oid_san[] = {0x06, 0x03, 0x55, 0x1d, 0x11};
static const unsigned char bench_alg_ecdsa_sha256[] = {
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const unsigned char bench_alg_rsa_sha256[] = {0x30, 0x0d, 0x06, 0x09,
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};

/* Makes the bytes from START to the end of D the contents of one element
 * TAG (X.690 8.1: identifier, definite length, contents). Elements are
 * written inside out: wrapping moves only bytes after START. */
static void
bench_der_wrap(struct bench_buf *d, size_t start, unsigned char tag)
{
	unsigned char hdr[6];
	size_t n = d->len - start, h = 0, k;

	hdr[h++] = tag;
	if (n < 0x80) {
		hdr[h++] = (unsigned char)n;
	} else {
		k = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
		hdr[h++] = (unsigned char)(0x80 | k);
		while (k-- > 0)
			hdr[h++] = (unsigned char)(n >> (8 * k));
	}
	bench_buf_put(d, hdr, h); /* room for the header */
	memmove(d->p + start + h, d->p + start, n);
	memcpy(d->p + start, hdr, h);
}

static void
bench_der_tlv(struct bench_buf *d, unsigned char tag, const void *b, size_t n)
{
	size_t start = d->len;

	bench_buf_put(d, b, n);
	bench_der_wrap(d, start, tag);
}

/* The subject: CN=CN as a UTF8String (what X509_NAME_add_entry_by_txt()
 * makes of ASCII under OpenSSL's default string mask), or an empty Name. */
static void
bench_csr_subject(struct bench_buf *d, const char *cn)
{
	size_t name = d->len, rdn, atv, len = strlen(cn);

	if (len <= BENCH_CSR_MAX_CN) {
		rdn = d->len;
		atv = d->len;
		bench_buf_put(d, bench_oid_cn, sizeof(bench_oid_cn));
		bench_der_tlv(d, BENCH_DER_UTF8, cn, len);
		bench_der_wrap(d, atv, BENCH_DER_SEQUENCE);
		bench_der_wrap(d, rdn, BENCH_DER_SET);
	}
	bench_der_wrap(d, name, BENCH_DER_SEQUENCE);
}

/* The attributes [0]: one extensionRequest (RFC 2985 5.4.2) holding a
 * non-critical subjectAltName (RFC 5280 4.2.1.6) with NAMES as dNSNames. */
static void
bench_csr_attributes(struct bench_buf *d, char *const *names, size_t n)
{
	size_t attrs = d->len, attr = d->len, set, exts, ext, oct, gens;

	bench_buf_put(d, bench_oid_extreq, sizeof(bench_oid_extreq));
	set = exts = ext = d->len;
	bench_buf_put(d, bench_oid_san, sizeof(bench_oid_san));
	oct = gens = d->len;
	for (size_t i = 0; i < n; i++)
		bench_der_tlv(d, BENCH_DER_DNSNAME, names[i], strlen(names[i]));
	bench_der_wrap(d, gens, BENCH_DER_SEQUENCE);
	bench_der_wrap(d, oct, BENCH_DER_OCTETS);
	bench_der_wrap(d, ext, BENCH_DER_SEQUENCE);
	bench_der_wrap(d, exts, BENCH_DER_SEQUENCE);
	bench_der_wrap(d, set, BENCH_DER_SET);
	bench_der_wrap(d, attr, BENCH_DER_SEQUENCE);
	bench_der_wrap(d, attrs, BENCH_DER_CTX0);
}

char *
bench_csr_encode(const struct bench_cert_key *key, char *const *names, size_t n)
{
	struct bench_buf d = {0};
	unsigned char sig[BENCH_MAX_SIG];
	size_t siglen = 0, bits;
	char *b64 = NULL;

	if (n == 0)
		goto out;
	/* CertificationRequestInfo */
	bench_buf_put(&d, bench_der_v1, sizeof(bench_der_v1));
	bench_csr_subject(&d, names[0]);
	bench_buf_put(&d, key->spki, key->spki_len);
	bench_csr_attributes(&d, names, n);
	bench_der_wrap(&d, 0, BENCH_DER_SEQUENCE);
	if (bench_signer_sign(key->signer, (const unsigned char *)d.p, d.len,
	        sig, &siglen) != 0)
		goto out;
	if (key->rsa)
		bench_buf_put(
		    &d, bench_alg_rsa_sha256, sizeof(bench_alg_rsa_sha256));
	else
		bench_buf_put(
		    &d, bench_alg_ecdsa_sha256, sizeof(bench_alg_ecdsa_sha256));
	bits = d.len;
	bench_buf_put(&d, "", 1); /* no unused bits */
	bench_buf_put(&d, sig, siglen);
	bench_der_wrap(&d, bits, BENCH_DER_BITS);
	bench_der_wrap(&d, 0, BENCH_DER_SEQUENCE);
	b64 = cb_b64url_encode((const unsigned char *)d.p, d.len);
out:
	bench_buf_clear(&d);
	return b64;
}
