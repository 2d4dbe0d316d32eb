/* SPDX-License-Identifier: ISC */
/* Fuzz target for the configuration loader (common/cb_config.c). */
#include <stddef.h>
#include <stdint.h>

#include "cb_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cb_config cfg;
	char err[256];

	/* Failure is the common, expected outcome; only crashes, leaks and
	 * undefined behaviour matter here. */
	(void)!cb_config_load_buffer(
	    "fuzz.json", (const char *)data, size, &cfg, err, sizeof(err));
	cb_config_clear(&cfg);
	return 0;
}
