//! Choosing hosts for `mtssh run` as clush and pdsh users do, against the mock server:
//! node sets from standard input and files, groups_command, `-a`, duplicates, `-x`, `--pick`,
//! the command after the options, `-l`, `-v` / `-q`.

use std::path::PathBuf;

use crate::run_cmd::{RunOutput, mtssh_fed, mtssh_in, mtssh_with};
use crate::support::{self, TestEnv};

const PW: (&str, &str) = ("MTSSH_PASSWORD", "123456");

/// A host list of four mock hosts (mock-01..04 in group `mock`), and `run` arguments for it.
struct Fleet {
    env: TestEnv,
    server: mtssh::mock::MockServer,
    hosts: PathBuf,
    kh: PathBuf,
    addrs: Vec<std::net::SocketAddr>,
}

async fn fleet() -> Fleet {
    let env = TestEnv::new();
    let server = support::mock(4).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let addrs = server.hosts().iter().map(|h| h.addr).collect();
    Fleet {
        env,
        server,
        hosts,
        kh,
        addrs,
    }
}

impl Fleet {
    /// `mtssh run -f LIST --known-hosts KH ARGS...` with the mock's password at hand.
    async fn run(&self, args: &[&str]) -> RunOutput {
        let mut all = vec![
            "run",
            "-f",
            self.hosts.to_str().unwrap(),
            "--known-hosts",
            self.kh.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        mtssh_with(&self.env, &[PW], &all).await
    }

    /// `test@127.0.0.1:PORT` of mock host `i` (0-based), a -H spec not named in the list.
    fn spec(&self, i: usize) -> String {
        format!("test@{}", self.addrs[i])
    }

    /// Rewrites the host list, its `[defaults]` starting with `line`.
    fn with_default(&self, line: &str) {
        let text = mtssh::mock::host_list_toml(self.server.hosts(), self.server.users());
        let text = text.replacen("[defaults]\n", &format!("[defaults]\n{line}\n"), 1);
        std::fs::write(&self.hosts, text).unwrap();
    }
}

#[tokio::test]
async fn node_sets_from_standard_input_and_files() {
    let f = fleet().await;
    std::fs::write(f.env.path("down.txt"), "# in repair\nmock-02\n").unwrap();
    let down = format!("@mock!^{}", f.env.path("down.txt").display());
    let out = f.run(&["-H", &down, "-c", "echo same"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01,03-04] (exit 0)\n"),
        "{}",
        out.stdout
    );

    let out = f
        .run(&["-H", "mock-[01-04/2]&@mock", "-c", "echo same"])
        .await;
    assert!(
        out.stdout.contains("mock-[01,03] (exit 0)\n"),
        "{}",
        out.stdout
    );

    let args = [
        "run",
        "-f",
        f.hosts.to_str().unwrap(),
        "--known-hosts",
        f.kh.to_str().unwrap(),
        "-H",
        "-",
        "-c",
        "echo same",
    ];
    let out = mtssh_fed(&f.env, &args, b"mock-01 # first\n\nmock-04\n".to_vec()).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01,04] (exit 0)\n"),
        "{}",
        out.stdout
    );

    // Standard input cannot be the host list and the command's input at once.
    let out = f.run(&["-H", "-", "--stdin", "-c", "cat"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("-H - reads the host names from standard input")
            && out.stderr.contains("-H ^FILE"),
        "{}",
        out.stderr
    );
    let out = f.run(&["-H", "@mock!mock-0[1-4]", "-c", "true"]).await;
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("what -H, -g and -x ask for leaves none (of 4 in the host list)"),
        "{}",
        out.stderr
    );
    let out = f.run(&["-H", "mock-01!", "-c", "true"]).await;
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("-H mock-01!: `!` has nothing after it"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn groups_from_a_groups_command() {
    let f = fleet().await;
    let far = f.spec(3);
    f.with_default(&format!(
        "groups_command = \"echo 'odd: mock-01 mock-03'; echo far: {far}\""
    ));
    let out = f.run(&["-g", "odd", "-c", "echo same"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01,03] (exit 0)\n"),
        "{}",
        out.stdout
    );
    // A host the list does not have becomes a host of its own, like a -H spec.
    let out = f.run(&["-H", "@far,@odd!mock-03", "-c", "echo same"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("mock-01,{far} (exit 0)\n")),
        "{}",
        out.stdout
    );

    f.with_default("groups_command = \"echo no cmdb >&2; exit 7\"");
    let out = f.run(&["-g", "odd", "-c", "true"]).await;
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("groups_command `echo no cmdb >&2; exit 7` exited with status 7: no cmdb"),
        "{}",
        out.stderr
    );
}

/// As clush and pdsh: without -f, -H or -g, `run` does not take the default host list to
/// mean every host in it unless told so with -a.
#[tokio::test]
async fn the_whole_default_host_list_needs_a() {
    let f = fleet().await;
    let work = f.env.path("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(&f.hosts, work.join("hosts.toml")).unwrap();
    let kh = f.kh.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["run", "--known-hosts", kh];
        all.extend_from_slice(args);
        all.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    for args in [
        run(&["-c", "echo same"]),
        run(&["-x", "mock-01", "echo", "same"]),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = mtssh_in(&f.env, &work, &[PW], &args).await;
        assert_eq!(out.code, Some(2), "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains("of the default host list hosts.toml; add -a (--all)")
                && out.stderr.contains("choose hosts with -H, -g or -f"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "nothing ran: {}", out.stdout);
    }
    let out = mtssh_in(&f.env, &work, &[PW], &["run", "-c", "true"]).await;
    assert!(out.stderr.contains("all 4 hosts"), "{}", out.stderr);

    let args = run(&["-a", "-c", "echo same"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mtssh_in(&f.env, &work, &[PW], &args).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01-04] (exit 0)\n"),
        "{}",
        out.stdout
    );
    // Naming a group of the default list is a choice.
    let args = run(&["-g", "mock", "-x", "mock-04", "-c", "echo same"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mtssh_in(&f.env, &work, &[PW], &args).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01-03] (exit 0)\n"),
        "{}",
        out.stdout
    );

    // The config dir's host list is a default list too.
    let elsewhere = f.env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let config = f.env.path("config/mtssh");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(&f.hosts, config.join("hosts.toml")).unwrap();
    let out = mtssh_in(&f.env, &elsewhere, &[PW], &["run", "-c", "true"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("all 4 hosts of the default host list"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn the_same_host_twice_runs_once_but_count_copies_do_not() {
    let f = fleet().await;
    let same = f.spec(0);
    let out = f
        .run(&[
            "-H",
            &format!("mock-01,{same}"),
            "-H",
            "mock-02",
            "-c",
            "echo same",
        ])
        .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01-02] (exit 0)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(&format!(
            "note: {same} selected more than once (the same user@host:port as mock-01): each runs once"
        )),
        "{}",
        out.stderr
    );
    let out = f
        .run(&["-H", "mock-01", "--count", "2", "-c", "echo same"])
        .await;
    assert!(
        out.stdout.contains("mock-01#[1-2] (exit 0)\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("more than once"), "{}", out.stderr);
}

#[tokio::test]
async fn pick_runs_on_a_random_few_of_the_selected() {
    let f = fleet().await;
    let out = f
        .run(&["-x", "mock-04", "--pick", "2", "--json", "true"])
        .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut names: Vec<String> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["name"].to_string())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 2, "{}", out.stdout);
    for name in &names {
        assert!(
            ["\"mock-01\"", "\"mock-02\"", "\"mock-03\""].contains(&name.as_str()),
            "{name} is not among the selected"
        );
    }
}

#[tokio::test]
async fn exclusions_that_match_nothing_and_chatter() {
    let f = fleet().await;
    let out = f.run(&["-x", "mock-09,mock-04", "-c", "echo same"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("mock-[01-03] (exit 0)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("warning: -x mock-09: matches none of the selected hosts"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("-x mock-04"), "{}", out.stderr);
    let quiet = f.run(&["-q", "-x", "mock-09", "-c", "echo same"]).await;
    assert_eq!(quiet.code, Some(0), "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    let verbose = f.run(&["-v", "-x", "mock-04", "-c", "echo same"]).await;
    assert!(
        verbose.stderr.contains("selected 3 hosts: mock-[01-03]"),
        "{}",
        verbose.stderr
    );
    assert!(!out.stderr.contains("selected 3 hosts"), "{}", out.stderr);
    // -q keeps errors.
    let out = f.run(&["-q", "-g", "nope", "-c", "true"]).await;
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("unknown group `nope`"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn the_command_after_the_options_and_l_for_the_user() {
    let f = fleet().await;
    let out = f.run(&["-H", "mock-02", "echo", "two", "words"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("two words"), "{}", out.stdout);
    let out = f.run(&["-H", "mock-02", "--", "echo", "-l"]).await;
    assert!(out.stdout.contains("-l"), "{}", out.stdout);
    let out = f.run(&["-H", "mock-02", "-c", "echo", "uptime"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);

    // -l is the user of a host that names none: the mock knows `test` only.
    let bare = f.addrs[1].to_string();
    let out = f.run(&["-H", &bare, "-l", "test", "whoami"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("test"), "{}", out.stdout);
    let out = f.run(&["-H", &bare, "-l", "nobody", "whoami"]).await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    // A user in the spec wins over -l.
    let out = f.run(&["-H", &f.spec(1), "-l", "nobody", "whoami"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// `--timeout 0` is no limit, also over the host list's `command_timeout`.
#[tokio::test]
async fn timeout_zero_lifts_the_host_lists_command_timeout() {
    let f = fleet().await;
    f.with_default("command_timeout = 0.3");
    let out = f.run(&["-H", "mock-01", "sleep 1"]).await;
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("1 timed out"), "{}", out.stderr);
    let out = f.run(&["-H", "mock-01", "--timeout", "0", "sleep 1"]).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let out = f.run(&["-H", "mock-01", "--timeout", "NaN", "true"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("`NaN` is not a number of seconds"),
        "{}",
        out.stderr
    );
}
