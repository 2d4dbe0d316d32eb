#!/bin/sh
# SPDX-License-Identifier: ISC
# uacme challenge hook for the e2e tests (uacme -h): accepts http-01 only,
# writes the key authorization to $UACME_E2E_WEBROOT/TOKEN (served by the
# test's HTTP-01 responder) and removes it afterwards. Every call is logged
# as "METHOD TYPE IDENT TOKEN" to $UACME_E2E_WEBROOT/../hook.log.
# Arguments: METHOD TYPE IDENT TOKEN AUTH.
set -u
if [ $# -ne 5 ]; then
	echo "usage: $0 method type ident token auth" >&2
	exit 85
fi
root=${UACME_E2E_WEBROOT:?UACME_E2E_WEBROOT not set}
echo "$1 $2 $3 $4" >>"$root/../hook.log"
[ "$2" = http-01 ] || exit 1
case "$4" in
*/* | .* | '') exit 1 ;;
esac
case "$1" in
begin)
	printf '%s' "$5" >"$root/$4"
	;;
done | failed)
	rm -f "$root/$4"
	;;
*)
	exit 1
	;;
esac
