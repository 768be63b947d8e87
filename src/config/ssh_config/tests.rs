//! Resolution tests: a table of cases and cross-checks against `ssh -G`.

use super::test_util::*;
use super::*;
use std::path::Path;
use std::process::Command;

#[test]
fn resolve_table() {
    struct Case {
        name: &'static str,
        text: &'static str,
        alias: &'static str,
        check: fn(&HostConfig) -> bool,
    }
    let cases = [
        Case {
            name: "exact host",
            text: "Host web\n  HostName web.example.com\n  User deploy\n  Port 2222\n",
            alias: "web",
            check: |h| {
                h.host_name == s("web.example.com") && h.user == s("deploy") && h.port == Some(2222)
            },
        },
        Case {
            name: "no match leaves everything unset",
            text: "Host web\n  User deploy\n",
            alias: "db",
            check: |h| *h == HostConfig::default(),
        },
        Case {
            name: "star and question mark",
            text: "Host db?.prod\n  User dbuser\nHost *.prod\n  User produser\n  Port 22\n",
            alias: "db1.prod",
            check: |h| h.user == s("dbuser") && h.port == Some(22),
        },
        Case {
            name: "question mark needs exactly one char",
            text: "Host db?.prod\n  User dbuser\n",
            alias: "db12.prod",
            check: |h| h.user.is_none(),
        },
        Case {
            name: "negation vetoes other patterns",
            text: "Host *.prod !bastion.prod\n  ProxyJump bastion.prod\n",
            alias: "bastion.prod",
            check: |h| h.proxy_jump.is_none(),
        },
        Case {
            name: "negation does not veto non-matching",
            text: "Host *.prod !bastion.prod\n  ProxyJump bastion.prod\n",
            alias: "app.prod",
            check: |h| h.proxy_jump == s("bastion.prod"),
        },
        Case {
            name: "negation alone never matches",
            text: "Host !foo\n  User x\n",
            alias: "bar",
            check: |h| h.user.is_none(),
        },
        Case {
            name: "first value wins",
            text: "Host web\n  User first\nHost *\n  User second\n  Port 1\n",
            alias: "web",
            check: |h| h.user == s("first") && h.port == Some(1),
        },
        Case {
            name: "defaults before first Host apply to all",
            text: "User global\nPort 2200\nHost web\n  User ignored\n",
            alias: "web",
            check: |h| h.user == s("global") && h.port == Some(2200),
        },
        Case {
            name: "matching uses alias not HostName",
            text: "Host web\n  HostName 10.0.0.1\nHost 10.0.0.1\n  User byip\n",
            alias: "web",
            check: |h| h.host_name == s("10.0.0.1") && h.user.is_none(),
        },
        Case {
            name: "host matching is case-sensitive, HostName lowercased",
            text: "Host Web\n  HostName WEB.Example.COM\n",
            alias: "Web",
            check: |h| h.host_name == s("web.example.com"),
        },
        Case {
            name: "host matching is case-sensitive (miss)",
            text: "Host Web\n  HostName x\n",
            alias: "web",
            check: |h| h.host_name.is_none(),
        },
        Case {
            name: "comma is not a separator on Host lines",
            text: "Host a,b\n  User x\n",
            alias: "a",
            check: |h| h.user.is_none(),
        },
        Case {
            name: "identity files accumulate, dedup",
            text: "Host web\n  IdentityFile ~/.ssh/web\n  IdentityFile ~/.ssh/shared\nHost *\n  IdentityFile ~/.ssh/shared\n  IdentityFile /keys/default\n  IdentitiesOnly yes\n",
            alias: "web",
            check: |h| {
                h.identity_files
                    == strings(&[
                        "/home/alice/.ssh/web",
                        "/home/alice/.ssh/shared",
                        "/keys/default",
                    ])
                    && h.identities_only == Some(true)
            },
        },
        Case {
            name: "known hosts: first line wins as a list",
            text: "Host web\n  UserKnownHostsFile ~/a %d/b\nHost *\n  UserKnownHostsFile ~/c\n",
            alias: "web",
            check: |h| h.user_known_hosts_files == strings(&["/home/alice/a", "/home/alice/b"]),
        },
        Case {
            name: "tokens",
            text: "Host web\n  HostName %h.example.com\n  User deploy\n  Port 2022\n  IdentityFile %d/.ssh/%u-%r@%h:%p-%n-%k-%%\n",
            alias: "web",
            check: |h| {
                h.host_name == s("web.example.com")
                    && h.identity_files
                        == strings(&["/home/alice/.ssh/bob-deploy@web.example.com:2022-web-web-%"])
            },
        },
        Case {
            name: "%r defaults to local user, %h to alias, %p to 22",
            text: "IdentityFile ~/%r-%h-%p\n",
            alias: "Box",
            check: |h| h.identity_files == strings(&["/home/alice/bob-box-22"]),
        },
        Case {
            name: "quoted values and escapes",
            text: "Host \"my host\" other\n  IdentityFile \"~/.ssh/my key\"\n  User 'x y'\n  ProxyJump a\\ b\n",
            alias: "my host",
            check: |h| {
                h.identity_files == strings(&["/home/alice/.ssh/my key"])
                    && h.user == s("x y")
                    && h.proxy_jump == s("a b")
            },
        },
        Case {
            name: "= syntax variants",
            text: "Host=web\nUser=a\nPort = 2\nHostName =h\nIdentitiesOnly= no\nConnectTimeout 1m30s\nServerAliveInterval=15\nUser = ignored\n",
            alias: "web",
            check: |h| {
                h.user == s("a")
                    && h.port == Some(2)
                    && h.host_name == s("h")
                    && h.identities_only == Some(false)
                    && h.connect_timeout == Some(90)
                    && h.server_alive_interval == Some(15)
            },
        },
        Case {
            name: "value with = inside",
            text: "User=a=b\n",
            alias: "x",
            check: |h| h.user == s("a=b"),
        },
        Case {
            name: "case-insensitive keywords",
            text: "hOsT web\n  HOSTNAME h\n  user U\n  pOrT 7\n  identityfile /k\n  PROXYJUMP none\n  stricthostkeychecking Accept-New\n",
            alias: "web",
            check: |h| {
                h.host_name == s("h")
                    && h.user == s("U")
                    && h.port == Some(7)
                    && h.identity_files == strings(&["/k"])
                    && h.proxy_jump == s("none")
                    && h.strict_host_key_checking == Some(crate::ssh::HostKeyCheck::AcceptNew)
            },
        },
        Case {
            name: "comments and blank lines",
            text: "# top\n\n   # indented\nHost web # trailing\n  Port 22 # why\n",
            alias: "web",
            check: |h| h.port == Some(22),
        },
        Case {
            name: "an invalid Port fails the host rather than letting a later one apply",
            text: "Host web\n  Port abc\nHost *\n  Port 2\n",
            alias: "web",
            check: |h| {
                h.port.is_none()
                    && h.error.as_deref().is_some_and(|e| {
                        e.starts_with("~/.ssh/config:2: invalid Port value \"abc\"")
                    })
            },
        },
        Case {
            name: "an invalid Port after a valid one changes nothing",
            text: "Host web\n  Port 3\nHost *\n  Port 0\n",
            alias: "web",
            check: |h| h.port == Some(3) && h.error.is_none(),
        },
        Case {
            name: "an invalid Port of another host changes nothing",
            text: "Host db\n  Port 70000\nHost *\n  Port 4\n",
            alias: "web",
            check: |h| h.port == Some(4) && h.error.is_none(),
        },
        Case {
            name: "an invalid HostName fails the host",
            text: "Host web\n  HostName a b\n",
            alias: "web",
            check: |h| h.host_name.is_none() && h.error.is_some(),
        },
        Case {
            name: "an invalid User fails the host, a spec's user would not",
            text: "Host web\n  User a b\nHost *\n  User c\n",
            alias: "web",
            check: |h| h.user.is_none() && h.error.is_some(),
        },
        Case {
            name: "match block applies until next Host",
            text: "Match host web\n  User fromatch\nHost web\n  Port 3\n",
            alias: "web",
            check: |h| h.user == s("fromatch") && h.port == Some(3),
        },
        Case {
            name: "Match host sees the HostName so far",
            text: "Host web\n  HostName %h.example\nMatch host web.example\n  User m\n",
            alias: "web",
            check: |h| h.user == s("m"),
        },
        Case {
            name: "Match final: Host lines match the host name in the second pass",
            text: "Host web\n  HostName Real\nHost real\n  User byreal\nMatch final\n  Port 1111\n  HostName ignored\n",
            alias: "web",
            check: |h| h.user == s("byreal") && h.port == Some(1111) && h.host_name == s("real"),
        },
        Case {
            name: "Match canonical alone: no second pass",
            text: "Match canonical\n  User can\n",
            alias: "web",
            check: |h| h.user.is_none(),
        },
        Case {
            name: "Match all then Include reads the file",
            text: "Match all\n  Include /nonexistent/*.conf\n  User all\n",
            alias: "web",
            check: |h| h.user == s("all"),
        },
    ];
    for case in &cases {
        let h = cfg(case.text).resolve(case.alias, "bob");
        assert!((case.check)(&h), "case {:?} failed: {h:#?}", case.name);
    }
}

/// Whether OpenSSH's client is here (a skip notice, or a failure under
/// MTSSH_REQUIRE_PEERS=1, when not).
fn have_ssh() -> bool {
    let found = Command::new("ssh").arg("-V").output().is_ok();
    if !found {
        crate::test_support::skip_without_peer("ssh not found");
    }
    found
}

/// `ssh -G -F config ARGS...`: every `keyword value` line it prints.
fn ssh_g(config: &Path, args: &[String]) -> String {
    let out = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .args(args)
        .output()
        .expect("run ssh -G");
    assert!(out.status.success(), "ssh -G {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The values of `key` in `ssh -G` output, in order.
fn values(output: &str, key: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .map(str::to_string)
        .collect()
}

/// Compares with OpenSSH itself; `ssh -G -F FILE` ignores the system
/// config, so the result only depends on the file we write.
#[test]
fn cross_check_with_ssh_g() {
    if !have_ssh() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let inc = dir.join("inc");
    write(
        &inc.join("1.conf"),
        "Host db*\n  User dbadmin\n  IdentityFile /keys/db\n",
    );
    write(&inc.join("2.conf"), "Host db1\n  Port 5432\n");
    write(
        &inc.join("web.inc"),
        "IdentityFile /keys/webinc\nHost db1\n  User never\n",
    );
    let config = dir.join("config");
    let text = format!(
        "\
Include {inc}/*.conf
Host Web web2 !web3
  HostName %h.Example.COM
  user deploy
  Port=2201
  IdentityFile /keys/web
  Include {inc}/web.inc
Host *.prod !bastion.prod
  HostName internal
  Port 2222
host db?
  Port 15432
  IdentityFile \"/keys/with space\"
Host *
  User = everyone
  Port 2022
  IdentityFile /keys/default
  IdentityFile /keys/web
",
        inc = inc.display()
    );
    write(&config, &text);
    let ours = SshConfig::load(&config, dir);
    assert!(ours.warnings().is_empty(), "{:?}", ours.warnings());

    for alias in [
        "Web",
        "web",
        "web2",
        "web3",
        "db1",
        "db22",
        "app.prod",
        "bastion.prod",
        "zzz",
    ] {
        let stdout = ssh_g(&config, &[alias.to_string()]);
        let field = |k: &str| values(&stdout, k);
        let h = ours.resolve(alias, "nobody-local");
        let expect_host = h
            .host_name
            .clone()
            .unwrap_or_else(|| alias.to_ascii_lowercase());
        assert_eq!(field("hostname"), [expect_host], "hostname for {alias}");
        let port = h.port.unwrap_or(22).to_string();
        assert_eq!(field("port"), [port], "port for {alias}");
        if let Some(user) = &h.user {
            assert_eq!(field("user"), [user.as_str()], "user for {alias}");
        }
        assert_eq!(
            field("identityfile"),
            h.identity_files,
            "identityfile for {alias}"
        );
    }
}

/// `Match` (every criterion, negation, the second pass, `Match all` + `Include`) and `-o`,
/// against OpenSSH's own resolution: `ssh -G -F FILE [-o ...] [-p P] [user@]alias`.
#[test]
fn match_and_command_line_options_cross_check_with_ssh_g() {
    if !have_ssh() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let id = Command::new("id").arg("-un").output().expect("id -un");
    let me = String::from_utf8_lossy(&id.stdout).trim().to_string();
    write(
        &dir.join("m/a.conf"),
        "Host web\n  User fromincl\nMatch user fromincl\n  BatchMode yes\n",
    );
    let configs = [
        format!(
            "\
Host web
  HostName Real.Example
Match host real.example user deploy
  Port 2001
Match originalhost WEB !user deploy
  Port 2002
Match localuser {me}
  ServerAliveCountMax 9
Match !localuser {me}
  ServerAliveCountMax 8
Match user nob*,!nobody2
  ConnectionAttempts 4
Host *
  User fallback
"
        ),
        "\
Host web
  HostName real
Match exec \"test %h = real -a %n = web -a %p = 22\"
  User viaexec
Match exec false
  Port 1
Match !exec false host real
  Port 2100
"
        .to_string(),
        "\
Host web
  HostName real
Match canonical
  User can
Match final host real
  Port 2200
Host real
  ConnectionAttempts 5
Match !final
  ServerAliveCountMax 2
"
        .to_string(),
        format!(
            "\
Match all
  Include {}/m/*.conf
Host *
  Port 2300
  HashKnownHosts yes
",
            dir.display()
        ),
    ];
    /// Alias, user and port as given, and `-o` options.
    type Spec<'a> = (&'a str, Option<&'a str>, Option<u16>, &'a [&'a str]);
    let queries: [Spec; 7] = [
        ("web", None, None, &[]),
        ("web", Some("deploy"), None, &[]),
        ("web", Some("nobody"), None, &[]),
        ("web", Some("nobody2"), Some(7), &[]),
        ("other", Some("nobody"), Some(7), &[]),
        (
            "web",
            None,
            None,
            &["Port=5", "User=fromincl", "ConnectionAttempts=2"],
        ),
        (
            "other",
            None,
            None,
            &["HostName=web", "ServerAliveCountMax 0"],
        ),
    ];
    for (n, text) in configs.iter().enumerate() {
        let config = dir.join(format!("config{n}"));
        write(&config, text);
        let parsed = SshConfig::load(&config, dir);
        assert!(parsed.warnings().is_empty(), "{:?}", parsed.warnings());
        for (alias, user, port, options) in queries {
            let mut args = Vec::new();
            for o in options {
                args.extend(["-o".to_string(), o.to_string()]);
            }
            if let Some(p) = port {
                args.extend(["-p".to_string(), p.to_string()]);
            }
            let spec = match user {
                Some(u) => format!("{u}@{alias}"),
                None => alias.to_string(),
            };
            args.push(spec.clone());
            let stdout = ssh_g(&config, &args);
            let field = |k: &str| values(&stdout, k).concat();
            let opts: Vec<String> = options.iter().map(|o| o.to_string()).collect();
            let ours = parsed
                .clone()
                .with_command_line(&opts)
                .expect("options parse");
            let query = Query {
                alias,
                user,
                port,
                local_user: &me,
            };
            let h = ours.resolve_with(&query, &mut |cmd| {
                Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .status()
                    .map(|s| s.success())
                    .map_err(|e| e.to_string())
            });
            let what = format!("config{n} {options:?} {spec} port {port:?}");
            let host = h
                .host_name
                .clone()
                .unwrap_or_else(|| alias.to_ascii_lowercase());
            assert_eq!(field("hostname"), host, "hostname, {what}");
            assert_eq!(
                field("port"),
                h.port.unwrap_or(22).to_string(),
                "port, {what}"
            );
            assert_eq!(
                field("user"),
                h.user.clone().unwrap_or(me.clone()),
                "user, {what}"
            );
            let or = |v: Option<u32>, d: u32| v.unwrap_or(d).to_string();
            assert_eq!(
                field("serveralivecountmax"),
                or(h.server_alive_count_max, 3),
                "{what}"
            );
            assert_eq!(
                field("connectionattempts"),
                or(h.connection_attempts, 1),
                "{what}"
            );
            let flag = |v: Option<bool>| if v == Some(true) { "yes" } else { "no" };
            assert_eq!(field("batchmode"), flag(h.batch_mode), "{what}");
            assert_eq!(field("hashknownhosts"), flag(h.hash_known_hosts), "{what}");
        }
    }
}

#[test]
fn command_line_options_are_checked_like_ssh_o() {
    for (option, ok) in [
        ("Port=2222", true),
        ("port 2222", true),
        ("User=a", true),
        ("LogLevel=ERROR", true),
        ("ForwardAgent=no", true),
        ("Port=0", false),
        ("Port=abc", false),
        ("BatchMode=maybe", false),
        ("ForwardAgent=yes", false),
        ("Host=x", false),
        ("Match=all", false),
        ("Include=/etc/x", false),
        ("Bogus=1", false),
        ("", false),
        ("HostName=\"a", false),
    ] {
        let got = check_command_line_option(option);
        assert_eq!(got.is_ok(), ok, "{option:?}: {got:?}");
        if let Err(e) = got {
            assert!(e.starts_with(&format!("-o {option}: ")), "{e}");
            assert!(!e.contains("-o:0") && !e.contains("ignored"), "{e}");
            assert!(!e.contains("not connected"), "{e}");
        }
    }
}
