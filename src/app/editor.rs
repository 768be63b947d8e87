//! A one-line text editor with history: the broadcast line and the small dialog inputs.

/// How many broadcast lines history keeps; old ones are not worth the memory.
const HISTORY_LIMIT: usize = 500;

#[derive(Default, Clone)]
pub struct LineEditor {
    text: String,
    /// Byte offset into `text`, always on a char boundary.
    cursor: usize,
    history: Vec<String>,
    /// Position while browsing history; `None` when editing a fresh line.
    browsing: Option<usize>,
    /// The line being typed before history browsing started, restored when coming back down.
    draft: String,
    /// Secrets (sudo passwords) are typed here: never drawn, never remembered.
    hidden: bool,
}

/// A hidden line (a password) never shows in `Debug` output.
impl std::fmt::Debug for LineEditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = if self.hidden { "<hidden>" } else { &self.text };
        f.debug_struct("LineEditor")
            .field("text", &text)
            .field("cursor", &self.cursor)
            .field("history", &self.history.len())
            .field("hidden", &self.hidden)
            .finish()
    }
}

impl LineEditor {
    /// Clears the line and overwrites the memory it was in (a secret given up on).
    pub fn wipe(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.text);
        self.cursor = 0;
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text left of the cursor, so the UI can measure the cursor's display column.
    pub fn before_cursor(&self) -> &str {
        &self.text[..self.cursor]
    }

    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    pub fn set_hidden(&mut self, hidden: bool) {
        self.hidden = hidden;
    }

    pub fn history(&self) -> &[String] {
        &self.history
    }

    pub fn insert_str(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    pub fn insert(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
    }

    pub fn backspace(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
            self.text.remove(self.cursor);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.len() {
            self.text.remove(self.cursor);
        }
    }

    pub fn left(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
        }
    }

    pub fn right(&mut self) {
        if let Some(c) = self.text[self.cursor..].chars().next() {
            self.cursor += c.len_utf8();
        }
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.len();
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.browsing = None;
    }

    /// Takes the line out of the editor. Visible non-empty lines go into history (without
    /// repeating the previous entry); hidden lines never do, and hidden mode ends with them.
    pub fn take(&mut self) -> String {
        let line = std::mem::take(&mut self.text);
        self.cursor = 0;
        self.browsing = None;
        self.draft.clear();
        if self.hidden {
            self.hidden = false;
        } else if !line.is_empty() && self.history.last() != Some(&line) {
            self.history.push(line.clone());
            if self.history.len() > HISTORY_LIMIT {
                self.history.remove(0);
            }
        }
        line
    }

    pub fn history_up(&mut self) {
        if self.hidden || self.history.is_empty() {
            return;
        }
        let index = match self.browsing {
            None => {
                self.draft = self.text.clone();
                self.history.len() - 1
            }
            Some(i) => i.saturating_sub(1),
        };
        self.browsing = Some(index);
        self.replace(self.history[index].clone());
    }

    pub fn history_down(&mut self) {
        let Some(i) = self.browsing else { return };
        if i + 1 < self.history.len() {
            self.browsing = Some(i + 1);
            self.replace(self.history[i + 1].clone());
        } else {
            self.browsing = None;
            let draft = std::mem::take(&mut self.draft);
            self.replace(draft);
        }
    }

    fn replace(&mut self, text: String) {
        self.text = text;
        self.cursor = self.text.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> LineEditor {
        let mut e = LineEditor::default();
        e.insert_str(s);
        e
    }

    #[test]
    fn edits_at_cursor_with_multibyte_chars() {
        let mut e = typed("héllo");
        e.home();
        e.right();
        e.right();
        e.backspace();
        assert_eq!(e.text(), "hllo");
        e.insert('é');
        e.end();
        e.left();
        e.delete();
        assert_eq!(e.text(), "héll");
        assert_eq!(e.before_cursor(), "héll");
    }

    #[test]
    fn history_browses_and_restores_draft() {
        let mut e = LineEditor::default();
        for line in ["one", "two", "two", ""] {
            e.insert_str(line);
            e.take();
        }
        assert_eq!(e.history(), ["one", "two"]);
        e.insert_str("draft");
        e.history_up();
        assert_eq!(e.text(), "two");
        e.history_up();
        e.history_up();
        assert_eq!(e.text(), "one");
        e.history_down();
        assert_eq!(e.text(), "two");
        e.history_down();
        assert_eq!(e.text(), "draft");
    }

    #[test]
    fn hidden_line_is_not_kept_and_mode_ends() {
        let mut e = LineEditor::default();
        e.set_hidden(true);
        e.insert_str("s3cret");
        assert_eq!(e.take(), "s3cret");
        assert!(e.history().is_empty());
        assert!(!e.is_hidden());
    }
}
