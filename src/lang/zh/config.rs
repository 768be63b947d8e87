//! The host list and host selection: what `mtssh`, `mtssh run` and the other front ends say
//! about a host list, a `-H` spec, a range or a node set they cannot use.

pub(super) const TEXTS: &[(&str, &str)] = &[
    ("empty host pattern", "主机模式为空"),
    (
        "unbalanced brackets in `{pattern}`",
        "`{pattern}` 中的方括号不成对",
    ),
    (
        "empty range element in `{pattern}`",
        "`{pattern}` 中有空的范围元素",
    ),
    (
        "reversed range `{start}-{end}` in `{pattern}`",
        "`{pattern}` 中的范围 `{start}-{end}` 写反了",
    ),
    (
        "`{element}` in `{pattern}` is not a number or `start-end[/step]` range",
        "`{pattern}` 中的 `{element}` 既不是数字，也不是 `起-止[/步长]` 范围",
    ),
    (
        "bad step in `{element}` of `{pattern}`: give `start-end/step` with a step of 1 or more",
        "`{pattern}` 中 `{element}` 的步长无效：请写成 `起-止/步长`，步长至少为 1",
    ),
    (
        "`{pattern}` expands to more than {limit} names",
        "`{pattern}` 展开后超过 {limit} 个名字",
    ),
    ("empty user in `{spec}`", "`{spec}` 中的用户名为空"),
    (
        "invalid port `{port}` in `{spec}`: {reason}",
        "`{spec}` 中的端口 `{port}` 无效：{reason}",
    ),
    (
        "invalid host `{host}` in `{spec}`: {reason}",
        "`{spec}` 中的主机 `{host}` 无效：{reason}",
    ),
    ("not a number", "不是数字"),
    ("must be 1-65535", "必须在 1-65535 之间"),
    ("unexpected text after `]`", "`]` 后面有多余的文字"),
    (
        "not a valid IPv6 address (use `[addr]:port` for a port)",
        "不是有效的 IPv6 地址（带端口请写成 `[地址]:端口`）",
    ),
    ("{path}: cannot read: {err}", "{path}：无法读取：{err}"),
    ("`{op}` has nothing after it", "`{op}` 后面缺少内容"),
    ("`{op}` has nothing before it", "`{op}` 前面缺少内容"),
    ("`@` without a group name", "`@` 后面缺少分组名"),
    ("`^` without a file name", "`^` 后面缺少文件名"),
    (
        "unknown group `{group}`; known groups: {known}",
        "没有名为 `{group}` 的分组；已有的分组：{known}",
    ),
    (
        "the TUI needs a terminal; for scripts use `mtssh run -c CMD`",
        "界面需要在终端中运行；脚本请用 `mtssh run -c CMD`",
    ),
];
