//! Node-set expressions as clush and pdsh users write them: `web[1-9]!web5`,
//! `@web&@prod`, `^hosts.txt`, `-`.
//!
//! An expression is operands joined by operators, read strictly from left to right with no
//! precedence, as ClusterShell's NodeSet reads its extended string patterns
//! (`a,b!c` is `(a ∪ b) ∖ c`):
//!
//! | operator | meaning |
//! |---|---|
//! | `,` | union |
//! | `!` | difference |
//! | `&` | intersection |
//! | `^` | symmetric difference (in one set or the other, not both) |
//!
//! An operand is `@group` (the host list's group), `^FILE` (pdsh: the hosts listed in FILE;
//! `^` at the start of an operand is never the operator), `-` (the hosts listed on standard
//! input), or `[user@]host[:port]` with ranges (`web[01-10/2]`). Operators inside brackets
//! belong to the range (`db[1,3]`, `[::1]:22`). What an operand stands for is the caller's
//! business ([`evaluate`] takes a resolver): this module only parses and does the algebra.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Union,
    Difference,
    Intersection,
    Xor,
}

impl Op {
    fn from_char(c: char) -> Option<Op> {
        match c {
            ',' => Some(Op::Union),
            '!' => Some(Op::Difference),
            '&' => Some(Op::Intersection),
            '^' => Some(Op::Xor),
            _ => None,
        }
    }

    fn symbol(self) -> char {
        match self {
            Op::Union => ',',
            Op::Difference => '!',
            Op::Intersection => '&',
            Op::Xor => '^',
        }
    }
}

/// One operand, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand<'a> {
    /// `@name`: the name without its `@`.
    Group(&'a str),
    /// `^path`: the path without its `^`.
    File(&'a str),
    /// `-`: standard input.
    Stdin,
    /// Anything else: a `[user@]host[:port]` spec, ranges allowed.
    Hosts(&'a str),
}

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Group(name) => write!(f, "@{name}"),
            Operand::File(path) => write!(f, "^{path}"),
            Operand::Stdin => f.write_str("-"),
            Operand::Hosts(spec) => f.write_str(spec),
        }
    }
}

/// An operand and the operator that joins it to what comes before (`Union` for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term<'a> {
    pub op: Op,
    pub operand: Operand<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{}", crate::lang::trf("`{op}` has nothing after it", &[("op", op)]))]
    MissingOperand { op: char },
    #[error("{}", crate::lang::trf("`{op}` has nothing before it", &[("op", op)]))]
    NothingBefore { op: char },
    #[error("{}", crate::lang::tr("`@` without a group name"))]
    EmptyGroup,
    #[error("{}", crate::lang::tr("`^` without a file name"))]
    EmptyFile,
}

/// Splits an expression into its terms. Empty operands after `,` are skipped (a stray comma,
/// as `-H a,b,` always allowed); after another operator they are an error.
pub fn parse(expr: &str) -> Result<Vec<Term<'_>>, ParseError> {
    let mut terms = Vec::new();
    let mut op = Op::Union;
    let mut rest = expr;
    loop {
        let (text, next) = split_operand(rest);
        let text = text.trim();
        if text.is_empty() {
            if op != Op::Union {
                return Err(ParseError::MissingOperand { op: op.symbol() });
            }
        } else {
            if terms.is_empty() && op != Op::Union {
                return Err(ParseError::NothingBefore { op: op.symbol() });
            }
            terms.push(Term {
                op,
                operand: operand(text)?,
            });
        }
        match next {
            Some((next_op, after)) => {
                if terms.is_empty() && next_op != Op::Union {
                    return Err(ParseError::NothingBefore {
                        op: next_op.symbol(),
                    });
                }
                op = next_op;
                rest = after;
            }
            None => return Ok(terms),
        }
    }
}

/// The operand at the start of `s`, and the operator after it with the rest. A `^` that
/// starts an operand names a file; operators inside brackets belong to a range.
fn split_operand(s: &str) -> (&str, Option<(Op, &str)>) {
    let mut depth = 0usize;
    let start = usize::from(s.trim_start().starts_with('^')) + (s.len() - s.trim_start().len());
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < start) {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                if let Some(op) = Op::from_char(c) {
                    return (&s[..i], Some((op, &s[i + c.len_utf8()..])));
                }
            }
            _ => {}
        }
    }
    (s, None)
}

fn operand(text: &str) -> Result<Operand<'_>, ParseError> {
    if text == "-" {
        return Ok(Operand::Stdin);
    }
    if let Some(name) = text.strip_prefix('@') {
        let name = name.trim();
        return if name.is_empty() {
            Err(ParseError::EmptyGroup)
        } else {
            Ok(Operand::Group(name))
        };
    }
    if let Some(path) = text.strip_prefix('^') {
        let path = path.trim();
        return if path.is_empty() {
            Err(ParseError::EmptyFile)
        } else {
            Ok(Operand::File(path))
        };
    }
    Ok(Operand::Hosts(text))
}

/// The words of a host file or of standard input for `^FILE` and `-`: whitespace separated,
/// `#` to the end of a line is a comment.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split_once('#').map_or(line, |(before, _)| before))
        .flat_map(str::split_whitespace)
}

/// Evaluates `terms` from left to right. `resolve` gives each operand's members; `same`
/// says when a member of the working set is one of an operand's (for `!`, `&`, `^`). A union
/// leaves out members already there, so the result holds each member once, in the order
/// first named.
pub fn evaluate<T: Clone, E>(
    terms: &[Term<'_>],
    mut resolve: impl FnMut(Operand<'_>) -> Result<Vec<T>, E>,
    same: impl Fn(&T, &T) -> bool,
) -> Result<Vec<T>, E> {
    let mut set: Vec<T> = Vec::new();
    for term in terms {
        let other = resolve(term.operand)?;
        let in_other = |x: &T| other.iter().any(|o| same(x, o));
        set = match term.op {
            Op::Union => {
                for item in other.iter() {
                    if !set.iter().any(|s| same(s, item)) {
                        set.push(item.clone());
                    }
                }
                set
            }
            Op::Difference => set.into_iter().filter(|x| !in_other(x)).collect(),
            Op::Intersection => set.into_iter().filter(|x| in_other(x)).collect(),
            Op::Xor => {
                let only_other: Vec<T> = other
                    .iter()
                    .filter(|o| !set.iter().any(|s| same(s, o)))
                    .cloned()
                    .collect();
                let mut kept: Vec<T> = set.into_iter().filter(|x| !in_other(x)).collect();
                kept.extend(only_other);
                kept
            }
        };
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates over plain names: `@a` is a..c, `@b` is b..d, files are their names' letters.
    fn eval(expr: &str) -> Result<String, String> {
        let terms = parse(expr).map_err(|e| e.to_string())?;
        let names = evaluate(
            &terms,
            |operand| -> Result<Vec<String>, String> {
                match operand {
                    Operand::Group("a") => Ok(vec!["a".into(), "b".into(), "c".into()]),
                    Operand::Group("b") => Ok(vec!["b".into(), "c".into(), "d".into()]),
                    Operand::Group(g) => Err(format!("no group {g}")),
                    Operand::File(path) => Ok(path.chars().map(String::from).collect()),
                    Operand::Stdin => Ok(vec!["stdin".into()]),
                    Operand::Hosts(spec) => crate::config::expand(spec).map_err(|e| e.to_string()),
                }
            },
            |a, b| a == b,
        )?;
        Ok(names.join(" "))
    }

    #[test]
    fn operators() {
        let table = [
            ("n[1-5]", "n1 n2 n3 n4 n5"),
            ("n[1-3],n[2-5]", "n1 n2 n3 n4 n5"),
            ("n[1-9]!n[2-8]", "n1 n9"),
            ("n[1-9]&n[6-12]", "n6 n7 n8 n9"),
            ("n[1-9]^n[6-11]", "n1 n2 n3 n4 n5 n10 n11"),
            ("@a&@b", "b c"),
            ("@a^@b", "a d"),
            ("@a!@b", "a"),
            ("@a,@b", "a b c d"),
            ("n[1-10/3]", "n1 n4 n7 n10"),
            ("db[1,3],x", "db1 db3 x"),
            ("a,b,", "a b"),
            ("a,,b", "a b"),
            (" a , b ", "a b"),
            ("-", "stdin"),
            ("^xy", "x y"),
            ("^xy^y", "x"),
            ("a!^ab", ""),
            ("a,^bc", "a b c"),
            // Duplicates are one member; the order is the order first named.
            ("b,a,b", "b a"),
        ];
        for (expr, want) in table {
            assert_eq!(eval(expr).as_deref(), Ok(want), "{expr}");
        }
    }

    /// Strictly left to right, as ClusterShell: no operator binds tighter than another.
    #[test]
    fn left_to_right_without_precedence() {
        let table = [
            // (n1..n5 ∪ n7) ∖ n[1-2] — not n1..n5 ∪ (n7 ∖ n[1-2]).
            ("n[1-5],n7!n[1-2]", "n3 n4 n5 n7"),
            // (n1..n5 ∖ n1) ∪ n1: the last union brings n1 back.
            ("n[1-5]!n1,n1", "n2 n3 n4 n5 n1"),
            // (n1..n3 ∪ n7) ∩ n[3-7] — not n1..n3 ∪ (n7 ∩ n[3-7]).
            ("n[1-3],n7&n[3-7]", "n3 n7"),
            // (n1..n4 ^ n3..n6) ∩ n[1-5]
            ("n[1-4]^n[3-6]&n[1-5]", "n1 n2 n5"),
            ("@a,@b!b&c", "c"),
        ];
        for (expr, want) in table {
            assert_eq!(eval(expr).as_deref(), Ok(want), "{expr}");
        }
    }

    #[test]
    fn bad_expressions() {
        let table = [
            ("a!", "`!` has nothing after it"),
            ("a&,b", "`&` has nothing after it"),
            ("!a", "`!` has nothing before it"),
            ("&a", "`&` has nothing before it"),
            ("@", "`@` without a group name"),
            ("a,@ ", "`@` without a group name"),
            ("^", "`^` without a file name"),
            ("@nope", "no group nope"),
        ];
        for (expr, want) in table {
            assert_eq!(eval(expr), Err(want.to_string()), "{expr}");
        }
    }

    #[test]
    fn operands_keep_users_ports_and_ipv6() {
        let terms = parse("root@web[1-3]:2222!root@web2:2222,[::1]:22&x").unwrap();
        let shown: Vec<String> = terms
            .iter()
            .map(|t| format!("{}{}", t.op.symbol(), t.operand))
            .collect();
        assert_eq!(
            shown,
            [",root@web[1-3]:2222", "!root@web2:2222", ",[::1]:22", "&x"]
        );
    }

    #[test]
    fn words_of_a_host_file() {
        let text = "# fleet\nweb1 web2\n\n  db[1-2]  # databases\n@ops\n";
        assert_eq!(
            words(text).collect::<Vec<_>>(),
            ["web1", "web2", "db[1-2]", "@ops"]
        );
    }
}
