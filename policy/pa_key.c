/* SPDX-License-Identifier: ISC */
/* Key policy for account and certificate keys: which algorithms, sizes,
 * curves and exponents Cobble accepts. */
#include "pa.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include "cb_log.h"

#define PA_RSA_E 65537

static const char *
pa_key_kind(bool account_key)
{
	return account_key ? "account key" : "certificate key";
}

static int
pa_rsa_check(const EVP_PKEY *pkey, bool account_key,
    enum cb_prob_type fail_type, struct cb_problem *prob)
{
	BIGNUM *e = NULL;
	int bits, rc = -1;

	bits = EVP_PKEY_get_bits(pkey);
	if (bits != 2048 && bits != 3072 && bits != 4096) {
		cb_problem_set(prob, fail_type,
		    "RSA %s of %d bits is not allowed (use 2048, 3072 or 4096 "
		    "bits)",
		    pa_key_kind(account_key), bits);
		goto out;
	}
	ERR_clear_error();
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
		cb_log(LOG_INFO, "policy: RSA key without a public exponent");
		cb_problem_set(prob, fail_type, "RSA %s has no public exponent",
		    pa_key_kind(account_key));
		goto out;
	}
	if (!BN_is_word(e, PA_RSA_E)) {
		cb_problem_set(prob, fail_type,
		    "RSA %s has a public exponent other than 65537",
		    pa_key_kind(account_key));
		goto out;
	}
	rc = 0;
out:
	BN_free(e);
	ERR_clear_error();
	return rc;
}

static int
pa_ec_check(const EVP_PKEY *pkey, bool account_key, enum cb_prob_type fail_type,
    struct cb_problem *prob)
{
	char group[64];
	size_t len = 0;

	ERR_clear_error();
	if (!EVP_PKEY_get_utf8_string_param(
	        pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len)) {
		ERR_clear_error();
		return cb_problem_set(prob, fail_type,
		    "ECDSA %s uses an unnamed or unknown curve",
		    pa_key_kind(account_key));
	}
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0)
		return 0;
	if (account_key && strcmp(group, "secp521r1") == 0)
		return 0;
	return cb_problem_set(prob, fail_type,
	    "ECDSA %s on curve %s is not allowed (use P-256 or P-384%s)",
	    pa_key_kind(account_key), group, account_key ? " or P-521" : "");
}

int
pa_key_check(const EVP_PKEY *pkey, bool account_key,
    enum cb_prob_type fail_type, struct cb_problem *prob)
{
	if (pkey == NULL)
		return cb_problem_set(prob, fail_type, "No public key");
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		return pa_rsa_check(pkey, account_key, fail_type, prob);
	case EVP_PKEY_EC:
		return pa_ec_check(pkey, account_key, fail_type, prob);
	case EVP_PKEY_ED25519:
		if (account_key)
			return 0;
		return cb_problem_set(prob, fail_type,
		    "Ed25519 certificate keys are not allowed (use RSA or "
		    "ECDSA P-256/P-384)");
	default:
		return cb_problem_set(prob, fail_type,
		    "%s type is not allowed (use RSA or ECDSA%s)",
		    account_key ? "Account key" : "Certificate key",
		    account_key ? ", or Ed25519" : "");
	}
}
