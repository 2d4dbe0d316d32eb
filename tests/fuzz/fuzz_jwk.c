/* SPDX-License-Identifier: ISC */
/* Fuzz target: JWK text through cb_jwk_parse_text(); an accepted key must
 * round-trip through its canonical JSON and cb_jwk_from_pkey() with the
 * same thumbprint. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cb_jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless the key parsed from JWK's canonical JSON, and the one built
 * from its EVP_PKEY, have JWK's thumbprint. */
static void
fuzz_jwk_roundtrip(const struct cb_jwk *jwk)
{
	struct cb_problem prob;
	struct cb_jwk again, built;

	cb_problem_init(&prob);
	if (cb_jwk_parse_text(jwk->json, strlen(jwk->json), &again, &prob) !=
	        0 ||
	    strcmp(again.thumbprint, jwk->thumbprint) != 0 ||
	    strcmp(again.json, jwk->json) != 0)
		abort();
	cb_jwk_clear(&again);
	if (cb_jwk_from_pkey(jwk->pkey, &built) != 0 ||
	    strcmp(built.thumbprint, jwk->thumbprint) != 0)
		abort();
	cb_jwk_clear(&built);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char sig[132];
	struct cb_problem prob;
	struct cb_jwk jwk;
	char *ka;

	cb_problem_init(&prob);
	if (cb_jwk_parse_text((const char *)data, size, &jwk, &prob) != 0) {
		if (!cb_problem_is_set(&prob) || jwk.pkey != NULL ||
		    jwk.json != NULL)
			abort();
		return 0;
	}
	fuzz_jwk_roundtrip(&jwk);
	/* Every alg and signature length, including the raw ECDSA sizes 64,
	 * 96 and 132; an alg that does not fit the key never verifies. */
	for (int a = CB_JWK_ALG_NONE; a <= CB_JWK_ALG_EDDSA; a++) {
		enum cb_jwk_alg alg = (enum cb_jwk_alg)a;

		for (size_t len = 0; len <= sizeof(sig); len += 4)
			if (cb_jwk_verify(&jwk, alg, data, size, sig, len) ==
			        0 &&
			    !cb_jwk_alg_matches(&jwk, alg))
				abort();
	}
	ka = cb_key_authorization("token", jwk.thumbprint);
	free(ka);
	cb_jwk_clear(&jwk);
	return 0;
}
