#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs the dependencies, builds Cobble with AddressSanitizer and
# UndefinedBehaviorSanitizer, runs every test under ctest (unit, fuzz
# corpus replay, end-to-end with real clients), runs the unit and
# end-to-end tests again under ThreadSanitizer, then builds the libFuzzer
# targets with clang and runs each briefly.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" = 0 ]; then
	./deploy/install-deps.sh
fi
jobs=$(nproc)

echo "== format check"
clang-format --dry-run --Werror common/*.[ch] storage/*.[ch] policy/*.[ch] \
	ca/*.[ch] validator/*.[ch] server/*.[ch] tools/bench/*.[ch]

echo "== build (ASan + UBSan, -Werror)"
cmake -S . -B build-test -DCOBBLE_WERROR=ON \
	-DCOBBLE_SANITIZE=address,undefined >/dev/null
cmake --build build-test -j"$jobs"

echo "== ctest"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-test && ctest --output-on-failure -j"$jobs")

echo "== ThreadSanitizer build: unit and end-to-end tests"
cmake -S . -B build-tsan -DCOBBLE_WERROR=ON -DCOBBLE_SANITIZE=thread \
	>/dev/null
cmake --build build-tsan -j"$jobs"
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 \
	ctest --output-on-failure -j"$jobs" -L 'unit|e2e')

echo "== libFuzzer targets (clang)"
CC=clang cmake -S . -B build-fuzz -DCOBBLE_WERROR=ON -DCOBBLE_FUZZ=ON \
	>/dev/null
cmake --build build-fuzz -j"$jobs"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for f in build-fuzz/tests/fuzz/fuzz_*; do
	[ -x "$f" ] && [ -f "$f" ] || continue
	name=$(basename "$f")
	corpus="tests/fuzz/corpus/${name#fuzz_}"
	mkdir -p "$scratch/$name"
	echo "-- $name"
	# New inputs go to the scratch directory, never into the repository.
	"$f" -max_total_time=10 -timeout=5 "$scratch/$name" "$corpus" \
		>"$scratch/$name.log" 2>&1 ||
		{ tail -40 "$scratch/$name.log"; echo "$name failed"; exit 1; }
done
echo "== all tests passed"
