//! Shuffling a column: permuting its values between rows keeps its distribution exactly while
//! cutting every value from its row.
//!
//! Shuffle is column-level, so the data engine drives it:
//! - **Whole column** (`shuffle` with no `block_rows`): the engine stores the column's values
//!   (that column only, spilled to disk if large) in row order, then writes row `i` with value
//!   `perm.apply(i)` where `perm = masker.permutation("<table>.<column>", n)`. The permutation
//!   needs O(1) memory and gives random access, so the stored values can be read back in any
//!   order.
//! - **Streaming** (`block_rows = B`): the engine buffers B rows, calls [`shuffle_block`] on that
//!   block's column values with the block number, and emits the rows. Memory is O(B); values move
//!   only within their block, and the column's multiset of values is kept exactly.
//!
//! Deterministic for a given key, scope, row order and row count: order rows by primary key
//! to get the same result on every run.

use crate::engine::Masker;
use crate::fpe::{bits_key, permute_bits};
use crate::prf::Prf;
use crate::sip::SipKey;

/// A keyed bijection of `0..n`, computed on demand (Feistel network with cycle-walking): no
/// table is stored, `apply` costs a few keyed hashes.
#[derive(Clone)]
pub struct KeyedPermutation {
    key: SipKey,
    n: u64,
    bits: u32,
}

impl KeyedPermutation {
    pub(crate) fn new(shuffle_prf: &Prf, scope: &str, n: u64) -> Self {
        let tweak = shuffle_prf.hash_parts(&[scope.as_bytes(), &n.to_le_bytes()]);
        let needed = 64 - n.saturating_sub(1).leading_zeros();
        let bits = needed.max(2).div_ceil(2) * 2;
        Self {
            key: bits_key(shuffle_prf, &tweak),
            n,
            bits,
        }
    }

    /// Size of the permuted range.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// True for the empty range.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The image of `i` (`i < len()`); other inputs are returned unchanged.
    pub fn apply(&self, i: u64) -> u64 {
        if i >= self.n || self.n < 2 {
            return i;
        }
        let mut x = u128::from(i);
        // Cycle-walking: stays inside 0..n and keeps the bijection (the domain is at most 4n,
        // so about 4 steps at worst on average).
        loop {
            x = permute_bits(&self.key, self.bits, x);
            if x < u128::from(self.n) {
                return x as u64;
            }
        }
    }
}

/// Permutes `values` in place with the block's keyed permutation: afterwards
/// `values[i] == old_values[perm(i)]`. `scope` names the column (e.g. `"users.country"`),
/// `block` the block number.
pub fn shuffle_block<T>(masker: &Masker, scope: &str, block: u64, values: &mut [T]) {
    let n = values.len() as u64;
    if n < 2 {
        return;
    }
    let scoped = format!("{scope}#{block}");
    let perm = masker.permutation(&scoped, n);
    // Apply as a product of cycles to avoid a second buffer of T.
    let mut done = vec![false; values.len()];
    for start in 0..values.len() {
        if done[start] {
            continue;
        }
        let mut i = start;
        loop {
            done[i] = true;
            let j = perm.apply(i as u64) as usize;
            if j == start {
                break;
            }
            values.swap(i, j);
            i = j;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MaskKey;

    fn masker() -> Masker {
        Masker::new(MaskKey::from_secret(b"shuffle test secret").unwrap())
    }

    #[test]
    fn permutation_is_a_bijection_for_awkward_sizes() {
        let m = masker();
        for n in [2u64, 3, 5, 17, 100, 1000, 1025] {
            let p = m.permutation("t.c", n);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let j = p.apply(i);
                assert!(j < n);
                assert!(!seen[j as usize], "n={n} duplicate image {j}");
                seen[j as usize] = true;
            }
        }
    }

    #[test]
    fn shuffle_block_keeps_values_and_matches_the_permutation() {
        let m = masker();
        let orig: Vec<u32> = (0..200).collect();
        let mut v = orig.clone();
        shuffle_block(&m, "users.country", 3, &mut v);
        let perm = m.permutation("users.country#3", 200);
        for (i, &x) in v.iter().enumerate() {
            assert_eq!(x as u64, perm.apply(i as u64));
        }
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, orig);
        assert_ne!(v, orig);
    }
}
