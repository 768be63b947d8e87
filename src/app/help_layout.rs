//! The F1 help laid out for the screen it is on: the key table wrapped to the dialog's
//! width, and how far it scrolls. Shared by drawing and by the keys that scroll it, so
//! both agree on where the last row is.

use ratatui::layout::Rect;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::help::KEY_HELP;
use super::layout::centered;
use crate::lang::tr;

/// The widest the help dialog gets, border included.
const MAX_WIDTH: u16 = 100;
/// Below this many columns for the action text, the action goes under its keys instead.
const MIN_ACTION: usize = 24;
/// Indent of an action written under its keys.
const UNDER_INDENT: usize = 4;
/// Punctuation a line of Chinese does not start with.
const NO_LINE_START: &str = "，。、；：！？）」』》";

/// One screen row of the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    Heading(&'static str),
    /// `keys` padded to the key column (empty on an action's continuation rows).
    Entry {
        keys: String,
        action: String,
    },
}

/// The help dialog on a pane area: where it goes, its rows, and how many show at once.
#[derive(Debug, Clone)]
pub struct HelpView {
    pub rect: Rect,
    pub rows: Vec<HelpRow>,
    /// Rows that fit inside the border.
    pub visible: usize,
}

impl HelpView {
    pub fn new(area: Rect) -> Self {
        let width = MAX_WIDTH.min(area.width);
        let rows = help_rows(usize::from(width.saturating_sub(2)));
        let height = u16::try_from(rows.len() + 2).unwrap_or(u16::MAX);
        let rect = centered(area, width, height);
        let visible = usize::from(rect.height.saturating_sub(2));
        HelpView {
            rect,
            rows,
            visible,
        }
    }

    /// The largest first row that still fills the dialog.
    pub fn max_top(&self) -> usize {
        self.rows.len().saturating_sub(self.visible)
    }

    /// Rows a page key moves: one fewer than a screenful, so a row of context stays.
    pub fn page(&self) -> usize {
        self.visible.saturating_sub(1).max(1)
    }
}

/// The key table as rows `width` columns wide, in the current language: the actions in one
/// column, wrapped inside it; in a dialog too narrow for that column, each action wrapped
/// under its keys.
pub fn help_rows(width: usize) -> Vec<HelpRow> {
    let key_width = KEY_HELP.iter().map(|(k, _)| k.width()).max().unwrap_or(0);
    let column = 2 + key_width + 2;
    let beside = width >= column + MIN_ACTION;
    let mut rows = Vec::new();
    for (keys, action) in KEY_HELP {
        if action.is_empty() {
            rows.push(HelpRow::Heading(tr(keys)));
            continue;
        }
        let action = tr(action);
        let (first, indent) = if beside {
            (format!("  {keys:key_width$}  "), column)
        } else {
            for part in wrap(keys, width.saturating_sub(2)) {
                rows.push(HelpRow::Entry {
                    keys: format!("  {part}"),
                    action: String::new(),
                });
            }
            (" ".repeat(UNDER_INDENT), UNDER_INDENT)
        };
        for (i, part) in wrap(action, width.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let keys = if i == 0 {
                first.clone()
            } else {
                " ".repeat(indent)
            };
            rows.push(HelpRow::Entry { keys, action: part });
        }
    }
    rows
}

/// `text` broken at spaces into lines of at most `width` display columns; a word longer
/// than that is broken where it must be. Chinese needs no space to break: a word with
/// wide characters fills the line it starts on and breaks between characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!line.is_empty());
        if line.width() + sep + word.width() <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        let wide = word.chars().any(|c| c.width().unwrap_or(0) > 1);
        if wide && line.width() + sep < width {
            if sep == 1 {
                line.push(' ');
            }
        } else if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if line.width() + c.width().unwrap_or(0) > width {
                // Chinese never starts a line with closing punctuation: the character
                // before it goes down too.
                let carried = match line.chars().last() {
                    Some(last) if NO_LINE_START.contains(c) && line.chars().count() > 1 => {
                        line.pop();
                        Some(last)
                    }
                    _ => None,
                };
                lines.push(std::mem::take(&mut line));
                line.extend(carried);
            }
            line.push(c);
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_width(row: &HelpRow) -> usize {
        match row {
            HelpRow::Heading(text) => text.width(),
            HelpRow::Entry { keys, action } => keys.width() + action.width(),
        }
    }

    #[test]
    fn every_key_and_every_word_of_the_table_is_in_some_row_at_any_width() {
        for width in [20, 40, 60, 78, 98] {
            let rows = help_rows(width);
            let text: String = rows
                .iter()
                .map(|r| match r {
                    HelpRow::Heading(t) => format!("{t}\n"),
                    HelpRow::Entry { keys, action } => format!("{keys} {action}\n"),
                })
                .collect();
            for row in &rows {
                assert!(row_width(row) <= width, "{width}: {row:?}");
            }
            for (keys, action) in KEY_HELP {
                for word in keys.split(' ').chain(action.split(' ')) {
                    assert!(text.contains(word), "{width}: {word}");
                }
            }
        }
    }

    #[test]
    fn the_view_scrolls_to_its_last_row_and_no_further() {
        // 80x24: 22 rows of pane area, 20 rows inside the border.
        let view = HelpView::new(Rect::new(0, 0, 80, 22));
        assert_eq!((view.rect.width, view.visible), (80, 20));
        assert!(view.rows.len() > view.visible, "{}", view.rows.len());
        assert_eq!(view.max_top() + view.visible, view.rows.len());
        // Wide and tall enough: nothing to scroll.
        let view = HelpView::new(Rect::new(0, 0, 120, 60));
        assert_eq!(view.max_top(), 0);
        assert_eq!(view.visible, KEY_HELP.len());
    }

    #[test]
    fn words_wrap_at_spaces_and_long_words_break() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("ab 中文字符", 7), ["ab 中文", "字符"]);
        assert_eq!(wrap("中文字（符）", 10), ["中文字（", "符）"]);
    }
}
