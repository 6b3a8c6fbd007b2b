#!/usr/bin/env bash
# Exact load segments, at the server: N segments of one stage plan run at once on this machine
# (one process each, one shared --start-at), against the same plan run unsplit, both counted by
# nginx's access log ($msec, the time each request was logged) per second of the plan. Prints
# the totals and the worst per-second difference as a ratio of the unsplit count.
#   bench/load-segments.sh [STAGES] [SEGMENTS]     default 10s:1000,5s:4000,10s:1000 and 4
# PRODLIKE_BIN=path/to/prodlike uses that build instead of building one.
# Needs nginx (Debian's package). Rates are proved here, never in tests (DECISIONS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
stages=${1:-10s:1000,5s:4000,10s:1000}
n=${2:-4}
port=${PORT:-18091}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
prodlike=${PRODLIKE_BIN:-$CARGO_TARGET_DIR/release/prodlike}
[ -n "${PRODLIKE_BIN:-}" ] || cargo build --release -q -p prodlike
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  log_format t '\$msec';
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$port;
    location /whole { access_log $dir/whole.log t; return 200 "ok\n"; }
    location /split { access_log $dir/split.log t buffer=64k flush=1s; return 200 "ok\n"; }
  }
}
CONF
sed -i "s|access_log $dir/whole.log t;|access_log $dir/whole.log t buffer=64k flush=1s;|" "$dir/nginx.conf"
nginx -c "$dir/nginx.conf" -p "$dir"
sleep 0.3
url="http://127.0.0.1:$port"
run() { # PATH START [SEGMENT]: one generator
  local path=$1 start=$2 seg=${3:-}
  local extra=()
  [ -n "$seg" ] && extra=(--segment "$seg")
  "$prodlike" load --target "$url" --path "/$path" --stages "$stages" --seed 9 --start-at "$start" \
    --max-send-lag 50ms "${extra[@]}" -q --out "$dir/r-$path-${seg//\//_}.json" >/dev/null
}
start=$(( $(date +%s) + 2 ))
run whole "$start"
start=$(( $(date +%s) + 2 ))
for k in $(seq 1 "$n"); do run split "$start" "$k/$n" & done
wait
sleep 1.5 # nginx flushes its log buffers every second
python3 - "$dir/whole.log" "$dir/split.log" "$n" "$stages" <<'PY'
import sys, math
whole_log, split_log, n, stages = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def per_second(path):
    ts = sorted(float(l) for l in open(path) if l.strip())
    t0 = math.floor(ts[0])
    counts = {}
    for t in ts:
        counts[int(t - t0)] = counts.get(int(t - t0), 0) + 1
    return [counts.get(i, 0) for i in range(max(counts) + 1)], len(ts)
w, wn = per_second(whole_log)
s, sn = per_second(split_log)
print(f"plan {stages}, {n} segments at once vs unsplit, counted by nginx")
print(f"  total: unsplit {wn}, segments {sn}, ratio {sn / wn:.4f}")
worst = 0.0
rows = []
for i in range(min(len(w), len(s))):
    if w[i] < 100:
        continue # the partial first/last second of the log
    d = (s[i] - w[i]) / w[i]
    worst = max(worst, abs(d))
    rows.append(f"    second {i:>2}: unsplit {w[i]:>5}  segments {s[i]:>5}  {d * 100:+.2f}%")
print("\n".join(rows))
print(f"  worst second: {worst * 100:.2f}% (target: within 1%)")
PY
