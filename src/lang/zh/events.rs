//! The event loop made visible: the F12 event view, `mtssh run --trace-events` and the
//! `mtssh bench --timeline` chart. `wake #N +T ms:` and `event loop:` at the start of the
//! trace's lines stay English (scripts find the lines by them), so they are not keys here.

pub(super) const TEXTS: &[(&str, &str)] = &[
    // Shared by the view and the trace.
    ("readable", "可读"),
    ("writable", "可写"),
    (", {more} more", "，另有 {more} 个"),
    // The F12 view.
    (
        " Event loop: the one thread's wake-ups (any key closes) ",
        " 事件循环：唯一线程的每次唤醒（按任意键关闭） ",
    ),
    (
        "recording… the first sample comes within a quarter second",
        "记录中… 四分之一秒内出现第一个样本",
    ),
    (
        "wake-ups {wakeups}{wakeup_rate}  socket events {events}{event_rate}  \
         {per_wake} per wake-up, at most {most}",
        "唤醒 {wakeups}{wakeup_rate}  套接字事件 {events}{event_rate}  \
         每次唤醒 {per_wake} 个，最多 {most} 个",
    ),
    (
        "awake {share} % of the time  would block (EAGAIN): reads {reads}, writes {writes}",
        "忙碌时间占 {share} %  会阻塞（EAGAIN）：读 {reads}，写 {writes}",
    ),
    (
        "OS threads {total} (the loop, the terminal reader, blocking pool {pool})",
        "系统线程 {total}（事件循环、终端读取线程，阻塞线程池 {pool}）",
    ),
    // Same columns as the English: `+ms` and `忙碌 ms` end where their numbers do.
    (
        "  wake         +ms  awake ms  ready sockets",
        "  唤醒         +ms   忙碌 ms  就绪的套接字",
    ),
    (
        "— a timer (the 10 ms lag probe) or a channel",
        "— 定时器（10 ms 延迟探测）或通道",
    ),
    // `mtssh run --trace-events`.
    (
        "no socket events (a timer or another task)",
        "没有套接字事件（定时器或其他任务）",
    ),
    ("{n} event: {named}", "{n} 个事件：{named}"),
    ("{n} events: {named}", "{n} 个事件：{named}"),
    (
        "; awake {awake} ms; threads {threads}",
        "；忙碌 {awake} ms；线程 {threads}",
    ),
    (
        "{wakeups} wake-ups, {events} socket events ({per_wake} per wake-up, at most {most}); \
         awake {awake} ms of {elapsed} ms ({share} %); reads that would block (EAGAIN) {reads}, \
         writes {writes}; threads at most {threads} (the event loop, the trace printer and the \
         blocking pool: {pool} in the blocking pool)",
        "唤醒 {wakeups} 次，套接字事件 {events} 个（每次唤醒 {per_wake} 个，最多 {most} 个）；\
         {elapsed} ms 中忙碌 {awake} ms（{share} %）；会阻塞（EAGAIN）的读 {reads} 次，\
         写 {writes} 次；线程最多 {threads} 个（事件循环、跟踪输出线程和阻塞线程池：\
         阻塞线程池中 {pool} 个）",
    ),
    // The timeline chart.
    (
        "mtssh bench timeline: {sessions} sessions, server latency {latency} ms",
        "mtssh bench 时间线：{sessions} 个会话，服务器延迟 {latency} ms",
    ),
    (
        "one bar per session; each panel on its own time scale, from its first session's start",
        "每个会话一条；各面板使用自己的时间刻度，从其第一个会话开始时算起",
    ),
    ("connect", "连接"),
    ("authenticate", "认证"),
    ("command", "命令"),
    ("close", "关闭"),
    ("every {step}th session shown", "每 {step} 个会话显示 1 个"),
    ("no session times", "没有会话时间"),
];
