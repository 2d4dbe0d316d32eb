# SPDX-License-Identifier: ISC
"""cobble-bench (tools/bench) against a real `cobble serve`: a short load
with real HTTP-01 validation through the tool's built-in responder on the
validator's test port must report every issuance and no error in --json;
several names per order with RSA keys; failures are reported by problem
type; the human report and usage errors; tls-alpn-01 validated for real
by Pebble through the tool's TLS-ALPN-01 responder, dns-01 and tls-alpn-01
answered against Pebble in its always-valid mode; and the measurement
scripts:
compare.sh's rounds and median, memory.sh's RSS samples."""

import json
import os
import shutil
import subprocess
import tempfile
import types

import pytest

from conftest import tail, wait_tcp
from e2e_util import free_port, make_tmpdir

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SUFFIX = "bench.cobble.test"  # under the dns fixture's zone cobble.test

STEPS = ("newNonce", "newAccount", "newOrder", "authz", "challenge",
    "validationWait", "finalize", "orderWait", "download", "issuance")


def bench_bin():
	"""cobble-bench from COBBLE_BENCH_BIN, else next to the cobble binary
	under test (same build folder), else build/."""
	b = os.environ.get("COBBLE_BENCH_BIN")
	if not b and os.environ.get("COBBLE_BIN"):
		build = os.path.dirname(os.path.dirname(os.environ["COBBLE_BIN"]))
		b = os.path.join(build, "tools", "bench", "cobble-bench")
	if not b:
		b = os.path.join(REPO, "build", "tools", "bench", "cobble-bench")
	if not os.access(b, os.X_OK):
		pytest.fail("cobble-bench not found at %s (set COBBLE_BENCH_BIN)"
		    % b)
	return b


def run_bench(cobble, *args, json_out=True, timeout=120):
	cmd = [bench_bin(), "--directory", cobble.url, "--ca-bundle",
	    cobble.root, "--responder", "127.0.0.1:%d" % cobble.http01_port,
	    "--domain-suffix", SUFFIX, "--poll-interval", "20", "--quiet",
	    *args]
	if json_out:
		cmd.append("--json")
	r = subprocess.run(cmd, capture_output=True, text=True,
	    timeout=timeout)
	return r


def report(r):
	assert r.returncode == 0, "cobble-bench failed (%d): %s" % (
	    r.returncode, r.stderr)
	try:
		return json.loads(r.stdout)
	except ValueError:
		raise AssertionError("not JSON: %r / %s" % (r.stdout, r.stderr))


def test_twenty_issuances_no_errors(cobble):
	rep = report(run_bench(cobble, "--certificates", "20",
	    "--concurrency", "4"))
	assert rep["issued"] == 20, rep
	assert rep["failed"] == 0, rep
	assert rep["errors"] == 0, rep["errors_by_type"]
	assert rep["errors_by_type"] == {}
	assert rep["issuances_per_s"] > 0
	assert rep["config"]["validation"] == "http-01"
	assert rep["config"]["concurrency"] == 4
	assert rep["config"]["accounts"] == 4
	lat = rep["latency_ms"]
	assert set(lat) == set(STEPS)
	for step in ("newOrder", "authz", "challenge", "validationWait",
	    "finalize", "download", "issuance"):
		assert lat[step]["count"] == 20, (step, lat[step])
		h = lat[step]
		assert 0 <= h["min"] <= h["p50"] <= h["p90"] <= h["p99"] <= \
		    h["max"], (step, h)
	assert lat["newAccount"]["count"] == 4
	assert lat["newNonce"]["count"] == 4  # then Replay-Nonce is reused
	# The CA really fetched every token from the responder.
	assert rep["responder"]["found"] >= 20, rep["responder"]
	# The whole issuance takes at least as long as its slowest step.
	assert lat["issuance"]["max"] >= lat["finalize"]["max"]
	assert rep["requests"] >= 20 * 6


def test_several_names_rsa(cobble):
	rep = report(run_bench(cobble, "--certificates", "4",
	    "--concurrency", "2", "--accounts", "1", "--names", "3",
	    "--account-key", "rs256", "--cert-key", "rsa2048"))
	assert rep["issued"] == 4 and rep["errors"] == 0, rep
	assert rep["latency_ms"]["authz"]["count"] == 12
	assert rep["latency_ms"]["challenge"]["count"] == 12
	assert rep["responder"]["found"] >= 12
	assert rep["config"]["account_key"] == "rs256"


def test_failures_reported_by_problem_type(cobble):
	# --always-valid starts no responder, but this Cobble validates for
	# real: nothing answers on its HTTP-01 port, so every authorization
	# fails with a connection problem and the tool says so.
	rep = report(run_bench(cobble, "--certificates", "3",
	    "--concurrency", "1", "--always-valid"))
	assert rep["issued"] == 0, rep
	assert rep["failed"] == 3
	assert rep["errors"] == 3
	assert rep["errors_by_type"] == {"connection": 3}, rep
	assert rep["latency_ms"]["issuance"]["count"] == 0
	assert "responder" not in rep


def test_other_type_not_offered(cobble):
	# Cobble offers only http-01: asked for dns-01, every issuance fails
	# with a protocol error that names the missing type.
	rep = report(run_bench(cobble, "--certificates", "2",
	    "--concurrency", "1", "--always-valid", "--challenge", "dns-01"))
	assert rep["issued"] == 0 and rep["failed"] == 2, rep
	assert rep["errors_by_type"] == {"protocol": 2}, rep
	assert rep["config"]["challenge"] == "dns-01"


def _start_pebble(d, env_extra, args_extra=()):
	"""Debian's Pebble in D on free ports, its validation ports pointed at
	free ports too; returns (process, log file, url, TLS-ALPN-01 port)."""
	pebble = shutil.which("pebble")
	if pebble is None:
		pytest.fail("pebble missing: apt-get install -y pebble")
	port, mgmt, tls_port = free_port(), free_port(), free_port()
	ossl = ["openssl", "req", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:P-256", "-nodes", "-days", "2"]
	subprocess.run(ossl + ["-x509", "-keyout", d + "/root.key", "-out",
	    d + "/root.pem", "-subj", "/CN=test_bench pebble root"], check=True,
	    capture_output=True)
	subprocess.run(ossl + ["-keyout", d + "/key.pem", "-out",
	    d + "/req.pem", "-subj", "/CN=localhost"], check=True,
	    capture_output=True)
	with open(d + "/ext", "w") as f:
		f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
	subprocess.run(["openssl", "x509", "-req", "-in", d + "/req.pem",
	    "-CA", d + "/root.pem", "-CAkey", d + "/root.key",
	    "-CAcreateserial", "-days", "2", "-extfile", d + "/ext", "-out",
	    d + "/cert.pem"], check=True, capture_output=True)
	with open(d + "/pebble.json", "w") as f:
		json.dump({"pebble": {
		    "listenAddress": "127.0.0.1:%d" % port,
		    "managementListenAddress": "127.0.0.1:%d" % mgmt,
		    "certificate": d + "/cert.pem", "privateKey": d + "/key.pem",
		    "httpPort": free_port(), "tlsPort": tls_port,
		    "ocspResponderURL": "",
		    "externalAccountBindingRequired": False}}, f)
	env = dict(os.environ, PEBBLE_VA_NOSLEEP="1",
	    PEBBLE_WFE_NONCEREJECT="0", **env_extra)
	log = open(d + "/pebble.log", "wb")
	proc = subprocess.Popen([pebble, "-config", d + "/pebble.json",
	    *args_extra], stdout=log, stderr=subprocess.STDOUT, env=env)
	if not wait_tcp(port, 30, proc):
		proc.kill()
		log.close()
		pytest.fail("pebble did not start:\n" + tail(d + "/pebble.log"))
	return proc, log, "https://localhost:%d/dir" % port, tls_port


def _pebble_fixture(env_extra, args_extra=()):
	d = make_tmpdir("pebble")
	proc, log, url, tls_port = _start_pebble(d, env_extra, args_extra)
	try:
		yield types.SimpleNamespace(url=url, root=d + "/root.pem",
		    http01_port=tls_port, log=d + "/pebble.log")
	finally:
		proc.terminate()
		proc.wait(timeout=30)
		log.close()
		shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def pebble_always_valid():
	"""Pebble with PEBBLE_VA_ALWAYS_VALID=1: it offers http-01, dns-01 and
	tls-alpn-01 and validates nothing."""
	yield from _pebble_fixture({"PEBBLE_VA_ALWAYS_VALID": "1"})


@pytest.fixture(scope="module")
def pebble_validating(dns):
	"""Pebble validating for real: names resolve through the dns fixture's
	BIND (every name under its zone is 127.0.0.1), TLS-ALPN-01 on the port
	given to cobble-bench's --responder (as http01_port)."""
	yield from _pebble_fixture({}, ("-dnsserver", dns.server))


def test_tls_alpn_01_validated(pebble_validating):
	# Pebble connects to the built-in responder for every authorization
	# and checks the acmeIdentifier certificate (RFC 8737).
	rep = report(run_bench(pebble_validating, "--certificates", "3",
	    "--concurrency", "1", "--challenge", "tls-alpn-01"))
	assert rep["issued"] == 3 and rep["failed"] == 0, (rep,
	    tail(pebble_validating.log))
	assert rep["config"]["challenge"] == "tls-alpn-01"
	assert rep["config"]["validation"] == "tls-alpn-01"
	assert rep["responder"]["found"] >= 3, rep["responder"]


@pytest.mark.parametrize("challenge", ["dns-01", "tls-alpn-01"])
def test_always_valid_types(pebble_always_valid, challenge):
	rep = report(run_bench(pebble_always_valid, "--certificates", "3",
	    "--concurrency", "1", "--always-valid", "--challenge", challenge))
	assert rep["issued"] == 3 and rep["failed"] == 0, rep
	assert rep["latency_ms"]["challenge"]["count"] == 3, rep
	assert rep["config"]["challenge"] == challenge
	assert rep["config"]["validation"] == "always-valid"
	assert "responder" not in rep


def test_human_report(cobble):
	r = run_bench(cobble, "--certificates", "2", "--concurrency", "2",
	    json_out=False)
	assert r.returncode == 0, r.stderr
	assert "2 issued, 0 failed" in r.stdout, r.stdout
	assert "issuances/s:" in r.stdout
	assert "newOrder" in r.stdout and "p99" in r.stdout


def test_usage_errors():
	for args in (["--concurrency", "0"], ["--account-key", "p384"],
	    ["--challenge", "dns-01"], ["--duration", "1", "--certificates",
	    "1"]):
		r = subprocess.run([bench_bin(), "--directory",
		    "https://127.0.0.1:1/directory", *args],
		    capture_output=True, text=True, timeout=30)
		assert r.returncode == 2, (args, r.stdout, r.stderr)
		assert "cobble-bench" in r.stderr


def test_unreachable_directory():
	r = subprocess.run([bench_bin(), "--directory",
	    "https://127.0.0.1:1/directory", "--quiet"], capture_output=True,
	    text=True, timeout=30)
	assert r.returncode == 1
	assert "127.0.0.1:1" in r.stderr or "port 1" in r.stderr, r.stderr


# ---- the measurement scripts (bench/) ----

def script_env():
	env = dict(os.environ)
	env["BENCH_BIN"] = bench_bin()
	if os.environ.get("COBBLE_BIN"):
		env["COBBLE_BIN"] = os.environ["COBBLE_BIN"]
	return env


def test_compare_rounds_report_the_median():
	"""compare.sh -r: each round on a fresh state, every round's rate
	listed, the table showing the median round."""
	r = subprocess.run([os.path.join(REPO, "bench", "compare.sh"), "-o",
	    "cobble", "-d", "2", "-c", "4", "-r", "3"], capture_output=True,
	    text=True, timeout=300, env=script_env())
	assert r.returncode == 0, r.stderr
	assert r.stderr.count("compare.sh: round ") == 3, r.stderr
	rates = None
	table = None
	for line in r.stdout.splitlines():
		if line.startswith("cobble issuances/s by round, sorted: "):
			rates = [float(v) for v in line.split(": ", 1)[1].split(
			    " (")[0].split(", ")]
		elif line.startswith("issuances/s "):
			table = float(line.split()[1])
		elif line.startswith("failed "):
			assert line.split()[1] == "0", r.stdout
	assert rates is not None and len(rates) == 3, r.stdout
	assert rates == sorted(rates) and rates[0] > 0, rates
	assert table == rates[1], (table, rates)
	steals = [l for l in r.stdout.splitlines()
	    if l.startswith("cobble steal % by round, in the same order: ")]
	assert steals and len(steals[0].split(": ")[1].split(", ")) == 3, \
	    r.stdout


def test_memory_samples_rss():
	"""memory.sh: the server's VmRSS sampled while the load runs."""
	r = subprocess.run([os.path.join(REPO, "bench", "memory.sh"), "-d",
	    "4", "-i", "1", "-c", "4"], capture_output=True, text=True,
	    timeout=300, env=script_env())
	assert r.returncode == 0, r.stderr
	lines = r.stdout.splitlines()
	assert lines[0].split() == ["seconds", "VmRSS", "(kB)"], r.stdout
	samples = [l.split() for l in lines[1:] if l.strip()[:1].isdigit()]
	assert len(samples) >= 2, r.stdout
	assert all(int(kb) > 1000 for _, kb in samples), samples
	issued = [l for l in lines if l.startswith("issued ")]
	assert issued and int(issued[0].split()[1]) > 0, r.stdout


def load_order(stderr):
	"""Which server each round of compare.sh loaded first, then second."""
	rounds = []
	for line in stderr.splitlines():
		if line.startswith("compare.sh: round "):
			rounds.append([])
		for name in ("pebble", "cobble"):
			if line.startswith("compare.sh: %s: " % name) and \
			    "of load" in line and name not in rounds[-1]:
				rounds[-1].append(name)
	return rounds


def test_compare_with_pebble():
	"""compare.sh without -o: both servers under the same load, Pebble
	first in odd rounds and Cobble first in even ones; one table with
	both and the ratio."""
	r = subprocess.run([os.path.join(REPO, "bench", "compare.sh"), "-d",
	    "2", "-c", "4", "-r", "2"], capture_output=True, text=True,
	    timeout=300, env=script_env())
	assert r.returncode == 0, r.stderr
	assert load_order(r.stderr) == [["pebble", "cobble"],
	    ["cobble", "pebble"]], r.stderr
	head = r.stdout.splitlines()[1].split()
	assert head == ["cobble", "pebble", "cobble/peb"], r.stdout
	rate = [l.split() for l in r.stdout.splitlines()
	    if l.startswith("issuances/s ")][0]
	cobble, pebble, ratio = (float(v) for v in rate[1:4])
	assert cobble > 0 and pebble > 0, r.stdout
	assert abs(ratio - cobble / pebble) < 0.01, r.stdout
	cpu = dict((l.split()[1], l.split()[3:]) for l in r.stdout.splitlines()
	    if l.startswith("cpu "))
	# Each server's own CPU per issuance, its database's, the load
	# generator's; "all" adds them up.
	for prog in ("cobble", "postgres", "cobble-bench", "all"):
		assert prog in cpu, r.stdout
	assert float(cpu["cobble"][0]) > 0 and cpu["cobble"][1] == "-"
	assert float(cpu["pebble"][1]) > 0 and cpu["pebble"][0] == "-"
	assert float(cpu["all"][0]) > float(cpu["cobble"][0]), r.stdout
	# The machine's share of busy, idle and stolen CPU time during each
	# server's load adds up to 100%.
	machine = dict((l.split()[1], [int(v) for v in l.split()[3:5]])
	    for l in r.stdout.splitlines() if l.startswith("machine "))
	assert sorted(machine) == ["busy", "idle", "steal"], r.stdout
	for col in (0, 1):
		shares = [machine[k][col] for k in machine]
		assert 98 <= sum(shares) <= 102, r.stdout
		assert machine["busy"][col] > 0, r.stdout


@pytest.fixture
def state_dir():
	"""A folder the embedded PostgreSQL's user can reach (pytest's tmp_path
	is private to root)."""
	d = tempfile.mkdtemp(prefix="cobble-loaddb-")
	os.chmod(d, 0o755)
	yield os.path.join(d, "state")
	shutil.rmtree(d, ignore_errors=True)


def test_load_db_then_load(state_dir):
	"""load-db.sh adds synthetic history to a state directory Cobble made;
	Cobble then issues on that database as before."""
	state = state_dir
	compare = os.path.join(REPO, "bench", "compare.sh")
	r = subprocess.run([compare, "-o", "cobble", "-d", "1", "-c", "2",
	    "-s", state], capture_output=True, text=True, timeout=300,
	    env=script_env())
	assert r.returncode == 0, r.stderr
	r = subprocess.run([os.path.join(REPO, "bench", "load-db.sh"), "-s",
	    state, "-c", "3000", "-a", "300", "-k", "1000"],
	    capture_output=True, text=True, timeout=300, env=script_env())
	assert r.returncode == 0, r.stderr
	done = [l for l in r.stderr.splitlines() if " now " in l]
	assert done, r.stderr
	words = done[0].split()
	accounts = int(words[words.index("accounts,") - 1])
	certs = int(words[words.index("certificates,") - 1])
	assert accounts >= 300 and certs >= 3000, done[0]
	r = subprocess.run([compare, "-o", "cobble", "-d", "2", "-c", "4",
	    "-s", state], capture_output=True, text=True, timeout=300,
	    env=script_env())
	assert r.returncode == 0, r.stderr
	lines = dict(l.split(None, 1) for l in r.stdout.splitlines()
	    if l.startswith(("issued ", "failed ")))
	assert int(lines["issued"]) > 0 and lines["failed"].strip() == "0", \
	    r.stdout
