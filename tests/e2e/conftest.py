# SPDX-License-Identifier: ISC
"""Fixtures for Cobble's end-to-end tests.

- `dns`: a private BIND9 (session scope) serving the zone `cobble.test`,
  where every name resolves to 127.0.0.1, with a TSIG key for updates.
- `cobble`: a real `cobble serve` (module scope) with its own state
  directory and embedded PostgreSQL, validating HTTP-01 on a free port and
  resolving through `dns`. A module may set COBBLE_CONFIG (a dict) to
  override configuration keys.

Everything listens on loopback on ports picked at run time. Run with
/usr/bin/python3 -m pytest (Debian's packages: acme, josepy, requests).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

pytest.register_assert_rewrite("e2e_util")

from e2e_util import (CAA_IDENTITIES, TERMS_URL, WEBSITE_URL, free_port,
    make_tmpdir)

# Everything is on loopback: never through a proxy, in this process or in
# the clients it starts.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
ZONE = "cobble.test"
TSIG_NAME = "cobble-e2e-key"

# Processes of the running Cobble instances, for the failure reports.
_live = []


def tail(path, lines=80):
	try:
		with open(path, "rb") as f:
			data = f.read()
	except OSError as e:
		return "(cannot read %s: %s)" % (path, e)
	text = data.decode("utf-8", "replace").splitlines()
	return "\n".join(text[-lines:])


def wait_tcp(port, timeout, proc=None):
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if proc is not None and proc.poll() is not None:
			return False
		try:
			socket.create_connection(("127.0.0.1", port), 0.5).close()
			return True
		except OSError:
			time.sleep(0.1)
	return False


# ---- BIND9 ----

class Dns:
	"""A running BIND9 serving ZONE."""

	def __init__(self, d, port, proc, secret, log):
		self.dir = d
		self.port = port
		self.proc = proc
		self.server = "127.0.0.1:%d" % port
		self.zone = ZONE
		self.key_name = TSIG_NAME
		self.key_secret = secret
		self.key_algorithm = "hmac-sha256"
		self.log = log

	def query(self, name, rtype="A"):
		"""The answers' data (dig +short) for NAME/RTYPE."""
		r = subprocess.run(["dig", "+short", "+time=2", "+tries=2",
		    "-p", str(self.port), "@127.0.0.1", name, rtype],
		    capture_output=True, text=True, timeout=15)
		if r.returncode != 0:
			raise AssertionError("dig failed: %s %s" % (r.stdout,
			    r.stderr))
		return [l for l in r.stdout.splitlines() if l.strip()]

	def update(self, *commands):
		"""Runs nsupdate with COMMANDS (e.g. "update add x.cobble.test 1
		TXT \\"v\\"") signed with the TSIG key."""
		script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\n" % (
		    self.port, ZONE, "\n".join(commands))
		r = subprocess.run(["nsupdate", "-y", "hmac-sha256:%s:%s" % (
		    TSIG_NAME, self.key_secret)], input=script,
		    capture_output=True, text=True, timeout=30)
		if r.returncode != 0:
			raise AssertionError("nsupdate failed: %s %s" % (r.stdout,
			    r.stderr))


NAMED_CONF = """\
include "{d}/tsig.key";
options {{
	directory "{d}";
	pid-file "{d}/named.pid";
	session-keyfile "{d}/session.key";
	managed-keys-directory "{d}";
	key-directory "{d}";
	listen-on port {port} {{ 127.0.0.1; }};
	listen-on-v6 {{ none; }};
	recursion no;
	dnssec-validation no;
	notify no;
	allow-transfer {{ none; }};
}};
controls {{ }};
zone "{zone}" {{
	type primary;
	file "{d}/{zone}.zone";
	allow-update {{ key "{key}"; }};
}};
"""

ZONE_FILE = """\
$TTL 1
$ORIGIN {zone}.
@	IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 1
@	IN NS ns.{zone}.
@	IN A 127.0.0.1
ns	IN A 127.0.0.1
*	IN A 127.0.0.1
"""


@pytest.fixture(scope="session")
def dns():
	d = make_tmpdir("dns")
	port = free_port(udp_too=True)
	key = subprocess.run(["tsig-keygen", "-a", "hmac-sha256", TSIG_NAME],
	    capture_output=True, text=True, check=True).stdout
	with open(os.path.join(d, "tsig.key"), "w") as f:
		f.write(key)
	secret = key.split('secret "')[1].split('"')[0]
	with open(os.path.join(d, "named.conf"), "w") as f:
		f.write(NAMED_CONF.format(d=d, port=port, zone=ZONE, key=TSIG_NAME))
	with open(os.path.join(d, ZONE + ".zone"), "w") as f:
		f.write(ZONE_FILE.format(zone=ZONE))
	log = os.path.join(d, "named.log")
	logf = open(log, "wb")
	proc = subprocess.Popen(["named", "-c", os.path.join(d, "named.conf"),
	    "-g", "-n", "1"], stdout=logf, stderr=subprocess.STDOUT,
	    stdin=subprocess.DEVNULL)
	server = Dns(d, port, proc, secret, log)
	ok = False
	deadline = time.monotonic() + 30
	while time.monotonic() < deadline and proc.poll() is None:
		try:
			if server.query("probe." + ZONE) == ["127.0.0.1"]:
				ok = True
				break
		except (AssertionError, subprocess.TimeoutExpired):
			pass
		time.sleep(0.2)
	if not ok:
		proc.kill()
		proc.wait()
		logf.close()
		pytest.fail("BIND did not answer on port %d:\n%s" % (port,
		    tail(log)))
	yield server
	proc.terminate()
	try:
		proc.wait(15)
	except subprocess.TimeoutExpired:
		proc.kill()
		proc.wait()
	logf.close()
	shutil.rmtree(d, ignore_errors=True)


# ---- Cobble ----

def cobble_bin():
	b = os.environ.get("COBBLE_BIN") or os.path.join(REPO, "build",
	    "server", "cobble")
	if not os.access(b, os.X_OK):
		pytest.fail("cobble binary not found at %s (set COBBLE_BIN)" % b)
	return b


def _merge(dst, src):
	for k, v in src.items():
		if isinstance(v, dict) and isinstance(dst.get(k), dict):
			_merge(dst[k], v)
		else:
			dst[k] = v


class Cobble:
	"""A running `cobble serve`."""

	def __init__(self, d, config, proc, log):
		self.dir = d
		self.config = config
		self.proc = proc
		self.log = log
		self.port = config["server"]["port"]
		self.http01_port = config["validator"]["http01_port"]
		self.state = config["state_dir"]
		self.root = os.path.join(self.state, "ca", "root.pem")
		self.base = "https://localhost:%d" % self.port
		self.url = self.base + "/directory"

	def alive(self):
		return self.proc.poll() is None

	def log_tail(self, lines=80):
		return tail(self.log, lines)

	def log_text(self):
		with open(self.log, "rb") as f:
			return f.read().decode("utf-8", "replace")


def _wait_ready(inst, timeout):
	deadline = time.monotonic() + timeout
	last = "nothing tried"
	while time.monotonic() < deadline:
		if not inst.alive():
			return "cobble exited with status %d during start" % (
			    inst.proc.returncode)
		if os.path.exists(inst.root):
			try:
				r = requests.get(inst.url, verify=inst.root,
				    timeout=5)
				if r.status_code == 200:
					return None
				last = "status %d" % r.status_code
			except requests.RequestException as e:
				last = repr(e)
		time.sleep(0.25)
	return "no answer from %s within %d s (last: %s)" % (inst.url, timeout,
	    last)


def stop_cobble(inst):
	"""SIGTERM, then returns a list of complaints (empty when clean)."""
	bad = []
	if inst.proc.poll() is not None:
		bad.append("cobble had died (status %d)" % inst.proc.returncode)
	else:
		inst.proc.send_signal(signal.SIGTERM)
		try:
			rc = inst.proc.wait(20)
			if rc != 0:
				bad.append("cobble exited with status %d after "
				    "SIGTERM" % rc)
		except subprocess.TimeoutExpired:
			bad.append("cobble did not exit within 20 s of SIGTERM")
			inst.proc.kill()
			inst.proc.wait()
	# The embedded PostgreSQL must be gone too.
	pidfile = os.path.join(inst.state, "pgdata", "postmaster.pid")
	deadline = time.monotonic() + 5
	while os.path.exists(pidfile) and time.monotonic() < deadline:
		time.sleep(0.1)
	if os.path.exists(pidfile):
		bad.append("embedded PostgreSQL still running after cobble exit "
		    "(%s exists)" % pidfile)
		try:
			with open(pidfile) as f:
				pid = int(f.readline())
			os.kill(pid, signal.SIGQUIT)
		except (OSError, ValueError):
			pass
	return bad


# Lines in Cobble's log that are bugs whatever the test did: a 5xx answer
# (the suite never takes the database away), sanitizer reports.
_LOG_BUGS = re.compile(r" status=5\d\d |runtime error:|AddressSanitizer|"
    r"LeakSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer")


def log_complaints(inst):
	bugs = [l for l in inst.log_text().splitlines() if _LOG_BUGS.search(l)]
	if not bugs:
		return []
	return ["cobble log shows bugs:\n" + "\n".join(bugs[:20])]


def start_cobble(dns, overrides=None, prefix="cobble"):
	d = make_tmpdir(prefix)
	state = os.path.join(d, "state")
	config = {
		"state_dir": state,
		"log": {"level": "info"},
		"server": {"listen": "127.0.0.1", "port": free_port()},
		"validator": {
			"http01_port": free_port(),
			"dns_server": dns.server,
			"allow_loopback": True,
			"timeout_ms": 5000,
		},
		"acme": {
			"retry_after": 1,
			"terms_of_service": TERMS_URL,
			"website": WEBSITE_URL,
			"caa_identities": CAA_IDENTITIES,
		},
	}
	_merge(config, overrides or {})
	cfgpath = os.path.join(d, "cobble.json")
	with open(cfgpath, "w") as f:
		json.dump(config, f, indent=1)
	log = os.path.join(d, "cobble.log")
	logf = open(log, "wb")
	proc = subprocess.Popen([cobble_bin(), "serve", "-c", cfgpath],
	    stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
	    cwd=d)
	logf.close()
	inst = Cobble(d, config, proc, log)
	err = _wait_ready(inst, 60)
	if err is not None:
		bad = stop_cobble(inst)
		pytest.fail("cobble did not start: %s %s\n--- cobble log (%s) "
		    "---\n%s" % (err, "; ".join(bad), log, inst.log_tail()))
	return inst


@pytest.fixture(scope="module")
def cobble(request, dns):
	overrides = getattr(request.module, "COBBLE_CONFIG", {})
	failed_before = request.session.testsfailed
	inst = start_cobble(dns, overrides, request.module.__name__)
	_live.append(inst)
	yield inst
	_live.remove(inst)
	bad = stop_cobble(inst)
	bad += log_complaints(inst)
	failed = request.session.testsfailed != failed_before
	if bad:
		pytest.fail("%s\n--- cobble log (%s) ---\n%s" % ("; ".join(bad),
		    inst.log, inst.log_tail()))
	if failed:
		print("cobble state and log kept in %s" % inst.dir)
	else:
		shutil.rmtree(inst.dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _cobble_still_alive(request):
	"""After each test that used Cobble, Cobble must still be running."""
	yield
	for inst in list(_live):
		if not inst.alive():
			pytest.fail("cobble died (status %d)\n--- cobble log "
			    "(%s) ---\n%s" % (inst.proc.returncode, inst.log,
			    inst.log_tail()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	outcome = yield
	rep = outcome.get_result()
	if rep.failed and _live:
		for inst in _live:
			rep.sections.append(("cobble log tail (%s)" % inst.log,
			    inst.log_tail(60)))
