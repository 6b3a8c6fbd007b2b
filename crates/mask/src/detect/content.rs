//! What a column holds, decided on its sampled values rather than its name: a `name` column of
//! genres is not a person, a `composer` column of "Angus Young, Malcolm Young" is, and a `notes`
//! column of prose may hold people's names, emails and phones.
//!
//! - [`ContentScan`] counts, over a column's sample, the values of each class (a person's full
//!   name, a list of people, prose, prose holding PII spans, values holding a known real name).
//!   It keeps counts only; [`ContentScan::shares`] reports them as [`ClassShare`]s, which is the
//!   evidence shown in a dry run, never a value.
//! - [`NameDict`] holds the name tokens of the database's own person-name columns (from the
//!   detection sample), so that "Steven Buchanan" is found in `notes` and `buchanan.bmp` in a
//!   path. In memory only, never serialised.
//! - [`name_spans`] finds person names in a text: tokens of the dictionary, and a known given
//!   name followed by a known surname.

use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::person::{NameKey, is_given_name, is_person_name, is_surname, name_words};
use super::text::find_spans;

/// How a column's values are masked when detection found people inside them rather than as
/// whole values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// Prose or paths: only the personal spans (names, emails, phones…) are replaced.
    FreeText,
    /// A list of people (`Angus Young, Malcolm Young & Brian Johnson`): each one is replaced
    /// by a fake full name, separators kept.
    NameList,
}

impl Content {
    /// The name reported as the column's transform.
    pub fn transform_name(self) -> &'static str {
        match self {
            Content::FreeText => "free_text",
            Content::NameList => "name_list",
        }
    }
}

/// `matched` of the sampled values belong to `class`: the evidence for a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassShare {
    pub class: String,
    pub matched: u64,
    pub sampled: u64,
}

/// Shares a column must reach to be decided by its values.
const PERSON_SHARE: f64 = 0.5;
/// Lists mix people with bands and "Traditional": a third of values naming a person is far
/// above what titles reach (a title rarely is a known given name then a known surname).
const LIST_SHARE: f64 = 0.3;
const PROSE_SHARE: f64 = 0.5;
/// Values holding a real name from the database's own person columns.
const KNOWN_NAME_SHARE: f64 = 0.3;
/// Below this share of values starting with a known given name, a column named for people
/// holds something else.
const NOT_PEOPLE_SHARE: f64 = 0.2;

/// Words in a value for it to count as prose.
const PROSE_WORDS: usize = 8;

/// Counts of a column's sample, class by class. Holds counts only.
#[derive(Debug, Clone, Default)]
pub struct ContentScan {
    sampled: u64,
    person: u64,
    person_list: u64,
    prose: u64,
    prose_with_pii: u64,
    known_names: u64,
    /// Values holding one of the database's people, given name and surname together
    /// (`Ana Trujillo Emparedados y helados`, a shop named after its owner).
    known_people: u64,
    /// Name-shaped values starting with a known given name (`Maria Anders`, not `Hanari
    /// Carnes`): how `contact_name` and `ship_name` columns of companies tell apart.
    given_first: u64,
}

/// What the values say about a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentVerdict {
    /// Most values are one person's full name.
    Person,
    /// Many values list people.
    PersonList,
    /// Prose holding personal spans, or values holding the database's real names.
    FreeText,
    /// Nothing personal.
    Nothing,
}

/// The parts of a list of people: split on `,`, `;`, `&`, `/`, `+` and the words `and`, `e`,
/// `y`, `et`, `und`.
pub fn list_parts(value: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let sep_len = if matches!(b[i], b',' | b';' | b'&' | b'/' | b'+') {
            1
        } else if b[i] == b' ' {
            [" and ", " e ", " y ", " et ", " und "]
                .iter()
                .find(|w| value[i..].starts_with(*w))
                .map_or(0, |w| w.len() - 1)
        } else {
            0
        };
        if sep_len > 0 {
            out.push(start..i);
            i += sep_len;
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(start..value.len());
    out.into_iter()
        .map(|r| trim_range(value, r))
        .filter(|r| !r.is_empty())
        .collect()
}

fn trim_range(s: &str, r: Range<usize>) -> Range<usize> {
    let piece = &s[r.clone()];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    r.start + lead..r.end - trail
}

fn is_prose(value: &str) -> bool {
    value.split_whitespace().count() >= PROSE_WORDS
}

impl ContentScan {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one sampled value (empty values are skipped).
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.is_empty() {
            return;
        }
        self.sampled += 1;
        if is_person_name(NameKey::Ambiguous, v, false) {
            self.person += 1;
        }
        if name_words(v)
            .and_then(|w| w.first().copied())
            .is_some_and(|w| is_given_name(w.trim_end_matches('.')))
        {
            self.given_first += 1;
        }
        let parts = list_parts(v);
        if parts.len() >= 2
            && parts
                .iter()
                .any(|r| is_person_name(NameKey::Ambiguous, &v[r.clone()], false))
        {
            self.person_list += 1;
        }
        if is_prose(v) {
            self.prose += 1;
            if !find_spans(v).is_empty() || has_person_pair(v) {
                self.prose_with_pii += 1;
            }
        }
    }

    /// Counts one sampled value against the database's own names (the second pass, once the
    /// person columns are known).
    pub fn add_known(&mut self, value: &str, dict: &NameDict) {
        if value.trim().is_empty() {
            return;
        }
        let spans = name_spans(value, dict);
        if !spans.is_empty() {
            self.known_names += 1;
        }
        if spans.windows(2).any(|w| {
            adjacent(value, &w[0].range, &w[1].range)
                && dict.is_pair(&value[w[0].range.clone()], &value[w[1].range.clone()])
        }) {
            self.known_people += 1;
        }
    }

    pub fn sampled(&self) -> u64 {
        self.sampled
    }

    fn share(&self, n: u64) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            n as f64 / self.sampled as f64
        }
    }

    /// Whether most values are people (one each, or lists).
    pub fn looks_like_people(&self) -> bool {
        self.verdict_people().is_some()
    }

    fn verdict_people(&self) -> Option<ContentVerdict> {
        // Two values are too few to call a column of people.
        if self.sampled < 3 {
            return None;
        }
        if self.share(self.person) >= PERSON_SHARE {
            Some(ContentVerdict::Person)
        } else if self.share(self.person + self.person_list) >= LIST_SHARE && self.person_list > 0 {
            Some(ContentVerdict::PersonList)
        } else {
            None
        }
    }

    /// Whether the values are plainly not people: a column named `ship_name` or `contact_name`
    /// can hold companies. Needs enough values to say so; a name-shaped value starting with a
    /// known given name counts for people.
    pub fn plainly_not_people(&self) -> bool {
        self.sampled >= 10 && self.share(self.given_first.max(self.person)) < NOT_PEOPLE_SHARE
    }

    /// The decision on values alone.
    pub fn verdict(&self) -> ContentVerdict {
        if let Some(v) = self.verdict_people() {
            return v;
        }
        let prose = self.share(self.prose) >= PROSE_SHARE && self.prose_with_pii > 0;
        let known = self.known_names >= 2 && self.share(self.known_names) >= KNOWN_NAME_SHARE;
        // One of the database's people by full name is personal wherever it sits.
        if prose || known || self.known_people > 0 {
            ContentVerdict::FreeText
        } else {
            ContentVerdict::Nothing
        }
    }

    /// Values matched per class, for reports.
    pub fn shares(&self) -> Vec<ClassShare> {
        let mut out = Vec::new();
        for (class, n) in [
            ("person_name", self.person),
            ("person_list", self.person_list),
            ("prose", self.prose),
            ("prose_with_pii", self.prose_with_pii),
            ("known_person_name", self.known_names),
            ("known_person", self.known_people),
            ("given_name_first", self.given_first),
        ] {
            if n > 0 {
                out.push(ClassShare {
                    class: class.to_owned(),
                    matched: n,
                    sampled: self.sampled,
                });
            }
        }
        out
    }

    /// Matches of the chosen verdict, for the column's evidence.
    pub fn matched(&self, verdict: ContentVerdict) -> u64 {
        match verdict {
            ContentVerdict::Person => self.person,
            ContentVerdict::PersonList => self.person + self.person_list,
            ContentVerdict::FreeText => self
                .prose_with_pii
                .max(self.known_names)
                .max(self.known_people),
            ContentVerdict::Nothing => 0,
        }
    }
}

/// The role a name token plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRole {
    Given,
    Surname,
}

/// Name tokens of the database's person columns, lowercased. In memory only: its `Debug` shows
/// counts, and it is never serialised.
#[derive(Clone, Default, PartialEq)]
pub struct NameDict {
    given: HashSet<String>,
    surnames: HashSet<String>,
    /// `given surname` of the same person (one row, or one full name).
    pairs: HashSet<String>,
}

impl std::fmt::Debug for NameDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NameDict({} given names, {} surnames)",
            self.given.len(),
            self.surnames.len()
        )
    }
}

/// Tokens shorter than this are not looked for (`Al`, `Li`, initials).
const MIN_TOKEN: usize = 3;
/// Tokens held at most: a dictionary from the detection sample stays small.
const MAX_TOKENS: usize = 200_000;

/// Word tokens: runs of letters (apostrophes inside a word kept, a possessive `'s` left out).
fn words(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphabetic() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push(s..i);
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out.into_iter()
}

fn name_word_ok(w: &str) -> bool {
    w.chars().count() >= MIN_TOKEN && w.chars().next().is_some_and(char::is_uppercase)
}

impl NameDict {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.given.len() + self.surnames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&mut self, role: NameRole, token: &str) {
        if token.chars().count() < MIN_TOKEN || self.len() >= MAX_TOKENS {
            return;
        }
        let t = token.to_lowercase();
        match role {
            NameRole::Given => self.given.insert(t),
            NameRole::Surname => self.surnames.insert(t),
        };
    }

    /// A value of a given-name column.
    pub fn add_given(&mut self, value: &str) {
        for r in words(value) {
            self.insert(NameRole::Given, &value[r]);
        }
    }

    /// A value of a surname column.
    pub fn add_surname(&mut self, value: &str) {
        for r in words(value) {
            self.insert(NameRole::Surname, &value[r]);
        }
    }

    /// One person's given name and surname (the same row of a table).
    pub fn add_pair(&mut self, given: &str, surname: &str) {
        let (g, s) = (given.trim(), surname.trim());
        if g.is_empty() || s.is_empty() || self.pairs.len() >= MAX_TOKENS {
            return;
        }
        self.pairs
            .insert(format!("{} {}", g.to_lowercase(), s.to_lowercase()));
    }

    /// Whether `given surname` is one of the database's people.
    pub fn is_pair(&self, given: &str, surname: &str) -> bool {
        self.pairs.contains(&format!(
            "{} {}",
            given.to_lowercase(),
            surname.to_lowercase()
        ))
    }

    /// A full name (or a list of them): the last word of each is a surname, the others given
    /// names. Values that do not have a name's shape (company names with `et`, `of`…) are left
    /// out.
    pub fn add_full(&mut self, value: &str) {
        for part in list_parts(value) {
            let p = &value[part];
            let toks: Vec<Range<usize>> = words(p).collect();
            if toks.is_empty()
                || toks.len() > 4
                || !toks.iter().all(|r| name_word_ok(&p[r.clone()]))
            {
                continue;
            }
            if let (Some(first), Some(last)) = (toks.first(), toks.last())
                && toks.len() > 1
            {
                self.add_pair(&p[first.clone()], &p[last.clone()]);
            }
            for (i, r) in toks.iter().enumerate() {
                let role = if i + 1 == toks.len() && toks.len() > 1 {
                    NameRole::Surname
                } else {
                    NameRole::Given
                };
                self.insert(role, &p[r.clone()]);
            }
        }
    }

    /// The role of `token` when it is one of the database's names.
    pub fn role(&self, token: &str) -> Option<(bool, bool)> {
        let t = token.to_lowercase();
        let (g, s) = (self.given.contains(&t), self.surnames.contains(&t));
        (g || s).then_some((g, s))
    }
}

/// A person name span in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameSpan {
    pub range: Range<usize>,
    pub role: NameRole,
}

/// Whether `text` holds a known given name followed by a known surname, both capitalised.
fn has_person_pair(text: &str) -> bool {
    let toks: Vec<Range<usize>> = words(text).collect();
    toks.windows(2).any(|w| {
        let (a, b) = (&text[w[0].clone()], &text[w[1].clone()]);
        adjacent(text, &w[0], &w[1])
            && name_word_ok(a)
            && name_word_ok(b)
            && is_given_name(a)
            && is_surname(b)
    })
}

/// Two tokens separated by spaces only.
fn adjacent(text: &str, a: &Range<usize>, b: &Range<usize>) -> bool {
    let gap = &text[a.end..b.start];
    !gap.is_empty() && gap.chars().all(|c| c == ' ')
}

/// Person-name tokens in `text`: tokens of the database's names (any case, so `buchanan.bmp`
/// counts), and a capitalised known given name followed by a capitalised known surname. A token
/// both a given name and a surname is a given name before another name, a surname after one.
pub fn name_spans(text: &str, dict: &NameDict) -> Vec<NameSpan> {
    let toks: Vec<Range<usize>> = words(text).collect();
    let mut hit: Vec<Option<(bool, bool)>> = toks
        .iter()
        .map(|r| {
            let w = &text[r.clone()];
            if w.chars().count() < MIN_TOKEN {
                None
            } else {
                dict.role(w)
            }
        })
        .collect();
    // Known given name + known surname from the generator's lists, both capitalised.
    for i in 0..toks.len().saturating_sub(1) {
        let (a, b) = (&text[toks[i].clone()], &text[toks[i + 1].clone()]);
        if adjacent(text, &toks[i], &toks[i + 1])
            && name_word_ok(a)
            && name_word_ok(b)
            && is_given_name(a)
            && is_surname(b)
        {
            hit[i] = Some((true, false));
            hit[i + 1] = Some((false, true));
        }
    }
    let mut out = Vec::new();
    for (i, h) in hit.iter().enumerate() {
        let Some((given, surname)) = *h else { continue };
        let next_is_name = hit.get(i + 1).is_some_and(Option::is_some)
            && toks.get(i + 1).is_some_and(|n| adjacent(text, &toks[i], n));
        let prev_is_name = i > 0 && hit[i - 1].is_some() && adjacent(text, &toks[i - 1], &toks[i]);
        let role = match (given, surname) {
            (true, false) => NameRole::Given,
            (false, true) => NameRole::Surname,
            _ if next_is_name => NameRole::Given,
            _ if prev_is_name => NameRole::Surname,
            _ => NameRole::Given,
        };
        out.push(NameSpan {
            range: toks[i].clone(),
            role,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(values: &[&str]) -> ContentScan {
        let mut s = ContentScan::new();
        for v in values {
            s.add(v);
        }
        s
    }

    #[test]
    fn genres_are_not_people_and_composers_are() {
        let genres = scan(&[
            "Rock",
            "Jazz",
            "Metal",
            "Alternative & Punk",
            "Latin",
            "Blues",
        ]);
        assert_eq!(genres.verdict(), ContentVerdict::Nothing);
        let composers = scan(&[
            "Angus Young, Malcolm Young, Brian Johnson",
            "AC/DC",
            "Steven Tyler, Joe Perry",
            "Alanis Morissette & Glenn Ballard",
            "U2",
        ]);
        assert_eq!(composers.verdict(), ContentVerdict::PersonList);
        let people = scan(&["Anna Smith", "Bruce Dickinson", "Alanis Morissette"]);
        assert_eq!(people.verdict(), ContentVerdict::Person);
    }

    #[test]
    fn prose_with_people_is_free_text_and_names_are_found_in_it() {
        let mut dict = NameDict::new();
        dict.add_given("Steven");
        dict.add_surname("Buchanan");
        dict.add_full("Nancy Davolio");
        let text = "Steven Buchanan graduated from St. Andrews University. Nancy joined later.";
        let spans: Vec<(&str, NameRole)> = name_spans(text, &dict)
            .into_iter()
            .map(|s| (&text[s.range], s.role))
            .collect();
        assert_eq!(
            spans,
            [
                ("Steven", NameRole::Given),
                ("Buchanan", NameRole::Surname),
                ("Nancy", NameRole::Given)
            ]
        );
        let path = "http://accweb/emmployees/buchanan.bmp";
        assert_eq!(name_spans(path, &dict).len(), 1);
        let mut s = ContentScan::new();
        for v in [path, "http://accweb/emmployees/davolio.bmp", "x"] {
            s.add(v);
            s.add_known(v, &dict);
        }
        assert_eq!(s.verdict(), ContentVerdict::FreeText);
        let titles = scan(&[
            "For Those About To Rock (We Salute You)",
            "Balls to the Wall",
        ]);
        assert_eq!(titles.verdict(), ContentVerdict::Nothing);
    }

    #[test]
    fn list_parts_split_on_separators() {
        let v = "F. Baltes, R.A. Smith-Diesel & W. Hoffman and Bob";
        let parts: Vec<&str> = list_parts(v).into_iter().map(|r| &v[r]).collect();
        assert_eq!(
            parts,
            ["F. Baltes", "R.A. Smith-Diesel", "W. Hoffman", "Bob"]
        );
    }
}
