/* SPDX-License-Identifier: ISC */
/* Fuzz target: ca_cert_parse(), which decodes the certificate a client
 * sends to revokeCert. Each input is tried as sent: it is never signed by
 * the CA generated for this run, so it must be refused, as unauthorized
 * when it is exactly one certificate and as malformed otherwise. When it
 * decodes, it is tried again with its issuer set to our intermediate and
 * re-signed with the intermediate's key, which reaches the code that runs
 * on our own certificates (key, serial, dNSName SANs): that must be
 * accepted unless its key or serial is unusable. Seeds: ok-* are
 * well-formed certificates of another CA (ok-forged-issuer names our
 * intermediate as its issuer), bad-* are not. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "cb_log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set once before the first input; never freed (libFuzzer exits). */
static struct ca_ctx *fuzz_ca;

static int
fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* A generated ECDSA hierarchy; its files are removed at once, since the
 * context holds everything ca_cert_parse() needs. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/cobble-fuzz-cert-XXXXXX";
	struct cb_config cfg;

	(void)argc;
	(void)argv;
	cb_log_set_level(LOG_CRIT);
	if (mkdtemp(dir) == NULL)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	cfg.state_dir = dir;
	cfg.base_url = (char *)"https://localhost:14000";
	cfg.tls_cert_file = (char *)"";
	cfg.tls_key_file = (char *)"";
	cfg.ca_key_type = (char *)"ecdsa";
	cfg.ca_name = (char *)"Cobble Fuzz";
	cfg.ca_root_cert_file = (char *)"";
	cfg.ca_intermediate_cert_file = (char *)"";
	cfg.ca_intermediate_key_file = (char *)"";
	cfg.cert_validity_days = 90;
	fuzz_ca = ca_open(&cfg);
	(void)nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (fuzz_ca == NULL)
		abort();
	return 0;
}

/* The serial as ca_cert_parse() must report it, from the INTEGER's bytes:
 * lowercase hex without leading zero bytes, "00" for zero. False when it
 * is negative or longer than 20 bytes (RFC 5280 4.1.2.2). */
static bool
fuzz_expected_serial(X509 *x, char out[CA_SERIAL_LEN])
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);

	if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER)
		return false;
	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	if (n > 20)
		return false;
	strcpy(out, "00");
	for (int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	return true;
}

static int
fuzz_count_dns(X509 *x)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = 0;

	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		n += sk_GENERAL_NAME_value(gens, i)->type == GEN_DNS;
	GENERAL_NAMES_free(gens);
	return n;
}

/* X, issued by us now, must parse to what it holds. */
static void
fuzz_check_ours(X509 *x, const unsigned char *der, size_t len)
{
	struct ca_cert_info info;
	struct cb_problem prob;
	char want[CA_SERIAL_LEN];
	bool serial_ok = fuzz_expected_serial(x, want);
	bool key_ok = X509_get0_pubkey(x) != NULL;

	cb_problem_init(&prob);
	if (ca_cert_parse(fuzz_ca, der, len, &info, &prob) != 0) {
		/* Only a certificate we would never issue is refused. */
		if (prob.type != CB_PROB_MALFORMED ||
		    (len <= CB_MAX_CERT_BYTES && serial_ok && key_ok))
			abort();
		return;
	}
	if (len > CB_MAX_CERT_BYTES || !serial_ok || !key_ok ||
	    strcmp(info.serial, want) != 0 || info.pubkey == NULL ||
	    EVP_PKEY_eq(info.pubkey, X509_get0_pubkey(x)) != 1 ||
	    info.ndns != fuzz_count_dns(x))
		abort();
	for (int i = 0; i < info.ndns; i++)
		if (info.dns_names[i] == NULL)
			abort();
	ca_cert_info_clear(&info);
}

/* Re-issues X under our intermediate and checks the result. */
static void
fuzz_resign(X509 *x)
{
	unsigned char *der = NULL;
	int n;

	if (X509_set_issuer_name(x, X509_get_subject_name(fuzz_ca->inter)) !=
	        1 ||
	    X509_sign(x, fuzz_ca->inter_key, fuzz_ca->md) <= 0)
		goto out;
	n = i2d_X509(x, &der);
	if (n <= 0)
		goto out;
	fuzz_check_ours(x, der, (size_t)n);
out:
	ERR_clear_error();
	OPENSSL_free(der);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	struct ca_cert_info info;
	struct cb_problem prob;
	enum cb_prob_type want;
	X509 *x = NULL;

	if (size > 2 * CB_MAX_CERT_BYTES)
		return 0;
	x = d2i_X509(NULL, &p, (long)size);
	/* Exactly one certificate of bounded size is only not ours; anything
	 * else (trailing bytes included) is malformed. */
	want = x != NULL && p == data + size && size <= CB_MAX_CERT_BYTES
	    ? CB_PROB_UNAUTHORIZED
	    : CB_PROB_MALFORMED;
	cb_problem_init(&prob);
	memset(&info, 0xa5, sizeof(info));
	if (ca_cert_parse(fuzz_ca, data, size, &info, &prob) == 0 ||
	    prob.type != want || info.pubkey != NULL ||
	    info.dns_names != NULL || info.ndns != 0)
		abort();
	if (x != NULL)
		fuzz_resign(x);
	ERR_clear_error();
	X509_free(x);
	return 0;
}
