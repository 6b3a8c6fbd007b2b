//! Masking inside a value: free text (`notes`, a photo's path) keeps its words and has only its
//! personal spans replaced; a list of people (`composer`) has each person replaced.
//!
//! Every replacement goes through the class's canonical transform, so a value gets the same
//! pseudonym wherever it sits: "Steven Buchanan" in `notes` becomes the fake first name of
//! `Steven` and the fake last name of `Buchanan`, exactly as `employees.first_name` and
//! `last_name` are masked (names are masked token by token, see `fakes.rs`), and an email in a
//! note becomes the email column's fake.

use std::ops::Range;
use std::sync::Arc;

use crate::detect::{
    Content, Detector, FieldHit, NameDict, NameRole, find_spans, list_parts, name_spans,
};
use crate::detection::Detection;
use crate::engine::Masker;
use crate::mask::Mask;
use crate::transform::{FakeOptions, Transform, TransformError};

/// Masks personal spans inside values. Cheap to clone.
#[derive(Clone)]
pub struct TextMasker {
    inner: Arc<Inner>,
}

struct Inner {
    detection: Detection,
    given: Mask,
    surname: Mask,
    full: Mask,
    names: Arc<NameDict>,
}

impl std::fmt::Debug for TextMasker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TextMasker({:?})", self.inner.names)
    }
}

impl TextMasker {
    /// A masker bound to `masker`'s key, finding the names of `names` (the database's own) as
    /// well as well-known given name + surname pairs.
    pub fn new(masker: &Masker, names: Arc<NameDict>) -> Result<Self, TransformError> {
        Ok(Self {
            inner: Arc::new(Inner {
                detection: Detection::new(masker)?,
                given: masker.mask(&Transform::FirstName(FakeOptions::default()))?,
                surname: masker.mask(&Transform::LastName(FakeOptions::default()))?,
                full: masker.mask(&Transform::Name(FakeOptions::default()))?,
                names,
            }),
        })
    }

    /// Masks `value` as the column's content says.
    pub fn mask(&self, content: Content, value: &str) -> String {
        match content {
            Content::FreeText => self.mask_text(value),
            Content::NameList => self.mask_name_list(value),
        }
    }

    /// Free text with every personal span replaced: emails, phones, cards and the other
    /// patterns of [`find_spans`], and person names ([`name_spans`]).
    pub fn mask_text(&self, text: &str) -> String {
        let i = &self.inner;
        let mut spans: Vec<(Range<usize>, Piece)> = find_spans(text)
            .into_iter()
            .map(|s| {
                let detector = if s.credential {
                    Detector::Token
                } else {
                    Detector::of_kind(s.kind)
                };
                (
                    s.range,
                    Piece::Pattern(FieldHit {
                        kind: s.kind,
                        detector,
                    }),
                )
            })
            .collect();
        let covered = |r: &Range<usize>, spans: &[(Range<usize>, Piece)]| {
            spans
                .iter()
                .any(|(s, _)| s.start < r.end && r.start < s.end)
        };
        for n in name_spans(text, &i.names) {
            if !covered(&n.range, &spans) {
                spans.push((n.range, Piece::Name(n.role)));
            }
        }
        spans.sort_by_key(|(r, _)| r.start);
        let mut out = String::with_capacity(text.len() + 16);
        let mut at = 0;
        let mut buf = String::new();
        for (r, piece) in spans {
            out.push_str(&text[at..r.start]);
            let src = &text[r.clone()];
            match piece {
                Piece::Pattern(hit) => {
                    // A span no transform can take is dropped rather than kept.
                    if let Some(m) = i.detection.apply_hit(hit, src) {
                        out.push_str(&m);
                    }
                }
                Piece::Name(role) => {
                    let mask = match role {
                        NameRole::Given => &i.given,
                        NameRole::Surname => &i.surname,
                    };
                    push_masked(mask, src, &mut buf, &mut out);
                }
            }
            at = r.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// A list of people: each part replaced by a fake full name, separators kept.
    pub fn mask_name_list(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 8);
        let mut at = 0;
        let mut buf = String::new();
        for r in list_parts(value) {
            out.push_str(&value[at..r.start]);
            push_masked(&self.inner.full, &value[r.clone()], &mut buf, &mut out);
            at = r.end;
        }
        out.push_str(&value[at..]);
        out
    }
}

enum Piece {
    Pattern(FieldHit),
    Name(NameRole),
}

/// The masked form of `src`; a fake that cannot be made leaves nothing rather than the source.
/// A fake equal to its source (word lists hold real names) is drawn again from a derived input,
/// so a masked name never reads as the real one.
fn push_masked(mask: &Mask, src: &str, buf: &mut String, out: &mut String) {
    if let Ok(crate::Output::Text) = mask.apply_str(src, buf) {
        if buf.eq_ignore_ascii_case(src) || buf.to_lowercase() == src.to_lowercase() {
            let again = format!("{src}\u{1f}");
            if let Ok(crate::Output::Text) = mask.apply_str(&again, buf) {
                out.push_str(buf.trim_end_matches('\u{1f}'));
            }
            return;
        }
        out.push_str(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::MaskKey;

    fn masker() -> Masker {
        Masker::new(MaskKey::from_secret(b"text mask test secret").unwrap())
    }

    #[test]
    fn names_in_notes_get_the_same_fakes_as_their_columns() {
        let m = masker();
        let mut dict = NameDict::new();
        dict.add_given("Steven");
        dict.add_surname("Buchanan");
        let t = TextMasker::new(&m, Arc::new(dict)).unwrap();
        let first = m
            .mask(&Transform::FirstName(FakeOptions::default()))
            .unwrap()
            .mask_str("Steven")
            .unwrap()
            .unwrap();
        let last = m
            .mask(&Transform::LastName(FakeOptions::default()))
            .unwrap()
            .mask_str("Buchanan")
            .unwrap()
            .unwrap();
        let note = "Steven Buchanan graduated in 1976; mail steven@northwind.example.";
        let masked = t.mask_text(note);
        assert!(
            masked.starts_with(&format!("{first} {last} graduated in 1976")),
            "{masked}"
        );
        assert!(
            !masked.contains("Steven") && !masked.contains("steven@"),
            "{masked}"
        );
        let path = t.mask_text("http://accweb/emmployees/buchanan.bmp");
        assert_eq!(
            path,
            format!("http://accweb/emmployees/{}.bmp", last.to_lowercase())
        );
    }

    #[test]
    fn lists_keep_their_separators() {
        let t = TextMasker::new(&masker(), Arc::new(NameDict::new())).unwrap();
        let v = "Angus Young, Malcolm Young & Brian Johnson";
        let m = t.mask_name_list(v);
        assert_eq!(m.matches(", ").count(), 1, "{m}");
        assert_eq!(m.matches(" & ").count(), 1, "{m}");
        for real in ["Angus", "Malcolm", "Brian", "Johnson"] {
            assert!(!m.contains(real), "{m}");
        }
    }
}
