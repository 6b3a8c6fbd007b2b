//! String shapes: letters, digits and separators with runs collapsed, so `Ann Lee` and
//! `Bob Smith` share the shape `Aa+ Aa+` and `SW1 2AB` has `A+9 9A+`. Shapes keep formats
//! without keeping values.

/// The shape of `s` (at most 40 characters of it).
pub fn shape(s: &str) -> String {
    let mut out = String::new();
    let mut last: Option<char> = None;
    let mut run = 0usize;
    for c in s.chars().take(40) {
        let class = if c.is_uppercase() {
            'A'
        } else if c.is_alphabetic() {
            'a'
        } else if c.is_ascii_digit() {
            '9'
        } else if c.is_whitespace() {
            ' '
        } else {
            c
        };
        let collapsible = matches!(class, 'A' | 'a' | '9');
        if Some(class) == last && collapsible {
            run += 1;
            if run == 2 {
                out.push('+');
            }
            continue;
        }
        out.push(class);
        last = Some(class);
        run = 1;
    }
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// A random string of shape `shape` (`+` runs get 1–7 extra characters).
pub fn fill(shape: &str, rng: &mut fastrand::Rng) -> String {
    let mut out = String::with_capacity(shape.len() * 3);
    let mut prev: Option<char> = None;
    for c in shape.chars() {
        match c {
            '+' => {
                if let Some(p) = prev {
                    for _ in 0..rng.usize(1..8) {
                        out.push(random_of(p, rng));
                    }
                }
            }
            '…' => {}
            other => {
                out.push(random_of(other, rng));
                prev = Some(other);
            }
        }
    }
    out
}

fn random_of(class: char, rng: &mut fastrand::Rng) -> char {
    match class {
        'A' => rng.uppercase(),
        'a' => rng.lowercase(),
        '9' => rng.digit(10),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes_collapse_runs() {
        assert_eq!(shape("Ann Lee"), "Aa+ Aa+");
        assert_eq!(shape("SW1 2AB"), "A+9 9A+");
        assert_eq!(shape("ann.lee42@x.org"), "a+.a+9+@a.a+");
    }

    proptest! {
        #[test]
        fn filled_shapes_have_the_shape(s in "[A-Za-z0-9 .@-]{0,30}", seed in any::<u64>()) {
            let sh = shape(&s);
            let mut rng = fastrand::Rng::with_seed(seed);
            let filled = fill(&sh, &mut rng);
            // Shapes describe the first 40 characters; longer fills are cut there.
            prop_assume!(filled.chars().count() <= 40);
            prop_assert_eq!(shape(&filled), sh);
        }
    }
}
