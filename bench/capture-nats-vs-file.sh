#!/usr/bin/env bash
# Production throughput of `prodlike shadow` capturing to a file and to NATS JetStream, side by
# side in one run: the 5% cell of ../shared/bench/shadow-vs-nginx.sh (one worker, wrk 1 thread,
# 32 connections, staging healthy) with no capture, `--capture FILE` and `--capture
# nats://…`, plus the same at 100% (a record per request: the sink's bounds at work), with
# nginx serving the upstream directly as the anchor. Cells alternate order each round. NATS
# is a private nats-server on a free port with its own store (the shared one is left alone).
# Each prodlike cell's result (--out) gives the capture's records, stored and dropped.
#   usage: bench/capture-nats-vs-file.sh BIN   (ROUNDS=3, SECS=6)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: bench/capture-nats-vs-file.sh PRODLIKE_BIN}
rounds=${ROUNDS:-3}
secs=${SECS:-6}
run=/tmp/prodlike-capture-bench
for tool in nginx wrk nats-server python3; do
  command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
mkdir -p $run && rm -rf $run/js $run/cap*.jsonl*
[ -f $run/nginx.pid ] && kill "$(cat $run/nginx.pid)" 2>/dev/null
nginx -c "$here/nginx-capture.conf" & ngx=$!
natsport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -a 127.0.0.1 -p "$natsport" -js -sd $run/js >$run/nats.log 2>&1 & nats=$!
trap 'kill $ngx $nats 2>/dev/null' EXIT
sleep 1
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
w() { wrk -t1 -c32 -d${secs}s --latency "http://127.0.0.1:$1/api/users/7?email=jane.doe@example.com" 2>&1 | awk '/Requests\/sec/ {r=$2} $1=="50%" {a=$2} $1=="99%" {b=$2} END {printf "%10s %9s %9s", r, a, b}'; }
totals() {
  python3 - "$1" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["data"]["totals"]
why = {k: v for k, v in t.get("capture_dropped_reasons", {}).items() if v}
print(f"  records {t['capture_records']:>7} stored {t['capture_stored']:>7} dropped {t['capture_dropped']:>6} {why if why else ''}")
PY
}
cells=("5%, no capture|--sample 0.05|"
       "5%, --capture FILE|--sample 0.05|--capture $run/cap.jsonl"
       "5%, --capture nats://|--sample 0.05|--capture nats://127.0.0.1:$natsport/bench.capture"
       "100%, --capture FILE|--sample 1.0|--capture $run/cap.jsonl"
       "100%, --capture nats://|--sample 1.0|--capture nats://127.0.0.1:$natsport/bench.capture")
printf "%-40s %10s %9s %9s\n" cell req/s p50 p99
printf "%-40s " "nginx upstream itself (anchor)"; w 18281; echo
for round in $(seq "$rounds"); do
  order=(0 1 2 3 4); [ $((round % 2)) -eq 0 ] && order=(4 3 2 1 0)
  for i in "${order[@]}"; do
    IFS='|' read -r name sample capture <<<"${cells[$i]}"
    # shellcheck disable=SC2086
    "$bin" shadow --listen 127.0.0.1:18299 --admin "" --production http://127.0.0.1:18281 \
      --staging http://127.0.0.1:18282 $sample $capture --workers 1 --out $run/result.json \
      >$run/prodlike.log 2>&1 & p=$!
    sleep 1.5
    printf "%-40s " "round $round: $name"; w 18299
    kill -TERM $p; wait $p 2>/dev/null
    if [ -n "$capture" ]; then totals $run/result.json; else echo; fi
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
