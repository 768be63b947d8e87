//! Recordings (asciicast) and session logs: the notices of the writer thread. File paths and
//! session names are values, never translated.

pub(super) const TEXTS: &[(&str, &str)] = &[
    (
        "recordings and logs: the writer did not finish within {secs} s; their last output may be missing",
        "录制和日志：写入线程 {secs} 秒内没有写完，最后的输出可能缺失",
    ),
    ("{name}: recording to {to}", "{name}：正在录制到 {to}"),
    ("{name}: not recorded: {why}", "{name}：未录制：{why}"),
    (
        "{name}: recording saved to {path}",
        "{name}：录制已保存到 {path}",
    ),
    ("{name}: recording: {why}", "{name}：录制：{why}"),
    (
        "{name}: recording stopped: {why}",
        "{name}：录制已停止：{why}",
    ),
    ("{name}: not logged: {why}", "{name}：未记录日志：{why}"),
    ("{name}: log stopped: {why}", "{name}：日志已停止：{why}"),
    ("{name}: log: {why}", "{name}：日志：{why}"),
    (
        "recordings and logs are off: no writer thread: {why}",
        "录制和日志已关闭：无法启动写入线程：{why}",
    ),
    (
        "nowhere to record: no state directory; start with --record DIR",
        "无处录制：没有状态目录；请用 --record DIR 启动",
    ),
    ("writing {path}", "写入 {path}"),
    ("creating {path}", "创建 {path}"),
    ("removing {path}", "删除 {path}"),
    ("renaming {from} to {to}", "将 {from} 重命名为 {to}"),
];
