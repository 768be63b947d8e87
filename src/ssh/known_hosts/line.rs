//! Parsing one `known_hosts` line: the optional marker, the host field
//! (hashed `|1|salt|mac` or comma-separated patterns) and the key blob.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::ssh::pattern;

pub(super) type HmacSha1 = Hmac<Sha1>;

/// OpenSSH refuses hashed entries whose salt is not exactly one SHA-1
/// digest long, so we do the same rather than accept lines ssh would ignore.
pub(super) const SHA1_LEN: usize = 20;

/// Padding is optional because hand-edited files sometimes lose it and
/// OpenSSH's decoder still accepts them.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, thiserror::Error)]
pub(super) enum LineError {
    #[error("unknown marker {0:?}")]
    UnknownMarker(String),
    #[error("missing key type")]
    MissingKeyType,
    #[error("missing key data")]
    MissingKeyData,
    #[error("key data is not valid base64")]
    BadBase64,
    #[error("key blob is truncated")]
    TruncatedBlob,
    #[error("key type {field:?} does not match key blob type {blob:?}")]
    TypeMismatch { field: String, blob: String },
    #[error("malformed hashed host field")]
    BadHash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    None,
    Revoked,
}

#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub(super) negated: bool,
    pub(super) wildcard: bool,
    /// Lower-cased, without the `!`.
    pub(super) text: Box<[u8]>,
}

#[derive(Clone)]
pub(super) enum HostMatcher {
    /// The HMAC is stored already keyed with the salt so each check costs
    /// only the message hashing, not the key schedule.
    Hashed {
        keyed: Box<HmacSha1>,
        mac: [u8; SHA1_LEN],
    },
    Patterns(Box<[Pattern]>),
}

impl HostMatcher {
    /// `name` must already be lower-cased (as [`host_pattern`] returns it).
    pub(super) fn matches(&self, name: &[u8]) -> bool {
        match self {
            HostMatcher::Hashed { keyed, mac } => {
                let mut m = (**keyed).clone();
                m.update(name);
                m.verify_slice(mac).is_ok()
            }
            HostMatcher::Patterns(pats) => pattern::list_matches(pats.iter().map(|p| {
                let hit = if p.wildcard {
                    pattern::match_pattern(&p.text, name)
                } else {
                    *p.text == *name
                };
                (p.negated, hit)
            })),
        }
    }
}

pub(super) struct ParsedLine {
    /// `None` for `@cert-authority` lines, which are validated but not kept.
    pub(super) kind: Option<(Marker, HostMatcher)>,
    pub(super) hashed: bool,
    pub(super) algo: Box<str>,
    pub(super) blob: Box<[u8]>,
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits off the next whitespace-delimited field.
fn next_field(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(is_space);
    if s.is_empty() {
        return None;
    }
    Some(s.split_once(is_space).unwrap_or((s, "")))
}

/// `Ok(None)` for blank and comment lines.
pub(super) fn parse_line(raw: &str) -> Result<Option<ParsedLine>, LineError> {
    let Some((first, mut rest)) = next_field(raw) else {
        return Ok(None);
    };
    if first.starts_with('#') {
        return Ok(None);
    }
    let mut marker = Some(Marker::None);
    let mut hosts = first;
    if first.starts_with('@') {
        marker = match first {
            "@revoked" => Some(Marker::Revoked),
            "@cert-authority" => None,
            other => return Err(LineError::UnknownMarker(other.to_string())),
        };
        let (h, r) = next_field(rest).ok_or(LineError::MissingKeyType)?;
        hosts = h;
        rest = r;
    }
    let (type_field, rest) = next_field(rest).ok_or(LineError::MissingKeyType)?;
    let (b64, _comment) = next_field(rest).ok_or(LineError::MissingKeyData)?;
    let blob = LENIENT_B64.decode(b64).map_err(|_| LineError::BadBase64)?;
    let blob_type = blob_key_type(&blob).ok_or(LineError::TruncatedBlob)?;
    let field_type = normalize_algo(type_field);
    if field_type != blob_type {
        return Err(LineError::TypeMismatch {
            field: type_field.to_string(),
            blob: blob_type.to_string(),
        });
    }
    let hashed = hosts.starts_with('|');
    let matcher = if hashed {
        parse_hashed(hosts)?
    } else {
        HostMatcher::Patterns(parse_patterns(hosts))
    };
    Ok(Some(ParsedLine {
        kind: marker.map(|m| (m, matcher)),
        hashed,
        algo: blob_type.into(),
        blob: blob.into(),
    }))
}

fn parse_hashed(field: &str) -> Result<HostMatcher, LineError> {
    let body = field.strip_prefix("|1|").ok_or(LineError::BadHash)?;
    let (salt_b64, mac_b64) = body.split_once('|').ok_or(LineError::BadHash)?;
    let salt = LENIENT_B64
        .decode(salt_b64)
        .map_err(|_| LineError::BadHash)?;
    let mac_vec = LENIENT_B64
        .decode(mac_b64)
        .map_err(|_| LineError::BadHash)?;
    if salt.len() != SHA1_LEN {
        return Err(LineError::BadHash);
    }
    let mac: [u8; SHA1_LEN] = mac_vec.try_into().map_err(|_| LineError::BadHash)?;
    let keyed = HmacSha1::new_from_slice(&salt).map_err(|_| LineError::BadHash)?;
    Ok(HostMatcher::Hashed {
        keyed: Box::new(keyed),
        mac,
    })
}

fn parse_patterns(field: &str) -> Box<[Pattern]> {
    field
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (negated, body) = pattern::split_negation(p);
            Pattern {
                negated,
                wildcard: body.contains(['*', '?']),
                text: body.to_ascii_lowercase().into_bytes().into(),
            }
        })
        .collect()
}

/// Signature algorithm names map to the key type they sign with; only the
/// key type is stored in `known_hosts`.
pub(super) fn normalize_algo(algo: &str) -> &str {
    match algo {
        "rsa-sha2-256" | "rsa-sha2-512" => "ssh-rsa",
        "rsa-sha2-256-cert-v01@openssh.com" | "rsa-sha2-512-cert-v01@openssh.com" => {
            "ssh-rsa-cert-v01@openssh.com"
        }
        other => other,
    }
}

/// The key type embedded at the start of a wire blob (`string` = u32 BE
/// length + bytes). `None` when the blob cannot hold it.
fn blob_key_type(blob: &[u8]) -> Option<&str> {
    let len_bytes: [u8; 4] = blob.get(..4)?.try_into().ok()?;
    let len = usize::try_from(u32::from_be_bytes(len_bytes)).ok()?;
    let name = blob.get(4..4usize.checked_add(len)?)?;
    std::str::from_utf8(name).ok()
}

/// Prefer the type inside the blob: it is what OpenSSH writes and cannot
/// disagree with the key.
pub(super) fn key_type_name<'a>(algo: &'a str, blob: &'a [u8]) -> &'a str {
    blob_key_type(blob).unwrap_or_else(|| normalize_algo(algo))
}

#[cfg(test)]
mod tests {
    use super::super::index::MAX_LINE_WARNINGS_PER_FILE;
    use super::super::test_util::*;
    use super::super::{HostKeyStatus, KnownHosts};
    use super::*;

    #[test]
    fn key_types_known_for_a_host_each_once_revoked_left_out() {
        let (_, _, ed1) = key(ED1);
        let (_, _, ed2) = key(ED2);
        let (_, _, rsa) = key(RSA1);
        let (_, _, ec) = key(EC1);
        let text = format!(
            "example.com {ed1}\n*.com {rsa}\nexample.com {ed2}\n[example.com]:2222 {ec}\n\
             @revoked example.com {ec}\nother.org {ec}\n"
        );
        let kh = KnownHosts::parse(&text, &p("/kh"));
        let mut types = kh.key_types("example.com", 22);
        types.sort();
        assert_eq!(types, ["ssh-ed25519", "ssh-rsa"]);
        // `*.com` does not cover `[example.com]:2222`.
        assert_eq!(kh.key_types("example.com", 2222), ["ecdsa-sha2-nistp256"]);
        assert!(kh.key_types("nowhere.net", 22).is_empty());
        let hashed = KnownHosts::parse(HASHED_BY_OPENSSH, &p("/kh"));
        assert_eq!(hashed.key_types("example.com", 22), ["ssh-ed25519"]);
    }

    #[test]
    fn uppercase_pattern_in_file() {
        let (_, _, k1) = key(ED1);
        let kh = KnownHosts::parse(&format!("Example.COM {k1}\n"), &p("/kh"));
        assert_eq!(check(&kh, "example.com", 22, ED1), HostKeyStatus::Known);
    }

    #[test]
    fn hashed_entries_from_ssh_keygen() {
        let kh = KnownHosts::parse(HASHED_BY_OPENSSH, &p("/kh"));
        assert_eq!(kh.malformed_lines(), 0);
        assert!(kh.uses_hashing());
        assert_eq!(check(&kh, "example.com", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "Example.COM", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "127.0.0.5", 2222, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "127.0.0.5", 22, ED1), HostKeyStatus::Unknown);
        assert_eq!(check(&kh, "example.org", 22, ED1), HostKeyStatus::Unknown);
        assert_eq!(
            check(&kh, "127.0.0.5", 2222, ED2),
            HostKeyStatus::Changed {
                path: p("/kh"),
                line: 2,
                known_algo: "ssh-ed25519".into()
            }
        );
    }

    #[test]
    fn rsa_signature_algorithms_compare_as_ssh_rsa() {
        let (_, blob, k) = key(RSA1);
        let kh = KnownHosts::parse(&format!("h {k}\n"), &p("/kh"));
        for algo in ["ssh-rsa", "rsa-sha2-256", "rsa-sha2-512"] {
            assert_eq!(kh.check("h", 22, algo, &blob), HostKeyStatus::Known);
        }
        // A line naming the signature algorithm is accepted, as by OpenSSH.
        let line = k.replace("ssh-rsa", "rsa-sha2-512");
        let kh = KnownHosts::parse(&format!("h {line}\n"), &p("/kh"));
        assert_eq!(kh.check("h", 22, "ssh-rsa", &blob), HostKeyStatus::Known);
    }

    #[test]
    fn cert_authority_lines_are_ignored() {
        let (_, _, k1) = key(ED1);
        let text = format!("@cert-authority *.corp {k1}\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(kh.malformed_lines(), 0);
        assert_eq!(check(&kh, "a.corp", 22, ED1), HostKeyStatus::Unknown);
        assert_eq!(check(&kh, "a.corp", 22, ED2), HostKeyStatus::Unknown);
    }

    #[test]
    fn malformed_lines_skipped_and_counted() {
        let (_, _, k1) = key(ED1);
        let (_, _, k_rsa) = key(RSA1);
        let ed_b64 = k1.split(' ').nth(1).unwrap_or_default();
        let text = [
            "lonely.host".to_string(),
            "host ssh-ed25519".to_string(),
            "host ssh-ed25519 !!!notbase64!!!".to_string(),
            format!("@bogus host {k1}"),
            format!("|1|c2FsdA==|bWFj {k1}"),
            format!("|1|onlysalt {k1}"),
            format!("host ssh-rsa {ed_b64}"),
            "host ssh-ed25519 AAAA".to_string(),
            "@revoked".to_string(),
            format!("good.host {k1}"),
            "# comment is fine".to_string(),
            format!("rsa.host {k_rsa}"),
        ]
        .join("\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(kh.malformed_lines(), 9);
        // First few get their own warning, the rest are summarised.
        assert_eq!(kh.warnings().len(), MAX_LINE_WARNINGS_PER_FILE + 1);
        assert!(
            kh.warnings()[0].starts_with("/kh:1: "),
            "{:?}",
            kh.warnings()
        );
        assert_eq!(kh.len(), 2);
        assert_eq!(
            check(&kh, "good.host", 22, ED2),
            HostKeyStatus::Changed {
                path: p("/kh"),
                line: 10,
                known_algo: "ssh-ed25519".into()
            }
        );
        assert_eq!(check(&kh, "rsa.host", 22, RSA1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "host", 22, ED1), HostKeyStatus::Unknown);
    }

    #[test]
    fn no_panic_on_any_prefix_or_garbage() {
        let (_, _, k1) = key(ED1);
        let sample = format!(
            "{HASHED_BY_OPENSSH}@revoked * {k1}\n[a]:1,!b*,?c {k1} x\n\u{e9}\u{1F600} |1|| ,,, \t\n"
        );
        for (i, _) in sample.char_indices() {
            let kh = KnownHosts::parse(&sample[..i], &p("/kh"));
            let _ = check(&kh, "", 0, ED1);
            let _ = kh.check("[a]", 1, "", &[]);
            let _ = kh.check("a", 1, "ssh-ed25519", &[0, 0, 0, 255]);
        }
        assert_eq!(blob_key_type(&[0xff, 0xff, 0xff, 0xff, 1]), None);
        assert_eq!(blob_key_type(&[]), None);
    }
}
