# SPDX-License-Identifier: ISC
"""dehydrated (bash + curl + openssl) against a real `cobble serve`:
register, issue (-c) for one and two names with ECDSA and RSA keys, revoke
with the account key and then see the server refuse a second revocation as
alreadyRevoked, deactivate the account. HTTP-01: dehydrated writes the key
authorizations into its WELLKNOWN folder, which the e2e responder serves on
the validator's test port. Every certificate is checked with openssl and
the server's view cross-checked with the raw client of e2e_util."""

import glob
import os
import shutil
import subprocess

import pytest

from e2e_util import (Acme, Http01Server, Key, Webroot, assert_problem, b64u,
    check_issued, load_cert, make_tmpdir, split_pem)
from cryptography.hazmat.primitives import serialization

MAIL = "dehydrated-e2e@cobble-tests.org"


class Dehydrated:
	def __init__(self, cobble, d):
		self.cobble = cobble
		self.dir = d
		self.wellknown = os.path.join(d, "wellknown")
		os.makedirs(self.wellknown)
		self.config = os.path.join(d, "config")
		with open(self.config, "w") as f:
			f.write('CA="%s"\n' % cobble.url)
			f.write('CHALLENGETYPE="http-01"\n')
			f.write('BASEDIR="%s"\n' % d)
			f.write('WELLKNOWN="%s"\n' % self.wellknown)
			f.write('CURL_OPTS="--cacert %s --noproxy *"\n' %
			    cobble.root)
			f.write('CONTACT_EMAIL="%s"\n' % MAIL)
			# Quick RSA keys (the account key is RSA).
			f.write('KEYSIZE="2048"\n')
		self.env = dict(os.environ)
		for k in ("http_proxy", "https_proxy", "HTTP_PROXY",
		    "HTTPS_PROXY", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
			self.env.pop(k, None)
		self.env["NO_PROXY"] = "*"

	def run(self, *args, check=True, timeout=60):
		cmd = ["dehydrated", "--config", self.config, *args]
		r = subprocess.run(cmd, env=self.env, capture_output=True,
		    text=True, timeout=timeout, stdin=subprocess.DEVNULL,
		    cwd=self.dir)
		out = r.stdout + r.stderr
		if check and r.returncode != 0:
			raise AssertionError("dehydrated %s failed (%d):\n%s"
			    % (" ".join(args), r.returncode, out))
		return r.returncode, out

	def issue(self, names, *extra):
		args = ["--cron"]
		for n in names:
			args += ["--domain", n]
		rc, out = self.run(*args, *extra)
		assert "Challenge is valid!" in out, out
		assert "Done!" in out, out
		return out

	def certdir(self, name):
		return os.path.join(self.dir, "certs", name)

	def check(self, names, key_type):
		cd = self.certdir(names[0])
		cert, chain, full, key = (os.path.join(cd, f) for f in (
		    "cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"))
		with open(full) as f:
			bundle = split_pem(f.read())
		with open(chain) as f:
			inter = split_pem(f.read())
		assert len(bundle) == 2 and len(inter) == 1, (bundle, inter)
		assert bundle[1] == inter[0]
		with open(os.path.join(self.cobble.state, "ca",
		    "intermediate.pem")) as f:
			assert load_cert(f.read()) == load_cert(inter[0])
		return check_issued(self.cobble.root, cert, chain, names,
		    key_type, key)

	def account_key(self):
		keys = glob.glob(os.path.join(self.dir, "accounts", "*",
		    "account_key.pem"))
		assert len(keys) == 1, keys
		return keys[0]

	def account(self):
		"""A raw client holding dehydrated's account key (kid found by
		onlyReturnExisting)."""
		c = Acme(self.cobble.url, self.cobble.root,
		    Key.from_pem(self.account_key()))
		r = c.new_account(only=True)
		assert r.status_code == 200, r.text
		return c


@pytest.fixture(scope="module")
def responder(cobble):
	srv = Http01Server(cobble.http01_port)
	yield srv
	srv.close()


@pytest.fixture(scope="module")
def dehydrated(cobble, responder):
	d = make_tmpdir("dehydrated")
	dh = Dehydrated(cobble, d)
	responder.tokens = Webroot(dh.wellknown)
	yield dh
	shutil.rmtree(d, ignore_errors=True)


def der_of(path):
	with open(path) as f:
		return load_cert(split_pem(f.read())[0]).public_bytes(
		    serialization.Encoding.DER)


def test_register(cobble, dehydrated):
	rc, out = dehydrated.run("--register", "--accept-terms")
	assert "Done!" in out, out
	c = dehydrated.account()
	assert c.key.alg == "RS256"
	a = c.get(c.kid).json()
	assert a["status"] == "valid"
	assert a["contact"] == ["mailto:" + MAIL]
	# dehydrated stored the account URL the server gave.
	with open(glob.glob(os.path.join(dehydrated.dir, "accounts", "*",
	    "account_id.json"))[0]) as f:
		assert c.kid.rsplit("/", 1)[1] in f.read()


def test_issue_one_name(cobble, dehydrated):
	# dehydrated's default certificate key is P-384.
	dehydrated.issue(["dh-one.cobble.test"])
	dehydrated.check(["dh-one.cobble.test"], "ecdsa-p384")


def test_issue_two_names(cobble, responder, dehydrated):
	names = ["dh-two.cobble.test", "www.dh-two.cobble.test"]
	seen = len(responder.requests)
	dehydrated.issue(names, "--algo", "rsa")
	dehydrated.check(names, "rsa2048")
	# Both names were validated through the webroot, and dehydrated
	# cleaned up its token files afterwards.
	hosts = sorted(h.split(":")[0] for p, h in responder.requests[seen:])
	assert set(hosts) == set(names), responder.requests[seen:]
	assert os.listdir(dehydrated.wellknown) == []


def test_revoke(cobble, dehydrated):
	name = "dh-revoke.cobble.test"
	dehydrated.issue([name], "--algo", "prime256v1")
	dehydrated.check([name], "ecdsa-p256")
	link = os.path.join(dehydrated.certdir(name), "cert.pem")
	real = os.path.realpath(link)
	der = der_of(real)
	rc, out = dehydrated.run("--revoke", link)
	assert " + Done." in out, out
	assert os.path.exists(real + "-revoked")
	# Revoked for real: the server refuses a second revocation (signed
	# with the certificate key) as alreadyRevoked ...
	c = dehydrated.account()
	key = os.path.join(dehydrated.certdir(name), "privkey.pem")
	r = c.post(c.dir["revokeCert"], {"certificate": b64u(der)},
	    key=Key.from_pem(key), kid=None)
	assert_problem(r, "alreadyRevoked", 400)
	# ... and dehydrated's own second attempt fails with that problem.
	again = os.path.join(dehydrated.dir, "again.pem")
	shutil.copy(real + "-revoked", again)
	rc, out = dehydrated.run("--revoke", again, check=False)
	assert rc != 0, out
	assert "(Status 400)" in out and "alreadyRevoked" in out, out


def test_deactivate(cobble, dehydrated):
	c = dehydrated.account()
	rc, out = dehydrated.run("--deactivate")
	# dehydrated says Done only when the answer has status deactivated.
	assert "Deactivating account %s\n + Done." % c.kid in out, out
	assert_problem(c.get(c.kid), "unauthorized", (401, 403))
	# dehydrated remembers and refuses to use the account any more.
	rc, out = dehydrated.run("--cron", "--domain", "dh-late.cobble.test",
	    check=False)
	assert rc != 0 and "deactivated" in out, out
