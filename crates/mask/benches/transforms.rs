//! Values per second for each transform, plus JSON body and query masking.
//!
//! `cargo bench -p prodlike-mask --bench transforms -- --warm-up-time 1 --measurement-time 3`
//! Each benchmark masks a batch of 1,000 distinct realistic values (throughput is reported in
//! elements, i.e. values/s), reusing one output buffer as the data engine does.
// A transform built for a kind answers in that kind; any other answer is a broken bench.
#![allow(clippy::unreachable)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prodlike_mask::{
    JsonMasker, JsonRule, MaskKey, Masker, QueryMasker, QueryRule, Transform, UniqueScope,
};
use std::hint::black_box;

const N: usize = 1000;

fn spec(s: &str) -> Transform {
    let table: toml::Table = toml::from_str(&format!("t = {s}")).unwrap_or_default();
    table
        .get("t")
        .cloned()
        .and_then(|v| v.try_into().ok())
        .unwrap_or(Transform::Keep)
}

fn inputs(kind: &str) -> Vec<String> {
    (0..N)
        .map(|i| match kind {
            "email" => format!("user.name{i}@company{}.com", i % 50),
            "name" => format!("Firstname{} Lastname{}", i % 300, i % 700),
            "phone" => format!("+1 (415) 555-{:04}", i),
            "card" => format!("4111 1111 {:04} {:04}", i, i * 7 % 10_000),
            "id" => format!("ORD-{:08}-X{}", i * 7919, i % 10),
            "uuid" => format!("550e8400-e29b-41d4-a716-{:012x}", i * 104_729),
            "ip" => format!("10.{}.{}.{}", i % 256, (i / 256) % 256, i % 200),
            "number" => format!("{}.{:02}", 1000 + i, i % 100),
            "date" => format!("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + i % 12, 1 + i % 28),
            "street" => format!("{} Main Street {}", i + 1, i % 40),
            _ => format!("value-{i}"),
        })
        .collect()
}

fn bench_transforms(c: &mut Criterion) {
    let masker = Masker::new(
        MaskKey::from_secret(b"benchmark secret, not for use").unwrap_or_else(|_| unreachable!()),
    );
    let cases: &[(&str, &str, &str)] = &[
        ("keep", r#""keep""#, "email"),
        ("hash", r#""hash""#, "email"),
        ("email", r#""email""#, "email"),
        ("name", r#""name""#, "name"),
        ("first_name", r#""first_name""#, "name"),
        ("phone", r#""phone""#, "phone"),
        ("street_address", r#""street_address""#, "street"),
        ("city", r#""city""#, "name"),
        ("company", r#""company""#, "name"),
        ("username", r#""username""#, "email"),
        ("format_preserving_id", r#""format_preserving""#, "id"),
        (
            "format_preserving_uuid",
            r#"{ type = "format_preserving", alphabet = "hex" }"#,
            "uuid",
        ),
        ("card", r#""card""#, "card"),
        ("ip", r#""ip""#, "ip"),
        ("noise_text", r#""noise""#, "number"),
        ("date_noise_text", r#""date_noise""#, "date"),
    ];
    let mut g = c.benchmark_group("transform");
    g.throughput(Throughput::Elements(N as u64));
    for (name, s, kind) in cases {
        let mask = masker.mask(&spec(s)).unwrap_or_else(|_| unreachable!());
        let vals = inputs(kind);
        let mut out = String::with_capacity(64);
        g.bench_function(*name, |b| {
            b.iter(|| {
                for v in &vals {
                    let _ = black_box(mask.apply_str(black_box(v), &mut out));
                }
            })
        });
    }
    let noise = masker
        .mask(&spec(r#""noise""#))
        .unwrap_or_else(|_| unreachable!());
    g.bench_function("noise_i64", |b| {
        b.iter(|| {
            for i in 0..N as i64 {
                let _ = black_box(noise.apply_i64(black_box(i * 37)));
            }
        })
    });
    let dn = masker
        .mask(&spec(r#""date_noise""#))
        .unwrap_or_else(|_| unreachable!());
    g.bench_function("date_noise_days", |b| {
        b.iter(|| {
            for i in 0..N as i32 {
                let _ = black_box(dn.apply_date_days(black_box(i * 11)));
            }
        })
    });
    // Unique scope: first pass claims, later passes re-verify (the steady state of a big sync).
    let email = masker
        .mask(&spec(r#""email""#))
        .unwrap_or_else(|_| unreachable!());
    let vals = inputs("email");
    let scope = UniqueScope::new();
    let mut out = String::new();
    g.bench_function("email_unique_scope", |b| {
        b.iter(|| {
            for v in &vals {
                let _ = black_box(email.apply_str_unique(v, &scope, &mut out));
            }
        })
    });
    g.finish();
}

fn bench_http(c: &mut Criterion) {
    let masker = Masker::new(
        MaskKey::from_secret(b"benchmark secret, not for use").unwrap_or_else(|_| unreachable!()),
    );
    let jm = JsonMasker::new(
        &masker,
        &[
            JsonRule::key("email", spec(r#""email""#)),
            JsonRule::path("/payment/card", spec(r#""card""#)),
        ],
    )
    .unwrap_or_else(|_| unreachable!());
    let body = br#"{"user":{"id":42,"email":"jane.doe@example.com","name":"Jane"},"items":[{"sku":"A1","qty":2},{"sku":"B7","qty":1}],"payment":{"card":"4111 1111 1111 1111","amount":99.5}}"#;
    let qm = QueryMasker::new(&masker, &[QueryRule::new("email", spec(r#""email""#))])
        .unwrap_or_else(|_| unreachable!());
    let mut g = c.benchmark_group("http");
    g.throughput(Throughput::Elements(1));
    g.bench_function("json_body_2_fields", |b| {
        b.iter(|| black_box(jm.mask_body(black_box(body))))
    });
    g.bench_function("query_1_of_4_params", |b| {
        b.iter(|| {
            black_box(qm.mask(black_box(
                "page=2&email=jane.doe%40example.com&sort=asc&limit=50",
            )))
        })
    });
    g.finish();
}

criterion_group!(benches, bench_transforms, bench_http);
criterion_main!(benches);
