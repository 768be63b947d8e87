//! The mock's own `sha256sum PATH...` on exec channels (what `mtssh push --verify` and
//! `pull --verify` run), over the host's SFTP directory: the paths the SFTP subsystem sees,
//! relative ones from its top, none outside it (`..` above it, an absolute path elsewhere,
//! a symlink out: "Permission denied", as the subsystem refuses them).
//!
//! Output as GNU coreutils': `HASH  NAME` a line (`HASH *NAME` with `-b`), a name holding a
//! backslash or a newline written escaped (`\\`, `\n`) on a line that starts with `\`; a file
//! that cannot be read is said on stderr (`sha256sum: NAME: REASON`) and makes the status 1,
//! the other files are still hashed. Files are read on the blocking pool.

use std::path::Path;

use super::sftp::resolve_under;

/// What the command printed and how it ended.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct HashRun {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: u32,
}

/// `sha256sum ARGS` over `root` (the host's SFTP directory; `None` when the mock has none).
pub(super) async fn sha256sum(root: Option<&Path>, args: &[String]) -> HashRun {
    let mut run = HashRun::default();
    let mut binary = false;
    let mut names = Vec::new();
    let mut options_done = false;
    for arg in args {
        match arg.as_str() {
            "--" if !options_done => options_done = true,
            "-b" | "--binary" if !options_done => binary = true,
            "-t" | "--text" if !options_done => binary = false,
            option if !options_done && option.starts_with('-') && option != "-" => {
                run.stderr = format!(
                    "sha256sum: unrecognized option '{option}' (the mock knows -b, -t and --)\n"
                )
                .into_bytes();
                run.status = 1;
                return run;
            }
            name => names.push(name),
        }
    }
    if names.is_empty() {
        names.push("-");
    }
    for name in names {
        match hash_one(root, name).await {
            Ok(hash) => run.stdout.extend(line(&hash, binary, name)),
            Err(reason) => {
                run.stderr
                    .extend(format!("sha256sum: {name}: {reason}\n").into_bytes());
                run.status = 1;
            }
        }
    }
    run
}

async fn hash_one(root: Option<&Path>, name: &str) -> Result<String, String> {
    if name == "-" {
        return Err("standard input is not read by the mock".into());
    }
    let root = root.ok_or("this mock serves no files")?;
    let real = resolve_under(root, name).await.ok_or("Permission denied")?;
    crate::ssh::sftp::local_sha256(&real)
        .await
        .map_err(|e| os_reason(&e))
}

/// The OS's sentence without Rust's ` (os error N)`, as coreutils prints it.
fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// One output line, escaped as coreutils does for a name with `\` or a newline.
fn line(hash: &str, binary: bool, name: &str) -> Vec<u8> {
    let marker = if binary { '*' } else { ' ' };
    if name.contains(['\\', '\n']) {
        let escaped = name.replace('\\', "\\\\").replace('\n', "\\n");
        format!("\\{hash} {marker}{escaped}\n").into_bytes()
    } else {
        format!("{hash} {marker}{name}\n").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    /// sha256 of "abc".
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    async fn root_with_files() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = tokio::fs::canonicalize(dir.path()).await.unwrap();
        std::fs::write(root.join("abc"), "abc").unwrap();
        std::fs::write(root.join("empty"), "").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a\\b"), "abc").unwrap();
        (dir, root)
    }

    #[tokio::test]
    async fn hashes_like_coreutils() {
        let (_dir, root) = root_with_files().await;
        let run = sha256sum(Some(&root), &words(&["--", "abc", "./empty", "sub/a\\b"])).await;
        assert_eq!(
            String::from_utf8(run.stdout).unwrap(),
            format!("{ABC}  abc\n{EMPTY}  ./empty\n\\{ABC}  sub/a\\\\b\n")
        );
        assert_eq!(run.status, 0);
        assert!(run.stderr.is_empty());
        let absolute = root.join("abc").display().to_string();
        let binary = sha256sum(Some(&root), &words(&["-b", &absolute])).await;
        assert_eq!(
            String::from_utf8(binary.stdout).unwrap(),
            format!("{ABC} *{absolute}\n")
        );
    }

    #[tokio::test]
    async fn unreadable_and_escaping_paths_fail_but_the_rest_is_hashed() {
        let (_dir, root) = root_with_files().await;
        let outside = tempfile::NamedTempFile::new().unwrap();
        let outside = outside.path().display().to_string();
        let run = sha256sum(
            Some(&root),
            &words(&["missing", "../abc", &outside, "sub", "abc"]),
        )
        .await;
        assert_eq!(run.status, 1);
        assert_eq!(
            String::from_utf8(run.stdout).unwrap(),
            format!("{ABC}  abc\n")
        );
        assert_eq!(
            String::from_utf8(run.stderr).unwrap(),
            format!(
                "sha256sum: missing: No such file or directory\n\
                 sha256sum: ../abc: Permission denied\n\
                 sha256sum: {outside}: Permission denied\n\
                 sha256sum: sub: Is a directory\n"
            )
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_symlink_out_of_the_root_is_refused() {
        let (_dir, root) = root_with_files().await;
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("link")).unwrap();
        let run = sha256sum(Some(&root), &words(&["link"])).await;
        assert_eq!(run.status, 1);
        assert!(run.stdout.is_empty());
        assert_eq!(run.stderr, b"sha256sum: link: Permission denied\n");
    }

    #[tokio::test]
    async fn unknown_options_stdin_and_no_root_are_said() {
        let run = sha256sum(None, &words(&["-c", "sums"])).await;
        assert_eq!(run.status, 1);
        assert!(String::from_utf8(run.stderr).unwrap().contains("'-c'"));
        let stdin = sha256sum(None, &[]).await;
        assert_eq!(stdin.status, 1);
        assert!(
            String::from_utf8(stdin.stderr)
                .unwrap()
                .starts_with("sha256sum: -: ")
        );
        let none = sha256sum(None, &words(&["abc"])).await;
        assert_eq!(none.stderr, b"sha256sum: abc: this mock serves no files\n");
    }
}
