# SPDX-License-Identifier: ISC
"""RFC 8555 7.5.1 and 8.2 with validation slowed down: this instance runs
with the test-mode key validator.test_delay_ms, so every validation waits
long enough for a client to see the states in between. Responding to a
challenge answers "processing" at once; while validation runs, the
authorization and the order are pending, and they and the challenge carry
Retry-After (acme.retry_after); once validation is over, no Retry-After.

The instance also publishes no terms of service (acme.terms_of_service
empty), so a newAccount needs no termsOfServiceAgreed."""

import time

import pytest

from e2e_util import (Acme, Http01Server, Key, b64u, http01_of,
    key_authorization, make_csr)

DELAY_MS = 2000
RETRY_AFTER = 2  # not the default (1): the header follows the config
COBBLE_CONFIG = {
	"validator": {"test_delay_ms": DELAY_MS},
	"acme": {"retry_after": RETRY_AFTER, "terms_of_service": ""},
}


@pytest.fixture(scope="module")
def h01(cobble):
	s = Http01Server(cobble.http01_port)
	yield s
	s.close()


@pytest.fixture(scope="module")
def acct(cobble):
	c = Acme(cobble.url, cobble.root, Key.generate("ec256"))
	r = c.new_account()
	assert r.status_code == 201, r.text
	return c


def retry_after(r):
	return r.headers.get("Retry-After")


def fetched(h01, token):
	"""How often the validator has fetched TOKEN."""
	return sum(1 for path, _ in h01.requests if path.endswith("/" + token))


def start_validation(c, h01, name, content=None):
	"""A new order for NAME whose HTTP-01 challenge is published (the key
	authorization, or CONTENT) and responded to. Returns the order URL,
	the authorization URL, the challenge and the response to it."""
	r = c.new_order([name])
	assert r.status_code == 201, r.text
	order_url = r.headers["Location"]
	authz_url = r.json()["authorizations"][0]
	ch = http01_of(c.get(authz_url).json())
	assert ch["status"] == "pending", ch
	h01.tokens[ch["token"]] = content if content is not None else \
	    key_authorization(ch["token"], c.key)
	r = c.post(ch["url"], {})
	return order_url, authz_url, ch, r


def assert_in_progress(c, h01, order_url, authz_url, ch, r):
	"""R, the answer to responding to challenge CH, and what the client
	reads before validation has run."""
	# RFC 8555 7.5.1: the challenge is "processing" at once.
	assert r.status_code == 200, r.text
	assert r.json()["status"] == "processing", r.text
	assert retry_after(r) == str(RETRY_AFTER), r.headers
	# RFC 8555 7.1.6: the authorization stays pending meanwhile; 8.2:
	# pending resources tell the client when to look again.
	r = c.get(authz_url)
	assert r.status_code == 200, r.text
	az = r.json()
	assert az["status"] == "pending", az
	assert http01_of(az)["status"] == "processing", az
	assert retry_after(r) == str(RETRY_AFTER), r.headers
	r = c.get(ch["url"])
	assert r.json()["status"] == "processing", r.text
	assert retry_after(r) == str(RETRY_AFTER), r.headers
	r = c.get(order_url)
	assert r.json()["status"] == "pending", r.text
	assert retry_after(r) == str(RETRY_AFTER), r.headers
	# All of that was seen before the validator even asked.
	assert fetched(h01, ch["token"]) == 0, h01.requests


def test_states_while_validating(cobble, acct, h01):
	t0 = time.monotonic()
	order_url, authz_url, ch, r = start_validation(acct, h01,
	    "slow.cobble.test")
	assert_in_progress(acct, h01, order_url, authz_url, ch, r)
	r = acct.poll(authz_url, want_retry_after=RETRY_AFTER)
	assert time.monotonic() - t0 >= DELAY_MS / 1000
	assert r.json()["status"] == "valid", r.text
	assert retry_after(r) is None, r.headers
	assert fetched(h01, ch["token"]) >= 1
	r = acct.get(ch["url"])
	assert r.json()["status"] == "valid", r.text
	assert retry_after(r) is None, r.headers
	r = acct.get(order_url)
	o = r.json()
	assert o["status"] == "ready", o
	assert retry_after(r) is None, r.headers
	# Finalization signs at once: valid, nothing to wait for.
	r = acct.post(o["finalize"], {"csr": b64u(make_csr(Key.generate(),
	    ["slow.cobble.test"]))})
	assert r.status_code == 200, r.text
	assert r.json()["status"] == "valid", r.text
	assert retry_after(r) is None, r.headers
	r = acct.get(order_url)
	assert r.json()["status"] == "valid", r.text
	assert retry_after(r) is None, r.headers


def test_states_while_failing(cobble, acct, h01):
	order_url, authz_url, ch, r = start_validation(acct, h01,
	    "slow-fail.cobble.test", content="not the key authorization")
	assert_in_progress(acct, h01, order_url, authz_url, ch, r)
	r = acct.poll(authz_url, want_retry_after=RETRY_AFTER)
	assert r.json()["status"] == "invalid", r.text
	assert retry_after(r) is None, r.headers
	r = acct.get(ch["url"])
	assert r.json()["status"] == "invalid", r.text
	assert retry_after(r) is None, r.headers
	r = acct.get(order_url)
	assert r.json()["status"] == "invalid", r.text
	assert retry_after(r) is None, r.headers


def test_no_terms_of_service(cobble):
	# Without acme.terms_of_service the directory names none and a
	# newAccount without termsOfServiceAgreed is accepted.
	c = Acme(cobble.url, cobble.root, Key.generate("ec256"))
	assert "termsOfService" not in c.dir["meta"], c.dir
	r = c.new_account(tos=False)
	assert r.status_code == 201, r.text
	assert r.json()["status"] == "valid"
