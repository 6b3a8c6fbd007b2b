//! Positions in source text: the 1-based line (and column, in characters) of a byte offset, as
//! TOML, YAML and JSON parsers report spans and error messages print them (`line 7`,
//! `values.yaml:7:3`).
//!
//! Used by shadow's and load's config readers and drift's format readers.

/// The 1-based line of byte `offset` in `text` (offsets past the end count as the end).
pub fn line_of(text: &str, offset: usize) -> usize {
    line_col(text, offset).0
}

/// The 1-based line and column (in characters) of byte `offset` in `text`. An offset inside a
/// character counts as that character; one past the end as the end.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut start = offset.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_and_columns() {
        assert_eq!(line_col("ab\ncd\ne", 4), (2, 2));
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
        assert_eq!(line_col("é\né", 4), (2, 1));
        assert_eq!(line_col("é\né", 5), (2, 2));
        assert_eq!(line_col("éx", 1), (1, 1));
    }

    proptest! {
        #[test]
        fn any_offset_is_answered(text in "\\PC{0,40}(\n\\PC{0,10}){0,4}", offset in 0usize..200) {
            let (line, col) = line_col(&text, offset);
            let cut = &text.as_bytes()[..offset.min(text.len())];
            prop_assert_eq!(line, cut.iter().filter(|&&b| b == b'\n').count() + 1);
            prop_assert!(col >= 1);
        }
    }
}
