//! The TUI: status bar, input line, pane titles, dialogs and notices.

pub(super) const TEXTS: &[(&str, &str)] = &[
    // Status bar. The thread message never gives way: at 80 columns it must fit beside the
    // mode and "F1 帮助" (CJK characters take two columns).
    ("LINE", "行"),
    ("overview", "总览"),
    ("overview {screen}/{screens}", "总览 {screen}/{screens}"),
    (
        "no failed or closed pane to reconnect",
        "没有失败或已关闭的窗格需要重连",
    ),
    ("reconnecting 1 pane", "正在重连 1 个窗格"),
    ("reconnecting {n} panes", "正在重连 {n} 个窗格"),
    // Reconnecting by itself (`reconnect = "auto"`): pane lines, titles, status bar.
    ("--- reconnecting ---", "--- 正在重连 ---"),
    ("--- reconnected at {time} ---", "--- 已于 {time} 重连 ---"),
    (
        "retrying in {secs} s (try {attempt}/{tries})",
        "{secs} 秒后重试（第 {attempt}/{tries} 次）",
    ),
    (
        "reconnecting (try {attempt}/{tries})",
        "正在重连（第 {attempt}/{tries} 次）",
    ),
    ("gave up after {tries} tries", "{tries} 次重试后放弃"),
    (
        "{name}: gave up reconnecting after {tries} tries; F5 tries again",
        "{name}：{tries} 次重连失败，已放弃；F5 再试",
    ),
    ("{n} down, retrying", "{n} 个断开，重试中"),
    ("{n} gave up", "{n} 个已放弃"),
    ("KEYS", "按键"),
    ("FOCUS", "焦点"),
    ("mock starting…", "模拟服务器启动中…"),
    ("mock…", "模拟…"),
    (
        "mock on {addr} ({user}/{password})",
        "模拟服务器 {addr}（{user}/{password}）",
    ),
    ("mock on", "模拟服务器"),
    ("mock failed: {reason}", "模拟服务器失败：{reason}"),
    ("mock failed", "模拟服务器失败"),
    ("{ready} ready", "{ready} 就绪"),
    ("{failed} failed", "{failed} 失败"),
    ("{total} total", "共 {total}"),
    ("{ready}/{total} ready", "{ready}/{total} 就绪"),
    ("→ {targets}/{total} sessions", "→ {targets}/{total} 个会话"),
    ("page {page}/{pages}", "第 {page}/{pages} 页"),
    ("zoom", "放大"),
    ("mouse off", "鼠标关"),
    (
        "{asking} ask a password: Alt-W answers",
        "{asking} 个窗格等待密码：Alt-W 回答",
    ),
    (
        "1 thread runs {total} session + UI",
        "1 个线程运行 {total} 个会话和界面",
    ),
    (
        "1 thread runs {total} sessions + UI",
        "1 个线程运行 {total} 个会话和界面",
    ),
    ("lag {ms} ms", "延迟 {ms} ms"),
    ("F1 help", "F1 帮助"),
    // The input line.
    ("bcast» ", "广播» "),
    ("KEYS» ", "按键» "),
    ("FOCUS» ", "焦点» "),
    ("secret» ", "隐藏» "),
    (
        "every key goes to {count} active session; Ctrl-] returns to line mode",
        "每个按键都发给 {count} 个活动会话；Ctrl-] 回到行模式",
    ),
    (
        "every key goes to {count} active sessions; Ctrl-] returns to line mode",
        "每个按键都发给 {count} 个活动会话；Ctrl-] 回到行模式",
    ),
    (
        "keys go to {name} only; Ctrl-] returns",
        "按键只发给 {name}；Ctrl-] 返回",
    ),
    (
        "hidden input: not shown, not kept; Enter sends, Alt-P cancels",
        "隐藏输入：不显示、不保存；Enter 发送，Alt-P 取消",
    ),
    // Pane titles.
    ("connecting", "连接中"),
    ("authenticating", "认证中"),
    ("ready", "就绪"),
    ("closed", "已关闭"),
    ("closed: signal {signal}", "已关闭：信号 {signal}"),
    ("closed: exit {code}", "已关闭：退出码 {code}"),
    ("failed: {error}", "失败：{error}"),
    ("⚿ password? ", "⚿ 等待密码 "),
    (
        " ↑{offset} Shift-End: live ",
        " ↑{offset} Shift-End：回到实时 ",
    ),
    // Dialogs.
    (
        "{live} sessions are still live.\nQuit and close them? [y/n]",
        "还有 {live} 个会话在线。\n退出并关闭它们？[y/n]",
    ),
    (" Quit mtssh ", " 退出 mtssh "),
    (
        "Paste {lines} lines to {sessions} sessions? [y/n]\n\n{preview}",
        "把 {lines} 行粘贴到 {sessions} 个会话？[y/n]\n\n{preview}",
    ),
    (" Multi-line paste ", " 多行粘贴 "),
    (" {name} asks ", " {name} 询问 "),
    (" Confirm broadcast ", " 确认广播 "),
    (" Password prompts ", " 密码提示 "),
    (
        "Host to add, as user@host:port (Enter adds, Esc cancels)",
        "要添加的主机，格式 user@host:port（Enter 添加，Esc 取消）",
    ),
    (" Add host ", " 添加主机 "),
    (
        "Name for these {count} receivers (then @name in Alt-G):",
        "给这 {count} 个接收者起个名字（之后在 Alt-G 里用 @名字）：",
    ),
    (" Save receivers ", " 保存接收者 "),
    ("Groups: {groups}", "分组：{groups}"),
    (
        "@group, pane names (mock-[01-03]), joined by , ! & ^",
        "@分组、窗格名（mock-[01-03]），用 , ! & ^ 组合",
    ),
    (" Broadcast to ", " 广播给 "),
    ("(typing is hidden)", "（输入已隐藏）"),
    (
        " mtssh keys (↑↓ PgUp/PgDn scroll, other keys close) ",
        " mtssh 按键（↑↓ PgUp/PgDn 滚动，其他键关闭） ",
    ),
    (
        " mtssh keys (any key closes) ",
        " mtssh 按键（按任意键关闭） ",
    ),
    (
        " ▼ {below} more rows: ↓ PgDn ",
        " ▼ 下面还有 {below} 行：↓ PgDn ",
    ),
    (
        " ▲ {top} rows above: ↑ PgUp ",
        " ▲ 上面有 {top} 行：↑ PgUp ",
    ),
    (
        " ▲ {top} above · ▼ {below} below ",
        " ▲ 上面 {top} 行 · ▼ 下面 {below} 行 ",
    ),
    (
        "Send to {count} hosts{how}? [y/n]\n{hosts}\n\n{what}\n\nAsking because {reason}.",
        "发送到 {count} 台主机{how}？[y/n]\n{hosts}\n\n{what}\n\n询问原因：{reason}。",
    ),
    (" (canary: {count} first)", "（金丝雀：先发 {count} 台）"),
    (" (in batches of {count})", "（每批 {count} 台）"),
    ("it contains `{pattern}`", "其中含有 `{pattern}`"),
    ("more than {count} receivers", "接收者超过 {count} 个"),
    (
        "{count} asking: {names}. Enter sends, Esc cancels",
        "{count} 个窗格等待密码：{names}。Enter 发送，Esc 取消",
    ),
    // Notices.
    ("no pane shows a password prompt", "没有窗格在提示输入密码"),
    (
        "answer sent to {count} panes",
        "已向 {count} 个窗格发送回答",
    ),
    (
        ":CMD runs CMD on each receiver's connection; :: sends a leading colon to the shells",
        ":CMD 在每个接收者的连接上执行 CMD；:: 把开头的冒号原样发给 shell",
    ),
    (
        "no active session to run it on (Alt-A selects all)",
        "没有可执行的活动会话（Alt-A 全选）",
    ),
    (
        "running {line} on {count} sessions (Ctrl-C cancels; {secs}s timeout)",
        "正在 {count} 个会话上执行 {line}（Ctrl-C 取消；{secs}s 超时）",
    ),
    (
        "cancelling :CMD on {count} sessions",
        "正在取消 {count} 个会话上的 :CMD",
    ),
    (
        "no active session to send to (Alt-A selects all)",
        "没有可发送的活动会话（Alt-A 全选）",
    ),
    ("no unsent input to discard", "没有待发送的输入可丢弃"),
    (
        "{name} is still live; F8 closes it",
        "{name} 仍在线；F8 关闭",
    ),
    ("not sent", "未发送"),
    (
        "no receivers to save: select some first",
        "没有可保存的接收者：请先选择",
    ),
    (
        "saved {count} receiver as @{name} (Alt-G: @{name})",
        "已把 {count} 个接收者存为 @{name}（Alt-G：@{name}）",
    ),
    (
        "saved {count} receivers as @{name} (Alt-G: @{name})",
        "已把 {count} 个接收者存为 @{name}（Alt-G：@{name}）",
    ),
    (
        "the canary has not answered yet (Esc drops the send)",
        "金丝雀还没有回应（Esc 放弃这次发送）",
    ),
    (
        "sent {what} to the {count} others",
        "已把 {what} 发给其余 {count} 个",
    ),
    (
        "dropped {what}: {reached} of {total} sessions got it",
        "已放弃 {what}：{total} 个会话中 {reached} 个已收到",
    ),
    (
        "canary {name} failed ({why}): {what} not sent to the {others} others",
        "金丝雀 {name} 失败（{why}）：{what} 未发给其余 {others} 个",
    ),
    (
        "stopped: {name} failed ({why}); {reached} of {total} sessions got {what}",
        "已停止：{name} 失败（{why}）；{total} 个会话中 {reached} 个收到了 {what}",
    ),
    (
        "{what} went to all {total} sessions",
        "{what} 已发给全部 {total} 个会话",
    ),
    (
        "canary ✓ {hosts}: Alt-Enter sends to the {others} others, Esc drops",
        "金丝雀 ✓ {hosts}：Alt-Enter 发给其余 {others} 个，Esc 放弃",
    ),
    (
        "canary: waiting for {hosts} ({others} more after it; Esc drops)",
        "金丝雀：等待 {hosts}（之后还有 {others} 个；Esc 放弃）",
    ),
    (
        "rolling: {reached}/{total} sent, waiting for {hosts} (Esc stops)",
        "分批：已发 {reached}/{total}，等待 {hosts}（Esc 停止）",
    ),
    (
        "selected {count} ({what}): the next line goes to {live} session",
        "已选中 {count} 个（{what}）：下一行将发给 {live} 个会话",
    ),
    (
        "selected {count} ({what}): the next line goes to {live} sessions",
        "已选中 {count} 个（{what}）：下一行将发给 {live} 个会话",
    ),
    ("exit status ≠ 0 or could not run", "退出码非 0 或无法执行"),
    (
        "answer differs from the largest group",
        "输出与最大的一组不同",
    ),
    ("still running", "仍在运行"),
    ("unreachable", "连不上"),
    // The results view (F9).
    ("fuzzy (f: exact)", "模糊归组（f：精确）"),
    ("exact (f: fuzzy)", "精确归组（f：模糊）"),
    (
        " Results: {sessions} in {groups} · {folding} ",
        " 结果：{sessions}，分 {groups} · {folding} ",
    ),
    ("1 session", "1 个会话"),
    ("{n} sessions", "{n} 个会话"),
    ("1 group", "1 组"),
    ("{n} groups", "{n} 组"),
    ("1 host", "1 台主机"),
    ("{n} hosts", "{n} 台主机"),
    (
        " Enter to these · e failed · d differs · r runs · u unreachable · i invert · = diff · ↑↓ PgUp/Dn ",
        " Enter 发给这组 · e 失败 · d 不同 · r 运行中 · u 连不上 · i 反选 · = 差异 · ↑↓ PgUp/Dn ",
    ),
    (
        " = or Esc: back to the output · ↑↓ other group · PgUp/PgDn scroll ",
        " = 或 Esc：回到输出 · ↑↓ 换一组 · PgUp/PgDn 滚动 ",
    ),
    ("No sessions.", "没有会话。"),
    ("(no command result seen yet)", "（还没有命令结果）"),
    (
        "(output cut: only its start is kept)",
        "（输出已截断：只保留了开头）",
    ),
    (
        "{hosts} is the largest group: the others are diffed against it",
        "{hosts} 是最大的一组：其他组都与它比较",
    ),
    ("--- {hosts} (largest group)", "--- {hosts}（最大的一组）"),
    (
        "(same output; the exit status differs)",
        "（输出相同；退出码不同）",
    ),
    (
        "No sessions.\nF2 opens a practice pane on the built-in mock server, F6 adds a host, F1 shows every key.",
        "没有会话。\nF2 在内置模拟服务器上打开练习窗格，F6 添加主机，F1 查看所有按键。",
    ),
    // Search across the panes (/ and Ctrl-F).
    (
        "no pane matches: the receivers stay as they were",
        "没有窗格匹配：接收者保持不变",
    ),
    (
        "receivers: the {count} panes with matches",
        "接收者：有匹配的 {count} 个窗格",
    ),
    ("no match", "没有匹配"),
    ("bad regex: {error}", "正则表达式有误：{error}"),
    (
        "{n}/{total} matches in {panes} panes",
        "第 {n}/{total} 处匹配，共 {panes} 个窗格",
    ),
    (
        "{total} matches in {panes} panes",
        "{total} 处匹配，共 {panes} 个窗格",
    ),
    (" (searching…)", "（搜索中…）"),
    ("regex» ", "正则» "),
    ("find» ", "查找» "),
    (
        "Enter: to matches · Ctrl-R regex · Esc · // types a / in the line",
        "Enter：浏览匹配 · Ctrl-R 正则 · Esc · // 在行里输入 /",
    ),
    (
        "Enter: to matches · Ctrl-R regex · Esc leaves",
        "Enter：浏览匹配 · Ctrl-R 正则 · Esc 退出",
    ),
    (
        "n/N next/prev · r: they receive · Enter edits · Esc",
        "n/N 下一个/上一个 · r：由它们接收 · Enter 编辑 · Esc",
    ),
    (
        " Matches: {total} in {panes} panes ",
        " 匹配：{total} 处，共 {panes} 个窗格 ",
    ),
];
