//! One glob matcher for paths made of segments: URL paths (`/api/*/orders/**`), JSON pointers
//! (`/users/*/email`, `**/request_id`, RFC 6901 escapes), relative file paths (`k8s/*.yaml`) and
//! any path a caller cuts into segments itself (the rules crate's tree paths).
//!
//! In every syntax `*` as a whole segment is any one segment, `**` any number of segments (none
//! included), and a segment with `*` inside (`v*`, `*.json`) matches within one segment; `**`
//! inside a segment matches any run of characters of it. A compiled [`Glob`] is a small NFA whose
//! states ("the first j segments matched") are the bits of a [`State`], so a walker over a tree
//! (mask's JSON masker) can [`Glob::step`] it one key or index at a time without building paths,
//! and [`Glob::matches`] is the same machine run over a whole path.

/// The most segments a glob may have (the NFA's states are the bits of a `u64`).
pub const MAX_SEGMENTS: usize = 63;

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    /// The empty pattern: almost always a mistake, so it is refused rather than matching nothing.
    #[error("an empty pattern matches nothing; use `**` to match everything")]
    Empty,
    /// A URL path or JSON-pointer pattern that does not start at the root.
    #[error("`{pattern}` must start with `/` (or `**`)")]
    NotRooted {
        /// The pattern as written.
        pattern: String,
    },
    /// A `~` in a JSON pointer that is not `~0` or `~1`.
    #[error("`{pattern}`: `~` must be followed by 0 (for ~) or 1 (for /)")]
    BadEscape {
        /// The pattern as written.
        pattern: String,
    },
    /// More than [`MAX_SEGMENTS`] segments.
    #[error("`{pattern}` has {count} segments; at most {MAX_SEGMENTS}")]
    TooManySegments {
        /// The pattern as written.
        pattern: String,
        /// How many it has.
        count: usize,
    },
}

/// How the segments of a pattern written by the caller are read: which characters `*` and `?`
/// never match, and whether `?` is a wildcard at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSyntax {
    /// `?` matches one character (else it is literal).
    pub question_mark: bool,
    /// Characters a `*` or `?` never matches. When not empty, a whole-segment `*` is read like
    /// any other wildcard segment, so it too refuses a segment holding one of them.
    pub star_stops_at: &'static [char],
}

impl SegmentSyntax {
    /// `*` matches anything within a segment; `?` is literal.
    pub const PLAIN: SegmentSyntax = SegmentSyntax {
        question_mark: false,
        star_stops_at: &[],
    };
}

/// How a path of text is cut into segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// `/`-separated, empty segments dropped (`/a//b/` is `a`, `b`).
    Slash,
    /// RFC 6901: `/`-separated after the leading `/`, empty segments kept, `~1` and `~0`
    /// unescaped.
    Pointer,
    /// Cut by the caller (only [`Glob::matches_segments`] and stepping apply).
    Caller,
}

/// One step down a tree, for [`Glob::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// An object member.
    Key(&'a str),
    /// An array item.
    Index(usize),
}

/// A set of NFA states: bit `j` set means "the first `j` segments matched".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State(u64);

impl State {
    /// No state: nothing below can match.
    pub const DEAD: State = State(0);

    /// Whether nothing below this point can match.
    pub fn is_dead(self) -> bool {
        self.0 == 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit {
        text: String,
        /// The array index the literal also names (`"3"` → 3, `"03"` → 3).
        index: Option<usize>,
    },
    Wild(Wildcard),
    Any,
    AnyDepth,
}

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    segs: Vec<Seg>,
    split: Split,
}

impl Glob {
    /// A URL path pattern (shadow's routes): must start with `/` or `**`; empty segments are
    /// ignored; a pattern without `*` that ends in `/` is a prefix (`/api/` matches `/api` and
    /// everything below it).
    pub fn url_path(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        if !pattern.starts_with('/') && !pattern.starts_with("**") {
            return Err(not_rooted(pattern));
        }
        let prefix = !pattern.contains('*') && pattern.ends_with('/');
        let mut segs = slash_segments(pattern)
            .map(|s| Seg::parse(s, s, SegmentSyntax::PLAIN))
            .collect::<Vec<_>>();
        if prefix {
            segs.push(Seg::AnyDepth);
        }
        Glob::new(pattern, segs, Split::Slash)
    }

    /// A JSON-pointer glob (RFC 6901; mask's rules and keeps, shadow's ignore rules): `""` is the
    /// root, else it starts with `/` (or `**`, short for `/**`); empty segments are keys named
    /// `""`; `~1` is `/` and `~0` is `~`. A literal segment also names the array index it spells.
    pub fn pointer(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Glob::new(pattern, Vec::new(), Split::Pointer);
        }
        let body = match pattern.strip_prefix('/') {
            Some(rest) => rest,
            None if pattern.starts_with("**") => pattern,
            None => return Err(not_rooted(pattern)),
        };
        let mut segs = Vec::new();
        for raw in body.split('/') {
            if raw.contains('~') && !valid_escapes(raw) {
                return Err(GlobError::BadEscape {
                    pattern: pattern.to_owned(),
                });
            }
            segs.push(Seg::parse(raw, &unescape(raw), SegmentSyntax::PLAIN));
        }
        Glob::new(pattern, segs, Split::Pointer)
    }

    /// A relative file path pattern (`k8s/*.yaml`, `**/values.yaml`): `/`-separated, empty
    /// segments ignored, `?` one character.
    pub fn file(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        let syntax = SegmentSyntax {
            question_mark: true,
            star_stops_at: &[],
        };
        let segs = slash_segments(pattern)
            .map(|s| Seg::parse(s, s, syntax))
            .collect();
        Glob::new(pattern, segs, Split::Slash)
    }

    /// A glob of segments the caller cut out of `pattern` itself; match it with
    /// [`Glob::matches_segments`] or step it.
    pub fn from_segments<'a>(
        pattern: &str,
        segments: impl IntoIterator<Item = &'a str>,
        syntax: SegmentSyntax,
    ) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        let segs = segments
            .into_iter()
            .map(|s| Seg::parse(s, s, syntax))
            .collect();
        Glob::new(pattern, segs, Split::Caller)
    }

    fn new(pattern: &str, segs: Vec<Seg>, split: Split) -> Result<Glob, GlobError> {
        if segs.len() > MAX_SEGMENTS {
            return Err(GlobError::TooManySegments {
                pattern: pattern.to_owned(),
                count: segs.len(),
            });
        }
        Ok(Glob {
            text: pattern.to_owned(),
            segs,
            split,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `path` matches, cut into segments the way this glob's syntax cuts
    /// its pattern (for [`Glob::from_segments`], the whole text is one segment).
    pub fn matches(&self, path: &str) -> bool {
        match self.split {
            Split::Slash => self.matches_segments(slash_segments(path)),
            Split::Pointer => {
                let body = path.strip_prefix('/');
                match body {
                    None if path.is_empty() => self.accepts(self.start()),
                    None => self.run(path.split('/').map(unescape)),
                    Some(body) => self.run(body.split('/').map(unescape)),
                }
            }
            Split::Caller => self.matches_segments([path]),
        }
    }

    /// Whether the path made of `segments` matches.
    pub fn matches_segments<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> bool {
        let mut s = self.start();
        for seg in segments {
            s = self.step(s, Step::Key(seg));
            if s.is_dead() {
                return false;
            }
        }
        self.accepts(s)
    }

    fn run<S: AsRef<str>>(&self, segments: impl Iterator<Item = S>) -> bool {
        let mut s = self.start();
        for seg in segments {
            s = self.step(s, Step::Key(seg.as_ref()));
            if s.is_dead() {
                return false;
            }
        }
        self.accepts(s)
    }

    /// The state before any segment: the root.
    pub fn start(&self) -> State {
        self.closure(1)
    }

    /// The state after going one step down from `s`.
    pub fn step(&self, s: State, step: Step<'_>) -> State {
        let mut next = 0u64;
        for (j, seg) in self.segs.iter().enumerate() {
            if s.0 & (1 << j) == 0 {
                continue;
            }
            let advance = match seg {
                Seg::AnyDepth => {
                    next |= 1 << j;
                    false
                }
                Seg::Any => true,
                Seg::Lit { text, index } => match step {
                    Step::Key(k) => text == k,
                    Step::Index(i) => *index == Some(i),
                },
                Seg::Wild(w) => match step {
                    Step::Key(k) => w.matches(k),
                    Step::Index(i) => w.matches(&i.to_string()),
                },
            };
            if advance {
                next |= 1 << (j + 1);
            }
        }
        self.closure(next)
    }

    /// Whether the path stepped so far matches.
    pub fn accepts(&self, s: State) -> bool {
        s.0 & (1 << self.segs.len()) != 0
    }

    /// Adds the states `**` reaches without consuming a segment.
    fn closure(&self, mut s: u64) -> State {
        for (j, seg) in self.segs.iter().enumerate() {
            if s & (1 << j) != 0 && *seg == Seg::AnyDepth {
                s |= 1 << (j + 1);
            }
        }
        State(s)
    }
}

impl Seg {
    /// `raw` decides the kind (`*`, `**`); `text` (unescaped) is what literals compare.
    fn parse(raw: &str, text: &str, syntax: SegmentSyntax) -> Seg {
        let wild = raw.contains('*') || (syntax.question_mark && raw.contains('?'));
        match raw {
            "**" => Seg::AnyDepth,
            "*" if syntax.star_stops_at.is_empty() => Seg::Any,
            _ if wild => Seg::Wild(Wildcard::new(text, syntax)),
            _ => Seg::Lit {
                text: text.to_owned(),
                index: text.parse().ok(),
            },
        }
    }
}

fn slash_segments(p: &str) -> impl Iterator<Item = &str> {
    p.split('/').filter(|s| !s.is_empty())
}

fn not_rooted(pattern: &str) -> GlobError {
    GlobError::NotRooted {
        pattern: pattern.to_owned(),
    }
}

fn valid_escapes(raw: &str) -> bool {
    raw.match_indices('~')
        .all(|(i, _)| matches!(raw.as_bytes().get(i + 1), Some(b'0' | b'1')))
}

/// RFC 6901 unescaping: `~1` → `/`, then `~0` → `~`.
fn unescape(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('~') {
        std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    /// `*`: any run of characters but the syntax's stops.
    Star,
    /// `**` within a segment: any run of characters.
    AnyRun,
    /// `?`: one character but the syntax's stops.
    One,
}

/// A pattern for one segment (or one whole text): `*` any run of characters, `**` any run even
/// across [`SegmentSyntax::star_stops_at`], `?` one character when the syntax says so, anything
/// else literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    toks: Vec<Tok>,
    stops: &'static [char],
}

impl Wildcard {
    /// Compiles `pattern`.
    pub fn new(pattern: &str, syntax: SegmentSyntax) -> Wildcard {
        let mut toks = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            toks.push(match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    Tok::AnyRun
                }
                '*' => Tok::Star,
                '?' if syntax.question_mark => Tok::One,
                c => Tok::Char(c),
            });
        }
        Wildcard {
            toks,
            stops: syntax.star_stops_at,
        }
    }

    /// Whether the whole of `text` matches: one pass per pattern token over the reachable text
    /// positions, so no pattern takes more than len(pattern) × len(text) steps.
    pub fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let mut cur = vec![false; n + 1];
        cur[0] = true;
        let mut next = vec![false; n + 1];
        for tok in &self.toks {
            next.fill(false);
            match *tok {
                Tok::Char(c) => {
                    for i in 0..n {
                        next[i + 1] = cur[i] && chars[i] == c;
                    }
                }
                Tok::One => {
                    for i in 0..n {
                        next[i + 1] = cur[i] && !self.stops.contains(&chars[i]);
                    }
                }
                Tok::Star | Tok::AnyRun => {
                    let stops: &[char] = if *tok == Tok::Star { self.stops } else { &[] };
                    next[0] = cur[0];
                    for i in 1..=n {
                        next[i] = cur[i] || (next[i - 1] && !stops.contains(&chars[i - 1]));
                    }
                }
            }
            std::mem::swap(&mut cur, &mut next);
            if !cur.contains(&true) {
                return false;
            }
        }
        cur[n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(p: &str, path: &str) -> bool {
        Glob::url_path(p).unwrap().matches(path)
    }

    #[test]
    fn url_path_globs_and_prefixes() {
        assert!(route("/api/", "/api/items"));
        assert!(route("/api/", "/api"));
        assert!(!route("/api/", "/apis"));
        assert!(route("/api/*/orders/**", "/api/v2/orders"));
        assert!(route("/api/*/orders/**", "/api/v2/orders/1/lines"));
        assert!(!route("/api/*/orders/**", "/api/orders"));
        assert!(route("**/request_id", "/request_id"));
        assert!(route("**/request_id", "/a/0/request_id"));
        assert!(!route("**/request_id", "/a/request_ids"));
        assert!(route("/meta/**", "/meta"));
        assert!(route("/items/*/price", "/items/0/price"));
        assert!(route("/files/*.json", "/files/a.json"));
        assert!(!route("/files/*.json", "/files/a.jsonx"));
        assert!(route("/api/v*/x", "/api/v2/x"));
        assert!(route("/exact", "/exact"));
        assert!(!route("/exact", "/exact/more"));
        assert!(route("/a?b", "/a?b") && !route("/a?b", "/axb"));
        assert_eq!(Glob::url_path("api"), Err(not_rooted("api")));
        assert_eq!(Glob::url_path(""), Err(GlobError::Empty));
    }

    #[test]
    fn pointer_globs_step_by_key_and_index() {
        let g = Glob::pointer("/users/*/email").unwrap();
        let mut s = g.start();
        s = g.step(s, Step::Key("users"));
        s = g.step(s, Step::Index(3));
        assert!(!g.accepts(s));
        s = g.step(s, Step::Key("email"));
        assert!(g.accepts(s));

        let deep = Glob::pointer("/**/card").unwrap();
        let mut s = deep.start();
        for k in ["a", "b", "c"] {
            s = deep.step(s, Step::Key(k));
            assert!(!deep.accepts(s));
        }
        assert!(deep.accepts(deep.step(s, Step::Key("card"))));
        assert!(deep.accepts(deep.step(deep.start(), Step::Key("card"))));

        let idx = Glob::pointer("/items/01").unwrap();
        let s = idx.step(idx.start(), Step::Key("items"));
        assert!(idx.accepts(idx.step(s, Step::Index(1))));
        assert!(!idx.accepts(idx.step(s, Step::Key("1"))));

        let partial = Glob::pointer("/v*").unwrap();
        assert!(partial.accepts(partial.step(partial.start(), Step::Key("v2"))));
        assert!(!partial.accepts(partial.step(partial.start(), Step::Index(2))));

        assert!(
            Glob::pointer("")
                .unwrap()
                .accepts(Glob::pointer("").unwrap().start())
        );
        assert!(Glob::pointer("/**").unwrap().matches(""));
        let g = Glob::pointer("**/request_id").unwrap();
        assert!(g.matches("/a/0/request_id") && g.matches("/request_id"));
        let x = Glob::pointer("/x").unwrap();
        assert!(x.step(x.start(), Step::Key("y")).is_dead());
    }

    #[test]
    fn pointer_escapes_and_errors() {
        let esc = Glob::pointer("/a~1b/c~0d").unwrap();
        assert_eq!(
            esc.segs,
            vec![
                Seg::Lit {
                    text: "a/b".into(),
                    index: None
                },
                Seg::Lit {
                    text: "c~d".into(),
                    index: None
                }
            ]
        );
        assert!(esc.matches("/a~1b/c~0d"));
        assert!(!esc.matches("/a/b/c~d"));
        assert!(Glob::pointer("/a//b").unwrap().matches("/a//b"));
        assert!(!Glob::pointer("/a//b").unwrap().matches("/a/b"));
        assert!(matches!(
            Glob::pointer("no-slash"),
            Err(GlobError::NotRooted { .. })
        ));
        assert!(matches!(
            Glob::pointer("/bad~2"),
            Err(GlobError::BadEscape { .. })
        ));
        let long = "/a".repeat(64);
        assert!(matches!(
            Glob::pointer(&long),
            Err(GlobError::TooManySegments { count: 64, .. })
        ));
    }

    #[test]
    fn file_globs() {
        let g = Glob::file("k8s/*.yaml").unwrap();
        assert!(g.matches("k8s/web.yaml"));
        assert!(!g.matches("k8s/sub/web.yaml"));
        assert!(Glob::file("**/*.yaml").unwrap().matches("k8s/sub/web.yaml"));
        assert!(Glob::file("**/*.yaml").unwrap().matches("web.yaml"));
        assert!(Glob::file("a?.txt").unwrap().matches("ab.txt"));
        assert!(Glob::file("templates/**").unwrap().matches("templates"));
    }

    #[test]
    fn wildcards_with_stops() {
        let syntax = SegmentSyntax {
            question_mark: true,
            star_stops_at: &['.', '['],
        };
        assert!(Wildcard::new("DB_*", syntax).matches("DB_HOST"));
        assert!(!Wildcard::new("DB_*", syntax).matches("DB_a.b"));
        assert!(Wildcard::new("[**]", syntax).matches("[name=my.app]"));
        assert!(!Wildcard::new("*", syntax).matches("[0]"));
        assert!(Wildcard::new("a*b*c", SegmentSyntax::PLAIN).matches("a-b-b-c"));
        assert!(!Wildcard::new("a*b*c", SegmentSyntax::PLAIN).matches("a-c-b"));
        let g = Glob::from_segments("metadata.*", ["metadata", "*"], syntax).unwrap();
        assert!(g.matches_segments(["metadata", "labels"]));
        assert!(!g.matches_segments(["metadata", "[0]"]));
    }
}
