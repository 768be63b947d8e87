//! The course guides (docs/COURSE.md, docs/COURSE.zh.md) run as tests: every command block is
//! executed and its documented output checked, so the guides cannot drift from the program.
//!
//! A fenced block's info string says what the test does with it:
//!
//! - ```` ```sh {test} ````: run with bash (stdout and stderr together); must exit 0.
//! - ```` ```sh {test: server} ````: one `mtssh mock …` line. Started on a fresh loopback
//!   address with `--port 0` (the test never needs port 2222 to be free), and kept running
//!   for the blocks after it, like the student's first terminal; stopped with Ctrl-C (SIGINT)
//!   when the next server block starts or the guide ends.
//! - ```` ```python {test} ````: run with python3; must exit 0.
//! - ```` ```sh {no-test: why} ````: not run; only the TUI launch may be untested, so each
//!   line must be `cargo run --release` or an `mtssh` command line that opens the TUI.
//! - ```` ```text {input} ````: typed into the previous block once the mock's prompt shows.
//! - ```` ```text {expect} ````: lines that must appear, in this order, in the previous block's
//!   output. `…` stands for any text within a line (numbers, timings, keys); runs of spaces
//!   match any spacing; colours and carriage returns are ignored.
//!
//! The course address is rewritten, in commands and expected output alike, to where the
//! running mock server really listens: `127.0.0.1:2222` (and `:2223`… for `--hosts N`) to each
//! host's address, a bare `2222` to the first host's port, `127.0.0.1` to its IP.
//!
//! In command blocks `mtssh` is this build's binary and `ssh` is OpenSSH run through sshpass
//! (password 123456) with `-F /dev/null` and a known_hosts file inside the test's HOME; in a
//! block with `{input}` it also gets `-tt`, the PTY a person's terminal would give it.
//! Blocks needing ssh/sshpass or python paramiko are skipped with a notice when those are
//! missing (required under MTSSH_REQUIRE_PEERS=1), and so is an `mtssh bench --sessions N`
//! block when the hard open-file limit cannot hold N sessions.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::support::{self, TestEnv};

const GUIDES: [&str; 2] = ["docs/COURSE.md", "docs/COURSE.zh.md"];
/// Longest a block may run (the benchmark in a debug build is the slowest).
const BLOCK_LIMIT: Duration = Duration::from_secs(240);
/// What the mock's shell prompt ends with (`test@mock-01:~$ `).
const PROMPT: &str = ":~$ ";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Shell,
    Server,
    Python,
    NoTest(String),
}

#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence, for messages.
    line: usize,
    kind: Kind,
    code: String,
    input: Option<String>,
    expect: Option<String>,
}

fn read_guide(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced blocks of a guide, with `{input}` and `{expect}` blocks attached to the block
/// they follow. Panics on an unmarked command block or a stray marker.
fn parse(name: &str, text: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let mut body = String::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner.trim() == "```" {
                closed = true;
                break;
            }
            body.push_str(inner.get(indent..).unwrap_or(inner.trim_start()));
            body.push('\n');
        }
        let at = format!("{name}:{}", n + 1);
        assert!(closed, "{at}: unclosed code block");
        let (lang, marker) = match info.split_once('{') {
            Some((lang, rest)) => {
                let marker = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("{at}: marker must end with }}"));
                (lang.trim(), Some(marker.trim()))
            }
            None => (info.trim(), None),
        };
        let runnable = matches!(lang, "sh" | "bash" | "shell" | "console" | "python" | "py");
        let kind = match (marker, lang) {
            (Some("test"), "python" | "py") => Some(Kind::Python),
            (Some("test"), _) if runnable => Some(Kind::Shell),
            (Some("test: server"), _) if runnable => Some(Kind::Server),
            (Some(m), _) if runnable && m.starts_with("no-test:") => {
                let why = m["no-test:".len()..].trim();
                assert!(!why.is_empty(), "{at}: no-test needs a reason");
                Some(Kind::NoTest(why.to_string()))
            }
            (Some("expect" | "input"), _) => None,
            (None, _) if !runnable => None,
            (m, _) => panic!(
                "{at}: block ```{lang} needs {{test}}, {{test: server}} or {{no-test: why}}, \
                 found {m:?}"
            ),
        };
        if let Some(kind) = kind {
            blocks.push(Block {
                line: n + 1,
                kind,
                code: body,
                input: None,
                expect: None,
            });
            continue;
        }
        let Some(marker) = marker else {
            continue;
        };
        let owner = blocks
            .last_mut()
            .filter(|b| !matches!(b.kind, Kind::NoTest(_)))
            .unwrap_or_else(|| panic!("{at}: {{{marker}}} block follows no tested block"));
        let slot = if marker == "expect" {
            &mut owner.expect
        } else {
            &mut owner.input
        };
        assert!(
            slot.is_none(),
            "{at}: a second {marker:?} block for one command"
        );
        *slot = Some(body);
    }
    blocks
}

/// The guides' command lines, comparable across languages: comments (`#` at the start, or
/// after two spaces) and `--lang zh` dropped.
fn commands(blocks: &[Block]) -> Vec<String> {
    let mut out = Vec::new();
    for b in blocks {
        for text in [Some(&b.code), b.input.as_ref()].into_iter().flatten() {
            for line in text.lines() {
                let line = line.split("  #").next().unwrap_or("").trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                out.push(format!(
                    "{:?}: {}",
                    b.kind_name(),
                    line.replace(" --lang zh", "")
                ));
            }
        }
    }
    out
}

impl Block {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Shell => "test",
            Kind::Server => "server",
            Kind::Python => "python",
            Kind::NoTest(_) => "no-test",
        }
    }
}

#[test]
fn guides_are_marked_translated_and_linked() {
    let en = parse(GUIDES[0], &read_guide(GUIDES[0]));
    let zh = parse(GUIDES[1], &read_guide(GUIDES[1]));
    assert!(en.len() >= 10, "the English guide has too few blocks");
    let (en_cmds, zh_cmds) = (commands(&en), commands(&zh));
    for (i, (a, b)) in en_cmds.iter().zip(&zh_cmds).enumerate() {
        assert_eq!(a, b, "command {} differs between the guides", i + 1);
    }
    assert_eq!(
        en_cmds.len(),
        zh_cmds.len(),
        "the guides run different numbers of commands"
    );
    for blocks in [&en, &zh] {
        for b in blocks.iter() {
            match &b.kind {
                Kind::NoTest(_) => b.code.lines().for_each(assert_launches_tui),
                Kind::Server => assert!(b.expect.is_some(), "line {}: no {{expect}}", b.line),
                _ => {}
            }
        }
    }
    let readme = read_guide("README.md");
    assert!(
        readme.contains("docs/COURSE.md") && readme.contains("docs/COURSE.zh.md"),
        "README links the guides"
    );
}

/// An untested line may only open the TUI: `cargo run --release [-- ARGS]` or `mtssh ARGS`
/// with no subcommand, whose ARGS must parse.
fn assert_launches_tui(line: &str) {
    let line = line.split("  #").next().unwrap_or("").trim();
    if line.is_empty() || line.starts_with('#') {
        return;
    }
    let mut words: Vec<&str> = line
        .split_whitespace()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'))
        .collect();
    if words.starts_with(&["cargo", "run", "--release"]) {
        words = match words.iter().position(|w| *w == "--") {
            Some(i) => [&["mtssh"], &words[i + 1..]].concat(),
            None => vec!["mtssh"],
        };
    }
    assert_eq!(words.first(), Some(&"mtssh"), "untested line {line:?}");
    let cli = <mtssh::cli::Cli as clap::Parser>::try_parse_from(&words)
        .unwrap_or_else(|e| panic!("untested line {line:?} does not parse: {e}"));
    assert!(
        cli.command.is_none(),
        "only the TUI launch may be untested: {line:?}"
    );
}

/// Every key the guides name (`<kbd>…</kbd>`) is one the TUI's help table lists.
#[test]
fn guide_keys_are_the_tuis_keys() {
    let keys: Vec<&str> = mtssh::app::help::KEY_HELP
        .iter()
        .filter(|(_, what)| !what.is_empty())
        .map(|(keys, _)| *keys)
        .collect();
    for name in GUIDES {
        let text = read_guide(name);
        let named: Vec<&str> = text
            .split("<kbd>")
            .skip(1)
            .filter_map(|s| s.split_once("</kbd>").map(|(k, _)| k))
            .collect();
        assert!(named.len() >= 8, "{name}: the TUI section names its keys");
        for key in named {
            assert!(
                keys.iter().any(|k| k.contains(key)),
                "{name}: <kbd>{key}</kbd> is not in src/app/help.rs"
            );
        }
    }
}

#[tokio::test]
async fn english_guide_runs() {
    run_guide(GUIDES[0]).await;
}

#[tokio::test]
async fn chinese_guide_runs() {
    run_guide(GUIDES[1]).await;
}

async fn run_guide(name: &str) {
    let blocks = parse(name, &read_guide(name));
    // Its benchmark loads both cores and its steps time sessions: never alongside the
    // other heavy tests.
    let _heavy = support::heavy().await;
    let mut guide = Guide::new();
    for block in &blocks {
        let at = format!("{name}:{}", block.line);
        match block.kind {
            Kind::NoTest(_) => {}
            Kind::Server => guide.start_server(&at, block).await,
            Kind::Shell | Kind::Python => {
                let mut needs = Vec::new();
                if block.kind == Kind::Python {
                    needs.extend(["python3", "paramiko"]);
                }
                if block.code.lines().any(runs_ssh) {
                    needs.extend(["ssh", "sshpass"]);
                }
                if !support::have_all(&needs) || !fds_suffice(&at, &block.code) {
                    eprintln!("  (the block at {at} did not run)");
                    continue;
                }
                guide.run(&at, block).await;
            }
        }
    }
    guide.stop_server().await;
}

/// Whether this machine lets a process open the sockets of the block's largest
/// `mtssh bench --sessions N` (one per session, in the mode's process and in the mock's, plus
/// a margin for the rest). mtssh raises its soft limit to the hard one, so the hard limit is
/// what counts; a lower one skips the block with a notice, as a missing program does.
fn fds_suffice(at: &str, code: &str) -> bool {
    let Some(sessions) = code.lines().filter_map(bench_sessions).max() else {
        return true;
    };
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only fills the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return true;
    }
    let needed = sessions + 256;
    if limit.rlim_max < needed {
        support::skip(&format!(
            "{at} opens {sessions} sessions, but the open-file limit is {} (needs {needed})",
            limit.rlim_max
        ));
        return false;
    }
    true
}

/// N of an `mtssh bench … --sessions N` (or `-n N`) line.
fn bench_sessions(line: &str) -> Option<u64> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let bench = words.windows(2).position(|w| w == ["mtssh", "bench"])?;
    let rest = &words[bench + 2..];
    rest.windows(2)
        .find(|w| w[0] == "--sessions" || w[0] == "-n")
        .and_then(|w| w[1].parse().ok())
}

fn runs_ssh(line: &str) -> bool {
    line.split([';', '&', '|', '('])
        .any(|part| matches!(part.split_whitespace().next(), Some("ssh" | "sshpass")))
}

/// Where the guide's mock server runs, and the student's machine: an isolated HOME and a
/// PATH whose `mtssh` and `ssh` are the test's.
struct Guide {
    env: TestEnv,
    bin: PathBuf,
    server: Option<Running>,
    hosts: Vec<SocketAddr>,
    steps: usize,
}

impl Guide {
    fn new() -> Guide {
        let env = TestEnv::new();
        let bin = env.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let mtssh = format!("#!/bin/sh\nexec '{}' \"$@\"\n", env!("CARGO_BIN_EXE_mtssh"));
        write_script(&bin.join("mtssh"), &mtssh);
        if let Some(ssh) = which("ssh") {
            let known = env.path(".ssh/known_hosts");
            let wrapper = format!(
                "#!/bin/sh\nexec sshpass -p 123456 '{ssh}' -F /dev/null \
                 -o UserKnownHostsFile='{}' -o GlobalKnownHostsFile=/dev/null \
                 -o StrictHostKeyChecking=accept-new -o ConnectTimeout=20 \
                 ${{MTSSH_COURSE_TTY:+-tt}} \"$@\"\n",
                known.display()
            );
            write_script(&bin.join("ssh"), &wrapper);
        }
        Guide {
            env,
            bin,
            server: None,
            hosts: Vec::new(),
            steps: 0,
        }
    }

    fn spawn(&self, script: &str, tty: bool) -> Running {
        let path = format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap());
        let mut cmd = self.env.command("bash");
        cmd.arg("-c")
            .arg(format!("exec 2>&1\n{script}"))
            .env("PATH", path)
            .env("MTSSH_COURSE_TTY", if tty { "1" } else { "" })
            .current_dir(self.env.home())
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("bash runs");
        let (output, reader) = support::collect(child.stdout.take().unwrap());
        Running {
            group: child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .unwrap_or(0),
            child,
            output,
            reader,
        }
    }

    async fn start_server(&mut self, at: &str, block: &Block) {
        self.stop_server().await;
        let lines: Vec<&str> = block
            .code
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(
            matches!(lines.as_slice(), [l] if l.starts_with("mtssh mock") && !l.contains("--port") && !l.contains("--bind")),
            "{at}: a server block is one `mtssh mock` line without --port/--bind"
        );
        let ip = support::loopback();
        let server = self.spawn(&format!("{} --port 0 --bind {ip}", lines[0].trim()), false);
        let expect = block.expect.as_deref().unwrap_or("");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = server.text();
            let hosts = listening(&out);
            let checked = Rewrite(&hosts).check(expect, &out);
            if !hosts.is_empty() && checked.is_ok() {
                self.hosts = hosts;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{at}: `{}` did not start as documented: {}\n--- output:\n{out}",
                lines[0],
                checked
                    .err()
                    .unwrap_or_else(|| "no `listening` line".into())
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.server = Some(server);
    }

    /// Ctrl-C, as the guide tells the student; the server says it stops.
    async fn stop_server(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        server.signal(libc::SIGINT);
        let status = tokio::time::timeout(Duration::from_secs(20), server.child.wait()).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut server.reader).await;
        let out = server.text();
        assert!(status.is_ok(), "the mock server ignores Ctrl-C:\n{out}");
        assert!(
            out.contains("mock server stopping") || out.contains("模拟服务器正在停止"),
            "{out}"
        );
        self.hosts.clear();
    }

    async fn run(&mut self, at: &str, block: &Block) {
        assert!(
            !self.hosts.is_empty(),
            "{at}: no mock server runs yet: start one with a {{test: server}} block first"
        );
        let rewrite = Rewrite(&self.hosts);
        let code = rewrite.apply(&block.code);
        self.steps += 1;
        let script = if block.kind == Kind::Python {
            let file = self.env.path(&format!("step-{}.py", self.steps));
            std::fs::write(&file, &code).unwrap();
            format!("exec python3 '{}'", file.display())
        } else {
            code
        };
        let mut running = self.spawn(&script, block.input.is_some());
        let mut stdin = running.child.stdin.take().unwrap();
        let started = Instant::now();
        if let Some(input) = &block.input {
            // Typed once the shell greets us, like a person would (earlier keys would go to
            // ssh's password prompt).
            while !running.text().contains(PROMPT) {
                if started.elapsed() > Duration::from_secs(60) || running.exited() {
                    panic!("{at}: no shell prompt:\n{}", running.text());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            for line in rewrite.apply(input).lines() {
                stdin.write_all(line.as_bytes()).await.unwrap();
                stdin.write_all(b"\r").await.unwrap();
            }
            stdin.flush().await.unwrap();
        }
        let status = match tokio::time::timeout(BLOCK_LIMIT, running.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => {
                running.signal(libc::SIGKILL);
                panic!(
                    "{at}: still running after {BLOCK_LIMIT:?}:\n{}",
                    running.text()
                );
            }
        };
        drop(stdin);
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut running.reader).await;
        // Whatever the block left behind (a backgrounded ssh) goes too.
        running.signal(libc::SIGKILL);
        let out = running.text();
        assert!(
            status.success(),
            "{at}: exited with {status}\n--- ran:\n{script}\n--- output:\n{out}"
        );
        if let Err(e) = rewrite.check(block.expect.as_deref().unwrap_or(""), &out) {
            panic!(
                "{at}: {e}\n--- ran:\n{script}\n--- output:\n{out}\n--- mock server:\n{}",
                self.server.as_ref().map(Running::text).unwrap_or_default()
            );
        }
        eprintln!("ok {at} ({:.1} s)", started.elapsed().as_secs_f64());
    }
}

/// A started block: bash in a process group of its own.
struct Running {
    child: tokio::process::Child,
    group: i32,
    output: Arc<Mutex<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Running {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    fn signal(&self, signal: i32) {
        if self.group > 0 {
            // SAFETY: signals our own process group (created by process_group(0)).
            unsafe { libc::kill(-self.group, signal) };
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

/// `listening mock-01 127.0.0.1:2222` lines: the started hosts' addresses in order.
fn listening(out: &str) -> Vec<SocketAddr> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("listening "))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect()
}

/// Turns the course's address into the running server's.
struct Rewrite<'a>(&'a [SocketAddr]);

impl Rewrite<'_> {
    /// One pass, so a rewritten address is never rewritten again.
    fn apply(&self, text: &str) -> String {
        let Some(first) = self.0.first() else {
            return text.to_string();
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'scan: while !rest.is_empty() {
            for (i, addr) in self.0.iter().enumerate() {
                let course = format!("127.0.0.1:{}", 2222 + i);
                if let Some(after) = rest.strip_prefix(&course)
                    && !after.starts_with(|c: char| c.is_ascii_digit())
                {
                    out.push_str(&addr.to_string());
                    rest = after;
                    continue 'scan;
                }
            }
            if let Some(after) = rest.strip_prefix("127.0.0.1") {
                out.push_str(&first.ip().to_string());
                rest = after;
                continue;
            }
            let digit_before = out.ends_with(|c: char| c.is_ascii_digit());
            if let Some(after) = rest.strip_prefix("2222")
                && !digit_before
                && !after.starts_with(|c: char| c.is_ascii_digit())
            {
                out.push_str(&first.port().to_string());
                rest = after;
                continue;
            }
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    /// Every expected line, rewritten, matches an output line, in order.
    fn check(&self, expect: &str, output: &str) -> Result<(), String> {
        let output = clean(output);
        let mut lines = output.lines();
        for want in expect.lines() {
            let want = squeeze(&self.apply(want));
            if want.is_empty() {
                continue;
            }
            if !lines.any(|got| matches(&want, &squeeze(got))) {
                return Err(format!("expected line not found (in order): {want:?}"));
            }
        }
        Ok(())
    }
}

/// Output as a person sees it: escape sequences gone, `\r` a line break.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' || c == '\x1b' {
                            chars.next_if_eq(&'\\');
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => out.push('\n'),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `want` occurs in `got`, each `…` standing for any text.
fn matches(want: &str, got: &str) -> bool {
    let mut at = 0;
    for part in want.split('…').map(str::trim).filter(|p| !p.is_empty()) {
        match got[at..].find(part) {
            Some(i) => at += i + part.len(),
            None => return false,
        }
    }
    true
}

fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn which(program: &str) -> Option<String> {
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty()).then_some(path)
}

#[test]
fn placeholders_and_rewriting() {
    assert!(matches("real 0m…s", "real 0m5.123s"));
    assert!(matches("mock-01 … ok", "x mock-01 1.2 s ok"));
    assert!(!matches("a…b", "ba"));
    let hosts: Vec<SocketAddr> = vec![
        "127.9.0.2:40001".parse().unwrap(),
        "127.9.0.2:2222".parse().unwrap(),
    ];
    assert_eq!(
        bench_sessions("mtssh bench --sessions 2000 --modes threads"),
        Some(2000)
    );
    assert_eq!(bench_sessions("mtssh bench -n 20"), Some(20));
    assert_eq!(bench_sessions("mtssh run --count 3 -H x"), None);
    let r = Rewrite(&hosts);
    assert_eq!(
        r.apply("ssh -p 2222 test@127.0.0.1; 127.0.0.1:2223 127.0.0.1:2222 22222"),
        "ssh -p 40001 test@127.9.0.2; 127.9.0.2:2222 127.9.0.2:40001 22222"
    );
    assert_eq!(
        clean("a\x1b[1;31mb\x1b[0m\r\nc\x1b]0;t\x07d"),
        "ab\n\ncd".to_string()
    );
    let text = "listening mock-01 127.9.0.2:40001\nother";
    assert_eq!(listening(text), vec![hosts[0]]);
    assert!(
        Rewrite(&hosts)
            .check("mock-01 127.0.0.1:2222", text)
            .is_ok()
    );
}
