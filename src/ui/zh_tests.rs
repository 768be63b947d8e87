//! The TUI in Chinese (`--lang zh`) at 80×24: the grid, the status bar, the F1 help and a
//! dialog. Drawn inside `lang::with`, so tests in English run beside them unchanged.

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::tests::{key, render};
use crate::app::{App, MockStatus, Msg};
use crate::lang::{Lang, with};
use crate::ssh::{SessionError, SessionState};

/// Practice panes on the mock as `mtssh mock --lang zh` greets them, the mock listening.
fn practice_app(cols: u16, rows: u16, n: usize) -> App {
    let mut app = App::new(cols, rows, n);
    let _ = app.update(Msg::Mock(MockStatus::Listening("127.0.0.1:2222".into())));
    for i in 1..=n {
        let (id, _) = app.add_pane(format!("mock-{i:02}"));
        let _ = app.update(Msg::State {
            id,
            state: SessionState::Ready,
        });
        let data = format!(
            "=====本地模拟SSH服务=====\r\n欢迎 test 登录 mock-{i:02}。输入 'help' 查看可用命令。\r\ntest@mock-{i:02}:~$ "
        );
        let _ = app.update(Msg::Output {
            id,
            data: data.into_bytes(),
        });
    }
    app
}

#[test]
fn practice_grid_in_chinese_at_80x24() {
    with(Lang::Zh, || {
        let mut app = practice_app(80, 24, 4);
        let _ = app.update(Msg::State {
            id: 3,
            state: SessionState::Failed {
                error: SessionError::Refused {
                    address: "127.0.0.1:2222".into(),
                    reason: "Connection refused (os error 111)".into(),
                },
            },
        });
        let screen = render(&app);
        insta::assert_snapshot!("zh_practice_grid_80x24", screen);
        for needle in ["1 个线程运行 4 个会话和界面", "F1 帮助", "广播» ", "就绪"]
        {
            assert!(screen.contains(needle), "{needle}:\n{screen}");
        }
    });
}

#[test]
fn chinese_status_bar_keeps_the_thread_message_from_80_columns() {
    with(Lang::Zh, || {
        for panes in [1, 12, 100] {
            let mut app = practice_app(200, 8, panes);
            let _ = app.update(Msg::Lag(std::time::Duration::from_millis(3)));
            let layout = app.layout();
            let threads = format!("1 个线程运行 {panes} 个会话和界面");
            let notices = [
                None,
                Some("mock-01 仍在线；F8 关闭"),
                Some("没有待发送的输入可丢弃"),
            ];
            for notice in notices {
                app.notice = notice.map(str::to_string);
                for cols in 80..=200 {
                    let mut terminal = Terminal::new(TestBackend::new(cols, 1)).expect("backend");
                    terminal
                        .draw(|f| super::bars::draw_status(f, &app, &layout, f.area()))
                        .expect("draw");
                    let bar = terminal.backend().to_string();
                    for needle in [threads.as_str(), "F1 帮助", "行"] {
                        assert!(bar.contains(needle), "{cols} cols: {bar}");
                    }
                }
            }
        }
    });
}

#[test]
fn chinese_help_at_80x24_scrolls_to_its_last_row() {
    with(Lang::Zh, || {
        let mut app = practice_app(80, 24, 2);
        key(&mut app, KeyCode::F(1), KeyModifiers::NONE);
        let top = render(&app);
        insta::assert_snapshot!("zh_help_80x24_top", top);
        let mut seen = top.clone();
        for _ in 0..80 {
            key(&mut app, KeyCode::Down, KeyModifiers::NONE);
            seen += &render(&app);
        }
        let bottom = render(&app);
        insta::assert_snapshot!("zh_help_80x24_bottom", bottom);
        assert!(
            bottom.contains("Ctrl-Q") && bottom.contains("退出"),
            "{bottom}"
        );
        // Every row's keys, and the start of its Chinese text, were on screen.
        let seen: String = seen.split_whitespace().collect();
        for (keys, action) in crate::app::help::KEY_HELP {
            let text = if action.is_empty() { keys } else { action };
            let start: String = crate::lang::tr(text)
                .split_whitespace()
                .collect::<String>()
                .chars()
                .take(6)
                .collect();
            assert!(seen.contains(&start), "{start} never shown");
            let keys: String = keys.split_whitespace().collect();
            assert!(
                action.is_empty() || seen.contains(&keys),
                "{keys} never shown"
            );
        }
    });
}

#[test]
fn chinese_dialogs_and_notices() {
    with(Lang::Zh, || {
        let mut app = practice_app(80, 24, 3);
        key(&mut app, KeyCode::Char('q'), KeyModifiers::CONTROL);
        insta::assert_snapshot!("zh_dialog_quit_80x24", render(&app));
        key(&mut app, KeyCode::Char('n'), KeyModifiers::NONE);
        key(&mut app, KeyCode::Char('a'), KeyModifiers::ALT);
        key(&mut app, KeyCode::Char('n'), KeyModifiers::ALT);
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(app.notice(), Some("没有可发送的活动会话（Alt-A 全选）"));
        let empty = render(&App::new(70, 10, 0));
        assert!(empty.contains("没有会话。"), "{empty}");
    });
}
