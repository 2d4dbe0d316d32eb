#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs every Debian 12 package Cobble needs to build, run and test,
# including the programs deploy/quickstart.sh, tests/run.sh, tests/e2e and
# bench/*.sh call (coreutils, grep and sed are essential and always there).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Build (cmake includes ctest), libraries and the format check.
# Server and embedded database: postgresql-15 (initdb, postgres, pg_ctl),
# postgresql-client-15 (psql). Test and benchmark tools: openssl, curl,
# bind9 (named, tsig-keygen), bind9-dnsutils (dig, nsupdate), procps
# (pgrep, ps), util-linux (runuser, unshare), mawk (awk), python3.
# ACME clients and Pebble for the end-to-end tests and bench/compare.sh.
apt-get install -y -q --no-install-recommends \
	build-essential cmake pkg-config clang clang-format libclang-rt-14-dev \
	libssl-dev libmicrohttpd-dev libjansson-dev libc-ares-dev libpq-dev \
	libcurl4-openssl-dev libpsl-dev libcmocka-dev \
	postgresql postgresql-15 postgresql-client-15 \
	openssl ca-certificates curl bind9 bind9-dnsutils \
	procps util-linux mawk python3 \
	certbot python3-certbot-dns-rfc2136 lego python3-acme python3-pytest \
	pebble dehydrated uacme \
	python3-requests python3-josepy python3-cryptography
