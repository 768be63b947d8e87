//! `mtssh run` loses nothing and never hangs: output directories that fail, stdout that
//! fails or closes, signals that end the run, files that never end, warnings and names that
//! would reach the terminal raw. Each case is a row of docs/RELIABILITY.md's fault matrix.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;

use crate::run_cmd::{RunOutput, mtssh_with, sshd_hosts};
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv};

pub const PW: (&str, &str) = ("MOCK_PW", "123456");

/// A host list naming each host as given, every one on a host of the mock server, logging in
/// with the practice password from the `MOCK_PW` variable.
pub fn named_hosts(env: &TestEnv, server: &mtssh::mock::MockServer, names: &[&str]) -> PathBuf {
    let mut text = format!(
        "[defaults]\nuser = \"test\"\npassword_env = \"MOCK_PW\"\nknown_hosts = \"{}\"\n\n",
        env.path("kh").display()
    );
    for (i, name) in names.iter().enumerate() {
        let host = &server.hosts()[i % server.hosts().len()];
        text.push_str(&format!(
            "[[hosts]]\nname = {}\nhost = \"{}\"\nport = {}\n\n",
            toml_string(name),
            host.addr.ip(),
            host.addr.port()
        ));
    }
    let path = env.path(&format!("named-{}.toml", names.len()));
    std::fs::write(&path, text).unwrap();
    path
}

/// A TOML basic string (escapes spelled out, so a name may hold control characters).
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out + "\""
}

/// A child `mtssh run` with piped stdout and stderr.
fn spawn(env: &TestEnv, args: &[&str]) -> tokio::process::Child {
    let mut cmd = env.command(support::mtssh_bin());
    cmd.env(PW.0, PW.1)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn expected_seq(n: usize) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

#[tokio::test]
async fn an_outdir_that_cannot_be_written_refuses_the_run_before_anything_connects() {
    let env = TestEnv::new();
    // The only host is a listener the test watches: did mtssh connect at all?
    let ip = support::loopback();
    let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let host = format!("test@{ip}:{}", listener.local_addr().unwrap().port());
    let file = env.path("a-file");
    std::fs::write(&file, "x").unwrap();
    // Root writes anywhere a mode allows; these fail for root too: a path under a regular
    // file (ENOTDIR) and a new directory in /proc (ENOENT) and /sys (EPERM).
    for dir in [
        file.join("sub"),
        PathBuf::from("/proc/mtssh-outdir/sub"),
        PathBuf::from("/sys/mtssh-outdir"),
    ] {
        let out = mtssh_with(
            &env,
            &[],
            &[
                "run",
                "-H",
                &host,
                "--connect-timeout",
                "2",
                "--outdir",
                dir.to_str().unwrap(),
                "-c",
                "true",
            ],
        )
        .await;
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("--outdir {}", dir.display())),
            "names the directory: {}",
            out.stderr
        );
        assert!(
            matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "connected to a host before refusing the output directory"
        );
    }
}

#[tokio::test]
async fn an_outdir_write_failing_midway_still_prints_the_report_and_names_the_file() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let hosts = named_hosts(&env, &server, &["web"]);
    let dir = env.path("out");
    let mut child = spawn(
        &env,
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--inline",
            "--outdir",
            dir.to_str().unwrap(),
            "-c",
            "echo first; sleep 1; echo second",
        ],
    );
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the first line comes")
        .unwrap();
    assert_eq!(first.as_deref(), Some("web: first"));
    // The directory goes away and a file takes its place: every later write fails.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, "not a directory").unwrap();
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("ends")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(rest, ["web: second"], "the report is still printed");
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!("writing {} failed", dir.join("web.out").display())),
        "{stderr}"
    );
    assert!(stderr.contains("1 hosts: 1 ok"), "{stderr}");
}

#[tokio::test]
async fn the_outdir_gets_every_byte_in_files_of_their_own() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    // Names that differ only in `/`, `:` and `_`, and a host that cannot connect, twice.
    let hosts = named_hosts(&env, &server, &["app/1", "app:1", "app_1"]);
    let closed_ip = support::loopback();
    let closed = format!("down@{closed_ip}:{}", sshd::free_port(closed_ip));
    // About 2 MB, twice --max-output's default.
    let seq = expected_seq(300_000);
    let files = ["app%2F1", "app%3A1", "app_1"];
    for (i, extra) in [
        &["--inline"][..],
        &[][..],
        &["--json", "--max-output", "1000"][..],
    ]
    .iter()
    .enumerate()
    {
        let dir = env.path(&format!("out{i}"));
        let mut args = vec![
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "-H",
            &closed,
            // The same host twice: a name that repeats gets `#2`, and files of its own.
            "-H",
            &closed,
            "--outdir",
            dir.to_str().unwrap(),
            "-c",
            "seq 300000",
        ];
        args.extend_from_slice(extra);
        let out = mtssh_with(&env, &[PW], &args).await;
        assert_eq!(out.code, Some(3), "{extra:?}: {}", out.stderr);
        for file in files {
            let got = std::fs::read(dir.join(format!("{file}.out"))).unwrap();
            assert!(
                got == seq,
                "{extra:?} {file}.out: {} of {} bytes",
                got.len(),
                seq.len()
            );
            assert_eq!(std::fs::read(dir.join(format!("{file}.err"))).unwrap(), b"");
        }
        // The host that failed: its error is the report's, not a line it printed.
        for name in [closed.clone(), format!("{closed}#2")] {
            let down = mtssh::text::unique_file_name(&name);
            assert_eq!(std::fs::read(dir.join(format!("{down}.err"))).unwrap(), b"");
        }
        let entries = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(entries, 15, "{extra:?}: three files a host");
        match i {
            0 => assert!(out.stdout.contains("app_1: 300000\n"), "inline"),
            1 => assert!(
                out.stdout.contains("\n[output cut: ")
                    && out.stdout.contains("; raise --max-output]"),
                "the report says where it cut"
            ),
            _ => {
                let hosts = support::json_by_name(&out.stdout);
                let v = hosts
                    .iter()
                    .find(|h| h["name"] == "app_1")
                    .unwrap_or_else(|| panic!("{}", out.stdout));
                assert_eq!(v["stdout"].as_str().unwrap().len(), 1000);
                assert_eq!(v["stdout_dropped_bytes"], seq.len() as u64 - 1000);
            }
        }
    }
}

/// The kill of a test child: signal `sig` to `child`.
fn signal(child: &tokio::process::Child, sig: libc::c_int) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id().unwrap() as i32, sig) };
}

#[tokio::test]
async fn sighup_keeps_partial_results_and_the_outdir() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let dir = env.path("out");
    let mut child = spawn(
        &env,
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            "--inline",
            "--outdir",
            dir.to_str().unwrap(),
            "-c",
            "echo started; sleep 30",
        ],
    );
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..3 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(line.ends_with(": started"), "{line}");
    }
    // What a dropped SSH link to the jump box the run was started from sends.
    signal(&child, libc::SIGHUP);
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits promptly")
        .unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(
        rest.iter()
            .filter(|l| l.ends_with(": mtssh: interrupted"))
            .count(),
        3,
        "{rest:?}"
    );
    for i in 1..=3 {
        let got = std::fs::read_to_string(dir.join(format!("mock-0{i}.out"))).unwrap();
        assert_eq!(got, "started\n");
    }
}

#[tokio::test]
async fn the_blocking_modes_report_what_arrived_when_interrupted() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 2,
            ..Default::default()
        },
    );
    let hosts = sshd_hosts(
        &env,
        &server.addrs,
        &env.path(".ssh/known_hosts"),
        "accept-new",
    );
    // Each command marks that it has printed, in a directory the login user may write to.
    let marks = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        marks.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let command = format!(
        "set -- $SSH_CONNECTION; echo started; sleep 0.3; touch {}/$3; sleep 30",
        marks.path().display()
    );
    for (mode, started, signal_number) in [
        ("sequential", 1, libc::SIGINT),
        ("threads", 2, libc::SIGTERM),
    ] {
        for entry in std::fs::read_dir(marks.path()).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
        let child = spawn(
            &env,
            &[
                "run",
                "-f",
                hosts.to_str().unwrap(),
                "--mode",
                mode,
                "--json",
                "-c",
                &command,
            ],
        );
        support::wait_for(
            "the commands to print",
            Duration::from_secs(30),
            async || (std::fs::read_dir(marks.path()).unwrap().count() >= started).then_some(()),
        )
        .await;
        signal(&child, signal_number);
        let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
            .await
            .expect("exits promptly")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(130), "{mode}: {stdout}");
        let hosts: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(hosts.len(), 2, "{mode}: {stdout}");
        for (i, host) in hosts.iter().enumerate() {
            assert_eq!(host["outcome"], "interrupted", "{mode}: {host}");
            let printed = if i < started { "started\n" } else { "" };
            assert_eq!(host["stdout"], printed, "{mode}: {host}");
        }
    }
}

#[tokio::test]
async fn a_failed_write_to_stdout_is_an_error_and_a_closed_pipe_ends_the_run() {
    let env = TestEnv::new();
    let server = support::mock(2).await;
    let hosts = named_hosts(&env, &server, &["a", "b"]);
    for extra in [&[][..], &["--json"][..], &["--inline"][..]] {
        let mut cmd = env.std_command(support::mtssh_bin());
        cmd.env(PW.0, PW.1)
            .args(["run", "-f", hosts.to_str().unwrap(), "-c", "echo hi"])
            .args(extra)
            .stdout(std::fs::File::create("/dev/full").unwrap());
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the report to standard output: No space left on device"),
            "{extra:?}: {stderr}"
        );
    }
    // `| head -2`: the reader goes away after two lines; the run ends then, not after 30 s.
    let started = std::time::Instant::now();
    let mut child = spawn(
        &env,
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--inline",
            "-c",
            "seq 100000; sleep 30",
        ],
    );
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap();
    }
    drop(lines);
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("a closed pipe ends the run")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(25));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "like ssh: {stderr}"
    );
    assert!(!stderr.contains("mtssh:"), "quietly: {stderr}");
}

/// `mtssh run` under an address-space limit: a version that reads a device without end
/// dies of it instead of taking the machine's memory.
async fn run_limited(env: &TestEnv, args: &[&str]) -> RunOutput {
    let mut cmd = env.command(support::mtssh_bin());
    cmd.env(PW.0, PW.1).args(args);
    // SAFETY: only setrlimit between fork and exec.
    unsafe {
        cmd.as_std_mut().pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("ends within 30 s")
        .unwrap();
    RunOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn files_that_never_end_are_refused_naming_the_file() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let hosts = named_hosts(&env, &server, &["web"]);
    let hosts = hosts.to_str().unwrap();
    let include = env.path("includes-zero");
    std::fs::write(&include, "Include /dev/zero\n").unwrap();
    let huge = env.path("huge.toml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    let out = run_limited(&env, &["run", "-f", "/dev/zero", "-c", "true"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/dev/zero: cannot read: not a regular file (a character device)"),
        "{}",
        out.stderr
    );
    let out = run_limited(&env, &["run", "-f", huge.to_str().unwrap(), "-c", "true"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("huge.toml: cannot read: larger than 64 MiB"),
        "{}",
        out.stderr
    );
    // The other files only warn, as an unreadable one always did, and the run goes on.
    for (args, said) in [
        (
            ["--ssh-config", "/dev/zero"],
            "/dev/zero: cannot read: not a regular file",
        ),
        (
            ["--ssh-config", include.to_str().unwrap()],
            "cannot read included /dev/zero: not a regular file",
        ),
        (
            ["--known-hosts", "/dev/zero"],
            "cannot read /dev/zero: not a regular file",
        ),
    ] {
        let mut all = vec!["run", "-f", hosts, "-c", "echo hi"];
        all.extend_from_slice(&args);
        let out = run_limited(&env, &all).await;
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(said), "{args:?}: {}", out.stderr);
    }
}

#[tokio::test]
async fn warnings_are_plain_text_off_a_terminal_and_said_once() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let hosts = named_hosts(&env, &server, &["web"]);
    let kh = env.path("kh");
    std::fs::write(&kh, "broken.example ssh-ed25519 AAAA\n").unwrap();
    let out = mtssh_with(
        &env,
        &[PW],
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--host-key-check",
            "strict",
            "-c",
            "true",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\x1b'),
        "colour codes into a pipe: {:?}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("kh:1: skipped").count(),
        1,
        "{}",
        out.stderr
    );
    let both = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(
        both.matches("is not in known_hosts").count(),
        1,
        "said once: {both}"
    );
}
