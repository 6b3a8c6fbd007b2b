#!/usr/bin/env bash
# Closed-model throughput of `prodlike load` against wrk and oha, side by side in one run, on the
# same nginx (one worker, fixed 200 body) on loopback. Prints a table with ratios to wrk.
#   bench/load-vs-wrk.sh [SECONDS] [CONNECTIONS]
# Needs nginx and wrk (Debian packages); oha is used when on PATH or in $OHA
# (e.g. cargo install oha --locked --root /work/tools/oha). BASELINE=path/to/prodlike adds rows
# for another build (e.g. before a change), measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
port=${PORT:-18089}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p prodlike
prodlike="$CARGO_TARGET_DIR/release/prodlike"
oha=${OHA:-$(command -v oha || true)}
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  server { listen 127.0.0.1:$port; location / { return 200 "hello from nginx\n"; } }
}
CONF
nginx -c "$dir/nginx.conf" -p "$dir"
sleep 0.3
url="http://127.0.0.1:$port/"
wrk -t1 -c"$conns" -d1s "$url" >/dev/null # warm-up
wrk_rps=$(wrk -t1 -c"$conns" -d"${secs}s" "$url" | awk '/Requests\/sec/ {print $2}')
rps_of() { # BINARY [FLAGS...]: achieved req/s of a closed-model run
  local bin=$1; shift
  "$bin" load --target "$url" --connections "$conns" --duration "${secs}s" -q --format json "$@" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["data"]["achieved_rps"]))'
}
pl_rps=$(rps_of "$prodlike" --threads 1)
pl2_rps=$(rps_of "$prodlike")
base_rps="" base2_rps=""
if [ -n "${BASELINE:-}" ]; then
  base_rps=$(rps_of "$BASELINE" --threads 1)
  base2_rps=$(rps_of "$BASELINE")
fi
if [ -n "$oha" ]; then
  oha_rps=$("$oha" --no-tui -z "${secs}s" -c "$conns" --output-format json "$url" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["summary"]["requestsPerSec"]))')
else
  oha_rps=""
fi
python3 - "$wrk_rps" "$pl_rps" "$pl2_rps" "$oha_rps" "$conns" "$secs" "$base_rps" "$base2_rps" <<'PY'
import sys
wrk, pl1, pl2, oha, conns, secs, base1, base2 = sys.argv[1:]
wrk = float(wrk)
rows = [("wrk -t1", wrk), ("prodlike load --threads 1", float(pl1)), ("prodlike load (threads = cores)", float(pl2))]
if base1:
    rows += [("baseline --threads 1", float(base1)), ("baseline (threads = cores)", float(base2))]
if oha:
    rows.append(("oha", float(oha)))
print(f"closed model, {conns} connections, {secs}s each, nginx 1 worker on loopback")
print(f"{'tool':<34}{'req/s':>12}{'× wrk':>8}")
for name, v in rows:
    print(f"{name:<34}{v:>12,.0f}{v / wrk:>8.2f}")
if oha:
    print(f"prodlike (--threads 1) / oha: {float(pl1) / float(oha):.2f}")
PY
