//! `prodlike drift schema` between two MariaDB databases (schemas) on the local server: a column
//! type, an index and a variable (the database's collation) differ; a rule accepts the
//! variable; bad URLs, an unreachable server and wrong credentials exit 2; between the shared
//! server and a private one, a server variable (innodb_buffer_pool_size) drifts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use prodlike_testkit::mysql::TempMysql;

fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `prodlike drift schema --baseline B --candidate C`, then `extra`.
fn drift_schema(baseline: &str, candidate: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "drift",
        "schema",
        "--baseline",
        baseline,
        "--candidate",
        candidate,
    ];
    args.extend_from_slice(extra);
    prodlike(&args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const SCHEMA: &str = "
CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(80) NOT NULL,
  tier ENUM('free','pro') NOT NULL DEFAULT 'free'
) ENGINE=InnoDB;
CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB;
CREATE VIEW pro AS SELECT id, email FROM customers WHERE tier = 'pro';
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ROUND(NEW.total, 2);
";

fn two_databases(rt: &tokio::runtime::Runtime) -> Option<(TempMysql, TempMysql)> {
    let prod = rt.block_on(TempMysql::create("drift_prod"))?;
    let staging = rt.block_on(TempMysql::create("drift_staging"))?;
    rt.block_on(prod.execute(SCHEMA)).unwrap();
    rt.block_on(staging.execute(SCHEMA)).unwrap();
    Some((prod, staging))
}

#[test]
fn same_schema_in_two_databases_is_no_drift() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some((prod, staging)) = two_databases(&rt) else {
        return;
    };
    let o = drift_schema(
        &prod.url,
        &staging.url.replace("mysql://", "mariadb://"),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
// Long: one scenario, three runs (drift, one accepted, all accepted).
#[allow(clippy::too_many_lines)]
fn a_column_type_an_index_and_a_variable_drift_and_a_rule_accepts_the_variable() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some((prod, staging)) = two_databases(&rt) else {
        return;
    };
    rt.block_on(staging.execute(&format!(
        "ALTER TABLE orders MODIFY total DECIMAL(12,2) NOT NULL;
         CREATE INDEX customers_email ON customers (email);
         ALTER DATABASE `{}` COLLATE utf8mb4_bin;",
        staging.name
    )))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("drift.json");
    let o = drift_schema(&prod.url, &staging.url, &["--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    for needle in [
        "table orders",
        "columns.total.type",
        "decimal(10,2)",
        "decimal(12,2)",
        "table customers",
        "indexes.customers_email",
        "collation_database",
    ] {
        assert!(t.contains(needle), "{needle} missing in:\n{t}");
    }
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let findings = env["data"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{findings:#?}");

    // The variable is intended (staging sorts bytewise); the column and the index still drift.
    let rules = dir.path().join("drift.toml");
    std::fs::write(
        &rules,
        r#"
[[rule]]
kind = "ignore"
object = "settings"
path = "collation_database"
reason = "staging compares bytewise on purpose"
"#,
    )
    .unwrap();
    let o = drift_schema(
        &prod.url,
        &staging.url,
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let findings = env["data"]["findings"].as_array().unwrap();
    let drifting: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["status"] != "accepted")
        .collect();
    assert_eq!(drifting.len(), 2, "{findings:#?}");
    assert!(
        findings
            .iter()
            .any(|f| f["status"] == "accepted" && f["path"] == "collation_database"),
        "{findings:#?}"
    );

    // With the two tables' differences accepted too, nothing drifts.
    std::fs::write(
        &rules,
        r#"
[[rule]]
kind = "ignore"
object = "settings"
path = "collation_database"
reason = "staging compares bytewise on purpose"

[[rule]]
kind = "ignore"
object = "table orders"
path = "columns.total.type"
reason = "staging tries wider totals"

[[rule]]
kind = "ignore"
object = "table customers"
path = "indexes.customers_email"
reason = "staging tries an index"
"#,
    )
    .unwrap();
    let o = drift_schema(
        &prod.url,
        &staging.url,
        &["--rules", rules.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn unreachable_servers_and_wrong_credentials_exit_2() {
    if !prodlike_testkit::require::mysql() {
        return;
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = format!("mysql://root@127.0.0.1:{port}/shop");
    let wrong = "mysql://nobody:secret-pw@127.0.0.1:3306/test";
    for (url, words) in [
        (unreachable.as_str(), "cannot connect"),
        (wrong, "Access denied"),
        ("mysql://root@127.0.0.1:3306", "no database"),
    ] {
        let o = prodlike(&["drift", "schema", "--baseline", url, "--candidate", url]);
        assert_eq!(o.status.code(), Some(2), "{url}: {}", text(&o));
        let t = text(&o);
        assert!(t.contains(words), "{url}: {t}");
        assert!(!t.contains("secret-pw"), "{t}");
    }
}

/// Two servers, the shared one as production and one of the test's own as staging, started
/// with a smaller InnoDB buffer pool: the variable drifts with the column type and the index,
/// and the variables that only name each host's files and port (datadir, socket, pid_file, …)
/// are not reported.
#[test]
fn a_server_variable_drifts_between_two_servers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(prod) = rt.block_on(TempMysql::create("drift_two_prod")) else {
        return;
    };
    let Some(staging_server) =
        prodlike_testkit::private_mysql::PrivateMariadb::start(&["--innodb-buffer-pool-size=24M"])
    else {
        return;
    };
    rt.block_on(prod.execute(SCHEMA)).unwrap();
    rt.block_on(staging_server.execute(&format!(
        "CREATE DATABASE shop; USE shop; {SCHEMA}
         ALTER TABLE orders MODIFY total DECIMAL(12,2) NOT NULL;
         CREATE INDEX customers_email ON customers (email);"
    )))
    .unwrap();
    let staging = format!("{}/shop", staging_server.url);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("drift.json");
    let o = drift_schema(&prod.url, &staging, &["--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let findings = env["data"]["findings"].as_array().unwrap();
    let paths: Vec<&str> = findings.iter().filter_map(|f| f["path"].as_str()).collect();
    for want in [
        "columns.total.type",
        "indexes.customers_email",
        "innodb_buffer_pool_size",
    ] {
        assert!(paths.contains(&want), "{want} missing: {findings:#?}");
    }
    let buffer = findings
        .iter()
        .find(|f| f["path"] == "innodb_buffer_pool_size")
        .unwrap();
    assert_eq!(buffer["object"], "settings", "{buffer:#}");
    assert!(buffer.to_string().contains("25165824"), "{buffer:#}");
    for host_only in [
        "datadir",
        "socket",
        "pid_file",
        "port",
        "log_error",
        "basedir",
    ] {
        assert!(
            !paths.contains(&host_only),
            "{host_only} names the host, not its configuration: {findings:#?}"
        );
    }
}
