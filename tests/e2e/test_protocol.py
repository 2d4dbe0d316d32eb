# SPDX-License-Identifier: ISC
"""RFC 8555 at the protocol level: raw, hand-signed requests against a real
`cobble serve`, good and bad. Each bad request must get the exact problem
type and HTTP status, as application/problem+json with a fresh
Replay-Nonce, and the server must keep answering afterwards (the cobble
fixture checks it is alive after every test)."""

import base64
import datetime
import json
import os
import re
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from e2e_util import (CAA_IDENTITIES, ERR, TERMS_URL, WEBSITE_URL, Acme, Http01Server, Key, assert_problem, b64u,
    check_issued, http01_of, jws, key_authorization, link_rel, load_cert,
    make_csr, split_pem, write)

MAIL = "mailto:e2e@cobble-tests.org"


# ---- fixtures and helpers ----

@pytest.fixture(scope="module")
def h01(cobble):
	s = Http01Server(cobble.http01_port)
	yield s
	s.close()


def client(cobble, kind="ec256"):
	return Acme(cobble.url, cobble.root, Key.generate(kind))


@pytest.fixture(scope="module")
def acct(cobble):
	c = client(cobble)
	c.register([MAIL])
	return c


@pytest.fixture(scope="module")
def acct2(cobble):
	c = client(cobble)
	c.register()
	return c


def account_prefix(c):
	"""The account URL without its final id ("https://h:p/acme/acct")."""
	return c.kid.rsplit("/", 1)[0]


def answer_http01(c, h01, authz_url, content=None):
	"""Publishes the key authorization (or CONTENT) for AUTHZ_URL's HTTP-01
	challenge and responds to it. Returns (challenge url, response)."""
	r = c.get(authz_url)
	assert r.status_code == 200, r.text
	ch = http01_of(r.json())
	h01.tokens[ch["token"]] = content if content is not None else \
	    key_authorization(ch["token"], c.key)
	r = c.post(ch["url"], {})
	assert r.status_code == 200, (r.status_code, r.text)
	assert r.json()["status"] in ("pending", "processing", "valid"), r.text
	return ch["url"], r


def authorize(c, h01, order):
	for a in order["authorizations"]:
		r = c.get(a)
		if r.json()["status"] == "valid":
			continue
		answer_http01(c, h01, a)
		r = c.poll(a, want_retry_after=1)
		assert r.json()["status"] == "valid", r.text


def finalize(c, order_url, csr_der):
	order = c.get(order_url).json()
	return c.post(order["finalize"], {"csr": b64u(csr_der)})


def issue(c, h01, names, cert_key=None, **order_fields):
	"""Runs an order for NAMES (with ORDER_FIELDS in the newOrder payload)
	to a certificate. Returns a dict with the order URL, the certificate
	URL, the PEM chain and the key."""
	cert_key = cert_key or Key.generate("ec256")
	r = c.new_order(names, **order_fields)
	assert r.status_code == 201, r.text
	order_url = r.headers["Location"]
	authorize(c, h01, r.json())
	r = c.poll(order_url, done=("ready", "valid", "invalid"))
	assert r.json()["status"] == "ready", r.text
	r = finalize(c, order_url, make_csr(cert_key, names))
	assert r.status_code == 200, r.text
	r = c.poll(order_url, want_retry_after=1)
	assert r.json()["status"] == "valid", r.text
	cert_url = r.json()["certificate"]
	r = c.get(cert_url)
	assert r.status_code == 200, r.text
	return {"order": order_url, "cert_url": cert_url, "pem": r.text,
	    "key": cert_key, "names": names,
	    "der": load_cert(split_pem(r.text)[0]).public_bytes(
	        serialization.Encoding.DER)}


@pytest.fixture(scope="module")
def issued(cobble, acct, h01):
	return issue(acct, h01, ["issued.cobble.test"])


def port_of(url):
	return urllib.parse.urlsplit(url).port


# ---- directory and nonces ----

def test_directory(cobble):
	r = requests.get(cobble.url, verify=cobble.root, timeout=15)
	assert r.status_code == 200
	assert r.headers["Content-Type"].split(";")[0] == "application/json"
	assert r.headers.get("Replay-Nonce"), "directory without Replay-Nonce"
	d = r.json()
	for k in ("newNonce", "newAccount", "newOrder", "revokeCert",
	    "keyChange"):
		u = urllib.parse.urlsplit(d[k])
		assert u.scheme == "https" and u.port == cobble.port, d[k]
	assert d["newNonce"].endswith("/acme/new-nonce")
	assert d["newAccount"].endswith("/acme/new-account")
	assert d["newOrder"].endswith("/acme/new-order")
	assert d["revokeCert"].endswith("/acme/revoke-cert")
	assert d["keyChange"].endswith("/acme/key-change")
	meta = d["meta"]
	assert meta["termsOfService"] == TERMS_URL
	assert meta["website"] == WEBSITE_URL
	assert meta["caaIdentities"] == CAA_IDENTITIES
	assert meta["externalAccountRequired"] is False


def test_api_certificate(cobble):
	# Trusting Cobble's root is enough for any client on the machine:
	# the API certificate names localhost, 127.0.0.1 and ::1.
	r = requests.get("https://127.0.0.1:%d/directory" % cobble.port,
	    verify=cobble.root, timeout=15)
	assert r.status_code == 200
	pem = ssl.get_server_certificate(("127.0.0.1", cobble.port))
	san = load_cert(pem).extensions.get_extension_for_class(
	    x509.SubjectAlternativeName).value
	assert "localhost" in san.get_values_for_type(x509.DNSName)
	ips = [str(i) for i in san.get_values_for_type(x509.IPAddress)]
	assert "127.0.0.1" in ips and "::1" in ips, ips
	with open(os.path.join(cobble.state, "tls", "cert.pem")) as f:
		assert load_cert(split_pem(f.read())[0]) == load_cert(pem)


@pytest.mark.parametrize("method,status", [("HEAD", 200), ("GET", 204)])
def test_new_nonce(cobble, method, status):
	d = requests.get(cobble.url, verify=cobble.root, timeout=15).json()
	seen = set()
	for _ in range(3):
		r = requests.request(method, d["newNonce"], verify=cobble.root,
		    timeout=15)
		assert r.status_code == status
		n = r.headers.get("Replay-Nonce")
		assert n and re.fullmatch(r"[A-Za-z0-9_-]+", n), n
		assert n not in seen
		seen.add(n)
		assert "no-store" in r.headers.get("Cache-Control", "")
		idx = link_rel(r, "index")
		assert len(idx) == 1 and idx[0].endswith("/directory") and \
		    port_of(idx[0]) == cobble.port, r.headers.get("Link")


def test_get_on_post_only_resource(cobble, acct):
	r = requests.get(acct.kid, verify=cobble.root, timeout=15)
	assert r.status_code == 405, (r.status_code, r.text)
	assert r.headers["Content-Type"].split(";")[0] == \
	    "application/problem+json"


def test_405_names_allowed_methods(cobble, acct):
	r = requests.get(acct.kid, verify=cobble.root, timeout=15)
	assert r.status_code == 405
	assert r.headers.get("Allow") == "POST"
	r = requests.put(cobble.base + "/directory", verify=cobble.root,
	    timeout=15)
	assert_problem(r, "malformed", 405)
	assert r.headers.get("Allow") == "GET, HEAD"


def test_unknown_paths(cobble, acct):
	# A 404 is a problem document of type malformed, as Boulder and
	# Pebble serve it (common/cb_problem.c: cb_prob_type_urn()).
	for path in ("/nope", "/acme/nope", "/directory/x", "/.env"):
		r = requests.get(cobble.base + path, verify=cobble.root,
		    timeout=15)
		assert_problem(r, "malformed", 404)
	r = acct.get(cobble.base + "/acme/nope")
	assert_problem(r, "malformed", 404)
	for what in ("order", "authz", "chall", "cert"):
		r = acct.get(cobble.base + "/acme/%s/987654321" % what)
		assert_problem(r, "malformed", 404)
	# Not an id: no route matches, so the same 404.
	r = acct.get(cobble.base + "/acme/order/notanumber")
	assert_problem(r, "malformed", 404)
	# And the server still answers properly.
	assert acct.get(acct.kid).status_code == 200


def test_oversized_headers(cobble, acct):
	"""Headers past CB_MAX_CONNECTION_MEMORY (docs/limits.md) are refused
	with 431 by libmicrohttpd; headers well inside it are served."""
	r = requests.get(cobble.base + "/directory", verify=cobble.root,
	    headers={"X-Filler": "a" * 16000}, timeout=15)
	assert r.status_code == 200
	r = requests.get(cobble.base + "/directory", verify=cobble.root,
	    headers={"X-Filler": "a" * 40000}, timeout=15)
	assert r.status_code == 431
	assert acct.get(acct.kid).status_code == 200


# ---- accounts ----

@pytest.mark.parametrize("kind", ["ec256", "ec384", "ec521", "rsa2048",
    "rsa4096", "ed25519"])
def test_new_account(cobble, kind):
	c = client(cobble, kind)
	r = c.new_account([MAIL])
	assert r.status_code == 201, r.text
	loc = r.headers["Location"]
	assert port_of(loc) == cobble.port and "/acme/acct/" in loc
	assert link_rel(r, "index"), r.headers
	a = r.json()
	assert a["status"] == "valid"
	assert a["contact"] == [MAIL]
	assert a["orders"].startswith(loc)
	# RFC 8555 7.1.2: termsOfServiceAgreed is optional in the account
	# object; Cobble stores no agreement and so never shows the field.
	assert "termsOfServiceAgreed" not in a, a
	# The same key again: the existing account, 200, same Location.
	r = c.new_account([MAIL])
	assert r.status_code == 200, r.text
	assert r.headers["Location"] == loc
	r = c.new_account(only=True)
	assert r.status_code == 200, r.text
	assert r.headers["Location"] == loc
	# POST-as-GET the account with the kid.
	r = c.get(loc)
	assert r.status_code == 200, r.text
	assert r.json()["status"] == "valid"


def test_account_small_rsa_key(cobble):
	c = client(cobble, "rsa1024")
	assert_problem(c.new_account(), "badPublicKey", 400)


def test_only_return_existing_unknown(cobble):
	c = client(cobble)
	assert_problem(c.new_account(only=True), "accountDoesNotExist", 400)


@pytest.mark.parametrize("contact,ptype", [
	(["http://x"], "unsupportedContact"),
	(["tel:+15555550100"], "unsupportedContact"),
	(["mailto:bad"], "invalidContact"),
	(["mailto:"], "invalidContact"),
	(["mailto:a@b@cobble-tests.org"], "invalidContact"),
	(["mailto:a@cobble-tests.org?subject=x"], "invalidContact"),
])
def test_bad_contact(cobble, contact, ptype):
	c = client(cobble)
	assert_problem(c.new_account(contact), ptype, 400)


def test_terms_of_service_required(cobble):
	# The instance publishes terms (acme.terms_of_service); RFC 8555 7.3:
	# a newAccount that does not set termsOfServiceAgreed to true is
	# refused. Cobble says malformed (userActionRequired is for changed
	# terms, RFC 8555 7.3.3).
	c = client(cobble)
	assert c.dir["meta"]["termsOfService"] == TERMS_URL
	for payload in ({}, {"contact": [MAIL]}, {"termsOfServiceAgreed": False},
	    {"termsOfServiceAgreed": None}):
		r = c.post(c.dir["newAccount"], payload, kid=None)
		assert_problem(r, "malformed", 400)
		assert "terms of service" in r.json()["detail"], r.json()
	for value in ("true", 1):
		r = c.post(c.dir["newAccount"], {"termsOfServiceAgreed": value},
		    kid=None)
		assert_problem(r, "malformed", 400)
	# None of those created the account.
	assert_problem(c.new_account(tos=False, only=True),
	    "accountDoesNotExist", 400)
	r = c.new_account([MAIL])
	assert r.status_code == 201, r.text
	assert r.json()["status"] == "valid"
	# RFC 8555 7.3.1: the existing account comes back without agreeing
	# again.
	r = c.new_account(tos=False)
	assert r.status_code == 200, r.text
	assert r.headers["Location"] == c.kid


def test_contact_not_a_list(cobble):
	c = client(cobble)
	assert_problem(c.new_account(MAIL), "malformed", 400)


def test_account_update(cobble):
	c = client(cobble)
	c.register([MAIL])
	new = ["mailto:other@cobble-tests.org", "mailto:x@cobble-tests.org"]
	r = c.post(c.kid, {"contact": new})
	assert r.status_code == 200, r.text
	assert r.json()["contact"] == new
	assert c.get(c.kid).json()["contact"] == new
	assert_problem(c.post(c.kid, {"contact": ["mailto:bad"]}),
	    "invalidContact", 400)
	assert c.get(c.kid).json()["contact"] == new


def test_account_post_as_get_with_jwk(cobble, acct):
	# Requests other than newAccount/revokeCert must use kid.
	r = acct.post(acct.kid, None, use_jwk=True)
	assert_problem(r, "malformed", 400)


def test_other_account_url(cobble, acct, acct2):
	r = acct2.get(acct.kid)
	assert_problem(r, "unauthorized", 403)
	r = acct2.post(acct.kid, {"contact": ["mailto:x@cobble-tests.org"]})
	assert_problem(r, "unauthorized", 403)
	assert acct.get(acct.kid).json()["contact"] == [MAIL]


def test_account_deactivation(cobble, h01):
	c = client(cobble)
	c.register()
	r = c.new_order(["deactivated-acct.cobble.test"])
	assert r.status_code == 201
	order_url = r.headers["Location"]
	r = c.post(c.kid, {"status": "deactivated"})
	assert r.status_code == 200, r.text
	assert r.json()["status"] == "deactivated"
	assert_problem(c.get(c.kid), "unauthorized", 403)
	assert_problem(c.get(order_url), "unauthorized", 403)
	assert_problem(c.new_order(["x.cobble.test"]), "unauthorized", 403)
	assert_problem(c.post(c.kid, {"status": "valid"}), "unauthorized", 403)
	# newAccount with the key does not bring it back: the account exists
	# but is deactivated (RFC 8555 7.3.6), so unauthorized, as Boulder.
	r = c.new_account(expect=None)
	doc = assert_problem(r, "unauthorized", 403)
	assert doc["status"] == 403, doc
	r = c.new_account(expect=None, only=True)
	assert_problem(r, "unauthorized", 403)


# ---- JWS checks ----

def test_bad_nonce_then_retry(cobble, acct):
	n = acct.take_nonce()
	assert acct.get(acct.kid, nonce=n).status_code == 200
	r = acct.get(acct.kid, nonce=n)  # reused
	assert_problem(r, "badNonce", 400)
	# The problem carried a fresh nonce; a retry with it succeeds.
	fresh = r.headers["Replay-Nonce"]
	assert fresh != n
	r = acct.get(acct.kid, nonce=fresh)
	assert r.status_code == 200, r.text


def test_made_up_and_missing_nonce(cobble, acct):
	assert_problem(acct.get(acct.kid, nonce="AAAAAAAAAAAAAAAAAAAAAA"),
	    "badNonce", 400)
	# Not base64url (RFC 8555 6.5.1) cannot be one of our nonces either:
	# badNonce, so that a client retries with a fresh one.
	assert_problem(acct.get(acct.kid, nonce="!!not base64url!!"),
	    "badNonce", 400)
	body = jws(acct.key, None, acct.kid, kid=acct.kid)  # no nonce
	assert_problem(acct.post_body(acct.kid, body), "badNonce", 400)
	assert acct.get(acct.kid).status_code == 200


def test_wrong_url(cobble, acct):
	# RFC 8555 6.4: a url header that differs from the request URL is
	# "unauthorized".
	body = jws(acct.key, None, acct.dir["newOrder"], nonce=acct.take_nonce(),
	    kid=acct.kid)
	assert_problem(acct.post_body(acct.kid, body), "unauthorized", 403)
	body = jws(acct.key, None, acct.kid + "/", nonce=acct.take_nonce(),
	    kid=acct.kid)
	assert_problem(acct.post_body(acct.kid, body), "unauthorized", 403)
	# No url at all: the header lacks a required member (RFC 8555 6.4
	# "MUST be carried"), malformed; there is nothing to compare.
	body = jws(acct.key, None, "", nonce=acct.take_nonce(), kid=acct.kid,
	    protected={"url": None})
	doc = assert_problem(acct.post_body(acct.kid, body), "malformed", 400)
	assert doc["status"] == 400, doc


def test_bad_signature(cobble, acct):
	other = Key.generate("ec256")
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid, sign_key=other)
	assert_problem(acct.post_body(acct.kid, body), "malformed", 400)
	# Flipped bits in an otherwise good signature.
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid)
	sig = bytearray(base64.urlsafe_b64decode(body["signature"] + "=="))
	sig[5] ^= 0x40
	body["signature"] = b64u(bytes(sig))
	assert_problem(acct.post_body(acct.kid, body), "malformed", 400)
	# A newAccount whose jwk does not match the signing key.
	c = client(cobble)
	body = jws(c.key, {"termsOfServiceAgreed": True},
	    c.dir["newAccount"], nonce=c.take_nonce(), sign_key=other)
	assert_problem(c.post_body(c.dir["newAccount"], body), "malformed", 400)
	assert acct.get(acct.kid).status_code == 200


def test_unknown_kid(cobble, acct):
	kid = account_prefix(acct) + "/987654321"
	r = acct.get(acct.kid, kid=kid)
	assert_problem(r, "accountDoesNotExist", 400)
	r = acct.post(acct.dir["newOrder"], {"identifiers": [{"type": "dns",
	    "value": "x.cobble.test"}]}, kid=kid)
	assert_problem(r, "accountDoesNotExist", 400)


def test_jwk_and_kid(cobble, acct):
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid, protected={"jwk": acct.key.jwk()})
	assert_problem(acct.post_body(acct.kid, body), "malformed", 400)
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid, protected={"kid": None})
	assert "jwk" not in body["protected"]
	assert_problem(acct.post_body(acct.kid, body), "malformed", 400)


@pytest.mark.parametrize("alg", ["HS256", "none", "RS1", "ES256K", "PS256"])
def test_unsupported_alg(cobble, acct, alg):
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid, alg=alg)
	assert_problem(acct.post_body(acct.kid, body), "badSignatureAlgorithm",
	    400)
	# An empty alg is a string naming no algorithm Cobble supports.
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid, alg="")
	doc = assert_problem(acct.post_body(acct.kid, body),
	    "badSignatureAlgorithm", 400)
	assert doc["status"] == 400, doc


def test_alg_does_not_fit_key(cobble, acct):
	# RFC 8555 6.2: an algorithm the account key cannot use is
	# badSignatureAlgorithm (as for the jwk of newAccount and the inner
	# JWS of a key change), checked before the signature.
	for alg in ("RS256", "ES384", "EdDSA"):
		body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
		    kid=acct.kid, alg=alg)
		doc = assert_problem(acct.post_body(acct.kid, body),
		    "badSignatureAlgorithm", 400)
		assert doc["status"] == 400, doc
	assert acct.get(acct.kid).status_code == 200


def test_oversized_body(cobble, acct):
	big = {"contact": ["mailto:%s@cobble-tests.org" % ("a" * 70000)]}
	body = jws(acct.key, big, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid)
	assert len(json.dumps(body)) > 64 * 1024
	# RFC 9110 15.5.14: 413 Content Too Large; the type is malformed
	# (RFC 8555 6.7 has no type of its own for it).
	r = acct.post_body(acct.kid, body)
	doc = assert_problem(r, "malformed", 413)
	assert doc["status"] == 413, doc
	# Just over the limit with padding whitespace.
	raw = json.dumps(jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid)) + " " * (64 * 1024)
	r = acct.post_body(acct.kid, raw)
	assert_problem(r, "malformed", 413)
	assert acct.get(acct.kid).status_code == 200


@pytest.mark.parametrize("body", [
	"{not json",
	"",
	"[]",
	'"string"',
	'{"protected": "", "payload": "", "signature": ""}',
	'{"protected": "e30", "payload": "", "signature": "AA"}',
	'{"protected": "!!!", "payload": "", "signature": "AA"}',
	'{"payload": "", "signature": "AA"}',
	"{" * 5000 + "}" * 5000,
	'{"signatures": [], "payload": ""}',
	"a.b.c",
	"\x00\xff\xfe",
])
def test_malformed_body(cobble, acct, body):
	r = acct.post_body(acct.dir["newAccount"], body.encode("latin-1"))
	assert_problem(r, "malformed", 400)


def test_malformed_payload_json(cobble, acct):
	for payload in (b"{not json", b"[1,2]", b'{"a":1,"a":2}',
	    b"[" * 100 + b"]" * 100):
		r = acct.post(acct.dir["newOrder"], payload)
		assert_problem(r, "malformed", 400)
	# An unprotected header is refused.
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid)
	body["header"] = {"kid": acct.kid}
	assert_problem(acct.post_body(acct.kid, body), "malformed", 400)
	assert acct.get(acct.kid).status_code == 200


def test_compact_serialization_refused(cobble, acct):
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid)
	compact = "%s.%s.%s" % (body["protected"], body["payload"],
	    body["signature"])
	r = acct.post_body(acct.kid, compact)
	assert_problem(r, "malformed", 400)


@pytest.mark.parametrize("ctype", ["application/json", "text/plain",
    "application/x-www-form-urlencoded"])
def test_wrong_content_type(cobble, acct, ctype):
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid)
	# RFC 8555 6.2 requires application/jose+json; 415 Unsupported Media
	# Type with type malformed is what Boulder serves (RFC 8555 6.7 has
	# no type of its own for it).
	r = acct.post_body(acct.kid, body, content_type=ctype)
	doc = assert_problem(r, "malformed", 415)
	assert doc["status"] == 415, doc
	assert acct.get(acct.kid).status_code == 200


def test_content_type_case_insensitive(cobble, acct):
	# RFC 9110 8.3.1: media types compare case-insensitively.
	body = jws(acct.key, None, acct.kid, nonce=acct.take_nonce(),
	    kid=acct.kid)
	r = acct.post_body(acct.kid, body,
	    content_type="Application/JOSE+JSON")
	assert r.status_code == 200, r.text


def test_problem_detail_stays_valid_utf8(cobble, acct):
	# The detail quotes the client's value and is cut at 256 bytes: the
	# cut must not split a character, or the document would not render.
	r = acct.post(acct.kid, {"status": "\u00e9" * 200})
	assert_problem(r, "malformed", 400)
	assert r.json()["detail"].startswith("invalid status")


# ---- orders ----

def test_new_order(cobble, acct):
	names = ["order-a.cobble.test", "ORDER-B.Cobble.Test"]
	r = acct.new_order(names)
	assert r.status_code == 201, r.text
	loc = r.headers["Location"]
	assert "/acme/order/" in loc and port_of(loc) == cobble.port
	o = r.json()
	assert o["status"] == "pending"
	assert sorted(i["value"] for i in o["identifiers"]) == \
	    ["order-a.cobble.test", "order-b.cobble.test"]
	assert all(i["type"] == "dns" for i in o["identifiers"])
	assert len(o["authorizations"]) == 2
	assert o["finalize"].startswith(loc) or "/finalize" in o["finalize"]
	exp = datetime.datetime.fromisoformat(o["expires"].replace("Z",
	    "+00:00"))
	assert exp > datetime.datetime.now(datetime.timezone.utc)
	for a in o["authorizations"]:
		r = acct.get(a)
		assert r.status_code == 200
		az = r.json()
		assert az["status"] == "pending"
		assert az["identifier"]["value"] in ("order-a.cobble.test",
		    "order-b.cobble.test")
		assert "expires" in az
		ch = http01_of(az)
		assert ch["status"] == "pending"
		assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", ch["token"]), ch
		assert port_of(ch["url"]) == cobble.port
	# An identical pending order is reused.
	r = acct.new_order(list(reversed(names)))
	assert r.status_code in (200, 201), r.text
	assert r.headers["Location"] == loc
	# POST-as-GET of the order.
	r = acct.get(loc)
	assert r.status_code == 200
	assert r.json()["status"] == "pending"


def test_order_with_validity_not_reused(cobble, acct):
	nb = datetime.datetime.now(datetime.timezone.utc) + \
	    datetime.timedelta(days=2)
	ids = [{"type": "dns", "value": "nb-reuse.cobble.test"}]
	r = acct.post(acct.dir["newOrder"], {"identifiers": ids,
	    "notBefore": nb.strftime("%Y-%m-%dT%H:%M:%SZ")})
	assert r.status_code == 201, r.text
	with_nb = r.headers["Location"]
	assert "notBefore" in r.json()
	# A plain order for the same name must not get that validity.
	r = acct.new_order(["nb-reuse.cobble.test"])
	assert r.status_code == 201, r.text
	assert r.headers["Location"] != with_nb
	assert "notBefore" not in r.json()
	# And the plain one is what a further plain request reuses.
	plain = r.headers["Location"]
	r = acct.new_order(["nb-reuse.cobble.test"])
	assert r.headers["Location"] == plain


# The defaults the cobble fixture runs with (docs/configuration.md).
CERT_VALIDITY = datetime.timedelta(days=90)    # ca.cert_validity_days
ORDER_LIFETIME = datetime.timedelta(days=7)    # acme.order_lifetime


def rfc3339(t):
	return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow():
	return datetime.datetime.now(datetime.timezone.utc).replace(
	    microsecond=0)


def assert_validity(acct, got, nb, na):
	"""The order echoes notBefore NB and notAfter NA, and they are exactly
	the issued certificate's validity."""
	o = acct.get(got["order"]).json()
	assert (o["notBefore"], o["notAfter"]) == (rfc3339(nb), rfc3339(na)), o
	cert = x509.load_der_x509_certificate(got["der"])
	assert cert.not_valid_before == nb.replace(tzinfo=None)
	assert cert.not_valid_after == na.replace(tzinfo=None)


def test_order_validity_in_policy(cobble, acct, h01):
	# RFC 8555 7.4: requested notBefore/notAfter within the profile are
	# echoed in the order and are exactly the certificate's validity.
	nb = utcnow() + datetime.timedelta(hours=1)
	na = nb + datetime.timedelta(days=10)
	got = issue(acct, h01, ["validity.cobble.test"], notBefore=rfc3339(nb),
	    notAfter=rfc3339(na))
	assert_validity(acct, got, nb, na)


def test_order_validity_limits(cobble, acct, h01):
	# The edges of the policy: notBefore a day back at most, a validity
	# of exactly ca.cert_validity_days, a UTC offset instead of "Z".
	nb = utcnow() - datetime.timedelta(hours=23)
	na = nb + CERT_VALIDITY
	offset = datetime.timezone(datetime.timedelta(hours=2))
	got = issue(acct, h01, ["validity-edge.cobble.test"],
	    notBefore=nb.astimezone(offset).isoformat(),
	    notAfter=rfc3339(na))
	assert_validity(acct, got, nb, na)


# Requested validities out of policy (server/ra_order.c:
# ra_check_validity()), as (notBefore, notAfter) offsets from now.
H = datetime.timedelta(hours=1)
S = datetime.timedelta(seconds=1)


@pytest.mark.parametrize("nb,na", [
	(H, H / 2),                          # notAfter before notBefore
	(H, H),                              # notAfter equal to notBefore
	(H, H + CERT_VALIDITY + S),          # longer than the profile
	(None, CERT_VALIDITY + H),           # the same, from now
	(None, -H),                          # notAfter in the past
	(-25 * H, H),                        # notBefore over a day back
	(ORDER_LIFETIME + H, ORDER_LIFETIME + 2 * H),  # after the order
], ids=["after-before", "empty", "too-long", "too-long-from-now",
    "past-notafter", "backdated", "beyond-order"])
def test_order_validity_out_of_policy(cobble, acct, nb, na):
	now = utcnow()
	fields = {"notAfter": rfc3339(now + na)}
	if nb is not None:
		fields["notBefore"] = rfc3339(now + nb)
	r = acct.new_order(["validity-bad.cobble.test"], **fields)
	assert_problem(r, "malformed", 400)


@pytest.mark.parametrize("field", ["notBefore", "notAfter"])
@pytest.mark.parametrize("value", [
	"yesterday",
	"2030-01-01",
	"2030-01-01T00:00:00",
	"2030-01-01 00:00:00Z",
	"2030-01-01T00:00:00+24:00",
	"2030-01-01T00:00:00.Z",
	"2030-01-01T00:00:00Zjunk",
	"1970-01-01T00:00:00Z",
	"1969-12-31T23:59:59Z",
	"",
	1893456000,
	True,
	{},
])
def test_order_validity_malformed(cobble, acct, field, value):
	r = acct.new_order(["validity-bad.cobble.test"], **{field: value})
	assert_problem(r, "malformed", 400)


def test_too_many_identifiers(cobble, acct):
	names = ["n%d.cobble.test" % i for i in range(101)]
	assert_problem(acct.new_order(names), "rejectedIdentifier", 400)
	assert acct.new_order(names[:100]).status_code == 201


# policy/pa_ident.c: a value that is not DNS syntax is malformed; a
# well-formed name Cobble will not issue for (public suffix, single label,
# IP address) is rejectedIdentifier; a type other than dns is
# unsupportedIdentifier (RFC 8555 6.7). One bad identifier is reported as
# the top-level problem, without subproblems.
@pytest.mark.parametrize("ident,ptype", [
	({"type": "dns", "value": "com"}, "rejectedIdentifier"),
	({"type": "dns", "value": "co.uk"}, "rejectedIdentifier"),
	({"type": "dns", "value": "bad_name.cobble.test"}, "malformed"),
	({"type": "dns", "value": "a..cobble.test"}, "malformed"),
	({"type": "dns", "value": "-a.cobble.test"}, "malformed"),
	({"type": "dns", "value": "a" * 64 + ".cobble.test"}, "malformed"),
	({"type": "dns", "value": ""}, "malformed"),
	({"type": "dns", "value": "127.0.0.1"}, "rejectedIdentifier"),
	({"type": "email", "value": "a@cobble.test"}, "unsupportedIdentifier"),
])
def test_rejected_identifier(cobble, acct, ident, ptype):
	r = acct.post(acct.dir["newOrder"], {"identifiers": [ident]})
	doc = assert_problem(r, ptype, 400)
	assert doc["status"] == 400, doc
	assert "subproblems" not in doc, doc


@pytest.mark.parametrize("payload,ptype", [
	({}, "malformed"),
	({"identifiers": []}, "malformed"),
	({"identifiers": "a.cobble.test"}, "malformed"),
	# An identifier object without its required members is malformed
	# (RFC 8555 7.1.4: type and value are both required).
	({"identifiers": [{"type": "dns"}]}, "malformed"),
	({"identifiers": [{"value": "a.cobble.test"}]}, "malformed"),
	({"identifiers": [{"type": "dns", "value": 7}]}, "malformed"),
	({"identifiers": [{"type": "dns", "value": "a.cobble.test"}],
	    "notBefore": "yesterday"}, "malformed"),
])
def test_malformed_new_order(cobble, acct, payload, ptype):
	doc = assert_problem(acct.post(acct.dir["newOrder"], payload), ptype,
	    400)
	assert doc["status"] == 400, doc


def test_finalize_before_ready(cobble, acct):
	r = acct.new_order(["notready.cobble.test"])
	assert r.status_code == 201
	key = Key.generate("ec256")
	r = acct.post(r.json()["finalize"], {"csr": b64u(make_csr(key,
	    ["notready.cobble.test"]))})
	assert_problem(r, "orderNotReady", 403)


def test_finalize_races(cobble, acct, h01):
	"""Finalize requests for one ready order, all at once: each signs
	(ra_finalize_cached), storage records one certificate, and every
	other answers orderNotReady; the order ends valid with that one."""
	names = ["race.cobble.test"]
	r = acct.new_order(names)
	assert r.status_code == 201, r.text
	order_url, fin_url = r.headers["Location"], r.json()["finalize"]
	authorize(acct, h01, r.json())
	bodies = []
	for _ in range(6):
		csr = make_csr(Key.generate("ec256"), names)
		bodies.append(jws(acct.key, {"csr": b64u(csr)}, fin_url,
		    nonce=acct.new_nonce(), kid=acct.kid))
	answers = [None] * len(bodies)

	def post(i):
		answers[i] = requests.post(fin_url, data=json.dumps(bodies[i]),
		    headers={"Content-Type": "application/jose+json"},
		    verify=cobble.root, timeout=30)

	threads = [threading.Thread(target=post, args=(i,))
	    for i in range(len(bodies))]
	for t in threads:
		t.start()
	for t in threads:
		t.join(60)
	ok = [a for a in answers if a is not None and a.status_code == 200]
	assert len(ok) == 1, [(a.status_code, a.text[:200]) for a in answers]
	for a in answers:
		if a is not ok[0]:
			assert_problem(a, "orderNotReady", 403)
	acct.nonce = None
	order = acct.get(order_url).json()
	assert order["status"] == "valid", order
	assert order["certificate"] == ok[0].json()["certificate"]
	r = acct.get(order["certificate"])
	assert r.status_code == 200, r.text


def test_http01_flow(cobble, acct, h01):
	names = ["flow.cobble.test", "www.flow.cobble.test"]
	r = acct.new_order(names)
	assert r.status_code == 201, r.text
	order_url = r.headers["Location"]
	order = r.json()
	for a in order["authorizations"]:
		name = acct.get(a).json()["identifier"]["value"]
		ch_url, r = answer_http01(acct, h01, a)
		up = link_rel(r, "up")
		assert up == [a], r.headers.get("Link")
		r = acct.poll(a, want_retry_after=1)
		az = r.json()
		assert az["status"] == "valid", az
		ch = http01_of(az)
		assert ch["status"] == "valid" and "validated" in ch, ch
		assert "error" not in ch
		assert (("/.well-known/acme-challenge/" + ch["token"],
		    "%s:%d" % (name, cobble.http01_port)) in h01.requests or
		    ("/.well-known/acme-challenge/" + ch["token"], name) in
		    h01.requests), h01.requests
		rec = ch.get("validationRecord")
		assert rec is None or rec[0]["hostname"] == name, ch
	r = acct.poll(order_url, done=("ready", "invalid"))
	assert r.json()["status"] == "ready", r.text
	cert_key = Key.generate("ec256")
	# A CSR with a name the order does not have.
	r = finalize(acct, order_url, make_csr(cert_key, names +
	    ["extra.cobble.test"]))
	assert_problem(r, "badCSR", 400)
	# A CSR missing one of the order's names.
	r = finalize(acct, order_url, make_csr(cert_key, names[:1]))
	assert_problem(r, "badCSR", 400)
	# A CSR signed with the account key.
	r = finalize(acct, order_url, make_csr(acct.key, names))
	assert_problem(r, "badCSR", 400)
	# A CSR whose CN is not one of the names.
	from cryptography.hazmat.primitives import hashes
	from cryptography.x509.oid import NameOID
	csr = x509.CertificateSigningRequestBuilder().subject_name(
	    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
	    "other.cobble.test")])).add_extension(x509.SubjectAlternativeName(
	    [x509.DNSName(n) for n in names]), False).sign(cert_key.priv,
	    hashes.SHA256()).public_bytes(serialization.Encoding.DER)
	assert_problem(finalize(acct, order_url, csr), "badCSR", 400)
	# Garbage instead of a CSR: the csr member is there and base64url,
	# but no CSR (RFC 8555 7.4: badCSR).
	r = finalize(acct, order_url, b"\x30\x03\x02\x01\x00")
	doc = assert_problem(r, "badCSR", 400)
	assert doc["status"] == 400, doc
	# A CSR with an RSA 1024 key: RFC 8555 7.4 names "a short key" as the
	# example of badCSR (badPublicKey is for JWS keys, 6.7).
	r = finalize(acct, order_url, make_csr(Key.generate("rsa1024"), names))
	doc = assert_problem(r, "badCSR", 400)
	assert doc["status"] == 400, doc
	# After all that, the order is still ready and a good CSR works.
	assert acct.get(order_url).json()["status"] == "ready"
	r = finalize(acct, order_url, make_csr(cert_key, names))
	assert r.status_code == 200, r.text
	assert r.json()["status"] in ("processing", "valid")
	r = acct.poll(order_url, want_retry_after=1)
	o = r.json()
	assert o["status"] == "valid", o
	r = acct.get(o["certificate"])
	assert r.status_code == 200
	assert r.headers["Content-Type"].split(";")[0] == \
	    "application/pem-certificate-chain"
	certs = split_pem(r.text)
	assert len(certs) == 2, r.text
	d = cobble.dir
	leaf = write(os.path.join(d, "flow-leaf.pem"), certs[0] + "\n")
	chain = write(os.path.join(d, "flow-chain.pem"), certs[1] + "\n")
	keyf = write(os.path.join(d, "flow-key.pem"), cert_key.pem())
	cert = check_issued(cobble.root, leaf, chain, names, "ecdsa-p256", keyf)
	# The intermediate served is the one in the state directory.
	with open(os.path.join(cobble.state, "ca", "intermediate.pem")) as f:
		assert load_cert(f.read()) == load_cert(certs[1])
	# 90 days by default.
	life = cert.not_valid_after - cert.not_valid_before
	assert datetime.timedelta(days=89) <= life <= datetime.timedelta(
	    days=91), life
	# AIA caIssuers points at the intermediate, served as DER.
	aia = cert.extensions.get_extension_for_class(
	    x509.AuthorityInformationAccess).value
	urls = [a.access_location.value for a in aia if a.access_method ==
	    x509.oid.AuthorityInformationAccessOID.CA_ISSUERS]
	assert urls, aia
	r = requests.get(urls[0], verify=cobble.root, timeout=15)
	assert r.status_code == 200
	assert x509.load_der_x509_certificate(r.content) == load_cert(certs[1])
	# Finalizing again is refused.
	r = finalize(acct, order_url, make_csr(cert_key, names))
	assert_problem(r, "orderNotReady", 403)


def test_csr_names_case_insensitive(cobble, acct, h01):
	# DNS names are case-insensitive: a CSR in upper case matches the
	# order, and the certificate carries the normalised names.
	names = ["case.cobble.test"]
	r = acct.new_order(names)
	assert r.status_code == 201, r.text
	order_url = r.headers["Location"]
	authorize(acct, h01, r.json())
	acct.poll(order_url, done=("ready", "invalid"))
	cert_key = Key.generate("ec384")
	r = finalize(acct, order_url, make_csr(cert_key, ["CASE.Cobble.TEST"]))
	assert r.status_code == 200, r.text
	o = acct.poll(order_url).json()
	assert o["status"] == "valid", o
	certs = split_pem(acct.get(o["certificate"]).text)
	leaf = write(os.path.join(cobble.dir, "case-leaf.pem"), certs[0] + "\n")
	chain = write(os.path.join(cobble.dir, "case-chain.pem"),
	    certs[1] + "\n")
	keyf = write(os.path.join(cobble.dir, "case-key.pem"), cert_key.pem())
	check_issued(cobble.root, leaf, chain, names, "ecdsa-p384", keyf)


def test_valid_authz_reused(cobble, acct, h01, issued):
	r = acct.new_order(issued["names"])
	assert r.status_code == 201, r.text
	o = r.json()
	assert o["status"] == "ready", o
	first = acct.get(issued["order"]).json()
	assert o["authorizations"] == first["authorizations"]


def test_failed_validation(cobble, acct, h01):
	r = acct.new_order(["fail.cobble.test"])
	assert r.status_code == 201
	order_url = r.headers["Location"]
	authz_url = r.json()["authorizations"][0]
	ch_url, _ = answer_http01(acct, h01, authz_url,
	    content="this is not the key authorization")
	r = acct.poll(authz_url, want_retry_after=1)
	az = r.json()
	assert az["status"] == "invalid", az
	ch = http01_of(az)
	assert ch["status"] == "invalid"
	# The wrong key authorization is unauthorized, as Boulder and Pebble
	# report it (validator/va_http01.c: va_check_response()).
	err = ch["error"]
	assert err["type"] == ERR + "unauthorized", err
	assert err["status"] == 403, err
	assert err.get("detail")
	rec = ch["validationRecord"]
	assert rec, ch
	assert rec[0]["hostname"] == "fail.cobble.test"
	assert str(rec[0]["port"]) == str(cobble.http01_port)
	assert ch["token"] in rec[0]["url"]
	assert "127.0.0.1" in rec[0]["addressesResolved"]
	assert rec[0]["addressUsed"] == "127.0.0.1"
	r = acct.get(ch_url)
	assert r.status_code == 200 and r.json()["status"] == "invalid"
	assert acct.get(order_url).json()["status"] == "invalid"
	# Responding again to an invalid challenge changes nothing: RFC 8555
	# leaves the answer open; Cobble, as Boulder, returns the challenge as
	# it is (wfe_authz.c: wfe_challenge_respond()).
	r = acct.post(ch_url, {})
	assert r.status_code == 200, r.text
	assert r.json() == acct.get(ch_url).json()
	assert r.json()["status"] == "invalid", r.text
	assert acct.get(authz_url).json()["status"] == "invalid"


def test_authz_reads_agree_with_storage(cobble, acct, h01):
	"""Authorization reads right after this instance wrote them come from
	its cache (wfe_authzcache.c); challenge reads and reads after the
	cache's 5 s come from storage. Both must say the same."""
	r = acct.new_order(["same1.cobble.test", "same2.cobble.test"])
	assert r.status_code == 201, r.text
	urls = r.json()["authorizations"]
	fresh = [acct.get(a).json() for a in urls]
	for az in fresh:
		ch = http01_of(az)
		assert acct.get(ch["url"]).json() == ch
	answer_http01(acct, h01, urls[0])
	answer_http01(acct, h01, urls[1], content="not the key authorization")
	done = [acct.poll(a).json() for a in urls]
	assert [az["status"] for az in done] == ["valid", "invalid"], done
	for az in done:
		ch = http01_of(az)
		assert acct.get(ch["url"]).json() == ch
	time.sleep(5.2)
	assert [acct.get(a).json() for a in urls] == done


def test_authz_deactivation(cobble, acct, acct2):
	r = acct.new_order(["deact.cobble.test"])
	assert r.status_code == 201
	order_url = r.headers["Location"]
	authz_url = r.json()["authorizations"][0]
	# Another account cannot deactivate it.
	r = acct2.post(authz_url, {"status": "deactivated"})
	assert_problem(r, "unauthorized", 403)
	r = acct.post(authz_url, {"status": "valid"})
	assert_problem(r, "malformed", 400)
	r = acct.post(authz_url, {"status": "deactivated"})
	assert r.status_code == 200, r.text
	assert r.json()["status"] == "deactivated"
	assert acct.get(authz_url).json()["status"] == "deactivated"
	assert acct.get(order_url).json()["status"] == "invalid"


def test_other_accounts_resources(cobble, acct, acct2, issued):
	o = acct.get(issued["order"]).json()
	assert_problem(acct2.get(issued["order"]), "unauthorized", 403)
	for a in o["authorizations"]:
		assert_problem(acct2.get(a), "unauthorized", 403)
		ch = http01_of(acct.get(a).json())
		assert_problem(acct2.get(ch["url"]), "unauthorized", 403)
		assert_problem(acct2.post(ch["url"], {}), "unauthorized", 403)
	r = acct2.post(o["finalize"], {"csr": b64u(make_csr(Key.generate(),
	    issued["names"]))})
	assert_problem(r, "unauthorized", 403)
	assert_problem(acct2.get(acct.get(acct.kid).json()["orders"]),
	    "unauthorized", 403)


def test_orders_list(cobble, acct, issued):
	orders_url = acct.get(acct.kid).json()["orders"]
	seen = []
	url = orders_url
	for _ in range(20):
		r = acct.get(url)
		assert r.status_code == 200, r.text
		seen += r.json()["orders"]
		nxt = link_rel(r, "next")
		if not nxt:
			break
		url = nxt[0]
	assert issued["order"] in seen, seen
	assert len(seen) == len(set(seen))


def test_orders_pagination(cobble):
	c = client(cobble)
	c.register()
	want = []
	for i in range(55):
		r = c.new_order(["page%d.cobble.test" % i])
		assert r.status_code == 201, r.text
		want.append(r.headers["Location"])
	url = c.get(c.kid).json()["orders"]
	pages = []
	for _ in range(10):
		r = c.get(url)
		assert r.status_code == 200, r.text
		pages.append(r.json()["orders"])
		nxt = link_rel(r, "next")
		if not nxt:
			break
		assert nxt[0] != url
		url = nxt[0]
	assert len(pages) >= 2, "55 orders on one page: no pagination"
	assert all(len(p) <= 50 for p in pages)
	seen = [o for p in pages for o in p]
	assert sorted(seen) == sorted(want)


def test_concurrent_clients(cobble, h01):
	# Several clients at once: accounts, orders and a validation each.
	errors = []

	def work(i):
		try:
			c = client(cobble, "ec256" if i % 2 else "rsa2048")
			c.register()
			for j in range(3):
				r = c.new_order(["conc%d-%d.cobble.test" % (i, j)])
				assert r.status_code == 201, r.text
				assert c.get(r.headers["Location"]).status_code == 200
			authorize(c, h01, r.json())
		except Exception as e:  # reported below
			errors.append("client %d: %r" % (i, e))

	threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
	for t in threads:
		t.start()
	for t in threads:
		t.join(120)
	assert not any(t.is_alive() for t in threads), "clients hung"
	assert not errors, errors


# ---- key rollover ----

def key_change(c, new_key, inner_url=None, account=None, old_jwk=None,
    payload=None, **kw):
	"""Rolls C's account over to NEW_KEY. PAYLOAD replaces the inner
	payload; KW goes to jws() for the inner JWS."""
	url = c.dir["keyChange"]
	if payload is None:
		payload = {"account": account or c.kid,
		    "oldKey": old_jwk or c.key.jwk()}
	inner = jws(new_key, payload, inner_url or url, **kw)
	return c.post(url, inner)


def test_key_change(cobble):
	c = client(cobble)
	c.register()
	old = c.key
	new = Key.generate("rsa2048")
	# Inner JWS problems first (RFC 8555 7.3.5); each is malformed.
	assert_problem(key_change(c, new, inner_url=c.kid), "malformed", 400)
	assert_problem(key_change(c, new, old_jwk=new.jwk()), "malformed", 400)
	assert_problem(key_change(c, new, account=account_prefix(c) +
	    "/987654321"), "malformed", 400)
	inner_nonce = c.take_nonce()  # a real nonce the outer JWS does not use
	assert_problem(key_change(c, new, nonce=inner_nonce), "malformed", 400)
	assert_problem(key_change(c, new, kid=c.kid), "malformed", 400)
	assert_problem(key_change(c, new, sign_key=Key.generate("rsa2048")),
	    "malformed", 400)
	assert_problem(key_change(c, new, payload={"account": c.kid}),
	    "malformed", 400)
	assert_problem(key_change(c, new, payload=b"not json"), "malformed",
	    400)
	# An inner alg that does not suit the inner jwk (RFC 8555 6.2).
	assert_problem(key_change(c, new, alg="ES256"),
	    "badSignatureAlgorithm", 400)
	# None of that changed the key.
	assert c.get(c.kid).status_code == 200
	# The real rollover.
	r = key_change(c, new)
	assert r.status_code == 200, r.text
	c.key = new
	assert c.get(c.kid).status_code == 200
	r = c.new_account(only=True)
	assert r.status_code == 200 and r.headers["Location"] == c.kid
	# The old key no longer works.
	assert_problem(c.new_account(key=old, only=True), "accountDoesNotExist",
	    400)
	# ES256 from the old key does not suit the new RSA account key.
	assert_problem(c.get(c.kid, key=old), "badSignatureAlgorithm", 400)
	# The old key with an alg that suits the new key: a bad signature.
	assert_problem(c.get(c.kid, key=old, alg="RS256"), "malformed", 400)


def test_key_change_to_taken_key(cobble, acct2):
	c = client(cobble)
	c.register()
	r = key_change(c, acct2.key)
	assert_problem(r, "malformed", 409)
	assert r.headers.get("Location") == acct2.kid
	# Nothing changed.
	assert c.get(c.kid).status_code == 200


# ---- revocation ----

def revoke(c, der, reason=None, key=None):
	payload = {"certificate": b64u(der)}
	if reason is not None:
		payload["reason"] = reason
	if key is not None:
		return c.post(c.dir["revokeCert"], payload, key=key, kid=None)
	return c.post(c.dir["revokeCert"], payload)


def test_revoke(cobble, acct, acct2, issued):
	der = issued["der"]
	for reason in (2, 6, 7, 8, 11, -1, 99):
		assert_problem(revoke(acct, der, reason), "badRevocationReason",
		    400)
	# An account that neither issued it nor controls its names.
	assert_problem(revoke(acct2, der, 1), "unauthorized", 403)
	# A key that is not the certificate's.
	assert_problem(revoke(acct, der, 1, key=Key.generate()),
	    "unauthorized", 403)
	# Garbage certificate: no certificate to look up, so malformed (as
	# Boulder), not unauthorized and not a 404 (ca/ca_cert.c).
	r = revoke(acct, b"\x30\x03\x02\x01\x00", 1)
	doc = assert_problem(r, "malformed", 400)
	assert doc["status"] == 400, doc
	# Signed with the certificate's own key (jwk).
	r = revoke(acct, der, 1, key=issued["key"])
	assert r.status_code == 200, r.text
	assert_problem(revoke(acct, der, 1, key=issued["key"]),
	    "alreadyRevoked", 400)
	assert_problem(revoke(acct, der, 0), "alreadyRevoked", 400)


def test_revoke_by_account(cobble, acct, h01):
	got = issue(acct, h01, ["revoke-kid.cobble.test"])
	r = revoke(acct, got["der"])
	assert r.status_code == 200, r.text
	assert_problem(revoke(acct, got["der"], 4), "alreadyRevoked", 400)


def test_revoke_by_account_authorized_for_all_names(cobble, acct, h01):
	# RFC 8555 7.6: an account holding valid authorizations for every
	# name may revoke a certificate another account obtained.
	names = ["rv-a.cobble.test", "rv-b.cobble.test"]
	got = issue(acct, h01, names)
	other = client(cobble)
	other.register()
	r = other.new_order(names[:1])
	assert r.status_code == 201, r.text
	authorize(other, h01, r.json())
	assert_problem(revoke(other, got["der"]), "unauthorized", 403)
	r = other.new_order(names)
	assert r.status_code == 201, r.text
	authorize(other, h01, r.json())
	r = revoke(other, got["der"], 5)
	assert r.status_code == 200, r.text
	assert_problem(revoke(acct, got["der"]), "alreadyRevoked", 400)


# ---- trust anchors ----

def test_root_and_intermediate_download(cobble):
	for name in ("root", "intermediate"):
		with open(os.path.join(cobble.state, "ca", name + ".pem")) as f:
			want = load_cert(f.read())
		r = requests.get(cobble.base + "/%s.pem" % name,
		    verify=cobble.root, timeout=15)
		assert r.status_code == 200
		assert load_cert(r.content) == want
		r = requests.get(cobble.base + "/" + name, verify=cobble.root,
		    timeout=15)
		assert r.status_code == 200
		assert r.headers["Content-Type"].split(";")[0] == \
		    "application/pkix-cert"
		assert x509.load_der_x509_certificate(r.content) == want
	# The root is self-signed and a CA; the intermediate chains to it.
	r = subprocess.run(["openssl", "verify", "-CAfile", cobble.root,
	    os.path.join(cobble.state, "ca", "intermediate.pem")],
	    capture_output=True, text=True)
	assert r.returncode == 0, r.stdout + r.stderr
	# Private keys are private.
	for k in ("root.key", "intermediate.key"):
		st = os.stat(os.path.join(cobble.state, "ca", k))
		assert st.st_mode & 0o077 == 0, oct(st.st_mode)


def test_server_still_answers(cobble, acct):
	# Last: after all the abuse above, ordinary requests still work.
	r = requests.get(cobble.url, verify=cobble.root, timeout=15)
	assert r.status_code == 200
	assert acct.get(acct.kid).status_code == 200
