//! What `mtssh run` prints, against a real sshd: a command killed by a signal is reported as
//! that signal, `--json` objects come as each host ends, stderr is shown apart in the folded
//! report, `--outdir` writes how each host ended, and `--inline` lines fold with `dshbak -c`
//! exactly as pdsh's do.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::run_cmd::{mtssh, sshd_hosts};
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv};

/// An sshd on `addresses` loopback addresses and a host list naming each (`h01`, `h02`, …).
fn sshd_with_hosts(env: &TestEnv, addresses: usize) -> (Sshd, String) {
    let server = Sshd::start(
        env,
        SshdOptions {
            addresses,
            ..Default::default()
        },
    );
    let hosts = sshd_hosts(env, &server.addrs, &env.path("known_hosts"), "accept-new");
    (server, hosts.to_string_lossy().into_owned())
}

/// `mtssh ARGS` with its stdout read line by line as it comes.
fn spawn_lines(
    env: &TestEnv,
    args: &[&str],
) -> (
    tokio::process::Child,
    tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) {
    let mut child = env
        .command(support::mtssh_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mtssh runs");
    let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    (child, lines)
}

/// The next line of stdout, within 30 s.
async fn next_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    what: &str,
) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("no line in 30 s: {what}"))
        .expect("stdout reads")
}

/// Its exit code, within 30 s.
async fn exit_code(child: &mut tokio::process::Child) -> Option<i32> {
    tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("mtssh ends")
        .expect("waits")
        .code()
}

#[tokio::test]
async fn a_command_killed_by_a_signal_is_reported_as_that_signal() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let (_server, hosts) = sshd_with_hosts(&env, 1);
    // The remote shell kills itself: sshd sends exit-signal TERM; what it printed first stays.
    let command = "echo before; kill -TERM $$";

    let out = mtssh(&env, &["run", "-f", &hosts, "-c", command]).await;
    assert_eq!(
        out.code,
        Some(1),
        "a killed command is a failed command, not a lost host: {}{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("h01 (signal TERM)\n"), "{}", out.stdout);
    assert!(out.stdout.contains("before\n"), "{}", out.stdout);
    assert!(
        out.stderr.contains("1 non-zero exit, 0 failed"),
        "{}",
        out.stderr
    );

    let out = mtssh(&env, &["run", "-f", &hosts, "--json", "-c", command]).await;
    let host: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("one JSON line");
    assert_eq!(host["exit_signal"], "TERM", "{host}");
    assert_eq!(host["outcome"], "non-zero", "{host}");
    assert_eq!(host["error"], serde_json::Value::Null, "{host}");
    assert_eq!(host["stdout"], "before\n", "{host}");

    let dir = env.path("out");
    let dir_arg = dir.to_str().unwrap();
    for (command, rc) in [
        (command, "signal TERM\n"),
        ("exit 3", "3\n"),
        ("true", "0\n"),
    ] {
        let out = mtssh(
            &env,
            &["run", "-f", &hosts, "--outdir", dir_arg, "-c", command],
        )
        .await;
        assert!(out.code.is_some(), "{}", out.stderr);
        let written = std::fs::read_to_string(dir.join("h01.rc")).unwrap();
        assert_eq!(written, rc, "{command}");
    }
}

#[tokio::test]
async fn an_unreachable_host_has_an_rc_file_that_names_its_error() {
    let env = TestEnv::new();
    let closed = support::loopback();
    let port = sshd::free_port(closed);
    let dir = env.path("out");
    let spec = format!("test@{closed}:{port}");
    let out = mtssh(
        &env,
        &[
            "run",
            "-H",
            &spec,
            "--outdir",
            dir.to_str().unwrap(),
            "-c",
            "true",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let name = format!("test@{closed}:{port}");
    let rc = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "rc"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap_or_else(|| panic!("no .rc file for {name}"));
    assert_eq!(rc, "error refused\n");
}

#[tokio::test]
async fn json_objects_come_as_each_host_ends() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let (_server, hosts) = sshd_with_hosts(&env, 2);
    // The first host to take the lock ends at once; the other waits until the test has read
    // the first one's object and made the flag (bounded: 20 s at most).
    // Where the remote user (not the test's) may write.
    let shared = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let lock = shared.path().join("lock");
    let flag = shared.path().join("flag");
    let command = format!(
        "if mkdir {lock} 2>/dev/null; then echo first; else i=0; \
         while [ ! -e {flag} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo second; fi",
        lock = lock.display(),
        flag = flag.display(),
    );
    let (mut child, mut lines) =
        spawn_lines(&env, &["run", "-f", &hosts, "--json", "-c", &command]);
    let first = next_line(
        &mut lines,
        "the first host's object, before the other host ends",
    )
    .await
    .expect("a line");
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["stdout"], "first\n", "{first}");
    assert!(!flag.exists());
    std::fs::write(&flag, "").unwrap();
    let second = next_line(&mut lines, "the second object")
        .await
        .expect("a line");
    let second: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(second["stdout"], "second\n", "{second}");
    assert_ne!(first["name"], second["name"]);
    assert_eq!(exit_code(&mut child).await, Some(0));
    assert_eq!(
        next_line(&mut lines, "the end").await,
        None,
        "one object per host"
    );
}

#[tokio::test]
async fn the_blocking_modes_stream_inline_lines_and_outdir_files_as_they_come() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let (_server, hosts) = sshd_with_hosts(&env, 1);
    let shared = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    for mode in ["sequential", "threads"] {
        // The command waits (20 s at most) until the test has seen its first line.
        let flag = shared.path().join(format!("flag-{mode}"));
        let command = format!(
            "echo started; i=0; while [ ! -e {flag} ] && [ $i -lt 400 ]; do sleep 0.05; \
             i=$((i+1)); done; echo finished",
            flag = flag.display()
        );
        let dir = env.path(&format!("out-{mode}"));
        let dir_arg = dir.to_str().unwrap();
        let args = [
            "run", "-f", &hosts, "--mode", mode, "--inline", "--outdir", dir_arg, "-c", &command,
        ];
        let (mut child, mut lines) = spawn_lines(&env, &args);
        let first = next_line(&mut lines, "the first line, while the command still runs").await;
        assert_eq!(first.as_deref(), Some("h01: started"), "{mode}");
        // The file gets it too, from the outdir's own writer thread.
        let out_file = dir.join("h01.out");
        support::wait_for(
            "h01.out to hold the first line",
            Duration::from_secs(10),
            async || {
                (std::fs::read_to_string(&out_file).unwrap_or_default() == "started\n")
                    .then_some(())
            },
        )
        .await;
        std::fs::write(&flag, "").unwrap();
        let next = next_line(&mut lines, "the rest").await;
        assert_eq!(next.as_deref(), Some("h01: finished"), "{mode}");
        assert_eq!(exit_code(&mut child).await, Some(0), "{mode}");
        assert_eq!(std::fs::read_to_string(dir.join("h01.rc")).unwrap(), "0\n");
    }
}

#[tokio::test]
async fn the_folded_report_shows_stderr_apart_and_ends_every_output() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let (_server, hosts) = sshd_with_hosts(&env, 2);
    let out = mtssh(
        &env,
        &["run", "-f", &hosts, "-c", "printf out; printf err >&2"],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .ends_with("h[01-02] (exit 0)\n---------------\nout\n--- stderr ---\nerr\n"),
        "{:?}",
        out.stdout
    );
}

/// An ssh_config naming three hosts on three addresses of one sshd, for ssh (pdsh) and mtssh
/// alike: `n1`, `n2`, `n3` reach the first, second and third.
fn pdsh_config(env: &TestEnv, server: &Sshd) -> PathBuf {
    let key = env.key("client_ed25519");
    let [a, b, c] = [server.addrs[0], server.addrs[1], server.addrs[2]];
    let text = format!(
        "Host n1\n  HostName {}\nHost n2\n  HostName {}\nHost n3\n  HostName {}\nHost *\n  Port {}\n  User {}\n  \
         IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
         StrictHostKeyChecking accept-new\n  BatchMode yes\n",
        a.ip(),
        b.ip(),
        c.ip(),
        a.port(),
        sshd::login_user(),
        key.display(),
        env.path("known_hosts").display(),
    );
    let path = env.path("ssh_config");
    std::fs::write(&path, text).unwrap();
    path
}

/// `PROGRAM ARGS | dshbak -c`, in the test env; dshbak's output.
async fn through_dshbak(
    env: &TestEnv,
    vars: &[(&str, &str)],
    program: &Path,
    args: &[&str],
) -> String {
    let mut run = env
        .std_command(program)
        .envs(vars.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    let stdout = run.stdout.take().expect("piped");
    let folded = env
        .command("dshbak")
        .arg("-c")
        .stdin(Stdio::from(stdout))
        .output();
    let folded = tokio::time::timeout(Duration::from_secs(60), folded)
        .await
        .expect("dshbak ends")
        .expect("dshbak runs");
    // dshbak saw the end of its input: the run is over (or about to be).
    let _ = run.wait();
    String::from_utf8_lossy(&folded.stdout).into_owned()
}

#[tokio::test]
async fn inline_output_folds_with_dshbak_as_pdsh_output_does() {
    if !sshd::available() || !support::have_all(&["pdsh", "dshbak", "ssh"]) {
        return;
    }
    let env = TestEnv::new();
    let server = Sshd::start(
        &env,
        SshdOptions {
            addresses: 3,
            ..Default::default()
        },
    );
    let config = pdsh_config(&env, &server);
    let config_arg = config.to_str().unwrap();
    // n2 answers apart from n1 and n3; a second line is the same everywhere.
    let second = server.addrs[1].ip();
    let command = format!(
        "set -- $SSH_CONNECTION; if [ $3 = {second} ]; then echo two; else echo one; fi; echo same"
    );
    let command = command.as_str();
    let ssh_args = format!("-F {config_arg}");
    let pdsh = through_dshbak(
        &env,
        &[
            ("PDSH_RCMD_TYPE", "ssh"),
            ("PDSH_SSH_ARGS_APPEND", &ssh_args),
        ],
        Path::new("pdsh"),
        &["-w", "n1,n2,n3", command],
    )
    .await;
    let ours = through_dshbak(
        &env,
        &[],
        &support::mtssh_bin(),
        &[
            "run",
            "--ssh-config",
            config_arg,
            "-H",
            "n1,n2,n3",
            "--inline",
            "-c",
            command,
        ],
    )
    .await;
    assert!(
        pdsh.contains("n[1,3]") && pdsh.contains("n2"),
        "pdsh's grouping: {pdsh}"
    );
    assert_eq!(
        ours, pdsh,
        "mtssh | dshbak -c should fold as pdsh | dshbak -c does"
    );
}

#[tokio::test]
async fn bash_takes_the_completion_script_and_man_reads_the_page() {
    if !support::have_all(&["bash", "man"]) {
        return;
    }
    let env = TestEnv::new();
    let script = env.path("mtssh.bash");
    let out = env
        .command(support::mtssh_bin())
        .args(["completions", "bash"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&script, &out.stdout).unwrap();
    let registered = env
        .command("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p mtssh", script.display()))
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&registered.stdout);
    assert!(
        registered.status.success() && said.contains("mtssh"),
        "{said}"
    );

    let page = env.path("mtssh-run.1");
    let out = env
        .command(support::mtssh_bin())
        .args(["man", "run"])
        .output()
        .await
        .unwrap();
    std::fs::write(&page, &out.stdout).unwrap();
    let shown = env
        .command("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("mtssh-run") && text.contains("--inline"),
        "{text}"
    );
}
