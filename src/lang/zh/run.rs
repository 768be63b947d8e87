//! `mtssh run`: its summary, the folded report's headers and the progress line.

pub(super) const TEXTS: &[(&str, &str)] = &[
    (
        "{total} host: {ok} ok, {non_zero} non-zero exit, {failed} failed, {timed_out} timed out",
        "共 {total} 台主机：{ok} 台成功，{non_zero} 台退出码非 0，{failed} 台失败，{timed_out} 台超时",
    ),
    (
        "{total} hosts: {ok} ok, {non_zero} non-zero exit, {failed} failed, {timed_out} timed out",
        "共 {total} 台主机：{ok} 台成功，{non_zero} 台退出码非 0，{failed} 台失败，{timed_out} 台超时",
    ),
    (", {interrupted} interrupted", "，{interrupted} 台被中断"),
    ("{done}/{total} hosts done", "已完成 {done}/{total} 台主机"),
    ("Password for {name}:", "{name} 的密码："),
    ("warning: {text}", "警告：{text}"),
    ("note: {text}", "注意：{text}"),
    (
        "mtssh: cannot write the report to standard output: {error}",
        "mtssh：无法把报告写到标准输出：{error}",
    ),
    ("ok", "成功"),
    ("non-zero exit", "退出码非 0"),
    ("failed", "失败"),
    ("timed out", "超时"),
    ("interrupted", "已中断"),
    ("signal {signal}", "信号 {signal}"),
    ("exit {code}", "退出码 {code}"),
    ("no exit status", "没有退出码"),
    (
        "[output cut: {bytes} more bytes not kept; raise --max-output]",
        "[输出已截断：另有 {bytes} 字节未保留；可调大 --max-output]",
    ),
];
