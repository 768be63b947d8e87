//! F1 help: a heading or action of every row of `KEY_HELP` (a test in `app::help` checks
//! none is missing).

pub(super) const TEXTS: &[(&str, &str)] = &[
    ("Line mode (default)", "行模式（默认）"),
    (
        "send the line to active (●) sessions; :CMD runs CMD via SSH exec",
        "把这一行发给活动（●）会话；:CMD 经 SSH exec 执行 CMD",
    ),
    (
        "edit the line; ↑/↓ browse history",
        "编辑当前行；↑/↓ 翻看历史",
    ),
    (
        "send ^C / ^D / ^Z to active sessions",
        "向活动会话发送 ^C / ^D / ^Z",
    ),
    (
        "hidden input for the next line (passwords: not shown, not kept)",
        "下一行用隐藏输入（适合密码：不显示、不保存）",
    ),
    (
        "canary: to the first receiver(s); Alt-Enter again sends the rest",
        "金丝雀发送：先发给前几个接收者，再按 Alt-Enter 发给其余的",
    ),
    (
        "send in batches (--batch), stops at a failure / Esc drops it",
        "分批发送（--batch），遇到失败即停 / Esc 放弃",
    ),
    (
        "answer the panes showing a password prompt (⚿), once, hidden",
        "回答显示密码提示（⚿）的窗格，只答一次，输入隐藏",
    ),
    ("clear the line", "清空当前行"),
    (
        "discard input not yet sent (a pane's title shows it: ⇡ 1.2 MB)",
        "丢弃尚未发出的输入（窗格标题里显示为 ⇡ 1.2 MB）",
    ),
    ("Selection", "选择"),
    (
        "move the focus between panes; click a pane too",
        "在窗格间移动焦点；也可以直接点击窗格",
    ),
    ("previous / next page of panes", "上一页 / 下一页窗格"),
    (
        "toggle the focused pane in or out of the broadcast",
        "把焦点窗格加入或移出广播",
    ),
    (
        "broadcast to all / none / invert",
        "广播给全部 / 不广播 / 反选",
    ),
    (
        "broadcast to a node set: @group, web[01-03], , ! & ^ (web01 → @web)",
        "广播给一组节点：@分组、web[01-03]，可用 , ! & ^ 组合（web01 属于 @web）",
    ),
    (
        "save the receivers as a named group (@name) for this run",
        "把当前接收者存为命名分组（@名称），本次运行内有效",
    ),
    (
        "receivers: last command failed / differs / runs / unreachable",
        "按上一条命令选接收者：失败 / 输出不同 / 仍在运行 / 连不上",
    ),
    (
        "zoom the focused pane / back to the grid",
        "放大焦点窗格 / 回到网格",
    ),
    (
        "scroll back; Shift-End back to live",
        "向上翻看；Shift-End 回到实时输出",
    ),
    (
        "results view: grouped answers; Enter sends to one; f fuzzy; = diff",
        "结果视图：相同输出归为一组；Enter 单独发送；f 模糊归组；= 比较差异",
    ),
    ("Modes", "模式"),
    (
        "focus mode: every key to the focused session; Ctrl-] returns",
        "焦点模式：每个按键只发给焦点会话；Ctrl-] 返回",
    ),
    (
        "keystroke broadcast: every key to all active; Ctrl-] returns",
        "按键广播：每个按键发给所有活动会话；Ctrl-] 返回",
    ),
    ("Sessions and program", "会话与程序"),
    (
        "start the mock server (if needed) and add a practice pane",
        "启动模拟服务器（如尚未启动）并新开一个练习窗格",
    ),
    (
        "reconnect the focused / every failed or closed pane / close it",
        "重连焦点窗格 / 重连所有已断开的窗格 / 关闭它",
    ),
    (
        "overview ↔ grid (overview: one tile per session, failures first)",
        "总览 ↔ 网格（总览：每个会话一格，失败的排在前面）",
    ),
    ("Overview: ←/→ Enter", "总览：←/→ Enter"),
    (
        "line empty: move the highlight (Alt-arrows too) / zoom it",
        "输入行为空时：移动高亮（Alt-方向键也可）/ 放大它",
    ),
    (
        "event view: the loop's wake-ups, ready sockets, threads, live",
        "事件视图：实时查看事件循环的唤醒、就绪套接字和线程数",
    ),
    (
        "record the focused pane (asciicast, ● REC) / stop; --record DIR",
        "录制焦点窗格（● REC）/ 停止；--record DIR",
    ),
    ("add a host: user@host:port", "添加主机：user@host:port"),
    (
        "save the focused pane's scrollback to a new file (--save-dir)",
        "把焦点窗格的回滚内容存入新文件（--save-dir）",
    ),
    (
        "mouse capture on/off (off: the terminal's own text selection)",
        "开关鼠标捕获（关闭后可用终端自带的文本选择）",
    ),
    ("suspend mtssh (fg resumes)", "挂起 mtssh（fg 恢复）"),
    (
        "quit (asks while sessions are live)",
        "退出（仍有在线会话时会先确认）",
    ),
    (
        "this help / close it (↑/↓ PgUp/PgDn Home/End scroll it)",
        "打开本帮助 / 关闭（↑/↓ PgUp/PgDn Home/End 滚动）",
    ),
    (
        "upload a file or directory to the receivers (⇡ 42%); again: cancel",
        "把文件或目录上传给接收者（⇡ 42%）；再按：取消",
    ),
    (
        "download from the focused pane's host into DIR/HOST/; again: cancel",
        "从焦点窗格的主机下载到 DIR/HOST/；再按：取消",
    ),
    ("Search", "搜索"),
    (
        "search all panes and their scrollback; // types a leading /",
        "搜索所有窗格及其回滚；// 输入行首的 /",
    ),
    (
        "in the search: regex on/off; Enter: to the matches; Esc leaves",
        "搜索中：正则开/关；Enter：浏览匹配；Esc 退出",
    ),
    (
        "matches: next / previous (the pane zooms and scrolls to the line)",
        "匹配：下一个 / 上一个（窗格放大并滚动到该行）",
    ),
    (
        "matches: the panes with matches become the receivers",
        "匹配：有匹配的窗格成为接收者",
    ),
];
