//! Execution segments (k6's notation): `--segment 2/4` is the second quarter of the run,
//! `--segment 1/4:3/4` the middle half. N pods each fire exactly their share of the one global
//! arrival sequence, with no coordination beyond a shared start time: every arrival's index is
//! placed at a point of [0, 1) by a fixed low-discrepancy map (the golden-ratio Weyl sequence,
//! in 64-bit integers), and a segment fires the arrivals whose point falls inside it. Any set of
//! segments that tiles [0, 1) — equal or not — therefore fires every arrival exactly once,
//! at its unsplit intended time, and each segment's arrivals are spread evenly over the run
//! (the three-gap theorem), not bunched.
use std::fmt;

use crate::error::LoadError;

/// 2^64 / φ: consecutive indices land far apart and fill [0, 1) evenly.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// `[from, to)` of the unit interval, as exact fractions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    from: (u64, u64),
    to: (u64, u64),
}

/// `p/q` scaled to 2^64, rounded down; the same for every spelling of the same fraction.
fn scaled((p, q): (u64, u64)) -> u128 {
    (u128::from(p) << 64) / u128::from(q)
}

fn invalid(text: &str, reason: String) -> LoadError {
    LoadError::Spec {
        what: "--segment",
        input: text.to_owned(),
        reason,
    }
}

fn fraction(text: &str, whole: &str) -> Result<(u64, u64), LoadError> {
    let bad = |why: &str| invalid(whole, why.to_owned());
    let (p, q) = text
        .split_once('/')
        .ok_or_else(|| bad("write k/N (the k-th of N equal parts) or a/b:c/d"))?;
    let p: u64 = p
        .trim()
        .parse()
        .map_err(|_| bad(&format!("`{p}` is not a whole number")))?;
    let q: u64 = q
        .trim()
        .parse()
        .map_err(|_| bad(&format!("`{q}` is not a whole number")))?;
    if q == 0 || p > q {
        return Err(bad(&format!("{p}/{q} is not a fraction between 0 and 1")));
    }
    Ok((p, q))
}

impl Segment {
    /// The whole run.
    pub const ALL: Segment = Segment {
        from: (0, 1),
        to: (1, 1),
    };

    /// Parses `k/N` (the k-th of N equal parts, 1-based) or `a/b:c/d` (from a/b to c/d).
    pub fn parse(text: &str) -> Result<Segment, LoadError> {
        let bad = |why: String| invalid(text, why);
        let s = match text.split_once(':') {
            Some((a, b)) => Segment {
                from: fraction(a, text)?,
                to: fraction(b, text)?,
            },
            None => {
                let (k, n) = fraction(text, text)?;
                if k == 0 {
                    return Err(bad("parts are numbered from 1".into()));
                }
                Segment {
                    from: (k - 1, n),
                    to: (k, n),
                }
            }
        };
        let before =
            u128::from(s.from.0) * u128::from(s.to.1) < u128::from(s.to.0) * u128::from(s.from.1);
        if !before {
            return Err(bad("it is empty: its start is not before its end".into()));
        }
        Ok(s)
    }

    /// Whether arrival `seq` (0-based, in the unsplit sequence) is this segment's.
    pub fn contains(&self, seq: u64) -> bool {
        let point = u128::from(seq.wrapping_mul(GOLDEN));
        let end = if self.to.0 == self.to.1 {
            1u128 << 64
        } else {
            scaled(self.to)
        };
        scaled(self.from) <= point && point < end
    }

    /// The share of arrivals it fires.
    pub fn share(&self) -> f64 {
        self.to.0 as f64 / self.to.1 as f64 - self.from.0 as f64 / self.from.1 as f64
    }

    /// Start and end as (numerator, denominator).
    pub fn bounds(&self) -> ((u64, u64), (u64, u64)) {
        (self.from, self.to)
    }

    /// The segment from `from` to `to`, both fractions of the arrivals; `None` when a
    /// fraction is not one (a zero denominator, above 1) or the segment is empty.
    pub fn from_bounds(from: (u64, u64), to: (u64, u64)) -> Option<Segment> {
        Segment::parse(&format!("{}/{}:{}/{}", from.0, from.1, to.0, to.1)).ok()
    }

    pub fn is_all(&self) -> bool {
        self.from.0 == 0 && self.to.0 == self.to.1
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}:{}/{}",
            self.from.0, self.from.1, self.to.0, self.to.1
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn both_notations_parse_and_bad_ones_name_the_problem() {
        assert_eq!(
            Segment::parse("2/4").unwrap(),
            Segment::parse("1/4:2/4").unwrap()
        );
        assert!(Segment::parse("1/1").unwrap().is_all());
        for (bad, says) in [
            ("0/4", "numbered from 1"),
            ("5/4", "between 0 and 1"),
            ("2/0", "between 0 and 1"),
            ("2", "k/N"),
            ("x/4", "not a whole number"),
            ("3/4:1/4", "empty"),
            ("1/2:2/4", "empty"),
        ] {
            let e = Segment::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn four_quarters_share_the_arrivals_evenly() {
        let quarters: Vec<Segment> = (1..=4)
            .map(|k| Segment::parse(&format!("{k}/4")).unwrap())
            .collect();
        let mut counts = [0u64; 4];
        for seq in 0..10_000 {
            let owners: Vec<usize> = (0..4).filter(|&i| quarters[i].contains(seq)).collect();
            assert_eq!(owners.len(), 1, "arrival {seq}: {owners:?}");
            counts[owners[0]] += 1;
        }
        // Every quarter within a handful of 2,500 (the map's discrepancy, not chance).
        assert!(counts.iter().all(|&c| c.abs_diff(2_500) <= 4), "{counts:?}");
        // And evenly over the run: in every window of 1,000 arrivals, within a few of 250.
        for start in (0..10_000).step_by(1_000) {
            for q in &quarters {
                let n = (start..start + 1_000).filter(|&s| q.contains(s)).count();
                assert!(n.abs_diff(250) <= 4, "{q} from {start}: {n}");
            }
        }
    }

    proptest! {
        /// Any tiling of [0, 1) by segments, given by cut points of any denominators, fires
        /// every arrival index exactly once.
        #[test]
        fn a_tiling_fires_every_arrival_exactly_once(
            cuts in proptest::collection::btree_set((1u64..1000, 1u64..1000), 0..6),
            start in 0u64..u64::MAX / 2,
        ) {
            let mut points: Vec<(u64, u64)> = cuts
                .into_iter()
                .filter(|(p, q)| p < q)
                .collect();
            points.sort_by(|a, b| (a.0 * b.1).cmp(&(b.0 * a.1)));
            points.dedup_by(|a, b| a.0 * b.1 == b.0 * a.1);
            let mut bounds = vec![(0u64, 1u64)];
            bounds.extend(points);
            bounds.push((1, 1));
            let segments: Vec<Segment> = bounds
                .windows(2)
                .map(|w| Segment::parse(&format!("{}/{}:{}/{}", w[0].0, w[0].1, w[1].0, w[1].1)).unwrap())
                .collect();
            for seq in start..start + 500 {
                let owners = segments.iter().filter(|s| s.contains(seq)).count();
                prop_assert_eq!(owners, 1, "arrival {} in {:?}", seq, segments);
            }
        }
    }
}
