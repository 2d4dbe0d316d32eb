# SPDX-License-Identifier: ISC
"""uacme (C, libcurl-gnutls) against a real `cobble serve`: new account,
issue for one and two names with RSA and ECDSA keys, account key roll-over
(newkey), revoke (then the server refuses a second revocation as
alreadyRevoked), deactivate. uacme has no option for a CA bundle, so each
run happens in a private mount namespace with the test root bind-mounted
over the system bundle. HTTP-01 through uacme's hook mechanism:
clients/uacme-hook.sh writes the key authorization into a folder that the
e2e responder serves on the validator's test port. Every certificate is
checked with openssl and the server's view cross-checked with the raw
client of e2e_util."""

import glob
import os
import shutil
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives import serialization

from e2e_util import (Acme, Http01Server, Key, Webroot, assert_problem, b64u,
    check_issued, load_cert, make_tmpdir, split_pem, write)

HERE = os.path.dirname(os.path.abspath(__file__))
HOOK = os.path.join(HERE, "clients", "uacme-hook.sh")
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
MAIL = "uacme-e2e@cobble-tests.org"

# Runs "$@" with $1 mounted over the system CA bundle (in the private
# mount namespace unshare made, so nothing outside sees it).
NS_SCRIPT = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'


class Uacme:
	def __init__(self, cobble, d):
		self.cobble = cobble
		self.dir = d
		self.conf = os.path.join(d, "conf")
		self.webroot = os.path.join(d, "webroot")
		self.hook_log = os.path.join(d, "hook.log")
		os.makedirs(self.webroot)
		self.env = dict(os.environ, UACME_E2E_WEBROOT=self.webroot)
		for k in ("http_proxy", "https_proxy", "HTTP_PROXY",
		    "HTTPS_PROXY", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
			self.env.pop(k, None)
		self.env["NO_PROXY"] = "*"

	def run(self, *args, check=True, timeout=60):
		cmd = ["unshare", "--mount", "--propagation", "private", "--",
		    "sh", "-c", NS_SCRIPT, "sh", self.cobble.root,
		    SYSTEM_BUNDLE, "uacme", "-v", "-c", self.conf,
		    "-a", self.cobble.url, "-h", HOOK, *args]
		r = subprocess.run(cmd, env=self.env, capture_output=True,
		    text=True, timeout=timeout, stdin=subprocess.DEVNULL,
		    cwd=self.dir)
		out = r.stdout + r.stderr
		if check and r.returncode != 0:
			raise AssertionError("uacme %s failed (%d):\n%s" % (
			    " ".join(args), r.returncode, out))
		return r.returncode, out

	def hook_calls(self):
		try:
			with open(self.hook_log) as f:
				lines = f.read().splitlines()
		except FileNotFoundError:
			return []
		return [l.split() for l in lines]

	def paths(self, name):
		return (os.path.join(self.conf, name, "cert.pem"),
		    os.path.join(self.conf, "private", name, "key.pem"))

	def check(self, names, key_type):
		cert, key = self.paths(names[0])
		with open(cert) as f:
			bundle = split_pem(f.read())
		assert len(bundle) == 2, bundle
		with open(os.path.join(self.cobble.state, "ca",
		    "intermediate.pem")) as f:
			assert load_cert(f.read()) == load_cert(bundle[1])
		leaf = write(os.path.join(self.dir, names[0] + ".leaf.pem"),
		    bundle[0] + "\n")
		chain = write(os.path.join(self.dir, names[0] + ".chain.pem"),
		    bundle[1] + "\n")
		return check_issued(self.cobble.root, leaf, chain, names,
		    key_type, key)

	def account_key_path(self):
		return os.path.join(self.conf, "private", "key.pem")

	def account(self):
		"""A raw client holding uacme's account key (kid found by
		onlyReturnExisting)."""
		c = Acme(self.cobble.url, self.cobble.root,
		    Key.from_pem(self.account_key_path()))
		r = c.new_account(only=True)
		assert r.status_code == 200, r.text
		return c


@pytest.fixture(scope="module")
def responder(cobble):
	srv = Http01Server(cobble.http01_port)
	yield srv
	srv.close()


@pytest.fixture(scope="module")
def uacme(cobble, responder):
	d = make_tmpdir("uacme")
	u = Uacme(cobble, d)
	responder.tokens = Webroot(u.webroot)
	yield u
	shutil.rmtree(d, ignore_errors=True)


def test_bundle_is_private(cobble, uacme):
	"""The bind mount stays inside the namespace: the host's bundle does
	not hold the test root, and without the mount uacme refuses Cobble's
	certificate."""
	with open(cobble.root) as f:
		root = f.read().strip()
	with open(SYSTEM_BUNDLE) as f:
		assert root not in f.read()
	p = subprocess.Popen(["uacme", "-v", "-c", os.path.join(uacme.dir,
	    "nobundle"), "-a", cobble.url, "-y", "new"], env=uacme.env,
	    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
	    stdin=subprocess.DEVNULL)
	# uacme retries every 5 s: read its first complaint, then stop it.
	timer = threading.Timer(30, p.kill)
	timer.start()
	try:
		lines = []
		for line in p.stderr:
			lines.append(line)
			if "failed:" in line:
				break
	finally:
		timer.cancel()
		p.kill()
		p.wait()
	assert lines and "GET %s failed:" % cobble.url in lines[-1], lines
	assert "certificate" in lines[-1].lower(), lines


def test_new_account(cobble, uacme):
	rc, out = uacme.run("-y", "new", MAIL)
	c = uacme.account()
	# uacme's default account key is RSA.
	assert c.key.alg == "RS256"
	a = c.get(c.kid).json()
	assert a["status"] == "valid"
	assert a["contact"] == ["mailto:" + MAIL]
	assert c.kid in out, out


def test_issue_one_name(cobble, uacme):
	name = "ua-one.cobble.test"
	uacme.run("issue", name)
	uacme.check([name], "rsa2048")
	# The hook saw begin and done for http-01 on that name, and cleaned
	# its token file.
	calls = [c for c in uacme.hook_calls() if c[2] == name]
	assert ["begin", "http-01"] in [c[:2] for c in calls], calls
	assert ["done", "http-01"] in [c[:2] for c in calls], calls
	assert os.listdir(uacme.webroot) == []


def test_issue_two_names_ec(cobble, responder, uacme):
	names = ["ua-two.cobble.test", "www.ua-two.cobble.test"]
	seen = len(responder.requests)
	uacme.run("-t", "EC", "issue", *names)
	uacme.check(names, "ecdsa-p256")
	hosts = set(h.split(":")[0] for p, h in responder.requests[seen:])
	assert hosts == set(names), responder.requests[seen:]
	# A second run keeps the still-valid certificate (exit status 1).
	cert, _ = uacme.paths(names[0])
	with open(cert) as f:
		before = f.read()
	rc, out = uacme.run("-t", "EC", "issue", *names, check=False)
	assert rc == 1, out
	with open(cert) as f:
		assert f.read() == before
	# --force gets a fresh certificate for the same key.
	uacme.run("-f", "-t", "EC", "issue", *names)
	again = uacme.check(names, "ecdsa-p256")
	old = load_cert(split_pem(before)[0])
	assert again.serial_number != old.serial_number


def test_newkey(cobble, uacme):
	old = uacme.account()
	old_pem = Key.from_pem(uacme.account_key_path()).pem()
	uacme.run("newkey")
	assert Key.from_pem(uacme.account_key_path()).pem() != old_pem
	new = uacme.account()
	assert new.kid == old.kid
	# The old key is no longer bound to any account.
	r = Acme(cobble.url, cobble.root, Key(old.key.priv)).new_account(
	    only=True, expect=None)
	assert_problem(r, "accountDoesNotExist", 400)
	# The new key issues certificates.
	uacme.run("-t", "EC", "issue", "ua-newkey.cobble.test")
	uacme.check(["ua-newkey.cobble.test"], "ecdsa-p256")


def test_revoke(cobble, uacme):
	name = "ua-revoke.cobble.test"
	uacme.run("-t", "EC", "issue", name)
	uacme.check([name], "ecdsa-p256")
	cert, key = uacme.paths(name)
	with open(cert) as f:
		der = load_cert(split_pem(f.read())[0]).public_bytes(
		    serialization.Encoding.DER)
	kept = shutil.copy(cert, os.path.join(uacme.dir, "revoke-me.pem"))
	uacme.run("-r", "1", "revoke", cert)
	assert not os.path.exists(cert)
	assert glob.glob(os.path.join(uacme.conf, name, "revoked-*.pem"))
	# Revoked for real: the server refuses a second revocation (signed
	# with the certificate key) as alreadyRevoked, and uacme's own second
	# attempt fails.
	c = uacme.account()
	r = c.post(c.dir["revokeCert"], {"certificate": b64u(der)},
	    key=Key.from_pem(key), kid=None)
	assert_problem(r, "alreadyRevoked", 400)
	rc, out = uacme.run("revoke", kept, key, check=False)
	assert rc != 0, out
	assert "alreadyRevoked" in out, out


def test_deactivate(cobble, uacme):
	c = uacme.account()
	uacme.run("deactivate")
	assert_problem(c.get(c.kid), "unauthorized", (401, 403))
	rc, out = uacme.run("-f", "issue", "ua-late.cobble.test", check=False)
	assert rc == 2, out
	assert not os.path.exists(uacme.paths("ua-late.cobble.test")[0])
