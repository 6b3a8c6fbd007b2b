//! Environment-aware pairing of Kubernetes objects that have no partner by identity or rename
//! rule: rendered overlays name the same object `prod-web` in namespace `prod` and `stg-web`
//! in `staging`. Two objects of the same API group and kind pair when their names and
//! namespaces are equal once environment tokens are dropped (`prod`, `production`, `staging`,
//! `stg`, `qa`, …), or when their names differ by one prefix (or suffix) pair that at least two
//! objects share (a kustomize `namePrefix`/`nameSuffix`). What pairs is reported as a rename
//! (`metadata.name`, `metadata.namespace`) that a rule can accept; the rest stays added or
//! removed.
use std::collections::BTreeMap;

/// Words that name an environment, dropped from names and namespaces before comparing.
pub const ENV_TOKENS: &[&str] = &[
    "prod",
    "production",
    "prd",
    "live",
    "staging",
    "stage",
    "stg",
    "qa",
    "uat",
    "test",
    "dev",
    "development",
    "preprod",
    "sandbox",
];

/// The parts of an object key `group|kind|namespace|name`.
struct Id<'k> {
    kind: &'k str,
    ns: &'k str,
    name: &'k str,
}

fn id(key: &str) -> Option<Id<'_>> {
    let mut parts = key.splitn(4, '|');
    let group = parts.next()?;
    let kind = parts.next()?;
    let ns = parts.next()?;
    let name = parts.next()?;
    // `kind` here stands for group and kind together.
    let kind_end = group.len() + 1 + kind.len();
    Some(Id {
        kind: &key[..kind_end],
        ns,
        name,
    })
}

/// A name without its environment tokens: `prod-web-eu` → `web-eu`.
pub fn without_env(name: &str) -> String {
    name.split(['-', '.', '_'])
        .filter(|t| !t.is_empty() && !ENV_TOKENS.contains(&t.to_ascii_lowercase().as_str()))
        .collect::<Vec<_>>()
        .join("-")
}

/// How two objects were paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPair {
    /// Index of the baseline object.
    pub b: usize,
    /// Index of the candidate object.
    pub c: usize,
    /// Why: `environment token` or `name prefix prod- → stg-`.
    pub by: String,
}

/// Pairs baseline objects `b` with candidate objects `c` (their keys, unpaired ones only).
pub fn pair(b: &[(usize, &str)], c: &[(usize, &str)]) -> Vec<EnvPair> {
    let mut out = Vec::new();
    let mut used_c = vec![false; c.len()];
    let mut left_b = Vec::new();
    for &(bi, bk) in b {
        let Some(bid) = id(bk) else { continue };
        let found = c.iter().enumerate().position(|(k, (_, ck))| {
            !used_c[k]
                && id(ck).is_some_and(|cid| {
                    cid.kind == bid.kind
                        && without_env(cid.ns) == without_env(bid.ns)
                        && !without_env(bid.name).is_empty()
                        && without_env(cid.name) == without_env(bid.name)
                })
        });
        match found {
            Some(k) => {
                used_c[k] = true;
                out.push(EnvPair {
                    b: bi,
                    c: c[k].0,
                    by: "environment token".to_string(),
                });
            }
            None => left_b.push((bi, bk)),
        }
    }
    let left_c: Vec<(usize, &str)> = c
        .iter()
        .zip(&used_c)
        .filter(|(_, u)| !**u)
        .map(|(x, _)| *x)
        .collect();
    out.extend(by_affix(&left_b, &left_c));
    out
}

/// Pairs by a prefix (or suffix) pair shared by at least two objects.
fn by_affix(b: &[(usize, &str)], c: &[(usize, &str)]) -> Vec<EnvPair> {
    let mut counts: BTreeMap<(String, String, bool), usize> = BTreeMap::new();
    let candidates = |bid: &Id<'_>, cid: &Id<'_>| -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        if bid.kind != cid.kind || without_env(bid.ns) != without_env(cid.ns) {
            return out;
        }
        if let Some(a) = affix(bid.name, cid.name, true) {
            out.push((a.0, a.1, true));
        }
        if let Some(a) = affix(bid.name, cid.name, false) {
            out.push((a.0, a.1, false));
        }
        out
    };
    for (_, bk) in b {
        for (_, ck) in c {
            if let (Some(bid), Some(cid)) = (id(bk), id(ck)) {
                for a in candidates(&bid, &cid) {
                    *counts.entry(a).or_default() += 1;
                }
            }
        }
    }
    let Some((best, _)) = counts
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .max_by_key(|(_, n)| *n)
    else {
        return Vec::new();
    };
    let mut used_c = vec![false; c.len()];
    let mut out = Vec::new();
    for &(bi, bk) in b {
        let Some(bid) = id(bk) else { continue };
        let found = c.iter().enumerate().position(|(k, (_, ck))| {
            !used_c[k] && id(ck).is_some_and(|cid| candidates(&bid, &cid).contains(&best))
        });
        if let Some(k) = found {
            used_c[k] = true;
            let (bp, cp, prefix) = &best;
            out.push(EnvPair {
                b: bi,
                c: c[k].0,
                by: format!(
                    "name {} {bp} → {cp}",
                    if *prefix { "prefix" } else { "suffix" }
                ),
            });
        }
    }
    out
}

/// The differing prefixes (or suffixes) of two names whose rest is equal and starts (ends) at
/// a separator: `prod-web`, `stg-web` → (`prod-`, `stg-`); the longest such rest wins.
fn affix(b: &str, c: &str, prefix: bool) -> Option<(String, String)> {
    let is_sep = |ch: char| matches!(ch, '-' | '.' | '_');
    // Every cut of `b` at a separator, longest rest first.
    let cuts: Vec<usize> = b
        .char_indices()
        .filter(|(_, ch)| is_sep(*ch))
        .map(|(i, _)| i)
        .collect();
    let order: Vec<usize> = if prefix {
        cuts
    } else {
        cuts.into_iter().rev().collect()
    };
    for i in order {
        let (b_affix, rest) = if prefix {
            (&b[..=i], &b[i + 1..])
        } else {
            (&b[i..], &b[..i])
        };
        if rest.chars().count() < 2 {
            continue;
        }
        let c_affix = if prefix {
            c.strip_suffix(rest)
        } else {
            c.strip_prefix(rest)
        };
        if let Some(c_affix) = c_affix {
            let sep_ok = if prefix {
                c_affix.ends_with(is_sep)
            } else {
                c_affix.starts_with(is_sep)
            };
            if sep_ok && c_affix != b_affix {
                return Some((b_affix.to_string(), c_affix.to_string()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_tokens_and_prefixes_pair() {
        let b = [
            (0, "apps|Deployment|prod|prod-web"),
            (1, "|Service|prod|prod-web"),
            (2, "|ConfigMap|prod|p1-settings"),
            (3, "|ConfigMap|prod|p1-flags"),
            (4, "|Secret|prod|only-here"),
        ];
        let c = [
            (0, "|ConfigMap|staging|s1-flags"),
            (1, "|Service|staging|stg-web"),
            (2, "apps|Deployment|staging|stg-web"),
            (3, "|ConfigMap|staging|s1-settings"),
            (4, "|Secret|staging|other"),
        ];
        let mut got: Vec<(usize, usize)> = pair(&b, &c).iter().map(|p| (p.b, p.c)).collect();
        got.sort();
        assert_eq!(got, vec![(0, 2), (1, 1), (2, 3), (3, 0)]);
        assert_eq!(without_env("web-production-eu"), "web-eu");
        assert_eq!(
            affix("prod-web", "stg-web", true),
            Some(("prod-".into(), "stg-".into()))
        );
        assert_eq!(affix("web", "webx", true), None);
    }
}
