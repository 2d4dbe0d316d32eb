/* SPDX-License-Identifier: ISC */
/* Fuzz target: every ACME request body parser (newAccount, account
 * update, newOrder, finalize, revokeCert, keyChange) on one JSON input. */
#include <stddef.h>
#include <stdint.h>

#include "wfe_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wfe_new_account na;
	struct wfe_account_update au;
	static struct wfe_new_order no;
	struct wfe_finalize fin;
	struct wfe_revoke rv;
	struct wfe_key_change kc;
	struct cb_problem p;
	json_t *j;

	if (size > CB_MAX_BODY_BYTES)
		return 0;
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	cb_problem_init(&p);
	if (wfe_new_account_parse(j, &na, &p) == 0)
		wfe_new_account_clear(&na);
	cb_problem_init(&p);
	if (wfe_account_update_parse(j, &au, &p) == 0)
		wfe_account_update_clear(&au);
	cb_problem_init(&p);
	(void)!wfe_new_order_parse(j, CB_MAX_IDENTIFIERS, &no, &p);
	cb_problem_init(&p);
	if (wfe_finalize_parse(j, &fin, &p) == 0)
		wfe_finalize_clear(&fin);
	cb_problem_init(&p);
	(void)!wfe_revoke_parse(j, &rv, &p);
	wfe_revoke_clear(&rv);
	cb_problem_init(&p);
	if (wfe_key_change_parse(j, &kc, &p) == 0)
		wfe_key_change_clear(&kc);
	json_decref(j);
	return 0;
}
