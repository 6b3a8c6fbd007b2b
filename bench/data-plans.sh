#!/usr/bin/env bash
# `prodlike data plans` on the bench database of bench/data-vs-pgdump.sh built at two scales:
# production at USERS (default 60,000) and staging at a tenth, then staging replaced by a ×10
# synth of the small one (`data synth --scale 10`). Prints each run's verdicts. Not a test: it
# builds ~1.2M rows, and which plans PostgreSQL picks is the planner's, measured here.
#   bench/data-plans.sh [USERS]
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
cleanup() { for d in $PROD $SMALLDB $SYN; do dropdb --if-exists "$d" 2>/dev/null || true; done; rm -rf "$OUT"; }
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
createdb "$SYN"
"$BIN" data synth --profile "$OUT/profile.json" --target "$URL/$SYN" --scale 10 --quiet --out "$OUT/synth.json" >/dev/null
psql -q -d "$SYN" -c "VACUUM ANALYZE" >/dev/null
run "$SYN" "staging synthesised ×10 from the tenth"
