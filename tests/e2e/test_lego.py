# SPDX-License-Identifier: ISC
"""lego (Go) against a real `cobble serve`: run with one and two names and
several key types, renew (forced with --days 3650), revoke. HTTP-01 through
lego's own server on the validator's test port. Every certificate is
checked with openssl and the server's view cross-checked with raw ACME."""

import glob
import os
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from e2e_util import (Acme, Key, assert_problem, b64u, check_issued,
    load_cert, make_tmpdir, split_pem, write)

MAIL = "lego-e2e@cobble-tests.org"


class Lego:
	def __init__(self, cobble, d):
		self.cobble = cobble
		self.dir = d
		self.env = dict(os.environ, LEGO_CA_CERTIFICATES=cobble.root)
		for k in ("http_proxy", "https_proxy", "HTTP_PROXY",
		    "HTTPS_PROXY", "LEGO_PATH"):
			self.env.pop(k, None)
		self.env["NO_PROXY"] = "*"

	def run(self, domains, command, *args, key_type=None, check=True,
	    timeout=180):
		cmd = ["lego", "--server", self.cobble.url, "--accept-tos",
		    "--email", MAIL, "--path", self.dir, "--http",
		    "--http.port", "127.0.0.1:%d" % self.cobble.http01_port]
		if key_type:
			cmd += ["--key-type", key_type]
		for d in domains:
			cmd += ["--domains", d]
		cmd += [command, *args]
		r = subprocess.run(cmd, env=self.env, capture_output=True,
		    text=True, timeout=timeout, stdin=subprocess.DEVNULL)
		out = r.stdout + r.stderr
		if check and r.returncode != 0:
			raise AssertionError("lego %s %s failed (%d):\n%s" % (
			    command, domains, r.returncode, out))
		return r.returncode, out

	def paths(self, name):
		base = os.path.join(self.dir, "certificates", name)
		return base + ".crt", base + ".issuer.crt", base + ".key"

	def check(self, domains, key_type=None):
		crt, issuer, key = self.paths(domains[0])
		with open(crt) as f:
			bundle = split_pem(f.read())
		with open(issuer) as f:
			chain = split_pem(f.read())
		assert len(bundle) == 2 and len(chain) == 1, (bundle, chain)
		assert bundle[1] == chain[0]
		with open(os.path.join(self.cobble.state, "ca",
		    "intermediate.pem")) as f:
			assert load_cert(f.read()) == load_cert(chain[0])
		leaf = write(os.path.join(self.dir, domains[0] + ".leaf.pem"),
		    bundle[0] + "\n")
		return check_issued(self.cobble.root, leaf, issuer, domains,
		    key_type, key)

	def account(self):
		"""A raw client holding lego's account key (kid found by
		onlyReturnExisting)."""
		keys = glob.glob(os.path.join(self.dir, "accounts", "*", MAIL,
		    "keys", MAIL + ".key"))
		assert len(keys) == 1, keys
		c = Acme(self.cobble.url, self.cobble.root, Key.from_pem(keys[0]))
		r = c.new_account(only=True)
		assert r.status_code == 200, r.text
		return c


@pytest.fixture(scope="module")
def lego(cobble):
	d = make_tmpdir("lego")
	yield Lego(cobble, d)
	shutil.rmtree(d, ignore_errors=True)


def der_of(path):
	with open(path) as f:
		return load_cert(split_pem(f.read())[0]).public_bytes(
		    serialization.Encoding.DER)


def test_run_one_name(cobble, lego):
	lego.run(["one.cobble.test"], "run")
	lego.check(["one.cobble.test"], "ecdsa-p256")
	c = lego.account()
	a = c.get(c.kid).json()
	assert a["status"] == "valid"
	assert a["contact"] == ["mailto:" + MAIL]


def test_run_two_names(cobble, lego):
	names = ["two.cobble.test", "www.two.cobble.test"]
	lego.run(names, "run")
	lego.check(names, "ecdsa-p256")


@pytest.mark.parametrize("lego_type,key_type", [("ec384", "ecdsa-p384"),
    ("rsa2048", "rsa2048"), ("rsa4096", "rsa4096")])
def test_run_key_types(cobble, lego, lego_type, key_type):
	name = "lego-%s.cobble.test" % lego_type
	lego.run([name], "run", key_type=lego_type)
	lego.check([name], key_type)


def test_renew(cobble, lego):
	names = ["renew.cobble.test", "b.renew.cobble.test"]
	lego.run(names, "run")
	before = lego.check(names)
	lego.run(names, "renew", "--days", "3650", "--no-random-sleep")
	after = lego.check(names, "ecdsa-p256")
	assert after.serial_number != before.serial_number
	# --reuse-key keeps the key and still gets a fresh certificate.
	crt, _, key = lego.paths(names[0])
	with open(key) as f:
		old_key = f.read()
	lego.run(names, "renew", "--days", "3650", "--no-random-sleep",
	    "--reuse-key")
	again = lego.check(names)
	with open(key) as f:
		assert f.read() == old_key
	assert again.serial_number != after.serial_number


def test_revoke(cobble, lego):
	name = "revoke.cobble.test"
	lego.run([name], "run")
	lego.check([name])
	crt, _, key = lego.paths(name)
	der = der_of(crt)
	lego.run([name], "revoke", "--reason", "1", "--keep")
	c = lego.account()
	r = c.post(c.dir["revokeCert"], {"certificate": b64u(der), "reason": 1},
	    key=Key.from_pem(key), kid=None)
	assert_problem(r, "alreadyRevoked", 400)
	rc, out = lego.run([name], "revoke", "--keep", check=False)
	assert rc != 0, out
	assert "alreadyRevoked" in out, out
