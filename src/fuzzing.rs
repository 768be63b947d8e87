//! Fuzz targets: one function per parser that takes arbitrary bytes and must neither panic
//! nor hang on any of them.
//!
//! The same functions back three runners: the libFuzzer targets in `fuzz/` (`cargo fuzz`),
//! the dependency-free random harness here ([`run_random`], used by `scripts/fuzz.sh` when
//! cargo-fuzz is not available and by a bounded test), and the corpus replay test that
//! runs every file of `fuzz/corpus/<target>/` through its target in every `cargo test`.
//! Built only for tests and with `--features fuzzing`, so it never ships.
//! Targets also check properties where there is one to check (range folding round-trips,
//! pane output carrying no terminal string sequences), so a broken property is a crash too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[cfg(test)]
use crate::test_support::check_terminal_output;
use crate::test_support::draw_and_check;

/// A fuzz target: bytes in, panic on a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus directory and libFuzzer binary have.
pub const TARGETS: &[(&str, Target)] = &[
    ("host_file", host_file),
    ("range", range),
    ("known_hosts", known_hosts),
    ("ssh_config", ssh_config),
    ("shell", shell),
    ("pane", pane),
];

/// Looks a target up by name.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The TOML host list, the plain host list and the `-H` argument parsers.
pub fn host_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("fuzz.toml");
    match crate::config::parse_host_file(&text, path) {
        Ok(file) => {
            let _ = format!("{file:?}");
            let groups: Vec<String> = file
                .hosts
                .iter()
                .flat_map(|h| h.groups.iter().cloned())
                .take(3)
                .collect();
            let exclude: Vec<String> = file.hosts.iter().map(|h| h.name.clone()).take(2).collect();
            let hosts: Vec<String> = text.lines().take(2).map(str::to_owned).collect();
            let query = crate::config::Query {
                all: false,
                hosts: &hosts,
                groups: &groups,
                exclude: &exclude,
            };
            let _ = crate::config::select(&file.hosts, &query, &Default::default());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = crate::config::parse_plain_host_file(&text, path).map_err(|e| e.to_string());
    let _ = crate::config::parse_host_list_arg(&text).map_err(|e| e.to_string());
}

/// Range expansion and folding. Each line of the input is a pattern; what expands must fold
/// back to patterns that expand to the same set of names.
pub fn range(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut all = Vec::new();
    for pattern in text.lines() {
        if let Ok(names) = crate::config::expand(pattern) {
            check_fold(&names);
            all.extend(names.into_iter().take(1000));
        }
    }
    check_fold(&all);
    // The lines taken as plain names too (bracket-free ones: a name with a bracket is not a
    // name `expand` can give back).
    let plain: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(['[', ']']))
        .collect();
    check_fold(&plain);
    let mut sorted = plain.clone();
    sorted.sort_by(|a, b| crate::config::range::natural_cmp(a, b));
}

/// `expand(fold(names))` is the set of `names`.
fn check_fold<S: AsRef<str>>(names: &[S]) {
    let want: BTreeSet<&str> = names.iter().map(AsRef::as_ref).collect();
    let folded = crate::config::fold(names);
    let mut got = BTreeSet::new();
    for item in &folded {
        let expanded = crate::config::expand(item)
            .unwrap_or_else(|e| panic!("fold gave `{item}`, which does not expand: {e}"));
        got.extend(expanded);
    }
    let got: BTreeSet<&str> = got.iter().map(String::as_str).collect();
    assert_eq!(got, want, "fold({want:?}) = {folded:?}");
}

/// known_hosts parsing and lookups of hosts the file names (and some it does not).
pub fn known_hosts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let kh = crate::ssh::known_hosts::KnownHosts::parse(&text, Path::new("known_hosts"));
    let _ = format!("{kh:?}");
    let _ = (
        kh.warnings(),
        kh.malformed_lines(),
        kh.len(),
        kh.uses_hashing(),
    );
    let mut hosts: Vec<(String, u16)> = vec![("example.com".into(), 22), ("::1".into(), 2222)];
    for line in text.lines().take(8) {
        let first = line.split_whitespace().find(|w| !w.starts_with('@'));
        for pattern in first.unwrap_or_default().split(',').take(4) {
            let (host, port) = match pattern.strip_prefix('[').and_then(|p| p.split_once("]:")) {
                Some((host, port)) => (host, port.parse().unwrap_or(22)),
                None => (pattern, 22),
            };
            hosts.push((host.replace(['*', '?', '!'], "x"), port));
        }
    }
    let algos = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"];
    for (i, (host, port)) in hosts.iter().enumerate() {
        let blob = &data[..data.len().min(i * 7)];
        let _ = kh.check(host, *port, algos[i % algos.len()], blob);
        let _ = crate::ssh::known_hosts::host_pattern(host, *port);
    }
}

/// ssh_config parsing and resolution. `Include` lines are dropped: they read files from
/// disk, which a fuzzer must not do (it would find `/dev/zero`).
pub fn ssh_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text: String = text
        .lines()
        .filter(|l| !l.to_ascii_lowercase().contains("include"))
        .flat_map(|l| [l, "\n"])
        .collect();
    let home = Path::new("/nonexistent/mtssh-fuzz-home");
    let cfg = crate::config::ssh_config::SshConfig::parse(&text, &home.join(".ssh/config"), home);
    let _ = cfg.warnings();
    let mut aliases = vec!["host".to_string(), "web01.example.com".to_string()];
    for line in text.lines().take(8) {
        if let Some(word) = line.split_whitespace().nth(1) {
            aliases.push(word.replace(['*', '?', '!'], "a"));
        }
    }
    // The first lines as `-o` options too (most are refused: that must not panic either),
    // and resolutions with a user and port as a spec gives them; `Match exec` answers by
    // the command's length, so no command ever runs.
    let options: Vec<String> = text.lines().take(4).map(str::to_string).collect();
    let cfg = cfg.clone().with_command_line(&options).unwrap_or(cfg);
    for alias in &aliases {
        let _ = format!("{:?}", cfg.resolve(alias, "fuzzer"));
        let query = crate::config::ssh_config::Query {
            alias,
            user: Some("u"),
            port: Some(2222),
            local_user: "fuzzer",
        };
        let resolved = cfg.resolve_with(&query, &mut |cmd| Ok(cmd.len() % 2 == 0));
        let _ = format!("{resolved:?}");
    }
}

/// The mock server's practice shell, with and without a PTY, fed in chunks.
pub fn shell(data: &[u8]) {
    use crate::mock::shell::{Action, Lang, Shell, ShellConfig};
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let cfg = ShellConfig {
        hostname: "mock-01".into(),
        user: "test".into(),
        lang: if flags & 2 == 0 { Lang::En } else { Lang::Zh },
        pty: (flags & 1 == 1).then_some((80, 24)),
        env: vec![("LANG".into(), "C".into())],
        started_at_unix: 1_700_000_000,
        marks: flags & 8 == 8,
        differ: (flags & 16 == 16).then(|| crate::mock::shell::Difference {
            status: 1,
            text: "differs".into(),
        }),
        style: if flags & 32 == 32 {
            crate::mock::ShellStyle::Handout
        } else {
            crate::mock::ShellStyle::Practice
        },
    };
    // Exec requests run one command line with no line discipline.
    if flags & 4 == 4 {
        let line = String::from_utf8_lossy(rest);
        let _ = crate::mock::shell::run_exec(&cfg, &line, 1_700_000_100);
    }
    let mut sh = Shell::new(cfg);
    let mut now = 1_700_000_000;
    let mut actions = sh.start(now);
    // Chunk boundaries from the flags byte, so split escapes and UTF-8 get exercised.
    let chunk = usize::from(flags >> 3).max(1);
    let mut pieces = rest.chunks(chunk);
    let mut guard = 0;
    loop {
        guard += 1;
        assert!(guard < 100_000, "shell loops without taking input");
        // Finish what the shell asked for, the way the server's runner does.
        let mut more = Vec::new();
        for action in actions {
            match action {
                Action::Sleep { .. } => more.extend(sh.sleep_finished()),
                Action::Seq { count } => {
                    let _ = crate::mock::shell::seq_chunk(1, count.min(50), sh.crlf());
                    more.extend(sh.seq_finished());
                }
                Action::Output(_) | Action::CancelSleep | Action::CancelSeq | Action::Exit(_) => {}
            }
        }
        if !more.is_empty() {
            actions = more;
            continue;
        }
        if sh.has_exited() {
            break;
        }
        match pieces.next() {
            Some(piece) => {
                now += 1;
                actions = sh.feed(piece, now);
                if piece.first() == Some(&b'R') {
                    sh.resize(u16::from(piece.len() as u8), u16::from(flags));
                }
            }
            None => {
                actions = sh.eof();
                if actions.is_empty() {
                    break;
                }
            }
        }
    }
}

/// The pane emulator: hostile bytes, resizes down to the app's minimum, scrolling, and a draw
/// through the real crossterm backend into rectangles as small as 0x0. What reaches the
/// "terminal" must hold only the plain CSI sequences ratatui writes itself.
pub fn pane(data: &[u8]) {
    use crate::app::pane::Pane;
    let mut pane = Pane::new(0, "fuzz".into(), 50);
    let mut rest = data;
    let mut draws = 0;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op {
            // Resize: two bytes of size, as small as the app would ask for (it clamps).
            0xf0 if rest.len() >= 2 => {
                pane.fit(u16::from(rest[0] % 160), u16::from(rest[1] % 60));
                rest = &rest[2..];
            }
            0xf1 if !rest.is_empty() => {
                pane.scroll_by(isize::from(rest[0] as i8));
                rest = &rest[1..];
            }
            0xf2 => {
                let _ = pane.scrollback_text();
            }
            0xf3 if rest.len() >= 2 && draws < 4 => {
                draws += 1;
                draw_and_check(&pane, u16::from(rest[0] % 100), u16::from(rest[1] % 40));
                rest = &rest[2..];
            }
            _ => {
                // A run of output up to the next op byte.
                let end = rest.iter().position(|b| *b >= 0xf0).unwrap_or(rest.len());
                let mut chunk = vec![op];
                chunk.extend_from_slice(&rest[..end]);
                pane.process(&chunk);
                rest = &rest[end..];
            }
        }
    }
    pane.scroll_to_live();
    draw_and_check(&pane, 40, 12);
    draw_and_check(&pane, 1, 1);
}

/// A small, fast, seedable generator (xorshift64*): the harness must not depend on the
/// machine's entropy to replay a run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Words each target's inputs are made of, so random mutation reaches past the first
/// syntax check.
fn dictionary(target: &str) -> &'static [&'static str] {
    match target {
        "host_file" => &[
            "[defaults]\n",
            "[[hosts]]\n",
            "name = \"web[01-03]\"\n",
            "host = \"10.0.0.[1-3]\"\n",
            "port = 22\n",
            "user = \"root\"\n",
            "groups = [\"db\"]\n",
            "password = \"x\"\n",
            "jump = \"bastion\"\n",
            "host_key_check = \"strict\"\n",
            "connect_timeout = 1.5\n",
            "root@web[1-2]:2222\n",
            "\"",
            "[",
            "]",
            ",",
        ],
        "range" => &[
            "[",
            "]",
            "-",
            ",",
            "0",
            "01",
            "9",
            "10",
            "99",
            "web",
            "[1-3]",
            "[01-10,12]",
            "18446744073709551615",
            "\n",
        ],
        "known_hosts" => &[
            "@cert-authority ",
            "@revoked ",
            "|1|",
            "[example.com]:2222",
            "*.example.com",
            "!bad.example.com",
            " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDs=\n",
            " ssh-rsa AAAAB3NzaC1yc2E=\n",
            "example.com",
            ",",
            "#",
            "\n",
        ],
        "ssh_config" => &[
            "Host ",
            "Match ",
            "HostName %h.example.com\n",
            "User ",
            "Port 2222\n",
            "IdentityFile ~/.ssh/id_%r_%h\n",
            "ProxyJump a,b\n",
            "ConnectTimeout 1m30s\n",
            "UserKnownHostsFile ${HOME}/kh\n",
            "StrictHostKeyChecking accept-new\n",
            "\"",
            "=",
            "*",
            "!",
            "\n",
        ],
        "shell" => &[
            "\r", "\n", "\x7f", "\x03", "\x04", "\x1b[A", "\x1b[3~", "\x1bOH", "echo ", "seq 3",
            "sleep 1", "exit 3", "size", "env", "; ", "中", "\u{301}",
        ],
        "pane" => &[
            "\x1b]0;title\x07",
            "\x1b]52;c;aGk=\x07",
            "\x1bP1$q\x1b\\",
            "\x1b_apc\x1b\\",
            "\x1b^pm\x1b\\",
            "\x1b[?1049h",
            "\x1b[999;999H",
            "\x1b[2J",
            "\x1b[38;2;1;2;3m",
            "\x1b[r",
            "\x1b[5;1r",
            "\x1b[10L",
            "\x1b[10M",
            "\x1b[10@",
            "\x1b#8",
            "\u{9d}",
            "\u{90}",
            "中",
            "e\u{301}",
            "\r\n",
            "\t",
        ],
        _ => &[],
    }
}

/// One mutation of `input`: byte flips, inserted dictionary words or random bytes,
/// deletions, duplications, splices with another input.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], dict: &[&str]) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next_u64() as u8;
            }
            2 | 3 if !dict.is_empty() => {
                let word = dict[rng.below(dict.len())].as_bytes();
                out.splice(at..at, word.iter().copied());
            }
            4 if !out.is_empty() => {
                let len = rng.below(out.len() - at.min(out.len()) + 1).min(16);
                out.drain(at.min(out.len())..(at + len).min(out.len()));
            }
            5 if !out.is_empty() => {
                let from = rng.below(out.len());
                let len = rng.below(out.len() - from).min(32) + 1;
                let copy = out[from..(from + len).min(out.len())].to_vec();
                out.splice(at..at, copy);
            }
            6 if !other.is_empty() => {
                let from = rng.below(other.len());
                let piece = &other[from..(from + rng.below(64) + 1).min(other.len())];
                out.splice(at..at, piece.iter().copied());
            }
            _ => {
                let n = rng.below(8) + 1;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                out.splice(at..at, bytes);
            }
        }
    }
    out.truncate(4096);
    out
}

/// The committed seed corpus of a target: `fuzz/corpus/<target>/*`, sorted by name.
pub fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// What a random run did.
#[derive(Debug, Default)]
pub struct RunReport {
    pub executions: u64,
    /// Inputs that panicked, with the panic message.
    pub crashes: Vec<(Vec<u8>, String)>,
}

/// Runs `target` on mutations of its corpus until `budget` passes or `max_execs` inputs
/// ran, catching panics. New inputs are not kept (this is a blind fuzzer, not a
/// coverage-guided one); crashing inputs are returned.
pub fn run_random(
    name: &str,
    target: Target,
    seed: u64,
    budget: Duration,
    max_execs: u64,
) -> RunReport {
    let mut seeds: Vec<Vec<u8>> = corpus_files(name)
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    seeds.push(Vec::new());
    let dict = dictionary(name);
    let mut rng = Rng::new(seed);
    let mut report = RunReport::default();
    let start = Instant::now();
    // Quiet the default hook: thousands of expected-to-be-caught panics would flood stderr.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while report.executions < max_execs && start.elapsed() < budget {
        let base = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, other, dict);
        report.executions += 1;
        if let Err(panic) = std::panic::catch_unwind(|| target(&input)) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            report.crashes.push((input, message));
            if report.crashes.len() >= 10 {
                break;
            }
        }
    }
    std::panic::set_hook(hook);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_corpus_and_replays_it() {
        for (name, target) in TARGETS {
            let files = corpus_files(name);
            assert!(!files.is_empty(), "fuzz/corpus/{name}/ is empty");
            for file in files {
                let data = std::fs::read(&file).unwrap();
                let run = std::panic::catch_unwind(|| target(&data));
                assert!(run.is_ok(), "{name} crashes on {}", file.display());
            }
        }
    }

    #[test]
    fn bounded_random_fuzzing_finds_nothing() {
        // A short run per target in every `cargo test`; scripts/fuzz.sh runs longer.
        for (i, (name, target)) in TARGETS.iter().enumerate() {
            let execs = if *name == "pane" { 300 } else { 1500 };
            let report = run_random(
                name,
                *target,
                0x5eed + i as u64,
                Duration::from_secs(20),
                execs,
            );
            if let Some((input, message)) = report.crashes.first() {
                panic!(
                    "{name} crashed: {message}\ninput: {:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn the_output_check_sees_string_sequences() {
        assert!(check_terminal_output(b"plain \x1b[1;2Htext\x1b[38;5;1m\r\n").is_ok());
        for bad in [
            &b"\x1b]0;title\x07"[..],
            b"\x1bP1$q\x1b\\",
            b"\x1b_x\x1b\\",
            b"\x1b^x\x1b\\",
            b"\x07",
            "\u{9d}0;t".as_bytes(),
            b"\x9d",
            b"\x1b[",
        ] {
            assert!(check_terminal_output(bad).is_err(), "{bad:?}");
        }
    }
}
