#!/usr/bin/env bash
# Throughput of `prodlike data sync` (full copy, PII masked) and of `prodlike data dump` then
# `prodlike data restore` (the same masked copy through a snapshot directory, for networks that
# never meet) against `pg_dump | psql` (plain copy, no masking) of the same PostgreSQL database,
# side by side in one run, plus synth's rows/s.
#
#   bench/data-vs-pgdump.sh [USERS]        # USERS=60000 gives ~1.09M rows (scripts/gen-testdb.sql)
#
# Environment: PGHOST/PGPORT/PGUSER as for psql (default 127.0.0.1:5432 postgres), PRODLIKE_BIN
# (default: target/release/prodlike, built when missing), REPEAT (runs of each copy, best kept;
# default 2), SYNTH_SCALE (default 10; 0 skips synth), KEEP=1 keeps the databases.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
USERS=${1:-60000}
REPEAT=${REPEAT:-2}
SCALE=${SYNTH_SCALE:-10}
BIN=${PRODLIKE_BIN:-${CARGO_TARGET_DIR:-target}/release/prodlike}
if [ ! -x "$BIN" ]; then cargo build --release -p prodlike; fi
export PRODLIKE_MASK_KEY=${PRODLIKE_MASK_KEY:-bench-key-0123456789abcdef}
export PRODLIKE_SNAPSHOT_KEY=${PRODLIKE_SNAPSHOT_KEY:-bench-snapshot-key-0123456789}
URL="postgres://$PGUSER@$PGHOST:$PGPORT"
P=bench_data_$$
SRC=${P}_src; DUMP=${P}_pgdump; SYNC=${P}_sync; SYN=${P}_synth; RST=${P}_restore
OUT=$(mktemp -d)
cleanup() { if [ "${KEEP:-0}" != 1 ]; then for d in $SRC $DUMP $SYNC $SYN $RST; do dropdb --if-exists "$d" 2>/dev/null || true; done; fi; rm -rf "$OUT"; }
trap cleanup EXIT
now() { date +%s.%N; }
rows_in() { psql -qtA -d "$1" -c "SELECT sum(n_live_tup)::bigint FROM pg_stat_user_tables" ; }
count_rows() { psql -qtA -d "$1" -c "SELECT (SELECT count(*) FROM users)+(SELECT count(*) FROM addresses)+(SELECT count(*) FROM orders)+(SELECT count(*) FROM order_items)+(SELECT count(*) FROM payments)+(SELECT count(*) FROM events)+(SELECT count(*) FROM products)+(SELECT count(*) FROM categories)"; }

echo "building the source database ($USERS users)…" >&2
createdb "$SRC"
PGOPTIONS="-c prodlike.users=$USERS" psql -q -d "$SRC" -f scripts/gen-testdb.sql >/dev/null
ROWS=$(count_rows "$SRC")
psql -q -d "$SRC" -c "VACUUM ANALYZE" >/dev/null

best_dump=; best_sync=; best_snap=; snap_dump=; snap_restore=
# Each iteration's three times, for the ratios of copies run back to back (the machine's state
# drifts between iterations; the best of each can come from different moments).
ITERS=
for i in $(seq "$REPEAT"); do
  dropdb --if-exists "$DUMP"; createdb "$DUMP"
  # Each copy starts from a fresh checkpoint with no dirty pages left in the kernel's cache,
  # so none pays for another's WAL or for the previous copy's write-back (which spread one
  # copy's time over ±20% before `sync` was added).
  psql -q -d "$SRC" -c CHECKPOINT; sync
  t0=$(now); pg_dump -d "$SRC" | psql -q -d "$DUMP" >/dev/null; t1=$(now)
  d=$(echo "$t1 - $t0" | bc -l); echo "pg_dump | psql run $i: ${d}s" >&2
  if [ -z "$best_dump" ] || (( $(echo "$d < $best_dump" | bc -l) )); then best_dump=$d; fi

  dropdb --if-exists "$SYNC"; createdb "$SYNC"
  psql -q -d "$SRC" -c CHECKPOINT; sync
  t0=$(now); "$BIN" data sync --source "$URL/$SRC" --target "$URL/$SYNC" --quiet --out "$OUT/sync.json" >/dev/null; t1=$(now)
  s=$(echo "$t1 - $t0" | bc -l); echo "prodlike data sync run $i: ${s}s" >&2
  if [ -z "$best_sync" ] || (( $(echo "$s < $best_sync" | bc -l) )); then best_sync=$s; fi

  # The same masked copy through a snapshot: dump to a directory, then restore it.
  rm -rf "$OUT/snap"; dropdb --if-exists "$RST"; createdb "$RST"
  psql -q -d "$SRC" -c CHECKPOINT; sync
  t0=$(now); "$BIN" data dump --source "$URL/$SRC" --out "$OUT/snap" --quiet --result "$OUT/dump.json" >/dev/null; t1=$(now)
  "$BIN" data restore --snapshot "$OUT/snap" --target "$URL/$RST" --out "$OUT/restore.json" >/dev/null; t2=$(now)
  a=$(echo "$t1 - $t0" | bc -l); b=$(echo "$t2 - $t1" | bc -l); ab=$(echo "$t2 - $t0" | bc -l)
  echo "prodlike data dump + restore run $i: ${ab}s (dump ${a}s, restore ${b}s)" >&2
  if [ -z "$best_snap" ] || (( $(echo "$ab < $best_snap" | bc -l) )); then best_snap=$ab; snap_dump=$a; snap_restore=$b; fi
  ITERS="$ITERS $d:$s:$ab"
done
SNAP_ROWS=$(count_rows "$RST")
SNAP_BYTES=$(du -sb "$OUT/snap" | cut -f1)
MASKED=$(python3 -c "import json;d=json.load(open('$OUT/sync.json'))['data'];print(len(d['masked']))")
SYNC_ROWS=$(count_rows "$SYNC")

if [ "$SCALE" != 0 ]; then
"$BIN" data profile --source "$URL/$SRC" --out "$OUT/profile.json" >/dev/null
createdb "$SYN"
t0=$(now); "$BIN" data synth --profile "$OUT/profile.json" --target "$URL/$SYN" --scale "$SCALE" --quiet --out "$OUT/synth.json" >/dev/null; t1=$(now)
syn_s=$(echo "$t1 - $t0" | bc -l)
SYN_ROWS=$(count_rows "$SYN")
SYN_GEN=$(python3 -c "import json;d=json.load(open('$OUT/synth.json'))['data'];print(int(d['rows_per_sec']))")
fi

printf '\n%-44s %10s %12s %12s %10s\n' "run (same database, $ROWS rows)" seconds rows rows/s "speed vs pg_dump|psql"
printf '%-44s %10.2f %12d %12.0f %10s\n' "pg_dump | psql (plain copy, no masking)" "$best_dump" "$ROWS" "$(echo "$ROWS / $best_dump" | bc -l)" "1.00x"
printf '%-44s %10.2f %12d %12.0f %9.2fx\n' "prodlike data sync (full, $MASKED cols masked)" "$best_sync" "$SYNC_ROWS" "$(echo "$SYNC_ROWS / $best_sync" | bc -l)" "$(echo "$best_dump / $best_sync" | bc -l)"
printf '%-44s %10.2f %12d %12.0f %9.2fx\n' "prodlike data dump + restore (same masking)" "$best_snap" "$SNAP_ROWS" "$(echo "$SNAP_ROWS / $best_snap" | bc -l)" "$(echo "$best_dump / $best_snap" | bc -l)"
printf '%-44s %10.2f %12s %12s %10s\n' "  dump (snapshot $((SNAP_BYTES / 1048576)) MiB on disk)" "$snap_dump" "" "" ""
printf '%-44s %10.2f %12s %12s %10s\n' "  restore (checks, COPY, keys, swap, leaks)" "$snap_restore" "" "" ""
[ "$SCALE" != 0 ] && printf '%-44s %10.2f %12d %12.0f %10s\n' "prodlike data synth --scale $SCALE (end to end)" "$syn_s" "$SYN_ROWS" "$(echo "$SYN_ROWS / $syn_s" | bc -l)" "-"
[ "$SCALE" != 0 ] && printf '%-44s %10s %12s %12d %10s\n' "  synth generation + COPY only" "" "" "$SYN_GEN" ""
echo "(best of $REPEAT runs for each copy; all include creating indexes and constraints)"
# The same comparison per iteration: pg_dump | psql against the copies run right after it.
python3 - "$ITERS" <<'PY'
import statistics, sys
its = [tuple(map(float, x.split(":"))) for x in sys.argv[1].split()]
sync = [d / s for d, s, _ in its]
snap = [d / ab for d, _, ab in its]
fmt = lambda r: " ".join(f"{x:.2f}" for x in r)
print(f"per iteration, pg_dump | psql / copy: sync median {statistics.median(sync):.2f}x ({fmt(sync)}); "
      f"dump + restore median {statistics.median(snap):.2f}x ({fmt(snap)})")
PY
