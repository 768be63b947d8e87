//! `mtssh resolve`: each host's settings as `ssh -G` prints them (lowercase keyword, one
//! space, value), so the two can be compared line by line.

use std::fmt::Write as _;

use crate::ssh::{HostKeyPolicy, Target};

/// The settings of one target, one `keyword value` per line, ending with a newline.
pub fn ssh_g_lines(target: &Target) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(out, "{key} {value}");
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    line("host", &target.name);
    line("hostname", &target.host);
    line("port", &target.port);
    line("user", &target.user);
    for file in &target.identity_files {
        line("identityfile", &file.display());
    }
    line("identitiesonly", &yes_no(target.identities_only));
    if let Some(jump) = &target.jump {
        line("proxyjump", &hops(jump));
    }
    line("connecttimeout", &target.connect_timeout.as_secs_f64());
    line("connectionattempts", &target.connection_attempts);
    let interval = target.keepalive.map_or(0, |d| d.as_secs());
    line("serveraliveinterval", &interval);
    line("serveralivecountmax", &target.keepalive_max);
    line("batchmode", &yes_no(target.batch_mode));
    if let HostKeyPolicy::KnownHosts { mode, hash, .. } = &target.host_key {
        let strict = match mode {
            crate::ssh::HostKeyCheck::Strict => "true",
            crate::ssh::HostKeyCheck::AcceptNew => "accept-new",
            crate::ssh::HostKeyCheck::Off => "false",
        };
        line("stricthostkeychecking", &strict);
        line("hashknownhosts", &yes_no(*hash));
    }
    if let Some(why) = &target.refusal {
        line("error", why);
    }
    out
}

/// A jump chain as `ProxyJump` writes it, first hop first: `user@host:port,…`.
fn hops(last: &Target) -> String {
    let mut chain = Vec::new();
    let mut hop = Some(last);
    while let Some(t) = hop {
        chain.push(format!("{}@{}", t.user, t.address()));
        hop = t.jump.as_deref();
    }
    chain.reverse();
    chain.join(",")
}
