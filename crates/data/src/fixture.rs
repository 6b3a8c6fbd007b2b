//! A small "production" shop database with PII, foreign keys (a self-reference, a cycle with no
//! nullable column, a composite key, a nullable key) and skewed distributions: the data the demo
//! and the tests sync, profile, synthesise and verify. `scripts/gen-testdb.sql` builds the same
//! shape in PostgreSQL at any size.

use std::path::Path;

use rusqlite::{Connection, params};

use crate::error::{DataError, Result};

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Ava",
    "Leo",
    "Mia",
    "Arthur",
    "Freya",
    "Oscar",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
];
const CITIES: &[&str] = &[
    "London",
    "Leeds",
    "Bristol",
    "Manchester",
    "York",
    "Bath",
    "Oxford",
    "Cardiff",
    "Glasgow",
    "Belfast",
];
const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Road",
    "Park Avenue",
    "Victoria Road",
    "Green Lane",
];
const DOMAINS: &[&str] = &["mailbox.test", "inbox.test", "corp.test", "post.test"];

/// Sizes of the fixture: `users` drives everything else.
#[derive(Debug, Clone, Copy)]
pub struct ShopSize {
    pub users: u64,
    pub seed: u64,
}

/// Writes the shop database to `path` (replacing it). Returns the total row count.
// Long: the test shop's tables written one after another.
#[allow(clippy::too_many_lines)]
pub fn write_shop_sqlite(path: &Path, size: ShopSize) -> Result<u64> {
    let _ = std::fs::remove_file(path);
    let mut c = Connection::open(path)
        .map_err(DataError::sqlite(format!("creating {}", path.display())))?;
    let e = |what: &'static str| DataError::sqlite(format!("building the shop fixture ({what})"));
    c.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;
         CREATE TABLE categories (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES categories(id), name TEXT NOT NULL);
         CREATE TABLE users (
            id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL, phone TEXT,
            date_of_birth DATE, plan TEXT NOT NULL, country TEXT NOT NULL, signup_ip TEXT,
            referred_by INTEGER REFERENCES users(id),
            primary_address_id INTEGER NOT NULL REFERENCES addresses(id) DEFERRABLE INITIALLY DEFERRED,
            created_at TIMESTAMP NOT NULL, prefs JSON);
         CREATE TABLE addresses (
            id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
            street TEXT NOT NULL, city TEXT NOT NULL, postal_code TEXT NOT NULL);
         CREATE TABLE products (id INTEGER PRIMARY KEY, category_id INTEGER NOT NULL REFERENCES categories(id),
            name TEXT NOT NULL, sku TEXT NOT NULL UNIQUE, price REAL NOT NULL);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
            shipping_address_id INTEGER REFERENCES addresses(id), status TEXT NOT NULL, total REAL NOT NULL,
            card_number TEXT, created_at TIMESTAMP NOT NULL);
         CREATE TABLE order_items (order_id INTEGER NOT NULL REFERENCES orders(id), line_no INTEGER NOT NULL,
            product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL, unit_price REAL NOT NULL,
            PRIMARY KEY (order_id, line_no));
         CREATE INDEX orders_user ON orders(user_id);
         CREATE INDEX items_product ON order_items(product_id);",
    )
    .map_err(e("schema"))?;
    let mut rng = fastrand::Rng::with_seed(size.seed);
    let tx = c.transaction().map_err(e("transaction"))?;
    let mut total = 0u64;
    {
        let mut cat = tx
            .prepare("INSERT INTO categories VALUES (?1, ?2, ?3)")
            .map_err(e("categories"))?;
        for i in 1..=20i64 {
            let parent = if i <= 5 { None } else { Some(rng.i64(1..=5)) };
            cat.execute(params![i, parent, format!("Category {i}")])
                .map_err(e("categories"))?;
            total += 1;
        }
        let n_products = (size.users / 5).max(20) as i64;
        let mut prod = tx
            .prepare("INSERT INTO products VALUES (?1, ?2, ?3, ?4, ?5)")
            .map_err(e("products"))?;
        for i in 1..=n_products {
            let price = (rng.f64() * 3.0 + 0.5).exp().round() + 0.99;
            prod.execute(params![
                i,
                rng.i64(1..=20),
                format!("Product {i}"),
                format!("SKU-{:06}", i * 7),
                price
            ])
            .map_err(e("products"))?;
            total += 1;
        }
        let mut user = tx
            .prepare("INSERT INTO users VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
            .map_err(e("users"))?;
        let mut addr = tx
            .prepare("INSERT INTO addresses VALUES (?1, ?2, ?3, ?4, ?5)")
            .map_err(e("addresses"))?;
        let n = size.users as i64;
        for i in 1..=n {
            let first = FIRST[rng.usize(..FIRST.len())];
            let last = LAST[rng.usize(..LAST.len())];
            let email = format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                i,
                DOMAINS[rng.usize(..DOMAINS.len())]
            );
            let phone = format!(
                "+44 7{:03} {:06}",
                rng.u32(100..1000),
                rng.u32(0..1_000_000)
            );
            let r = rng.f64();
            let plan = if r < 0.6 {
                "free"
            } else if r < 0.9 {
                "pro"
            } else if r < 0.998 {
                "premium"
            } else {
                "enterprise"
            };
            let dob = format!(
                "{}-{:02}-{:02}",
                rng.i32(1950..2006),
                rng.u32(1..13),
                rng.u32(1..29)
            );
            let ip = format!(
                "{}.{}.{}.{}",
                rng.u8(1..224),
                rng.u8(..),
                rng.u8(..),
                rng.u8(1..255)
            );
            let referred = if i > 10 && rng.f64() < 0.3 {
                Some(rng.i64(1..i))
            } else {
                None
            };
            let created = format!(
                "202{}-{:02}-{:02} {:02}:{:02}:00",
                rng.u32(0..5),
                rng.u32(1..13),
                rng.u32(1..29),
                rng.u32(0..24),
                rng.u32(0..60)
            );
            let prefs = serde_json::json!({"newsletter": rng.bool(), "contact": {"email": email, "phone": phone}, "theme": if rng.bool() {"dark"} else {"light"}});
            let country = if rng.f64() < 0.8 {
                "GB"
            } else if rng.bool() {
                "IE"
            } else {
                "FR"
            };
            user.execute(params![
                i,
                email,
                format!("{first} {last}"),
                phone,
                dob,
                plan,
                country,
                ip,
                referred,
                i,
                created,
                prefs.to_string()
            ])
            .map_err(e("users"))?;
            addr.execute(params![
                i,
                i,
                format!(
                    "{} {}",
                    rng.u32(1..300),
                    STREETS[rng.usize(..STREETS.len())]
                ),
                CITIES[rng.usize(..CITIES.len())],
                format!(
                    "{}{} {}{}{}",
                    ["SW", "EC", "LS", "BS", "M"][rng.usize(..5)],
                    rng.u32(1..20),
                    rng.u32(1..10),
                    (b'A' + rng.u8(..26)) as char,
                    (b'A' + rng.u8(..26)) as char
                )
            ])
            .map_err(e("addresses"))?;
            total += 2;
        }
        let mut next_addr = n + 1;
        #[allow(clippy::explicit_counter_loop)]
        for _ in 0..n / 2 {
            let u = rng.i64(1..=n);
            addr.execute(params![
                next_addr,
                u,
                format!(
                    "{} {}",
                    rng.u32(1..300),
                    STREETS[rng.usize(..STREETS.len())]
                ),
                CITIES[rng.usize(..CITIES.len())],
                format!("LS{} 1AB", rng.u32(1..20))
            ])
            .map_err(e("addresses"))?;
            next_addr += 1;
            total += 1;
        }
        let mut order = tx
            .prepare("INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .map_err(e("orders"))?;
        let mut item = tx
            .prepare("INSERT INTO order_items VALUES (?1, ?2, ?3, ?4, ?5)")
            .map_err(e("order_items"))?;
        let mut oid = 0i64;
        for u in 1..=n {
            // Skewed activity: most users order a little, a few a lot.
            let k = (rng.f64().powi(3) * 12.0) as i64;
            for _ in 0..k {
                oid += 1;
                let r = rng.f64();
                let status = if r < 0.8 {
                    "delivered"
                } else if r < 0.9 {
                    "shipped"
                } else if r < 0.97 {
                    "cancelled"
                } else if r < 0.999 {
                    "refunded"
                } else {
                    "disputed"
                };
                let lines = rng.i64(1..=4);
                let mut sum = 0.0;
                for l in 1..=lines {
                    let q = 1 + (rng.f64().powi(2) * 4.0) as i64;
                    let price = ((rng.f64() * 3.0 + 0.5).exp() * 100.0).round() / 100.0;
                    sum += price * q as f64;
                    item.execute(params![oid, l, rng.i64(1..=n_products), q, price])
                        .map_err(e("order_items"))?;
                    total += 1;
                }
                let card = format!("4{:015}", rng.u64(0..1_000_000_000_000_000));
                let ship = if rng.f64() < 0.9 { Some(u) } else { None };
                let created = format!(
                    "202{}-{:02}-{:02} {:02}:{:02}:00",
                    rng.u32(0..5),
                    rng.u32(1..13),
                    rng.u32(1..29),
                    rng.u32(0..24),
                    rng.u32(0..60)
                );
                order
                    .execute(params![
                        oid,
                        u,
                        ship,
                        status,
                        (sum * 100.0).round() / 100.0,
                        card,
                        created
                    ])
                    .map_err(e("orders"))?;
                total += 1;
            }
        }
    }
    tx.commit().map_err(e("commit"))?;
    Ok(total)
}
