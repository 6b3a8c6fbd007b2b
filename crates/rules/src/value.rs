//! What a rule needs to see of a value: the tree that holds it stays its owner's (drift reads
//! configuration files and schemas into its own `Node`), and implements [`Value`] so that
//! scale, map and pattern rules can judge it.
use crate::quantity::Quantity;

/// A value at a path of a tree, as rules see it.
pub trait Value {
    /// The text of a scalar as a user wrote it (strings unquoted, `3`, `true`, `null`); `None`
    /// for lists, maps and values that must not be shown (secrets).
    fn scalar_text(&self) -> Option<String>;

    /// The value as a number with a unit, for scale rules: whole numbers through
    /// [`Quantity::integer`], other numbers through [`Quantity::float`], strings through
    /// [`crate::quantity::parse_text`]; `None` for anything else.
    fn quantity(&self) -> Option<Quantity>;

    /// The texts of every scalar inside the value (lists and maps walked), for pattern rules;
    /// values that must not be shown contribute none.
    fn leaf_texts(&self) -> Vec<String>;

    /// A one-line rendering for notes such as `expects 512Mi ("1Gi" × 0.5)`, cut to `max`
    /// characters; never the clear text of a secret.
    fn render_short(&self, max: usize) -> String;
}
