/* SPDX-License-Identifier: ISC */
/* Status names: how sa_status values are written in the database and in
 * ACME resources (RFC 8555 7.1.6). */
#include "sa.h"

#include <string.h>

#include "cb_log.h"
#include "sa_int.h"

static const char *const sa_status_names[] = {
    [SA_STATUS_PENDING] = "pending",
    [SA_STATUS_READY] = "ready",
    [SA_STATUS_PROCESSING] = "processing",
    [SA_STATUS_VALID] = "valid",
    [SA_STATUS_INVALID] = "invalid",
    [SA_STATUS_DEACTIVATED] = "deactivated",
    [SA_STATUS_EXPIRED] = "expired",
    [SA_STATUS_REVOKED] = "revoked",
};

#define SA_NSTATUS (sizeof(sa_status_names) / sizeof(sa_status_names[0]))

const char *
sa_status_name(enum sa_status st)
{
	if ((unsigned)st >= SA_NSTATUS)
		return "unknown";
	return sa_status_names[st];
}

int
sa_col_status(const PGresult *r, int row, int col, enum sa_status *out)
{
	const char *s = PQgetvalue(r, row, col);
	char esc[64];

	for (size_t i = 0; i < SA_NSTATUS; i++) {
		if (strcmp(s, sa_status_names[i]) == 0) {
			*out = (enum sa_status)i;
			return SA_OK;
		}
	}
	cb_log(LOG_ERR, "sa: unknown status \"%s\" in %s",
	    cb_log_escape(s, esc, sizeof(esc)), PQfname(r, col));
	return SA_ERR;
}
