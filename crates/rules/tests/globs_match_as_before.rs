//! Tree, file and object globs once compiled to regular expressions; they now run on
//! `prodlike_common::glob`. On every pattern of the documented shapes — keys, `*`, `?`, `**` as a
//! whole segment, `[*]`, items with `*` inside — and every path built from the same parts, the
//! new matcher answers as the regular expressions did.
#![allow(clippy::panic)] // test helpers: a failure here is a test failure
use prodlike_rules::Glob;
use proptest::prelude::*;
use regex::Regex;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Tree,
    File,
    Object,
}

fn old(pattern: &str, flavor: Flavor, text: &str) -> bool {
    match Regex::new(&format!("^{}$", glob_regex(pattern, flavor))) {
        Ok(re) => re.is_match(text),
        Err(e) => panic!("{pattern}: {e}"),
    }
}

fn glob_regex(pattern: &str, flavor: Flavor) -> String {
    let (one, sep) = match flavor {
        Flavor::Tree => (r"[^.\[]", "."),
        Flavor::File => ("[^/]", "/"),
        Flavor::Object => (".", "/"),
    };
    let chars: Vec<char> = pattern.chars().collect();
    let sep_char = sep.chars().next().unwrap_or('.');
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_start = i == 0;
        let prev_sep = i > 0 && chars[i - 1] == sep_char;
        if c == '*' && chars.get(i + 1) == Some(&'*') {
            let next = chars.get(i + 2).copied();
            let starts_segment = at_start || prev_sep;
            if starts_segment && next == Some(sep_char) {
                // `**.` (or `a.**.`): any number of leading segments, including none.
                if prev_sep {
                    // `a.**.b`: the separator before `**` is optional along with the segments.
                    out.truncate(out.len() - regex::escape(sep).len());
                    out.push_str(&format!(
                        "(?:(?:{}|\\[).*)?{}",
                        regex::escape(sep),
                        regex::escape(sep)
                    ));
                } else {
                    out.push_str(&format!("(?:.*{})?", regex::escape(sep)));
                }
                i += 3;
                continue;
            }
            if prev_sep && next.is_none() {
                // `a.**`: `a` itself and everything below it.
                out.truncate(out.len() - regex::escape(sep).len());
                out.push_str(&format!("(?:(?:{}|\\[).*)?", regex::escape(sep)));
                i += 2;
                continue;
            }
            out.push_str(".*");
            i += 2;
            continue;
        }
        if flavor == Flavor::Tree
            && c == '['
            && chars.get(i + 1) == Some(&'*')
            && chars.get(i + 2) == Some(&']')
        {
            out.push_str(r"\[[^\]]*\]");
            i += 3;
            continue;
        }
        match c {
            '*' => out.push_str(&format!("{one}*")),
            '?' => out.push_str(one),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    out
}

fn tree_pattern() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["a", "b", "ab", "*", "a*", "*b", "?", "a?", "**"]);
    let item = prop::sample::select(vec!["", "", "[*]", "[0]", "[name=a*]", "[name=ab]"]);
    prop::collection::vec((key, item), 1..5).prop_map(|parts| {
        parts
            .iter()
            .map(|(k, i)| format!("{k}{i}"))
            .collect::<Vec<_>>()
            .join(".")
    })
}

fn tree_path() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["a", "b", "ab", "abb", "x"]);
    let item = prop::sample::select(vec!["", "", "[0]", "[name=ab]", "[name=a.b]", "[name=x]"]);
    prop::collection::vec((key, item), 1..6).prop_map(|parts| {
        parts
            .iter()
            .map(|(k, i)| format!("{k}{i}"))
            .collect::<Vec<_>>()
            .join(".")
    })
}

fn file_pattern() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec!["a", "b.yaml", "*", "*.yaml", "a?", "**"]);
    prop::collection::vec(seg, 1..5).prop_map(|s| s.join("/"))
}

fn file_path() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec!["a", "ab", "b.yaml", "c.yaml", "x"]);
    prop::collection::vec(seg, 1..5).prop_map(|s| s.join("/"))
}

fn object_pattern() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec![
        "Deployment",
        "shop",
        "web",
        "*",
        "w?b",
        "table public.*",
        "**",
    ]);
    prop::collection::vec(seg, 1..4).prop_map(|s| s.join("/"))
}

fn object_name() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec!["Deployment", "shop", "web", "table public.orders"]);
    prop::collection::vec(seg, 1..4).prop_map(|s| s.join("/"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn tree_globs(pattern in tree_pattern(), path in tree_path()) {
        // The regular expressions gave `**` its any-depth meaning only next to `.` (`**[*]`
        // needed a key before the item) and lost it in `**.**`: those two shapes now read as
        // documented (`**` any run of keys and items, none included), so they are left out.
        prop_assume!(!pattern.contains("**[") && !pattern.contains("**.**"));
        // `**.` could also end inside an item's value (`**.*` matched `a[name=a.b]` through
        // the dot of `a.b`); items are now whole segments, so such paths are left out too.
        prop_assume!(!(pattern.contains("**") && path.contains("a.b]")));
        let new = Glob::path(&pattern).unwrap().matches(&path);
        prop_assert_eq!(new, old(&pattern, Flavor::Tree, &path), "{} ~ {}", pattern, path);
    }

    #[test]
    fn file_globs(pattern in file_pattern(), path in file_path()) {
        // The regular expression of `**/**` lost its optional group (an old bug): left out.
        prop_assume!(!pattern.contains("**/**"));
        let new = Glob::file(&pattern).unwrap().matches(&path);
        prop_assert_eq!(new, old(&pattern, Flavor::File, &path), "{} ~ {}", pattern, path);
    }

    #[test]
    fn object_globs(pattern in object_pattern(), name in object_name()) {
        prop_assume!(!pattern.contains("**/**"));
        let new = Glob::object(&pattern).unwrap().matches(&name);
        prop_assert_eq!(new, old(&pattern, Flavor::Object, &name), "{} ~ {}", pattern, name);
    }
}
