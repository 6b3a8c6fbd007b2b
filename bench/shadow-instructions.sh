#!/usr/bin/env bash
# Instructions per proxied request of `prodlike shadow`, counted by callgrind: repeatable for the
# same binary and inputs whatever else the machine is doing, so two builds can be compared on a
# noisy host where req/s vary by ±15%. Uses the upstreams of ../shared/bench/nginx-anchors.conf.
#
# usage: bench/shadow-instructions.sh BIN [BIN ...]
#   for each binary and cell: start the proxy under callgrind (--workers 1), warm up, zero the
#   counters, send exactly N requests at a fixed rate with another prodlike, dump, and print
#   instructions per request (all threads: production and mirror).
#   GZIP=1: upstreams that gzip a 1.5 KB JSON body (bench/nginx-gzip.conf; one field differs
#   between production and staging), and clients that accept gzip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
anchors=${ANCHORS:-$here/../../shared/bench/nginx-anchors.conf}
n=${N:-3000}
rate=${RATE:-300}
load=${LOAD_BIN:-$1}
work=$(mktemp -d)
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null || { echo "needs valgrind" >&2; exit 2; }
command -v nginx >/dev/null || { echo "needs nginx (Debian package)" >&2; exit 2; }
if [ "${GZIP:-0}" = 1 ]; then
  conf=$here/nginx-gzip.conf; rundir=/tmp/prodlike-gzip-nginx; prod=18181; staging=18182
  accept=(-H "accept-encoding: gzip")
else
  conf=$anchors; rundir=/tmp/anchor-nginx; prod=18081; staging=18082   # the anchors' pid and logs
  accept=()
fi
mkdir -p $rundir
[ -f $rundir/nginx.pid ] && kill "$(cat $rundir/nginx.pid)" 2>/dev/null
nginx -c "$conf" & ngx=$!
trap 'kill $ngx 2>/dev/null; kill "$(cat $rundir/nginx.pid 2>/dev/null)" 2>/dev/null; rm -rf $work' EXIT
sleep 1

cells=(
  "no staging|"
  "5% to healthy staging|--staging http://127.0.0.1:$staging --sample 0.05"
  "100% to healthy staging|--staging http://127.0.0.1:$staging --sample 1.0"
)
printf "%-28s %-26s %14s\n" "binary" "cell" "instr/request"
for bin in "$@"; do
  for cell in "${cells[@]}"; do
    label=${cell%%|*}; flags=${cell#*|}
    port=18190
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
      "$bin" shadow --listen 127.0.0.1:$port --production http://127.0.0.1:$prod $flags \
      --workers 1 --admin "" >"$work/proxy.log" 2>&1 &
    vg=$!
    for _ in $(seq 1 200); do
      (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
      sleep 0.1
    done
    "$load" load --target "http://127.0.0.1:$port/api/items" "${accept[@]}" --rate 100 --duration 3s -q >/dev/null 2>&1
    callgrind_control -z "$vg" >/dev/null 2>&1
    secs=$((n / rate))
    "$load" load --target "http://127.0.0.1:$port/api/items" "${accept[@]}" --rate "$rate" --duration "${secs}s" -q >/dev/null 2>&1
    callgrind_control -d "$vg" >/dev/null 2>&1
    sleep 1
    kill -TERM "$vg" 2>/dev/null; wait "$vg" 2>/dev/null
    # The dump after zeroing holds exactly the measured requests (all threads).
    total=0
    for f in "$work"/cg.*.1*; do
      [ -f "$f" ] || continue
      t=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
      total=$((total + ${t:-0}))
    done
    sent=$((secs * rate))
    printf "%-28s %-26s %14s\n" "$(basename "$bin")" "$label" "$((total / sent))"
    rm -f "$work"/cg.*
  done
done
