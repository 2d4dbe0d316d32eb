# SPDX-License-Identifier: ISC
"""Debian's python3-acme (acme.client.ClientV2 with josepy) against a real
`cobble serve`: new account, an order for two names answered over HTTP-01
by the e2e responder, poll_and_finalize, the certificate checked with
openssl; revocation with the account key; account deactivation, after
which the account's key is refused with `unauthorized`. The server's view
is cross-checked with the raw client of e2e_util."""

import datetime
import os
import shutil

import josepy as jose
import pytest
import OpenSSL
from acme import challenges, client, crypto_util, messages
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from e2e_util import (ERR, Acme, Http01Server, Key, assert_problem, b64u,
    check_issued, make_tmpdir, split_pem, write)

MAIL = "python-acme-e2e@cobble-tests.org"


@pytest.fixture(scope="module")
def responder(cobble):
	srv = Http01Server(cobble.http01_port)
	yield srv
	srv.close()


@pytest.fixture
def workdir():
	d = make_tmpdir("python-acme")
	yield d
	shutil.rmtree(d, ignore_errors=True)


def status(resource):
	"""A resource's status as a string (python-acme gives a Status for
	orders and authorizations, a plain string for accounts)."""
	st = resource.status
	return getattr(st, "name", st)


def make_client(cobble, kind):
	"""A ClientV2 with a fresh account key of KIND ("ec256"/"rsa2048")
	and the raw Key holding the same private key."""
	if kind == "ec256":
		priv = ec.generate_private_key(ec.SECP256R1())
		jwk, alg = jose.JWKEC(key=priv), jose.ES256
	else:
		priv = rsa.generate_private_key(65537, 2048)
		jwk, alg = jose.JWKRSA(key=priv), jose.RS256
	net = client.ClientNetwork(jwk, alg=alg, verify_ssl=cobble.root,
	    user_agent="cobble-e2e python-acme", timeout=30)
	directory = client.ClientV2.get_directory(cobble.url, net)
	return client.ClientV2(directory, net), Key(priv)


def register(acme):
	regr = acme.new_account(messages.NewRegistration.from_data(
	    email=MAIL, terms_of_service_agreed=True))
	assert regr.uri and regr.uri.startswith("https://localhost:")
	assert status(regr.body) == "valid"
	assert tuple(regr.body.contact) == ("mailto:" + MAIL,)
	return regr


def cert_key(d):
	"""A fresh P-256 certificate key, PEM (PKCS#8), and its path."""
	priv = ec.generate_private_key(ec.SECP256R1())
	pem = priv.private_bytes(serialization.Encoding.PEM,
	    serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
	return pem, write(os.path.join(d, "cert.key"), pem)


def issue(acme, responder, names, key_pem):
	"""Orders NAMES, answers every authorization's http-01 challenge
	through RESPONDER, finalizes; returns the finished OrderResource."""
	csr = crypto_util.make_csr(key_pem, names)
	order = acme.new_order(csr)
	assert status(order.body) == "pending"
	got = sorted(a.body.identifier.value for a in order.authorizations)
	assert got == sorted(names)
	for authz in order.authorizations:
		assert status(authz.body) == "pending"
		chall = [c for c in authz.body.challenges
		    if isinstance(c.chall, challenges.HTTP01)]
		assert len(chall) == 1, authz.body.challenges
		chall = chall[0]
		response, validation = chall.response_and_validation(
		    acme.net.key)
		responder.tokens[chall.chall.encode("token")] = validation
		acme.answer_challenge(chall, response)
	deadline = datetime.datetime.now() + datetime.timedelta(seconds=40)
	done = acme.poll_and_finalize(order, deadline)
	assert status(done.body) == "valid"
	assert done.body.certificate
	for authz in done.authorizations:
		assert status(authz.body) == "valid"
	return done


def check_fullchain(cobble, d, fullchain, names, key_path):
	certs = split_pem(fullchain)
	assert len(certs) == 2, fullchain
	leaf = write(os.path.join(d, "leaf.pem"), certs[0] + "\n")
	chain = write(os.path.join(d, "chain.pem"), certs[1] + "\n")
	return check_issued(cobble.root, leaf, chain, names, "ecdsa-p256",
	    key_path)


@pytest.mark.parametrize("kind", ["ec256", "rsa2048"])
def test_issue_two_names(cobble, responder, workdir, kind):
	acme, raw_key = make_client(cobble, kind)
	regr = register(acme)
	names = ["pa-%s.cobble.test" % kind, "www.pa-%s.cobble.test" % kind]
	key_pem, key_path = cert_key(workdir)
	done = issue(acme, responder, names, key_pem)
	check_fullchain(cobble, workdir, done.fullchain_pem, names, key_path)
	# The server's view through the raw client with the same key.
	raw = Acme(cobble.url, cobble.root, raw_key)
	r = raw.new_account(only=True)
	assert r.status_code == 200, r.text
	assert raw.kid == regr.uri
	r = raw.get(done.uri)
	assert r.status_code == 200 and r.json()["status"] == "valid", r.text
	r = raw.get(done.body.certificate)
	assert r.status_code == 200
	assert split_pem(r.text)[0] == split_pem(done.fullchain_pem)[0]


def test_revoke(cobble, responder, workdir):
	acme, raw_key = make_client(cobble, "ec256")
	register(acme)
	names = ["pa-revoke.cobble.test"]
	key_pem, key_path = cert_key(workdir)
	done = issue(acme, responder, names, key_pem)
	cert = check_fullchain(cobble, workdir, done.fullchain_pem, names,
	    key_path)
	der = cert.public_bytes(serialization.Encoding.DER)
	pem = split_pem(done.fullchain_pem)[0].encode()
	leaf = jose.ComparableX509(OpenSSL.crypto.load_certificate(
	    OpenSSL.crypto.FILETYPE_PEM, pem))
	acme.revoke(leaf, 4)
	# Revoked for real: a second request (this time signed with the
	# certificate's key) is refused as alreadyRevoked, and python-acme
	# reports that problem too.
	raw = Acme(cobble.url, cobble.root, raw_key)
	r = raw.post(raw.dir["revokeCert"], {"certificate": b64u(der)},
	    key=Key.from_pem(key_path), kid=None)
	assert_problem(r, "alreadyRevoked", 400)
	with pytest.raises(messages.Error) as ei:
		acme.revoke(leaf, 0)
	assert ei.value.typ == ERR + "alreadyRevoked", ei.value


def test_deactivate_account(cobble, responder, workdir):
	acme, raw_key = make_client(cobble, "ec256")
	regr = register(acme)
	# The account works before: one certificate.
	names = ["pa-deact.cobble.test", "b.pa-deact.cobble.test"]
	key_pem, key_path = cert_key(workdir)
	done = issue(acme, responder, names, key_pem)
	check_fullchain(cobble, workdir, done.fullchain_pem, names, key_path)
	gone = acme.deactivate_registration(regr)
	assert status(gone.body) == "deactivated"
	# python-acme's next request with that account is refused.
	csr = crypto_util.make_csr(key_pem, ["pa-deact2.cobble.test"])
	with pytest.raises(messages.Error) as ei:
		acme.new_order(csr)
	assert ei.value.typ == ERR + "unauthorized", ei.value
	# So is a POST-as-GET of the account and of its old order, signed
	# by the raw client with the same key and kid.
	raw = Acme(cobble.url, cobble.root, raw_key)
	raw.kid = regr.uri
	assert_problem(raw.get(regr.uri), "unauthorized", (401, 403))
	assert_problem(raw.get(done.uri), "unauthorized", (401, 403))
	r = raw.new_order(["pa-deact3.cobble.test"])
	assert_problem(r, "unauthorized", (401, 403))
	# Looking the account up by key does not bring it back.
	r = raw.new_account(only=True, expect=None)
	assert_problem(r, "unauthorized", (401, 403))
