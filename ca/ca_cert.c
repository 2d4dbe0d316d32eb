/* SPDX-License-Identifier: ISC */
/* Certificates after issuance: the PEM chain clients download, and the
 * checks on a certificate a client sends back to revoke it. */
#include "ca_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "cb_log.h"

/* Decodes exactly LEN bytes of DER; NULL if they are not one certificate. */
static X509 *
ca_cert_decode(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = NULL;

	if (len == 0 || len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* True when DER is exactly one certificate-shaped TLV: a SEQUENCE of a
 * SEQUENCE (tbsCertificate), a SEQUENCE (signatureAlgorithm) and a BIT
 * STRING (RFC 5280 4.1), all of definite length. The DER comes from our
 * own database, so this catches corruption without decoding it all. */
static bool
ca_der_is_cert(const unsigned char *der, size_t len)
{
	static const int want[] = {
	    V_ASN1_SEQUENCE, V_ASN1_SEQUENCE, V_ASN1_BIT_STRING};
	const unsigned char *p = der, *end;
	long clen;
	int tag, cls, ret;

	if (len == 0 || len > CA_MAX_FILE_BYTES)
		return false;
	ret = ASN1_get_object(&p, &clen, &tag, &cls, (long)len);
	if (ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL || p + clen != der + len)
		return false;
	end = p + clen;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ret = ASN1_get_object(&p, &clen, &tag, &cls, (long)(end - p));
		if ((ret & 0x81) != 0 || tag != want[i] ||
		    cls != V_ASN1_UNIVERSAL ||
		    (ret == V_ASN1_CONSTRUCTED) != (i < 2))
			return false;
		p += clen;
	}
	return p == end;
}

/* RFC 7468 2: PEM wraps the base64 every 64 characters, i.e. every 48
 * bytes of DER, exactly as PEM_write_bio_X509() does. */
#define CA_PEM_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define CA_PEM_END "-----END CERTIFICATE-----\n"
#define CA_PEM_LINE_BYTES 48

char *
ca_chain_pem(const struct ca_ctx *ctx, const unsigned char *der, size_t len)
{
	size_t lines, cap, n;
	char *chain = NULL, *p;

	/* Encoding the stored DER directly avoids a full certificate decode
	 * and re-encode per download. */
	if (!ca_der_is_cert(der, len)) {
		ERR_clear_error();
		cb_log(LOG_ERR, "ca: a stored certificate does not decode");
		return NULL;
	}
	lines = (len + CA_PEM_LINE_BYTES - 1) / CA_PEM_LINE_BYTES;
	cap = sizeof(CA_PEM_BEGIN) + lines * 65 + sizeof(CA_PEM_END) +
	    strlen(ctx->inter_pem);
	chain = cb_malloc(cap);
	p = stpcpy(chain, CA_PEM_BEGIN);
	for (size_t off = 0; off < len; off += n) {
		n = len - off < CA_PEM_LINE_BYTES ? len - off
		                                  : CA_PEM_LINE_BYTES;
		/* At most 64 characters and a NUL, which the newline
		 * overwrites. */
		p += EVP_EncodeBlock((unsigned char *)p, der + off, (int)n);
		*p++ = '\n';
	}
	p = stpcpy(p, CA_PEM_END);
	strcpy(p, ctx->inter_pem);
	return chain;
}

/* The dNSName SANs of X, one of our own (signature checked) certificates,
 * into OUT: revocation by an account authorized for every name needs them
 * (RFC 8555 7.6). */
static void
ca_cert_dns_names(X509 *x, struct ca_cert_info *out)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0;

	out->dns_names = cb_calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;

		if (gn->type != GEN_DNS)
			continue;
		s = gn->d.dNSName;
		out->dns_names[out->ndns++] =
		    cb_strndup((const char *)ASN1_STRING_get0_data(s),
		        (size_t)ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(gens);
}

int
ca_cert_parse(const struct ca_ctx *ctx, const unsigned char *der, size_t len,
    struct ca_cert_info *out, struct cb_problem *prob)
{
	X509 *x = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > CB_MAX_CERT_BYTES) {
		cb_problem_set(
		    prob, CB_PROB_MALFORMED, "certificate too large");
		goto out;
	}
	ERR_clear_error();
	x = ca_cert_decode(der, len);
	if (x == NULL) {
		cb_problem_set(
		    prob, CB_PROB_MALFORMED, "certificate is not valid DER");
		goto out;
	}
	/* The signature decides; the issuer name must agree as well. */
	if (X509_NAME_cmp(X509_get_issuer_name(x),
	        X509_get_subject_name(ctx->inter)) != 0 ||
	    X509_verify(x, ctx->inter_pub) != 1) {
		cb_problem_set(prob, CB_PROB_UNAUTHORIZED,
		    "certificate was not issued by this CA");
		goto out;
	}
	out->pubkey = X509_get_pubkey(x);
	if (out->pubkey == NULL ||
	    ca_serial_format(X509_get0_serialNumber(x), out->serial) != 0) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "certificate has an unusable key or serial number");
		goto out;
	}
	ca_cert_dns_names(x, out);
	rc = 0;
out:
	ERR_clear_error();
	if (rc != 0)
		ca_cert_info_clear(out);
	X509_free(x);
	return rc;
}

void
ca_cert_info_clear(struct ca_cert_info *info)
{
	if (info == NULL)
		return;
	EVP_PKEY_free(info->pubkey);
	for (int i = 0; i < info->ndns; i++)
		free(info->dns_names[i]);
	free(info->dns_names);
	memset(info, 0, sizeof(*info));
}
