/* SPDX-License-Identifier: ISC */
/* Fuzz target: an ACME request body through wfe_jws_parse(), then every
 * other JWS function on what it accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "wfe_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_jws_use(const struct wfe_jws *jws)
{
	struct cb_problem prob;
	json_t *payload = NULL;

	cb_problem_init(&prob);
	if (jws->has_jwk)
		(void)!wfe_jws_verify(jws, &jws->jwk, &prob);
	cb_problem_init(&prob);
	if (!wfe_jws_is_post_as_get(jws) &&
	    wfe_jws_payload_object(jws, &payload, &prob) == 0) {
		struct wfe_jws inner;

		/* The inner JWS of a key change is parsed from the payload. */
		cb_problem_init(&prob);
		if (wfe_jws_parse_json(payload, false, &inner, &prob) == 0)
			wfe_jws_clear(&inner);
	}
	json_decref(payload);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cb_problem prob;
	struct wfe_jws jws;

	for (int require_nonce = 0; require_nonce <= 1; require_nonce++) {
		cb_problem_init(&prob);
		if (wfe_jws_parse((const char *)data, size, require_nonce, &jws,
		        &prob) != 0) {
			/* A refusal always says why, and leaves OUT empty. */
			if (!cb_problem_is_set(&prob) || jws.payload != NULL ||
			    jws.kid != NULL || jws.jwk.pkey != NULL)
				abort();
			continue;
		}
		fuzz_jws_use(&jws);
		wfe_jws_clear(&jws);
	}
	return 0;
}
