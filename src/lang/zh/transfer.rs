//! `mtssh push` / `mtssh pull`: the progress line, each host's report, `--verify` and the
//! errors of the SFTP client. Paths, host names and byte sizes are values.

pub(super) const TEXTS: &[(&str, &str)] = &[
    // Progress line, after "{done}/{total} hosts done".
    (
        ", {bytes}, {rate}/s{slowest}",
        "，{bytes}，{rate}/s{slowest}",
    ),
    (", slowest: {names}", "，最慢：{names}"),
    // A host's report.
    (
        "{files} file{dirs}, {bytes}",
        "{files} 个文件{dirs}，{bytes}",
    ),
    (
        "{files} files{dirs}, {bytes}",
        "{files} 个文件{dirs}，{bytes}",
    ),
    (", 1 directory", "，1 个目录"),
    (", {n} directories", "，{n} 个目录"),
    ("verified: {n} sha256 match", "已校验：{n} 个 sha256 一致"),
    (
        "the connection closed before the SFTP session started",
        "SFTP 会话开始前连接已关闭",
    ),
    ("cancelled", "已取消"),
    ("timed out after {after}", "{after} 后超时"),
    (
        "--verify: the remote sha256sum failed ({why}): {stderr}",
        "--verify：远端 sha256sum 失败（{why}）：{stderr}",
    ),
    (
        "--verify: the remote sha256sum gave {hashes} hashes for {files} files",
        "--verify：远端 sha256sum 对 {files} 个文件给出了 {hashes} 个哈希",
    ),
    (
        "--verify: sha256 differs for {n} file: {paths}",
        "--verify：{n} 个文件的 sha256 不一致：{paths}",
    ),
    (
        "--verify: sha256 differs for {n} files: {paths}",
        "--verify：{n} 个文件的 sha256 不一致：{paths}",
    ),
    // Before anything connects.
    ("{source}: cannot push it", "{source}：无法上传"),
    (
        "{source} is a directory: give -r to push it whole",
        "{source} 是目录：加 -r 可整个上传",
    ),
    (
        "cannot make {dir} for {name}'s files",
        "无法为 {name} 的文件创建 {dir}",
    ),
    // The SFTP client.
    (
        "the SFTP session did not start: {why}",
        "SFTP 会话未能启动：{why}",
    ),
    ("cannot read {path}: {why}", "无法读取 {path}：{why}"),
    ("names no file or directory", "不是已有的文件或目录"),
    (
        "is a directory (give -r to copy it whole)",
        "是目录（加 -r 可整个复制）",
    ),
    ("is neither a file nor a directory", "既不是文件也不是目录"),
    ("exists and is not a directory", "已存在且不是目录"),
    (
        "no such file (the pattern matched nothing)",
        "没有这样的文件（模式未匹配到任何文件）",
    ),
    (
        "names no file to pull (name a file or directory)",
        "没有可下载的文件（请指定文件或目录）",
    ),
];
