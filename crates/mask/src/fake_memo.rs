//! A small per-thread memo of the fake parts of e-mail addresses and logins.
//!
//! E-mail values are unique, but their parts repeat: the login run `visitor` of
//! `visitor48213@inbox.test`, the given names and surnames of `james.smith12@…`, the domain
//! `inbox.test`. Each part's fake is a pure function of the key, the part and the attempt
//! (reading a run as name parts, picking words, relabelling a domain), so a repeat is answered
//! with the text written the first time, which can never change an output; a miss only costs the
//! probe.

use std::cell::RefCell;

/// Longest part and longest fake remembered (longer ones are always computed).
const MAX_INPUT: usize = 40;
const MAX_OUTPUT: usize = 64;
/// Slots in the table (a power of two).
const SLOTS: usize = 512;

/// What a remembered fake is the fake of (one per kind of part).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Part {
    /// The one run of letters of a login (`fakes::push_login_run`).
    LoginRun = 1,
    /// A run of letters of a login of several runs that is a given name.
    GivenWord = 2,
    /// … that is the surname (the last run).
    Surname = 3,
    /// An e-mail domain (`fakes::fake_domain`).
    Domain = 4,
}

#[derive(Clone, Copy)]
struct Slot {
    key: [u8; 32],
    part: u8,
    attempt: u32,
    input_len: u8,
    input: [u8; MAX_INPUT],
    output_len: u8,
    output: [u8; MAX_OUTPUT],
}

const EMPTY: Slot = Slot {
    key: [0; 32],
    // No part has tag 0: an empty slot matches nothing.
    part: 0,
    attempt: 0,
    input_len: 0,
    input: [0; MAX_INPUT],
    output_len: 0,
    output: [0; MAX_OUTPUT],
};

thread_local! {
    static TABLE: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

fn index(part: Part, attempt: u32, input: &[u8]) -> usize {
    let seed =
        (u64::from(part as u8) << 32 | u64::from(attempt)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (crate::prf_memo::mix(seed, input) as usize) & (SLOTS - 1)
}

/// Appends the fake of `input` (a `part` under the masker whose key is `key`, at `attempt`) to
/// `out`: remembered from an earlier call on this thread, or written by `write` and remembered.
pub(crate) fn push(
    key: &[u8; 32],
    part: Part,
    attempt: u32,
    input: &str,
    out: &mut String,
    write: impl FnOnce(&mut String),
) {
    let bytes = input.as_bytes();
    if bytes.len() > MAX_INPUT {
        return write(out);
    }
    let i = index(part, attempt, bytes);
    let hit = TABLE.with(|t| {
        let t = t.borrow();
        let Some(s) = t.get(i) else { return false };
        let same = s.part == part as u8
            && s.attempt == attempt
            && usize::from(s.input_len) == bytes.len()
            && s.input[..bytes.len()] == *bytes
            && s.key == *key;
        if same {
            // Written from a `&str` appended whole, so it is UTF-8.
            if let Ok(text) = std::str::from_utf8(&s.output[..usize::from(s.output_len)]) {
                out.push_str(text);
                return true;
            }
        }
        false
    });
    if hit {
        return;
    }
    let start = out.len();
    write(out);
    let written = &out.as_bytes()[start..];
    if written.len() > MAX_OUTPUT {
        return;
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        if t.is_empty() {
            t.resize(SLOTS, EMPTY);
        }
        let s = &mut t[i];
        s.key = *key;
        s.part = part as u8;
        s.attempt = attempt;
        s.input_len = bytes.len() as u8;
        s.input[..bytes.len()].copy_from_slice(bytes);
        s.output_len = written.len() as u8;
        s.output[..written.len()].copy_from_slice(written);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn repeats_are_answered_and_keys_parts_attempts_and_inputs_kept_apart() {
        let calls = Cell::new(0);
        let fake = |text: &'static str| {
            let calls = &calls;
            move |out: &mut String| {
                calls.set(calls.get() + 1);
                out.push_str(text);
            }
        };
        let mut out = String::from(">");
        push(
            &[1; 32],
            Part::LoginRun,
            0,
            "visitor",
            &mut out,
            fake("kiehn"),
        );
        push(
            &[1; 32],
            Part::LoginRun,
            0,
            "visitor",
            &mut out,
            fake("other"),
        );
        assert_eq!(out, ">kiehnkiehn");
        assert_eq!(calls.get(), 1);
        let mut out = String::new();
        push(&[2; 32], Part::LoginRun, 0, "visitor", &mut out, fake("a"));
        push(&[1; 32], Part::Domain, 0, "visitor", &mut out, fake("b"));
        push(&[1; 32], Part::LoginRun, 1, "visitor", &mut out, fake("c"));
        push(&[1; 32], Part::LoginRun, 0, "visito", &mut out, fake("d"));
        assert_eq!(out, "abcd");
        assert_eq!(calls.get(), 5);
        // Too long to remember: always written.
        let long = "x".repeat(MAX_INPUT + 1);
        let mut out = String::new();
        push(&[1; 32], Part::LoginRun, 0, &long, &mut out, fake("e"));
        push(&[1; 32], Part::LoginRun, 0, &long, &mut out, fake("e"));
        assert_eq!(calls.get(), 7);
    }
}
