//! Printing an error with its causes. Library errors name their cause once, as a typed
//! `#[source]` (DEVELOPERS.md, "Errors"), so an error's own `Display` is only its top layer.
//! Wherever an error is turned into text without going through anyhow's `{:#}` (a log line, a
//! reason kept in a report, a test message), print it with [`chain`] so no layer is lost and
//! none appears twice.
use std::error::Error;
use std::fmt;

/// Displays `error` and each of its sources, joined by `": "`, the way anyhow's `{:#}` does.
pub fn chain<'a>(error: &'a (dyn Error + 'static)) -> Chain<'a> {
    Chain(error)
}

/// See [`chain`].
pub struct Chain<'a>(&'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        let mut last = self.0.to_string();
        while let Some(s) = source {
            let text = s.to_string();
            // A wrapper that still repeats its cause (a foreign error type, say) would print
            // the same words twice; skip a layer whose text the previous layer already ends with.
            if !last.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            source = s.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {path}")]
    struct Outer {
        path: String,
        #[source]
        source: Middle,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("parsing the header")]
    struct Middle {
        #[source]
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("opening: {source}")]
    struct Repeating {
        source: std::io::Error,
    }

    #[test]
    fn prints_every_layer_once() {
        let e = Outer {
            path: "a.json".into(),
            source: Middle {
                source: std::io::Error::other("unexpected end of file"),
            },
        };
        assert_eq!(
            chain(&e).to_string(),
            "reading a.json: parsing the header: unexpected end of file"
        );
    }

    #[test]
    fn a_layer_that_repeats_its_cause_is_not_printed_twice() {
        let e = Repeating {
            source: std::io::Error::other("denied"),
        };
        assert_eq!(chain(&e).to_string(), "opening: denied");
    }
}
