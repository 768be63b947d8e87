//! OSC 133 marks around prompts and commands, and hosts that differ on purpose.

use super::test_util::*;
use super::*;

fn marked(differ: Option<Difference>) -> Shell {
    let mut sh = Shell::new(ShellConfig {
        marks: true,
        differ,
        ..cfg(Lang::En, true)
    });
    sh.start(NOW);
    sh
}

const A: &str = "\x1b]133;A\x07";
const B: &str = "\x1b]133;B\x07";
const C: &str = "\x1b]133;C\x07";

#[test]
fn marks_bracket_prompt_command_output_and_status() {
    let mut sh = Shell::new(ShellConfig {
        marks: true,
        ..cfg(Lang::En, true)
    });
    let first = text(&sh.start(NOW));
    assert!(first.ends_with(&format!("{A}{P}{B}")), "{first:?}");
    assert!(!first.contains("133;D"), "no command ran yet: {first:?}");
    let out = text(&feed(&mut sh, "false\r"));
    assert_eq!(out, format!("false\r\n{C}\x1b]133;D;1\x07{A}{P}{B}"));
    let out = text(&feed(&mut sh, "echo hi\r"));
    assert_eq!(
        out,
        format!("echo hi\r\n{C}hi\r\n\x1b]133;D;0\x07{A}{P}{B}")
    );
}

#[test]
fn empty_line_and_ctrl_c_at_the_prompt_close_no_command() {
    let mut sh = marked(None);
    let out = text(&feed(&mut sh, "\r"));
    assert_eq!(out, format!("\r\n{A}{P}{B}"));
    let out = text(&feed(&mut sh, "abc\x03"));
    assert!(!out.contains("133;D") && !out.contains(C), "{out:?}");
}

#[test]
fn interrupted_sleep_closes_with_130() {
    let mut sh = marked(None);
    feed(&mut sh, "sleep 5\r");
    let out = text(&feed(&mut sh, "\x03"));
    assert!(out.contains("\x1b]133;D;130\x07"), "{out:?}");
}

#[test]
fn no_marks_without_a_pty() {
    let mut sh = Shell::new(ShellConfig {
        marks: true,
        ..cfg(Lang::En, false)
    });
    let out = text(&sh.start(NOW)) + &text(&feed(&mut sh, "false\n"));
    assert!(!out.contains('\x1b'), "{out:?}");
}

#[test]
fn a_differing_host_adds_its_line_and_status() {
    let differ = Difference {
        status: 3,
        text: "other".into(),
    };
    let mut sh = marked(Some(differ.clone()));
    let out = text(&feed(&mut sh, "echo hi\r"));
    assert_eq!(
        out,
        format!("echo hi\r\n{C}hi\r\nother\r\n\x1b]133;D;3\x07{A}{P}{B}")
    );
    let script = run_exec(
        &ShellConfig {
            differ: Some(differ),
            style: Default::default(),
            ..cfg(Lang::En, false)
        },
        "true",
        NOW,
    );
    assert_eq!(text(&script), "other\n");
    assert_eq!(others(&script), vec![Action::Exit(3)]);
}

/// The handout's echo server: its banner, `> ` prompt and echo, no marks, `;` kept.
#[test]
fn the_handout_style_greets_prompts_and_echoes_as_the_handout() {
    let mut sh = Shell::new(ShellConfig {
        marks: true,
        style: crate::mock::ShellStyle::Handout,
        ..cfg(Lang::En, true)
    });
    let greeting = text(&sh.start(NOW));
    assert_eq!(
        greeting,
        "=====本地模拟SSH服务=====\r\n输入任意指令，服务端回显内容\r\n> "
    );
    let reply = text(&feed(&mut sh, "ls -l; help\r"));
    assert_eq!(reply, "ls -l; help\r\n服务端收到指令：ls -l; help\r\n> ");
    assert_eq!(text(&feed(&mut sh, "\r")), "\r\n> ");
    let bye = feed(&mut sh, "exit\r");
    assert_eq!(others(&bye), vec![Action::Exit(0)]);
}
