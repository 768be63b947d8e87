use super::errors::{edit_distance, suggest};
use super::*;

fn parse(text: &str) -> Result<HostFile, ConfigError> {
    parse_host_file(text, Path::new("hosts.toml"))
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(f) => panic!("expected an error, got {f:?}"),
        Err(e) => e.to_string(),
    }
}

const FULL: &str = r#"
[defaults]
user = "test"
port = 22
identity_file = "~/.ssh/id_ed25519"
password_env = "MTSSH_PASSWORD"
connect_timeout = 2.5
command_timeout = 0
kex_algorithms = "^curve25519-sha256"
known_hosts = "~/.ssh/known_hosts"
host_key_check = "accept-new"
jump = "bastion"
shell_integration = "auto"
reconnect = "auto"
reconnect_tries = 5
scrollback = 5000
scrollback_memory = 64

[[hosts]]
name = "web[01-03]"
host = "10.0.0.[1-3]"
port = 2222
user = "deploy"
identity_file = "keys/web"
password_env = "WEB_PW"
groups = ["web", "prod"]
jump = "gw"

[[hosts]]
name = "db"
password = "hunter2"
shell_integration = "bash"
reconnect = "manual"
groups = ["prod"]
proxy_command = "ssh -W %h:%p gw # 100%%"
"#;

#[test]
fn plain_text_passwords_give_one_warning_per_file() {
    let text = "[[hosts]]\nname = \"a\"\npassword = \"x\"\n[[hosts]]\nname = \"b\"\n\
                    [[hosts]]\nname = \"c\"\npassword = \"y\"\n[[hosts]]\nname = \"d\"\npassword = \"z\"\n";
    let f = parse(text).unwrap();
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
    assert!(
        f.warnings[0].starts_with("hosts.toml:3:12: [[hosts]] #1 stores a `password`")
            && f.warnings[0].ends_with("(and 2 more hosts in the same file)"),
        "{}",
        f.warnings[0]
    );
}

#[test]
fn parses_everything() {
    let f = parse(FULL).unwrap();
    assert_eq!(
        f.defaults,
        Defaults {
            user: Some("test".into()),
            port: Some(22),
            identity_file: Some("~/.ssh/id_ed25519".into()),
            password_env: Some("MTSSH_PASSWORD".into()),
            connect_timeout: Some(Duration::from_millis(2500)),
            command_timeout: None,
            known_hosts: Some("~/.ssh/known_hosts".into()),
            host_key_check: Some(HostKeyCheck::AcceptNew),
            kex_algorithms: crate::ssh::algorithms::parse_kex_list("^curve25519-sha256").ok(),
            jump: Some("bastion".into()),
            proxy_command: None,
            groups_command: None,
            shell_integration: Some(ShellIntegration::Auto),
            reconnect: Some(ReconnectMode::Auto),
            reconnect_tries: Some(5),
            scrollback: Some(5000),
            scrollback_memory: Some(64),
        }
    );
    let pairs: Vec<(&str, &str, Option<u16>)> = f
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.host.as_str(), h.port))
        .collect();
    assert_eq!(
        pairs,
        [
            ("web01", "10.0.0.1", Some(2222)),
            ("web02", "10.0.0.2", Some(2222)),
            ("web03", "10.0.0.3", Some(2222)),
            ("db", "db", None),
        ]
    );
    assert_eq!(f.hosts[1].groups, ["web", "prod"]);
    assert_eq!(f.hosts[1].identity_file, Some(PathBuf::from("keys/web")));
    assert_eq!(f.hosts[3].password.as_deref(), Some("hunter2"));
    assert_eq!(
        f.hosts[3].proxy_command.as_deref(),
        Some("ssh -W %h:%p gw # 100%%")
    );
    assert_eq!(f.hosts[3].jump, None);
    assert_eq!(f.hosts[3].shell_integration, Some(ShellIntegration::Bash));
    assert_eq!(f.hosts[0].shell_integration, None);
    assert_eq!(f.hosts[3].reconnect, Some(ReconnectMode::Manual));
    assert_eq!(f.hosts[0].reconnect, None);
    insta::assert_snapshot!(f.warnings.join("\n"), @"hosts.toml:31:12: [[hosts]] #2 stores a `password` in plain text; prefer `password_env` naming an environment variable that holds it");
}

#[test]
fn proxy_command_excludes_jump_and_takes_only_ssh_tokens() {
    let both = err("[[hosts]]\nname = \"a\"\njump = \"gw\"\nproxy_command = \"nc %h %p\"\n");
    assert!(
        both.starts_with("hosts.toml:4:")
            && both.contains("`jump` and `proxy_command` in [[hosts]] #1 exclude each other"),
        "{both}"
    );
    let token = err("[defaults]\nproxy_command = \"nc %h %C\"\n");
    assert!(
        token.contains("bad `proxy_command` in [defaults]: unknown token %C"),
        "{token}"
    );
    let f = parse("[defaults]\nproxy_command = \"nc %h %p\"\n").unwrap();
    assert_eq!(f.defaults.proxy_command.as_deref(), Some("nc %h %p"));
}

#[test]
fn empty_file_is_empty() {
    let f = parse("").unwrap();
    assert_eq!(f.defaults, Defaults::default());
    assert!(f.hosts.is_empty() && f.warnings.is_empty());
}

#[test]
fn debug_hides_password() {
    let f = parse(FULL).unwrap();
    let shown = format!("{:?}", f.hosts[3]);
    assert!(shown.contains(r#"password: Some("***")"#), "{shown}");
    assert!(!shown.contains("hunter2"));
    assert!(!format!("{f:?}").contains("hunter2"));
}

#[test]
fn host_sharing_and_port_ranges() {
    let f = parse(
        r#"
[[hosts]]
name = "node[1-3]"
host = "gateway.example"
port = "[2221-2223]"

[[hosts]]
name = "v6"
host = "[fe80::1]"
port = "22"

[[hosts]]
name = "n[7-8]"
host = "h[1-2]"
port = "2200,2300"
"#,
    )
    .unwrap();
    let shown: Vec<String> = f
        .hosts
        .iter()
        .map(|h| format!("{} {} {:?}", h.name, h.host, h.port))
        .collect();
    insta::assert_snapshot!(shown.join("\n"), @r"
        node1 gateway.example Some(2221)
        node2 gateway.example Some(2222)
        node3 gateway.example Some(2223)
        v6 fe80::1 Some(22)
        n7 h1 Some(2200)
        n8 h2 Some(2300)
        ");
}

#[test]
fn timeouts_accept_int_and_float() {
    let f = parse("[defaults]\nconnect_timeout = 3\ncommand_timeout = 1.5\n").unwrap();
    assert_eq!(f.defaults.connect_timeout, Some(Duration::from_secs(3)));
    assert_eq!(
        f.defaults.command_timeout,
        Some(Duration::from_millis(1500))
    );
}

#[test]
fn host_key_check_round_trips() {
    for v in HostKeyCheck::ALL {
        assert_eq!(v.to_string().parse::<HostKeyCheck>(), Ok(v));
    }
    assert!("yes".parse::<HostKeyCheck>().is_err());
}

#[test]
fn key_lists_match_structs() {
    // Every listed key must be accepted; serde rejects the rest.
    let mut text = String::from("[defaults]\n");
    for k in DEFAULTS_KEYS {
        let v = match *k {
            "port" | "connect_timeout" | "command_timeout" | "scrollback" | "scrollback_memory" => {
                "1"
            }
            "host_key_check" => "\"off\"",
            "kex_algorithms" => "\"curve25519-sha256\"",
            "shell_integration" | "reconnect" => "\"auto\"",
            "reconnect_tries" => "3",
            _ => "\"x\"",
        };
        text.push_str(&format!("{k} = {v}\n"));
    }
    text.push_str("[[hosts]]\n");
    for k in HOST_KEYS {
        let v = match *k {
            "port" => "1",
            "groups" => "[\"g\"]",
            "shell_integration" => "\"zsh\"",
            "reconnect" => "\"manual\"",
            "reconnect_tries" => "3",
            _ => "\"x\"",
        };
        text.push_str(&format!("{k} = {v}\n"));
    }
    // `jump` and `proxy_command` exclude each other: the second in a file of its own.
    let (routes, rest): (Vec<&str>, Vec<&str>) =
        text.lines().partition(|l| l.starts_with("proxy_command"));
    parse(&rest.join("\n")).unwrap();
    parse(&format!(
        "[defaults]\n{}\n[[hosts]]\nname = \"x\"\n{}\n",
        routes[0], routes[1]
    ))
    .unwrap();
    assert_eq!(TOP_KEYS, ["defaults", "hosts"]);
}

/// hosts.example.toml promises every field: each key appears there, set or commented out.
#[test]
fn the_example_host_list_shows_every_key() {
    let example = include_str!("../../../hosts.example.toml");
    let (defaults, hosts) = example
        .split_once("[[hosts]]")
        .expect("the example has hosts");
    let shown = |part: &str, key: &str| {
        part.lines().any(|l| {
            let l = l.trim_start_matches(['#', ' ']);
            l.starts_with(key) && l[key.len()..].trim_start().starts_with('=')
        })
    };
    for key in DEFAULTS_KEYS {
        assert!(
            shown(defaults, key),
            "[defaults] {key} is not in hosts.example.toml"
        );
    }
    for key in HOST_KEYS {
        assert!(
            shown(hosts, key),
            "[[hosts]] {key} is not in hosts.example.toml"
        );
    }
}

#[test]
fn suggestions() {
    assert_eq!(suggest("usr", HOST_KEYS), Some("user"));
    assert_eq!(suggest("identity", HOST_KEYS), Some("identity_file"));
    assert_eq!(
        suggest("Host-Key-Check", DEFAULTS_KEYS),
        Some("host_key_check")
    );
    assert_eq!(suggest("groupz", HOST_KEYS), Some("groups"));
    assert_eq!(suggest("colour", HOST_KEYS), None);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
}

#[test]
fn error_unknown_key_with_suggestion() {
    insta::assert_snapshot!(err("[defaults]\nusr = \"x\"\n"));
    insta::assert_snapshot!(err(
        "[[hosts]]\nname = \"a\"\n\n[[hosts]]\nname = \"b\"\n  hostname = \"x\"\n"
    ));
    insta::assert_snapshot!(err("[default]\nuser = \"x\"\n"));
    insta::assert_snapshot!(err(
        "hosts = [{ name = \"a\" }, { name = \"b\", identity = \"k\" }]\n"
    ));
}

#[test]
fn error_unknown_key_without_suggestion() {
    insta::assert_snapshot!(err("[defaults]\ncolour = \"blue\"\n"));
}

#[test]
fn error_wrong_type() {
    insta::assert_snapshot!(err("[defaults]\nport = \"22\"\n"));
    insta::assert_snapshot!(err("[[hosts]]\nname = \"a\"\ngroups = \"web\"\n"));
    insta::assert_snapshot!(err("[defaults]\nconnect_timeout = -1\n"));
    insta::assert_snapshot!(err("[[hosts]]\nname = \"a\"\nport = 70000\n"));
    insta::assert_snapshot!(err("hosts = 3\n"));
}

#[test]
fn error_bad_range() {
    insta::assert_snapshot!(err("[[hosts]]\nname = \"web[03-01]\"\n"));
    insta::assert_snapshot!(err("[[hosts]]\nname = \"web[1-3]\"\nhost = \"h[1-2]\"\n"));
    insta::assert_snapshot!(err(
        "[[hosts]]\nname = \"web[1-2]\"\nport = \"2222-99999\"\n"
    ));
}

#[test]
fn error_duplicate_name() {
    insta::assert_snapshot!(err(
        "[[hosts]]\nname = \"web[01-03]\"\n\n[[hosts]]\nname = \"db\"\n\n[[hosts]]\nname = \"web02\"\n"
    ));
    insta::assert_snapshot!(err("[[hosts]]\nname = \"n[1,1]\"\n"));
}

#[test]
fn error_unknown_host_key_check() {
    insta::assert_snapshot!(err("[defaults]\nhost_key_check = \"yes\"\n"));
}

#[test]
fn error_toml_syntax() {
    insta::assert_snapshot!(err("[defaults]\nuser = \"unterminated\n"));
    insta::assert_snapshot!(err("[[hosts]]\nname = \"a\"\nname = \"b\"\n"));
}

#[test]
fn error_missing_and_misc() {
    insta::assert_snapshot!(err("[[hosts]]\nhost = \"a\"\n"));
    insta::assert_snapshot!(err("[defaults]\nconnect_timeout = 0\n"));
    insta::assert_snapshot!(err("[defaults]\nuser = \"\"\n"));
}

#[test]
fn never_panics_on_garbage() {
    let alphabet: Vec<char> = "[]{}=\"'#,.-_:@ \n\t0123456789abnmehostpruwgdfé\\"
        .chars()
        .collect();
    let mut state: u64 = 7;
    for _ in 0..3000 {
        let mut text = String::new();
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        let len = (state >> 58) as usize;
        for _ in 0..len {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            text.push(alphabet[((state >> 33) % alphabet.len() as u64) as usize]);
        }
        let _ = parse(&text);
        let _ = parse(&format!(
            "[[hosts]]\nname = \"{}\"\n",
            text.replace(['"', '\\', '\n'], "")
        ));
        let _ = expand(&text);
        let _ = super::super::hostspec::parse_host_list_arg(&text);
        let _ = super::super::hostspec::parse_plain_host_file(&text, Path::new("p"));
    }
}

#[test]
fn io_error_names_path() {
    let e = load_host_file(Path::new("/nonexistent/mtssh/hosts.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/mtssh/hosts.toml: cannot read:"),
        "{e}"
    );
}

fn names(selection: &Selection) -> Vec<String> {
    selection.hosts.iter().map(|h| h.name.clone()).collect()
}

/// Selects from FULL (web01-03 in web and prod at 10.0.0.1-3, db in prod) with `-H` items,
/// `-g` items and `-x` items, and `all` for `-a`.
fn pick(all: bool, h: &[&str], g: &[&str], x: &[&str]) -> Result<Selection, SelectError> {
    pick_with(all, h, g, x, &Inputs::default())
}

fn pick_with(
    all: bool,
    h: &[&str],
    g: &[&str],
    x: &[&str],
    inputs: &Inputs,
) -> Result<Selection, SelectError> {
    let f = parse(FULL).unwrap();
    let strings = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let (h, g, x) = (strings(h), strings(g), strings(x));
    let query = Query {
        all,
        hosts: &h,
        groups: &g,
        exclude: &x,
    };
    select(&f.hosts, &query, inputs)
}

fn chosen(all: bool, h: &[&str], g: &[&str], x: &[&str]) -> Vec<String> {
    match pick(all, h, g, x) {
        Ok(s) => names(&s),
        Err(e) => panic!("{h:?} {g:?} {x:?}: {e}"),
    }
}

#[test]
fn selection() {
    assert_eq!(
        chosen(false, &[], &[], &[]),
        ["web01", "web02", "web03", "db"]
    );
    assert_eq!(
        chosen(false, &[], &["web"], &[]),
        ["web01", "web02", "web03"]
    );
    assert_eq!(chosen(false, &[], &["web,prod"], &[]).len(), 4);
    assert_eq!(chosen(false, &[], &[], &["web[02-03],db"]), ["web01"]);
    assert_eq!(
        chosen(false, &[], &["prod"], &["10.0.0.1"]),
        ["web02", "web03", "db"]
    );
    assert_eq!(
        pick(false, &[], &["nope"], &[]).unwrap_err().to_string(),
        "unknown group `nope`; known groups: prod, web"
    );
    assert_eq!(
        pick(false, &[], &[], &["web[2-1]"])
            .unwrap_err()
            .to_string(),
        "-x web[2-1]: reversed range `2-1` in `web[2-1]`"
    );
}

#[test]
fn node_sets_over_the_host_list() {
    // -H chooses; a bare name of the list stands for its entry (its address and port).
    let s = pick(false, &["web02,other"], &[], &[]).unwrap();
    let shown: Vec<(&str, &str, Option<u16>)> = s
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.host.as_str(), h.port))
        .collect();
    assert_eq!(
        shown,
        [("web02", "10.0.0.2", Some(2222)), ("other", "other", None)]
    );
    // A user or port makes it a host of its own.
    assert_eq!(
        chosen(false, &["root@web02", "web02:22"], &[], &[]),
        ["root@web02", "web02:22"]
    );
    assert_eq!(chosen(false, &["@prod!@web"], &[], &[]), ["db"]);
    assert_eq!(
        chosen(false, &["@prod&@web!web02"], &[], &[]),
        ["web01", "web03"]
    );
    assert_eq!(
        chosen(false, &["@web^web[02-04]"], &[], &[]),
        ["web01", "web04"]
    );
    assert_eq!(
        chosen(false, &["web[01-03/2]"], &[], &[]),
        ["web01", "web03"]
    );
    // -g takes group names, with or without `@`, and the same algebra.
    assert_eq!(chosen(false, &[], &["prod!web"], &[]), ["db"]);
    assert_eq!(chosen(false, &[], &["@prod&@web"], &[]).len(), 3);
    // -H and -g add up; -a adds the whole list; each host once.
    assert_eq!(
        chosen(false, &["x"], &["web"], &[]),
        ["x", "web01", "web02", "web03"]
    );
    assert_eq!(
        chosen(true, &["x", "db"], &[], &[]),
        ["web01", "web02", "web03", "db", "x"]
    );
    // -x takes groups and algebra too.
    assert_eq!(chosen(false, &[], &[], &["@web"]), ["db"]);
    assert_eq!(chosen(false, &[], &[], &["@prod!db"]), ["db"]);
}

#[test]
fn an_exclusion_that_matches_nothing_is_reported() {
    let s = pick(false, &[], &["web"], &["web02,web09,db"]).unwrap();
    assert_eq!(names(&s), ["web01", "web03"]);
    // db is in the list but was not selected: leaving it out left out nothing either.
    assert_eq!(
        s.warnings,
        [
            "-x web09: matches none of the selected hosts",
            "-x db: matches none of the selected hosts"
        ]
    );
    assert!(
        pick(false, &[], &[], &["web01"])
            .unwrap()
            .warnings
            .is_empty()
    );
}

#[test]
fn hosts_from_a_file_and_standard_input() {
    let inputs = Inputs {
        files: [(
            "down.txt".to_string(),
            "# out for repair
web02
  web03 # fan
"
            .to_string(),
        )]
        .into(),
        stdin: Some(
            "web01 db

new[1-2]
"
            .to_string(),
        ),
    };
    let names = |h: &[&str], x: &[&str]| names(&pick_with(false, h, &[], x, &inputs).unwrap());
    assert_eq!(names(&["@web!^down.txt"], &[]), ["web01"]);
    assert_eq!(names(&["^down.txt"], &[]), ["web02", "web03"]);
    assert_eq!(names(&[], &["^down.txt"]), ["web01", "db"]);
    assert_eq!(names(&["-"], &[]), ["web01", "db", "new1", "new2"]);
    assert_eq!(names(&["-"], &["@prod"]), ["new1", "new2"]);
    let bad = Inputs {
        files: [(
            "f".to_string(),
            "ok
^other
"
            .to_string(),
        )]
        .into(),
        stdin: Some(
            "web[1-
"
            .to_string(),
        ),
    };
    let error = |h: &str| {
        pick_with(false, &[h], &[], &[], &bad)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error("^f"),
        "-H ^f: `^other`: a host list does not name other lists; give host names"
    );
    assert_eq!(
        error("-"),
        "-H - (standard input): `web[1-`: unbalanced brackets in `web[1-`"
    );
    assert_eq!(error("^g"), "-H ^g: the file `g` was not read");
}
