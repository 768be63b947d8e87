//! `mtssh push` / `mtssh pull`: the progress line, each host's report, `--verify` and the
//! errors of the SFTP client. Paths, host names and byte sizes are values.

pub(super) const TEXTS: &[(&str, &str)] = &[
    // Progress line, after "{done}/{total} hosts done".
    (
        ", {bytes}, {rate}/s{eta}{slowest}",
        "，{bytes}，{rate}/s{eta}{slowest}",
    ),
    ("{moved} of {total}", "{moved}/{total}"),
    (", ETA {eta}", "，预计还需 {eta}"),
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
    ("the SFTP channel was already used", "SFTP 通道已被使用过"),
    (
        "no answer in {secs} s: the request could not be sent (the server took no more data)",
        "{secs} 秒内无应答：请求未能发出（服务器不再接收数据）",
    ),
    (
        "no answer in {secs} s: the server was sent the request and answered nothing ({received} bytes of answers before it)",
        "{secs} 秒内无应答：请求已发给服务器，但它没有回应（此前收到 {received} 字节应答）",
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
    // The TUI's Alt-F / Alt-K: dialogs, notices, errors.
    (
        "Local file or directory to upload:",
        "要上传的本地文件或目录：",
    ),
    (
        "Remote directory (Enter alone: the home directory):",
        "远端目录（直接回车：主目录）：",
    ),
    (
        "Remote file or directory on {name}:",
        "{name} 上的远端文件或目录：",
    ),
    (
        "Local directory (Enter alone: the current one); saved as DIR/{name}/…",
        "本地目录（直接回车：当前目录）；保存为 DIR/{name}/…",
    ),
    ("({first}; Esc cancels)", "（{first}；Esc 取消）"),
    (" Upload to {n} receivers ", " 上传给 {n} 个接收者 "),
    (" Download from {name} ", " 从 {name} 下载 "),
    (
        "Cancel the transfer under way? [y/n]\n(no file is left half-written under its name)",
        "取消进行中的传输？[y/n]\n（不会在正式文件名下留下写了一半的文件）",
    ),
    (" Cancel transfer ", " 取消传输 "),
    (
        "no receivers to upload to (Alt-A selects all)",
        "没有可上传的接收者（Alt-A 全选）",
    ),
    (
        "no live focused pane to download from",
        "焦点窗格没有可下载的在线会话",
    ),
    ("transfer not started", "传输未开始"),
    ("name a local file or directory", "请给出本地文件或目录"),
    ("name a remote file or directory", "请给出远端文件或目录"),
    (
        "the pane to download from has ended",
        "要下载的窗格的会话已结束",
    ),
    (
        "uploading to 1 receiver… (Alt-F again cancels)",
        "正在上传给 1 个接收者…（再按 Alt-F 取消）",
    ),
    (
        "uploading to {n} receivers… (Alt-F again cancels)",
        "正在上传给 {n} 个接收者…（再按 Alt-F 取消）",
    ),
    (
        "downloading… (Alt-K again cancels)",
        "正在下载…（再按 Alt-K 取消）",
    ),
    ("cancelling the transfer…", "正在取消传输…"),
    ("the session ended", "会话已结束"),
    ("uploaded to {ok} of {all}", "已上传到 {all} 个中的 {ok} 个"),
    (
        "downloaded 1 file, {bytes} to {dir}",
        "已下载 1 个文件，{bytes}，到 {dir}",
    ),
    (
        "downloaded {files} files, {bytes} to {dir}",
        "已下载 {files} 个文件，{bytes}，到 {dir}",
    ),
    ("download failed", "下载失败"),
    (
        "the server did not open the {name} channel in time",
        "服务器未及时打开 {name} 通道",
    ),
    (
        "the server refused a new channel: {why}",
        "服务器拒绝了新通道：{why}",
    ),
    (
        "the {name} request could not be sent: {why}",
        "无法发送 {name} 请求：{why}",
    ),
    (
        "the server refused the {name} subsystem",
        "服务器拒绝了 {name} 子系统",
    ),
];
