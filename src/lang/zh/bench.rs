//! `mtssh bench`: the progress lines, the table and the SVG chart. Mode names (sequential,
//! threads, event-loop) stay as written: they are the values of `--modes`.

pub(super) const TEXTS: &[(&str, &str)] = &[
    ("{ok} of {sessions} ok", "{sessions} 个中 {ok} 个成功"),
    ("  (stopped at the time cap)", "  （达到时间上限，已停止）"),
    ("chart written to {path}", "图表已写入 {path}"),
    (
        "{sessions} sessions, command {command}, server latency {latency} ms",
        "{sessions} 个会话，命令 {command}，服务器延迟 {latency} ms",
    ),
    ("mode", "模式"),
    ("wall s", "耗时 s"),
    ("CPU s", "CPU s"),
    ("threads", "线程"),
    ("peak RSS", "内存峰值"),
    ("sessions/s", "会话/秒"),
    ("speed-up", "加速比"),
    ("  (capped)", "  （已封顶）"),
    ("wall time", "耗时"),
    (" (capped)", "（已封顶）"),
    ("wall time, client CPU (light)", "耗时，客户端 CPU（浅色）"),
    ("seconds; shorter is faster", "秒；越短越快"),
    ("peak OS threads", "系统线程峰值"),
    ("fewer is lighter", "越少越轻"),
    ("peak memory (RSS)", "内存峰值（RSS）"),
    ("less is lighter", "越少越轻"),
    (
        "mtssh bench: {sessions} sessions, server latency {latency} ms, command {command}",
        "mtssh bench：{sessions} 个会话，服务器延迟 {latency} ms，命令 {command}",
    ),
    (
        "each mode in a child process of its own, measured from outside",
        "每种模式各在一个子进程中运行，从外部测量",
    ),
];
