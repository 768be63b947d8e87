//! Directive names: the ones mtssh acts on, the ones it ignores silently
//! and the rest of OpenSSH's client keywords.

/// Directives mtssh ignores without a warning: logging, cosmetics, agent and
/// TCP keep-alive tuning, host-key bookkeeping that only matters to OpenSSH's own
/// known_hosts handling, locale forwarding (`SendEnv LANG LC_*` is in almost
/// every Debian-derived config and servers usually refuse it anyway), options
/// OpenSSH itself has deprecated, and Apple's `UseKeychain`.
pub const SILENT: &[&str] = &[
    "AddKeysToAgent",
    "UseKeychain",
    "TCPKeepAlive",
    "Compression",
    "CompressionLevel",
    "LogLevel",
    "LogVerbose",
    "SyslogFacility",
    "CheckHostIP",
    "UpdateHostKeys",
    "VisualHostKey",
    "FingerprintHash",
    "SendEnv",
    "EscapeChar",
    "EnableEscapeCommandline",
    "NumberOfPasswordPrompts",
    "ObscureKeystrokeTiming",
    "IPQoS",
    "RekeyLimit",
    "ChannelTimeout",
    "ForwardX11Timeout",
    "XAuthLocation",
    "StreamLocalBindMask",
    "StreamLocalBindUnlink",
    "Tag",
    "Protocol",
    "Cipher",
    "UseRoaming",
    "RSAAuthentication",
    "RhostsRSAAuthentication",
    "FallBackToRsh",
    "UseRsh",
    "UsePrivilegedPort",
];

/// Directives that are silent when their value is `no`, `false` or `none`,
/// because that is what mtssh does anyway; any other value warns.
pub const SILENT_WHEN_OFF: &[&str] = &[
    "CanonicalizeHostname",
    "ChallengeResponseAuthentication",
    "ClearAllForwardings",
    "ControlMaster",
    "ControlPath",
    "ControlPersist",
    "EnableSSHKeysign",
    "ExitOnForwardFailure",
    "ForkAfterAuthentication",
    "ForwardAgent",
    "ForwardX11",
    "ForwardX11Trusted",
    "GSSAPIAuthentication",
    "GSSAPIDelegateCredentials",
    "GSSAPIKeyExchange",
    "GSSAPITrustDns",
    "HostbasedAuthentication",
    "KbdInteractiveAuthentication",
    "KnownHostsCommand",
    "LocalCommand",
    "PasswordAuthentication",
    "PermitLocalCommand",
    "ProxyUseFdpass",
    "RemoteCommand",
    "RequestTTY",
    "StdinNull",
    "Tunnel",
];

/// Every other client keyword OpenSSH knows; used so a warning can tell
/// "not supported by mtssh" apart from "not an ssh_config keyword at all".
const UNSUPPORTED: &[&str] = &[
    "AddressFamily",
    "BindAddress",
    "BindInterface",
    "CanonicalDomains",
    "CanonicalizeFallbackLocal",
    "CanonicalizeMaxDots",
    "CanonicalizePermittedCNAMEs",
    "CASignatureAlgorithms",
    "CertificateFile",
    "Ciphers",
    "DynamicForward",
    "GatewayPorts",
    "GlobalKnownHostsFile",
    "GSSAPIClientIdentity",
    "GSSAPIKexAlgorithms",
    "GSSAPIRenewalForcesRekey",
    "GSSAPIServerIdentity",
    "HostbasedAcceptedAlgorithms",
    "HostbasedKeyTypes",
    "HostKeyAlgorithms",
    "HostKeyAlias",
    "IdentityAgent",
    "KbdInteractiveDevices",
    "LocalForward",
    "MACs",
    "NoHostAuthenticationForLocalhost",
    "PermitRemoteOpen",
    "PKCS11Provider",
    "PreferredAuthentications",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAcceptedKeyTypes",
    "PubkeyAuthentication",
    "RemoteForward",
    "RequiredRSASize",
    "RevokedHostKeys",
    "SecurityKeyProvider",
    "SessionType",
    "SetEnv",
    "TunnelDevice",
    "VerifyHostKeyDNS",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    Host,
    Match,
    Include,
    IgnoreUnknown,
    HostName,
    User,
    Port,
    IdentityFile,
    IdentitiesOnly,
    ProxyJump,
    ProxyCommand,
    StrictHostKeyChecking,
    UserKnownHostsFile,
    ConnectTimeout,
    ServerAliveInterval,
    ServerAliveCountMax,
    ConnectionAttempts,
    BatchMode,
    HashKnownHosts,
    KexAlgorithms,
}

/// The keywords honoured, in the order `--help` lists them.
pub fn supported_keywords() -> impl Iterator<Item = &'static str> {
    SUPPORTED.iter().map(|(name, _)| *name)
}

pub(super) const SUPPORTED: &[(&str, Key)] = &[
    ("Host", Key::Host),
    ("Match", Key::Match),
    ("Include", Key::Include),
    ("IgnoreUnknown", Key::IgnoreUnknown),
    ("HostName", Key::HostName),
    ("User", Key::User),
    ("Port", Key::Port),
    ("IdentityFile", Key::IdentityFile),
    ("IdentitiesOnly", Key::IdentitiesOnly),
    ("ProxyJump", Key::ProxyJump),
    ("ProxyCommand", Key::ProxyCommand),
    ("StrictHostKeyChecking", Key::StrictHostKeyChecking),
    ("UserKnownHostsFile", Key::UserKnownHostsFile),
    ("ConnectTimeout", Key::ConnectTimeout),
    ("ServerAliveInterval", Key::ServerAliveInterval),
    ("ServerAliveCountMax", Key::ServerAliveCountMax),
    ("ConnectionAttempts", Key::ConnectionAttempts),
    ("BatchMode", Key::BatchMode),
    ("HashKnownHosts", Key::HashKnownHosts),
    ("KexAlgorithms", Key::KexAlgorithms),
];

pub(super) enum Kind {
    Supported(&'static str, Key),
    Silent,
    SilentWhenOff(&'static str),
    Unsupported(&'static str),
    Unknown,
}

pub(super) fn classify(keyword: &str) -> Kind {
    let find = |list: &[&'static str]| {
        list.iter()
            .copied()
            .find(|k| k.eq_ignore_ascii_case(keyword))
    };
    if let Some(&(name, key)) = SUPPORTED
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
    {
        Kind::Supported(name, key)
    } else if find(SILENT).is_some() {
        Kind::Silent
    } else if let Some(name) = find(SILENT_WHEN_OFF) {
        Kind::SilentWhenOff(name)
    } else if let Some(name) = find(UNSUPPORTED) {
        Kind::Unsupported(name)
    } else {
        Kind::Unknown
    }
}
