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
