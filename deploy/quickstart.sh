#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs the dependencies, builds Cobble and starts a CA on
# https://localhost:14000/directory with its state in ./state (embedded
# PostgreSQL, a CA hierarchy generated on first start). As root, when the
# postgres user cannot reach the checkout (one under /root, mode 0700 on
# Debian), ./state is a symbolic link to /var/lib/cobble-quickstart.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
outside=/var/lib/cobble-quickstart
if [ "$(id -u)" = 0 ]; then
	./deploy/install-deps.sh
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCOBBLE_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target cobble

# As root, the embedded PostgreSQL runs as postgres, which must be able to
# enter every directory on the way to its data.
if [ "$(id -u)" = 0 ] && [ ! -L state ] && id postgres >/dev/null 2>&1 &&
	! runuser -u postgres -- test -x "$top"; then
	if [ -e state ] && [ -e "$outside" ]; then
		echo "quickstart: the postgres user cannot reach $top/state," \
			"and $outside exists too; move one of them away" >&2
		exit 1
	fi
	if [ -e state ]; then
		mv state "$outside"
	fi
	ln -s "$outside" state
	echo "quickstart: the postgres user cannot enter $top (or a" \
		"directory above it), so the state is kept in $outside"
fi
if [ -L state ]; then
	[ -d state/ ] || mkdir -m 0700 "$(readlink state)"
	echo "quickstart: ./state is a symbolic link to $(readlink state)"
fi
mkdir -p state
if [ ! -f state/cobble.json ]; then
	cat >state/cobble.json <<JSON
{
	"state_dir": "$(cd state && pwd -P)",
	"server": { "listen": "127.0.0.1", "port": 14000 }
}
JSON
fi
exec ./build/server/cobble serve -c state/cobble.json
