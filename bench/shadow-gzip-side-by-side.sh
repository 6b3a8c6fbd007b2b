#!/usr/bin/env bash
# Production throughput of `prodlike shadow` in front of upstreams that gzip a 1.5 KB JSON body
# (bench/nginx-gzip.conf: production 18181, staging 18182, one field differs), for two or more
# builds side by side in one run, with nginx serving the upstream directly as the anchor.
# The shared bench's upstream does not compress; this one measures decoding, masking and
# comparing compressed copies.
#   usage: bench/shadow-gzip-side-by-side.sh BIN [BIN ...]   (ROUNDS=2, SECS=6)
set -u
here=$(cd "$(dirname "$0")" && pwd)
rounds=${ROUNDS:-2}
secs=${SECS:-6}
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "needs nginx and wrk (Debian packages)" >&2; exit 2; }
mkdir -p /tmp/prodlike-gzip-nginx
[ -f /tmp/prodlike-gzip-nginx/nginx.pid ] && kill "$(cat /tmp/prodlike-gzip-nginx/nginx.pid)" 2>/dev/null
nginx -c "$here/nginx-gzip.conf" &
trap 'kill "$(cat /tmp/prodlike-gzip-nginx/nginx.pid 2>/dev/null)" 2>/dev/null' EXIT
sleep 1
w() { wrk -t1 -c32 -d${secs}s --latency -H "accept-encoding: gzip" "http://127.0.0.1:$1/api/items" 2>&1 | awk '/Requests\/sec/ {r=$2} $1=="50%" {a=$2} $1=="99%" {b=$2} END {printf "%10s %9s %9s\n", r, a, b}'; }
printf "%-52s %10s %9s %9s\n" cell req/s p50 p99
printf "%-52s " "nginx upstream itself (gzip, anchor)"; w 18181
for round in $(seq "$rounds"); do
  for bin in "$@"; do
    for cell in "no staging|" "5% to healthy staging|--staging http://127.0.0.1:18182 --sample 0.05" "100% to healthy staging|--staging http://127.0.0.1:18182 --sample 1.0"; do
      name=${cell%%|*}; flags=${cell#*|}
      # shellcheck disable=SC2086
      "$bin" shadow --listen 127.0.0.1:18199 --admin "" --production http://127.0.0.1:18181 $flags --workers 1 >/dev/null 2>&1 & p=$!
      sleep 1.5
      printf "%-52s " "$(basename "$bin"): $name"; w 18199
      kill $p; wait $p 2>/dev/null
    done
  done
done
