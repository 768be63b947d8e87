//! OpenSSH's wildcard patterns (`match.c`), shared by `ssh_config` and
//! `known_hosts`.
//!
//! * [`match_pattern`]: `*` (any run, including empty) and `?` (exactly one
//!   symbol), OpenSSH's `match_pattern`, used for `Host` lines,
//!   `IgnoreUnknown` and `known_hosts` host fields;
//! * [`match_glob`]: the same plus glob(3) `[...]` classes (`!` or `^`
//!   negates, `a-z` ranges, a `]` right after the `[` is literal, an
//!   unterminated `[` is literal), used for `Include` file names;
//! * [`list_matches`]: OpenSSH's pattern-list rule, where a matching
//!   `!pattern` vetoes the whole list.
//!
//! Patterns and texts are slices of bytes (as OpenSSH does for
//! `known_hosts`) or of chars (so `?` covers one character of a non-ASCII
//! `ssh_config` alias). Matching is iterative with backtracking to the last
//! `*` only, so a hostile pattern like `*a*a*a*a*b` stays O(len * len)
//! instead of exponential, and it never allocates.

/// What patterns are made of: `u8` or `char`.
pub trait Symbol: Copy + Ord + From<u8> {}

impl Symbol for u8 {}
impl Symbol for char {}

/// OpenSSH `match_pattern`: `*` and `?` wildcards, everything else literal.
pub fn match_pattern<T: Symbol>(pattern: &[T], text: &[T]) -> bool {
    wildcard_match(pattern, text, false)
}

/// [`match_pattern`] plus glob(3) `[...]` character classes.
pub fn match_glob<T: Symbol>(pattern: &[T], text: &[T]) -> bool {
    wildcard_match(pattern, text, true)
}

/// OpenSSH's rule for a list of patterns: true when some positive pattern
/// matches and no negated one does. `hits` yields `(negated, matched)` for
/// each pattern in order; it is consumed lazily and stops at the first
/// matching negated pattern.
pub fn list_matches(hits: impl IntoIterator<Item = (bool, bool)>) -> bool {
    let mut positive = false;
    for (negated, hit) in hits {
        if hit {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// Splits a list entry into "negated?" and the pattern without its `!`.
pub fn split_negation(entry: &str) -> (bool, &str) {
    match entry.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, entry),
    }
}

enum Tok<'a, T> {
    Lit(T),
    Any,
    Star,
    /// `set` is the inside of `[...]` without the negation mark and the
    /// closing bracket.
    Class {
        negated: bool,
        set: &'a [T],
    },
}

fn sym<T: Symbol>(c: u8) -> T {
    T::from(c)
}

/// The token starting at `pattern[at]` and the index just after it.
fn token<T: Symbol>(pattern: &[T], at: usize, brackets: bool) -> Option<(Tok<'_, T>, usize)> {
    let c = *pattern.get(at)?;
    let tok = if c == sym(b'*') {
        Tok::Star
    } else if c == sym(b'?') {
        Tok::Any
    } else if brackets && c == sym(b'[') {
        match class(&pattern[at + 1..]) {
            Some((tok, used)) => return Some((tok, at + 1 + used)),
            None => Tok::Lit(c),
        }
    } else {
        Tok::Lit(c)
    };
    Some((tok, at + 1))
}

/// Parses the inside of `[...]`; returns the token and how many symbols it
/// used, or `None` if there is no closing bracket (then `[` is literal).
fn class<T: Symbol>(chars: &[T]) -> Option<(Tok<'_, T>, usize)> {
    let negated = chars
        .first()
        .is_some_and(|&c| c == sym(b'!') || c == sym(b'^'));
    let start = usize::from(negated);
    let mut i = start;
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == sym(b']') && !first {
            let tok = Tok::Class {
                negated,
                set: &chars[start..i],
            };
            return Some((tok, i + 1));
        }
        first = false;
        i += if is_range(chars, i) { 3 } else { 1 };
    }
}

/// Whether `set[i]` starts an `a-z` range: a `-` follows, then anything but
/// the closing bracket.
fn is_range<T: Symbol>(set: &[T], i: usize) -> bool {
    set.get(i + 1) == Some(&sym(b'-')) && set.get(i + 2).is_some_and(|&e| e != sym(b']'))
}

fn class_matches<T: Symbol>(set: &[T], c: T) -> bool {
    let mut i = 0;
    while let Some(&lo) = set.get(i) {
        let hi = if is_range(set, i) {
            i += 3;
            set[i - 1]
        } else {
            i += 1;
            lo
        };
        if lo <= c && c <= hi {
            return true;
        }
    }
    false
}

fn tok_matches<T: Symbol>(tok: &Tok<'_, T>, c: T) -> bool {
    match tok {
        Tok::Lit(l) => *l == c,
        Tok::Any => true,
        Tok::Star => false,
        Tok::Class { negated, set } => class_matches(set, c) != *negated,
    }
}

fn wildcard_match<T: Symbol>(pattern: &[T], text: &[T], brackets: bool) -> bool {
    // Pattern and text positions to resume from after the last `*`.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match token(pattern, p, brackets) {
            Some((Tok::Star, next)) => {
                star = Some((next, t));
                p = next;
            }
            Some((tok, next)) if tok_matches(&tok, text[t]) => {
                p = next;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    // Only stars may be left.
    while let Some((tok, next)) = token(pattern, p, brackets) {
        if !matches!(tok, Tok::Star) {
            return false;
        }
        p = next;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    /// `brackets` picks [`match_glob`] over [`match_pattern`], on chars.
    fn wildcard_match(pattern: &str, text: &str, brackets: bool) -> bool {
        let (pattern, text) = (chars(pattern), chars(text));
        if brackets {
            match_glob(&pattern, &text)
        } else {
            match_pattern(&pattern, &text)
        }
    }

    /// On bytes, as `known_hosts` matches.
    fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
        match_pattern(pattern, text)
    }

    #[test]
    fn wildcards_and_classes() {
        assert!(wildcard_match("*.a*b?", "x.aaab1", false));
        assert!(!wildcard_match("*.a*b?", "x.aaab", false));
        assert!(wildcard_match("", "", false));
        assert!(wildcard_match("**", "", false));
        assert!(wildcard_match("[0-9]*.conf", "10-a.conf", true));
        assert!(!wildcard_match("[!0-9]*", "1x", true));
        assert!(wildcard_match("[", "[", true));
        assert!(wildcard_match("[]]", "]", true));
    }

    #[test]
    fn classes_only_with_brackets() {
        assert!(!wildcard_match("[0-9]", "1", false));
        assert!(wildcard_match("[0-9]", "[0-9]", false));
        assert!(wildcard_match("[^a]", "b", true));
        assert!(wildcard_match("[a-]x", "-x", true));
        assert!(wildcard_match("[]-a]", "_", true));
        assert!(wildcard_match("é?", "éü", false));
        assert!(!glob_match("é?".as_bytes(), "éü".as_bytes()));
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob_match(b"", b""));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"**a", b"a"));
        assert!(glob_match(b"a*b*c", b"axxbyyc"));
        assert!(!glob_match(b"a*b*c", b"axxbyy"));
        assert!(glob_match(b"*a*a*a*a*b", b"aaaaaaaaaaab"));
        assert!(!glob_match(b"*a*a*a*a*b", &[b'a'; 5000]));
        assert!(!glob_match(b"?", b""));
    }

    #[test]
    fn lists_and_negation() {
        assert!(list_matches([(false, true)]));
        assert!(!list_matches([(false, false)]));
        assert!(!list_matches([(false, true), (true, true)]));
        assert!(list_matches([(false, true), (true, false)]));
        // Negations alone never match.
        assert!(!list_matches([(true, false)]));
        assert!(!list_matches(std::iter::empty()));
        assert_eq!(split_negation("!a*"), (true, "a*"));
        assert_eq!(split_negation("a*"), (false, "a*"));
    }
}
