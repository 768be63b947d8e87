//! Texts: the bilingual banner, help and messages, and sanitising what is
//! echoed back.

use super::Lang;

/// Text shown to the user that they (or the client) supplied: controls other
/// than newline and tab become `?` so nothing can smuggle escapes through an
/// echo.
pub(super) fn clean_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// As [`clean_text`] but for things that must stay on one line.
pub(super) fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

pub(super) fn tr(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

pub(super) fn help_text(lang: Lang) -> &'static str {
    tr(
        lang,
        "Available commands:\n\
         \x20 help                 show this list\n\
         \x20 echo ARGS...         print the arguments ('echo $?' shows the last status)\n\
         \x20 hostname             print the server's host name\n\
         \x20 whoami               print your user name\n\
         \x20 pwd                  print the working directory\n\
         \x20 date                 print the date and time (UTC)\n\
         \x20 uptime               show how long the server has been running\n\
         \x20 env, show local env  print the environment\n\
         \x20 size                 print the terminal size (COLSxROWS)\n\
         \x20 sleep N              wait N seconds (fractions allowed, Ctrl-C interrupts)\n\
         \x20 seq N                print the numbers 1 to N\n\
         \x20 true, false          succeed / fail\n\
         \x20 clear                clear the screen\n\
         \x20 exit [N]             close the session with status N\n\
         Commands can be joined with ';'. Anything else is echoed back by the server.\n",
        "可用命令：\n\
         \x20 help                 显示本列表\n\
         \x20 echo 参数...         输出参数（'echo $?' 显示上一条命令的退出码）\n\
         \x20 hostname             显示服务器主机名\n\
         \x20 whoami               显示当前用户名\n\
         \x20 pwd                  显示当前工作目录\n\
         \x20 date                 显示日期和时间（UTC）\n\
         \x20 uptime               显示服务器已运行多久\n\
         \x20 env, show local env  显示环境变量\n\
         \x20 size                 显示终端大小（列x行）\n\
         \x20 sleep N              等待 N 秒（可用小数，Ctrl-C 可中断）\n\
         \x20 seq N                输出 1 到 N\n\
         \x20 true, false          成功 / 失败\n\
         \x20 clear                清屏\n\
         \x20 exit [N]             以退出码 N 结束会话\n\
         多条命令可用 ';' 分隔。其他输入会被服务端原样回显。\n",
    )
}

/// The handout server's greeting, prompt and echo, word for word (its clients match them).
pub(super) const HANDOUT_BANNER: &str = "=====本地模拟SSH服务=====\n输入任意指令，服务端回显内容\n";
pub(super) const HANDOUT_PROMPT: &str = "> ";
pub(super) const HANDOUT_ECHO: &str = "服务端收到指令：";

/// The greeting before the first prompt.
pub(super) fn banner(lang: Lang, user: &str, host: &str) -> String {
    let (title, welcome) = match lang {
        Lang::En => (
            "===== mtssh mock SSH server =====".to_string(),
            format!("Welcome, {user}, to {host}. Type 'help' for commands."),
        ),
        Lang::Zh => (
            "=====本地模拟SSH服务=====".to_string(),
            format!("欢迎 {user} 登录 {host}。输入 'help' 查看可用命令。"),
        ),
    };
    format!("{title}\n{welcome}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::shell::test_util::*;

    #[test]
    fn help_both_langs() {
        let en = run(Lang::En, "help");
        for cmd in [
            "echo",
            "sleep N",
            "seq N",
            "show local env",
            "exit [N]",
            "size",
        ] {
            assert!(en.contains(cmd), "{cmd} missing from help");
        }
        let zh = run(Lang::Zh, "help");
        assert!(zh.starts_with("可用命令："));
        assert!(zh.contains("seq N"));
    }
}
