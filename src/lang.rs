//! The language mtssh speaks to its user: English (the default) or Chinese.
//!
//! gettext-style: the English text is the key. Code writes `tr("F1 help")`, or for text with
//! values `trf("{done} of {total} hosts done", &[("done", &3), ("total", &8)])`; with Chinese
//! chosen and a translation in the table (`lang/zh/*.rs`) that text comes back, else the
//! English. A string nobody translated yet stays English, so new features need no change here
//! to work, and a translation is one table row. The language is set once at start
//! ([`set`], from `--lang` or [`from_env`]); tests render in a language on their own thread
//! with [`with`], so parallel tests do not see each other's choice.
//!
//! Glossary (one word for one thing, everywhere):
//!
//! | English | 中文 | | English | 中文 |
//! |---|---|---|---|---|
//! | session | 会话 | | host | 主机 |
//! | pane | 窗格 | | broadcast | 广播 |
//! | receiver | 接收者 | | broadcast line | 广播行 |
//! | mock server | 模拟服务器 | | practice pane | 练习窗格 |
//! | event loop | 事件循环 | | thread | 线程 |
//! | live (session) | 在线 | | ready | 就绪 |
//! | failed | 失败 | | timed out | 超时 |
//! | exit status | 退出码 | | host key | 主机密钥 |
//! | password prompt | 密码提示 | | hidden input | 隐藏输入 |
//! | canary send | 金丝雀发送 | | rolling send | 分批发送 |
//! | scrollback | 回滚内容 | | focus | 焦点 |
//! | line / keystroke mode | 行模式 / 按键模式 | | zoom | 放大 |
//! | wake-up (of the loop) | 唤醒 | | socket | 套接字 |
//! | awake (time) | 忙碌 | | blocking pool | 阻塞线程池 |
//! | recording | 录制 | | log | 日志 |
//! | push / pull | 上传 / 下载 | | verify | 校验 |
//!
//! Key names (Alt-P, Ctrl-], F1), commands, options and file names are never translated.
//! Chinese text uses full-width punctuation (，。：；（）) between Chinese words and a space
//! between Chinese and Latin words or numbers, as technical writing in Chinese does.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

mod zh;

/// A language mtssh can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// Every language, in the order of [`Lang::NAMES`].
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];
    /// What [`FromStr`] accepts and [`fmt::Display`] prints, e.g. for `--lang`.
    pub const NAMES: &[&str] = &["en", "zh"];

    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown language '{s}' (expected one of: {})",
                    Lang::NAMES.join(", ")
                )
            })
    }
}

/// The language a locale's environment asks for, given the values of `LC_ALL`,
/// `LC_MESSAGES` and `LANG` in that order: the first one set and not empty decides, as POSIX
/// has it; `zh…` (`zh_CN.UTF-8`, `zh_TW`, `zh`) is Chinese, anything else English.
pub fn from_env_values(values: [Option<&str>; 3]) -> Lang {
    match values.into_iter().flatten().find(|v| !v.is_empty()) {
        Some(v) if v.starts_with("zh") => Lang::Zh,
        _ => Lang::En,
    }
}

/// The language this process's locale asks for (see [`from_env_values`]).
pub fn from_env() -> Lang {
    let var = |name| std::env::var(name).ok();
    let values = [var("LC_ALL"), var("LC_MESSAGES"), var("LANG")];
    from_env_values(values.each_ref().map(|v| v.as_deref()))
}

/// The process-wide language: 0 English, 1 Chinese.
static PROCESS: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// A language chosen for this thread only (tests, see [`with`]).
    static THREAD: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// Sets the language of the whole process; called once, at start.
pub fn set(lang: Lang) {
    PROCESS.store(lang as u8, Ordering::Relaxed);
}

/// The language to speak now: this thread's if [`with`] chose one, else the process's.
pub fn current() -> Lang {
    THREAD.with(Cell::get).unwrap_or_else(|| {
        if PROCESS.load(Ordering::Relaxed) == Lang::Zh as u8 {
            Lang::Zh
        } else {
            Lang::En
        }
    })
}

/// Runs `f` speaking `lang` on this thread, whatever the process speaks: how tests draw a
/// Chinese screen while other tests run in English beside them.
pub fn with<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Lang>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(THREAD.with(|t| t.replace(Some(lang))));
    f()
}

fn chinese() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| zh::TABLES.iter().flat_map(|t| t.iter().copied()).collect())
}

/// `en` in the current language: its translation, or `en` itself when English is spoken or
/// nobody translated it yet.
pub fn tr(en: &str) -> &str {
    match current() {
        Lang::En => en,
        Lang::Zh => chinese().get(en).copied().unwrap_or(en),
    }
}

/// [`tr`] of a template, then each `{name}` hole filled with its value.
pub fn trf(en: &str, values: &[(&str, &dyn fmt::Display)]) -> String {
    fill(tr(en), values)
}

/// `template` with each `{name}` replaced by its value; unknown holes stay as written.
fn fill(template: &str, values: &[(&str, &dyn fmt::Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}');
        let value = close.and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, v))
        });
        match value {
            Some((close, v)) => {
                use fmt::Write;
                let _ = write!(out, "{v}");
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` holes of a template, sorted (a hole may appear more than once).
#[cfg(test)]
fn holes(template: &str) -> Vec<&str> {
    let mut found: Vec<&str> = template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_locale_selects_chinese_and_the_first_set_variable_decides() {
        assert_eq!(from_env_values([None, None, Some("zh_CN.UTF-8")]), Lang::Zh);
        assert_eq!(from_env_values([None, None, Some("zh_TW")]), Lang::Zh);
        assert_eq!(from_env_values([None, None, Some("en_US.UTF-8")]), Lang::En);
        assert_eq!(from_env_values([None, None, Some("C.UTF-8")]), Lang::En);
        assert_eq!(from_env_values([None, None, None]), Lang::En);
        // LC_ALL over LC_MESSAGES over LANG; an empty value counts as unset.
        assert_eq!(from_env_values([Some("C"), None, Some("zh_CN")]), Lang::En);
        assert_eq!(
            from_env_values([Some(""), Some("zh_CN.UTF-8"), Some("C")]),
            Lang::Zh
        );
        assert_eq!(
            from_env_values([None, Some("en_GB"), Some("zh_CN")]),
            Lang::En
        );
    }

    #[test]
    fn every_translation_has_the_holes_of_its_english() {
        let mut seen = HashMap::new();
        for (en, zh) in zh::TABLES.iter().flat_map(|t| t.iter()) {
            assert_eq!(holes(en), holes(zh), "holes differ:\n  {en}\n  {zh}");
            assert!(!zh.trim().is_empty(), "empty translation of {en:?}");
            if let Some(other) = seen.insert(*en, *zh) {
                assert_eq!(other, *zh, "{en:?} is translated twice, differently");
            }
        }
    }

    #[test]
    fn tr_speaks_the_chosen_language_and_falls_back_to_english() {
        with(Lang::En, || assert_eq!(tr("F1 help"), "F1 help"));
        with(Lang::Zh, || {
            assert_eq!(tr("F1 help"), "F1 帮助");
            assert_eq!(
                tr("no such text, not translated"),
                "no such text, not translated"
            );
            // Nested choices restore the outer one.
            with(Lang::En, || assert_eq!(tr("F1 help"), "F1 help"));
            assert_eq!(current(), Lang::Zh);
        });
    }

    #[test]
    fn templates_fill_their_holes_by_name() {
        let done = 3;
        let values: &[(&str, &dyn fmt::Display)] = &[("done", &done), ("total", &"8")];
        assert_eq!(fill("{done} of {total} done", values), "3 of 8 done");
        assert_eq!(fill("{total}/{done} {done}", values), "8/3 3");
        assert_eq!(fill("{missing} {", values), "{missing} {");
        assert_eq!(fill("{done}}", values), "3}");
        assert_eq!(holes("{a} and {b} and {a}, not {} or {x y}"), ["a", "b"]);
    }
}
