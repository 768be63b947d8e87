//! Hosts that differ on purpose (`mtssh mock --differ SPEC`): some practice hosts add a
//! line of their own to every command's output and exit with another status, so the
//! results view, select-by-result and tests have something to find.

use std::fmt;
use std::str::FromStr;

/// What a differing host does after each command: print `text` on a line of its own and
/// end with `status` instead of the command's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub status: u32,
    pub text: String,
}

/// One `--differ` rule: host numbers (1-based, as in `mock-03`) and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DifferRule {
    /// Inclusive ranges of host numbers.
    pub hosts: Vec<(usize, usize)>,
    pub difference: Difference,
}

/// Status of a differing host when the spec does not name one.
pub const DEFAULT_STATUS: u32 = 1;
/// The added line when the spec does not name one.
pub const DEFAULT_TEXT: &str = "differs on purpose";
/// Longest added text: it is printed after every command.
const MAX_TEXT: usize = 256;

impl DifferRule {
    pub fn covers(&self, index: usize) -> bool {
        let number = index + 1;
        self.hosts.iter().any(|&(a, b)| (a..=b).contains(&number))
    }
}

/// The difference of host `index` (0-based): the last rule covering it wins.
pub fn difference_for(rules: &[DifferRule], index: usize) -> Option<Difference> {
    rules
        .iter()
        .rev()
        .find(|r| r.covers(index))
        .map(|r| r.difference.clone())
}

impl FromStr for DifferRule {
    type Err = String;

    /// `HOSTS[:STATUS[:TEXT]]`, HOSTS a comma list of numbers and ranges (`3,18-20`).
    fn from_str(spec: &str) -> Result<DifferRule, String> {
        let mut parts = spec.splitn(3, ':');
        let hosts = parse_hosts(parts.next().unwrap_or_default()).map_err(|e| {
            format!("--differ '{spec}': {e}; expected HOSTS[:STATUS[:TEXT]], e.g. 18-20:1")
        })?;
        let status = match parts.next() {
            None | Some("") => DEFAULT_STATUS,
            Some(s) => s.trim().parse::<u8>().map(u32::from).map_err(|_| {
                format!("--differ '{spec}': status '{s}' is not a number from 0 to 255")
            })?,
        };
        let text = match parts.next() {
            None => DEFAULT_TEXT.to_string(),
            Some(t) if t.len() > MAX_TEXT || t.chars().any(char::is_control) => {
                return Err(format!(
                    "--differ '{spec}': the text must be one line of at most {MAX_TEXT} bytes"
                ));
            }
            Some(t) => t.to_string(),
        };
        Ok(DifferRule {
            hosts,
            difference: Difference { status, text },
        })
    }
}

fn parse_hosts(text: &str) -> Result<Vec<(usize, usize)>, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("'{s}' is not a host number (1 is mock-01)"))
    };
    let ranges = text
        .split(',')
        .map(|item| match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(format!("range '{item}' runs backwards"));
                }
                Ok((a, b))
            }
            None => number(item).map(|n| (n, n)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ranges)
}

impl fmt::Display for DifferRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        let d = &self.difference;
        write!(f, "{}:{}:{}", hosts.join(","), d.status, d.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_status_and_text() {
        let rule: DifferRule = "3,18-20:2:other text".parse().unwrap();
        assert_eq!(rule.hosts, vec![(3, 3), (18, 20)]);
        assert_eq!(rule.difference.status, 2);
        assert_eq!(rule.difference.text, "other text");
        assert!(rule.covers(2) && rule.covers(19) && !rule.covers(3));
        assert_eq!(rule.to_string(), "3,18-20:2:other text");
    }

    #[test]
    fn defaults_and_last_rule_wins() {
        let rules: Vec<DifferRule> = ["1-4", "2:0:zero"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            difference_for(&rules, 0),
            Some(Difference {
                status: DEFAULT_STATUS,
                text: DEFAULT_TEXT.into()
            })
        );
        assert_eq!(difference_for(&rules, 1).map(|d| d.status), Some(0));
        assert_eq!(difference_for(&rules, 4), None);
    }

    #[test]
    fn bad_specs_say_what_to_write() {
        for bad in ["", "0", "x", "5-3", "1:256", "1:-1", "1:1:a\u{1b}b"] {
            let err = bad.parse::<DifferRule>().unwrap_err();
            assert!(err.contains("--differ"), "{bad}: {err}");
        }
    }
}
