/* SPDX-License-Identifier: ISC */
/* libFuzzer target for ca_csr_parse(): CSRs arrive from clients at
 * finalize, so any bytes must give a parsed CSR or a badCSR problem. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ca.h"
#include "cb_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_csr csr;
	struct cb_problem prob;

	cb_log_set_level(LOG_CRIT);
	cb_problem_init(&prob);
	if (ca_csr_parse(data, size, &csr, &prob) == 0) {
		/* A parsed CSR has a key, its encoding (within the CSR) and
		 * at least one name. */
		if (csr.pubkey == NULL || csr.spki == NULL ||
		    csr.spki_len == 0 || csr.spki_len > size ||
		    (csr.ndns == 0 && csr.nip == 0 && csr.cn == NULL))
			abort();
	} else if (prob.type != CB_PROB_BAD_CSR) {
		abort();
	}
	ca_csr_clear(&csr);
	return 0;
}
