//! `mtssh push` and `mtssh pull` as a user runs them: the real binary over SFTP, against the
//! mock's subsystem and OpenSSH's sftp-server behind a private sshd.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::run_cmd::{mtssh, sshd_hosts};
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv};

const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

/// A local tree to push: `payload.bin` (3 MB of noise, mode 0640, an old mtime) and
/// `tree/` with `a.txt` (0755) and `sub/b.txt`. Returns (payload, tree).
fn make_sources(env: &TestEnv) -> (PathBuf, PathBuf) {
    let src = env.path("src");
    std::fs::create_dir_all(src.join("tree/sub")).unwrap();
    let payload = src.join("payload.bin");
    std::fs::write(&payload, support::noise(3 * 1024 * 1024 + 17)).unwrap();
    std::fs::set_permissions(&payload, std::fs::Permissions::from_mode(0o640)).unwrap();
    set_mtime(&payload, 1_600_000_000);
    std::fs::write(src.join("tree/a.txt"), b"alpha\n").unwrap();
    std::fs::set_permissions(
        src.join("tree/a.txt"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    set_mtime(&src.join("tree/a.txt"), 1_500_000_000);
    std::fs::write(src.join("tree/sub/b.txt"), support::noise(100_000)).unwrap();
    (payload, src.join("tree"))
}

fn set_mtime(path: &Path, secs: u64) {
    let at = UNIX_EPOCH + Duration::from_secs(secs);
    let times = std::fs::FileTimes::new().set_accessed(at).set_modified(at);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_times(times)
        .unwrap();
}

fn sha_of(path: &Path) -> String {
    support::sha256(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// What a push of [`make_sources`] with `-r -p` must leave in `dest`.
fn assert_pushed_tree(src_payload: &Path, src_tree: &Path, dest: &Path) {
    let payload = dest.join("payload.bin");
    assert_eq!(sha_of(&payload), sha_of(src_payload));
    assert_eq!(std::fs::metadata(&payload).unwrap().mode() & 0o777, 0o640);
    assert_eq!(mtime(&payload), mtime(src_payload));
    let a = dest.join("tree/a.txt");
    assert_eq!(std::fs::read(&a).unwrap(), b"alpha\n");
    assert_eq!(std::fs::metadata(&a).unwrap().mode() & 0o777, 0o755);
    assert_eq!(mtime(&a), mtime(&src_tree.join("a.txt")));
    assert_eq!(
        sha_of(&dest.join("tree/sub/b.txt")),
        sha_of(&src_tree.join("sub/b.txt"))
    );
    // Nothing left under a temporary name.
    let leftovers: Vec<_> = walk(dest)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".mtssh-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[tokio::test]
async fn push_and_pull_against_the_mock_are_byte_exact_and_keep_modes_and_times() {
    let env = TestEnv::new();
    let server = support::mock(2).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let (payload, tree) = make_sources(&env);
    let base = [
        "-f",
        hosts.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
    ];
    let out = mtssh(
        &env,
        &[
            &["push", "-r", "-p"][..],
            &base,
            &[payload.to_str().unwrap(), tree.to_str().unwrap(), "."],
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("mock-[01-02] (exit 0)")
            && out.stdout.contains("3 files, 2 directories, 3.1 MB"),
        "{}",
        out.stdout
    );
    for host in 0..2 {
        assert_pushed_tree(&payload, &tree, &server.sftp_dir(host).unwrap());
    }

    // A glob on the remote side, pulled into one directory per host.
    let local = env.path("pulled");
    let out = mtssh(
        &env,
        &[
            &["pull", "-p", "--json"][..],
            &base,
            &["*.bin", local.to_str().unwrap()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let results = support::json_by_name(&out.stdout);
    assert_eq!(results.len(), 2, "{}", out.stdout);
    assert_eq!(results[0]["outcome"], "ok");
    for name in ["mock-01", "mock-02"] {
        let got = local.join(name).join("payload.bin");
        assert_eq!(sha_of(&got), sha_of(&payload), "{name}");
        assert_eq!(mtime(&got), mtime(&payload), "{name}");
        assert_eq!(std::fs::metadata(&got).unwrap().mode() & 0o777, 0o640);
    }

    // -r pulls the tree back whole.
    let out = mtssh(
        &env,
        &[
            &["pull", "-r"][..],
            &base,
            &["tree", local.to_str().unwrap()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        sha_of(&local.join("mock-02/tree/sub/b.txt")),
        sha_of(&tree.join("sub/b.txt"))
    );
}

#[tokio::test]
async fn the_mock_refuses_paths_that_escape_its_directory() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let (payload, _) = make_sources(&env);
    let base = [
        "-f",
        hosts.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
    ];
    for dest in ["..", "/tmp", "sub/../../x"] {
        let out = mtssh(
            &env,
            &[&["push"][..], &base, &[payload.to_str().unwrap(), dest]].concat(),
        )
        .await;
        assert_eq!(out.code, Some(3), "{dest}: {}\n{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("outside this mock host's directory"),
            "{dest}: {}",
            out.stdout
        );
    }
    let out = mtssh(
        &env,
        &[
            &["pull"][..],
            &base,
            &["/etc/passwd", env.path("got").to_str().unwrap()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(!env.path("got/mock-01/passwd").exists());
}

#[tokio::test]
async fn push_and_pull_against_sshd_verify_and_report_a_read_only_destination() {
    if !sshd::available() || !support::have_all(&[SFTP_SERVER]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 3,
            extra: vec![format!("Subsystem sftp {SFTP_SERVER}")],
            ..Default::default()
        },
    );
    let known = env.path(".ssh/known_hosts");
    let hosts = sshd_hosts(&env, &server.addrs, &known, "accept-new");
    let (payload, tree) = make_sources(&env);
    // The hosts are this machine: a directory the login user (not root) may write to.
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let remote = shared.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    std::fs::set_permissions(&remote, std::fs::Permissions::from_mode(0o777)).unwrap();
    // An older file under the final name is replaced whole.
    std::fs::write(remote.join("payload.bin"), b"old").unwrap();
    let out = mtssh(
        &env,
        &[
            "push",
            "-r",
            "-p",
            "--verify",
            "-f",
            hosts.to_str().unwrap(),
            "-H",
            "h01",
            payload.to_str().unwrap(),
            tree.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        out.code,
        Some(0),
        "{}\n{}\n{}",
        out.stdout,
        out.stderr,
        server.log()
    );
    assert!(
        out.stdout.contains("verified: 3 sha256 match"),
        "{}",
        out.stdout
    );
    assert_pushed_tree(&payload, &tree, &remote);

    // Pulled from three hosts with a glob: one directory each, byte-exact, verified.
    let local = env.path("pulled");
    let pattern = format!("{}/*.bin", remote.display());
    let out = mtssh(
        &env,
        &[
            "pull",
            "-p",
            "--verify",
            "-f",
            hosts.to_str().unwrap(),
            &pattern,
            local.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("h[01-03] (exit 0)"), "{}", out.stdout);
    for name in ["h01", "h02", "h03"] {
        let got = local.join(name).join("payload.bin");
        assert_eq!(sha_of(&got), sha_of(&payload), "{name}");
        assert_eq!(mtime(&got), mtime(&payload), "{name}");
    }

    // A destination the login user may not write to: a clear error per host, folded, and
    // exit 3; nothing is left there.
    let read_only = shared.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = mtssh(
        &env,
        &[
            "push",
            "-f",
            hosts.to_str().unwrap(),
            payload.to_str().unwrap(),
            read_only.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "h[01-03] (failed: {}/payload.bin: Permission denied",
            read_only.display()
        )),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read_dir(&read_only).unwrap().count(), 0);
}

#[tokio::test]
async fn a_host_that_dies_mid_transfer_keeps_its_old_file_and_is_reported() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let big = env.path("big.bin");
    std::fs::write(&big, support::noise(48 * 1024 * 1024)).unwrap();
    let dir = server.sftp_dir(0).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("big.bin"), b"the old file").unwrap();
    let child = env
        .command(support::mtssh_bin())
        .args(["push", "-f", hosts.to_str().unwrap(), "--known-hosts"])
        .args([kh.to_str().unwrap(), big.to_str().unwrap(), "."])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once part of the file has arrived under its temporary name, the host goes away.
    let part = |dir: &Path| {
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().contains(".mtssh-"))
            .and_then(|e| e.metadata().ok())
            .filter(|m| m.len() > 0)
    };
    support::wait_for(
        "part of the file to arrive",
        Duration::from_secs(60),
        async || part(&dir),
    )
    .await;
    server.stop();
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("mtssh ends")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("mock-01 (failed: "), "{stdout}");
    assert_eq!(std::fs::read(dir.join("big.bin")).unwrap(), b"the old file");
}

/// Two sources of one name, different bytes: the second upload replaces the first on the
/// remote, so the remote's sha256 for the first differs from the bytes sent for it (the
/// remote file changed after its upload). Returns (first, second).
fn same_name_twice(env: &TestEnv) -> (PathBuf, PathBuf) {
    let (first, second) = (env.path("a/same.bin"), env.path("b/same.bin"));
    for (path, len) in [(&first, 70_000), (&second, 90_001)] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, support::noise(len)).unwrap();
    }
    (first, second)
}

#[tokio::test]
async fn verify_against_the_mock_passes_and_reports_a_file_changed_after_upload() {
    let env = TestEnv::new();
    let server = support::mock(2).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let (payload, tree) = make_sources(&env);
    let base = [
        "-f",
        hosts.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
    ];
    // The mock's own sha256sum hashes what its SFTP directory holds.
    let sources = [payload.to_str().unwrap(), tree.to_str().unwrap(), "."];
    let out = mtssh(
        &env,
        &[&["push", "-r", "--verify"][..], &base, &sources].concat(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("mock-[01-02] (exit 0)")
            && out.stdout.contains("verified: 3 sha256 match"),
        "{}",
        out.stdout
    );
    let local = env.path("pulled");
    let out = mtssh(
        &env,
        &[
            &["pull", "--verify"][..],
            &base,
            &["*.bin", local.to_str().unwrap()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("verified: 1 sha256 match"),
        "{}",
        out.stdout
    );
    assert_eq!(sha_of(&local.join("mock-02/payload.bin")), sha_of(&payload));

    let (first, second) = same_name_twice(&env);
    let sources = [first.to_str().unwrap(), second.to_str().unwrap(), "."];
    let out = mtssh(&env, &[&["push", "--verify"][..], &base, &sources].concat()).await;
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("mock-[01-02] (failed: --verify: sha256 differs for 1 file: ./same.bin"),
        "{}",
        out.stdout
    );
    for host in 0..2 {
        let remote = server.sftp_dir(host).unwrap().join("same.bin");
        assert_eq!(sha_of(&remote), sha_of(&second));
    }
}

#[tokio::test]
async fn verify_against_sshd_reports_a_file_changed_after_upload() {
    if !sshd::available() || !support::have_all(&[SFTP_SERVER, "sha256sum"]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 1,
            extra: vec![format!("Subsystem sftp {SFTP_SERVER}")],
            ..Default::default()
        },
    );
    let known = env.path(".ssh/known_hosts");
    let hosts = sshd_hosts(&env, &server.addrs, &known, "accept-new");
    // The host is this machine: a directory the login user (not root) may write to.
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let remote = shared.path().to_str().unwrap();
    let (first, second) = same_name_twice(&env);
    let out = mtssh(
        &env,
        &[
            "push",
            "--verify",
            "-f",
            hosts.to_str().unwrap(),
            first.to_str().unwrap(),
            second.to_str().unwrap(),
            remote,
        ],
    )
    .await;
    assert_eq!(
        out.code,
        Some(3),
        "{}\n{}\n{}",
        out.stdout,
        out.stderr,
        server.log()
    );
    assert!(
        out.stdout.contains(&format!(
            "h01 (failed: --verify: sha256 differs for 1 file: {remote}/same.bin"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(sha_of(&shared.path().join("same.bin")), sha_of(&second));
}

/// The cipher a session to OpenSSH negotiates follows the CPU: AES-GCM with hardware AES
/// (a third less client CPU per byte), ChaCha20-Poly1305 otherwise; sshd's debug log says
/// which one the client chose.
#[tokio::test]
async fn a_push_to_sshd_uses_aes_gcm_when_the_cpu_has_aes_and_chacha20_otherwise() {
    if !sshd::available() || !support::have_all(&[SFTP_SERVER]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            // The first value wins: this replaces the helper's `LogLevel ERROR`.
            extra: vec![
                "LogLevel DEBUG1".into(),
                format!("Subsystem sftp {SFTP_SERVER}"),
            ],
            ..Default::default()
        },
    );
    let known = env.path(".ssh/known_hosts");
    let hosts = sshd_hosts(&env, &server.addrs, &known, "accept-new");
    let (payload, _) = make_sources(&env);
    let remote = tempfile::tempdir().unwrap();
    std::fs::set_permissions(remote.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = mtssh(
        &env,
        &[
            "push",
            "-f",
            hosts.to_str().unwrap(),
            payload.to_str().unwrap(),
            remote.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(sha_of(&remote.path().join("payload.bin")), sha_of(&payload));
    let expected = if mtssh::ssh::algorithms::has_hardware_aes() {
        "aes256-gcm@openssh.com"
    } else {
        "chacha20-poly1305@openssh.com"
    };
    let log = server.log();
    let chosen: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("kex: client->server cipher:"))
        .collect();
    assert!(!chosen.is_empty(), "sshd logged no cipher choice:\n{log}");
    assert!(
        chosen.iter().all(|l| l.contains(expected)),
        "expected {expected}: {chosen:?}"
    );
}

#[tokio::test]
async fn push_with_streams_1_moves_one_host_at_a_time_and_every_host_gets_the_file() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let (payload, _tree) = make_sources(&env);
    let out = mtssh(
        &env,
        &[
            "push",
            "--streams",
            "1",
            "-f",
            hosts.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            payload.to_str().unwrap(),
            ".",
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("mock-[01-03] (exit 0)"),
        "{}",
        out.stdout
    );
    // Each copy was made (its temporary file created: the inode's birth, which the rename
    // keeps) after the copy before it was last written: never two at once.
    let mut spans = Vec::new();
    for host in 0..3 {
        let got = server.sftp_dir(host).unwrap().join("payload.bin");
        assert_eq!(sha_of(&got), sha_of(&payload), "host {host}");
        let meta = std::fs::metadata(&got).unwrap();
        match meta.created() {
            Ok(born) => spans.push((born, meta.modified().unwrap())),
            Err(e) => eprintln!("notice: no file birth times here ({e}); order not checked"),
        }
    }
    spans.sort();
    for pair in spans.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "a copy started before the one before it ended: {spans:?}"
        );
    }
}

/// `--streams auto` (the default) holds a large push to a few hosts at first and lets the
/// rest in as places free or the limit grows: every host still gets the whole file.
#[tokio::test]
async fn a_large_push_under_streams_auto_reaches_every_host_whole() {
    let env = TestEnv::new();
    let server = support::mock(10).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let big = env.path("big.bin");
    // Over the 16 MiB per host from which `auto` measures.
    std::fs::write(&big, support::noise(17 * 1024 * 1024 + 5)).unwrap();
    let out = mtssh(
        &env,
        &[
            "push",
            "-vv",
            "-f",
            hosts.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            big.to_str().unwrap(),
            ".",
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("mock-[01-10] (exit 0)"),
        "{}",
        out.stdout
    );
    for host in 0..10 {
        let got = server.sftp_dir(host).unwrap().join("big.bin");
        assert_eq!(sha_of(&got), sha_of(&big), "host {host}");
    }
}
