# SPDX-License-Identifier: ISC
"""Checks of the test harness itself (no Cobble needed): the BIND fixture
answers and takes TSIG-signed updates, and the raw JWS signer produces
what an independent implementation (josepy) accepts, so a failure in
test_protocol.py points at the server, not at the signer."""

import json

import josepy
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from e2e_util import Key, b64u_decode, jws, make_csr


def test_dns_wildcard(dns):
	assert dns.query("a.cobble.test") == ["127.0.0.1"]
	assert dns.query("x.y.cobble.test") == ["127.0.0.1"]


def test_dns_update(dns):
	dns.update('update add _acme-challenge.u.cobble.test 1 TXT "hello"')
	assert dns.query("_acme-challenge.u.cobble.test", "TXT") == ['"hello"']
	dns.update("update delete _acme-challenge.u.cobble.test TXT")
	assert dns.query("_acme-challenge.u.cobble.test", "TXT") == []


@pytest.mark.parametrize("kind", ["ec256", "ec384", "ec521", "rsa2048",
    "ed25519"])
def test_signer_matches_josepy(kind):
	key = Key.generate(kind)
	msg = jws(key, {"hello": "world"}, "https://x/acme/new-account",
	    nonce="abc")
	# The embedded JWK parses and its thumbprint matches RFC 7638 as
	# computed by josepy.
	hdr = json.loads(b64u_decode(msg["protected"]))
	assert hdr["alg"] == key.alg
	if kind != "ed25519":  # josepy 1.13 has no OKP keys
		jwk = josepy.JWK.from_json(hdr["jwk"])
		assert josepy.b64.b64encode(jwk.thumbprint()).decode() == \
		    key.thumbprint()
		parsed = josepy.JWS.from_json({"protected": msg["protected"],
		    "payload": msg["payload"], "signature": msg["signature"]})
		assert parsed.verify(jwk)
	else:
		pub = key.priv.public_key()
		pub.verify(b64u_decode(msg["signature"]),
		    (msg["protected"] + "." + msg["payload"]).encode())
	assert json.loads(b64u_decode(msg["payload"])) == {"hello": "world"}


def test_post_as_get_payload_empty():
	key = Key.generate("ec256")
	assert jws(key, None, "https://x/y", nonce="n")["payload"] == ""


def test_csr_builder():
	key = Key.generate("ec256")
	csr = x509.load_der_x509_csr(make_csr(key, ["a.cobble.test",
	    "b.cobble.test"]))
	assert csr.is_signature_valid
	san = csr.extensions.get_extension_for_class(
	    x509.SubjectAlternativeName).value
	assert san.get_values_for_type(x509.DNSName) == ["a.cobble.test",
	    "b.cobble.test"]
	assert csr.public_key().public_bytes(serialization.Encoding.DER,
	    serialization.PublicFormat.SubjectPublicKeyInfo) == key.public_der()
