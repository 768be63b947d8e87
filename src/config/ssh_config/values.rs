//! Parsers for option values.

pub(super) fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|&p| p != 0)
}

/// A count such as `ConnectionAttempts 3`: decimal digits, at most `i32::MAX` as OpenSSH.
pub(super) fn parse_count(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&n| n <= i32::MAX as u32)
}

pub(super) fn parse_flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// OpenSSH's time format: `90`, `1m30s`, `2h`, units s/m/h/d/w in any case.
pub(super) fn parse_time(s: &str) -> Option<u64> {
    // OpenSSH stores these in an int; larger values are rejected there too.
    const MAX: u64 = i32::MAX as u64;
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(mult)?)?;
    }
    if s.is_empty() {
        return None;
    }
    total = total.checked_add(num.unwrap_or(0))?;
    (total <= MAX).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(parse_time("90"), Some(90));
        assert_eq!(parse_time("1h1M1s"), Some(3661));
        assert_eq!(parse_time("1w"), Some(604_800));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("m"), None);
        assert_eq!(parse_time("-1"), None);
        assert_eq!(parse_time("99999999999999999999999"), None);
    }
}
