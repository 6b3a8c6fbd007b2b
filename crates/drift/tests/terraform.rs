//! Terraform in drift: `.tf` files compared block by block and attribute by attribute (module
//! calls paired across environment names, a literal against a variable its own finding,
//! lines at the attributes), `terraform show -json` plans compared by address, and bad input
//! refused with the file and line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::{Path, PathBuf};

use prodlike_drift::report::Location;
use prodlike_drift::{Change, Date, DriftReport, Finding, RuleSet, Status, compare_paths, samples};

/// Writes `production/<name>` and `staging/<name>` under a temp dir.
fn sides(name: &str, prod: &str, staging: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = (dir.path().join("production"), dir.path().join("staging"));
    for (side, text) in [(&p, prod), (&s, staging)] {
        std::fs::create_dir_all(side).unwrap();
        std::fs::write(side.join(name), text).unwrap();
    }
    (dir, p, s)
}

fn rules(text: &str) -> RuleSet {
    RuleSet::parse(text, Date::today()).unwrap()
}

fn compare(b: &Path, c: &Path, rules: &RuleSet) -> DriftReport {
    compare_paths(b, c, rules, None).unwrap()
}

fn by_path<'r>(r: &'r DriftReport, path: &str) -> &'r Finding {
    r.findings
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no finding at {path}: {:#?}", r.findings))
}

fn at(file: &str, line: usize) -> Option<Location> {
    Some(Location {
        file: file.to_string(),
        line,
        column: Some(24),
    })
}

/// The two module calls of the issue, each on one line.
const PROD_ONE_LINE: &str = "module \"prod_cluster\"    { source = \"../modules/web_cluster\"  instance_type = \"t3.xlarge\"  instance_count = 4  connection_timeout = var.connection_timeout }\n";
const STAGING_ONE_LINE: &str = "module \"staging_cluster\" { source = \"../modules/web_cluster\"  instance_type = \"t3.large\"   instance_count = 2  connection_timeout = 45 }\n";

#[test]
fn module_calls_are_compared_by_attribute_without_rules() {
    let (_d, p, s) = sides(
        "main.tf",
        samples::terraform::PRODUCTION,
        samples::terraform::STAGING,
    );
    let r = compare(&p, &s, &RuleSet::default());
    let mut paths: Vec<(&str, Change)> = r
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.change))
        .collect();
    paths.sort_by_key(|(p, _)| *p);
    assert_eq!(
        paths,
        vec![
            ("connection_timeout", Change::HardCoded),
            ("instance_count", Change::Changed),
            ("instance_type", Change::Changed),
        ],
        "{:#?}",
        r.findings
    );
    assert!(r.findings.iter().all(|f| f.status == Status::Drift));
    assert!(
        r.findings.iter().all(|f| !f.path.is_empty()),
        "never a whole-file finding"
    );
    let t = by_path(&r, "connection_timeout");
    assert_eq!(t.object.as_deref(), Some("module.staging_cluster"));
    assert_eq!(
        t.baseline,
        Some(serde_json::json!("var.connection_timeout"))
    );
    assert_eq!(t.candidate, Some(serde_json::json!(45)));
    let note = t.note.as_deref().unwrap();
    assert!(
        note.contains(
            "module.prod_cluster paired with module.staging_cluster by environment token"
        ),
        "{note}"
    );
    assert!(
        note.contains("the candidate hard-codes 45 where the baseline has var.connection_timeout"),
        "{note}"
    );
    // Lines point at the attribute on each side.
    assert_eq!(t.baseline_at, at("main.tf", 12));
    assert_eq!(t.candidate_at, at("main.tf", 12));
    assert_eq!(t.line, Some(12));
    assert_eq!(
        by_path(&r, "instance_count").candidate_at,
        at("main.tf", 11)
    );
}

#[test]
fn module_calls_written_on_one_line_are_refused_as_terraform_refuses_them() {
    // HCL allows one attribute in a single-line block; Terraform refuses the issue's
    // shorthand too ("A single-line block definition can contain only a single argument").
    let (_d, p, s) = sides("main.tf", PROD_ONE_LINE, STAGING_ONE_LINE);
    let e = compare_paths(&p, &s, &RuleSet::default(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("main.tf:1:"), "{e}");
    assert!(e.contains("one attribute"), "{e}");
    // Each attribute on its own line: compared by attribute.
    let split = |t: &str| {
        let (head, rest) = t.split_once('{').unwrap();
        let body = rest.trim().trim_end_matches('}');
        let attrs: Vec<&str> = body
            .split("  ")
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        format!("{head}{{\n{}\n}}\n", attrs.join("\n"))
    };
    let (_d, p, s) = sides("main.tf", &split(PROD_ONE_LINE), &split(STAGING_ONE_LINE));
    let r = compare(&p, &s, &RuleSet::default());
    assert_eq!(r.summary.drift, 3, "{:#?}", r.findings);
    assert_eq!(by_path(&r, "connection_timeout").change, Change::HardCoded);
}

#[test]
fn with_the_rules_two_are_accepted_and_the_hard_coded_timeout_is_drift() {
    let (_d, p, s) = sides(
        "main.tf",
        samples::terraform::PRODUCTION,
        samples::terraform::STAGING,
    );
    let r = compare(&p, &s, &rules(samples::terraform::RULES));
    assert_eq!(
        (r.summary.accepted, r.summary.drift),
        (2, 1),
        "{:#?}",
        r.findings
    );
    let drift: Vec<&Finding> = r.drift().collect();
    assert_eq!(drift[0].path, "connection_timeout");
    assert_eq!(drift[0].change, Change::HardCoded);
    assert_eq!(by_path(&r, "instance_count").rule, Some(1));
    assert_eq!(by_path(&r, "instance_type").rule, Some(2));
}

#[test]
fn references_compare_as_written_and_nested_blocks_count_and_pins_are_compared() {
    let prod = r#"
resource "aws_instance" "web" {
  count         = 4
  instance_type = var.instance_type
  tags = {
    Name = "web-${var.env}"
  }
  lifecycle {
    create_before_destroy = true
  }
}
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.8.1"
}
"#;
    let staging = r#"
resource "aws_instance" "web" {
  count         = 2
  instance_type = var.small_instance_type
  tags = {
    Name = "web-${var.env}"
  }
  lifecycle {
    create_before_destroy = false
  }
}
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.0"
}
"#;
    let (_d, p, s) = sides("main.tf", prod, staging);
    let r = compare(&p, &s, &RuleSet::default());
    let found: Vec<(&str, &str, Change)> = r
        .findings
        .iter()
        .map(|f| (f.object.as_deref().unwrap(), f.path.as_str(), f.change))
        .collect();
    assert_eq!(
        found,
        vec![
            ("resource.aws_instance.web", "count", Change::Changed),
            (
                "resource.aws_instance.web",
                "instance_type",
                Change::Changed
            ),
            (
                "resource.aws_instance.web",
                "lifecycle.create_before_destroy",
                Change::Changed
            ),
            ("module.vpc", "version", Change::Changed),
        ],
        "{:#?}",
        r.findings
    );
    let t = by_path(&r, "instance_type");
    assert_eq!(t.baseline, Some(serde_json::json!("var.instance_type")));
    assert_eq!(
        t.candidate,
        Some(serde_json::json!("var.small_instance_type"))
    );
    assert_eq!(by_path(&r, "lifecycle.create_before_destroy").line, Some(9));
}

#[test]
fn tfvars_files_use_the_same_reader() {
    let (_d, p, s) = sides(
        "terraform.tfvars",
        "instance_type = \"t3.xlarge\"\ninstance_count = 4\n",
        "instance_type = \"t3.large\"\n\ninstance_count = 2\n",
    );
    let r = compare(
        &p,
        &s,
        &rules(
            samples::terraform::RULES
                .replace("object = \"module.*\"\n", "")
                .as_str(),
        ),
    );
    assert_eq!(
        (r.summary.accepted, r.summary.drift),
        (2, 0),
        "{:#?}",
        r.findings
    );
    assert_eq!(
        by_path(&r, "instance_count").candidate_at,
        Some(Location {
            file: "terraform.tfvars".into(),
            line: 3,
            column: Some(18)
        })
    );
}

/// A `terraform show -json` plan of the web cluster module with `count` instances.
fn plan(module: &str, instance_type: &str, count: usize) -> String {
    let changes: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({
                "address": format!("module.{module}.aws_instance.web[{i}]"),
                "module_address": format!("module.{module}"),
                "mode": "managed",
                "type": "aws_instance",
                "name": "web",
                "index": i,
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["create"],
                    "before": null,
                    "after": {
                        "ami": "ami-0abcdef1234567890",
                        "instance_type": instance_type,
                        "user_data_base64": "c2VjcmV0",
                        "tags": { "Name": format!("web-{i}") }
                    },
                    "after_unknown": { "id": true, "arn": true, "tags": {} },
                    "before_sensitive": false,
                    "after_sensitive": { "user_data_base64": true, "tags": {} }
                }
            })
        })
        .collect();
    let doc = serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": { "root_module": {} },
        "resource_changes": changes,
        "configuration": { "root_module": {} }
    });
    serde_json::to_string_pretty(&doc).unwrap()
}

#[test]
fn plans_are_compared_by_address() {
    let (_d, p, s) = sides(
        "plan.json",
        &plan("prod_cluster", "t3.xlarge", 4),
        &plan("staging_cluster", "t3.large", 2),
    );
    let r = compare(&p, &s, &RuleSet::default());
    let found: Vec<(&str, &str, Change)> = r
        .findings
        .iter()
        .map(|f| (f.object.as_deref().unwrap(), f.path.as_str(), f.change))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "module.staging_cluster.aws_instance.web[0]",
                "instance_type",
                Change::Changed
            ),
            (
                "module.staging_cluster.aws_instance.web[1]",
                "instance_type",
                Change::Changed
            ),
            (
                "module.prod_cluster.aws_instance.web[2]",
                "",
                Change::Removed
            ),
            (
                "module.prod_cluster.aws_instance.web[3]",
                "",
                Change::Removed
            ),
        ],
        "{:#?}",
        r.findings
    );
    let f = &r.findings[0];
    assert!(
        f.note
            .as_deref()
            .unwrap()
            .contains("module.prod_cluster.aws_instance.web[0] paired with module.staging_cluster.aws_instance.web[0]"),
        "{f:?}"
    );
    // Located in the plan files, at the value.
    let text = plan("staging_cluster", "t3.large", 2);
    let line = text
        .lines()
        .position(|l| l.contains("\"t3.large\""))
        .unwrap()
        + 1;
    assert_eq!(f.candidate_at.as_ref().map(|l| l.line), Some(line));
    // Unknown values are equal on both sides; the sensitive value is never printed.
    let json = serde_json::to_string(&r.findings).unwrap();
    assert!(!json.contains("c2VjcmV0"));

    // Rules apply as to YAML: the size map accepts the instance types, and the instances
    // staging does not run are accepted by an ignore rule on their addresses.
    let r = compare(
        &p,
        &s,
        &rules(
            r#"
[[rule]]
kind = "map"
path = "instance_type"
values = { "t3.xlarge" = "t3.large" }
reason = "next size down"

[[rule]]
kind = "ignore"
path = "**"
object = "module.prod_cluster.aws_instance.web[*]"
reason = "staging runs half the instances"
"#,
        ),
    );
    assert_eq!(
        (r.summary.accepted, r.summary.drift),
        (4, 0),
        "{:#?}",
        r.findings
    );
}

#[test]
fn bad_terraform_input_names_file_and_line() {
    let err = |name: &str, text: &str| {
        let (_d, p, s) = sides(name, text, text);
        compare_paths(&p, &s, &RuleSet::default(), None)
            .unwrap_err()
            .to_string()
    };
    let e = err(
        "main.tf",
        "module \"a\" {\n  source = \"x\"\n  count = \n}\n",
    );
    assert!(e.contains("main.tf:3:") || e.contains("main.tf:4:"), "{e}");
    assert!(e.contains("malformed Terraform HCL"), "{e}");
    let e = err(
        "main.tf",
        "module \"a\" {\n  source = \"x\"\n}\n\nresourse \"aws_instance\" \"web\" {\n}\n",
    );
    assert!(e.contains("main.tf:5:1:"), "{e}");
    assert!(e.contains("unknown block type `resourse`"), "{e}");
    let e = err(
        "plan.json",
        "{\n  \"format_version\": \"0.1\",\n  \"terraform_version\": \"0.12.31\",\n  \"resource_changes\": []\n}\n",
    );
    assert!(e.contains("plan.json:2:"), "{e}");
    assert!(e.contains("format_version \"0.1\" is not supported"), "{e}");
    let e = err(
        "plan.json",
        "{\"@level\":\"info\",\"@message\":\"Terraform 1.9.5\",\"type\":\"version\"}\n{\"@level\":\"info\",\"type\":\"planned_change\"}\n",
    );
    assert!(e.contains("terraform show -json tfplan"), "{e}");
}
