//! CPU cost of masking, per kind of value, on values shaped like the bench database's masked
//! columns (`scripts/gen-testdb.sql`), applied the way `prodlike data` applies them
//! (`crates/data/src/maskplan.rs`: unique columns through a scope, JSON columns by path rules).
//!
//! ```text
//! cargo run --release -p prodlike-mask --example mask_cost            # every kind
//! cargo run --release -p prodlike-mask --example mask_cost -- payload # kinds containing `payload`
//! ```
//!
//! Prints CPU ns per value (this thread's CPU time over `ROUNDS` passes of `N` values, so a loaded
//! machine inflates it less than the wall clock) and the masking CPU those costs
//! make for the 60,000-user database (row counts below; names, streets and cities repeat, so the
//! data crate's memo masks each distinct value once and they are counted per distinct value).

use std::hint::black_box;
use std::time::Instant;

use prodlike_mask::{Fit, JsonMasker, JsonRule, Mask, MaskKey, Masker, Transform, UniqueScope};

/// Values per kind.
const N: usize = 200_000;
/// Passes per kind.
const ROUNDS: usize = 5;

const FIRSTS: &[&str] = &[
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
    "Chloe",
    "Jack",
    "Sofia",
    "Harry",
    "Grace",
    "George",
];
const LASTS: &[&str] = &[
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
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
];
const DOMAINS: &[&str] = &["mailbox.test", "inbox.test", "corp.test", "post.test"];
const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Road",
    "Park Avenue",
    "Victoria Road",
    "Green Lane",
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

struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }
    fn ip(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            1 + self.below(223),
            self.below(256),
            self.below(256),
            1 + self.below(254)
        )
    }
}

/// How a value is masked, as the data crate does it for that column.
enum How {
    Text(Mask),
    Unique(Mask),
    Date(Mask),
    Json(JsonMasker),
}

struct Kind {
    name: &'static str,
    /// Rows of this column in the 60,000-user database that reach the mask (distinct values
    /// for the columns the data crate's memo serves).
    rows: u64,
    how: How,
    /// The `i`-th value of the column.
    value: Gen1,
}

type Gen1 = Box<dyn Fn(&mut Gen, usize) -> String>;

fn transform(s: &str) -> Result<Transform, Box<dyn std::error::Error>> {
    #[derive(serde::Deserialize)]
    struct W {
        t: Transform,
    }
    Ok(toml::from_str::<W>(&format!("t = {s}"))?.t)
}

/// `prodlike data`'s route for a JSON column masked by path rules.
fn json_column(j: &JsonMasker, text: &str) -> String {
    j.mask_text(text).unwrap_or_default()
}

// Long: one literal entry per column kind of the bench database.
#[allow(clippy::too_many_lines)]
fn kinds(m: &Masker) -> Result<Vec<Kind>, Box<dyn std::error::Error>> {
    let mask =
        |t: &str| -> Result<Mask, Box<dyn std::error::Error>> { Ok(m.mask(&transform(t)?)?) };
    Ok(vec![
        Kind {
            name: "users.email (unique scope)",
            rows: 60_000,
            how: How::Unique(mask("\"email\"")?),
            value: Box::new(|g, i| {
                format!(
                    "{}.{}{}@{}",
                    g.pick(FIRSTS).to_lowercase(),
                    g.pick(LASTS).to_lowercase(),
                    i + 1,
                    DOMAINS[i % 4]
                )
            }),
        },
        Kind {
            name: "users.full_name (memo: distinct)",
            rows: 36 * 36,
            how: How::Text(mask("\"name\"")?),
            value: Box::new(|g, _| format!("{} {}", g.pick(FIRSTS), g.pick(LASTS))),
        },
        Kind {
            name: "users.phone",
            rows: 60_000,
            how: How::Text(mask("\"phone\"")?),
            value: Box::new(|g, _| {
                format!("+44 7{:03} {:06}", 100 + g.below(900), g.below(1_000_000))
            }),
        },
        Kind {
            name: "users.date_of_birth",
            rows: 60_000,
            how: How::Date(mask("{ type = \"date_noise\", days = 180 }")?),
            value: Box::new(|g, _| (g.below(20_000) as i64 - 7305).to_string()),
        },
        Kind {
            name: "users.signup_ip",
            rows: 60_000,
            how: How::Text(mask("\"ip\"")?),
            value: Box::new(|g, _| g.ip()),
        },
        Kind {
            name: "users.prefs (JSON)",
            rows: 60_000,
            how: How::Json(JsonMasker::new(
                m,
                &[JsonRule::path("/contact/email", transform("\"email\"")?)],
            )?),
            value: Box::new(|g, i| {
                format!(
                    r#"{{"theme": "{}", "contact": {{"email": "{}.{}{}@mailbox.test"}}, "newsletter": {}}}"#,
                    g.pick(&["dark", "light"]),
                    g.pick(FIRSTS).to_lowercase(),
                    g.pick(LASTS).to_lowercase(),
                    i + 1,
                    g.pick(&["true", "false"])
                )
            }),
        },
        Kind {
            name: "addresses.street (memo: distinct)",
            rows: 2_100,
            how: How::Text(mask("\"street_address\"")?),
            value: Box::new(|g, _| format!("{} {}", 1 + g.below(300), g.pick(STREETS))),
        },
        Kind {
            name: "addresses.city (memo: distinct)",
            rows: 10,
            how: How::Text(mask("\"city\"")?),
            value: Box::new(|g, _| g.pick(CITIES).to_owned()),
        },
        Kind {
            name: "addresses.postal_code",
            rows: 90_000,
            how: How::Text(mask(
                "{ type = \"format_preserving\", alphabet = \"alnum\" }",
            )?),
            value: Box::new(|g, _| {
                format!(
                    "{}{} {}{}{}",
                    g.pick(&["SW", "EC", "LS", "BS", "M"]),
                    1 + g.below(19),
                    1 + g.below(9),
                    char::from(b'A' + g.below(26) as u8),
                    char::from(b'A' + g.below(26) as u8)
                )
            }),
        },
        Kind {
            name: "orders.card_number",
            rows: 168_000,
            how: How::Text(mask("\"card\"")?),
            value: Box::new(|g, _| format!("4{:015}", g.below(1_000_000_000_000_000))),
        },
        Kind {
            name: "events.payload (JSON)",
            rows: 180_000,
            how: How::Json(JsonMasker::new(
                m,
                &[
                    JsonRule::path("/ip", transform("\"ip\"")?),
                    JsonRule::path("/user/email", transform("\"email\"")?),
                ],
            )?),
            value: Box::new(|g, _| {
                format!(
                    r#"{{"ip": "{}", "path": "/p/{}", "user": {{"email": "visitor{}@inbox.test"}}}}"#,
                    g.ip(),
                    g.below(1000),
                    g.below(1_000_000_000)
                )
            }),
        },
    ])
}

/// Masks every value once; returns the bytes written (so nothing is optimised away).
fn pass(k: &Kind, values: &[String]) -> usize {
    let mut buf = String::new();
    let mut total = 0;
    match &k.how {
        How::Text(m) => {
            for v in values {
                let _ = m.apply_str(v, &mut buf);
                total += buf.len();
            }
        }
        How::Unique(m) => {
            // Each pass is a new table copy: a fresh scope, as a new sync starts with one.
            let scope = UniqueScope::new();
            for v in values {
                let _ = m.apply_str_fitted(v, &Fit::default(), Some(&scope), &mut buf);
                total += buf.len();
            }
        }
        How::Date(m) => {
            for v in values {
                let d: i32 = v.parse().unwrap_or(0);
                total += m.apply_date_days(d).ok().flatten().unwrap_or(0) as usize & 1;
            }
        }
        How::Json(j) => {
            for v in values {
                total += black_box(json_column(j, v)).len();
            }
        }
    }
    total
}

/// This thread's CPU time, user and system (Linux: `/proc/thread-self/stat`, in clock ticks of
/// 10 ms), which, unlike the wall clock, does not count the time other processes of a loaded
/// machine hold the CPU.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the
    // 14th and stime the 15th.
    let rest = &s[s.rfind(')')? + 2..];
    let mut f = rest.split_whitespace().skip(11);
    let user: u64 = f.next()?.parse().ok()?;
    let system: u64 = f.next()?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let masker = Masker::new(MaskKey::from_secret(b"bench-key-0123456789abcdef")?);
    let kinds = kinds(&masker)?;
    println!(
        "{:<36} {:>10} {:>10} {:>12} {:>14}",
        "kind (as prodlike data masks it)", "CPU ns/val", "wall ns", "bench rows", "bench CPU (s)"
    );
    let mut sum = 0.0;
    for k in kinds.iter().filter(|k| k.name.contains(filter.as_str())) {
        let mut g = Gen(0x5eed);
        let values: Vec<String> = (0..N).map(|i| (k.value)(&mut g, i)).collect();
        // CPU time is summed over the passes (its clock ticks are coarse); wall time is the
        // best pass, for reference.
        let mut wall = f64::MAX;
        let cpu0 = cpu_seconds();
        for _ in 0..ROUNDS {
            let t = Instant::now();
            black_box(pass(k, &values));
            wall = wall.min(t.elapsed().as_secs_f64());
        }
        let per_pass = match (cpu0, cpu_seconds()) {
            (Some(a), Some(b)) => (b - a) / ROUNDS as f64,
            _ => wall,
        };
        let ns = per_pass * 1e9 / N as f64;
        let wall_ns = wall * 1e9 / N as f64;
        let cpu = ns * k.rows as f64 / 1e9;
        sum += cpu;
        println!(
            "{:<36} {:>10.0} {:>10.0} {:>12} {:>14.3}",
            k.name, ns, wall_ns, k.rows, cpu
        );
    }
    println!(
        "{:<36} {:>10} {:>10} {:>12} {:>14.3}",
        "total", "", "", "", sum
    );
    Ok(())
}
