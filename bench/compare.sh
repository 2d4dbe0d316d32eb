#!/bin/sh
# SPDX-License-Identifier: ISC
# Runs the same cobble-bench load against Pebble and against Cobble, one
# after the other on this machine, and prints both with the ratio.
#
# Both CAs validate HTTP-01 for real against cobble-bench's built-in
# responder and resolve names through a private BIND9 whose zone answers
# 127.0.0.1 for every name under the bench suffix. Pebble runs with
# PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0; Cobble with its embedded
# PostgreSQL and durable commits (storage.synchronous_commit true).
#
# usage: bench/compare.sh [-d SECONDS] [-c CONCURRENCY] [-a ACCOUNTS]
#            [-p POLL_MS] [-o cobble|pebble] [-k] [-w DIR] [-x ARGS]
#            [-s STATE_DIR] [-r ROUNDS]
#   -d  load duration per server (default 30)
#   -c  concurrency (default 32)
#   -a  accounts (default: the concurrency)
#   -p  --poll-interval of cobble-bench in ms (default 10)
#   -o  run only one of the two servers
#   -k  keep the work folder (logs, reports) instead of deleting it
#   -w  work folder (default: a new one under /tmp)
#   -x  extra cobble-bench arguments (e.g. "--names 2")
#   -s  Cobble's state directory, kept after the run (default: a fresh
#       one in the work folder); with bench/load-db.sh, measures Cobble
#       with a full database
#   -r  rounds (default 1): the servers take turns ROUNDS times (Pebble
#       first in odd rounds, Cobble first in even ones), each
#       round on a fresh state (unless -s); the table shows each
#       server's median round and every round's issuances per second
#       (on a shared machine one run can be 20% off)
# Environment: COBBLE_BIN, BENCH_BIN (default: build/ of this checkout),
# PEBBLE_BIN (default: pebble), PEBBLE_SEGMENTS (restarts of a deadlocked
# Pebble, default 10), COBBLE_EXTRA_CONFIG (JSON merged into Cobble's
# configuration, e.g. '{"server": {"threads": 2}}').
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
COBBLE_BIN=${COBBLE_BIN:-$ROOT/build/server/cobble}
BENCH_BIN=${BENCH_BIN:-$ROOT/build/tools/bench/cobble-bench}
PEBBLE_BIN=${PEBBLE_BIN:-pebble}
PY=/usr/bin/python3
PEBBLE_SEGMENTS=${PEBBLE_SEGMENTS:-10}
SUFFIX=bench.cobble.test
DURATION=30
CONC=32
ACCOUNTS=
POLL=10
ONLY=
KEEP=0
WORK=
EXTRA=

STATE=
ROUNDS=1
while getopts d:c:a:p:o:kw:x:s:r: opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	c) CONC=$OPTARG ;;
	a) ACCOUNTS=$OPTARG ;;
	p) POLL=$OPTARG ;;
	o) ONLY=$OPTARG ;;
	k) KEEP=1 ;;
	w) WORK=$OPTARG ;;
	x) EXTRA=$OPTARG ;;
	s) STATE=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) sed -n '/^# usage/,/^# PEBBLE_BIN/p' "$0" | cut -c3- >&2; exit 2 ;;
	esac
done
ACCOUNTS=${ACCOUNTS:-$CONC}

for b in "$COBBLE_BIN" "$BENCH_BIN"; do
	[ -x "$b" ] || { echo "compare.sh: $b not built" >&2; exit 1; }
done
if ! command -v "$PEBBLE_BIN" >/dev/null 2>&1 && [ "$ONLY" != cobble ]; then
	echo "compare.sh: pebble missing: apt-get install -y pebble" >&2
	exit 1
fi

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/cobble-compare-XXXXXX)
fi
mkdir -p "$WORK"
chmod 755 "$WORK" # the embedded PostgreSQL runs as postgres

PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$KEEP" = 1 ]; then
		echo "compare.sh: work folder kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free TCP (and UDP) ports on 127.0.0.1, one per line.
free_ports() {
	$PY - "$1" <<'EOF'
import socket, sys
seen = []
while len(seen) < int(sys.argv[1]):
	t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	try:
		u.bind(("127.0.0.1", p))
	except OSError:
		continue
	finally:
		t.close(); u.close()
	if p not in seen:
		seen.append(p)
print("\n".join(map(str, seen)))
EOF
}

set -- $(free_ports 6)
DNS_PORT=$1 COBBLE_PORT=$2 PEBBLE_PORT=$3 PEBBLE_MGMT=$4 RESP_PORT=$5
PEBBLE_TLS=$6

# Waits up to $2 seconds for URL $1 to answer 200 (trusting $3).
wait_url() {
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		if curl -sf -o /dev/null --cacert "$3" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# ---- BIND9: every name under the suffix is 127.0.0.1 ----
start_dns() {
	d=$WORK/dns
	mkdir -p "$d"
	cat >"$d/named.conf" <<EOF
options {
	directory "$d";
	pid-file "$d/named.pid";
	session-keyfile "$d/session.key";
	managed-keys-directory "$d";
	listen-on port $DNS_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
zone "$SUFFIX" { type primary; file "$d/zone"; };
EOF
	cat >"$d/zone" <<EOF
\$TTL 60
\$ORIGIN $SUFFIX.
@	IN SOA ns.$SUFFIX. hostmaster.$SUFFIX. 1 3600 600 86400 60
@	IN NS ns.$SUFFIX.
@	IN A 127.0.0.1
*	IN A 127.0.0.1
EOF
	named -c "$d/named.conf" -g -n 1 >"$d/named.log" 2>&1 &
	DNS_PID=$!
	PIDS="$PIDS $DNS_PID"
	i=0
	until [ "$(dig +short -p "$DNS_PORT" @127.0.0.1 probe.$SUFFIX A \
	    2>/dev/null)" = 127.0.0.1 ]; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "compare.sh: BIND did not start" >&2
			tail "$d/named.log" >&2
			exit 1
		fi
		sleep 0.2
	done
}

# CPU time (ms, user + system) used so far by the process trees rooted at
# the given PIDs, by program: "cobble=... postgres=... named=..." on a line.
cpu_trees() {
	$PY - "$@" <<'EOF'
import os, sys
tick = 1000.0 / os.sysconf("SC_CLK_TCK")
procs = {}
for p in os.listdir("/proc"):
	if not p.isdigit():
		continue
	try:
		with open("/proc/%s/stat" % p) as f:
			s = f.read()
	except OSError:
		continue
	comm = s[s.index("(") + 1:s.rindex(")")]
	f = s[s.rindex(")") + 2:].split()
	procs[int(p)] = (int(f[1]), comm, int(f[11]) + int(f[12]))
roots = set(int(a) for a in sys.argv[1:])
by = {}
for pid, (ppid, comm, t) in procs.items():
	q = pid
	while q and q not in roots:
		q = procs.get(q, (0,))[0]
	if q:
		name = comm.split()[0] if comm.startswith("postgres") else comm
		by[name] = by.get(name, 0) + t * tick
print(" ".join("%s=%d" % kv for kv in sorted(by.items())))
EOF
}

# The CPU time between two cpu_trees lines $1 and $2, a program a line.
cpu_delta() {
	$PY - "$1" "$2" <<'EOF'
import sys
a, b = (dict((k, int(v)) for k, v in (w.split("=") for w in x.split()))
    for x in sys.argv[1:3])
for k in sorted(b):
	print("%s=%d" % (k, b[k] - a.get(k, 0)))
EOF
}

# The whole machine's CPU time so far, in clock ticks: "busy idle steal"
# (busy: user, nice, system, irq, softirq; idle: idle and iowait). Steal
# is time the hypervisor gave this VM's CPUs to others: a run with much
# of it measured a slower machine than the one described.
machine_ticks() {
	awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6, $9; exit}' /proc/stat
}

# Runs cobble-bench against directory $1 trusting $2; JSON report in $3,
# its CPU time (ms) in $3.cpu; more cobble-bench options after.
run_bench() {
	url_=$1 ca_=$2 out_=$3
	shift 3
	# shellcheck disable=SC2086
	$PY -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
	f.write("cobble-bench=%d\n" % ((ru.ru_utime + ru.ru_stime) * 1000))
sys.exit(rc)' "$out_.cpu" \
	    "$BENCH_BIN" --directory "$url_" --ca-bundle "$ca_" "$@" \
	    --concurrency "$CONC" --accounts "$ACCOUNTS" \
	    --duration "$DURATION" --account-key es256 --cert-key p256 \
	    --challenge http-01 --responder "127.0.0.1:$RESP_PORT" \
	    --poll-interval "$POLL" --domain-suffix "$SUFFIX" \
	    --json $EXTRA >"$out_" 2>"$out_.log"
}

# ---- Cobble ----
run_cobble() {
	d=$WORK/cobble
	mkdir -p "$d"
	chmod 755 "$d"
	[ -n "$STATE" ] || rm -rf "$d/state"
	st=${STATE:-$d/state}
	mkdir -p "$st"
	chmod 755 "$st"
	st=$(cd "$st" && pwd) # the configuration needs an absolute path
	$PY - "$st" "$COBBLE_PORT" "$RESP_PORT" "$DNS_PORT" \
	    "${COBBLE_EXTRA_CONFIG:-}" >"$d/cobble.json" <<'EOF'
import json, sys
d, port, resp, dns, extra = sys.argv[1:6]
cfg = {
	"state_dir": d,
	"log": {"level": "warning"},
	"server": {"listen": "127.0.0.1", "port": int(port)},
	"storage": {"synchronous_commit": True},
	"validator": {"http01_port": int(resp),
	    "dns_server": "127.0.0.1:" + dns, "allow_loopback": True},
}
def merge(a, b):
	for k, v in b.items():
		if isinstance(v, dict) and isinstance(a.get(k), dict):
			merge(a[k], v)
		else:
			a[k] = v
merge(cfg, json.loads(extra or "{}"))
json.dump(cfg, sys.stdout, indent=1)
EOF
	"$COBBLE_BIN" serve -c "$d/cobble.json" >"$d/cobble.log" 2>&1 &
	cpid=$!
	PIDS="$PIDS $cpid"
	i=0
	until [ -f "$st/ca/root.pem" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "compare.sh: cobble did not start" >&2;
		    tail "$d/cobble.log" >&2; exit 1; }
		sleep 0.2
	done
	url=https://localhost:$COBBLE_PORT/directory
	wait_url "$url" 60 "$st/ca/root.pem" ||
	    { echo "compare.sh: no $url" >&2; tail "$d/cobble.log" >&2; exit 1; }
	echo "compare.sh: cobble: ${DURATION}s of load..." >&2
	cpu0=$(cpu_trees "$cpid" "$DNS_PID")
	ticks0=$(machine_ticks)
	run_bench "$url" "$st/ca/root.pem" "$WORK/cobble.report.json" \
	    --stall-timeout 5 ||
	    { echo "compare.sh: cobble-bench failed against cobble" >&2;
	    cat "$WORK/cobble.report.json.log" >&2; exit 1; }
	cpu_delta "$cpu0" "$(cpu_trees "$cpid" "$DNS_PID")" \
	    >>"$WORK/cobble.report.json.cpu"
	echo "$ticks0 $(machine_ticks)" >"$WORK/cobble.report.json.ticks"
	ps -o rss= -p "$cpid" >"$WORK/cobble.rss" 2>/dev/null || true
	kill "$cpid"
	wait "$cpid" 2>/dev/null || true
}

# ---- Pebble ----
run_pebble() {
	d=$WORK/pebble
	mkdir -p "$d"
	# Pebble's HTTPS certificate: a throw-away root and a leaf.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/root.key" -out "$d/root.pem" -days 2 \
	    -subj "/CN=compare.sh pebble root" >/dev/null 2>&1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/key.pem" -out "$d/req.pem" -subj "/CN=localhost" \
	    >/dev/null 2>&1
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/ext"
	openssl x509 -req -in "$d/req.pem" -CA "$d/root.pem" \
	    -CAkey "$d/root.key" -CAcreateserial -days 2 -extfile "$d/ext" \
	    -out "$d/cert.pem" >/dev/null 2>&1
	cat >"$d/pebble.json" <<EOF
{"pebble": {
	"listenAddress": "127.0.0.1:$PEBBLE_PORT",
	"managementListenAddress": "127.0.0.1:$PEBBLE_MGMT",
	"certificate": "$d/cert.pem",
	"privateKey": "$d/key.pem",
	"httpPort": $RESP_PORT,
	"tlsPort": $PEBBLE_TLS,
	"ocspResponderURL": "",
	"externalAccountBindingRequired": false
}}
EOF
	# Pebble 2.4.0 (Debian 12) can deadlock under this load (a lock-order
	# bug in its in-memory store; see docs/benchmarks.md): cobble-bench
	# then stops at --stall-timeout, Pebble is restarted, and the load
	# goes on until the segments add up to the duration (at most
	# PEBBLE_SEGMENTS of them). merge_pebble adds the segments up.
	rm -f "$WORK"/pebble.seg*.json "$WORK"/pebble.seg*.json.log \
	    "$WORK"/pebble.seg*.json.cpu "$WORK"/pebble.seg*.json.ticks
	seg=0
	while [ $seg -lt "$PEBBLE_SEGMENTS" ]; do
		left=$($PY - "$WORK" "$DURATION" <<'EOF'
import glob, json, sys
done = 0.0
for p in glob.glob(sys.argv[1] + "/pebble.seg*.json"):
	with open(p) as f:
		done += json.load(f)["elapsed_s"]
left = float(sys.argv[2]) - done
print("%.1f" % left if left >= 1 else "0")
EOF
)
		[ "$left" != 0 ] || break
		seg=$((seg + 1))
		PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 "$PEBBLE_BIN" \
		    -config "$d/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" \
		    >"$d/pebble.$seg.log" 2>&1 &
		pbpid=$!
		PIDS="$PIDS $pbpid"
		url=https://localhost:$PEBBLE_PORT/dir
		wait_url "$url" 60 "$d/root.pem" || { echo "compare.sh: no $url" >&2;
		    tail "$d/pebble.$seg.log" >&2; exit 1; }
		echo "compare.sh: pebble: ${left}s of load (segment $seg)..." >&2
		cpu0=$(cpu_trees "$pbpid" "$DNS_PID")
		ticks0=$(machine_ticks)
		run_bench "$url" "$d/root.pem" "$WORK/pebble.seg$seg.json" \
		    --stall-timeout 5 ||
		    { echo "compare.sh: cobble-bench failed against pebble" >&2;
		    cat "$WORK/pebble.seg$seg.json.log" >&2; exit 1; }
		cpu_delta "$cpu0" "$(cpu_trees "$pbpid" "$DNS_PID")" \
		    >>"$WORK/pebble.seg$seg.json.cpu"
		echo "$ticks0 $(machine_ticks)" \
		    >"$WORK/pebble.seg$seg.json.ticks"
		ps -o rss= -p "$pbpid" >"$WORK/pebble.rss" 2>/dev/null || true
		kill "$pbpid"
		wait "$pbpid" 2>/dev/null || true
	done
	merge_pebble
}

# Adds Pebble's segments up into pebble.report.json: issuances, failures
# (those aborted at a stall apart) and time; latencies are those of the
# segment with the most issuances.
merge_pebble() {
	$PY - "$WORK" <<'EOF'
import glob, json, sys
segs = []
for p in sorted(glob.glob(sys.argv[1] + "/pebble.seg*.json")):
	with open(p) as f:
		segs.append(json.load(f))
if not segs:
	sys.exit(0)
best = max(segs, key=lambda r: r["issued"])
out = dict(best)
out["segments"] = len(segs)
out["stalls"] = sum(1 for r in segs if r.get("stalled"))
out["elapsed_s"] = sum(r["elapsed_s"] for r in segs)
out["issued"] = sum(r["issued"] for r in segs)
errs = {}
for r in segs:
	for k, v in r["errors_by_type"].items():
		errs[k] = errs.get(k, 0) + v
out["aborted_at_stall"] = errs.pop("aborted", 0)
out["errors_by_type"] = errs
out["errors"] = sum(errs.values())
out["failed"] = sum(r["failed"] for r in segs) - out["aborted_at_stall"]
out["issuances_per_s"] = out["issued"] / out["elapsed_s"] \
    if out["elapsed_s"] else 0.0
with open(sys.argv[1] + "/pebble.report.json", "w") as f:
	json.dump(out, f, indent=1)
cpu = {}
for p in glob.glob(sys.argv[1] + "/pebble.seg*.json.cpu"):
	with open(p) as f:
		for k, v in (l.strip().split("=") for l in f if "=" in l):
			cpu[k] = cpu.get(k, 0) + int(v)
with open(sys.argv[1] + "/pebble.report.json.cpu", "w") as f:
	f.writelines("%s=%d\n" % kv for kv in sorted(cpu.items()))
with open(sys.argv[1] + "/pebble.report.json.ticks", "w") as f:
	for p in sorted(glob.glob(sys.argv[1] + "/pebble.seg*.json.ticks")):
		with open(p) as g:
			f.write(g.read())
EOF
}

# Keeps round $2's report and RSS of server $1.
keep_round() {
	for f in report.json report.json.cpu report.json.ticks rss; do
		[ ! -f "$WORK/$1.$f" ] || mv "$WORK/$1.$f" "$WORK/$1.round$2.$f"
	done
}

# Runs server $1 (pebble or cobble) for round $2, unless -o excludes it.
run_round() {
	[ "$ONLY" = "" ] || [ "$ONLY" = "$1" ] || return 0
	"run_$1"
	keep_round "$1" "$2"
}

start_dns
round=1
# Odd rounds run Pebble first, even rounds Cobble first: whatever favours
# one place in a round (a machine warming up or cooling down) favours
# neither server over the rounds.
while [ $round -le "$ROUNDS" ]; do
	[ "$ROUNDS" -eq 1 ] || echo "compare.sh: round $round of $ROUNDS" >&2
	if [ $((round % 2)) -eq 1 ]; then
		run_round pebble $round
		run_round cobble $round
	else
		run_round cobble $round
		run_round pebble $round
	fi
	round=$((round + 1))
done

echo "compare.sh: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo |
    cut -d: -f2 | sed 's/^ //')), duration ${DURATION}s, concurrency $CONC," \
    "accounts $ACCOUNTS, ES256 accounts, P-256 cert keys, real HTTP-01," \
    "poll interval ${POLL} ms"
$PY - "$WORK" <<'EOF'
import json, os, sys
import glob
w = sys.argv[1]
rep, rates, steals = {}, {}, {}
for name in ("pebble", "cobble"):
	rounds = []
	for p in glob.glob(os.path.join(w, name + ".round*.report.json")):
		with open(p) as f:
			r = json.load(f)
		try:
			with open(p.replace(".report.json", ".rss")) as f:
				r["rss_mib"] = int(f.read().split()[0]) / 1024
		except (OSError, ValueError, IndexError):
			pass
		try:
			# one "busy idle steal" before and after line per load
			t = [0, 0, 0]
			with open(p + ".ticks") as f:
				for l in f:
					v = [int(x) for x in l.split()]
					for i in range(3):
						t[i] += v[3 + i] - v[i]
			if sum(t):
				r["machine_pct"] = [100.0 * x / sum(t) for x in t]
		except (OSError, ValueError, IndexError):
			pass
		try:
			with open(p + ".cpu") as f:
				r["cpu_ms"] = dict((k, int(v)) for k, v in
				    (l.strip().split("=") for l in f if "=" in l))
		except (OSError, ValueError):
			pass
		rounds.append(r)
	if rounds:
		rounds.sort(key=lambda r: r["issuances_per_s"])
		rep[name] = rounds[(len(rounds) - 1) // 2]  # the median round
		rates[name] = [r["issuances_per_s"] for r in rounds]
		steals[name] = [r["machine_pct"][2] for r in rounds
		    if "machine_pct" in r]
def get(r, path):
	if path[0] == "latency_ms" and not r.get("latency_ms", {}).get(
	    path[1], {}).get("count"):
		return None
	for k in path:
		r = r.get(k, {}) if isinstance(r, dict) else {}
	return r if isinstance(r, (int, float)) else None
rows = [("issuances/s", ("issuances_per_s",)),
	("issued", ("issued",)), ("failed", ("failed",)),
	("errors", ("errors",)), ("badNonce retries", ("bad_nonce_retries",)),
	("RSS at end (MiB)", ("rss_mib",))]
for step in ("newNonce", "newAccount", "newOrder", "authz", "challenge",
    "validationWait", "finalize", "orderWait", "download", "issuance"):
	for q in ("p50", "p99"):
		rows.append(("%s %s (ms)" % (step, q), ("latency_ms", step, q)))
names = [n for n in ("cobble", "pebble") if n in rep]
hdr = "%-26s" % "" + "".join("%12s" % n for n in names)
if len(names) == 2:
	hdr += "%12s" % "cobble/peb"
print(hdr)
for label, path in rows:
	vals = [get(rep[n], path) for n in names]
	if all(v is None for v in vals):
		continue
	line = "%-26s" % label
	for v in vals:
		line += "%12s" % ("-" if v is None else
		    ("%.1f" % v if isinstance(v, float) else str(v)))
	if len(vals) == 2 and vals[0] is not None and vals[1]:
		line += "%12.2f" % (vals[0] / vals[1])
	print(line)
# CPU time per issuance of each program (process CPU time over the run,
# divided by issuances): what the load costs, whatever else the machine
# was doing.
progs = sorted(set(k for n in names for k in rep[n].get("cpu_ms", {})))
for prog in progs + ["all"]:
	line = "%-26s" % ("cpu %s (ms)" % prog)
	vals = []
	for n in names:
		c, k = rep[n].get("cpu_ms", {}), rep[n].get("issued")
		t = sum(c.values()) if prog == "all" else c.get(prog)
		vals.append(t / k if t is not None and k else None)
		line += "%12s" % ("-" if vals[-1] is None else "%.2f" % vals[-1])
	if len(vals) == 2 and vals[0] is not None and vals[1]:
		line += "%12.2f" % (vals[0] / vals[1])
	if any(v is not None for v in vals):
		print(line)
# The machine's CPU time during the load: busy, idle, and stolen by the
# hypervisor (a loaded host; its figures are lower than the machine's).
for i, what in enumerate(("busy", "idle", "steal")):
	vals = [rep[n].get("machine_pct") for n in names]
	if all(v is None for v in vals):
		continue
	print("%-26s" % ("machine %s (%%)" % what) + "".join("%12s" % (
	    "-" if v is None else "%.0f" % v[i]) for v in vals))
for n in names:
	if rep[n].get("machine_pct", [0, 0, 0])[2] > 5:
		print("%s: %.0f%% of the CPU time was stolen by the hypervisor "
		    "during the median round: the figures are those of a slower "
		    "machine" % (n, rep[n]["machine_pct"][2]))
for n in names:
	if len(rates[n]) > 1:
		print("%s issuances/s by round, sorted: %s (the table shows the "
		    "median round)" % (n, ", ".join("%.1f" % v for v in rates[n])))
	if len(steals[n]) > 1:
		print("%s steal %% by round, in the same order: %s" % (n,
		    ", ".join("%.0f" % v for v in steals[n])))
	if rep[n].get("stalls"):
		print("%s deadlocked %d time(s) and was restarted; its figures add "
		    "up %d segments (%.1f s of load; %d issuances in flight at the "
		    "stalls not counted)" % (n, rep[n]["stalls"],
		    rep[n]["segments"], rep[n]["elapsed_s"],
		    rep[n]["aborted_at_stall"]))
	e = rep[n].get("errors_by_type") or {}
	if e:
		print("%s errors: %s" % (n, ", ".join("%s=%d" % kv for kv in
		    sorted(e.items()))))
EOF
