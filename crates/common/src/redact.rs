//! Passwords out of URLs before they reach a message, a report or a diff: the password of
//! `scheme://user:password@host` and the value of a `password=` query parameter become `***`
//! ([`redact_url`]), and every such password in free text can be replaced by what the caller
//! chooses ([`replace_url_passwords`]; drift puts a keyed fingerprint there).
//!
//! The userinfo is everything before the last `@` ahead of the first `/` (or white space) after
//! `://`, so a password holding `@`, `:` or `?` is hidden whole.
use std::borrow::Cow;

/// What a password is replaced by.
pub const REDACTED: &str = "***";

/// `url` with its userinfo password and any `password=` query value replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let hidden = replace_url_passwords(url, |_| Some(REDACTED.to_owned()));
    let Some(q) = hidden.find('?') else {
        return hidden.into_owned();
    };
    let (head, query) = hidden.split_at(q + 1);
    let mut out = String::with_capacity(hidden.len());
    out.push_str(head);
    for (i, kv) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => {
                out.push_str(k);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(kv),
        }
    }
    out
}

/// `text` with the password of every `scheme://user:password@host` in it replaced by
/// `replace(password)`; where that is `None` the password stays. Borrowed when nothing changed.
pub fn replace_url_passwords(
    text: &str,
    mut replace: impl FnMut(&str) -> Option<String>,
) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let authority_start = search + found + 3;
        let rest = &text[authority_start..];
        let authority_len = rest
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_len];
        search = authority_start + authority_len;
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let Some(colon) = authority[..at].find(':') else {
            continue;
        };
        let password = &authority[colon + 1..at];
        let Some(replacement) = replace(password) else {
            continue;
        };
        let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
        let pw_start = authority_start + colon + 1;
        o.push_str(&text[copied..pw_start]);
        o.push_str(&replacement);
        copied = authority_start + at;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/shop?sslmode=disable&password=x"),
            "postgres://app:***@db:5432/shop?sslmode=disable&password=***"
        );
        assert_eq!(
            redact_url("postgres://app@db/shop"),
            "postgres://app@db/shop"
        );
        assert_eq!(redact_url("sqlite://data/app.db"), "sqlite://data/app.db");
        assert_eq!(redact_url("postgres://u:p@h?x=1"), "postgres://u:***@h?x=1");
        assert_eq!(redact_url("postgres://u:@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact_url("postgres://u:p@ss@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            redact_url("postgres://db/x?PASSWORD=s"),
            "postgres://db/x?PASSWORD=***"
        );
        assert_eq!(redact_url("no url"), "no url");
    }

    #[test]
    fn passwords_in_text_are_replaced_by_the_callers_choice() {
        let out = replace_url_passwords(
            "a postgres://app:s3cret@db:5432/x and https://u:p@h, ftp://anon@h",
            |pw| Some(format!("<{}>", pw.len())),
        );
        assert_eq!(
            out,
            "a postgres://app:<6>@db:5432/x and https://u:<1>@h, ftp://anon@h"
        );
        assert!(matches!(
            replace_url_passwords("nothing://here", |_| None),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            replace_url_passwords("x://u:@h", |pw| (!pw.is_empty()).then(String::new)),
            "x://u:@h"
        );
    }

    proptest! {
        #[test]
        fn a_redacted_url_never_shows_its_password(
            user in "[a-z]{0,6}", pw in "[A-Za-z0-9!?:@#]{1,12}", host in "[a-z]{1,8}",
            tail in "(/[a-z]{0,5})?(\\?[a-z]=[a-z]{0,3})?"
        ) {
            let url = format!("postgres://{user}:{pw}@{host}{tail}");
            let shown = redact_url(&url);
            prop_assert!(!shown.contains(&format!(":{pw}@")), "{}", shown);
            prop_assert!(shown.ends_with(&format!("@{host}{tail}")), "{}", shown);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,60}") {
            let _ = redact_url(&s);
            let _ = replace_url_passwords(&s, |p| Some(p.len().to_string()));
        }
    }
}
