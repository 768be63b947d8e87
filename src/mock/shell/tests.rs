//! The shell as a whole: banner, busy states (sleep, seq, type-ahead,
//! Ctrl-C), EOF, exec scripts, and a random-input soak.

use super::test_util::*;
use super::*;

#[test]
fn lang_names_round_trip() {
    for (lang, name) in Lang::ALL.into_iter().zip(Lang::NAMES) {
        assert_eq!(lang.name(), *name);
        assert_eq!(lang.to_string(), *name);
        assert_eq!(name.parse::<Lang>(), Ok(lang));
    }
    let err = "fr".parse::<Lang>().unwrap_err();
    assert!(err.contains("en, zh"), "{err}");
}

#[test]
fn banner_en_pty() {
    let mut sh = Shell::new(cfg(Lang::En, true));
    let out = text(&sh.start(NOW));
    assert_eq!(
        out,
        "===== mtssh mock SSH server =====\r\n\
         Welcome, alice, to lab. Type 'help' for commands.\r\n\
         alice@lab:~$ "
    );
}

#[test]
fn banner_zh_no_pty() {
    let mut sh = Shell::new(cfg(Lang::Zh, false));
    let out = text(&sh.start(NOW));
    assert!(out.starts_with("=====本地模拟SSH服务=====\n欢迎 alice 登录 lab。"));
    assert!(!out.contains('\r'));
    assert!(out.ends_with(P));
}

#[test]
fn set_env_is_bounded() {
    let mut sh = shell(Lang::En, false);
    for i in 0..1000 {
        sh.set_env(&format!("V{i}"), "x");
    }
    sh.set_env("BIG", &"x".repeat(MAX_ENV_VALUE + 1));
    sh.set_env("", "x");
    assert_eq!(sh.cfg.env.len(), MAX_ENV_VARS);
    sh.set_env("V0", "changed");
    assert!(text(&feed(&mut sh, "env\n")).contains("V0=changed\n"));
}

#[test]
fn sleep_runs_and_finishes() {
    let mut sh = shell(Lang::En, true);
    let a = feed(&mut sh, "sleep 0.5\r");
    assert_eq!(a[0], Action::Output(b"sleep 0.5\r\n".to_vec()));
    assert_eq!(a[1], Action::Sleep { millis: 500 });
    assert_eq!(a.len(), 2);
    assert_eq!(text(&sh.sleep_finished()), P);
    // Stale completion is ignored.
    assert!(sh.sleep_finished().is_empty());
    assert!(sh.seq_finished().is_empty());
    // Zero needs no timer.
    assert_eq!(text(&feed(&mut sh, "sleep 0\r")), format!("sleep 0\r\n{P}"));
}

#[test]
fn sleep_interrupt() {
    let mut sh = shell(Lang::En, true);
    feed(&mut sh, "sleep 10\r");
    let a = feed(&mut sh, "\x03");
    assert_eq!(a[0], Action::CancelSleep);
    assert_eq!(text(&a), format!("^C\r\n{P}"));
    assert!(sh.sleep_finished().is_empty());
    assert_eq!(
        text(&feed(&mut sh, "echo $?\r")),
        format!("echo $?\r\n130\r\n{P}")
    );
}

#[test]
fn sleep_and_interrupt_in_one_feed() {
    let mut sh = shell(Lang::En, true);
    let a = feed(&mut sh, "sleep 5\r\x03whoami\r");
    assert_eq!(
        others(&a),
        vec![Action::Sleep { millis: 5000 }, Action::CancelSleep]
    );
    assert!(text(&a).ends_with(&format!("^C\r\n{P}whoami\r\nalice\r\n{P}")));
}

#[test]
fn type_ahead_held_until_sleep_ends() {
    let mut sh = shell(Lang::En, true);
    feed(&mut sh, "sleep 1\r");
    assert!(feed(&mut sh, "who").is_empty());
    assert!(feed(&mut sh, "ami\r").is_empty());
    let out = text(&sh.sleep_finished());
    assert_eq!(out, format!("{P}whoami\r\nalice\r\n{P}"));
}

#[test]
fn type_ahead_chains_sleeps() {
    let mut sh = shell(Lang::En, false);
    feed(&mut sh, "sleep 1\n");
    assert!(feed(&mut sh, "sleep 2\necho done\n").is_empty());
    let a = sh.sleep_finished();
    assert_eq!(others(&a), vec![Action::Sleep { millis: 2000 }]);
    assert_eq!(text(&a), P);
    assert!(feed(&mut sh, "hostname\n").is_empty());
    assert_eq!(text(&sh.sleep_finished()), format!("{P}done\n{P}lab\n{P}"));
}

#[test]
fn ctrl_c_flushes_type_ahead() {
    let mut sh = shell(Lang::En, true);
    feed(&mut sh, "sleep 1\r");
    feed(&mut sh, "whoami\r");
    let a = feed(&mut sh, "\x03");
    assert_eq!(text(&a), format!("^C\r\n{P}"));
    assert!(sh.sleep_finished().is_empty());
}

#[test]
fn cr_lf_after_busy_is_one_enter() {
    let mut sh = shell(Lang::En, true);
    feed(&mut sh, "sleep 1\r");
    feed(&mut sh, "\n");
    assert_eq!(text(&sh.sleep_finished()), P);
}

#[test]
fn type_ahead_is_bounded() {
    let mut sh = shell(Lang::En, false);
    feed(&mut sh, "sleep 1\n");
    for _ in 0..100 {
        feed(&mut sh, &"x".repeat(10_000));
    }
    assert_eq!(sh.pending.len(), MAX_PENDING);
    sh.sleep_finished();
    assert!(sh.line.len() <= MAX_LINE);
}

#[test]
fn seq_interactive_and_cancel() {
    let mut sh = shell(Lang::En, true);
    assert!(sh.crlf());
    let a = feed(&mut sh, "seq 5\r");
    assert_eq!(others(&a), vec![Action::Seq { count: 5 }]);
    assert!(feed(&mut sh, "pwd\r").is_empty());
    assert_eq!(
        text(&sh.seq_finished()),
        format!("{P}pwd\r\n/home/alice\r\n{P}")
    );
    feed(&mut sh, "seq 999999999999\r");
    let a = feed(&mut sh, "\x03");
    assert_eq!(a[0], Action::CancelSeq);
    assert_eq!(text(&a), format!("^C\r\n{P}"));
    assert!(sh.seq_finished().is_empty());
}

#[test]
fn date_after_sleep_advances() {
    let mut sh = shell(Lang::En, false);
    feed(&mut sh, "sleep 2; date\n");
    assert!(text(&sh.sleep_finished()).starts_with("Fri Nov 27 16:24:42 UTC 2026\n"));
}

#[test]
fn no_pty_mode() {
    let mut sh = Shell::new(cfg(Lang::En, false));
    assert!(!sh.crlf());
    let banner = text(&sh.start(NOW));
    assert!(banner.ends_with(&format!("commands.\n{P}")));
    assert_eq!(text(&feed(&mut sh, "hi")), "");
    assert_eq!(
        text(&feed(&mut sh, "\n")),
        format!("server received: hi\n{P}")
    );
    assert_eq!(text(&feed(&mut sh, "\x03")), format!("^C\n{P}"));
}

#[test]
fn eof_behaviour() {
    let mut sh = shell(Lang::En, false);
    feed(&mut sh, "false\nwhoami");
    let a = sh.eof();
    assert_eq!(text(&a), format!("alice\n{P}"));
    assert_eq!(others(&a), vec![Action::Exit(0)]);

    let mut sh = shell(Lang::En, false);
    feed(&mut sh, "false\n");
    assert_eq!(others(&sh.eof()), vec![Action::Exit(1)]);

    // EOF during a sleep waits for it and the type-ahead.
    let mut sh = shell(Lang::En, true);
    feed(&mut sh, "sleep 1\r");
    feed(&mut sh, "hostname\r");
    assert!(sh.eof().is_empty());
    let a = sh.sleep_finished();
    assert_eq!(text(&a), format!("{P}hostname\r\nlab\r\n{P}logout\r\n"));
    assert_eq!(others(&a), vec![Action::Exit(0)]);
}

#[test]
fn hostile_user_and_host_are_sanitized() {
    let mut c = cfg(Lang::En, true);
    c.user = "ev\x1b[2Jil\n".to_string();
    let mut sh = Shell::new(c);
    let out = text(&sh.start(NOW));
    assert!(!out.contains('\x1b'));
    assert!(out.ends_with("ev?[2Jil?@lab:~$ "));
    let out = text(&run_exec(&cfg(Lang::En, false), "bad\x1b[31m\x07", NOW));
    assert_eq!(out, "server received: bad?[31m?\n");
}

#[test]
fn exec_statuses() {
    assert_eq!(exec("true"), vec![Action::Exit(0)]);
    assert_eq!(exec("false"), vec![Action::Exit(1)]);
    assert_eq!(exec(""), vec![Action::Exit(0)]);
    assert_eq!(exec("exit 3"), vec![Action::Exit(3)]);
    assert_eq!(exec("exit"), vec![Action::Exit(0)]);
    assert_eq!(
        exec("whoami"),
        vec![Action::Output(b"alice\n".to_vec()), Action::Exit(0)]
    );
    assert_eq!(
        exec("hello"),
        vec![
            Action::Output(b"server received: hello\n".to_vec()),
            Action::Exit(0)
        ]
    );
    assert_eq!(
        exec("sleep 1.5"),
        vec![Action::Sleep { millis: 1500 }, Action::Exit(0)]
    );
    assert_eq!(
        exec("seq 3"),
        vec![Action::Seq { count: 3 }, Action::Exit(0)]
    );
    assert_eq!(
        exec("sleep bad"),
        vec![
            Action::Output(b"sleep: invalid time interval 'bad'\n".to_vec()),
            Action::Exit(1)
        ]
    );
    assert_eq!(
        exec("echo a; sleep 1; date; exit 4; echo never"),
        vec![
            Action::Output(b"a\n".to_vec()),
            Action::Sleep { millis: 1000 },
            Action::Output(b"Fri Nov 27 16:24:41 UTC 2026\n".to_vec()),
            Action::Exit(4)
        ]
    );
    assert_eq!(text(&exec("whoami\nhostname\n")), "alice\nlab\n");
    assert_eq!(
        text(&exec("exit foo")),
        "exit: foo: numeric argument required\n"
    );
    assert_eq!(others(&exec("exit foo")), vec![Action::Exit(2)]);
}

#[test]
fn exec_with_pty_and_zh() {
    let c = cfg(Lang::Zh, true);
    assert_eq!(
        run_exec(&c, "hi; size", NOW),
        vec![
            Action::Output("服务端收到指令：hi\r\n80x24\r\n".as_bytes().to_vec()),
            Action::Exit(0)
        ]
    );
}

#[test]
fn random_bytes_never_panic() {
    // Biased toward bytes the parser treats specially, so the interesting
    // states are actually reached.
    const SPECIAL: &[u8] = b"\r\n\x03\x04\x08\x7f\x15\x17\x0c\x1b[O;$?'\"\\ 0123456789.\xe4\xb8\xad\xc3\xa9\xf0\x9f\x98\x80\xff";
    const WORDS: [&[u8]; 8] = [
        b"sleep ", b"seq ", b"exit ", b"echo ", b"env", b"date", b"1", b"\r",
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let configs = [
        cfg(Lang::En, true),
        cfg(Lang::En, false),
        cfg(Lang::Zh, true),
        cfg(Lang::Zh, false),
    ];
    let mut sh = Shell::new(configs[0].clone());
    for i in 0..10_000u64 {
        let len = (rng.next() % 64) as usize;
        let mut bytes = Vec::with_capacity(len);
        while bytes.len() < len {
            let r = rng.next();
            match r % 4 {
                0 => bytes.push((r >> 8) as u8),
                1 | 2 => bytes.push(SPECIAL[(r >> 8) as usize % SPECIAL.len()]),
                _ => bytes.extend_from_slice(WORDS[(r >> 8) as usize % WORDS.len()]),
            }
        }
        let now = rng.next().is_multiple_of(2);
        let now = if now { rng.next() } else { NOW };
        let _ = sh.feed(&bytes, now);
        match rng.next() % 16 {
            0 => drop(sh.sleep_finished()),
            1 => drop(sh.seq_finished()),
            2 => sh.resize((rng.next() % 300) as u16, (rng.next() % 300) as u16),
            3 => sh.set_env(&String::from_utf8_lossy(&bytes), "v"),
            4 if rng.next().is_multiple_of(8) => drop(sh.eof()),
            _ => {}
        }
        assert!(sh.line.len() <= MAX_LINE);
        assert!(sh.pending.len() <= MAX_PENDING);
        let c = &configs[(i % 4) as usize];
        let actions = run_exec(c, &String::from_utf8_lossy(&bytes), now);
        assert!(matches!(actions.last(), Some(Action::Exit(_))));
        if sh.has_exited() {
            sh = Shell::new(c.clone());
            let _ = sh.start(now);
        }
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
