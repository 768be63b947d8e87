//! Clock: Gregorian calendar maths for `date` and `uptime`, all in UTC.

use super::Lang;
use crate::sys::civil_from_days;

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    /// 0 = Sunday.
    weekday: usize,
    hour: u64,
    minute: u64,
    second: u64,
}

fn civil(unix: u64) -> Civil {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // u64::MAX / 86400 is about 2.1e14, well inside i64.
    let days_i = i64::try_from(days).unwrap_or(i64::MAX / 2);
    let (year, month, day) = civil_from_days(days_i);
    Civil {
        year,
        month,
        day,
        weekday: ((days + 4) % 7) as usize, // 1970-01-01 was a Thursday
        hour: secs / 3600,
        minute: secs / 60 % 60,
        second: secs % 60,
    }
}

/// `date` in the C locale (`%a %b %e %H:%M:%S %Z %Y`), or as zh_CN prints it.
pub(super) fn format_date(unix: u64, lang: Lang) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const DAYS_ZH: [&str; 7] = ["日", "一", "二", "三", "四", "五", "六"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(unix);
    let hms = format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second);
    match lang {
        Lang::En => {
            let month = MONTHS.get(c.month as usize - 1).unwrap_or(&"???");
            format!(
                "{} {month} {:>2} {hms} UTC {}",
                DAYS[c.weekday], c.day, c.year
            )
        }
        Lang::Zh => format!(
            "{}年 {:02}月 {:02}日 星期{} {hms} UTC",
            c.year, c.month, c.day, DAYS_ZH[c.weekday]
        ),
    }
}

/// Shaped like procps `uptime`; load averages are fixed since nothing runs.
pub(super) fn format_uptime(now: u64, up: u64, lang: Lang) -> String {
    let c = civil(now);
    let clock = format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second);
    let days = up / 86_400;
    let hours = up % 86_400 / 3600;
    let mins = up % 3600 / 60;
    match lang {
        Lang::En => {
            let mut d = String::new();
            if days > 0 {
                let s = if days == 1 { "" } else { "s" };
                d.push_str(&format!("{days} day{s}, "));
            }
            if hours > 0 {
                d.push_str(&format!("{hours:2}:{mins:02}"));
            } else {
                d.push_str(&format!("{mins} min"));
            }
            format!(" {clock} up {d},  1 user,  load average: 0.00, 0.00, 0.00")
        }
        Lang::Zh => {
            let mut d = String::new();
            if days > 0 {
                d.push_str(&format!("{days} 天 "));
            }
            d.push_str(&format!("{hours} 小时 {mins} 分钟"));
            format!(" {clock} 已运行 {d}，1 个用户，平均负载：0.00, 0.00, 0.00")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::shell::run_exec;
    use crate::mock::shell::test_util::*;

    #[test]
    fn date_both_langs() {
        assert_eq!(run(Lang::En, "date"), "Fri Nov 27 16:24:40 UTC 2026\n");
        assert_eq!(
            run(Lang::Zh, "date"),
            "2026年 11月 27日 星期五 16:24:40 UTC\n"
        );
    }

    #[test]
    fn date_math_matches_gnu_date() {
        let cases = [
            (0, "Thu Jan  1 00:00:00 UTC 1970"),
            (951_782_400, "Tue Feb 29 00:00:00 UTC 2000"),
            (1_000_000_000, "Sun Sep  9 01:46:40 UTC 2001"),
            (4_107_542_399, "Sun Feb 28 23:59:59 UTC 2100"),
            (253_402_300_799, "Fri Dec 31 23:59:59 UTC 9999"),
        ];
        for (t, want) in cases {
            assert_eq!(format_date(t, Lang::En), want);
        }
        // Far future must not panic or overflow.
        let _ = format_date(u64::MAX, Lang::En);
        let _ = format_date(u64::MAX, Lang::Zh);
    }

    #[test]
    fn uptime_both_langs() {
        assert_eq!(
            run(Lang::En, "uptime"),
            " 16:24:40 up 1 day,  2:03,  1 user,  load average: 0.00, 0.00, 0.00\n"
        );
        assert!(run(Lang::Zh, "uptime").contains("已运行 1 天 2 小时 3 分钟"));
        assert_eq!(
            format_uptime(NOW, 300, Lang::En).split(',').next(),
            Some(" 16:24:40 up 5 min")
        );
        assert!(format_uptime(NOW, 3 * 86_400, Lang::En).contains("up 3 days, 0 min,"));
        // A clock behind the start time reads as zero, not a panic.
        let mut c = cfg(Lang::En, false);
        c.started_at_unix = u64::MAX;
        assert!(text(&run_exec(&c, "uptime", 0)).contains("up 0 min"));
    }
}
