//! Prints what each transform does to a few sample values: `cargo run -p prodlike-mask --example show`.

use prodlike_mask::{MaskKey, Masker, Transform};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let masker = Masker::new(MaskKey::from_secret(b"example secret, not for production")?);
    let samples: &[(&str, &[&str])] = &[
        ("\"hash\"", &["alice@example.com"]),
        (
            "{ type = \"hash\", encoding = \"base32\", length = 26 }",
            &["alice@example.com"],
        ),
        (
            "\"name\"",
            &[
                "John Smith",
                "SMITH, John",
                "Dr. Mary-Ann O'Neil",
                "j. r. tolkien",
            ],
        ),
        ("{ type = \"name\", locale = \"fr_FR\" }", &["Jean Dupont"]),
        ("{ type = \"name\", locale = \"zh_CN\" }", &["王小明"]),
        ("\"first_name\"", &["John", "mary"]),
        ("\"last_name\"", &["Smith"]),
        (
            "\"email\"",
            &[
                "john.smith@gmail.com",
                "JSmith42@acme.co.uk",
                "a_b-c+tag@mail.example.org",
                "nancy@chinookcorp.com",
            ],
        ),
        (
            "{ type = \"email\", domains = [\"example.com\"] }",
            &["john.smith@gmail.com"],
        ),
        ("\"username\"", &["jsmith_1987", "xX_gamer_Xx"]),
        (
            "\"phone\"",
            &[
                "+1 (415) 555-0100",
                "+44 20 7946 0018",
                "06 12 34 56 78",
                "415.555.0100",
                "1 (780) 836-9987",
            ],
        ),
        (
            "\"street_address\"",
            &[
                "221B Baker Street",
                "12 Main St, Apt 4",
                "Hauptstraße 12",
                "Apt 10",
            ],
        ),
        (
            "{ type = \"street_address\", locale = \"fr_FR\" }",
            &["12 rue de la Paix"],
        ),
        ("\"city\"", &["Springfield", "PARIS"]),
        ("\"company\"", &["Acme Corp"]),
        (
            "\"format_preserving\"",
            &["123-45-6789", "AB123456C", "ORD-2024-00042"],
        ),
        (
            "{ type = \"format_preserving\", alphabet = \"hex\" }",
            &["550e8400-e29b-41d4-a716-446655440000"],
        ),
        ("\"card\"", &["4111 1111 1111 1111", "5500-0000-0000-0004"]),
        (
            "{ type = \"card\", keep_bin = true }",
            &["4111111111111111"],
        ),
        ("\"ip\"", &["192.168.1.20", "2001:db8::1", "10.0.0.0/8"]),
        ("{ type = \"noise\", percent = 10 }", &["1234", "99.95"]),
        (
            "{ type = \"date_noise\", days = 30 }",
            &["1987-06-15", "2024-02-29T13:45:00Z"],
        ),
        (
            "{ type = \"constant\", value = \"REDACTED\" }",
            &["anything"],
        ),
    ];
    for (spec, inputs) in samples {
        let t: Transform = toml::from_str::<toml::Table>(&format!("t = {spec}"))?
            .remove("t")
            .ok_or("no t")?
            .try_into()?;
        let mask = masker.mask(&t)?;
        for input in *inputs {
            println!("{spec:58} {input:40} → {:?}", mask.mask_str(input)?);
        }
    }
    Ok(())
}
