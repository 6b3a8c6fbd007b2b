//! A small per-thread memo of keyed hashes of short inputs.
//!
//! Most keyed hashes a mask computes are of short, highly repeated inputs: the shape tweak of a
//! format-preserving value (every phone number of one format shares it), the words and domain
//! labels of e-mail addresses and names (`gmail`, `john`), the per-label choices of fakes. blake3
//! on a short input costs about a microsecond of fixed overhead; a direct-mapped table answers a
//! repeat in a few nanoseconds. A keyed hash is a pure function of (key, input), so answering from
//! the memo can never change an output; a miss only costs the probe.

use std::cell::RefCell;

/// Inputs longer than this are hashed directly (they rarely repeat).
pub(crate) const MAX_INPUT: usize = 64;
/// Slots in the table (a power of two); ~140 bytes each.
const SLOTS: usize = 1024;

#[derive(Clone, Copy)]
struct Slot {
    key: [u8; 32],
    len: u8,
    input: [u8; MAX_INPUT],
    out: [u8; 32],
}

const EMPTY: Slot = Slot {
    key: [0; 32],
    // An impossible length marks an empty slot.
    len: u8::MAX,
    input: [0; MAX_INPUT],
    out: [0; 32],
};

thread_local! {
    static TABLE: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// A cheap, well-mixed index of (key, input); not a security boundary: a collision only means a
/// slot is overwritten.
fn index(key: &[u8; 32], input: &[u8]) -> usize {
    let mut w = [0u8; 8];
    w.copy_from_slice(&key[..8]);
    let seed = u64::from_le_bytes(w) ^ (input.len() as u64).wrapping_mul(MIX);
    (mix(seed, input) as usize) & (SLOTS - 1)
}

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// A fast multiply-rotate mix of `input` into `seed`, for choosing a memo slot (here and in
/// `fake_memo.rs`); not a keyed hash, and never part of an output.
pub(crate) fn mix(seed: u64, input: &[u8]) -> u64 {
    let mut h = seed;
    for chunk in input.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(w))
            .wrapping_mul(MIX)
            .rotate_left(29);
    }
    h ^ (h >> 32)
}

/// `compute(input)` for `key`, answered from this thread's memo when seen before.
pub(crate) fn cached(key: &[u8; 32], input: &[u8], compute: impl FnOnce() -> [u8; 32]) -> [u8; 32] {
    if input.len() > MAX_INPUT {
        return compute();
    }
    let i = index(key, input);
    let hit = TABLE.with(|t| {
        let t = t.borrow();
        t.get(i).and_then(|s| {
            (usize::from(s.len) == input.len() && s.key == *key && s.input[..input.len()] == *input)
                .then_some(s.out)
        })
    });
    if let Some(out) = hit {
        return out;
    }
    let out = compute();
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        if t.is_empty() {
            t.resize(SLOTS, EMPTY);
        }
        let s = &mut t[i];
        s.key = *key;
        s.len = input.len() as u8;
        s.input[..input.len()].copy_from_slice(input);
        s.out = out;
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn answers_repeats_without_recomputing_and_separates_keys_and_inputs() {
        let calls = Cell::new(0);
        let f = |tag: u8| {
            calls.set(calls.get() + 1);
            [tag; 32]
        };
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        assert_eq!(cached(&k1, b"gmail", || f(1)), [1; 32]);
        assert_eq!(cached(&k1, b"gmail", || f(9)), [1; 32]);
        assert_eq!(calls.get(), 1);
        // Another key, another input, or a prefix of the input is another entry.
        assert_eq!(cached(&k2, b"gmail", || f(2)), [2; 32]);
        assert_eq!(cached(&k1, b"gmai", || f(3)), [3; 32]);
        assert_eq!(cached(&k1, b"", || f(4)), [4; 32]);
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn long_inputs_are_always_computed() {
        let calls = Cell::new(0);
        let long = [7u8; MAX_INPUT + 1];
        for _ in 0..2 {
            cached(&[1; 32], &long, || {
                calls.set(calls.get() + 1);
                [0; 32]
            });
        }
        assert_eq!(calls.get(), 2);
    }
}
