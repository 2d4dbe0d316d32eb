#!/bin/sh
# SPDX-License-Identifier: ISC
# Memory under sustained load: runs bench/compare.sh against Cobble alone
# for SECONDS and samples `cobble serve`'s resident set (VmRSS) every
# INTERVAL seconds, so growth with the number of issuances shows.
#
# usage: bench/memory.sh [-d SECONDS] [-i INTERVAL] [-c CONCURRENCY] [-k]
#   -d  load duration (default 260: about 100,000 issuances at 400/s)
#   -i  seconds between samples (default 30)
#   -c  concurrency (default 32)
#   -k  keep the work folder (logs, reports, the state) afterwards
# Environment: as bench/compare.sh (COBBLE_BIN, BENCH_BIN, ...).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=260
INTERVAL=30
CONC=32
KEEP=0
while getopts d:i:c:k opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	i) INTERVAL=$OPTARG ;;
	c) CONC=$OPTARG ;;
	k) KEEP=1 ;;
	*) sed -n '/^# usage/,/^# Environment/p' "$0" | cut -c3- >&2; exit 2 ;;
	esac
done

WORK=$(mktemp -d /tmp/cobble-memory-XXXXXX)
"$ROOT/bench/compare.sh" -o cobble -d "$DURATION" -c "$CONC" -k \
    -w "$WORK" >"$WORK/compare.out" 2>&1 &
cmp=$!

# The server is the process started with this work folder's config.
pid=
i=0
while [ -z "$pid" ]; do
	kill -0 $cmp 2>/dev/null || break
	pid=$(pgrep -f "$WORK/cobble/cobble.json" | head -1 || true)
	i=$((i + 1))
	[ $i -lt 600 ] || break
	sleep 0.1
done
[ -n "$pid" ] || { echo "memory.sh: cobble did not start" >&2;
    cat "$WORK/compare.out" >&2; exit 1; }

start=$(date +%s)
echo "seconds  VmRSS (kB)"
while kill -0 "$pid" 2>/dev/null; do
	sleep "$INTERVAL"
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null) ||
	    break
	[ -n "$rss" ] || break
	printf "%7d  %s\n" $(($(date +%s) - start)) "$rss"
done
wait $cmp || { cat "$WORK/compare.out" >&2; exit 1; }
grep -E "^(issuances/s|issued|failed) " "$WORK/compare.out"
if [ $KEEP = 1 ]; then
	echo "memory.sh: logs and reports in $WORK"
else
	rm -rf "$WORK"
fi
