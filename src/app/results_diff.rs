//! The results view's diff (`=`): a group's output against the largest answered group's,
//! as a unified line diff (hunks with three lines of context).

use similar::{ChangeTag, TextDiff};

use super::results::{GroupKind, ResultGroup};

/// Lines of unchanged output kept around each change.
const CONTEXT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffTag {
    /// A hunk header: `@@ -1,3 +1,4 @@`.
    Hunk,
    Same,
    /// Only in the largest group's output.
    Removed,
    /// Only in the highlighted group's output.
    Added,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: DiffTag,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultDiff {
    /// The highlighted group is the largest answered one: nothing to compare it with.
    IsLargest,
    /// No group has answered yet, or the highlighted one has no output to compare.
    Nothing(&'static str),
    /// The highlighted group's output against `base_hosts`' (the largest group's).
    Lines {
        base_hosts: String,
        lines: Vec<DiffLine>,
    },
}

/// The diff of `groups[selected]` against the largest answered group (the first one: the
/// groups come largest first). Only the group shown is diffed, once per frame.
pub fn diff_against_largest(groups: &[ResultGroup], selected: usize) -> ResultDiff {
    let Some(base) = groups
        .iter()
        .position(|g| matches!(g.kind, GroupKind::Answered(_)))
    else {
        return ResultDiff::Nothing("no host has answered yet");
    };
    if base == selected {
        return ResultDiff::IsLargest;
    }
    let Some(group) = groups.get(selected) else {
        return ResultDiff::Nothing("no group highlighted");
    };
    if matches!(group.kind, GroupKind::NoAnswer | GroupKind::Disconnected(_)) {
        return ResultDiff::Nothing("this group has no output to compare");
    }
    let base = &groups[base];
    ResultDiff::Lines {
        base_hosts: base.hosts.clone(),
        lines: unified(&base.output, &group.output),
    }
}

/// The unified diff of `new` against `old`, one entry per line, without line breaks.
pub fn unified(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for hunk in diff.unified_diff().context_radius(CONTEXT).iter_hunks() {
        lines.push(DiffLine {
            tag: DiffTag::Hunk,
            text: hunk.header().to_string().trim_end().to_string(),
        });
        for change in hunk.iter_changes() {
            let tag = match change.tag() {
                ChangeTag::Equal => DiffTag::Same,
                ChangeTag::Delete => DiffTag::Removed,
                ChangeTag::Insert => DiffTag::Added,
            };
            let text = change.value().trim_end_matches(['\n', '\r']).to_string();
            lines.push(DiffLine { tag, text });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::result::RunStatus;

    fn group(kind: GroupKind, hosts: &str, output: &str) -> ResultGroup {
        ResultGroup {
            kind,
            ids: vec![0],
            hosts: hosts.into(),
            output: output.into(),
            stderr: String::new(),
            note: String::new(),
            truncated: false,
        }
    }

    fn tags(lines: &[DiffLine]) -> Vec<(DiffTag, &str)> {
        lines.iter().map(|l| (l.tag, l.text.as_str())).collect()
    }

    #[test]
    fn a_changed_line_shows_as_removed_then_added_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            tags(&unified(old, new)),
            [
                (DiffTag::Hunk, "@@ -2,7 +2,7 @@"),
                (DiffTag::Same, "b"),
                (DiffTag::Same, "c"),
                (DiffTag::Same, "d"),
                (DiffTag::Removed, "e"),
                (DiffTag::Added, "E"),
                (DiffTag::Same, "f"),
                (DiffTag::Same, "g"),
                (DiffTag::Same, "h"),
            ]
        );
        assert!(unified(old, old).is_empty());
    }

    #[test]
    fn the_largest_group_and_groups_without_output_say_so() {
        let ok = GroupKind::Answered(RunStatus::Exited(0));
        let groups = [
            group(GroupKind::NoAnswer, "h3", ""),
            group(ok.clone(), "h[1-2]", "ok\n"),
            group(GroupKind::Answered(RunStatus::Exited(1)), "h4", "bad\n"),
            group(GroupKind::Disconnected("refused".into()), "h5", ""),
        ];
        assert_eq!(diff_against_largest(&groups, 1), ResultDiff::IsLargest);
        assert!(matches!(
            diff_against_largest(&groups, 3),
            ResultDiff::Nothing(_)
        ));
        let ResultDiff::Lines { base_hosts, lines } = diff_against_largest(&groups, 2) else {
            panic!("no diff");
        };
        assert_eq!(base_hosts, "h[1-2]");
        assert_eq!(
            tags(&lines)[1..],
            [(DiffTag::Removed, "ok"), (DiffTag::Added, "bad")]
        );
        assert!(matches!(
            diff_against_largest(&groups[..1], 0),
            ResultDiff::Nothing(_)
        ));
    }
}
