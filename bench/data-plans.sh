#!/usr/bin/env bash
# `prodlike data plans` on the bench database of bench/data-vs-pgdump.sh built at two scales:
# production at USERS (default 60,000) and staging at a tenth, then staging replaced by a ×4 and
# a ×10 synth of the small one (`data synth --scale N`, from its profile). Prints each run's
# verdicts. Not a test: it builds ~2.5M rows, and which plans PostgreSQL picks is the planner's,
# measured here (crates/cli/tests/data_plans_scales_cli.rs checks the same story at 30,000).
#   bench/data-plans.sh [USERS]   PRODLIKE_BIN=path/to/prodlike: a given build; KEEP=1: keep the
#                                 databases and files for a look (their names are printed)
set -euo pipefail
cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
USERS=${1:-60000}
SMALL=$((USERS / 10))
BIN=${PRODLIKE_BIN:-${CARGO_TARGET_DIR:-target}/release/prodlike}
if [ ! -x "$BIN" ]; then cargo build --release -p prodlike; fi
export PRODLIKE_MASK_KEY=${PRODLIKE_MASK_KEY:-bench-key-0123456789abcdef}
URL="postgres://$PGUSER@$PGHOST:$PGPORT"
P=bench_plans_$$
PROD=${P}_prod; SMALLDB=${P}_small; SYN=${P}_synth
OUT=$(mktemp -d)
cleanup() {
  if [ -n "${KEEP:-}" ]; then echo "kept: $PROD $SMALLDB ${SYN}_4 ${SYN}_10 and $OUT" >&2; return; fi
  for d in $PROD $SMALLDB ${SYN}_4 ${SYN}_10; do dropdb --if-exists "$d" 2>/dev/null || true; done; rm -rf "$OUT"
}
trap cleanup EXIT
for pair in "$PROD:$USERS" "$SMALLDB:$SMALL"; do
  db=${pair%%:*}; n=${pair##*:}
  echo "building $db ($n users)…" >&2
  createdb "$db"
  PGOPTIONS="-c prodlike.users=$n" psql -q -d "$db" -f scripts/gen-testdb.sql >/dev/null
  psql -q -d "$db" -c "VACUUM ANALYZE" >/dev/null
done
cat > "$OUT/queries.sql" <<'SQL'
-- orders of one country's users last month
SELECT o.id, o.total FROM orders o JOIN users u ON u.id = o.user_id
 WHERE u.country = 'DE' AND o.created_at > now() - interval '30 days';

-- one user's orders
SELECT * FROM orders WHERE user_id = 4242;

-- revenue per product category
SELECT c.name, sum(i.quantity * i.unit_price) FROM order_items i
  JOIN products p ON p.id = i.product_id JOIN categories c ON c.id = p.category_id
 GROUP BY c.name;

-- events of a kind
SELECT count(*) FROM events WHERE kind = 'login';

-- top spenders
SELECT u.id, sum(o.total) AS spent FROM users u JOIN orders o ON o.user_id = u.id
 GROUP BY u.id ORDER BY spent DESC LIMIT 20;
SQL
run() { # TARGET LABEL
  echo "== $2" 
  "$BIN" data plans --source "$URL/$PROD" --target "$URL/$1" --queries "$OUT/queries.sql" || true
}
run "$SMALLDB" "staging at a tenth of production ($SMALL users against $USERS)"
"$BIN" data profile --source "$URL/$SMALLDB" --out "$OUT/profile.json" >/dev/null
for scale in 4 10; do
  createdb "${SYN}_$scale"
  "$BIN" data synth --profile "$OUT/profile.json" --target "$URL/${SYN}_$scale" --scale "$scale" --quiet --out "$OUT/synth.json" >/dev/null
  psql -q -d "${SYN}_$scale" -c "VACUUM ANALYZE" >/dev/null
  run "${SYN}_$scale" "staging synthesised ×$scale from the tenth"
done
