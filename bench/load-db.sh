#!/bin/sh
# SPDX-License-Identifier: ISC
# Fills a Cobble database with synthetic history, to measure throughput
# with a full database: ACCOUNTS accounts and CERTS issued certificates,
# each with its valid order, authorization, challenge and issued_names row
# (what a real issuance leaves behind), issued over the last 90 days and
# spread round-robin over the accounts. Rows are added next to what is
# there (ids continue after the highest one; sequences are moved past
# them), in transactions of CHUNK certificates, then ANALYZE.
#
# usage: bench/load-db.sh -s STATE_DIR | -d DSN [-c CERTS] [-a ACCOUNTS]
#            [-k CHUNK] [-n NAME_SUFFIX]
#   -s  a cobble state directory: uses its embedded PostgreSQL, running
#       (cobble serve up) or started here for the load and stopped after
#   -d  a libpq connection string for storage.dsn setups
#   -c  certificates (default 1000000)
#   -a  accounts (default 100000)
#   -k  certificates per transaction (default 100000)
#   -n  names are l<N>.NAME_SUFFIX (default load.cobble.test)
# The schema must exist: start `cobble serve` once on the database first.
# Example: bench/load-db.sh -s /tmp/cobble-state  (about 1.5 GB on disk)
set -eu

STATE=
DSN=
CERTS=1000000
ACCOUNTS=100000
CHUNK=100000
SUFFIX=load.cobble.test
while getopts s:d:c:a:k:n: opt; do
	case $opt in
	s) STATE=$OPTARG ;;
	d) DSN=$OPTARG ;;
	c) CERTS=$OPTARG ;;
	a) ACCOUNTS=$OPTARG ;;
	k) CHUNK=$OPTARG ;;
	n) SUFFIX=$OPTARG ;;
	*) sed -n '/^# usage/,/^# Example/p' "$0" | cut -c3- >&2; exit 2 ;;
	esac
done
for v in "$CERTS" "$ACCOUNTS" "$CHUNK"; do
	case $v in '' | *[!0-9]*) echo "load-db.sh: not a number: $v" >&2;
	    exit 2 ;; esac
done
[ "$ACCOUNTS" -gt 0 ] && [ "$CHUNK" -gt 0 ] ||
    { echo "load-db.sh: -a and -k must be > 0" >&2; exit 2; }
case $SUFFIX in *[!a-z0-9.-]* | '') echo "load-db.sh: bad -n" >&2; exit 2 ;;
esac

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
STARTED=0
PGLOG=
if [ -n "$STATE" ]; then
	[ -z "$DSN" ] || { echo "load-db.sh: -s or -d, not both" >&2; exit 2; }
	[ -d "$STATE/pgdata" ] ||
	    { echo "load-db.sh: no $STATE/pgdata (run cobble once)" >&2;
	    exit 1; }
	DSN="host=$STATE/pgsock dbname=cobble user=postgres"
	if [ ! -S "$STATE/pgsock/.s.PGSQL.5432" ]; then
		# cobble is not running: start its cluster just for the load
		# (as postgres, which owns pgdata; its log in a file it owns).
		PGLOG=$(mktemp /tmp/load-db-postgres.XXXXXX)
		chown postgres "$PGLOG"
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$STATE/pgdata" -w \
		    -l "$PGLOG" -o "-k $STATE/pgsock -c listen_addresses=" \
		    start >/dev/null ||
		    { cat "$PGLOG" >&2; exit 1; }
		STARTED=1
	fi
elif [ -z "$DSN" ]; then
	echo "load-db.sh: -s STATE_DIR or -d DSN is required" >&2
	exit 2
fi

stop_pg() {
	if [ "$STARTED" = 1 ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$STATE/pgdata" -w \
		    -m fast stop >/dev/null
		rm -f "$PGLOG"
	fi
}
trap stop_pg EXIT

psql_run() {
	psql "$DSN" -X -q -v ON_ERROR_STOP=1 "$@"
}

psql_run -c "SELECT 1 FROM schema_migrations LIMIT 1" >/dev/null 2>&1 ||
    { echo "load-db.sh: no Cobble schema at $DSN" >&2; exit 1; }

# One transaction: accounts A0+1..A0+n. A thumbprint is 43 base64url
# characters (no padding) like a real RFC 7638 one; the JWK is a
# well-formed P-256 JWK text (these accounts never sign anything).
load_accounts() {
	psql_run -v n="$1" >/dev/null <<'EOF'
BEGIN;
LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE;
CREATE TEMP TABLE base ON COMMIT DROP AS
	SELECT coalesce(max(id), 0) AS a0 FROM accounts;
INSERT INTO accounts (id, status, jwk, thumbprint, contact, created)
SELECT id, 'valid',
	'{"crv":"P-256","kty":"EC","x":"'
	|| rtrim(translate(encode(x, 'base64'), '+/', '-_'), '=')
	|| '","y":"'
	|| rtrim(translate(encode(y, 'base64'), '+/', '-_'), '=') || '"}',
	rtrim(translate(encode(t, 'base64'), '+/', '-_'), '='),
	'["mailto:load' || id || '@example.org"]',
	now() - interval '180 days'
FROM (SELECT a0 + i AS id,
	sha256(convert_to('load-x-' || (a0 + i), 'UTF8')) AS x,
	sha256(convert_to('load-y-' || (a0 + i), 'UTF8')) AS y,
	sha256(convert_to('load-acct-' || (a0 + i), 'UTF8')) AS t
	FROM base, generate_series(1, :n) AS i) AS g;
SELECT setval(pg_get_serial_sequence('accounts', 'id'),
	(SELECT max(id) FROM accounts));
COMMIT;
EOF
}

# One transaction: n certificates for the accounts FIRST..FIRST+NACC-1.
load_certs() {
	psql_run -v n="$1" -v first="$2" -v nacc="$3" \
	    -v suffix="'$SUFFIX'" >/dev/null <<'EOF'
BEGIN;
LOCK TABLE orders, authzs, order_authzs, challenges, certificates,
	issued_names IN SHARE ROW EXCLUSIVE MODE;
CREATE TEMP TABLE base ON COMMIT DROP AS SELECT
	(SELECT coalesce(max(id), 0) FROM orders) AS o0,
	(SELECT coalesce(max(id), 0) FROM authzs) AS z0,
	(SELECT coalesce(max(id), 0) FROM challenges) AS c0;
CREATE TEMP TABLE gen ON COMMIT DROP AS
SELECT o0 + i AS oid, z0 + i AS zid, c0 + i AS cid,
	:first + (i % :nacc) AS acct,
	'l' || (o0 + i) || '.' || :suffix AS name,
	md5('load-cert-' || (o0 + i)) AS serial,
	sha256(convert_to('load-tok-' || (c0 + i), 'UTF8')) AS tok,
	now() - make_interval(secs => ((o0 + i) * 7919) % 7776000) AS issued
FROM base, generate_series(1, :n) AS i;
INSERT INTO orders (id, account_id, idents_key, status, expires,
	cert_serial, created)
SELECT oid, acct, 'dns:' || name, 'valid', issued + interval '7 days',
	serial, issued FROM gen;
INSERT INTO authzs (id, account_id, ident_type, ident_value, status,
	expires)
SELECT zid, acct, 'dns', name, 'valid', issued + interval '30 days'
FROM gen;
INSERT INTO order_authzs (order_id, authz_id, position)
SELECT oid, zid, 0 FROM gen;
INSERT INTO challenges (id, authz_id, type, token, status, validated)
SELECT cid, zid, 'http-01',
	rtrim(translate(encode(tok, 'base64'), '+/', '-_'), '='), 'valid',
	issued FROM gen;
-- About the size of a P-256 leaf in DER (~600 bytes); not a certificate.
INSERT INTO certificates (serial, account_id, order_id, der, issued,
	not_before, not_after, fqdn_set_hash)
SELECT serial, acct, oid, decode(repeat(serial, 38), 'hex'), issued,
	issued, issued + interval '90 days',
	sha256(convert_to(name, 'UTF8')) FROM gen;
INSERT INTO issued_names (name, serial, issued)
SELECT name, serial, issued FROM gen;
SELECT setval(pg_get_serial_sequence('orders', 'id'),
	(SELECT max(id) FROM orders));
SELECT setval(pg_get_serial_sequence('authzs', 'id'),
	(SELECT max(id) FROM authzs));
SELECT setval(pg_get_serial_sequence('challenges', 'id'),
	(SELECT max(id) FROM challenges));
COMMIT;
EOF
}

# Bulk load: a lost tail on a crash is harmless here.
export PGOPTIONS="-c synchronous_commit=off"
t0=$(date +%s)
FIRST=$(psql_run -At -c "SELECT coalesce(max(id), 0) + 1 FROM accounts")
left=$ACCOUNTS
while [ "$left" -gt 0 ]; do
	n=$CHUNK
	[ "$n" -le "$left" ] || n=$left
	load_accounts "$n"
	left=$((left - n))
	echo "load-db.sh: accounts: $((ACCOUNTS - left))/$ACCOUNTS" >&2
done
left=$CERTS
while [ "$left" -gt 0 ]; do
	n=$CHUNK
	[ "$n" -le "$left" ] || n=$left
	load_certs "$n" "$FIRST" "$ACCOUNTS"
	left=$((left - n))
	echo "load-db.sh: certificates: $((CERTS - left))/$CERTS" \
	    "($(($(date +%s) - t0)) s)" >&2
done
psql_run -c "ANALYZE"
psql_run -At -c "SELECT 'load-db.sh: now ' ||
	(SELECT count(*) FROM accounts) || ' accounts, ' ||
	(SELECT count(*) FROM certificates) || ' certificates, database ' ||
	pg_size_pretty(pg_database_size(current_database()))" >&2
echo "load-db.sh: done in $(($(date +%s) - t0)) s" >&2
