# SPDX-License-Identifier: ISC
"""certbot 2.x against a real `cobble serve`: register, certonly with one
and several names, ECDSA and RSA keys, renew --force-renewal,
update_account, revoke (with the account key and with the certificate
key), unregister. HTTP-01 through certbot's standalone server on the
validator's test port. Every certificate is checked with openssl, and what
certbot claims is cross-checked with raw ACME requests."""

import glob
import json
import os
import shutil
import subprocess

import pytest

from e2e_util import (Acme, Key, assert_problem, b64u, check_issued,
    load_cert, make_tmpdir, split_pem)
from cryptography.hazmat.primitives import serialization

MAIL = "certbot-e2e@cobble-tests.org"
MAIL2 = "certbot-new@cobble-tests.org"


class Certbot:
	def __init__(self, cobble, d):
		self.cobble = cobble
		self.dir = d
		self.conf = os.path.join(d, "conf")
		self.env = dict(os.environ, REQUESTS_CA_BUNDLE=cobble.root)
		# Never leak to a proxy or the real world.
		for k in ("http_proxy", "https_proxy", "HTTP_PROXY",
		    "HTTPS_PROXY"):
			self.env.pop(k, None)
		self.env["NO_PROXY"] = "*"

	def run(self, *args, check=True, timeout=180):
		cmd = ["certbot", *args, "--server", self.cobble.url,
		    "--non-interactive", "--config-dir", self.conf,
		    "--work-dir", os.path.join(self.dir, "work"),
		    "--logs-dir", os.path.join(self.dir, "logs")]
		r = subprocess.run(cmd, env=self.env, capture_output=True,
		    text=True, timeout=timeout, stdin=subprocess.DEVNULL)
		out = r.stdout + r.stderr
		if check and r.returncode != 0:
			raise AssertionError("%s failed (%d):\n%s\n--- certbot log "
			    "---\n%s" % (" ".join(args), r.returncode, out,
			    self.log_tail()))
		return r.returncode, out

	def log_tail(self, n=60):
		try:
			with open(os.path.join(self.dir, "logs",
			    "letsencrypt.log")) as f:
				return "\n".join(f.read().splitlines()[-n:])
		except OSError:
			return ""

	def log(self):
		with open(os.path.join(self.dir, "logs", "letsencrypt.log")) as f:
			return f.read()

	def http01(self):
		return ["--standalone", "--preferred-challenges", "http-01",
		    "--http-01-port", str(self.cobble.http01_port),
		    "--http-01-address", "127.0.0.1"]

	def certonly(self, name, domains, *extra):
		args = ["certonly", *self.http01(), "--cert-name", name]
		for d in domains:
			args += ["-d", d]
		return self.run(*args, *extra)

	def live(self, name, f):
		return os.path.join(self.conf, "live", name, f)

	def account_dir(self):
		dirs = glob.glob(os.path.join(self.conf, "accounts", "*", "*",
		    "*"))
		dirs = [d for d in dirs if os.path.exists(os.path.join(d,
		    "private_key.json"))]
		assert len(dirs) == 1, dirs
		return dirs[0]

	def account(self):
		"""A raw client holding certbot's account key and URL."""
		d = self.account_dir()
		with open(os.path.join(d, "regr.json")) as f:
			uri = json.load(f)["uri"]
		c = Acme(self.cobble.url, self.cobble.root,
		    Key.from_jwk_file(os.path.join(d, "private_key.json")))
		c.kid = uri
		return c

	def check(self, name, domains, key_type=None):
		"""openssl checks of live/NAME; returns the leaf."""
		with open(self.live(name, "fullchain.pem")) as f:
			full = split_pem(f.read())
		with open(self.live(name, "cert.pem")) as f:
			leaf = split_pem(f.read())
		with open(self.live(name, "chain.pem")) as f:
			chain = split_pem(f.read())
		assert len(leaf) == 1 and len(chain) == 1, (leaf, chain)
		assert full == leaf + chain
		with open(os.path.join(self.cobble.state, "ca",
		    "intermediate.pem")) as f:
			assert load_cert(f.read()) == load_cert(chain[0])
		return check_issued(self.cobble.root, self.live(name, "cert.pem"),
		    self.live(name, "chain.pem"), domains, key_type,
		    self.live(name, "privkey.pem"))


@pytest.fixture(scope="module")
def certbot(cobble):
	d = make_tmpdir("certbot")
	cb = Certbot(cobble, d)
	cb.run("register", "-m", MAIL, "--agree-tos", "--no-eff-email")
	yield cb
	shutil.rmtree(d, ignore_errors=True)


def revoke_raw(c, der, reason, key=None):
	payload = {"certificate": b64u(der), "reason": reason}
	if key is not None:
		return c.post(c.dir["revokeCert"], payload, key=key, kid=None)
	return c.post(c.dir["revokeCert"], payload)


def der_of(path):
	with open(path) as f:
		return load_cert(split_pem(f.read())[0]).public_bytes(
		    serialization.Encoding.DER)


def test_register(cobble, certbot):
	c = certbot.account()
	r = c.new_account(only=True, expect=None)
	assert r.status_code == 200, r.text
	assert r.headers["Location"] == c.kid
	a = r.json()
	assert a["status"] == "valid"
	assert a["contact"] == ["mailto:" + MAIL]
	# Registering again with the same config is refused by certbot
	# itself; the server is not involved.


def test_certonly_one_name(cobble, certbot):
	certbot.certonly("one", ["one.cobble.test"])
	certbot.check("one", ["one.cobble.test"])


def test_certonly_several_names(cobble, certbot):
	names = ["multi.cobble.test", "www.multi.cobble.test",
	    "api.multi.cobble.test", "x.y.z.cobble.test"]
	certbot.certonly("multi", names)
	cert = certbot.check("multi", names)
	# The CN, if any, is one of the names.
	from cryptography.x509.oid import NameOID
	cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
	assert all(cn.value in names for cn in cns)


@pytest.mark.parametrize("key_args,key_type", [
	(["--key-type", "ecdsa", "--elliptic-curve", "secp256r1"],
	    "ecdsa-p256"),
	(["--key-type", "ecdsa", "--elliptic-curve", "secp384r1"],
	    "ecdsa-p384"),
	(["--key-type", "rsa", "--rsa-key-size", "2048"], "rsa2048"),
	(["--key-type", "rsa", "--rsa-key-size", "3072"], "rsa3072"),
])
def test_key_types(cobble, certbot, key_args, key_type):
	name = "kt-" + key_type
	certbot.certonly(name, [name + ".cobble.test"], *key_args)
	certbot.check(name, [name + ".cobble.test"], key_type)


def test_renew_force(cobble, certbot):
	name = "renewme"
	certbot.certonly(name, [name + ".cobble.test"])
	before = certbot.check(name, [name + ".cobble.test"])
	certbot.run("renew", "--cert-name", name, "--force-renewal",
	    "--no-random-sleep-on-renew", *certbot.http01())
	after = certbot.check(name, [name + ".cobble.test"])
	assert after.serial_number != before.serial_number
	assert after.not_valid_before >= before.not_valid_before
	assert os.path.exists(os.path.join(certbot.conf, "archive", name,
	    "cert2.pem"))


def test_update_account(cobble, certbot):
	certbot.run("update_account", "-m", MAIL2, "--no-eff-email")
	c = certbot.account()
	r = c.get(c.kid)
	assert r.status_code == 200, r.text
	assert r.json()["contact"] == ["mailto:" + MAIL2]


def test_revoke_with_account_key(cobble, certbot):
	name = "revoke-acct"
	certbot.certonly(name, [name + ".cobble.test"])
	certbot.check(name, [name + ".cobble.test"])
	cert = certbot.live(name, "cert.pem")
	der = der_of(cert)
	certbot.run("revoke", "--cert-path", cert, "--reason", "keycompromise",
	    "--no-delete-after-revoke")
	# The server knows: revoking again (raw, with the certificate key)
	# is alreadyRevoked, and so is certbot's second attempt.
	c = certbot.account()
	r = revoke_raw(c, der, 1, key=Key.from_pem(certbot.live(name,
	    "privkey.pem")))
	assert_problem(r, "alreadyRevoked", 400)
	rc, out = certbot.run("revoke", "--cert-path", cert, "--reason",
	    "keycompromise", "--no-delete-after-revoke", check=False)
	assert rc != 0, out
	assert "alreadyRevoked" in out or "alreadyRevoked" in certbot.log(), \
	    out


def test_revoke_with_cert_key(cobble, certbot):
	name = "revoke-key"
	certbot.certonly(name, [name + ".cobble.test"])
	cert = certbot.live(name, "cert.pem")
	der = der_of(cert)
	certbot.run("revoke", "--cert-path", cert, "--key-path",
	    certbot.live(name, "privkey.pem"), "--reason", "superseded",
	    "--no-delete-after-revoke")
	c = certbot.account()
	assert_problem(revoke_raw(c, der, 0), "alreadyRevoked", 400)


def test_unregister(cobble, certbot):
	c = certbot.account()
	certbot.run("unregister")
	assert_problem(c.get(c.kid), "unauthorized", 403)
	r = c.new_order(["after-unregister.cobble.test"])
	assert_problem(r, "unauthorized", 403)
	# certbot forgot the account locally; a new certonly would register a
	# new one, which must work.
	certbot.run("register", "-m", MAIL, "--agree-tos", "--no-eff-email")
	c2 = certbot.account()
	assert c2.kid != c.kid
	certbot.certonly("after", ["after.cobble.test"])
	certbot.check("after", ["after.cobble.test"])
