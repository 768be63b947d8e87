//! The module layers, bottom first (test-only: it ships in no build). A module may use any
//! layer below its own, never one above: the test here reads every file under `src/` and fails
//! on an import that points up (docs/ARCHITECTURE.md draws the same picture).
//!
//! Modules in one layer are peers and must not use each other either (`config` and `mock`
//! both sit on `ssh`, and neither knows the other), except where a layer lists an order.

use std::path::{Path, PathBuf};

/// Each layer's modules. Within a layer marked `ordered`, a module may use the ones before it.
pub const LAYERS: &[Layer] = &[
    Layer::ordered(&["lang", "text", "sys", "logging"]),
    Layer::peers(&["ssh"]),
    Layer::peers(&["config", "mock"]),
    Layer::peers(&["app"]),
    Layer::peers(&["ui"]),
    Layer::peers(&["tui"]),
    Layer::peers(&["modes"]),
    Layer::peers(&["batch", "bench", "front", "serve"]),
    Layer::peers(&["cli"]),
    Layer::peers(&["manual"]),
];

/// Test-only modules (`cfg(test)` or `--features fuzzing`): they may use anything, and only
/// test code may use them.
pub const TEST_ONLY: &[&str] = &["fuzzing", "test_support"];

/// Modules of the crate root that are neither: the layer list itself.
const UNLAYERED: &[&str] = &["layers"];

pub struct Layer {
    pub modules: &'static [&'static str],
    /// Whether a module may use the ones listed before it in this layer.
    pub ordered: bool,
}

impl Layer {
    const fn ordered(modules: &'static [&'static str]) -> Layer {
        Layer {
            modules,
            ordered: true,
        }
    }

    const fn peers(modules: &'static [&'static str]) -> Layer {
        Layer {
            modules,
            ordered: false,
        }
    }
}

/// Where `module` sits: (layer, position in it).
fn rank(module: &str) -> Option<(usize, usize)> {
    LAYERS.iter().enumerate().find_map(|(layer, l)| {
        l.modules
            .iter()
            .position(|m| *m == module)
            .map(|pos| (layer, pos))
    })
}

/// Why `from` may not use `to`, if it may not. `test_code`: the use is in `#[cfg(test)]` code.
fn forbidden(from: &str, to: &str, test_code: bool) -> Option<String> {
    if from == to || TEST_ONLY.contains(&from) {
        return None;
    }
    if TEST_ONLY.contains(&to) {
        return (!test_code).then(|| format!("`{to}` is test-only; only test code may use it"));
    }
    let (Some((fl, fp)), Some((tl, tp))) = (rank(from), rank(to)) else {
        return Some(format!(
            "`{from}` or `{to}` is in no layer of src/layers.rs"
        ));
    };
    let allowed = tl < fl || (tl == fl && LAYERS[fl].ordered && tp < fp);
    (!allowed).then(|| {
        if tl > fl {
            format!("`{to}` is above `{from}`")
        } else {
            format!("`{to}` and `{from}` are peers in one layer")
        }
    })
}

/// The crate-root modules a source file uses (`crate::name`, also inside `use crate::{…}`),
/// each with its line and whether it is in test code. Comments are skipped; test code is
/// what follows a `#[cfg(test)]` line (our tests modules sit at the end of their files) or a
/// whole file named `tests.rs`, `test_util.rs` or `*_tests.rs`.
fn uses_in(source: &str, whole_file_is_test: bool) -> Vec<(String, usize, bool)> {
    let mut out = Vec::new();
    let mut in_test = whole_file_is_test;
    let mut in_group = false;
    for (index, raw) in source.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default();
        if raw.trim_start().starts_with("#[cfg(test)]") {
            in_test = true;
        }
        let mut rest = line;
        // A `use crate::{a, b::c, …}` group may span lines: every path that starts a
        // segment in it names a root module.
        if in_group {
            out.extend(group_heads(rest).map(|m| (m, index + 1, in_test)));
            if rest.contains("};") {
                in_group = false;
            }
            continue;
        }
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                out.extend(group_heads(group).map(|m| (m, index + 1, in_test)));
                if !group.contains('}') {
                    in_group = true;
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push((name, index + 1, in_test));
                }
            }
            rest = after;
        }
    }
    out
}

/// The first path segment of each item of a `{…}` group (or of one line of it), at nesting
/// depth 0: `a::b, c::{d, e}` gives `a` and `c`. Items that are not modules (`self`, types)
/// are left out by case; a function imported this way would show as a module in no layer.
fn group_heads(group: &str) -> impl Iterator<Item = String> + '_ {
    let mut depth = 0usize;
    let mut items = vec![String::new()];
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(String::new()),
            c if depth == 0 => items.last_mut().into_iter().for_each(|item| item.push(c)),
            _ => {}
        }
    }
    items.into_iter().filter_map(|item| {
        let head: String = item
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (head != "self" && head.starts_with(|c: char| c.is_ascii_lowercase())).then_some(head)
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate-root module a file belongs to (`src/app/pane.rs` → `app`).
fn root_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// Every use of a module against the layers in the tree under `src`, as
/// `file:line: from uses to: why`.
pub fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let Some(from) = root_module(src, file) else {
            continue;
        };
        if matches!(from.as_str(), "lib" | "main") || UNLAYERED.contains(&from.as_str()) {
            continue;
        }
        let source = std::fs::read_to_string(file).unwrap_or_default();
        // Files that hold only test code (declared under `#[cfg(test)]` by their parent).
        let whole_test = file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n == "tests.rs" || n == "test_util.rs" || n.ends_with("_tests.rs"));
        for (to, line, test_code) in uses_in(&source, whole_test) {
            if let Some(why) = forbidden(&from, &to, test_code) {
                found.push(format!(
                    "{}:{line}: {from} uses {to}: {why}",
                    file.display()
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_module_imports_one_above_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let found = violations(&src);
        assert!(
            found.is_empty(),
            "imports against the layers of src/layers.rs:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn every_module_of_the_crate_root_is_in_a_layer() {
        let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
            .unwrap_or_default();
        for line in lib.lines() {
            if let Some(name) = line
                .trim()
                .strip_prefix("pub mod ")
                .or(line.trim().strip_prefix("mod "))
            {
                let name = name.trim_end_matches(';');
                assert!(
                    rank(name).is_some() || TEST_ONLY.contains(&name) || UNLAYERED.contains(&name),
                    "src/lib.rs declares `{name}`, which src/layers.rs places in no layer"
                );
            }
        }
    }

    #[test]
    fn the_checker_sees_an_import_that_points_up() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let app = dir.path().join("app");
        std::fs::create_dir(&app).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            app.join("mod.rs"),
            "use crate::ssh::Target; // fine: ssh is below\n\
             use crate::{config, ui::layout}; // ui is above\n\
             // use crate::tui; only a comment\n\
             use crate::{\n    ssh,\n    tui::Thing,\n};\n\
             #[cfg(test)]\nmod tests { use crate::test_support::x; }\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("mock.rs"),
            "fn f() { crate::config::load(); }\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("ssh.rs"), "use crate::test_support::x;\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let found = violations(dir.path());
        let joined = found.join("\n");
        assert_eq!(found.len(), 4, "{joined}");
        assert!(
            joined.contains("mod.rs:2: app uses ui: `ui` is above `app`"),
            "{joined}"
        );
        assert!(joined.contains("mod.rs:6: app uses tui"), "{joined}");
        assert!(
            joined.contains("mock uses config: `config` and `mock` are peers"),
            "{joined}"
        );
        assert!(
            joined.contains("ssh uses test_support: `test_support` is test-only"),
            "{joined}"
        );
    }

    /// docs/ARCHITECTURE.md's hop lists name `src/FILE.rs` `FUNCTION` pairs: each function
    /// must exist in that file, so a rename cannot leave the map pointing nowhere.
    #[test]
    fn the_architecture_hops_name_functions_that_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap_or_default();
        let tokens: Vec<&str> = doc.split('`').collect();
        let mut checked = 0;
        // Odd indices are inside backticks; a path token followed by " " and a name token.
        for i in (1..tokens.len().saturating_sub(2)).step_by(2) {
            let (path, gap, name) = (tokens[i], tokens[i + 1], tokens[i + 2]);
            if !(path.starts_with("src/") && path.ends_with(".rs") && gap == " ") {
                continue;
            }
            let function = name.rsplit("::").next().unwrap_or(name);
            let source = std::fs::read_to_string(root.join(path)).unwrap_or_default();
            assert!(
                source.contains(&format!("fn {function}("))
                    || source.contains(&format!("fn {function}<")),
                "docs/ARCHITECTURE.md names `{path}` `{name}`, but {path} has no fn {function}"
            );
            checked += 1;
        }
        assert!(
            checked >= 12,
            "only {checked} hops found in docs/ARCHITECTURE.md"
        );
    }

    #[test]
    fn ordered_layers_let_a_module_use_the_ones_before_it() {
        assert_eq!(forbidden("sys", "text", false), None);
        assert!(forbidden("text", "sys", false).is_some());
        assert_eq!(forbidden("cli", "ssh", false), None);
        assert!(forbidden("ssh", "config", false).is_some());
        assert!(forbidden("modes", "batch", false).is_some());
        assert_eq!(forbidden("batch", "modes", false), None);
    }
}
