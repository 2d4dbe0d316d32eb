#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs every Debian 12 package Cobble needs to build, run and test.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential cmake pkg-config clang libclang-rt-14-dev \
	libssl-dev libmicrohttpd-dev libjansson-dev libc-ares-dev libpq-dev \
	libcurl4-openssl-dev libpsl-dev libcmocka-dev \
	postgresql postgresql-15 openssl ca-certificates curl \
	bind9 bind9-dnsutils \
	certbot python3-certbot-dns-rfc2136 lego python3-acme python3-pytest \
	pebble dehydrated uacme \
	python3-requests python3-josepy python3-cryptography
