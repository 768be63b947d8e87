//! Key-exchange algorithm lists, written as OpenSSH writes `KexAlgorithms`: `LIST` replaces
//! the defaults, `+LIST` appends to them, `-LIST` removes from them and `^LIST` puts its
//! names first. Used by the client (`--kex`, `[defaults] kex_algorithms`, ssh_config
//! `KexAlgorithms`) and by the mock server (`mtssh mock --kex`).
//!
//! Why it matters here: russh, like OpenSSH 9.9+, prefers the post-quantum hybrid
//! `mlkem768x25519-sha256`. Its ML-KEM half costs the client about 0.35 ms of CPU per
//! connection (more than the rest of a login), which dominates when one thread opens
//! thousands of sessions (docs/BENCHMARKS.md).
//!
//! Also the client's cipher order ([`client_ciphers`]): AES-GCM first when the CPU has AES
//! instructions, ChaCha20-Poly1305 first otherwise (docs/SECURITY.md, "Cipher order").

use std::borrow::Cow;

use russh::keys::Algorithm;
use russh::{cipher, kex};

/// The classical elliptic-curve exchange (X25519) that every current SSH implementation speaks.
pub const CURVE25519: kex::Name = kex::CURVE25519;

/// Markers that ride in the kex list without being algorithms (RFC 8308 extension info,
/// OpenSSH's strict kex against the Terrapin attack): kept whatever the user's list says.
const CLIENT_MARKERS: &[kex::Name] = &[
    kex::EXTENSION_SUPPORT_AS_CLIENT,
    kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
];
const SERVER_MARKERS: &[kex::Name] = &[
    kex::EXTENSION_SUPPORT_AS_SERVER,
    kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// russh's default order, real algorithms only.
pub fn default_kex() -> Vec<kex::Name> {
    russh::Preferred::DEFAULT
        .kex
        .iter()
        .copied()
        .filter(|n| !is_marker(n))
        .collect()
}

/// Every name a user may write: all russh implements, but `none`.
pub fn supported_kex() -> impl Iterator<Item = &'static str> {
    kex::ALL_KEX_ALGORITHMS
        .iter()
        .map(|n| n.as_ref())
        .filter(|n| *n != kex::NONE.as_ref())
}

fn is_marker(name: &kex::Name) -> bool {
    CLIENT_MARKERS.contains(name) || SERVER_MARKERS.contains(name)
}

/// A parsed key-exchange list, shared by every target that uses it.
pub type KexList = std::sync::Arc<Vec<kex::Name>>;

/// [`parse_kex`] into a [`KexList`]: how config values are kept once read.
pub fn parse_kex_list(spec: &str) -> Result<KexList, String> {
    parse_kex(spec).map(std::sync::Arc::new)
}

/// A list as a plain `KexAlgorithms` value (the full list, in order): parses back to itself.
pub fn kex_spec(list: &[kex::Name]) -> String {
    list.iter()
        .map(|n| n.as_ref())
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `spec` (see the module doc) over russh's default order. Errors name the unknown
/// algorithm and list the known ones; a list that ends up empty is an error too.
pub fn parse_kex(spec: &str) -> Result<Vec<kex::Name>, String> {
    let base = default_kex();
    let spec = spec.trim();
    let (op, list) = match spec.chars().next() {
        Some(c @ ('+' | '-' | '^')) => (c, &spec[1..]),
        _ => ('=', spec),
    };
    let mut names = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let name = kex::Name::try_from(word)
            .ok()
            .filter(|n| *n != kex::NONE)
            .ok_or_else(|| {
                format!(
                    "unknown key exchange algorithm `{word}` (known: {})",
                    supported_kex().collect::<Vec<_>>().join(", ")
                )
            })?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let without = |list: &[kex::Name], drop: &[kex::Name]| -> Vec<kex::Name> {
        list.iter().copied().filter(|n| !drop.contains(n)).collect()
    };
    let out = match op {
        '+' => [base.clone(), without(&names, &base)].concat(),
        '-' => without(&base, &names),
        '^' => [names.clone(), without(&base, &names)].concat(),
        _ => names,
    };
    if out.is_empty() {
        return Err(format!(
            "key exchange list `{spec}` leaves no algorithm to use"
        ));
    }
    Ok(out)
}

/// russh's preferences with `kex` (real algorithms, in order) and the markers of `side`.
pub fn preferred(kex: &[kex::Name], side: Side) -> russh::Preferred {
    let markers = match side {
        Side::Client => CLIENT_MARKERS,
        Side::Server => SERVER_MARKERS,
    };
    russh::Preferred {
        kex: Cow::Owned([kex, markers].concat()),
        ..Default::default()
    }
}

/// The client's cipher order: with AES and carry-less multiply in hardware (x86 AES-NI and
/// PCLMULQDQ, ARMv8 AES and PMULL), AES-GCM goes before ChaCha20-Poly1305, as Go's
/// x/crypto does: both are AEAD and equally strong, and AES-GCM then costs about a third
/// less CPU per byte, which is most of a transfer's client CPU (docs/BENCHMARKS.md).
/// Without those instructions AES is slow in software, so russh's order (ChaCha first) stays.
pub fn client_ciphers() -> &'static [cipher::Name] {
    static ORDER: std::sync::OnceLock<Vec<cipher::Name>> = std::sync::OnceLock::new();
    ORDER.get_or_init(|| cipher_order(has_hardware_aes()))
}

/// russh's ciphers, the AES-GCM ones first when `hardware_aes`.
pub fn cipher_order(hardware_aes: bool) -> Vec<cipher::Name> {
    let default = russh::Preferred::DEFAULT.cipher.to_vec();
    if !hardware_aes {
        return default;
    }
    let gcm = [cipher::AES_256_GCM, cipher::AES_128_GCM];
    let rest = default.iter().copied().filter(|n| !gcm.contains(n));
    gcm.into_iter().chain(rest).collect()
}

/// Whether this CPU has instructions for AES rounds and GCM's GHASH, checked at run time.
pub fn has_hardware_aes() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// russh's host-key algorithms with those for the `known` key types first, each group in
/// russh's order: as OpenSSH's `order_hostkeyalgs`, so a server with several host keys
/// shows the one known_hosts holds and a legitimate host is not taken for a changed one.
/// `None` when nothing known is of a type russh speaks (keep the default).
pub fn host_key_order(known: &[String]) -> Option<Vec<Algorithm>> {
    let is_known = |a: &Algorithm| known.iter().any(|k| k == key_type(a));
    let (first, rest): (Vec<Algorithm>, Vec<Algorithm>) = russh::Preferred::DEFAULT
        .key
        .iter()
        .cloned()
        .partition(is_known);
    (!first.is_empty()).then(|| [first, rest].concat())
}

/// The key type an algorithm signs with, as known_hosts names it.
fn key_type(algorithm: &Algorithm) -> &str {
    match algorithm {
        Algorithm::Rsa { .. } => "ssh-rsa",
        other => other.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Comma-joined names, as OpenSSH prints them.
    fn join(kex: &[kex::Name]) -> String {
        kex.iter().map(|n| n.as_ref()).collect::<Vec<_>>().join(",")
    }

    fn names(spec: &str) -> String {
        join(&parse_kex(spec).unwrap())
    }

    #[test]
    fn openssh_list_operators() {
        assert_eq!(names("curve25519-sha256"), "curve25519-sha256");
        assert_eq!(
            names(" curve25519-sha256 , curve25519-sha256,mlkem768x25519-sha256"),
            "curve25519-sha256,mlkem768x25519-sha256"
        );
        let default = join(&default_kex());
        assert!(default.starts_with("mlkem768x25519-sha256,curve25519-sha256,"));
        assert!(!default.contains("ext-info") && !default.contains("kex-strict"));
        assert_eq!(
            names("-mlkem768x25519-sha256"),
            default.replacen("mlkem768x25519-sha256,", "", 1)
        );
        assert!(names("^curve25519-sha256").starts_with("curve25519-sha256,mlkem768x25519"));
        assert_eq!(
            names("+ecdh-sha2-nistp256"),
            format!("{default},ecdh-sha2-nistp256")
        );
        // Appending what is there already changes nothing.
        assert_eq!(names("+curve25519-sha256"), default);
    }

    #[test]
    fn bad_lists_are_refused_with_the_known_names() {
        let e = parse_kex("curve25519").unwrap_err();
        assert!(
            e.contains("`curve25519`") && e.contains("curve25519-sha256"),
            "{e}"
        );
        assert!(parse_kex("none").is_err());
        assert!(parse_kex("ext-info-c").is_err());
        assert!(parse_kex("").unwrap_err().contains("no algorithm"));
        assert!(parse_kex("-curve25519-sha256,mlkem768x25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256,diffie-hellman-group18-sha512,diffie-hellman-group17-sha512,diffie-hellman-group16-sha512,diffie-hellman-group15-sha512,diffie-hellman-group14-sha256").is_err());
    }

    #[test]
    fn known_host_key_types_go_first_in_russh_order() {
        let names = |known: &[&str]| {
            let known: Vec<String> = known.iter().map(|k| k.to_string()).collect();
            host_key_order(&known).map(|list| {
                list.iter()
                    .map(|a| a.as_str().to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
        };
        assert_eq!(
            names(&["ssh-rsa"]).unwrap(),
            "rsa-sha2-512,rsa-sha2-256,ssh-rsa,ssh-ed25519,ecdsa-sha2-nistp256,\
             ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"
        );
        assert!(
            names(&["ecdsa-sha2-nistp384", "ssh-ed25519"])
                .unwrap()
                .starts_with("ssh-ed25519,ecdsa-sha2-nistp384,ecdsa-sha2-nistp256,")
        );
        assert_eq!(names(&[]), None);
        assert_eq!(names(&["sk-ssh-ed25519@openssh.com"]), None);
    }

    #[test]
    fn markers_follow_the_side() {
        let client = preferred(&[CURVE25519], Side::Client);
        assert_eq!(client.kex[0], CURVE25519);
        assert!(
            client
                .kex
                .contains(&kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT)
        );
        let server = preferred(&[CURVE25519], Side::Server);
        assert!(
            server
                .kex
                .contains(&kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER)
        );
        assert!(!server.kex.contains(&kex::EXTENSION_SUPPORT_AS_CLIENT));
    }

    #[test]
    fn aes_gcm_goes_first_only_with_hardware_aes() {
        let with = cipher_order(true);
        assert_eq!(
            &with[..3],
            &[
                cipher::AES_256_GCM,
                cipher::AES_128_GCM,
                cipher::CHACHA20_POLY1305
            ]
        );
        let without = cipher_order(false);
        assert_eq!(without, russh::Preferred::DEFAULT.cipher.to_vec());
        assert_eq!(without[0], cipher::CHACHA20_POLY1305);
        // The same ciphers either way (aes128-gcm added), each once: only the order changes.
        let mut a: Vec<&str> = with.iter().map(|n| n.as_ref()).collect();
        let mut b: Vec<&str> = without.iter().map(|n| n.as_ref()).collect();
        b.push(cipher::AES_128_GCM.as_ref());
        a.sort();
        b.sort();
        b.dedup();
        assert_eq!(a, b);
        assert_eq!(
            client_ciphers(),
            cipher_order(has_hardware_aes()).as_slice()
        );
    }

    #[test]
    fn the_cpu_check_agrees_with_proc_cpuinfo() {
        // On Linux x86 the kernel lists the same flags; a wrong check would be caught here.
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
            let flags = info.lines().find(|l| l.starts_with("flags")).unwrap_or("");
            let has = |f: &str| flags.split_whitespace().any(|w| w == f);
            assert_eq!(has_hardware_aes(), has("aes") && has("pclmulqdq"));
        }
    }
}
