# SPDX-License-Identifier: ISC
"""Storage end to end: a real `cobble serve` on an external PostgreSQL
(storage.dsn) that this module runs itself, two instances sharing one
database and one CA, lost database connections and a stopped database,
validation outcomes that cannot be stored at once, the embedded cluster's
postmaster killed under a running cobble, and restarts of the embedded
cluster after kill -9.

The external cluster runs as the `postgres` user (runuser + pg_ctl) on
127.0.0.1 and a socket folder of its own, with trust authentication."""

import glob
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests

import conftest
from e2e_util import (Acme, Http01Server, Key, assert_problem, b64u,
    check_issued, free_port, key_authorization, load_cert, make_csr,
    jws, make_tmpdir, split_pem, write)

from cryptography.hazmat.primitives import hashes, serialization

# Pool size of the instance whose connections get terminated: at most
# this many requests may fail after pg_terminate_backend.
POOL = 4
# A request that needs a database that is down must be answered within.
FAST = 5.0


# ---- the external PostgreSQL ----

def pg_bindir():
	dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
	    key=lambda p: int(p.split("/")[4]))
	if not dirs:
		pytest.fail("no /usr/lib/postgresql/*/bin/postgres (install "
		    "postgresql)")
	return os.path.dirname(dirs[-1])


class ExtPg:
	"""A private PostgreSQL cluster, like one an operator points
	storage.dsn at."""

	def __init__(self):
		self.bin = pg_bindir()
		self.top = make_tmpdir("extpg")
		self.home = os.path.join(self.top, "pg")  # owned by postgres
		self.data = os.path.join(self.home, "data")
		self.sock = os.path.join(self.home, "sock")
		self.log = os.path.join(self.home, "postgres.log")
		self.port = free_port()
		os.mkdir(self.home, 0o700)
		os.mkdir(self.sock, 0o700)
		shutil.chown(self.home, "postgres", "postgres")
		shutil.chown(self.sock, "postgres", "postgres")
		self.run_as(["initdb", "-D", self.data, "--auth=trust", "-U",
		    "postgres", "-E", "UTF8", "--locale=C"], 60)

	def run_as(self, argv, timeout):
		r = subprocess.run(["runuser", "-u", "postgres", "--",
		    os.path.join(self.bin, argv[0])] + argv[1:],
		    capture_output=True, text=True, timeout=timeout,
		    stdin=subprocess.DEVNULL)
		if r.returncode != 0:
			raise AssertionError("%s failed (%d): %s %s\n--- %s ---\n%s"
			    % (argv[0], r.returncode, r.stdout, r.stderr,
			    self.log, conftest.tail(self.log, 30)))
		return r

	def start(self):
		opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off "
		    "-c max_connections=200" % (self.port, self.sock))
		self.run_as(["pg_ctl", "-D", self.data, "-l", self.log, "-o",
		    opts, "-w", "-t", "30", "start"], 40)

	def stop(self, mode="fast"):
		self.run_as(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t",
		    "30", "stop"], 40)

	def running(self):
		return os.path.exists(os.path.join(self.data, "postmaster.pid"))

	def dsn(self, db):
		return "host=127.0.0.1 port=%d dbname=%s user=postgres" % (
		    self.port, db)

	def psql(self, sql, db="cobbletest"):
		"""Rows of SQL's result, each a list of text columns."""
		r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t",
		    "-v", "ON_ERROR_STOP=1", "-h", self.sock, "-p",
		    str(self.port), "-U", "postgres", "-d", db, "-c", sql],
		    capture_output=True, text=True, timeout=30,
		    stdin=subprocess.DEVNULL)
		assert r.returncode == 0, "psql %r: %s" % (sql, r.stderr)
		return [l.split("\t") for l in r.stdout.splitlines() if l]

	def one(self, sql, db="cobbletest"):
		rows = self.psql(sql, db)
		assert len(rows) == 1 and len(rows[0]) == 1, (sql, rows)
		return rows[0][0]

	def destroy(self, keep):
		if self.running():
			try:
				self.stop("immediate")
			except (AssertionError, subprocess.TimeoutExpired):
				pass
		if not keep:
			shutil.rmtree(self.top, ignore_errors=True)


# ---- cobble instances that can be killed and started again ----

SANITIZER = ("runtime error:", "AddressSanitizer", "LeakSanitizer",
    "UndefinedBehaviorSanitizer", "ThreadSanitizer")


class Node:
	"""One `cobble serve` configuration (state_dir, ports): started,
	killed and started again as the tests need. Each run logs to its own
	file."""

	def __init__(self, dns, prefix, overrides=None, root=None,
	    http01_port=None):
		self.dir = make_tmpdir(prefix)
		self.state = os.path.join(self.dir, "state")
		config = {
			"state_dir": self.state,
			"log": {"level": "info"},
			"server": {"listen": "127.0.0.1", "port": free_port()},
			"validator": {
				"http01_port": http01_port or free_port(),
				"dns_server": dns.server,
				"allow_loopback": True,
				"timeout_ms": 5000,
			},
			"acme": {"retry_after": 1},
		}
		conftest._merge(config, overrides or {})
		self.config = config
		self.cfgpath = write(os.path.join(self.dir, "cobble.json"),
		    json.dumps(config, indent=1))
		self.root = root or os.path.join(self.state, "ca", "root.pem")
		self.logs = []
		self.inst = None

	@property
	def base(self):
		return "https://localhost:%d" % self.config["server"]["port"]

	def spawn(self):
		log = os.path.join(self.dir, "cobble-%d.log" % (len(self.logs) + 1))
		self.logs.append(log)
		with open(log, "wb") as logf:
			proc = subprocess.Popen([conftest.cobble_bin(), "serve",
			    "-c", self.cfgpath], stdout=logf,
			    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
			    cwd=self.dir)
		self.inst = conftest.Cobble(self.dir, self.config, proc, log)
		self.inst.root = self.root
		conftest._live.append(self.inst)
		return self.inst

	def wait_up(self, timeout=60):
		err = conftest._wait_ready(self.inst, timeout)
		if err is not None:
			self._forget()
			bad = conftest.stop_cobble(self.inst)
			pglog = os.path.join(self.state, "postgres.log")
			extra = ""
			if os.path.exists(pglog):
				extra = "\n--- embedded PostgreSQL log (%s) ---\n%s" % (
				    pglog, conftest.tail(pglog, 15))
			pytest.fail("cobble did not start: %s %s\n--- cobble log "
			    "(%s) ---\n%s%s" % (err, "; ".join(bad), self.inst.log,
			    self.inst.log_tail(), extra))

	def start(self):
		self.spawn()
		self.wait_up()
		return self.inst

	def alive(self):
		return self.inst is not None and self.inst.alive()

	def _forget(self):
		if self.inst in conftest._live:
			conftest._live.remove(self.inst)

	def kill9(self):
		self._forget()
		self.inst.proc.kill()
		self.inst.proc.wait()

	def stop(self, allow_5xx=False):
		"""Stops cleanly; fails the test with the log tail unless
		the exit and the log are clean."""
		self._forget()
		bad = conftest.stop_cobble(self.inst)
		bad += self.complaints(allow_5xx)
		if bad:
			pytest.fail("%s\n--- cobble log (%s) ---\n%s" % (
			    "; ".join(bad), self.inst.log, self.inst.log_tail()))

	def complaints(self, allow_5xx=False):
		"""Sanitizer reports in any run's log, and unless ALLOW_5XX,
		5xx answers."""
		bugs = []
		for log in self.logs:
			with open(log, "rb") as f:
				text = f.read().decode("utf-8", "replace")
			for l in text.splitlines():
				if any(x in l for x in SANITIZER) or (not allow_5xx
				    and conftest._LOG_BUGS.search(l)):
					bugs.append(l)
		return ["cobble log shows bugs:\n" + "\n".join(bugs[:20])] \
		    if bugs else []

	def cleanup(self, keep):
		if self.inst is not None and self.inst.alive():
			self._forget()
			self.inst.proc.kill()
			self.inst.proc.wait()
		if keep:
			print("cobble state and logs kept in %s" % self.dir)
		else:
			shutil.rmtree(self.dir, ignore_errors=True)


# ---- ACME helpers ----

def rebase(url, c):
	"""URL on the instance client C talks to."""
	u = urllib.parse.urlsplit(url)
	b = urllib.parse.urlsplit(c.dir_url)
	return urllib.parse.urlunsplit((b.scheme, b.netloc, u.path, u.query,
	    u.fragment))


def client(node, key=None):
	c = Acme(node.base + "/directory", node.root, key or Key.generate())
	return c


def issue(c, h01, names, d, via=None):
	"""Orders NAMES through client C and runs the order to a certificate;
	the challenges, the polling and the download go through VIA (a client
	of another instance with the same key) when given. Checks the
	certificate and returns (order URL, certificate URL, leaf DER)."""
	via = via or c
	cert_key = Key.generate("ec256")
	r = c.new_order(names)
	assert r.status_code == 201, r.text
	order_url = r.headers["Location"]
	for a in r.json()["authorizations"]:
		a = rebase(a, via)
		r = via.get(a)
		assert r.status_code == 200, r.text
		ch = [x for x in r.json()["challenges"] if x["type"] == "http-01"]
		assert len(ch) == 1, r.text
		h01.tokens[ch[0]["token"]] = key_authorization(ch[0]["token"],
		    via.key)
		r = via.post(rebase(ch[0]["url"], via), {})
		assert r.status_code == 200, r.text
		r = via.poll(a)
		assert r.json()["status"] == "valid", r.text
	r = c.poll(order_url, done=("ready", "valid", "invalid"))
	assert r.json()["status"] == "ready", r.text
	r = c.post(r.json()["finalize"], {"csr": b64u(make_csr(cert_key,
	    names))})
	assert r.status_code == 200, r.text
	r = via.poll(rebase(order_url, via))
	assert r.json()["status"] == "valid", r.text
	cert_url = rebase(r.json()["certificate"], via)
	r = via.get(cert_url)
	assert r.status_code == 200, r.text
	pems = split_pem(r.text)
	assert len(pems) >= 2, r.text
	tag = names[0].split(".")[0]
	leaf = write(os.path.join(d, tag + "-leaf.pem"), pems[0] + "\n")
	chain = write(os.path.join(d, tag + "-chain.pem"),
	    "\n".join(pems[1:]) + "\n")
	kpath = write(os.path.join(d, tag + "-key.pem"), cert_key.pem())
	root = via.s.verify
	check_issued(root, leaf, chain, names, "ecdsa", kpath)
	der = load_cert(pems[0]).public_bytes(serialization.Encoding.DER)
	return order_url, cert_url, der


def db_problem(r, t0):
	"""R, answered at most FAST seconds after T0, is the problem a
	request gets while the database is unreachable."""
	took = time.monotonic() - t0
	assert took < FAST, "answer took %.1f s" % took
	assert_problem(r, "serverInternal", 500)


def post_timed(c, url, payload):
	t0 = time.monotonic()
	return c.post(url, payload), t0


# ---- fixtures ----

@pytest.fixture(scope="module")
def pg(request):
	before = request.session.testsfailed
	p = ExtPg()
	try:
		p.start()
		p.psql("CREATE DATABASE cobbletest", db="postgres")
		p.psql("CREATE DATABASE cobbletwo", db="postgres")
	except BaseException:
		p.destroy(keep=True)
		raise
	yield p
	failed = request.session.testsfailed != before
	if failed:
		print("external PostgreSQL kept in %s" % p.top)
	p.destroy(keep=failed)


@pytest.fixture(scope="module")
def ext(request, pg, dns):
	"""Instance A: cobble on database cobbletest of the external cluster
	(by TCP), with a small pool."""
	before = request.session.testsfailed
	node = Node(dns, "stor-ext", {"storage": {"dsn": pg.dsn("cobbletest"),
	    "pool_size": POOL}})
	node.start()
	node.h01 = Http01Server(node.config["validator"]["http01_port"])
	yield node
	node.h01.close()
	failed = request.session.testsfailed != before
	try:
		if node.alive():
			# Database errors were provoked on purpose: 5xx allowed.
			node.stop(allow_5xx=True)
	finally:
		node.cleanup(keep=failed)


@pytest.fixture(scope="module")
def acct_ext(ext):
	c = client(ext)
	c.register()
	return c


def ensure_pg_up(pg):
	if not pg.running():
		pg.start()


# ---- 1: storage.dsn ----

def test_external_dsn_issuance(ext, pg, acct_ext):
	order_url, cert_url, der = issue(acct_ext, ext.h01,
	    ["ext.cobble.test"], ext.dir)
	# The certificate, its order and the account are rows of the
	# external database.
	serial = cert_url.rsplit("/", 1)[1]
	rows = pg.psql("SELECT serial, order_id FROM certificates WHERE der "
	    "= decode('%s', 'hex')" % der.hex())
	assert len(rows) == 1, rows
	assert rows[0][1] == order_url.rsplit("/", 1)[1], rows
	assert rows[0][0].lower().lstrip("0") == serial.lower().lstrip("0"), \
	    (rows[0][0], serial)
	assert pg.one("SELECT count(*) FROM accounts WHERE thumbprint = '%s'"
	    % acct_ext.key.thumbprint()) == "1"
	assert int(pg.one("SELECT max(version) FROM schema_migrations")) >= 1
	# Cobble's sessions are there, named.
	names = pg.psql("SELECT DISTINCT application_name FROM "
	    "pg_stat_activity WHERE datname = 'cobbletest' AND pid <> "
	    "pg_backend_pid()")
	assert ["cobble"] in names, names
	# No embedded cluster was made.
	assert os.path.isdir(ext.state), os.listdir(ext.dir)
	assert not os.path.exists(os.path.join(ext.state, "pgdata")), \
	    os.listdir(ext.state)
	assert not os.path.exists(os.path.join(ext.state, "pgsock")), \
	    os.listdir(ext.state)
	assert not os.path.exists(os.path.join(ext.state, "postgres.log"))


# ---- 2: two instances, one database, one CA ----

def test_two_instances_one_database(ext, pg, dns):
	"""B and C start together on an empty database (migrations under the
	advisory lock) with A's CA files, and serve the same accounts and
	orders; nonces stay per instance."""
	ca = os.path.join(ext.state, "ca")
	files = {"root_cert": os.path.join(ca, "root.pem"),
	    "intermediate_cert": os.path.join(ca, "intermediate.pem"),
	    "intermediate_key": os.path.join(ca, "intermediate.key")}
	for f in files.values():
		assert os.path.exists(f), f
	h01_port = free_port()
	# B by the Unix socket (key=value), C by TCP (a URI).
	b = Node(dns, "stor-b", {"ca": files, "storage": {"dsn":
	    "host=%s port=%d dbname=cobbletwo user=postgres" % (pg.sock,
	    pg.port)}}, files["root_cert"], h01_port)
	c = Node(dns, "stor-c", {"ca": files, "storage": {"dsn":
	    "postgresql://postgres@127.0.0.1:%d/cobbletwo" % pg.port}},
	    files["root_cert"], h01_port)
	h01 = Http01Server(h01_port)
	ok = False
	try:
		b.spawn()
		c.spawn()
		b.wait_up()
		c.wait_up()
		# The schema was made exactly once, by one of them.
		applied = 0
		for n in (b, c):
			with open(n.logs[-1]) as f:
				applied += f.read().count(
				    "applying schema migration 1")
		assert applied == 1, "migration 1 applied %d times" % applied
		assert pg.one("SELECT count(*) = max(version) FROM "
		    "schema_migrations", "cobbletwo") == "t"
		# Both use A's CA, not one of their own.
		for n in (b, c):
			r = requests.get(n.base + "/root.pem", verify=n.root,
			    timeout=15)
			assert r.status_code == 200
			with open(files["root_cert"]) as f:
				want = load_cert(f.read())
			assert load_cert(r.text).fingerprint(hashes.SHA256()) == \
			    want.fingerprint(hashes.SHA256())
			assert not os.path.exists(os.path.join(n.state, "ca",
			    "root.key"))

		# An account made through B is C's account too.
		key = Key.generate()
		cb = client(b, key)
		cb.register()
		cc = client(c, key)
		r = cc.new_account()
		assert r.status_code == 200, (r.status_code, r.text)
		path_b = urllib.parse.urlsplit(cb.kid).path
		assert urllib.parse.urlsplit(cc.kid).path == path_b
		assert urllib.parse.urlsplit(cc.kid).port == c.config[
		    "server"]["port"]
		r = cc.post(cc.kid, None)
		assert r.status_code == 200, r.text

		# An order made through B can be fetched through C.
		r = cb.new_order(["twin.cobble.test"])
		assert r.status_code == 201, r.text
		order_b = r.headers["Location"]
		order_c = rebase(order_b, cc)
		r = cc.get(order_c)
		assert r.status_code == 200, r.text
		assert r.json()["identifiers"] == [{"type": "dns",
		    "value": "twin.cobble.test"}]
		assert r.json()["status"] == "pending"

		# Nonces are per instance: B's nonce at C is badNonce, and
		# C's fresh nonce from that answer works.
		nonce_b = cb.new_nonce()
		cb.nonce = None
		r = cc.post(order_c, None, nonce=nonce_b)
		assert r.status_code == 400, (r.status_code, r.text)
		assert_problem(r, "badNonce", 400)
		retry = r.headers["Replay-Nonce"]
		assert retry != nonce_b
		r = cc.post(order_c, None, nonce=retry)
		assert r.status_code == 200, (r.status_code, r.text)
		# B's nonce was not used up by C: B still takes it.
		r = cb.post(order_b, None, nonce=nonce_b)
		assert r.status_code == 200, (r.status_code, r.text)

		# One issuance spread over both: ordered and finalized at B,
		# challenged, polled and downloaded at C; either instance's
		# validators may take the challenge.
		issue(cb, h01, ["spread.cobble.test"], b.dir, via=cc)
		issue(cc, h01, ["spread2.cobble.test"], c.dir, via=cb)
		assert pg.one("SELECT count(*) FROM certificates",
		    "cobbletwo") == "2"

		_account_changes_reach_the_other(b, c)
		_authz_changes_reach_the_other(b, c)
		_finalize_checks_storage(b, c, h01, pg)
		b.stop()
		c.stop()
		ok = True
	finally:
		h01.close()
		b.cleanup(keep=not ok)
		c.cleanup(keep=not ok)


def _account_changes_reach_the_other(b, c):
	"""Each instance caches the accounts that sign requests; a key
	change or deactivation made through B must hold at C at once."""
	key = Key.generate()
	cb = client(b, key)
	cb.register()
	cc = client(c, key)
	cc.kid = rebase(cb.kid, cc)
	for _ in range(3):  # C has the account cached
		r = cc.post(cc.kid, None)
		assert r.status_code == 200, r.text
	new = Key.generate()
	inner = jws(new, {"account": cb.kid, "oldKey": key.jwk()},
	    cb.dir["keyChange"])
	r = cb.post(cb.dir["keyChange"], inner)
	assert r.status_code == 200, r.text
	deadline = time.monotonic() + 2
	while True:  # the notification takes milliseconds, not seconds
		r = cc.post(cc.kid, None)
		if r.status_code != 200 or time.monotonic() > deadline:
			break
	assert r.status_code in (400, 403), (r.status_code, r.text)
	cb.key = cc.key = new
	r = cc.post(cc.kid, None)
	assert r.status_code == 200, r.text
	r = cb.post(cb.kid, {"status": "deactivated"})
	assert r.status_code == 200, r.text
	deadline = time.monotonic() + 2
	while True:
		r = cc.post(cc.kid, None)
		if r.status_code != 200 or time.monotonic() > deadline:
			break
	assert_problem(r, "unauthorized", 403)


def _authz_changes_reach_the_other(b, c):
	"""An instance answers reads of the authorizations it just wrote from
	memory for 5 s (wfe_authzcache.c); a change made through the other
	instance shows there within that time, and at once where it was
	made."""
	key = Key.generate()
	cb = client(b, key)
	cb.register()
	cc = client(c, key)
	cc.kid = rebase(cb.kid, cc)
	r = cb.new_order(["stale.cobble.test"])
	assert r.status_code == 201, r.text
	authz_b = r.json()["authorizations"][0]
	authz_c = rebase(authz_b, cc)
	assert cb.get(authz_b).json()["status"] == "pending"
	t0 = time.monotonic()
	r = cc.post(authz_c, {"status": "deactivated"})
	assert r.status_code == 200, r.text
	assert cc.get(authz_c).json()["status"] == "deactivated"
	while cb.get(authz_b).json()["status"] != "deactivated":
		assert time.monotonic() - t0 < 6, "B still shows it pending"
		time.sleep(0.2)


def _finalize_checks_storage(b, c, h01, pg):
	"""B finalizes an order it created and validated itself without
	reading it (ra_finalize_cached): the statement that records the
	certificate checks the order in storage. An authorization deactivated
	through C just before stops the issuance, though B's caches still
	show it valid: the certificate B signed is discarded, never served."""
	key = Key.generate()
	cb = client(b, key)
	cb.register()
	cc = client(c, key)
	cc.kid = rebase(cb.kid, cc)
	names = ["gate.cobble.test"]
	r = cb.new_order(names)
	assert r.status_code == 201, r.text
	finalize = r.json()["finalize"]
	authz = r.json()["authorizations"][0]
	r = cb.get(authz)
	ch = [x for x in r.json()["challenges"] if x["type"] == "http-01"][0]
	h01.tokens[ch["token"]] = key_authorization(ch["token"], cb.key)
	r = cb.post(ch["url"], {})
	assert r.status_code == 200, r.text
	assert cb.poll(authz).json()["status"] == "valid"
	before = pg.one("SELECT count(*) FROM certificates", "cobbletwo")
	r = cc.post(rebase(authz, cc), {"status": "deactivated"})
	assert r.status_code == 200, r.text
	r = cb.post(finalize, {"csr": b64u(make_csr(Key.generate("ec256"),
	    names))})
	assert_problem(r, "orderNotReady", 403)
	assert pg.one("SELECT count(*) FROM certificates", "cobbletwo") == \
	    before
	deadline = time.monotonic() + 5
	while True:
		with open(b.logs[-1]) as f:
			if "cert discarded" in f.read():
				break
		assert time.monotonic() < deadline, "B did not log the discard"
		time.sleep(0.1)


# ---- 3: lost connections, a database that goes away ----

def _account_get(c):
	"""POST-as-GET of C's account: needs the database."""
	t0 = time.monotonic()
	r = c.post(c.kid, None)
	return r, time.monotonic() - t0


def test_terminated_backends(ext, pg, acct_ext):
	assert ext.alive()
	# Some clients with accounts and nonces ready, for parallel requests.
	clients = [acct_ext]
	for _ in range(5):
		k = client(ext)
		k.register()
		clients.append(k)
	for k in clients:
		k.new_nonce()
	killed = pg.psql("SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE datname = 'cobbletest' AND pid <> "
	    "pg_backend_pid()")
	assert len(killed) >= POOL, killed
	assert all(k == ["t"] for k in killed), killed

	results = []
	lock = threading.Lock()

	def worker(k):
		for _ in range(3):
			r, took = _account_get(k)
			with lock:
				results.append((r, took))

	threads = [threading.Thread(target=worker, args=(k,))
	    for k in clients]
	for t in threads:
		t.start()
	for t in threads:
		t.join(60)
	assert not any(t.is_alive() for t in threads), "requests hang"
	assert len(results) == 3 * len(clients)
	failed = 0
	for r, took in results:
		assert took < FAST, "a request took %.1f s" % took
		if r.status_code != 200:
			assert_problem(r, "serverInternal", 500)
			failed += 1
	assert failed <= POOL, "%d of %d requests failed" % (failed,
	    len(results))
	# Writes work again after a few tries at most.
	for _ in range(5):
		r = acct_ext.new_order(["again.cobble.test"])
		if r.status_code == 201:
			break
		assert_problem(r, "serverInternal", 500)
	assert r.status_code == 201, r.text
	issue(acct_ext, ext.h01, ["afterkill.cobble.test"], ext.dir)
	assert ext.alive()


def test_database_down_and_back(ext, pg, acct_ext):
	c = acct_ext
	c2 = client(ext)
	c2.register()
	r = c.new_order(["down.cobble.test"])
	assert r.status_code == 201, r.text
	order_url = r.headers["Location"]
	pg.stop()
	try:
		# Everything needing the database: a fast serverInternal.
		for _ in range(2):
			r, t0 = post_timed(c, c.kid, None)
			db_problem(r, t0)
		r, t0 = post_timed(c, c.dir["newOrder"], {"identifiers": [
		    {"type": "dns", "value": "x.cobble.test"}]})
		db_problem(r, t0)
		r, t0 = post_timed(c, order_url, None)
		db_problem(r, t0)
		t0 = time.monotonic()
		r = Acme(c.dir_url, ext.root).new_account()
		db_problem(r, t0)
		# Parallel ones too: none may hang on the pool.
		out = []

		def one():
			n = Acme(c2.dir_url, ext.root, c2.key)
			n.kid = c2.kid
			out.append(_account_get(n))

		ts = [threading.Thread(target=one) for _ in range(6)]
		for t in ts:
			t.start()
		for t in ts:
			t.join(30)
		assert not any(t.is_alive() for t in ts), "requests hang"
		assert len(out) == 6
		for r, took in out:
			assert took < FAST, "took %.1f s" % took
			assert_problem(r, "serverInternal", 500)
		# What needs no database still answers.
		r = c.s.head(c.dir["newNonce"], timeout=FAST)
		assert r.status_code == 200 and r.headers.get("Replay-Nonce")
		r = c.s.get(c.dir["newNonce"], timeout=FAST)
		assert r.status_code == 204 and r.headers.get("Replay-Nonce")
		r = c.s.get(c.dir_url, timeout=FAST)
		assert r.status_code == 200 and "newOrder" in r.json()
		r = c.s.get(ext.base + "/root.pem", timeout=FAST)
		assert r.status_code == 200 and split_pem(r.text)
		assert ext.alive()
	finally:
		ensure_pg_up(pg)
	# Back: the pool reconnects; a few failures at most.
	deadline = time.monotonic() + 20
	fails = 0
	while True:
		r, took = _account_get(c)
		assert took < FAST, "took %.1f s" % took
		if r.status_code == 200:
			break
		assert_problem(r, "serverInternal", 500)
		fails += 1
		assert time.monotonic() < deadline, \
		    "database back, requests still fail: %s" % r.text
		time.sleep(0.2)
	assert fails <= POOL, fails
	r = c.get(order_url)
	assert r.status_code == 200 and r.json()["status"] == "pending", r.text
	issue(c, ext.h01, ["back.cobble.test"], ext.dir)
	assert ext.alive()


# ---- 4: a validation outcome that cannot be stored at once ----

# Validation takes this long here, so that a fault can be set up before
# the outcome is stored.
REC_DELAY_MS = 1000

# Fault injection: while a row of test_fault lasts, storing any
# validation outcome fails (a statement error, as when the database
# restarts under the worker), whatever else is written.
FAULT_SQL = """
CREATE TABLE IF NOT EXISTS test_fault (until timestamptz NOT NULL);
CREATE OR REPLACE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.status IN ('valid', 'invalid') AND EXISTS (SELECT 1 FROM
	    test_fault WHERE until > clock_timestamp()) THEN
		RAISE EXCEPTION 'injected fault';
	END IF;
	RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS test_fault ON challenges;
CREATE TRIGGER test_fault BEFORE UPDATE ON challenges FOR EACH ROW
    EXECUTE FUNCTION test_fault();
"""


@pytest.fixture(scope="module")
def rec(request, pg, dns):
	"""An instance on database cobblerec of the external cluster whose
	validations take REC_DELAY_MS, with the fault trigger installed."""
	before = request.session.testsfailed
	pg.psql("CREATE DATABASE cobblerec", db="postgres")
	node = Node(dns, "stor-rec", {"storage": {"dsn": pg.dsn("cobblerec")},
	    "validator": {"test_delay_ms": REC_DELAY_MS}})
	node.start()
	pg.psql(FAULT_SQL, db="cobblerec")
	node.h01 = Http01Server(node.config["validator"]["http01_port"])
	node.acct = client(node)
	node.acct.register()
	yield node
	node.h01.close()
	failed = request.session.testsfailed != before
	try:
		if node.alive():
			node.stop()
	finally:
		node.cleanup(keep=failed)


def _validate_with_fault(node, pg, name, fault_ms):
	"""Answers the challenge of a new order for NAME; right away, storing
	outcomes starts failing for FAULT_MS. Returns (challenge id, the
	authorization at the end, seconds from the answer to valid)."""
	c = node.acct
	r = c.new_order([name])
	assert r.status_code == 201, r.text
	authz = r.json()["authorizations"][0]
	r = c.get(authz)
	ch = [x for x in r.json()["challenges"] if x["type"] == "http-01"][0]
	node.h01.tokens[ch["token"]] = key_authorization(ch["token"], c.key)
	r = c.post(ch["url"], {})
	t0 = time.monotonic()
	assert r.status_code == 200 and r.json()["status"] == "processing", \
	    r.text
	pg.psql("INSERT INTO test_fault VALUES (clock_timestamp() + "
	    "interval '%d milliseconds')" % fault_ms, db="cobblerec")
	assert time.monotonic() - t0 < REC_DELAY_MS / 1000 - 0.3, \
	    "fault set up too late"
	r = c.poll(authz, timeout=30)
	took = time.monotonic() - t0
	assert r.json()["status"] == "valid", r.text
	return int(ch["url"].rsplit("/", 1)[1]), r, took


def test_record_retried(rec, pg):
	"""Storing the outcome fails for a moment (the first of three tries,
	2 s apart in all): it is stored on a later try, not dropped to wait
	for the 120 s lease."""
	chall, r, took = _validate_with_fault(rec, pg, "rec1.cobble.test",
	    1700)
	assert took < 8, "valid only after %.1f s" % took
	log = rec.inst.log_text()
	assert "chall=%d cannot record the outcome (try 1 of 3)" % chall in \
	    log, rec.inst.log_tail()
	assert "validation chall=%d " % chall in log
	assert "chall=%d cannot record the outcome: dropped" % chall \
	    not in log
	assert log.count("validation chall=%d " % chall) == 1
	assert " recorded=yes" in log


def test_record_given_up_releases_lease(rec, pg):
	"""Storing fails on every try: the outcome is dropped and the lease
	given back, so a worker validates the challenge again at once (not
	when the 120 s lease ends), and that outcome is stored."""
	chall, r, took = _validate_with_fault(rec, pg, "rec2.cobble.test",
	    3500)
	assert took < 15, "valid only after %.1f s" % took
	log = rec.inst.log_text()
	for i in (1, 2, 3):
		assert "chall=%d cannot record the outcome (try %d of 3)" % (
		    chall, i) in log, rec.inst.log_tail()
	assert "chall=%d cannot record the outcome: dropped, lease given " \
	    "back" % chall in log, rec.inst.log_tail()
	lines = [l for l in log.splitlines()
	    if "validation chall=%d " % chall in l]
	assert len(lines) >= 2, lines
	assert lines[0].endswith(" recorded=no"), lines
	assert lines[-1].endswith(" recorded=yes"), lines


# ---- 5: the embedded cluster after kill -9 ----

def _postmaster_pid(node):
	path = os.path.join(node.state, "pgdata", "postmaster.pid")
	with open(path) as f:
		return int(f.readline())


def _gone(pid, timeout):
	"""Waits until PID has left the process table (zombies count as
	there: on a normal system init reaps them at once)."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if not os.path.exists("/proc/%d" % pid):
			return True
		time.sleep(0.05)
	return False


def _still_there(node, c, cert_url, der):
	"""After a restart: the account and the certificate are still
	there."""
	n = Acme(node.base + "/directory", node.root, c.key)
	n.kid = c.kid
	r = n.get(cert_url)
	assert r.status_code == 200, (r.status_code, r.text)
	got = load_cert(split_pem(r.text)[0]).public_bytes(
	    serialization.Encoding.DER)
	assert got == der
	r = n.post(n.kid, None)
	assert r.status_code == 200, r.text
	return n


def _zombie(pid, timeout):
	"""Waits until PID (a child of a live cobble) has died."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		try:
			with open("/proc/%d/stat" % pid) as f:
				if f.read().rsplit(") ", 1)[1][0] == "Z":
					return True
		except OSError:
			return True
		time.sleep(0.05)
	return False


@pytest.fixture
def emb(request, dns):
	"""An embedded-storage cobble with its own state_dir that has issued
	one certificate: (node, HTTP-01 responder, client, cert URL, DER)."""
	before = request.session.testsfailed
	node = Node(dns, "stor-emb")
	h01 = Http01Server(node.config["validator"]["http01_port"])
	try:
		node.start()
		c = client(node)
		c.register()
		_, cert_url, der = issue(c, h01, ["emb.cobble.test"], node.dir)
		yield node, h01, c, cert_url, der
	finally:
		h01.close()
		node.cleanup(keep=request.session.testsfailed != before)


def test_embedded_restart_after_kill9(emb):
	"""kill -9 of cobble alone: its postgres gets SIGINT (PDEATHSIG) and
	shuts down; a restart right away (as a supervisor would do) must come
	up on the same data."""
	node, h01, c, cert_url, der = emb
	pm = _postmaster_pid(node)
	node.kill9()
	node.start()
	assert _gone(pm, 15), "embedded postgres %d outlived cobble" % pm
	c = _still_there(node, c, cert_url, der)
	issue(c, h01, ["emb2.cobble.test"], node.dir)
	node.stop()


def test_embedded_postmaster_killed(emb):
	"""kill -9 of the embedded postmaster under a running cobble: cobble
	logs it and starts it again by itself; meanwhile POSTs get a quick
	serverInternal problem, then orders work again, on the same data."""
	node, h01, c, cert_url, der = emb
	pm = _postmaster_pid(node)
	c.new_nonce()
	os.kill(pm, signal.SIGKILL)
	# Reaped by cobble (not left a zombie) within its 200 ms look.
	assert _gone(pm, 5), "postgres %d not reaped by cobble" % pm
	t0 = time.monotonic()
	fails = 0
	while True:
		r, t1 = post_timed(c, c.dir["newOrder"], {"identifiers": [
		    {"type": "dns", "value": "revived.cobble.test"}]})
		if r.status_code == 201:
			break
		db_problem(r, t1)
		fails += 1
		assert time.monotonic() - t0 < 30, \
		    "no order 30 s after the postmaster died: %s" % r.text
		time.sleep(0.1)
	assert fails >= 1, "no request failed while postgres was down"
	assert node.alive()
	pm2 = _postmaster_pid(node)
	assert pm2 != pm
	log = node.inst.log_text()
	assert "err: sa: embedded PostgreSQL (pid %d) was killed by signal 9" \
	    % pm in log, node.inst.log_tail()
	c = _still_there(node, c, cert_url, der)
	issue(c, h01, ["revived2.cobble.test"], node.dir)
	# A clean stop: the new postmaster goes with cobble, not restarted.
	node.stop(allow_5xx=True)
	assert _gone(pm2, 15), "embedded postgres %d outlived cobble" % pm2
	assert "starting it again" not in node.inst.log_text()[len(log):]


def test_embedded_restart_stale_postmaster_pid(emb):
	"""postgres killed with SIGKILL first (postmaster.pid stays behind),
	then cobble: the next start removes the stale lock. Then a
	postmaster.pid naming a live process that is not PostgreSQL (a pid
	reused after a reboot): also stale."""
	node, h01, c, cert_url, der = emb
	pidfile = os.path.join(node.state, "pgdata", "postmaster.pid")
	with open(pidfile) as f:
		lock = f.read().splitlines()
	pm = int(lock[0])
	# Cobble stopped first, or it would start postgres again at once.
	node.inst.proc.send_signal(signal.SIGSTOP)
	os.kill(pm, signal.SIGKILL)
	assert _zombie(pm, 10), "postgres %d survived SIGKILL" % pm
	assert node.alive()
	node.kill9()
	# Orphaned zombies are reaped by init: at once on a normal system,
	# within a second or so on this test machine's init.
	assert _gone(pm, 15), "postgres %d not reaped" % pm
	assert os.path.exists(pidfile), "no stale postmaster.pid to test"
	node.start()
	assert "removing stale %s" % pidfile in node.inst.log_text()
	c = _still_there(node, c, cert_url, der)
	_, cert2_url, der2 = issue(c, h01, ["emb3.cobble.test"], node.dir)

	pm = _postmaster_pid(node)
	node.kill9()
	assert _gone(pm, 15), "embedded postgres %d outlived cobble" % pm
	assert not os.path.exists(pidfile), "postgres did not stop cleanly"
	other = subprocess.Popen(["sleep", "60"])
	try:
		lock[0] = str(other.pid)
		write(pidfile, "\n".join(lock) + "\n")
		shutil.chown(pidfile, "postgres", "postgres")
		os.chmod(pidfile, 0o600)
		node.start()
		assert "removing stale %s (pid %d " % (pidfile, other.pid) in \
		    node.inst.log_text()
		assert other.poll() is None
	finally:
		other.kill()
		other.wait()
	c = _still_there(node, c, cert_url, der)
	c = _still_there(node, c, cert2_url, der2)
	node.stop()
