-- prodlike data test database: a shop with PII, skewed distributions and every kind of foreign key
-- (self-references, a cycle with no nullable column, a composite key, nullable keys).
--
--   createdb shop && psql -q -d shop -f scripts/gen-testdb.sql                 # 60,000 users, ~1.1M rows
--   PGOPTIONS='-c prodlike.users=5000' psql -q -d shop -f scripts/gen-testdb.sql  # smaller
--
-- Sizes follow prodlike.users (default 50000): addresses 1.5x, orders ~3x, order_items ~2.5x
-- orders, payments ~1x orders, events 3x users, products users/25, categories 40.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP TABLE IF EXISTS events, payments, order_items, orders, products, categories, addresses, users CASCADE;
DROP TYPE IF EXISTS order_status;
SELECT setseed(0.42);

CREATE TYPE order_status AS ENUM ('pending', 'shipped', 'delivered', 'cancelled', 'refunded', 'disputed');

CREATE TABLE categories (
    id          integer PRIMARY KEY,
    parent_id   integer REFERENCES categories (id),          -- self-reference, nullable
    name        text NOT NULL
);

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    email               text NOT NULL UNIQUE,
    full_name           text NOT NULL,
    phone               text,
    date_of_birth       date,
    plan                text NOT NULL,
    country             char(2) NOT NULL,
    signup_ip           inet,
    referred_by         bigint REFERENCES users (id),          -- self-reference, nullable
    primary_address_id  bigint NOT NULL,                        -- cycle with addresses, NOT NULL both ways
    created_at          timestamptz NOT NULL,
    prefs               jsonb
);

CREATE TABLE addresses (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
    street       text NOT NULL,
    city         text NOT NULL,
    postal_code  text NOT NULL
);
ALTER TABLE users ADD CONSTRAINT users_primary_address_fk
    FOREIGN KEY (primary_address_id) REFERENCES addresses (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE products (
    id           integer PRIMARY KEY,
    category_id  integer NOT NULL REFERENCES categories (id),
    name         text NOT NULL,
    sku          text NOT NULL UNIQUE,
    price        numeric(10, 2) NOT NULL CHECK (price > 0)
);

CREATE TABLE orders (
    id                   bigserial PRIMARY KEY,
    user_id              bigint NOT NULL REFERENCES users (id),
    shipping_address_id  bigint REFERENCES addresses (id),      -- nullable
    status               order_status NOT NULL,
    total                numeric(12, 2) NOT NULL,
    card_number          text,
    created_at           timestamptz NOT NULL
);
CREATE INDEX orders_user_id_idx ON orders (user_id);

CREATE TABLE order_items (
    order_id    bigint NOT NULL REFERENCES orders (id),
    line_no     integer NOT NULL,
    product_id  integer NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL,
    unit_price  numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no)                              -- composite key
);
CREATE INDEX order_items_product_idx ON order_items (product_id);

CREATE TABLE payments (
    id        bigserial PRIMARY KEY,
    order_id  bigint NOT NULL REFERENCES orders (id),
    method    text NOT NULL,
    amount    numeric(12, 2) NOT NULL,
    paid_at   timestamptz NOT NULL
);

CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    user_id     bigint REFERENCES users (id),                   -- nullable (anonymous events)
    kind        text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TEMP TABLE firsts AS SELECT * FROM unnest(ARRAY['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda','William','Elizabeth','David','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen','Amelia','Oliver','Isla','Noah','Ava','Leo','Mia','Arthur','Freya','Oscar','Chloe','Jack','Sofia','Harry','Grace','George']) WITH ORDINALITY AS f(name, n);
CREATE TEMP TABLE lasts AS SELECT * FROM unnest(ARRAY['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez','Hernandez','Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee','Perez','Thompson','White','Harris','Sanchez','Clark','Ramirez','Lewis','Robinson','Walker','Young','Allen','King','Wright','Scott']) WITH ORDINALITY AS l(name, n);

BEGIN;
INSERT INTO categories
SELECT i, CASE WHEN i <= 8 THEN NULL ELSE 1 + (i % 8) END, 'Category ' || i FROM generate_series(1, 40) i;

-- Users and their primary addresses in one transaction: the cycle is checked at COMMIT.
INSERT INTO users (id, email, full_name, phone, date_of_birth, plan, country, signup_ip, referred_by, primary_address_id, created_at, prefs)
SELECT i,
       lower(f.name) || '.' || lower(l.name) || i || '@' || (ARRAY['mailbox.test','inbox.test','corp.test','post.test'])[1 + (i % 4)],
       f.name || ' ' || l.name,
       '+44 7' || lpad((100 + floor(random() * 900))::int::text, 3, '0') || ' ' || lpad(floor(random() * 1000000)::int::text, 6, '0'),
       date '1950-01-01' + floor(random() * 20000)::int,
       CASE WHEN r < 0.60 THEN 'free' WHEN r < 0.90 THEN 'pro' WHEN r < 0.998 THEN 'premium' ELSE 'enterprise' END,
       CASE WHEN random() < 0.8 THEN 'GB' WHEN random() < 0.5 THEN 'IE' ELSE 'FR' END,
       ((1 + floor(random() * 223))::int || '.' || floor(random() * 256)::int || '.' || floor(random() * 256)::int || '.' || (1 + floor(random() * 254))::int)::inet,
       CASE WHEN i > 10 AND random() < 0.3 THEN 1 + floor(random() * (i - 1))::bigint END,
       i,
       timestamptz '2020-01-01' + random() * interval '1800 days',
       jsonb_build_object('newsletter', random() < 0.3, 'theme', CASE WHEN random() < 0.5 THEN 'dark' ELSE 'light' END,
                          'contact', jsonb_build_object('email', lower(f.name) || '.' || lower(l.name) || i || '@mailbox.test'))
FROM (SELECT i, random() AS r, 1 + floor(random() * 36)::int AS fn, 1 + floor(random() * 36)::int AS ln
      FROM generate_series(1, coalesce(current_setting('prodlike.users', true)::int, 60000)) i) g
JOIN firsts f ON f.n = g.fn JOIN lasts l ON l.n = g.ln;

INSERT INTO addresses (id, user_id, street, city, postal_code)
SELECT i, i, (1 + floor(random() * 300))::int || ' ' || (ARRAY['High Street','Station Road','Church Lane','Mill Road','Park Avenue','Victoria Road','Green Lane'])[1 + floor(random() * 7)::int],
       (ARRAY['London','Leeds','Bristol','Manchester','York','Bath','Oxford','Cardiff','Glasgow','Belfast'])[1 + floor(random() * 10)::int],
       (ARRAY['SW','EC','LS','BS','M'])[1 + floor(random() * 5)::int] || (1 + floor(random() * 19))::int || ' ' || (1 + floor(random() * 9))::int || chr(65 + floor(random() * 26)::int) || chr(65 + floor(random() * 26)::int)
FROM generate_series(1, (SELECT count(*) FROM users)) i;
INSERT INTO addresses (id, user_id, street, city, postal_code)
SELECT n + i, 1 + floor(random() * n)::bigint, (1 + floor(random() * 300))::int || ' Mill Road',
       (ARRAY['London','Leeds','Bristol','Manchester','York'])[1 + floor(random() * 5)::int], 'LS' || (1 + floor(random() * 19))::int || ' 1AB'
FROM (SELECT count(*) AS n FROM users) c, generate_series(1, (SELECT count(*) / 2 FROM users)) i;
COMMIT;

INSERT INTO products
SELECT i, 1 + floor(random() * 40)::int, 'Product ' || i, 'SKU-' || lpad((i * 7)::text, 7, '0'), round((exp(random() * 3 + 0.5))::numeric, 0) + 0.99
FROM generate_series(1, greatest(20, (SELECT count(*) / 25 FROM users))) i;

-- Skewed activity: most users order a little, a few a lot; premium users more.
INSERT INTO orders (user_id, shipping_address_id, status, total, card_number, created_at)
SELECT u.id, CASE WHEN random() < 0.9 THEN u.primary_address_id END,
       (CASE WHEN r < 0.80 THEN 'delivered' WHEN r < 0.90 THEN 'shipped' WHEN r < 0.95 THEN 'pending' WHEN r < 0.98 THEN 'cancelled' WHEN r < 0.9995 THEN 'refunded' ELSE 'disputed' END)::order_status,
       0, '4' || lpad(floor(random() * 1e15)::bigint::text, 15, '0'),
       u.created_at + random() * interval '300 days'
FROM users u, LATERAL (SELECT generate_series(1, floor(power(random(), 3) * CASE WHEN u.plan IN ('premium','enterprise') THEN 20 ELSE 12 END)::int) AS k) s,
     LATERAL (SELECT random() + 0 * s.k AS r) x;

INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price)
SELECT o.id, l, 1 + floor(power(random(), 2) * (SELECT count(*) FROM products))::int, 1 + floor(power(random(), 2) * 4)::int,
       round((exp(random() * 3 + 0.5))::numeric, 2)
FROM orders o, LATERAL generate_series(1, 1 + floor(random() * 4)::int + 0 * o.id::int) l;

UPDATE orders o SET total = s.total FROM (SELECT order_id, sum(quantity * unit_price) AS total FROM order_items GROUP BY order_id) s WHERE s.order_id = o.id;

INSERT INTO payments (order_id, method, amount, paid_at)
SELECT o.id, (ARRAY['card','card','card','paypal','bank_transfer'])[1 + floor(random() * 5)::int], o.total, o.created_at + random() * interval '2 days'
FROM orders o WHERE o.status <> 'cancelled';

INSERT INTO events (user_id, kind, payload, created_at)
SELECT CASE WHEN random() < 0.9 THEN u END,
       (ARRAY['page_view','page_view','page_view','search','add_to_cart','login'])[1 + floor(random() * 6)::int],
       jsonb_build_object('path', '/p/' || floor(random() * 1000)::int, 'ip', (1 + floor(random() * 223))::int || '.' || floor(random() * 256)::int || '.' || floor(random() * 256)::int || '.' || (1 + floor(random() * 254))::int,
                          'user', jsonb_build_object('email', 'visitor' || floor(random() * 1e9)::bigint || '@inbox.test')),
       timestamptz '2021-01-01' + random() * interval '1400 days'
FROM (SELECT 1 + floor(random() * (SELECT count(*) FROM users))::bigint AS u FROM generate_series(1, 3 * (SELECT count(*) FROM users))) g;

SELECT setval('users_id_seq', (SELECT max(id) FROM users));
SELECT setval('addresses_id_seq', (SELECT max(id) FROM addresses));
ANALYZE;
SELECT 'rows' AS what, (SELECT count(*) FROM users) + (SELECT count(*) FROM addresses) + (SELECT count(*) FROM orders)
     + (SELECT count(*) FROM order_items) + (SELECT count(*) FROM payments) + (SELECT count(*) FROM events)
     + (SELECT count(*) FROM products) + (SELECT count(*) FROM categories) AS total;
