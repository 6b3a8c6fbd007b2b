//! Data files feeding template variables: CSV with a header row, or a JSON array of objects.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;

use super::csv::parse_csv;
use crate::LoadError;

/// How rows are drawn for successive requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOrder {
    /// Row 1, 2, 3, … and around again (every row used, in order).
    #[default]
    Sequential,
    /// A uniformly random row each time.
    Random,
}

/// The rows of one data file.
#[derive(Debug)]
pub struct DataSource {
    pub name: String,
    pub path: PathBuf,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub order: RowOrder,
    cursor: AtomicUsize,
}

impl DataSource {
    pub fn load(name: &str, path: &Path, order: RowOrder) -> Result<DataSource, LoadError> {
        let fail = |reason: String| LoadError::Data {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || text.trim_start().starts_with('[');
        let (columns, rows) = if is_json {
            from_json(&text).map_err(fail)?
        } else {
            from_csv(&text).map_err(fail)?
        };
        if rows.is_empty() {
            return Err(fail("holds no rows; a data file needs at least one".into()));
        }
        Ok(DataSource {
            name: name.to_string(),
            path: path.to_path_buf(),
            columns,
            rows,
            order,
            cursor: AtomicUsize::new(0),
        })
    }

    /// For tests and the demo: rows given directly.
    pub fn inline(name: &str, columns: Vec<String>, rows: Vec<Vec<String>>) -> DataSource {
        DataSource {
            name: name.to_string(),
            path: PathBuf::from("(inline)"),
            columns,
            rows,
            order: RowOrder::Sequential,
            cursor: AtomicUsize::new(0),
        }
    }

    /// The next row, by the source's order.
    pub fn next_row(&self, rng: &mut fastrand::Rng) -> &[String] {
        let n = self.rows.len().max(1);
        let i = match self.order {
            RowOrder::Sequential => self.cursor.fetch_add(1, Ordering::Relaxed) % n,
            RowOrder::Random => rng.usize(..n),
        };
        self.rows.get(i).map(|r| r.as_slice()).unwrap_or(&[])
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn from_csv(text: &str) -> Result<Table, String> {
    let mut records = parse_csv(text).map_err(|(line, why)| format!("line {line}: {why}"))?;
    if records.is_empty() {
        return Err("is empty; the first line must name the columns".into());
    }
    let header: Vec<String> = records
        .remove(0)
        .into_iter()
        .map(|h| h.trim().to_string())
        .collect();
    if let Some(dup) = header
        .iter()
        .enumerate()
        .find(|(i, h)| header[..*i].contains(h))
    {
        return Err(format!("line 1: column `{}` appears twice", dup.1));
    }
    for (i, r) in records.iter().enumerate() {
        if r.len() != header.len() {
            return Err(format!(
                "record {} has {} fields but the header names {} columns",
                i + 2,
                r.len(),
                header.len()
            ));
        }
    }
    Ok((header, records))
}

fn from_json(text: &str) -> Result<Table, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("line {}: {e}", e.line()))?;
    let items = v
        .as_array()
        .ok_or("must be a JSON array of objects, e.g. [{\"id\": 1}]")?;
    let mut columns: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let obj = item
            .as_object()
            .ok_or_else(|| format!("element {i} is not an object"))?;
        for k in obj.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let rows = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| match item.get(c) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect()
        })
        .collect();
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_csv_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("users.csv");
        std::fs::write(&csv, "id,email\n1,a@x\n2,b@x\n").unwrap();
        let d = DataSource::load("users", &csv, RowOrder::Sequential).unwrap();
        assert_eq!(d.columns, vec!["id", "email"]);
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(d.next_row(&mut rng)[0], "1");
        assert_eq!(d.next_row(&mut rng)[0], "2");
        assert_eq!(d.next_row(&mut rng)[0], "1");
        let json = dir.path().join("items.json");
        std::fs::write(&json, r#"[{"sku":"A","qty":2},{"sku":"B","extra":true}]"#).unwrap();
        let d = DataSource::load("items", &json, RowOrder::Random).unwrap();
        let sku = d.column("sku").unwrap();
        let qty = d.column("qty").unwrap();
        assert_eq!(d.columns.len(), 3);
        assert_eq!(
            (d.rows[1][sku].as_str(), d.rows[1][qty].as_str()),
            ("B", "")
        );
        assert_eq!(d.rows[1][d.column("extra").unwrap()], "true");
    }

    #[test]
    fn bad_files_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("bad.csv");
        std::fs::write(&csv, "id,email\n1,a@x\n2\n").unwrap();
        let msg = DataSource::load("x", &csv, RowOrder::Sequential)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bad.csv") && msg.contains("record 3"), "{msg}");
        let json = dir.path().join("bad.json");
        std::fs::write(&json, "[{\"a\":1},\n 2]").unwrap();
        let msg = DataSource::load("x", &json, RowOrder::Sequential)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("element 1"), "{msg}");
        std::fs::write(&json, "[{\"a\":1},\n {]").unwrap();
        let msg = DataSource::load("x", &json, RowOrder::Sequential)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 2"), "{msg}");
    }
}
