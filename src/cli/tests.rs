//! The command line's own tests: parsing into each front end's options.
use super::*;
use clap::CommandFactory;

#[test]
fn command_line_definition_is_consistent() {
    Cli::command().debug_assert();
}

fn host_args(argv: &[String]) -> HostArgs {
    let argv = std::iter::once("mtssh".to_string()).chain(argv.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => cli.hosts,
        Err(e) => panic!("{e}"),
    }
}

/// `mtssh bench` hands the user's host options to its children as arguments: every
/// field must survive the trip (a field `to_args` forgets comes back as its default).
#[test]
fn every_host_option_reaches_a_child_unchanged() {
    let words = [
        "-f",
        "hosts.toml",
        "-H",
        "a@h1:22",
        "-H",
        "h[2-3]",
        "-g",
        "web",
        "-g",
        "db",
        "-x",
        "h3",
        "-a",
        "--pick",
        "2",
        "--count",
        "3",
        "-u",
        "deploy",
        "-i",
        "/k/id",
        "--password-env",
        "PW",
        "--host-key-check",
        "strict",
        "--known-hosts",
        "/k/kh",
        "-J",
        "jump1,jump2",
        "--ssh-config",
        "none",
        "-o",
        "Port=2222",
        "--ssh-option",
        "ConnectionAttempts 3",
        "--connect-timeout",
        "2.5",
        "--kex",
        "-mlkem768x25519-sha256",
        "--fanout",
        "7",
        "--per-host",
        "3",
    ];
    let given = host_args(&words.map(String::from));
    let options = HostOptions::from(given.clone());
    assert_eq!(options.host_key_check, Some(HostKeyCheck::Strict));
    assert_eq!(options.connect_timeout, Some(Duration::from_millis(2500)));
    let forwarded = host_args(&options.to_args());
    assert_eq!(forwarded, given);
    // And the defaults survive too.
    let defaults = host_args(&[]);
    assert_eq!(
        host_args(&HostOptions::from(defaults.clone()).to_args()),
        defaults
    );
}

/// clap checks a value's type only when it is read: parse every typed option once.
#[test]
fn typed_options_parse_into_their_types() {
    let words = [
        "mtssh",
        "mock",
        "--kex",
        "-curve25519-sha256",
        "--lang",
        "zh",
        "--differ",
        "18-20",
        "--differ",
        "2:0:other",
        "--no-marks",
    ];
    let cli = Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cli.lang, Some(Lang::Zh));
    assert_eq!(cli.language(), Lang::Zh);
    let Some(Command::Mock(mock)) = cli.command else {
        panic!("not the mock command");
    };
    let options = ServeOptions::from(mock);
    assert!(options.kex.is_some_and(|k| !k.is_empty()));
    let differ: Vec<String> = options.differ.iter().map(|r| r.to_string()).collect();
    assert_eq!(differ, ["18-20:1:differs on purpose", "2:0:other"]);
    assert!(!options.marks);
    let err = Cli::try_parse_from(["mtssh", "mock", "--differ", "0"]).unwrap_err();
    assert!(err.to_string().contains("host number"), "{err}");
    let words = [
        "mtssh",
        "run",
        "-c",
        "true",
        "--mode",
        "threads",
        "--timeout",
        "2",
    ];
    let cli = Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{e}"));
    let Some(Command::Run(run)) = cli.command else {
        panic!("not the run command");
    };
    let options = RunOptions::from(*run);
    assert_eq!(
        (options.mode, options.timeout),
        (Mode::Threads, Some(Duration::from_secs(2)))
    );
    let words = [
        "mtssh",
        "bench",
        "--modes",
        "sequential,event-loop",
        "--host-key-type",
        "rsa",
    ];
    let cli = Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{e}"));
    let Some(Command::Bench(bench)) = cli.command else {
        panic!("not the bench command");
    };
    let options = BenchOptions::from(*bench);
    assert_eq!(options.modes, [Mode::Sequential, Mode::EventLoop]);
    assert_eq!(options.host_key_type, HostKeyType::Rsa);
}

fn run_options(words: &[&str]) -> Result<RunOptions, String> {
    let argv = ["mtssh", "run"].iter().chain(words);
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Some(Command::Run(run)),
            ..
        }) => Ok(RunOptions::from(*run)),
        Ok(_) => Err("not the run command".into()),
        Err(e) => Err(e.kind().to_string()),
    }
}

/// `mtssh run -H hosts uptime`, as clush and pdsh take it; `-c` stays.
#[test]
fn the_command_comes_after_the_options_or_with_c() {
    let command = |words: &[&str]| run_options(words).map(|o| o.command);
    assert_eq!(command(&["-H", "web[1-3]", "uptime"]), Ok("uptime".into()));
    assert_eq!(command(&["-H", "x", "--", "ls", "-l"]), Ok("ls -l".into()));
    // After the first word everything is the command's, -l and -v included.
    assert_eq!(
        command(&["-H", "x", "ls", "-l", "-v", "/"]),
        Ok("ls -l -v /".into())
    );
    assert_eq!(command(&["-H", "x", "-c", "df -h"]), Ok("df -h".into()));
    assert_eq!(
        command(&["-H", "x", "-c", "df", "uptime"]),
        Err("an argument cannot be used with one or more of the other specified arguments".into())
    );
    assert_eq!(
        command(&["-H", "x"]),
        Err("one or more required arguments were not provided".into())
    );
}

#[test]
fn l_is_the_login_user_and_v_q_the_chatter() {
    let options = run_options(&["-l", "deploy", "-H", "x", "-vv", "true"]).unwrap();
    assert_eq!(options.hosts.user.as_deref(), Some("deploy"));
    assert_eq!(options.verbosity, Verbosity::Debug);
    let options = run_options(&["-u", "ops", "-q", "-H", "x", "true"]).unwrap();
    assert_eq!(options.hosts.user.as_deref(), Some("ops"));
    assert_eq!(options.verbosity, Verbosity::Quiet);
    assert_eq!(
        run_options(&["-H", "x", "-v", "true"]).unwrap().verbosity,
        Verbosity::Verbose
    );
    assert!(run_options(&["-q", "-v", "-H", "x", "true"]).is_err());
}

/// `--timeout 0` is kept as "no limit" (over `[defaults] command_timeout`), while
/// `--connect-timeout 0` is "not set"; NaN and infinities are refused by both.
#[test]
fn zero_and_absurd_timeouts() {
    let options = run_options(&[
        "--timeout",
        "0",
        "--connect-timeout",
        "0",
        "-H",
        "x",
        "true",
    ])
    .unwrap();
    assert_eq!(options.timeout, Some(Duration::ZERO));
    assert_eq!(options.hosts.connect_timeout, None);
    for flag in ["--timeout", "--connect-timeout"] {
        for bad in ["NaN", "inf", "-inf", "1e400", "40000000", "-1"] {
            assert!(
                run_options(&[flag, bad, "-H", "x", "true"]).is_err(),
                "{flag} {bad}"
            );
        }
    }
    assert!(run_options(&["--pick", "0", "-H", "x", "true"]).is_err());
}

#[test]
fn seconds_refuse_what_is_not_a_duration() {
    assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
    assert_eq!(seconds("0"), Ok(Duration::ZERO));
    assert!(seconds("-1").is_err());
    assert!(seconds("soon").is_err());
    assert!(seconds("NaN").is_err());
    assert!(seconds("inf").is_err());
    assert!(seconds("1e300").is_err());
    assert!(seconds("40000000").is_err());
    assert_eq!(seconds("86400"), Ok(Duration::from_secs(86400)));
}

/// `--style handout` serves the handout's RSA key unless a key type is asked for.
#[test]
fn the_handout_style_defaults_to_an_rsa_host_key() {
    let serve = |words: &[&str]| {
        let cli = Cli::try_parse_from(words).unwrap_or_else(|e| panic!("{e}"));
        let Some(Command::Mock(mock)) = cli.command else {
            panic!("not the mock command");
        };
        crate::serve::ServeOptions::from(mock)
    };
    let handout = serve(&["mtssh", "mock", "--style", "handout"]);
    assert_eq!(handout.host_key_type, HostKeyType::Rsa);
    assert_eq!(handout.style, crate::mock::ShellStyle::Handout);
    let plain = serve(&["mtssh", "mock"]);
    assert_eq!(plain.host_key_type, HostKeyType::Ed25519);
    let chosen = serve(&[
        "mtssh",
        "mock",
        "--style",
        "handout",
        "--host-key-type",
        "ed25519",
    ]);
    assert_eq!(chosen.host_key_type, HostKeyType::Ed25519);
}

#[test]
fn reconnect_is_off_unless_asked_for() {
    let parse = |argv: &[&str]| {
        let argv = std::iter::once("mtssh").chain(argv.iter().copied());
        Cli::try_parse_from(argv).map(|cli| cli.tui_options().reconnect)
    };
    assert_eq!(parse(&[]).ok(), Some(false));
    assert_eq!(parse(&["--reconnect"]).ok(), Some(true));
    assert!(parse(&["--reconnect=yes"]).is_err());
}
