//! Names for the throwaway databases tests create on a shared server (PostgreSQL's and
//! MariaDB's alike): `prodlike_<label>_<pid>_<n>_<random>`, so that parallel tests, and test
//! binaries running at once, never meet, and a leftover names the test that made it.
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh database name for `label`: lower-cased, anything but ASCII letters and digits
/// made `_`, cut to `max_label` characters (PostgreSQL allows 63 bytes in all, MySQL 64).
pub fn database_name(label: &str, max_label: usize) -> String {
    let clean: String = label
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_lowercase(),
            false => '_',
        })
        .take(max_label)
        .collect();
    format!(
        "prodlike_{clean}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        fastrand::u32(..100_000)
    )
}

#[cfg(test)]
mod tests {
    use super::database_name;

    #[test]
    fn names_are_clean_bounded_and_distinct() {
        let a = database_name("Data Sync/ü-x", 8);
        let b = database_name("Data Sync/ü-x", 8);
        assert_ne!(a, b);
        assert!(a.starts_with("prodlike_data_syn_"), "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{a}"
        );
        assert!(database_name(&"x".repeat(200), 30).len() <= 63);
    }
}
