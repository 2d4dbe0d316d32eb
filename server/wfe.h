/* SPDX-License-Identifier: ISC */
/* The ACME server: runs the API (WFE), the RA and the validation workers
 * in one process until SIGINT or SIGTERM. */
#ifndef WFE_H
#define WFE_H

#include "cb_config.h"

/* Starts storage (embedded PostgreSQL unless storage.dsn is set), the CA,
 * the validation workers and the HTTPS listener described by CFG, prints
 * where the root certificate is, and serves until SIGINT/SIGTERM. Returns
 * the process exit status (0 after a clean stop). */
int wfe_serve(const struct cb_config *cfg);

#endif
