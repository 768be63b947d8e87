//! `Include`: path resolution, the filesystem glob, depth and cycle checks.

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use super::parser::{Loc, Parser};
use super::{
    Condition, MAX_INCLUDE_DEPTH, MAX_INCLUDED_FILES, chars, expand::expand_tilde, pattern,
};

impl Parser {
    pub(super) fn include(
        &mut self,
        args: &[String],
        loc: &Loc<'_>,
        current: &[Condition],
        depth: usize,
    ) {
        for arg in args {
            if self.include_error.is_some() {
                break;
            }
            let expanded = match expand_tilde(arg, &self.home) {
                Ok(p) => PathBuf::from(p),
                Err(msg) => {
                    self.warn(format!("{loc}: Include \"{arg}\" ignored ({msg})"));
                    continue;
                }
            };
            let full = if expanded.is_absolute() {
                expanded
            } else {
                self.home.join(".ssh").join(expanded)
            };
            for file in glob(&full) {
                if self.include_error.is_some() {
                    break;
                }
                if file.is_dir() {
                    continue;
                }
                let shown = self.display(&file);
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    self.include_error = Some(format!(
                        "{loc}: Include nested more than {MAX_INCLUDE_DEPTH} levels deep ({shown}); OpenSSH refuses this configuration too"
                    ));
                    break;
                }
                let key = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
                if self.include_stack.contains(&key) {
                    self.include_error = Some(format!(
                        "{loc}: Include of {shown} includes it recursively; OpenSSH refuses this configuration too (too many recursive includes)"
                    ));
                    break;
                }
                self.included += 1;
                if self.included > MAX_INCLUDED_FILES {
                    self.include_error = Some(format!(
                        "{loc}: more than {MAX_INCLUDED_FILES} files included ({shown} is one too many); do the Include globs include each other?"
                    ));
                    break;
                }
                match crate::sys::read_file_capped(&file, crate::sys::MAX_CONFIG_FILE) {
                    Ok(bytes) => {
                        self.include_stack.push(key);
                        self.parse_text(
                            &String::from_utf8_lossy(&bytes),
                            &file,
                            current,
                            depth + 1,
                        );
                        self.include_stack.pop();
                    }
                    // OpenSSH silently skips includes that do not exist.
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => self.warn(format!("{loc}: cannot read included {shown}: {e}")),
                }
            }
        }
        // Lines after the Include belong to the including block again, even if
        // the included file switched to other Host blocks.
        self.start_block(current.to_vec());
    }
}

/// Expands wildcards in any path component; results in lexical order, like
/// glob(3). Non-wildcard components are kept even if they do not exist, so
/// the caller can tell "missing" apart from "unreadable".
fn glob(path: &Path) -> Vec<PathBuf> {
    let mut bases = vec![PathBuf::new()];
    for comp in path.components() {
        let Component::Normal(name) = comp else {
            for b in &mut bases {
                b.push(comp.as_os_str());
            }
            continue;
        };
        let pattern = name.to_string_lossy();
        if !pattern.contains(['*', '?', '[']) {
            for b in &mut bases {
                b.push(name);
            }
            continue;
        }
        let wanted = chars(&pattern);
        let mut next = Vec::new();
        for base in &bases {
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(n) = file_name.to_str() else {
                    continue;
                };
                // glob(3) never lets a wildcard match a leading dot.
                if n.starts_with('.') && !pattern.starts_with('.') {
                    continue;
                }
                if pattern::match_glob(&wanted, &chars(n)) {
                    next.push(base.join(n));
                }
            }
        }
        bases = next;
    }
    bases.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    bases
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{HostConfig, SshConfig};

    #[test]
    fn include_glob_relative_and_conditional() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path();
        let ssh = home.join(".ssh");
        write(
            &ssh.join("config"),
            "Include conf.d/*.conf\nHost web\n  Include ~/.ssh/web.inc\n  HostName web.local\nHost *\n  User fallback\n",
        );
        write(&ssh.join("conf.d/10-a.conf"), "Host a\n  User from10\n");
        write(
            &ssh.join("conf.d/20-a.conf"),
            "Host a\n  User from20\n  Port 20\n",
        );
        write(&ssh.join("conf.d/.hidden.conf"), "Host a\n  Port 99\n");
        write(&ssh.join("conf.d/ignored.txt"), "Host a\n  Port 98\n");
        write(
            &ssh.join("web.inc"),
            "User webuser\nHost other\n  Port 1111\nHost web\n  Port 8022\n",
        );
        let c = SshConfig::load(&ssh.join("config"), home);
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());

        let a = c.resolve("a", "bob");
        assert_eq!(a.user, s("from10"));
        assert_eq!(a.port, Some(20));

        let web = c.resolve("web", "bob");
        assert_eq!(web.user, s("webuser"));
        assert_eq!(web.port, Some(8022));
        assert_eq!(
            web.host_name,
            s("web.local"),
            "outer block resumes after Include"
        );

        // `Host other` inside an Include that sits in `Host web` never applies
        // to other hosts.
        let other = c.resolve("other", "bob");
        assert_eq!(other.port, None);
        assert_eq!(other.user, s("fallback"));
    }

    #[test]
    fn missing_files_are_quiet() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = SshConfig::load(&tmp.path().join("nope"), tmp.path());
        assert!(c.warnings().is_empty());
        assert_eq!(c.resolve("x", "bob"), HostConfig::default());

        let c = SshConfig::parse(
            "Include /definitely/not/here nothere.d/*\nUser u\n",
            &tmp.path().join("config"),
            tmp.path(),
        );
        assert!(c.warnings().is_empty());
        assert_eq!(c.resolve("x", "bob").user, s("u"));
    }

    #[test]
    fn include_depth_limit_and_cycles() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path();
        let ssh = home.join(".ssh");
        for i in 0..20 {
            write(
                &ssh.join(format!("d{i}")),
                &format!("Include d{}\nHost h{i}\n  Port {}\n", i + 1, i + 1),
            );
        }
        write(&ssh.join("config"), "Include d0\n");
        let c = SshConfig::load(&ssh.join("config"), home);
        assert_eq!(
            c.error(),
            Some(
                "~/.ssh/d15:1: Include nested more than 16 levels deep (~/.ssh/d16); OpenSSH refuses this configuration too"
            )
        );
        // Sixteen levels are fine.
        write(&ssh.join("d15"), "Host h15\n  Port 16\n");
        let c = SshConfig::load(&ssh.join("config"), home);
        assert_eq!(c.error(), None);
        assert_eq!(c.resolve("h15", "bob").port, Some(16));

        write(&ssh.join("self"), "Include self *.cyc\nUser me\n");
        let c = SshConfig::load(&ssh.join("self"), home);
        assert_eq!(
            c.error(),
            Some(
                "~/.ssh/self:1: Include of ~/.ssh/self includes it recursively; OpenSSH refuses this configuration too (too many recursive includes)"
            )
        );
        write(&ssh.join("x.cyc"), "Include y.cyc\n");
        write(&ssh.join("y.cyc"), "Include x.cyc\nPort 5\n");
        let c = SshConfig::load(&ssh.join("x.cyc"), home);
        assert!(
            c.error()
                .is_some_and(|e| e.contains("~/.ssh/y.cyc:1: Include of ~/.ssh/x.cyc")),
            "{:?}",
            c.error()
        );
    }

    /// Nine files that each include all nine (`Include *.conf`): a cycle, refused at once.
    /// Without the refusal every order of the nine files was read: 9! paths, 50 s.
    #[test]
    fn includes_that_include_each_other_are_refused_at_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path();
        let ssh = home.join(".ssh");
        for i in 0..9 {
            write(
                &ssh.join(format!("f{i}.conf")),
                &format!("Include ~/.ssh/*.conf\nHost h{i}\n  Port {}\n", i + 1),
            );
        }
        write(&ssh.join("config"), "Include *.conf\n");
        let started = std::time::Instant::now();
        let c = SshConfig::load(&ssh.join("config"), home);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
        assert!(
            c.error()
                .is_some_and(|e| e.contains("includes it recursively")),
            "{:?}",
            c.error()
        );

        // A chain without a cycle that still fans out: capped by the file count.
        for i in 0..12 {
            let later: Vec<String> = (i + 1..12).map(|j| format!("g{j:02}.inc")).collect();
            let line = if later.is_empty() {
                String::new()
            } else {
                format!("Include {}\n", later.join(" "))
            };
            write(&ssh.join(format!("g{i:02}.inc")), &line);
        }
        write(&ssh.join("fan"), "Include g00.inc\n");
        let started = std::time::Instant::now();
        let c = SshConfig::load(&ssh.join("fan"), home);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(
            c.error()
                .is_some_and(|e| e.contains("more than 256 files included")),
            "{:?}",
            c.error()
        );
    }
}
