//! A malformed file stops the comparison with an error naming the file and the line.
#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure
use prodlike_drift::{RuleSet, compare_paths};

fn error_for(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::create_dir_all(bad.join("conf")).unwrap();
    std::fs::write(good.join("placeholder.txt"), "x").unwrap();
    std::fs::write(bad.join("conf").join(name), text).unwrap();
    compare_paths(&good, &bad, &RuleSet::default(), None)
        .unwrap_err()
        .to_string()
}

#[test]
fn each_format_names_file_and_line() {
    let cases = [
        (
            "values.yaml",
            "image:\n  tag: \"1.2\n  pull: Always\nreplicas: [1, 2\n",
            "YAML",
        ),
        (
            "deploy.yaml",
            "apiVersion: v1\nkind: Service\n---\nmetadata:\n  name: a\n   bad: indent\n",
            "YAML",
        ),
        ("config.json", "{\n  \"a\": 1,\n  \"b\": 2,,\n}\n", "JSON"),
        ("settings.toml", "[server]\nport = 8080\nhost = \n", "TOML"),
        (
            "app.env",
            "A=1\nB=2\nthis line has no equals sign\n",
            ".env",
        ),
        ("app.properties", "a=1\nb=\\uZZZZ\n", "Java properties"),
        (
            "prod.tfvars",
            "region = \"eu\"\ncount = var.n\n",
            "Terraform tfvars",
        ),
    ];
    for (name, text, format) in cases {
        let e = error_for(name, text);
        assert!(e.contains(&format!("conf/{name}:")), "{e}");
        assert!(e.contains(&format!("malformed {format} at line ")), "{e}");
        eprintln!("{e}");
    }
    // Exact lines where the readers know them.
    assert!(
        error_for("config.json", "{\n  \"a\": 1,\n  \"b\": 2,,\n}\n").contains("config.json:3:")
    );
    assert!(
        error_for("settings.toml", "[server]\nport = 8080\nhost = \n").contains("settings.toml:3:")
    );
    assert!(
        error_for("app.env", "A=1\nB=2\nthis line has no equals sign\n").contains("app.env:3:")
    );
    assert!(
        error_for("prod.tfvars", "region = \"eu\"\ncount = var.n\n").contains("prod.tfvars:2:9:")
    );
}

#[test]
fn bad_rules_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drift.toml");
    std::fs::write(
        &path,
        "[[rule]]\nkind = \"scale\"\npath = \"spec.replicas\"\nfactor = -1\nreason = \"x\"\n",
    )
    .unwrap();
    let e = RuleSet::load(&path, prodlike_drift::Date::today())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("drift.toml") && e.contains("rule[1].factor"),
        "{e}"
    );
}
