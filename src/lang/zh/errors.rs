//! Why a session failed (`ssh::error_text`), and the operating system's common reasons.

pub(super) const TEXTS: &[(&str, &str)] = &[
    (
        "cannot resolve {host}: {reason}",
        "无法解析 {host}：{reason}",
    ),
    (
        "cannot connect to {address}: {reason}",
        "无法连接 {address}：{reason}",
    ),
    ("timed out after {after} {phase}", "{phase}超时（{after}）"),
    (
        "timed out after {after} connecting to {address} (no SSH answer); check the host and port, or raise --connect-timeout",
        "连接 {address} 超时：{after} 内没有 SSH 应答；请检查主机和端口，或调大 --connect-timeout",
    ),
    (
        "waiting for the server to answer the {request} request",
        "等待服务器回应 {request} 请求时",
    ),
    ("during authentication", "认证过程中"),
    (
        "waiting for the server to open a session channel",
        "等待服务器打开会话通道时",
    ),
    (
        "nothing to try: no agent key, no identity file and no password (set password_env, MTSSH_PASSWORD or identity_file)",
        "无可尝试的方式：没有 agent 密钥、身份文件或密码（请设置 password_env、MTSSH_PASSWORD 或 identity_file）",
    ),
    ("tried {methods}", "已尝试 {methods}"),
    (
        "authentication failed for user '{user}' ({tried})",
        "用户 '{user}' 认证失败（{tried}）",
    ),
    ("; the server accepts: {methods}", "；服务器接受：{methods}"),
    (
        "HOST KEY CHANGED for {pattern}: the server offered {key}, but {path}:{line} holds a different key. Someone may be intercepting the connection, or the host was reinstalled. If you trust the new key, remove the old one with: {fix}",
        "{pattern} 的主机密钥变了：服务器给出 {key}，但 {path}:{line} 记录的是另一把密钥。可能有人在截持连接，也可能是主机重装过。确认新密钥可信后，用这条命令删掉旧的：{fix}",
    ),
    (
        "host key for {pattern} is not in known_hosts ({key}) and host_key_check is strict; check the fingerprint and add it, or use --host-key-check accept-new",
        "known_hosts 里没有 {pattern} 的主机密钥（{key}），而 host_key_check 为 strict；核对指纹后加入，或使用 --host-key-check accept-new",
    ),
    (
        "SSH handshake with {address} failed: {reason}",
        "与 {address} 的 SSH 握手失败：{reason}",
    ),
    (
        "connection to {address} lost (the server closed it or went away)",
        "与 {address} 的连接已断开（服务器关闭了连接或已离线）",
    ),
    (
        "connection lost while sending: {why}",
        "发送时连接断开：{why}",
    ),
    ("jump host {jump}: {error}", "跳板机 {jump}：{error}"),
    // The operating system's words (std::io::Error), without "(os error N)".
    ("Connection refused", "连接被拒绝"),
    ("No such file or directory", "没有这个文件或目录"),
    ("Permission denied", "权限不足"),
    ("Connection reset by peer", "连接被对方重置"),
    ("Network is unreachable", "网络不可达"),
    ("No route to host", "没有到主机的路由"),
    ("Connection timed out", "连接超时"),
    ("Broken pipe", "管道已断开"),
    (
        "failed to lookup address information: Name or service not known",
        "查询地址失败：未知的名称或服务",
    ),
];
