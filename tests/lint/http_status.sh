#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: an API error code has one HTTP status, the one of its row in server/http.c's
# table (api_errors). Every kb_resp_error(resp, <number>, "<code>", ...) written with a
# literal status in server/ must agree with that row (a route should rather call
# kb_api_status), and every literal code must have a row.
set -euo pipefail
cd "${KB_SOURCE_DIR:?}/server"
table=$(sed -n '/^} api_errors\[\] = {/,/^};/p' http.c | grep -oE '\{"[a-z_]+", [0-9]{3}\}' |
    sed -E 's/\{"([a-z_]+)", ([0-9]{3})\}/\1 \2/')
[ -n "$table" ] || { echo "no api_errors table in server/http.c"; exit 1; }
# literal uses (clang-format may break the line after the status)
uses=$(perl -0ne 'while (/kb_resp_error\(resp,\s*(\d{3}),\s*"([a-z_]+)"/g) {
                      print "$ARGV $1 $2\n" }' *.c | sort -u)
[ -n "$uses" ] || { echo "no literal kb_resp_error found: the check is blind"; exit 1; }
bad=0
while read -r where status code; do
    want=$(awk -v c="$code" '$1 == c { print $2 }' <<<"$table")
    if [ -z "$want" ]; then
        echo "$where: API error code '$code' has no row in http.c's api_errors"
        bad=1
    elif [ "$want" != "$status" ]; then
        echo "$where: '$code' answered with $status, its row in http.c says $want"
        bad=1
    fi
done <<<"$uses"
[ "$bad" = 0 ] || exit 1
echo "$(wc -l <<<"$uses") literal error statuses agree with http.c's table: ok"
