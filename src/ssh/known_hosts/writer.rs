//! Writing learned keys: the line OpenSSH would write, and appending it to
//! a `known_hosts` file (creating the file and its directory if needed).

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;

use super::host_pattern;
use super::line::{HmacSha1, SHA1_LEN, key_type_name};

/// One `known_hosts` line (no newline) in the form OpenSSH writes it:
/// `name keytype base64`, or with the name replaced by
/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` when `hashed`.
pub fn format_entry(host: &str, port: u16, algo: &str, blob: &[u8], hashed: bool) -> String {
    let name = host_pattern(host, port);
    let key_type = key_type_name(algo, blob);
    let key = STANDARD.encode(blob);
    if !hashed {
        return format!("{name} {key_type} {key}");
    }
    let mut salt = [0u8; SHA1_LEN];
    rand::fill(&mut salt[..]);
    let mac = match HmacSha1::new_from_slice(&salt) {
        Ok(mut m) => {
            m.update(name.as_bytes());
            m.finalize().into_bytes()
        }
        // HMAC accepts keys of any length, so this cannot happen; falling
        // back to a plain entry beats panicking or writing a bogus hash.
        Err(_) => return format!("{name} {key_type} {key}"),
    };
    format!(
        "|1|{}|{} {key_type} {key}",
        STANDARD.encode(salt),
        STANDARD.encode(mac)
    )
}

/// Appends one line to a `known_hosts` file, creating the parent directory
/// (0700) and the file (0600) if needed. Never truncates; if the file does
/// not end in a newline, one is added first so the previous last line is
/// kept intact.
///
/// The newline fix-up and the line are written with a single `write` on an
/// `O_APPEND` descriptor, so the line lands whole at the end of the file.
/// The check for the missing newline is not atomic with that write, though:
/// callers must serialise appends through a single writer (one task owning
/// the file) rather than call this concurrently.
pub fn append_entry(path: &Path, line: &str) -> io::Result<()> {
    if line.contains(['\n', '\r']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "known_hosts line must not contain a line break",
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        crate::sys::create_private_dir(dir)?;
    }
    let mut file = crate::sys::open_private_file(path, crate::sys::PrivateOpen::Append)?;
    let mut buf = Vec::with_capacity(line.len() + 2);
    if file.metadata()?.len() > 0 {
        file.seek(SeekFrom::End(-1))?;
        let mut last = [0u8; 1];
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    file.write_all(&buf)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{HostKeyStatus, KnownHosts};
    use super::*;
    use std::fs;

    #[test]
    fn our_formats_parse_back() {
        let (algo, blob, _) = key(ED1);
        for hashed in [false, true] {
            let mut text = String::new();
            for port in [22, 2222] {
                text.push_str(&format_entry("Host.Example", port, &algo, &blob, hashed));
                text.push('\n');
            }
            let kh = KnownHosts::parse(&text, &p("/kh"));
            assert_eq!(kh.malformed_lines(), 0);
            assert_eq!(kh.uses_hashing(), hashed);
            for port in [22, 2222] {
                assert_eq!(
                    kh.check("host.example", port, &algo, &blob),
                    HostKeyStatus::Known
                );
            }
            assert_eq!(
                kh.check("host.example", 2200, &algo, &blob),
                HostKeyStatus::Unknown
            );
        }
        assert_eq!(
            format_entry("H", 22, &algo, &blob, false),
            format!("h {}", key(ED1).2)
        );
        assert_eq!(
            format_entry("::1", 2222, &algo, &blob, false),
            format!("[::1]:2222 {}", key(ED1).2)
        );
    }

    #[test]
    fn our_hashed_output_accepted_by_ssh_keygen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        let (algo, blob, _) = key(ED1);
        let (ralgo, rblob, _) = key(RSA1);
        let text = [
            format_entry("alpha.example", 22, &algo, &blob, true),
            format_entry("127.0.0.5", 2222, &algo, &blob, true),
            format_entry("beta.example", 22, "rsa-sha2-512", &rblob, true),
        ]
        .join("\n");
        fs::write(&file, text + "\n").unwrap();
        assert!(ralgo == "ssh-rsa");
        for (name, line) in [
            ("alpha.example", 1),
            ("[127.0.0.5]:2222", 2),
            ("beta.example", 3),
        ] {
            let Some((found, out)) = keygen_find(&file, name) else {
                return;
            };
            assert!(found, "ssh-keygen did not find {name}: {out}");
            assert!(out.contains(&format!("found: line {line}")), "{out}");
        }
        if let Some((found, _)) = keygen_find(&file, "127.0.0.5") {
            assert!(!found);
        }
    }

    #[test]
    fn append_keeps_unterminated_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        fs::write(&file, "first line\nsecond line").unwrap();
        append_entry(&file, "third line").unwrap();
        append_entry(&file, "fourth line").unwrap();
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "first line\nsecond line\nthird line\nfourth line\n"
        );
        assert!(append_entry(&file, "a\nb").is_err());
    }

    #[test]
    fn append_creates_dir_and_file_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("new/.ssh/known_hosts");
        let (algo, blob, _) = key(ED1);
        let line = format_entry("h", 2222, &algo, &blob, true);
        append_entry(&file, &line).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), format!("{line}\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(file.parent().unwrap()), 0o700);
        }
        let kh = KnownHosts::load(&[file]);
        assert_eq!(kh.check("h", 2222, &algo, &blob), HostKeyStatus::Known);
        assert!(kh.uses_hashing());
    }
}
