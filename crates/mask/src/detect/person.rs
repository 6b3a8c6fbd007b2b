//! Is this value a person's name? Decided by the key and the value together.
//!
//! A key such as `first_name` or `customer_name` says so by itself. A bare `name` does not:
//! `{"Name": "Rock"}` is a genre and `{"Name": "For Those About To Rock"}` a track. For those,
//! the value has to look like a person's name: two to four capitalised words with no function
//! words, the first a known given name and the last a known surname; or the object around it has
//! to be about a person
//! (a sibling key names an email, a phone, a birth date…).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use fake::locales::{DE_DE, Data, EN, FR_FR, IT_IT, NL_NL, PT_BR, PT_PT};

/// Capitalised English words that are in the given-name lists but far more often start a title
/// or a product name than a person's name.
const COMMON_WORDS: [&str; 40] = [
    "name", "baby", "general", "sister", "queen", "princess", "prince", "pink", "green", "brown",
    "stone", "summer", "unique", "precious", "miracle", "heaven", "america", "florida", "missouri",
    "montana", "paris", "june", "april", "may", "august", "christ", "angel", "hope", "grace",
    "royal", "golden", "river", "sky", "sunny", "will", "rose", "ivory", "crystal", "chance",
    "dallas",
];

/// Words that appear in titles, never inside a personal name.
const FUNCTION_WORDS: [&str; 34] = [
    "a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "for", "with", "by", "from", "is",
    "it", "my", "me", "you", "your", "i", "we", "our", "us", "be", "not", "no", "all", "love",
    "what", "this", "that", "&", "vs",
];

/// Common given names (US Social Security top names, Ireland, Spain, Scandinavia) that the
/// generator's locale lists lack.
const MORE_GIVEN_NAMES: [&str; 26] = [
    "Matthew", "Steven", "Ronald", "Gary", "Scott", "Carl", "Bryan", "Nancy", "Debra", "Megan",
    "Cheryl", "Martha", "Ann", "Marilyn", "Pieter", "Lucia", "Lucía", "Sofía", "María", "Søren",
    "Zoë", "Émilie", "Seán", "Siobhan", "Niamh", "Aoife",
];

/// Common surnames (the US Census top 100, Britain, Ireland, Spain and Latin America with their
/// accents) that the generator's locale lists lack: with both ends of a bare `name` required to
/// be known, a missing `Williams` or `Pérez` would leave the most common people unmasked.
const MORE_SURNAMES: [&str; 76] = [
    "Williams",
    "Wilson",
    "Taylor",
    "Jackson",
    "Lee",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Young",
    "Allen",
    "Wright",
    "Scott",
    "Hill",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Phillips",
    "Evans",
    "Edwards",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Kelly",
    "Howard",
    "Kim",
    "Cox",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Hughes",
    "Castillo",
    "Patel",
    "Myers",
    "Ross",
    "Foster",
    "Davies",
    "Byrne",
    "O'Brien",
    "O'Connor",
    "O'Sullivan",
    "McCarthy",
    "Kennedy",
    "Quinn",
    "Pérez",
    "López",
    "González",
    "Hernández",
    "Rodríguez",
    "Martínez",
    "Sánchez",
    "Ramírez",
    "Gómez",
    "Díaz",
    "Gutiérrez",
    "Jiménez",
    "Álvarez",
    "Fernández",
    "André",
    "Souza",
];

/// Particles that sit inside personal names in lower case.
const PARTICLES: [&str; 14] = [
    "van", "von", "de", "der", "den", "da", "das", "do", "dos", "del", "della", "di", "du", "la",
];

/// A set of words hashed by a multiply-rotate hash: e-mail logins are looked up in the name
/// lists a dozen times each, and SipHash (std's default, which resists flooding) cost more than
/// the lookups. The lists are fixed, so flooding is not a concern; membership is all that is
/// asked of the set, so the hash changes no output.
type WordSet = HashSet<String, BuildHasherDefault<WordHasher>>;

#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
}

/// Each name lowercased, and also in its accent-folded form (`joão` and `joao`): logins and
/// older systems write names without their accents.
fn lowercase_set(lists: &[&[&str]]) -> WordSet {
    lists
        .iter()
        .flat_map(|l| l.iter())
        .flat_map(|n| [n.to_lowercase(), crate::fakes::fold(n)])
        .filter(|n| !COMMON_WORDS.contains(&n.as_str()))
        .collect()
}

fn given_names() -> &'static WordSet {
    static NAMES: OnceLock<WordSet> = OnceLock::new();
    NAMES.get_or_init(|| {
        lowercase_set(&[
            EN::NAME_FIRST_NAME,
            FR_FR::NAME_FIRST_NAME,
            DE_DE::NAME_FIRST_NAME,
            IT_IT::NAME_FIRST_NAME,
            NL_NL::NAME_FIRST_NAME,
            PT_BR::NAME_FIRST_NAME,
            PT_PT::NAME_FIRST_NAME,
            &MORE_GIVEN_NAMES,
        ])
    })
}

fn surnames() -> &'static WordSet {
    static NAMES: OnceLock<WordSet> = OnceLock::new();
    NAMES.get_or_init(|| {
        lowercase_set(&[
            EN::NAME_LAST_NAME,
            FR_FR::NAME_LAST_NAME,
            DE_DE::NAME_LAST_NAME,
            IT_IT::NAME_LAST_NAME,
            NL_NL::NAME_LAST_NAME,
            PT_BR::NAME_LAST_NAME,
            PT_PT::NAME_LAST_NAME,
            &MORE_SURNAMES,
        ])
    })
}

/// True when `word` is a known given name (case-insensitive) that is not also a common word.
pub fn is_given_name(word: &str) -> bool {
    in_lowercase_set(given_names(), word)
}

/// Whether `word`, lowercased, is in `set`; lowercase ASCII words (logins) are looked up as
/// they are, other ASCII words lowercased on the stack.
fn in_lowercase_set(set: &WordSet, word: &str) -> bool {
    if word.is_ascii() {
        if !word.bytes().any(|b| b.is_ascii_uppercase()) {
            return set.contains(word);
        }
        let mut buf = [0u8; 32];
        if let Some(b) = buf.get_mut(..word.len()) {
            b.copy_from_slice(word.as_bytes());
            b.make_ascii_lowercase();
            return std::str::from_utf8(b).is_ok_and(|w| set.contains(w));
        }
    }
    set.contains(&word.to_lowercase())
}

/// True when `word` is a known surname (case-insensitive) that is not also a common word.
pub fn is_surname(word: &str) -> bool {
    in_lowercase_set(surnames(), word)
}

/// A capitalised word of letters (`Anne-Marie`, `O'Brien`, `J.` as an initial).
fn is_name_word(w: &str) -> bool {
    let mut chars = w.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_uppercase()
        && w.chars().any(char::is_alphabetic)
        && w.chars()
            .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’' | '.'))
}

/// The words of `value` when it has the shape of a personal name: 1–4 capitalised words (particles
/// such as `van` or `de` allowed in between), no digits, no function words.
pub(crate) fn name_words(value: &str) -> Option<Vec<&str>> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.is_empty() || words.len() > 4 || value.len() > 80 {
        return None;
    }
    for (i, w) in words.iter().enumerate() {
        let lower = w.to_lowercase();
        if FUNCTION_WORDS.contains(&lower.as_str()) {
            return None;
        }
        let particle = i > 0 && i + 1 < words.len() && PARTICLES.contains(&lower.as_str());
        if !particle && !is_name_word(w) {
            return None;
        }
    }
    Some(words)
}

/// How sure the key is that its value is a person's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKey {
    /// `first_name`, `surname`, `customer_name`, `full_name`, `ContactName`: the key decides.
    Certain,
    /// A bare `name` (or `Name`): the value and its context decide.
    Ambiguous,
}

/// Whether `value`, held under a key of the given certainty, is a person's name. `person_context`
/// is true when the surrounding object is about a person (a sibling key names an email, a phone,
/// an address, a birth date, a first or last name…).
pub fn is_person_name(key: NameKey, value: &str, person_context: bool) -> bool {
    let value = value.trim();
    if value.is_empty() {
        return false;
    }
    match key {
        NameKey::Certain => value.chars().any(char::is_alphabetic),
        NameKey::Ambiguous => {
            let Some(words) = name_words(value) else {
                return false;
            };
            if person_context {
                return true;
            }
            let (Some(first), Some(last)) = (words.first(), words.last()) else {
                return false;
            };
            // Without a person around it, both ends must be names: song titles such as
            // "Mary Jane" or "Vida Boa" start with a given name or end with a surname, rarely both.
            words.len() >= 2 && is_given_name(first.trim_end_matches('.')) && is_surname(last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_under_a_bare_name_key() {
        for v in [
            "Anna Smith",
            "Alanis Morissette",
            "Bruce Dickinson",
            "Anna Maria Smith",
        ] {
            assert!(is_person_name(NameKey::Ambiguous, v, false), "{v}");
        }
        // Names the lists do not hold need a person around them.
        for v in ["Ann Kowalski", "Jean-Luc Picard"] {
            assert!(!is_person_name(NameKey::Ambiguous, v, false), "{v}");
            assert!(is_person_name(NameKey::Ambiguous, v, true), "{v}");
        }
        // One word is a person only when the object is about a person.
        assert!(!is_person_name(NameKey::Ambiguous, "Madonna", false));
        assert!(is_person_name(NameKey::Ambiguous, "Madonna", true));
    }

    #[test]
    fn titles_genres_and_products_are_not_people() {
        for v in [
            "Rock",
            "For Those About To Rock",
            "Balls to the Wall",
            "Heavy Metal",
            "Jack Of All Trades",
            "Chai",
            "Princess of the Dawn",
            "Chef Anton's Cajun Seasoning",
            "Grandma's Boysenberry Spread",
            "Beverages",
            "AC/DC",
            "MPEG audio file",
            "Sir Rodney's Marmalade",
            "90’s Music",
            "Love Song",
            "Mary Jane",
            "Johnny B. Goode",
            "Vida Boa",
            "Soldado Da Paz",
        ] {
            assert!(!is_person_name(NameKey::Ambiguous, v, false), "{v}");
        }
    }

    #[test]
    fn a_certain_key_decides_alone() {
        assert!(is_person_name(NameKey::Certain, "Rock", false));
        assert!(!is_person_name(NameKey::Certain, "", false));
        assert!(!is_person_name(NameKey::Certain, "1234", false));
    }
}
