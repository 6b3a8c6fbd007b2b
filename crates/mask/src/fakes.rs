//! Realistic replacement values chosen by keyed hash from locale word lists.
//!
//! Names are masked token by token with one keyed choice per token: a given name always becomes
//! the same fake given name, whether it sits in a `name`, `first_name`, `email` or `username`
//! value. So `John Smith`, `john.smith@acme.com` and `first_name = John` stay consistent with
//! each other after masking (with the `en` locale), and joins on any of them still work.

use crate::detect::{is_given_name, is_surname};
use crate::engine::Keys;
use crate::fake_memo::{self, Part};
use crate::fpe::{FpeSpec, fpe_str};
use crate::locale::{Locale, Words};
use crate::prf::{Prf, below};
use crate::transform::{Alphabet, EmailOptions};

/// From this uniqueness attempt on, a numeric disambiguator is appended so that retries always
/// reach fresh values even when the word lists are exhausted.
pub(crate) const DISAMBIGUATE_FROM: u32 = 3;

/// The bits of an attempt number that count uniqueness retries; the bits above select a
/// regeneration (fitting a column, or avoiding the source value) and never add digits.
pub(crate) const RETRY_BITS: u32 = 0xFFFF;

const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "mme", "mlle", "m", "herr",
    "frau", "sr", "sra", "jr", "ii", "iii", "iv", "phd", "md", "esq",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    First,
    Last,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    Full,
    First,
    Last,
}

#[derive(Clone, Copy)]
enum Case {
    Upper,
    Lower,
    AsIs,
}

fn case_of(token: &str) -> Case {
    let mut letters = 0;
    let mut upper = 0;
    let mut lower = 0;
    for c in token.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_lowercase() {
            lower += 1;
        }
    }
    if letters >= 2 && upper == letters {
        Case::Upper
    } else if letters >= 1 && lower == letters {
        Case::Lower
    } else {
        Case::AsIs
    }
}

fn push_cased(word: &str, case: Case, out: &mut String) {
    match case {
        Case::AsIs => out.push_str(word),
        Case::Upper => out.extend(word.chars().flat_map(char::to_uppercase)),
        Case::Lower => out.extend(word.chars().flat_map(char::to_lowercase)),
    }
}

/// Hashes `token` case-insensitively, with Latin diacritics folded (`François` hashes as
/// `francois`, so a name and the ASCII local part of its email pick the same pseudonym), with the
/// attempt counter, without allocating for short tokens.
fn token_hash(prf: &Prf, token: &str, attempt: u32) -> u64 {
    if token.is_ascii() && token.len() <= 64 {
        // The same bytes as below for ASCII (lowercased, apostrophes dropped, nothing to
        // fold), without decoding characters.
        let mut buf = [0u8; 64];
        let mut at = 0;
        for b in token.bytes().filter(|&b| b != b'\'') {
            buf[at] = b.to_ascii_lowercase();
            at += 1;
        }
        return prf.u64_parts(&[&buf[..at], &attempt.to_le_bytes()]);
    }
    let mut buf = [0u8; 128];
    let mut at = 0;
    let mut tmp = [0u8; 4];
    for c in token.chars().flat_map(char::to_lowercase) {
        // `O'Brien` is `obrien` in a login: apostrophes do not count.
        if is_apostrophe(c) {
            continue;
        }
        let e: &[u8] = match latin_fold(c) {
            Some(f) => f.as_bytes(),
            None => c.encode_utf8(&mut tmp).as_bytes(),
        };
        if at + e.len() > buf.len() {
            let folded = fold(token);
            return prf.u64_parts(&[folded.as_bytes(), &attempt.to_le_bytes()]);
        }
        buf[at..at + e.len()].copy_from_slice(e);
        at += e.len();
    }
    prf.u64_parts(&[&buf[..at], &attempt.to_le_bytes()])
}

/// The ASCII form of a lowercase Latin letter with a diacritic (`é` → `e`, `ß` → `ss`); `None`
/// for ASCII and for other scripts, which are hashed as they are.
fn latin_fold(c: char) -> Option<&'static str> {
    if c.is_ascii() || !c.is_alphabetic() || u32::from(c) >= 0x250 {
        return None;
    }
    deunicode::deunicode_char(c)
        .map(str::trim)
        .filter(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_alphabetic()))
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

/// `token` lowercased with Latin diacritics folded and apostrophes dropped: the form names are
/// hashed and compared in.
pub(crate) fn fold(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for c in token.chars().flat_map(char::to_lowercase) {
        if is_apostrophe(c) {
            continue;
        }
        match latin_fold(c) {
            Some(f) => out.push_str(f),
            None => out.push(c),
        }
    }
    out
}

/// True when a fake word would spell the source token again (letters only, folded): such a
/// choice is never kept, so a real name never maps to itself.
fn same_word(word: &str, token: &str) -> bool {
    if word.is_ascii() && token.is_ascii() {
        // ASCII letters fold to themselves, lowercased.
        return ascii_letters(word).eq(ascii_letters(token));
    }
    folded_letters(word).eq(folded_letters(token))
}

/// The letters of an ASCII `s` as [`fold`] gives them (ASCII letters fold to themselves).
fn ascii_letters(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes()
        .filter(u8::is_ascii_alphabetic)
        .map(|b| b.to_ascii_lowercase())
}

/// The letters of `s` as [`fold`] gives them, without allocating (this runs for every word).
fn folded_letters(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .flat_map(char::to_lowercase)
        .flat_map(|c| {
            let (folded, kept) = match latin_fold(c) {
                Some(f) => (Some(f.chars()), None),
                None => (None, Some(c)),
            };
            folded.into_iter().flatten().chain(kept)
        })
        .filter(|c| c.is_alphabetic())
}

/// The keyed word for `token` from `list`, never the token itself: when the keyed choice spells
/// the token, the next keyed choices are tried, then the next word of the list. Deterministic,
/// so one token keeps one pseudonym everywhere (names, emails, usernames).
fn pick_other<'a>(prf: &Prf, list: &'a [&'a str], token: &str, attempt: u32) -> &'a str {
    let first = token_hash(prf, token, attempt);
    let word = pick(list, first);
    if !same_word(word, token) {
        return word;
    }
    let folded = fold(token);
    for k in 1u8..8 {
        let r = prf.u64_parts(&[folded.as_bytes(), &attempt.to_le_bytes(), b"other", &[k]]);
        let w = pick(list, r);
        if !same_word(w, token) {
            return w;
        }
    }
    if list.is_empty() {
        return "";
    }
    let i = below(first, list.len());
    list[(i + 1) % list.len()]
}

/// A keyed letter for the letter `c` (an initial), never `c` itself.
fn other_letter(c: char, r: u64) -> char {
    let folded = fold(&c.to_string());
    match folded.bytes().next() {
        Some(b) if b.is_ascii_lowercase() && folded.len() == 1 => {
            (b'a' + ((u64::from(b - b'a') + 1 + r % 25) % 26) as u8) as char
        }
        _ => (b'a' + (r % 26) as u8) as char,
    }
}

fn pick<'a>(list: &'a [&'a str], r: u64) -> &'a str {
    if list.is_empty() {
        return "";
    }
    list[below(r, list.len())]
}

fn is_title(token: &str) -> bool {
    let t = token.trim_end_matches('.');
    TITLES.iter().any(|x| x.eq_ignore_ascii_case(t))
}

fn is_initial(token: &str) -> bool {
    let mut chars = token.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some(c), None, _) => c.is_alphabetic(),
        (Some(c), Some('.'), None) => c.is_alphabetic(),
        _ => false,
    }
}

/// The fake word for one name token (hyphenated parts are masked part by part).
fn push_name_token(
    keys: &Keys,
    words: &Words,
    role: Role,
    token: &str,
    attempt: u32,
    out: &mut String,
) {
    if is_initial(token) {
        // Hashed without its dot, as the same initial in a login (`j.smith`) is.
        let r = token_hash(&keys.initial, token.trim_end_matches('.'), attempt);
        let letter = token.chars().next().map_or('a', |c| other_letter(c, r));
        match case_of(token) {
            Case::Lower => out.push(letter),
            _ => out.push(letter.to_ascii_uppercase()),
        }
        if token.ends_with('.') {
            out.push('.');
        }
        return;
    }
    let mut first_part = true;
    for part in token.split('-') {
        if !first_part {
            out.push('-');
        }
        first_part = false;
        if part.is_empty() {
            continue;
        }
        let (prf, list) = match role {
            Role::First => (&keys.first, words.first),
            Role::Last => (&keys.last, words.last),
        };
        let word = pick_other(prf, list, part, attempt);
        push_cased(word, case_of(part), out);
    }
}

/// Token spans of a name: runs of characters that are neither whitespace nor commas.
fn name_tokens(input: &str) -> impl Iterator<Item = (usize, &str)> + Clone {
    input
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(move |t| (t.as_ptr() as usize - input.as_ptr() as usize, t))
}

pub(crate) fn name(
    keys: &Keys,
    locale: Locale,
    kind: NameKind,
    input: &str,
    attempt: u32,
    out: &mut String,
) {
    let words = locale.words();
    let real_count = name_tokens(input).filter(|(_, t)| !is_title(t)).count();
    let first_real = name_tokens(input).find(|(_, t)| !is_title(t));
    // Scripts written without spaces (Chinese, Japanese names in one token): build a whole name
    // from the locale's template.
    let spaceless = !words.name_tpl.contains(' ');
    if kind == NameKind::Full && spaceless && real_count == 1 {
        if let Some((s, tok)) = first_real {
            out.push_str(&input[..s]);
            let r_first = token_hash(&keys.first, tok, attempt);
            let r_last = token_hash(&keys.last, tok, attempt);
            fill_template(words.name_tpl, out, |ph, out| match ph {
                "FirstName" => out.push_str(pick(words.first, r_first)),
                "LastName" => out.push_str(pick(words.last, r_last)),
                _ => {}
            });
            out.push_str(&input[s + tok.len()..]);
            disambiguate(keys, input, attempt, " ", out);
            return;
        }
    }
    let comma_after_first = input
        .find(',')
        .filter(|&c| first_real.is_some_and(|(s, _)| s < c));
    let mut cursor = 0;
    let mut rank = 0;
    for (s, tok) in name_tokens(input) {
        out.push_str(&input[cursor..s]);
        cursor = s + tok.len();
        if is_title(tok) {
            out.push_str(tok);
            continue;
        }
        let role = match kind {
            NameKind::First => Role::First,
            NameKind::Last => Role::Last,
            NameKind::Full => match comma_after_first {
                Some(c) => {
                    if s < c {
                        Role::Last
                    } else {
                        Role::First
                    }
                }
                None => {
                    if real_count >= 2 && rank == real_count - 1 {
                        Role::Last
                    } else {
                        Role::First
                    }
                }
            },
        };
        rank += 1;
        push_name_token(keys, words, role, tok, attempt, out);
    }
    out.push_str(&input[cursor..]);
    disambiguate(keys, input, attempt, " ", out);
}

/// Appends ` 42`-style digits on late uniqueness attempts (more digits as attempts grow).
/// Only the uniqueness retry count (the low bits of `attempt`) counts here: the high bits are
/// regenerations for fitting or for the never-equal rule ([`crate::mask`]), which must not
/// lengthen the value.
fn disambiguate(keys: &Keys, input: &str, attempt: u32, sep: &str, out: &mut String) {
    let retry = attempt & RETRY_BITS;
    if retry < DISAMBIGUATE_FROM {
        return;
    }
    let digits = (2 + (retry - DISAMBIGUATE_FROM) / 2).min(12);
    let r = keys
        .disambiguate
        .u64_parts(&[input.as_bytes(), &attempt.to_le_bytes()]);
    out.push_str(sep);
    let modulus = 10u64.pow(digits);
    let v = r % modulus;
    let s = format!("{v:0width$}", width = digits as usize);
    out.push_str(&s);
}

fn fill_template(tpl: &str, out: &mut String, mut f: impl FnMut(&str, &mut String)) {
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                f(&after[..close], out);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                return;
            }
        }
    }
    out.push_str(rest);
}

/// An ASCII lowercase word from a locale list entry (`O'Keefe` → `okeefe`), for emails and
/// usernames.
fn push_ascii_word(word: &str, out: &mut String) {
    let before = out.len();
    out.extend(
        word.chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase()),
    );
    if out.len() == before {
        out.push('x');
    }
}

/// Masks a login-like string: letter runs become fake name words, digit runs are replaced by a
/// keyed bijection of the same length, other characters (`.`, `_`, `-`, `+`) stay in place.
pub(crate) fn local_part(keys: &Keys, input: &str, attempt: u32, out: &mut String) {
    let words = Locale::En.words();
    let alpha_count = runs(input).filter(|r| r.2).count();
    let mut rank = 0;
    let mut cursor = 0;
    for (s, e, is_alpha) in runs(input) {
        for c in input[cursor..s].chars() {
            out.push(if c.is_ascii() {
                c.to_ascii_lowercase()
            } else {
                '.'
            });
        }
        cursor = e;
        let run = &input[s..e];
        if !is_alpha {
            let spec = FpeSpec::new(Alphabet::Digits);
            fpe_str(&keys.fake_digits, &spec, &attempt.to_le_bytes(), run, out);
            continue;
        }
        let chars = run.chars().count();
        // Word fakes repeat (`visitor`, `james`): remembered per thread (`fake_memo.rs`).
        let id = keys.word.id();
        if alpha_count >= 2 {
            if chars == 1 {
                push_initial(keys, run, attempt, out);
            } else if rank == alpha_count - 1 {
                fake_memo::push(id, Part::Surname, attempt, run, out, |out| {
                    push_ascii_word(pick_other(&keys.last, words.last, run, attempt), out);
                });
            } else {
                fake_memo::push(id, Part::GivenWord, attempt, run, out, |out| {
                    push_ascii_word(pick_other(&keys.first, words.first, run, attempt), out);
                });
            }
        } else if chars <= 2 {
            let r = token_hash(&keys.initial, run, attempt);
            for (k, c) in run.chars().enumerate() {
                out.push(other_letter(c, r >> (8 * k)));
            }
        } else {
            fake_memo::push(id, Part::LoginRun, attempt, run, out, |out| {
                push_login_run(keys, words, run, attempt, out);
            });
        }
        rank += 1;
    }
    for c in input[cursor..].chars() {
        out.push(if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            '.'
        });
    }
    disambiguate(keys, input, attempt, "", out);
}

/// An initial in a login: a keyed letter, never the same one, chosen as for an initial in a name.
fn push_initial(keys: &Keys, run: &str, attempt: u32, out: &mut String) {
    let r = token_hash(&keys.initial, run, attempt);
    out.push(run.chars().next().map_or('x', |c| other_letter(c, r)));
}

/// The one run of letters of a login (`nancy`, `davolio`, `jacksmith`, `ftremblay`, `luisg`),
/// read as the name parts it is made of, each masked as that part is in a name: a known given
/// name takes its given-name pseudonym, a known surname its surname pseudonym, an initial a keyed
/// letter. So `nancy@…` and `first_name = Nancy` mask alike, without any other column's help.
/// A run that reads as no name is a keyed word.
fn push_login_run(keys: &Keys, words: &Words, run: &str, attempt: u32, out: &mut String) {
    let given = |w: &str, out: &mut String| {
        push_ascii_word(pick_other(&keys.first, words.first, w, attempt), out);
    };
    let surname = |w: &str, out: &mut String| {
        push_ascii_word(pick_other(&keys.last, words.last, w, attempt), out);
    };
    if is_given_name(run) {
        return given(run, out);
    }
    if is_surname(run) {
        return surname(run, out);
    }
    let cuts = || run.char_indices().skip(1).map(|(i, _)| i);
    let long = |w: &str, n: usize| w.chars().count() >= n;
    for i in cuts() {
        let (a, b) = run.split_at(i);
        if long(a, 2) && long(b, 2) && is_given_name(a) && is_surname(b) {
            given(a, out);
            return surname(b, out);
        }
    }
    if let Some(i) = cuts().next() {
        let (a, b) = run.split_at(i);
        if long(b, 3) && is_surname(b) {
            push_initial(keys, a, attempt, out);
            return surname(b, out);
        }
    }
    if let Some(i) = cuts().last() {
        let (a, b) = run.split_at(i);
        if long(a, 2) && is_given_name(a) {
            given(a, out);
            return push_initial(keys, b, attempt, out);
        }
    }
    let r = token_hash(&keys.word, run, attempt);
    if r & 1 == 0 {
        push_ascii_word(pick_other(&keys.word, words.first, run, attempt), out);
    } else {
        push_ascii_word(pick_other(&keys.word, words.last, run, attempt), out);
    }
}

/// Runs of letters (any script) and of ASCII digits, as `(start, end, is_letters)`.
fn runs(input: &str) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
    let mut chars = input.char_indices().peekable();
    std::iter::from_fn(move || {
        let class = |c: char| {
            if c.is_alphabetic() {
                Some(true)
            } else if c.is_ascii_digit() {
                Some(false)
            } else {
                None
            }
        };
        loop {
            let (start, c) = chars.next()?;
            let Some(kind) = class(c) else { continue };
            let mut end = start + c.len_utf8();
            while let Some(&(i, n)) = chars.peek() {
                if class(n) != Some(kind) {
                    break;
                }
                end = i + n.len_utf8();
                chars.next();
            }
            return Some((start, end, kind));
        }
    })
}

/// Second-level labels under which country-code domains register names (`co.uk`, `com.au`).
const SECOND_LEVEL: &[&str] = &[
    "co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gob", "nic",
];

pub(crate) fn email(keys: &Keys, opts: &EmailOptions, input: &str, attempt: u32, out: &mut String) {
    let Some(at) = input.rfind('@') else {
        local_part(keys, input, attempt, out);
        return;
    };
    local_part(keys, &input[..at], attempt, out);
    out.push('@');
    let domain = &input[at + 1..];
    if opts.keep_domain {
        out.push_str(domain);
        return;
    }
    if !opts.domains.is_empty() {
        let folded = domain.to_ascii_lowercase();
        let r = keys.pick.u64_parts(&[folded.as_bytes()]);
        out.push_str(&opts.domains[below(r, opts.domains.len())]);
        return;
    }
    fake_memo::push(keys.domain.id(), Part::Domain, 0, domain, out, |out| {
        fake_domain(keys, domain, out);
    });
}

/// A domain with the same number of labels and the same public suffix, other labels replaced by
/// fake words chosen per label (so `mail.acme.co.uk` → `mail'.brekke.co.uk` consistently).
fn fake_domain(keys: &Keys, domain: &str, out: &mut String) {
    let words = Locale::En.words();
    let n = domain.split('.').count();
    let mut from_end = domain.rsplit('.');
    let last = from_end.next().unwrap_or("");
    let second = from_end.next().unwrap_or("");
    let suffix_len =
        if n >= 3 && last.len() == 2 && SECOND_LEVEL.iter().any(|s| s.eq_ignore_ascii_case(second))
        {
            2
        } else if n >= 2 {
            1
        } else {
            0
        };
    for (i, label) in domain.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        if i >= n - suffix_len
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            out.extend(label.chars().map(|c| c.to_ascii_lowercase()));
        } else if label.is_empty() {
        } else {
            let r = token_hash(&keys.domain, label, 0);
            push_ascii_word(pick(words.last, r), out);
        }
    }
}

/// Words that open a secondary address line (`Apt 10`, `Suite 400`, `Flat 3B`, `#12`).
const UNIT_WORDS: &[&str] = &[
    "apt",
    "apartment",
    "appt",
    "app",
    "suite",
    "ste",
    "unit",
    "flat",
    "room",
    "rm",
    "floor",
    "fl",
    "bldg",
    "building",
    "box",
    "po box",
    "p.o. box",
    "dept",
    "lot",
    "space",
    "wohnung",
    "etage",
    "bureau",
    "piso",
    "andar",
    "sala",
];

/// The length of a unit designator opening `line` (`Apt`, `Suite.`, `#`), if it opens one: the
/// word must be followed by a space, a dot, `#` or a digit.
fn unit_designator(line: &str) -> Option<usize> {
    let t = line.trim_start();
    let lead = line.len() - t.len();
    if t.starts_with('#') {
        return Some(lead + 1);
    }
    UNIT_WORDS.iter().find_map(|w| {
        let head = t.get(..w.len())?;
        let next = t[w.len()..].chars().next();
        (head.eq_ignore_ascii_case(w)
            && matches!(next, Some(c) if c == ' ' || c == '.' || c == '#' || c.is_ascii_digit()))
        .then_some(lead + w.len())
    })
}

/// A secondary address line keeps its form: the designator as written, its number replaced by a
/// keyed one of the same length (`Apt 10` → `Apt 47`), letters and separators in place.
fn unit_line(keys: &Keys, input: &str, designator: usize, attempt: u32, out: &mut String) {
    out.push_str(&input[..designator]);
    let mut spec = FpeSpec::new(Alphabet::Digits);
    spec.no_leading_zero = true;
    fpe_str(
        &keys.fake_digits,
        &spec,
        &attempt.to_le_bytes(),
        &input[designator..],
        out,
    );
    disambiguate(keys, input, attempt, " ", out);
}

pub(crate) fn street(keys: &Keys, locale: Locale, input: &str, attempt: u32, out: &mut String) {
    if let Some(d) = unit_designator(input) {
        return unit_line(keys, input, d, attempt, out);
    }
    let words = locale.words();
    // `24, place Kléber`: a comma after a bare house number is part of the line, not the
    // start of the rest (a flat or a postcode), or the street would be kept as the rest.
    let (line, rest) = match input.find(',') {
        Some(c)
            if input[..c].trim().bytes().all(|b| b.is_ascii_alphanumeric())
                && input[..c].trim().bytes().any(|b| b.is_ascii_digit())
                && !input[..c]
                    .trim()
                    .bytes()
                    .any(|b| b.is_ascii_alphabetic() && b.is_ascii_lowercase()) =>
        {
            (input, None)
        }
        Some(c) => (&input[..c], Some(&input[c..])),
        None => (input, None),
    };
    // The house number: the first run of digits (with any letter attached, e.g. 221B, kept as
    // the digits only; the letter is masked with it below).
    let number = line.find(|c: char| c.is_ascii_digit()).map(|s| {
        let e = line[s..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map_or(line.len(), |e| s + e);
        (s, e)
    });
    // The street's words without the number: all houses of one street get one fake street.
    let street_key: String = line
        .chars()
        .filter(|c| c.is_alphabetic() || c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let r = keys
        .street
        .u64_parts(&[street_key.trim().as_bytes(), &attempt.to_le_bytes()]);
    let r2 = keys.street.u64_parts(&[
        b"suffix",
        street_key.trim().as_bytes(),
        &attempt.to_le_bytes(),
    ]);
    let mut street_name = String::new();
    fill_template(words.street_tpl, &mut street_name, |ph, o| match ph {
        "StreetName" => {
            if r & 1 == 0 {
                o.push_str(pick(words.last, r >> 1));
            } else {
                o.push_str(pick(words.first, r >> 1));
            }
        }
        "StreetSuffix" => o.push_str(pick(words.street_suffix, r2)),
        _ => {}
    });
    let trimmed = street_name.trim();
    let push_number = |out: &mut String| {
        if let Some((s, e)) = number {
            let mut spec = FpeSpec::new(Alphabet::Alnum);
            spec.no_leading_zero = true;
            fpe_str(
                &keys.fake_digits,
                &spec,
                &attempt.to_le_bytes(),
                &line[s..e],
                out,
            );
        }
    };
    match number {
        Some((0, _)) => {
            push_number(out);
            out.push(' ');
            out.push_str(trimmed);
        }
        Some(_) => {
            out.push_str(trimmed);
            out.push(' ');
            push_number(out);
        }
        None => out.push_str(trimmed),
    }
    if let Some(rest) = rest {
        fpe_str(
            &keys.fake_digits,
            &FpeSpec::new(Alphabet::Digits),
            &attempt.to_le_bytes(),
            rest,
            out,
        );
    }
    disambiguate(keys, input, attempt, " ", out);
}

pub(crate) fn city(keys: &Keys, locale: Locale, input: &str, attempt: u32, out: &mut String) {
    let words = locale.words();
    let r = token_hash(&keys.city, input.trim(), attempt);
    let r2 = token_hash(&keys.city, input.trim(), attempt.wrapping_add(0x8000_0000));
    let case = case_of(input);
    let mut s = String::new();
    if locale == Locale::En && r % 5 == 0 {
        s.push_str(pick(words.city_prefix, r2 >> 8));
        s.push(' ');
    }
    fill_template(words.city_tpl, &mut s, |ph, o| match ph {
        "CityName" => o.push_str(pick(words.last, r >> 3)),
        "CitySuffix" => o.push_str(pick(words.city_suffix, r2)),
        "CityPrefix" => o.push_str(pick(words.city_prefix, r2 >> 8)),
        _ => {}
    });
    push_cased(s.trim(), case, out);
    disambiguate(keys, input, attempt, " ", out);
}

pub(crate) fn company(keys: &Keys, locale: Locale, input: &str, attempt: u32, out: &mut String) {
    let words = locale.words();
    let r = token_hash(&keys.company, input.trim(), attempt);
    let r2 = token_hash(
        &keys.company,
        input.trim(),
        attempt.wrapping_add(0x8000_0000),
    );
    let tpl = pick(words.company_tpls, r);
    fill_template(tpl, out, |ph, o| match ph {
        "Name_1" => o.push_str(pick(words.last, r >> 4)),
        "Name_2" => o.push_str(pick(words.last, r2 >> 4)),
        "Suffix" => o.push_str(pick(words.company_suffix, r2)),
        _ => {}
    });
    disambiguate(keys, input, attempt, " ", out);
}
