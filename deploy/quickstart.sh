#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs the dependencies, builds Cobble and starts a CA on
# https://localhost:14000/directory with its state in ./state (embedded
# PostgreSQL, a CA hierarchy generated on first start).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" = 0 ]; then
	./deploy/install-deps.sh
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCOBBLE_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target cobble
mkdir -p state
if [ ! -f state/cobble.json ]; then
	cat >state/cobble.json <<JSON
{
	"state_dir": "$top/state",
	"server": { "listen": "127.0.0.1", "port": 14000 }
}
JSON
fi
exec ./build/server/cobble serve -c state/cobble.json
