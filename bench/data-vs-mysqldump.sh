#!/usr/bin/env bash
# Throughput of `prodlike data sync` (full copy, PII masked, staging database, one RENAME TABLE
# swap) against `mysqldump | mysql` (plain copy, no masking) of the same MySQL/MariaDB
# database, side by side in one run.
#
#   bench/data-vs-mysqldump.sh [USERS]     # USERS=100000 gives ~1.1M rows
#
# Environment: MYSQL_HOST/MYSQL_PORT/MYSQL_USER (default 127.0.0.1:3306 root, empty password;
# MYSQL_PWD as the mysql client reads it), PRODLIKE_BIN (default: target/release/prodlike,
# built when missing), REPEAT (runs of each copy, best kept; default 2), KEEP=1 keeps the
# databases. The users' emails, names and phones are masked by default detection.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${MYSQL_HOST:-127.0.0.1}; PORT=${MYSQL_PORT:-3306}; USER_=${MYSQL_USER:-root}
USERS=${1:-100000}
REPEAT=${REPEAT:-2}
BIN=${PRODLIKE_BIN:-${CARGO_TARGET_DIR:-target}/release/prodlike}
if [ ! -x "$BIN" ]; then cargo build --release -p prodlike; fi
export PRODLIKE_MASK_KEY=${PRODLIKE_MASK_KEY:-bench-key-0123456789abcdef}
M=(mysql -h "$HOST" -P "$PORT" -u "$USER_")
DUMPER=$(command -v mysqldump || command -v mariadb-dump)
if [ -n "${MYSQL_PWD:-}" ]; then URL="mysql://$USER_:$MYSQL_PWD@$HOST:$PORT"; else URL="mysql://$USER_@$HOST:$PORT"; fi
P=bench_data_$$
SRC=${P}_src; DUMP=${P}_dump; SYNC=${P}_sync
cleanup() { if [ "${KEEP:-0}" != 1 ]; then for d in $SRC $DUMP $SYNC; do "${M[@]}" -e "DROP DATABASE IF EXISTS \`$d\`" 2>/dev/null || true; done; fi; }
trap cleanup EXIT
now() { date +%s.%N; }
count_rows() { "${M[@]}" -N -e "SELECT (SELECT count(*) FROM \`$1\`.users)+(SELECT count(*) FROM \`$1\`.orders)+(SELECT count(*) FROM \`$1\`.order_items)"; }

echo "building the source database ($USERS users)…" >&2
"${M[@]}" -e "CREATE DATABASE \`$SRC\`"
D="(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
"${M[@]}" "$SRC" >/dev/null <<SQL
CREATE TABLE nums (i INT NOT NULL PRIMARY KEY);
INSERT INTO nums
SELECT 1 + a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d + 100000*g.d + 1000000*h.d
FROM $D a, $D b, $D c, $D e, $D f, $D g, $D h
WHERE a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d + 100000*g.d + 1000000*h.d < $USERS * 4;
CREATE TABLE users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(80) NOT NULL,
  full_name VARCHAR(60) NOT NULL,
  phone VARCHAR(24),
  plan ENUM('free','pro','team') NOT NULL,
  prefs JSON,
  created DATETIME NOT NULL,
  UNIQUE KEY users_email (email)
) ENGINE=InnoDB;
CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT UNSIGNED NOT NULL,
  status ENUM('new','paid','shipped','cancelled') NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  placed DATETIME NOT NULL,
  KEY orders_placed (placed),
  CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;
CREATE TABLE order_items (
  order_id BIGINT UNSIGNED NOT NULL,
  line SMALLINT UNSIGNED NOT NULL,
  sku VARCHAR(16) NOT NULL,
  qty INT NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, line),
  CONSTRAINT items_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB;
INSERT INTO users (id, email, full_name, phone, plan, prefs, created)
SELECT i, CONCAT('user', i, '@example.com'),
       CONCAT(ELT(1 + i % 8, 'Ann','Bob','Carla','Dan','Eve','Farid','Grace','Hugo'), ' ',
              ELT(1 + (i DIV 8) % 8, 'Smith','Jones','Diaz','Brown','Okafor','Nguyen','Rossi','Martin')),
       CONCAT('+1 555 ', LPAD(i % 10000000, 7, '0')),
       ELT(1 + i % 3, 'free','pro','team'),
       JSON_OBJECT('theme', IF(i % 2 = 0, 'dark', 'light')),
       '2020-01-01' + INTERVAL (i % 1500) DAY
FROM nums WHERE i <= $USERS;
INSERT INTO orders (user_id, status, total, placed)
SELECT 1 + (i * 7919) % $USERS, ELT(1 + i % 4, 'new','paid','shipped','cancelled'),
       (i % 50000) / 100, '2021-01-01' + INTERVAL (i % 900) DAY + INTERVAL (i % 86400) SECOND
FROM nums;
INSERT INTO order_items (order_id, line, sku, qty, price)
SELECT o.id, l.line, CONCAT('SKU-', LPAD((o.id * l.line) % 5000, 5, '0')), 1 + o.id % 4, 9.99 * l.line
FROM orders o JOIN (SELECT 1 AS line UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) l
  ON l.line <= 1 + o.id % 4;
DROP TABLE nums;
ANALYZE TABLE users, orders, order_items;
SQL
ROWS=$(count_rows "$SRC")

best_dump=; best_sync=
for i in $(seq "$REPEAT"); do
  "${M[@]}" -e "DROP DATABASE IF EXISTS \`$DUMP\`; CREATE DATABASE \`$DUMP\`"
  t0=$(now); "$DUMPER" -h "$HOST" -P "$PORT" -u "$USER_" --single-transaction "$SRC" | "${M[@]}" "$DUMP"; t1=$(now)
  d=$(echo "$t1 - $t0" | bc -l); echo "mysqldump | mysql run $i: ${d}s" >&2
  if [ -z "$best_dump" ] || (( $(echo "$d < $best_dump" | bc -l) )); then best_dump=$d; fi

  "${M[@]}" -e "DROP DATABASE IF EXISTS \`$SYNC\`; CREATE DATABASE \`$SYNC\`"
  t0=$(now); "$BIN" data sync --source "$URL/$SRC" --target "$URL/$SYNC" --quiet --out "/tmp/$P-sync.json" >/dev/null; t1=$(now)
  s=$(echo "$t1 - $t0" | bc -l); echo "prodlike data sync run $i: ${s}s" >&2
  if [ -z "$best_sync" ] || (( $(echo "$s < $best_sync" | bc -l) )); then best_sync=$s; fi
done
MASKED=$(python3 -c "import json;d=json.load(open('/tmp/$P-sync.json'))['data'];print(len(d['masked']))")
rm -f "/tmp/$P-sync.json"
SYNC_ROWS=$(count_rows "$SYNC")

printf '\n%-48s %10s %12s %12s %10s\n' "run (same database, $ROWS rows)" seconds rows rows/s "speed vs mysqldump|mysql"
printf '%-48s %10.2f %12d %12.0f %10s\n' "mysqldump | mysql (plain copy, no masking)" "$best_dump" "$ROWS" "$(echo "$ROWS / $best_dump" | bc -l)" "1.00x"
printf '%-48s %10.2f %12d %12.0f %9.2fx\n' "prodlike data sync (full, $MASKED cols masked)" "$best_sync" "$SYNC_ROWS" "$(echo "$SYNC_ROWS / $best_sync" | bc -l)" "$(echo "$best_dump / $best_sync" | bc -l)"
echo "(best of $REPEAT runs for each copy; both build the same keys and indexes)"
