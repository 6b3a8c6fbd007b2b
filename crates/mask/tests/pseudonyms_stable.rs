//! Pseudonyms never change (issue 18): masks are deterministic, and users rely on the same input
//! and key giving the same output in every version. For a fixed key, a few thousand generated
//! values of every kind a database holds (e-mails, names, phones, cards, IPs, addresses, dates,
//! free text, JSON documents with e-mails and IPs inside, nesting, escapes, unicode, numbers
//! whose text must be kept) are masked, and a blake3 digest of all outputs of each kind is
//! compared to the digest recorded from the code before any speed work. An optimisation that
//! changes a single output fails here.
//!
//! `PSEUDONYMS_DUMP=DIR cargo test -p prodlike-mask --test pseudonyms_stable` writes each kind's
//! outputs to `DIR/KIND.txt`, to diff against a dump of an older build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failure here is a test failure

use std::fmt::Write as _;
use std::sync::Arc;

use prodlike_mask::detect::NameDict;
use prodlike_mask::{
    Fit, JsonMasker, JsonRule, KeepRule, Mask, MaskKey, Masker, Output, TextMasker, Transform,
    UniqueScope,
};

/// Values generated per kind.
const N: usize = 3000;

/// The digests recorded from the code before the speed work of issue 18 (commit 45ffeb7).
const GOLDEN: &[(&str, &str)] = &[
    (
        "email",
        "b5b86772057b12072aeec918d4e020f5933aa55a09f8928c5390148265a45899",
    ),
    (
        "email_unique",
        "90e513acffe4a9d0201276b36459a6ab2675ef7287aa38ec9ddb7a492dff8df8",
    ),
    (
        "email_fitted",
        "d2cb8f344838618f383680df123f609bf28da0fa381eb8caba5ac3c7e36ccb66",
    ),
    (
        "username",
        "cab4fbb84dcd16c27333724e46735c7a3370dbdb1835fc268638c3782450338a",
    ),
    (
        "name",
        "9f1c0d025330b752abd032d2a80314deec4cf11526c67939dbe229b84836874b",
    ),
    (
        "first_last",
        "9739db8611d8988c59c94b2cea24fdd80b514fb4e1e4fdc45f219ebd10062bba",
    ),
    (
        "phone",
        "b7e651913cdbd5bc1dc17dad6a33e337e57e84fc36307ea976a416206b0de7a6",
    ),
    (
        "card",
        "ab311542cf084f9ca3b554cbf0479344756247efb981e8c95487e9fc7d285cad",
    ),
    (
        "ip",
        "d202de4d50100349ed3139142b9ca42aa3e282d9a86b13f8e2066b9bc9277838",
    ),
    (
        "street_city",
        "022d81e7f12b8439b3eb14721bede384d0892b98b4368bb834978bf4ba1f908e",
    ),
    (
        "format_preserving",
        "6f7f02363ec763a70732e8ead2445321542e967f01e75bd0301439bf05549ee7",
    ),
    (
        "numbers_dates",
        "b83966b0ed10d991e9e728bed84c53f850f47dd166e418d711247e47d49e20e2",
    ),
    (
        "free_text",
        "045c0b7a08a29393dc888b233f6d94c12c5d18f6ec9c81bf250cdcb76a5fbc1e",
    ),
    (
        "json_rules",
        "5c36a9e65840a19a9832364493fb5e964cd3efcea40876829d47365cbad5c1b4",
    ),
    (
        "json_detection",
        "23598016dcd4cde0152d46ee220c4aab2dd0e1f51476b7b98fb3abdff5141fac",
    ),
];

/// xorshift64*: the same values on every platform and version, without a dependency.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

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
    "François",
    "Zoë",
    "José",
    "Søren",
    "Ólafur",
    "Anne-Marie",
    "Jean-Luc",
    "Nancy",
    "Steven",
    "Björn",
    "Ça",
    "Łukasz",
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
    "O'Brien",
    "Müller",
    "Dupont",
    "van der Berg",
    "Smith-Jones",
    "Davolio",
    "Buchanan",
    "Nguyen",
    "Tremblay",
    "Kowalski",
];
const DOMAINS: &[&str] = &[
    "mailbox.test",
    "inbox.test",
    "corp.test",
    "post.test",
    "gmail.com",
    "Example.CO.UK",
    "mail.acme.com.au",
    "exämple.de",
    "localhost",
    "a-b.example.org",
];

fn lower(s: &str) -> String {
    s.to_lowercase().replace(' ', "")
}

fn email(g: &mut Gen, i: usize) -> String {
    let f = g.pick(FIRSTS);
    let l = g.pick(LASTS);
    let d = g.pick(DOMAINS);
    match i % 10 {
        0 => format!("{}.{}{i}@{}", lower(f), lower(l), d),
        1 => format!("visitor{}@inbox.test", g.next() % 1_000_000_000),
        2 => format!("{f}{l}{}@{d}", g.digits(2)),
        3 => format!(
            "{}{}+tag{i}@{d}",
            lower(f).chars().next().unwrap_or('x'),
            lower(l)
        ),
        4 => {
            let n = 1 + g.below(6);
            format!("{}_{}@{d}", lower(f), g.digits(n))
        }
        5 => format!("{}{}@{d}", lower(f), lower(l)),
        6 => {
            let n = 1 + g.below(12);
            format!("{}@{d}", g.digits(n))
        }
        7 => format!(
            "{}.{}.{}@{d}",
            lower(f),
            g.pick(&["a", "b", "jr"]),
            lower(l)
        ),
        8 => format!("{}{}", lower(f), g.digits(3)),
        _ => format!("{}-{}@{d}", l.to_uppercase(), g.digits(4)),
    }
}

fn name(g: &mut Gen, i: usize) -> String {
    let f = g.pick(FIRSTS);
    let l = g.pick(LASTS);
    match i % 8 {
        0 | 1 => format!("{f} {l}"),
        2 => format!("{}, {f}", l.to_uppercase()),
        3 => format!("Dr. {f} {l}-{}", g.pick(LASTS)),
        4 => format!("{} {}. {}", lower(f), g.pick(&["a", "J", "m"]), lower(l)),
        5 => format!("{f} {} {l}", g.pick(FIRSTS)),
        6 => g
            .pick(&[
                "王小明",
                "李娜",
                "Ms Smith",
                "J. R. R. Tolkien",
                "  Ann  ",
                "",
            ])
            .into(),
        _ => format!("{f}{}", g.digits(2)),
    }
}

fn phone(g: &mut Gen, i: usize) -> String {
    match i % 7 {
        0 => format!("+44 7{} {}", g.digits(3), g.digits(6)),
        1 => format!("({}) 555-{}", g.digits(3), g.digits(4)),
        2 => format!("0044 20 {} {}", g.digits(4), g.digits(4)),
        3 => format!("+1-{}-{}-{}", g.digits(3), g.digits(3), g.digits(4)),
        4 => format!("07{}", g.digits(9)),
        5 => format!("1 {} {} {}", g.digits(3), g.digits(3), g.digits(4)),
        _ => format!("+33 (0)1 {} {} {}", g.digits(2), g.digits(2), g.digits(2)),
    }
}

fn card(g: &mut Gen, i: usize) -> String {
    match i % 5 {
        0 | 1 => format!("4{}", g.digits(15)),
        2 => format!(
            "{}-{}-{}-{}",
            g.digits(4),
            g.digits(4),
            g.digits(4),
            g.digits(4)
        ),
        3 => format!("3{} {} {}", g.digits(3), g.digits(6), g.digits(5)),
        _ => format!("0{}", g.digits(15)),
    }
}

fn ip(g: &mut Gen, i: usize) -> String {
    match i % 5 {
        0 | 1 => format!(
            "{}.{}.{}.{}",
            1 + g.below(223),
            g.below(256),
            g.below(256),
            1 + g.below(254)
        ),
        2 => format!("10.{}.{}.0/24", g.below(256), g.below(256)),
        3 => format!("2001:db8::{:x}:{:x}", g.below(65536), g.below(65536)),
        _ => format!("fe80::{:x}/64", g.next() & 0xffff_ffff),
    }
}

fn street(g: &mut Gen, i: usize) -> String {
    let s = g.pick(&[
        "High Street",
        "Station Road",
        "Church Lane",
        "Mill Road",
        "Park Avenue",
        "rue de la Paix",
        "Hauptstraße",
    ]);
    match i % 5 {
        0 | 1 => format!("{} {s}", 1 + g.below(300)),
        2 => {
            let n = 1 + g.below(3);
            format!("Apt {}", g.digits(n))
        }
        3 => format!("{}, place Kléber", g.below(99)),
        _ => format!("{s} {}B, Flat {}", g.below(99), g.digits(2)),
    }
}

fn free_text(g: &mut Gen, i: usize) -> String {
    let f = g.pick(FIRSTS);
    let l = g.pick(LASTS);
    match i % 5 {
        0 => format!(
            "Call {f} {l} on {} or mail {}.",
            phone(g, i),
            email(g, 10 * i)
        ),
        1 => format!("card {} paid from {} by {l}", card(g, 0), ip(g, 0)),
        2 => format!("http://accweb/emmployees/{}.bmp", lower(l)),
        3 => format!("{f} {l} graduated in 19{}; notes: none", g.digits(2)),
        _ => format!("nothing personal here #{}", g.digits(5)),
    }
}

fn name_list(g: &mut Gen) -> String {
    format!(
        "{} {}, {} {} & {} {}",
        g.pick(FIRSTS),
        g.pick(LASTS),
        g.pick(FIRSTS),
        g.pick(LASTS),
        g.pick(FIRSTS),
        g.pick(LASTS)
    )
}

/// A JSON string literal of `s` as a generator would write it, with some characters escaped
/// even where they need not be (`\/`, `\u00e9`), as other writers do.
fn json_str(g: &mut Gen, s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '/' if g.chance(30) => out.push_str("\\/"),
            c if !c.is_ascii() && g.chance(30) => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON document: the bench database's two shapes as PostgreSQL prints jsonb, and others
/// with nesting, arrays, escapes, unicode, numbers of every form, duplicate and unsorted keys,
/// odd whitespace, and values of every type under masked keys.
fn json_doc(g: &mut Gen, i: usize) -> String {
    let mail = email(g, i);
    let addr = ip(g, i);
    match i % 12 {
        0 => format!(
            r#"{{"ip": "{addr}", "path": "/p/{}", "user": {{"email": "{mail}"}}}}"#,
            g.below(1000)
        ),
        1 => format!(
            r#"{{"theme": "{}", "contact": {{"email": "{mail}"}}, "newsletter": {}}}"#,
            g.pick(&["dark", "light"]),
            g.pick(&["true", "false"])
        ),
        2 => format!(
            "{{\n  \"user\" : {{ \"email\" :{}, \"name\":\t\"{} {}\" }},\r\n  \"ip\":{} }}  ",
            json_str(g, &mail),
            g.pick(FIRSTS),
            g.pick(LASTS),
            json_str(g, &addr)
        ),
        3 => format!(
            r#"{{"emails": ["{mail}", {}, null, 7], "card": {}, "phone": "{}"}}"#,
            {
                let e = email(g, i + 1);
                json_str(g, &e)
            },
            g.pick(&[
                "4111111111111111",
                "\"4111 1111 1111 1111\"",
                "true",
                "null",
                "1.5"
            ]),
            phone(g, i)
        ),
        4 => format!(
            r#"{{"z": 1, "a": {{"y": [1, 2, {{"email": "{mail}"}}], "b": -0, "c": 1.50}}, "m": 1e5, "n": -12, "o": 12345678901234567890, "p": -9223372036854775808, "q": 0.1, "r": 2.5E-3}}"#
        ),
        5 => format!(
            r#"{{"note": {}, "ip": "{addr}", "esc": "tab\there \"q\" back\\slash \u00e9 \ud83d\ude00 \/"}}"#,
            json_str(g, &format!("mail {mail}\nbye / é"))
        ),
        6 => format!(
            r#"[{{"email": "{mail}"}}, {{"user": {{"email": "{}"}}, "ip": "{addr}"}}, [], {{}}, "x", 3]"#,
            email(g, i + 2)
        ),
        7 => format!(r#"{{"ip": "{addr}", "ip": "10.0.0.1", "user": {{"email": "{mail}"}}}}"#),
        8 => format!(
            r#"{{"user": {{"email": {{"work": "{mail}", "home": ["{}", 42, false]}}}}, "amount": {}}}"#,
            email(g, i + 3),
            g.pick(&["12", "-3.25", "1e2", "0"])
        ),
        9 => format!(
            r#"{{"a":{{"b":{{"c":{{"d":{{"e":{{"f":[[[{{"email":"{mail}","ip":"{addr}"}}]]]}}}}}}}}}}}}"#
        ),
        10 => format!(
            r#"{{"Ünïcode": "ключ {mail}", "user": {{"EMAIL": "{mail}", "email": 123456789}}, "ip": 167772161}}"#
        ),
        _ => g
            .pick(&[
                "\"a string\"",
                "42",
                "null",
                "[]",
                "{}",
                "not json",
                "{\"ip\": }",
                "{\"ip\": \"1.2.3.4\"} trailing",
                "  {\"ip\": \"1.2.3.4\"}  ",
                "{\"ip\": \"not an ip\", \"user\": {\"email\": \"\"}}",
                "{\"\": {\"\": \"x\"}, \"ip\": \"::1\"}",
                "{\"ip\": \"1.2.3.4\", \"bad\": \"\\ud800\"}",
            ])
            .to_owned(),
    }
}

fn mask(m: &Masker, t: &str) -> Mask {
    m.mask(&toml::from_str::<Wrapper>(&format!("t = {t}")).unwrap().t)
        .unwrap()
}

#[derive(serde::Deserialize)]
struct Wrapper {
    t: Transform,
}

fn push_result(r: Result<Output, prodlike_mask::MaskError>, buf: &str, out: &mut String) {
    match r {
        Ok(Output::Text) => out.push_str(buf),
        Ok(Output::Null) => out.push_str("<null>"),
        Err(e) => {
            let _ = write!(out, "<err {e}>");
        }
    }
    out.push('\n');
}

fn apply_all(mask: &Mask, inputs: &[String]) -> String {
    let mut out = String::new();
    let mut buf = String::new();
    for v in inputs {
        let r = mask.apply_str(v, &mut buf);
        push_result(r, &buf, &mut out);
    }
    out
}

fn gen_values(seed: u64, f: impl Fn(&mut Gen, usize) -> String) -> Vec<String> {
    let mut g = Gen(seed);
    (0..N).map(|i| f(&mut g, i)).collect()
}

/// How `prodlike data` masks a JSON column: the text route ([`JsonMasker::mask_text`]), which
/// must agree with the tree route it replaced (parse, mask, print compactly); a value that does
/// not parse is kept as it is.
fn json_as_data_does(j: &JsonMasker, text: &str) -> String {
    let tree = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .map(|mut doc| {
            j.mask_value(&mut doc);
            doc.to_string()
        });
    let route = j.mask_text(text);
    assert_eq!(route, tree, "{text}");
    route.unwrap_or_else(|| text.to_owned())
}

fn json_rules() -> Vec<JsonRule> {
    let t = |s: &str| Transform::from_name(s).unwrap();
    vec![
        JsonRule::path("/ip", t("ip")),
        JsonRule::path("/user/email", t("email")),
        JsonRule::path("/contact/email", t("email")),
        JsonRule::path("/emails/*", t("email")),
        JsonRule::path("/**/d/e/f/*/*/*/email", t("email")),
        JsonRule::key("card", t("card")),
        JsonRule::key("phone", t("phone")),
        JsonRule::key("amount", t("noise")),
        JsonRule::path("/*/ip", t("ip")),
    ]
}

/// Every kind's outputs, one line per value.
// Long: one block per kind, in the order of GOLDEN.
#[allow(clippy::too_many_lines)]
fn outputs() -> Vec<(&'static str, String)> {
    let m = Masker::new(MaskKey::from_secret(b"pseudonyms stable golden key 2026").unwrap());
    let emails = gen_values(1, email);
    let names = gen_values(2, name);
    let mut kinds = Vec::new();

    kinds.push(("email", apply_all(&mask(&m, "\"email\""), &emails)));

    // A unique column: repeated inputs keep their pseudonym, colliding ones are retried.
    let unique = mask(&m, "\"email\"");
    let scope = UniqueScope::new();
    let mut out = String::new();
    let mut buf = String::new();
    for v in emails.iter().chain(emails.iter().step_by(7)) {
        let r = unique.apply_str_unique(v, &scope, &mut buf);
        push_result(r, &buf, &mut out);
    }
    // Short local parts collide often: late retries append digits.
    let first = mask(&m, "\"first_name\"");
    let scope = UniqueScope::new();
    for v in FIRSTS.iter().cycle().take(400) {
        let r = first.apply_str_unique(v, &scope, &mut buf);
        push_result(r, &buf, &mut out);
    }
    kinds.push(("email_unique", out));

    let fit = Fit {
        max_chars: Some(18),
        ..Fit::default()
    };
    let mut out = String::new();
    let scope = UniqueScope::new();
    for v in &emails {
        let r = unique.apply_str_fitted(v, &fit, Some(&scope), &mut buf);
        push_result(r, &buf, &mut out);
    }
    kinds.push(("email_fitted", out));

    let usernames: Vec<String> = emails
        .iter()
        .map(|e| e.split('@').next().unwrap_or("").to_owned())
        .collect();
    kinds.push(("username", apply_all(&mask(&m, "\"username\""), &usernames)));

    let mut out = apply_all(&mask(&m, "\"name\""), &names);
    out.push_str(&apply_all(
        &mask(&m, "{ type = \"name\", locale = \"fr_FR\" }"),
        &names[..300],
    ));
    out.push_str(&apply_all(
        &mask(&m, "{ type = \"name\", locale = \"zh_CN\" }"),
        &names[..300],
    ));
    kinds.push(("name", out));

    let words: Vec<String> = FIRSTS
        .iter()
        .chain(LASTS)
        .map(|s| (*s).to_owned())
        .collect();
    let mut out = apply_all(&mask(&m, "\"first_name\""), &words);
    out.push_str(&apply_all(&mask(&m, "\"last_name\""), &words));
    out.push_str(&apply_all(&mask(&m, "\"company\""), &words));
    kinds.push(("first_last", out));

    let phones = gen_values(3, phone);
    let mut out = apply_all(&mask(&m, "\"phone\""), &phones);
    out.push_str(&apply_all(
        &mask(&m, "{ type = \"phone\", keep_country_code = false }"),
        &phones,
    ));
    kinds.push(("phone", out));

    let cards = gen_values(4, card);
    let mut out = apply_all(&mask(&m, "\"card\""), &cards);
    out.push_str(&apply_all(
        &mask(&m, "{ type = \"card\", keep_bin = true }"),
        &cards,
    ));
    kinds.push(("card", out));

    kinds.push(("ip", apply_all(&mask(&m, "\"ip\""), &gen_values(5, ip))));

    let streets = gen_values(6, street);
    let mut out = apply_all(&mask(&m, "\"street_address\""), &streets);
    let cities: Vec<String> = gen_values(7, |g, _| {
        g.pick(&[
            "London",
            "Leeds",
            "Bristol",
            "YORK",
            "bath",
            "Saint-Étienne",
        ])
        .to_owned()
    });
    out.push_str(&apply_all(&mask(&m, "\"city\""), &cities));
    kinds.push(("street_city", out));

    let codes: Vec<String> = gen_values(8, |g, i| match i % 4 {
        0 => format!(
            "{}{} {}{}{}",
            g.pick(&["SW", "EC", "LS", "BS", "M"]),
            1 + g.below(19),
            1 + g.below(9),
            char::from(b'A' + g.below(26) as u8),
            char::from(b'A' + g.below(26) as u8)
        ),
        1 => g.digits(5),
        2 => format!("{:x}-{:X}", g.next(), g.next() & 0xffff),
        _ => format!("00{}", g.digits(6)),
    });
    let mut out = apply_all(
        &mask(&m, "{ type = \"format_preserving\", alphabet = \"alnum\" }"),
        &codes,
    );
    out.push_str(&apply_all(
        &mask(&m, "{ type = \"format_preserving\", alphabet = \"hex\" }"),
        &codes,
    ));
    out.push_str(&apply_all(
        &mask(
            &m,
            "{ type = \"format_preserving\", alphabet = \"digits\", keep_prefix = 2, keep_suffix = 1 }",
        ),
        &codes,
    ));
    out.push_str(&apply_all(&mask(&m, "\"hash\""), &codes));
    kinds.push(("format_preserving", out));

    let mut out = String::new();
    let fp = mask(&m, "\"format_preserving\"");
    let dates = mask(&m, "{ type = \"date_noise\", days = 180 }");
    let noise = mask(&m, "{ type = \"noise\", percent = 10 }");
    let mut g = Gen(9);
    for i in 0..N as i64 {
        let v = (g.next() >> (g.below(60) + 4)) as i64 * if i % 3 == 0 { -1 } else { 1 };
        let _ = writeln!(
            out,
            "{:?} {:?} {:?} {:?} {:?}",
            fp.apply_i64(v),
            dates.apply_date_days((v % 40_000) as i32),
            dates.apply_timestamp_micros(v),
            noise.apply_i64(v),
            noise.apply_f64(v as f64 / 7.0)
        );
    }
    kinds.push(("numbers_dates", out));

    let mut dict = NameDict::new();
    for f in FIRSTS {
        dict.add_given(f);
    }
    for l in LASTS {
        dict.add_surname(l);
    }
    let text = TextMasker::new(&m, Arc::new(dict)).unwrap();
    let mut out = String::new();
    let mut g = Gen(10);
    for i in 0..N {
        out.push_str(&text.mask_text(&free_text(&mut g, i)));
        out.push('\n');
        if i % 3 == 0 {
            out.push_str(&text.mask_name_list(&name_list(&mut g)));
            out.push('\n');
        }
    }
    kinds.push(("free_text", out));

    let docs = gen_values(11, json_doc);
    let rules = JsonMasker::new(&m, &json_rules()).unwrap();
    let mut out = String::new();
    for d in &docs {
        out.push_str(&json_as_data_does(&rules, d));
        out.push('\n');
    }
    kinds.push(("json_rules", out));

    let detecting = JsonMasker::with_detection(
        &m,
        &json_rules()[..2],
        &[KeepRule("theme".into()), KeepRule("/path".into())],
    )
    .unwrap();
    let mut out = String::new();
    for d in &docs {
        out.push_str(&json_as_data_does(&detecting, d));
        out.push('\n');
    }
    kinds.push(("json_detection", out));
    kinds
}

#[test]
fn every_pseudonym_is_the_one_recorded() {
    let dump = std::env::var_os("PSEUDONYMS_DUMP").map(std::path::PathBuf::from);
    let mut wrong = Vec::new();
    for (kind, text) in outputs() {
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{kind}.txt")), &text).unwrap();
        }
        let got = blake3::hash(text.as_bytes()).to_hex().to_string();
        let want = GOLDEN
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or("(none recorded)", |(_, d)| *d);
        if got != want {
            wrong.push(format!("(\"{kind}\", \"{got}\"), // was {want}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "pseudonyms changed (a digest differs); diff a PSEUDONYMS_DUMP of this build against one of the last good build:\n{}",
        wrong.join("\n")
    );
}
