//! The rows a reservoir keeps (`stored.rs`, `TableRecorder`): binary COPY tuples back to back in
//! one buffer, a slot's range beside it, or decoded rows (a SQLite source's).
//!
//! Why one buffer: a reservoir replaces a slot drawn at random among 20,000, so a buffer per slot
//! cost a cache miss on the slot's header and another on its bytes for every replacement; in a
//! dump of the bench database that was about 3% of the samples, the slot's header alone. Here a
//! replacement appends its tuple at the buffer's end (written in order) and rewrites one small
//! range; the replaced bytes stay until the garbage outgrows the live rows, and then the live
//! rows are copied into a buffer of their own ([`KeptRows::compact`]), so memory stays within
//! about twice the kept rows.

use std::ops::Range;

use crate::row::Row;

/// A kept row, as `finish` reads it.
pub(crate) enum KeptRow<'a> {
    /// A binary COPY tuple (field count, then length-prefixed fields).
    Tuple(&'a [u8]),
    /// Decoded values.
    Values(&'a Row),
}

/// Garbage below this many bytes is never compacted away (small tables stay one buffer).
const MIN_COMPACT: usize = 1 << 20;

#[derive(Default)]
pub(crate) struct KeptRows {
    /// Kept tuples back to back; a replaced tuple's bytes stay until [`KeptRows::compact`].
    bytes: Vec<u8>,
    /// Per slot: its tuple's range in `bytes` (empty for a row of values).
    slots: Vec<Range<usize>>,
    /// Per slot, once any row of values is kept: that row (`None` for a tuple).
    values: Vec<Option<Row>>,
    /// Bytes of `bytes` that slots still point at.
    live: usize,
}

impl KeptRows {
    /// Rows kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Keeps in `slot` (an existing one, or the next) the tuple `write` appends to the buffer it
    /// is given.
    pub(crate) fn put_tuple(&mut self, slot: usize, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        let range = start..self.bytes.len();
        self.live += range.len();
        let i = self.place(slot, range);
        if let Some(v) = self.values.get_mut(i) {
            *v = None;
        }
        if self.bytes.len() - self.live > self.live.max(MIN_COMPACT) {
            self.compact();
        }
    }

    /// Keeps `row` (decoded values) in `slot`.
    pub(crate) fn put_values(&mut self, slot: usize, row: Row) {
        let i = self.place(slot, 0..0);
        if self.values.len() <= i {
            self.values.resize_with(i + 1, || None);
        }
        self.values[i] = Some(row);
    }

    /// Points `slot` (an existing one, or the next) at `range`; its index.
    fn place(&mut self, slot: usize, range: Range<usize>) -> usize {
        if slot >= self.slots.len() {
            self.slots.push(range);
            return self.slots.len() - 1;
        }
        let old = std::mem::replace(&mut self.slots[slot], range);
        self.live -= old.len();
        slot
    }

    /// Copies the live tuples into a buffer of their own, in slot order.
    fn compact(&mut self) {
        let mut bytes = Vec::with_capacity(self.live);
        for r in &mut self.slots {
            let start = bytes.len();
            bytes.extend_from_slice(&self.bytes[r.clone()]);
            *r = start..bytes.len();
        }
        self.bytes = bytes;
    }

    /// Every kept row, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = KeptRow<'_>> {
        self.slots.iter().enumerate().map(|(i, r)| {
            match self.values.get(i).and_then(Option::as_ref) {
                Some(row) => KeptRow::Values(row),
                None => KeptRow::Tuple(&self.bytes[r.clone()]),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::row::Field;

    fn tuples(k: &KeptRows) -> Vec<Vec<u8>> {
        k.iter()
            .map(|r| match r {
                KeptRow::Tuple(t) => t.to_vec(),
                KeptRow::Values(_) => b"values".to_vec(),
            })
            .collect()
    }

    /// Random replacements against a buffer per slot (the layout before): the same rows, and
    /// the buffer compacted so that it never holds much more than twice the live bytes.
    #[test]
    fn replacements_keep_the_same_rows_as_a_buffer_per_slot() {
        for seed in 0..20u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let slots = rng.usize(1..300);
            let mut k = KeptRows::default();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for n in 0..20_000usize {
                let slot = if model.len() < slots {
                    model.len()
                } else {
                    rng.usize(..slots)
                };
                let len = rng.usize(0..400);
                let t: Vec<u8> = (0..len).map(|i| (n + i) as u8).collect();
                k.put_tuple(slot, |b| b.extend_from_slice(&t));
                if slot == model.len() {
                    model.push(t);
                } else {
                    model[slot] = t;
                }
                let live: usize = model.iter().map(Vec::len).sum();
                assert_eq!(k.live, live);
                assert!(
                    k.bytes.len() <= 2 * live.max(MIN_COMPACT) + 400,
                    "seed {seed}"
                );
            }
            assert_eq!(k.len(), model.len());
            assert_eq!(tuples(&k), model, "seed {seed}");
        }
    }

    #[test]
    fn rows_of_values_and_tuples_share_the_slots() {
        let mut k = KeptRows::default();
        k.put_tuple(0, |b| b.extend_from_slice(b"a"));
        k.put_values(1, vec![Field::Null]);
        k.put_tuple(2, |b| b.extend_from_slice(b"c"));
        assert_eq!(
            tuples(&k),
            [b"a".to_vec(), b"values".to_vec(), b"c".to_vec()]
        );
        // A slot of values taken again by a tuple, and the other way round.
        k.put_tuple(1, |b| b.extend_from_slice(b"b"));
        k.put_values(0, vec![Field::Null]);
        assert_eq!(
            tuples(&k),
            [b"values".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(k.live, 2);
    }
}
