//! Small realistic production and staging configurations, bundled for `prodlike demo` (and
//! usable as examples): intended differences that the bundled rules accept, and one real drift.

/// The rules file for the samples.
pub const RULES: &str = include_str!("../samples/demo/drift.toml");

/// `(relative path, production text, staging text)`.
pub const FILES: &[(&str, &str, &str)] = &[
    (
        "k8s/shop.yaml",
        include_str!("../samples/demo/production/k8s/shop.yaml"),
        include_str!("../samples/demo/staging/k8s/shop.yaml"),
    ),
    (
        "helm/values.yaml",
        include_str!("../samples/demo/production/helm/values.yaml"),
        include_str!("../samples/demo/staging/helm/values.yaml"),
    ),
    (
        "app/.env",
        include_str!("../samples/demo/production/app/.env"),
        include_str!("../samples/demo/staging/app/.env"),
    ),
    (
        "app/application.properties",
        include_str!("../samples/demo/production/app/application.properties"),
        include_str!("../samples/demo/staging/app/application.properties"),
    ),
];

/// Writes the samples as `production/`, `staging/` and `drift.toml` under `dir`.
pub fn write_to(dir: &std::path::Path) -> std::io::Result<()> {
    for (rel, prod, staging) in FILES {
        for (side, text) in [("production", prod), ("staging", staging)] {
            let path = dir.join(side).join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
    }
    std::fs::write(dir.join("drift.toml"), RULES)
}

/// The observability parity rule pack: two OpenTelemetry Collector configurations and the
/// rules that hold staging's pipelines and sampling to production's while letting endpoints
/// differ (`samples/otel/`, docs/drift.md "Observability parity").
pub mod otel {
    /// The rules file.
    pub const RULES: &str = include_str!("../samples/otel/drift.toml");
    /// Production's collector configuration.
    pub const PRODUCTION: &str = include_str!("../samples/otel/production.yaml");
    /// Staging's, with the differences the pack accepts and four it does not.
    pub const STAGING: &str = include_str!("../samples/otel/staging.yaml");

    /// Writes `production.yaml`, `staging.yaml` and `drift.toml` under `dir`.
    pub fn write_to(dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("production.yaml"), PRODUCTION)?;
        std::fs::write(dir.join("staging.yaml"), STAGING)?;
        std::fs::write(dir.join("drift.toml"), RULES)
    }
}

/// The half-size Terraform cluster (`samples/terraform/`, docs/drift.md "Terraform"): one
/// module call per environment, staging at half the instance count and the next instance size
/// down (two rules accept both), and one drift — a timeout hard-coded in staging where
/// production uses the shared variable.
pub mod terraform {
    /// The rules file.
    pub const RULES: &str = include_str!("../samples/terraform/drift.toml");
    /// Production's `main.tf`.
    pub const PRODUCTION: &str = include_str!("../samples/terraform/production/main.tf");
    /// Staging's `main.tf`.
    pub const STAGING: &str = include_str!("../samples/terraform/staging/main.tf");

    /// Writes `production/main.tf`, `staging/main.tf` and `drift.toml` under `dir`.
    pub fn write_to(dir: &std::path::Path) -> std::io::Result<()> {
        for (side, text) in [("production", PRODUCTION), ("staging", STAGING)] {
            std::fs::create_dir_all(dir.join(side))?;
            std::fs::write(dir.join(side).join("main.tf"), text)?;
        }
        std::fs::write(dir.join("drift.toml"), RULES)
    }
}
