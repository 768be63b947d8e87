//! OpenSSH `known_hosts` index: loaded once, checked many times.
//!
//! Keys are handled as an algorithm name plus the raw wire blob (the
//! base64-decoded second field of a `.pub` line), so this module does not
//! depend on any SSH library.
//!
//! Loading does blocking file I/O; call [`KnownHosts::load`] from a blocking
//! thread (e.g. `spawn_blocking`), never on the event loop. Checking is pure
//! CPU work on the in-memory index and never touches the disk.
//!
//! Matching follows OpenSSH's `hostfile.c` / `match.c`:
//! * the lookup name is [`host_pattern`]: `host` for port 22, `[host]:port`
//!   otherwise, lower-cased;
//! * plain host fields are comma-separated glob patterns (`*`, `?`) matched
//!   against that whole name, so a literal `host` entry only covers port 22,
//!   while `*` covers every port and `[10.0.0.*]:2222` works as expected;
//! * `!pattern` vetoes the whole line when it matches;
//! * hashed fields `|1|salt|mac` hold HMAC-SHA1(key = salt, msg = name).

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// OpenSSH refuses hashed entries whose salt is not exactly one SHA-1
/// digest long, so we do the same rather than accept lines ssh would ignore.
const SHA1_LEN: usize = 20;

/// Only this many malformed lines per file get their own warning, so a
/// corrupt 100k-line file cannot flood the UI.
const MAX_LINE_WARNINGS_PER_FILE: usize = 3;

/// Padding is optional because hand-edited files sometimes lose it and
/// OpenSSH's decoder still accepts them.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Result of [`KnownHosts::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// A matching line holds exactly this key.
    Known,
    /// No line matches this host/port.
    Unknown,
    /// The host is known, but with another key. `path`/`line` point at the
    /// line to show the user (1-based, as in the file).
    Changed {
        path: PathBuf,
        line: usize,
        known_algo: String,
    },
    /// The key appears on an `@revoked` line.
    Revoked { path: PathBuf, line: usize },
}

#[derive(Debug, thiserror::Error)]
enum LineError {
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
enum Marker {
    None,
    Revoked,
}

#[derive(Debug, Clone)]
struct Pattern {
    negated: bool,
    wildcard: bool,
    /// Lower-cased, without the `!`.
    text: Box<[u8]>,
}

#[derive(Clone)]
enum HostMatcher {
    /// The HMAC is stored already keyed with the salt so each check costs
    /// only the message hashing, not the key schedule.
    Hashed {
        keyed: Box<HmacSha1>,
        mac: [u8; SHA1_LEN],
    },
    Patterns(Box<[Pattern]>),
}

#[derive(Clone)]
struct Entry {
    marker: Marker,
    hosts: HostMatcher,
    /// Normalised key type (see [`normalize_algo`]).
    algo: Box<str>,
    blob: Box<[u8]>,
    file: usize,
    line: usize,
}

#[derive(Debug, Clone)]
struct FileInfo {
    path: PathBuf,
    /// Number of lines seen (or learned) so far, for [`KnownHosts::next_line_number`].
    lines: usize,
}

/// Index of every entry of one or more `known_hosts` files.
///
/// `@cert-authority` lines are validated but otherwise ignored: they vouch
/// for host *certificates*, and this index only verifies plain host keys.
///
/// Unlike OpenSSH, which only honours `@revoked` lines whose host patterns
/// match, a revoked key is rejected here for every host: a key someone took
/// the trouble to revoke should never be trusted again.
#[derive(Clone, Default)]
pub struct KnownHosts {
    files: Vec<FileInfo>,
    entries: Vec<Entry>,
    /// Lower-cased literal pattern -> entries having it as a positive pattern.
    literal: HashMap<Box<[u8]>, Vec<u32>>,
    /// Entries with at least one positive wildcard pattern; they must be
    /// tried for every lookup.
    wildcard: Vec<u32>,
    /// Hashed entries cannot be indexed by name and are tried every lookup.
    hashed: Vec<u32>,
    /// `@revoked` entries by key blob, since revocation ignores the host.
    revoked: HashMap<Box<[u8]>, Vec<u32>>,
    warnings: Vec<String>,
    malformed: usize,
    uses_hashing: bool,
}

impl fmt::Debug for KnownHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KnownHosts")
            .field("files", &self.files)
            .field("entries", &self.entries.len())
            .field("malformed", &self.malformed)
            .field("uses_hashing", &self.uses_hashing)
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl KnownHosts {
    /// Reads and indexes every file in order. A missing file is normal (a
    /// fresh account has none) and is silently treated as empty; any other
    /// read error becomes a warning. Never fails.
    pub fn load(paths: &[PathBuf]) -> KnownHosts {
        let mut all = KnownHosts::default();
        for path in paths {
            match fs::read(path) {
                Ok(bytes) => {
                    // Lossy decoding keeps every valid line of a file with a
                    // stray non-UTF-8 byte instead of dropping the file.
                    let text = String::from_utf8_lossy(&bytes);
                    all.extend(KnownHosts::parse(&text, path));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => all
                    .warnings
                    .push(format!("cannot read {}: {e}", path.display())),
            }
        }
        all
    }

    /// Indexes the text of one file. Malformed lines are skipped and counted
    /// (see [`KnownHosts::malformed_lines`]); the first few get a warning.
    pub fn parse(text: &str, path: &Path) -> KnownHosts {
        let mut kh = KnownHosts::default();
        let file = kh.file_index(path);
        let mut bad_here = 0usize;
        let mut line_no = 0usize;
        for (i, raw) in text.lines().enumerate() {
            line_no = i + 1;
            match parse_line(raw) {
                Ok(None) => {}
                Ok(Some(parsed)) => {
                    if parsed.hashed {
                        kh.uses_hashing = true;
                    }
                    if let Some((marker, hosts)) = parsed.kind {
                        kh.push(Entry {
                            marker,
                            hosts,
                            algo: parsed.algo,
                            blob: parsed.blob,
                            file,
                            line: line_no,
                        });
                    }
                }
                Err(e) => {
                    bad_here += 1;
                    if bad_here <= MAX_LINE_WARNINGS_PER_FILE {
                        kh.warnings
                            .push(format!("{}:{line_no}: skipped: {e}", path.display()));
                    }
                }
            }
        }
        if bad_here > MAX_LINE_WARNINGS_PER_FILE {
            kh.warnings.push(format!(
                "{}: {} more malformed lines skipped",
                path.display(),
                bad_here - MAX_LINE_WARNINGS_PER_FILE
            ));
        }
        kh.malformed = bad_here;
        if let Some(f) = kh.files.get_mut(file) {
            f.lines = line_no;
        }
        kh
    }

    /// Appends `other`'s entries after ours; earlier entries win ties when
    /// choosing which line to report, as with OpenSSH's file order.
    pub fn extend(&mut self, other: KnownHosts) {
        let mut file_map = Vec::with_capacity(other.files.len());
        for f in &other.files {
            let idx = self.file_index(&f.path);
            if let Some(mine) = self.files.get_mut(idx) {
                mine.lines = mine.lines.max(f.lines);
            }
            file_map.push(idx);
        }
        for mut e in other.entries {
            e.file = file_map.get(e.file).copied().unwrap_or(e.file);
            self.push(e);
        }
        self.warnings.extend(other.warnings);
        self.malformed += other.malformed;
        self.uses_hashing |= other.uses_hashing;
    }

    /// Looks up the key a server offered.
    ///
    /// Order of precedence: revoked anywhere, then an exact match on a line
    /// matching the host, then any other key for the host (of the same or
    /// another type) as `Changed`, else `Unknown`. For `Changed` the first
    /// matching line of the same key type is reported, falling back to the
    /// first matching line of any type, which is the line OpenSSH would call
    /// the "offending key".
    ///
    /// `algo` may be a signature algorithm such as `rsa-sha2-512`; it is
    /// compared as the key type it signs with (`ssh-rsa`).
    pub fn check(&self, host: &str, port: u16, algo: &str, blob: &[u8]) -> HostKeyStatus {
        let algo = normalize_algo(algo);
        if let Some(list) = self.revoked.get(blob) {
            for &i in list {
                if let Some(e) = self.entries.get(i as usize)
                    && *e.algo == *algo
                {
                    return HostKeyStatus::Revoked {
                        path: self.path_of(e.file),
                        line: e.line,
                    };
                }
            }
        }

        let name = host_pattern(host, port);
        let name_bytes = name.as_bytes();
        let literal = self
            .literal
            .get(name_bytes)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut first_same: Option<u32> = None;
        let mut first_any: Option<u32> = None;
        for &i in literal.iter().chain(&self.wildcard).chain(&self.hashed) {
            let Some(e) = self.entries.get(i as usize) else {
                continue;
            };
            if !e.hosts.matches(name_bytes) {
                continue;
            }
            if *e.algo == *algo && *e.blob == *blob {
                return HostKeyStatus::Known;
            }
            if *e.algo == *algo {
                first_same = Some(first_same.map_or(i, |f| f.min(i)));
            }
            first_any = Some(first_any.map_or(i, |f| f.min(i)));
        }
        match first_same
            .or(first_any)
            .and_then(|i| self.entries.get(i as usize))
        {
            Some(e) => HostKeyStatus::Changed {
                path: self.path_of(e.file),
                line: e.line,
                known_algo: e.algo.to_string(),
            },
            None => HostKeyStatus::Unknown,
        }
    }

    /// Remembers a key learned this session (after the caller appended it
    /// with [`append_entry`]) so later checks see it without reloading.
    /// `host` is taken literally, never as a pattern.
    pub fn add(
        &mut self,
        host: &str,
        port: u16,
        algo: &str,
        blob: &[u8],
        path: &Path,
        line: usize,
    ) {
        let file = self.file_index(path);
        if let Some(f) = self.files.get_mut(file) {
            f.lines = f.lines.max(line);
        }
        let text: Box<[u8]> = host_pattern(host, port).into_bytes().into();
        self.push(Entry {
            marker: Marker::None,
            hosts: HostMatcher::Patterns(Box::new([Pattern {
                negated: false,
                wildcard: false,
                text,
            }])),
            algo: key_type_name(algo, blob).into(),
            blob: blob.into(),
            file,
            line,
        });
    }

    /// Line number the next appended line of `path` will get, assuming only
    /// this process appends to it (1 for an unseen file).
    pub fn next_line_number(&self, path: &Path) -> usize {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map_or(1, |f| f.lines + 1)
    }

    /// Unreadable files and skipped lines, for showing to the user.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Number of lines skipped as malformed across all files.
    pub fn malformed_lines(&self) -> usize {
        self.malformed
    }

    /// Number of indexed entries (`@cert-authority` lines are not counted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when a loaded file already contains `|1|` hashed hosts: the user
    /// (or `HashKnownHosts yes`) chose to hide host names, so learned keys
    /// should be written hashed too.
    pub fn uses_hashing(&self) -> bool {
        self.uses_hashing
    }

    fn file_index(&mut self, path: &Path) -> usize {
        if let Some(i) = self.files.iter().position(|f| f.path == path) {
            return i;
        }
        self.files.push(FileInfo {
            path: path.to_path_buf(),
            lines: 0,
        });
        self.files.len() - 1
    }

    fn path_of(&self, file: usize) -> PathBuf {
        self.files
            .get(file)
            .map(|f| f.path.clone())
            .unwrap_or_default()
    }

    fn push(&mut self, e: Entry) {
        // u32 keeps the indexes small; 4 billion lines is not a real file.
        let Ok(idx) = u32::try_from(self.entries.len()) else {
            return;
        };
        match (&e.marker, &e.hosts) {
            (Marker::Revoked, _) => self.revoked.entry(e.blob.clone()).or_default().push(idx),
            (Marker::None, HostMatcher::Hashed { .. }) => self.hashed.push(idx),
            (Marker::None, HostMatcher::Patterns(pats)) => {
                if pats.iter().any(|p| !p.negated && p.wildcard) {
                    self.wildcard.push(idx);
                } else {
                    for p in pats.iter().filter(|p| !p.negated) {
                        let list = self.literal.entry(p.text.clone()).or_default();
                        // A field like `a,a` must not list the entry twice.
                        if list.last() != Some(&idx) {
                            list.push(idx);
                        }
                    }
                }
            }
        }
        self.entries.push(e);
    }
}

impl HostMatcher {
    /// `name` must already be lower-cased (as [`host_pattern`] returns it).
    fn matches(&self, name: &[u8]) -> bool {
        match self {
            HostMatcher::Hashed { keyed, mac } => {
                let mut m = (**keyed).clone();
                m.update(name);
                m.verify_slice(mac).is_ok()
            }
            HostMatcher::Patterns(pats) => {
                let mut positive = false;
                for p in pats.iter() {
                    let hit = if p.wildcard {
                        glob_match(&p.text, name)
                    } else {
                        *p.text == *name
                    };
                    if hit {
                        if p.negated {
                            return false;
                        }
                        positive = true;
                    }
                }
                positive
            }
        }
    }
}

struct ParsedLine {
    /// `None` for `@cert-authority` lines, which are validated but not kept.
    kind: Option<(Marker, HostMatcher)>,
    hashed: bool,
    algo: Box<str>,
    blob: Box<[u8]>,
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
fn parse_line(raw: &str) -> Result<Option<ParsedLine>, LineError> {
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
            let (negated, body) = match p.strip_prefix('!') {
                Some(b) => (true, b),
                None => (false, p),
            };
            Pattern {
                negated,
                wildcard: body.contains(['*', '?']),
                text: body.to_ascii_lowercase().into_bytes().into(),
            }
        })
        .collect()
}

/// Glob with `*` (any run, including empty) and `?` (one byte), as in
/// OpenSSH's `match_pattern`, but iterative with single-star backtracking so
/// a hostile pattern like `*a*a*a*a*b` stays O(len * len) instead of
/// exponential.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    while i < s.len() {
        match (pat.get(p), s.get(i)) {
            (Some(b'*'), _) => {
                resume = Some((p + 1, i));
                p += 1;
            }
            (Some(&pc), Some(&sc)) if pc == b'?' || pc == sc => {
                p += 1;
                i += 1;
            }
            _ => match resume {
                Some((rp, ri)) => {
                    p = rp;
                    i = ri + 1;
                    resume = Some((rp, ri + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Signature algorithm names map to the key type they sign with; only the
/// key type is stored in `known_hosts`.
fn normalize_algo(algo: &str) -> &str {
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
fn key_type_name<'a>(algo: &'a str, blob: &'a [u8]) -> &'a str {
    blob_key_type(blob).unwrap_or_else(|| normalize_algo(algo))
}

/// The name OpenSSH looks up and writes for a host: `host` for the default
/// port, `[host]:port` otherwise. Lower-cased because ssh lower-cases the
/// host name before any known_hosts work. Port 0 means "default", as in
/// OpenSSH's `put_host_port`.
pub fn host_pattern(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 || port == 0 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

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
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
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

/// Shell command that removes the stale entry, as OpenSSH suggests it.
pub fn fix_hint(path: &Path, host: &str, port: u16) -> String {
    format!(
        "ssh-keygen -f {} -R {}",
        shell_quote(&path.display().to_string()),
        shell_quote(&host_pattern(host, port))
    )
}

/// Double quotes match OpenSSH's own hint; escaping keeps a path with `"`,
/// `$` or a backtick safe to paste.
fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Generated with `ssh-keygen -t <type> -N '' -C testN` for these tests.
    const ED1: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+TdT630ux4i3+jZ87+sp3JKv6Uwm6s7QqXET//LP4o test1";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIZbFCsPlU5IkfjCK8AxXi+95k5Vky+jvhWLOPVxYT07 test2";
    const EC1: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPf5xt/V5lVoEMkn2UQRob/sqRGbyRWJSiIRWf2mY7ZdSIvbzt0CWeBQtHKIKzh9Xh9YVrsowvFAUFxyxXbsJBk= test3";
    const RSA1: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC1TnwA5NHjnfwl6qsab9O7iZk8j78DpuzY3gDtkn148WqAyugwt9FXxJU/2K7PiImO37rx7CnrQTgISEa5il4mPcD3a7pKOffDaC22Rd6+gyg6sSAvOfV60dtup651WDl0fJs2nMswjdE5jn6qk46LaVk8XzVYYSWOYCfKVZt48Q== test4";

    // `ssh-keygen -H` output for `example.com` and `[127.0.0.5]:2222`, ED1.
    const HASHED_BY_OPENSSH: &str = "\
|1|ma3fckOMW3NuELd8pFSVn2hf9sA=|gwPIx+QzgPelIXMJScPueZyC7ds= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+TdT630ux4i3+jZ87+sp3JKv6Uwm6s7QqXET//LP4o
|1|gZKNTXNRiTYoTjaASCk03J8+oQ8=|eZtjVQY0XN2LOmOtcCDaTOdfLnI= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+TdT630ux4i3+jZ87+sp3JKv6Uwm6s7QqXET//LP4o
";

    /// (algo, blob, "algo base64") of a `.pub` line.
    fn key(publine: &str) -> (String, Vec<u8>, String) {
        let mut it = publine.split(' ');
        let algo = it.next().unwrap_or_default().to_string();
        let b64 = it.next().unwrap_or_default();
        let blob = STANDARD.decode(b64).unwrap();
        (algo.clone(), blob, format!("{algo} {b64}"))
    }

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn check(kh: &KnownHosts, host: &str, port: u16, publine: &str) -> HostKeyStatus {
        let (algo, blob, _) = key(publine);
        kh.check(host, port, &algo, &blob)
    }

    #[test]
    fn plain_hit_and_unknown() {
        let (_, _, k1) = key(ED1);
        let kh = KnownHosts::parse(&format!("example.com,10.0.0.1 {k1} c\n"), &p("/kh"));
        assert_eq!(check(&kh, "example.com", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "EXAMPLE.Com", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "10.0.0.1", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "other.com", 22, ED1), HostKeyStatus::Unknown);
        // A plain name only covers port 22.
        assert_eq!(check(&kh, "example.com", 2222, ED1), HostKeyStatus::Unknown);
        assert!(!kh.uses_hashing());
    }

    #[test]
    fn uppercase_pattern_in_file() {
        let (_, _, k1) = key(ED1);
        let kh = KnownHosts::parse(&format!("Example.COM {k1}\n"), &p("/kh"));
        assert_eq!(check(&kh, "example.com", 22, ED1), HostKeyStatus::Known);
    }

    #[test]
    fn port_entries() {
        let (_, _, k1) = key(ED1);
        let text = format!("[127.0.0.5]:2222 {k1}\n[::1]:2200 {k1}\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(check(&kh, "127.0.0.5", 2222, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "127.0.0.5", 22, ED1), HostKeyStatus::Unknown);
        assert_eq!(check(&kh, "127.0.0.5", 2223, ED1), HostKeyStatus::Unknown);
        assert_eq!(check(&kh, "::1", 2200, ED1), HostKeyStatus::Known);
    }

    #[test]
    fn wildcards() {
        let (_, _, k1) = key(ED1);
        let text = format!("*.corp,db?.lan {k1}\n[127.0.0.*]:2222 {k1}\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(check(&kh, "a.b.corp", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "db1.lan", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "db12.lan", 22, ED1), HostKeyStatus::Unknown);
        assert_eq!(check(&kh, "corp", 22, ED1), HostKeyStatus::Unknown);
        // `*.corp` cannot match `[a.corp]:2222`, which ends in the port.
        assert_eq!(check(&kh, "a.corp", 2222, ED1), HostKeyStatus::Unknown);
        assert_eq!(check(&kh, "127.0.0.9", 2222, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "127.0.0.9", 22, ED1), HostKeyStatus::Unknown);

        // A bare `*` matches every name, bracketed ones included.
        let kh = KnownHosts::parse(&format!("* {k1}\n"), &p("/kh"));
        assert_eq!(check(&kh, "anything", 2222, ED1), HostKeyStatus::Known);
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob_match(b"", b""));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"**a", b"a"));
        assert!(glob_match(b"a*b*c", b"axxbyyc"));
        assert!(!glob_match(b"a*b*c", b"axxbyy"));
        assert!(glob_match(b"*a*a*a*a*b", b"aaaaaaaaaaab"));
        assert!(!glob_match(b"*a*a*a*a*b", &[b'a'; 5000]));
        assert!(!glob_match(b"?", b""));
    }

    #[test]
    fn negation_vetoes_line() {
        let (_, _, k1) = key(ED1);
        let text = format!("*.corp,!bad.corp,bad.corp {k1}\n!nothing {k1}\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(check(&kh, "good.corp", 22, ED1), HostKeyStatus::Known);
        assert_eq!(check(&kh, "bad.corp", 22, ED1), HostKeyStatus::Unknown);
        // A line of only negations matches nothing.
        assert_eq!(check(&kh, "something", 22, ED1), HostKeyStatus::Unknown);

        let text = format!("host1,!host1 {k1}\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(check(&kh, "host1", 22, ED1), HostKeyStatus::Unknown);
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

    /// Runs `ssh-keygen -F name -f file`; `None` when ssh-keygen is missing.
    fn keygen_find(file: &Path, name: &str) -> Option<(bool, String)> {
        match std::process::Command::new("ssh-keygen")
            .arg("-F")
            .arg(name)
            .arg("-f")
            .arg(file)
            .output()
        {
            Ok(out) => Some((
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )),
            Err(e) => {
                eprintln!("skipping ssh-keygen cross-check: {e}");
                None
            }
        }
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
    fn pattern_matching_agrees_with_ssh_keygen() {
        let (_, _, k1) = key(ED1);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        let lines = [
            format!("*.corp,!bad.corp {k1}"),
            format!("[127.0.0.*]:2222 {k1}"),
            format!("db?.lan,10.1.2.3 {k1}"),
            format!("[plain.host]:22 {k1}"),
            format!("[v6::1]:2200 {k1}"),
        ];
        fs::write(&file, lines.join("\n") + "\n").unwrap();
        let kh = KnownHosts::load(std::slice::from_ref(&file));
        let cases: [(&str, u16); 14] = [
            ("a.corp", 22),
            ("bad.corp", 22),
            ("a.corp", 2222),
            ("127.0.0.1", 2222),
            ("127.0.0.1", 22),
            ("127.0.1.1", 2222),
            ("db1.lan", 22),
            ("db10.lan", 22),
            ("10.1.2.3", 22),
            ("10.1.2.3", 2022),
            ("plain.host", 22),
            ("v6::1", 2200),
            ("v6::1", 22),
            ("nothing", 22),
        ];
        for (host, port) in cases {
            let ours = check(&kh, host, port, ED1) == HostKeyStatus::Known;
            let Some((theirs, _)) = keygen_find(&file, &host_pattern(host, port)) else {
                return;
            };
            assert_eq!(ours, theirs, "{host}:{port}");
        }
    }

    #[test]
    fn changed_key_same_type() {
        let (_, _, k1) = key(ED1);
        let text = format!("# header\n\nexample.com {k1}\n");
        let kh = KnownHosts::parse(&text, &p("/x/known_hosts"));
        assert_eq!(
            check(&kh, "example.com", 22, ED2),
            HostKeyStatus::Changed {
                path: p("/x/known_hosts"),
                line: 3,
                known_algo: "ssh-ed25519".into()
            }
        );
    }

    #[test]
    fn changed_key_other_type_prefers_same_type_line() {
        let (_, _, k_ec) = key(EC1);
        let (_, _, k_ed) = key(ED1);
        let kh = KnownHosts::parse(&format!("example.com {k_ec}\n"), &p("/kh"));
        assert_eq!(
            check(&kh, "example.com", 22, ED1),
            HostKeyStatus::Changed {
                path: p("/kh"),
                line: 1,
                known_algo: "ecdsa-sha2-nistp256".into()
            }
        );
        let text = format!("example.com {k_ec}\nexample.com {k_ed}\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(
            check(&kh, "example.com", 22, ED2),
            HostKeyStatus::Changed {
                path: p("/kh"),
                line: 2,
                known_algo: "ssh-ed25519".into()
            }
        );
        // Another known key of a different type does not spoil a match.
        assert_eq!(check(&kh, "example.com", 22, ED1), HostKeyStatus::Known);
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
    fn revoked_wins_regardless_of_host() {
        let (_, _, k1) = key(ED1);
        let text = format!("example.com {k1}\n\n@revoked unrelated.host {k1} gone\n");
        let kh = KnownHosts::parse(&text, &p("/kh"));
        let revoked = HostKeyStatus::Revoked {
            path: p("/kh"),
            line: 3,
        };
        assert_eq!(check(&kh, "example.com", 22, ED1), revoked);
        assert_eq!(check(&kh, "never.seen", 2222, ED1), revoked);
        assert_eq!(
            check(&kh, "never.seen", 22, ED2),
            HostKeyStatus::Unknown,
            "revoked line must not count as a known host"
        );
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
    fn line_numbers_across_comments_and_files() {
        let (_, _, k1) = key(ED1);
        let dir = tempfile::tempdir().unwrap();
        let f1 = dir.path().join("one");
        let f2 = dir.path().join("two");
        let missing = dir.path().join("missing");
        fs::write(&f1, format!("# c\n\n   \nfirst.host {k1}\r\n")).unwrap();
        fs::write(&f2, format!("\n\t# indented comment\n\n\nsecond.host {k1}")).unwrap();
        let kh = KnownHosts::load(&[f1.clone(), missing, f2.clone()]);
        assert!(kh.warnings().is_empty(), "{:?}", kh.warnings());
        assert_eq!(kh.len(), 2);
        let changed = |path: &Path, line| HostKeyStatus::Changed {
            path: path.to_path_buf(),
            line,
            known_algo: "ssh-ed25519".into(),
        };
        assert_eq!(check(&kh, "first.host", 22, ED2), changed(&f1, 4));
        assert_eq!(check(&kh, "second.host", 22, ED2), changed(&f2, 5));
        assert_eq!(kh.next_line_number(&f1), 5);
        assert_eq!(kh.next_line_number(&f2), 6);
    }

    #[test]
    fn first_file_wins_for_changed() {
        let (_, _, k1) = key(ED1);
        let mut kh = KnownHosts::parse(&format!("\nh {k1}\n"), &p("/a"));
        kh.extend(KnownHosts::parse(&format!("h {k1}\n"), &p("/b")));
        assert_eq!(
            check(&kh, "h", 22, ED2),
            HostKeyStatus::Changed {
                path: p("/a"),
                line: 2,
                known_algo: "ssh-ed25519".into()
            }
        );
    }

    #[test]
    fn unreadable_file_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        // Reading a directory fails with something other than NotFound.
        let kh = KnownHosts::load(&[dir.path().to_path_buf()]);
        assert!(kh.is_empty());
        assert_eq!(kh.warnings().len(), 1);
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

    #[test]
    fn add_makes_key_known() {
        let (algo, blob, _) = key(ED1);
        let (algo2, blob2, _) = key(ED2);
        let path = p("/kh");
        let mut kh = KnownHosts::parse("# only a comment\n", &path);
        assert_eq!(
            kh.check("new.host", 2222, &algo, &blob),
            HostKeyStatus::Unknown
        );
        let line = kh.next_line_number(&path);
        assert_eq!(line, 2);
        kh.add("New.Host", 2222, &algo, &blob, &path, line);
        assert_eq!(
            kh.check("new.host", 2222, &algo, &blob),
            HostKeyStatus::Known
        );
        assert_eq!(
            kh.check("new.host", 22, &algo, &blob),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            kh.check("new.host", 2222, &algo2, &blob2),
            HostKeyStatus::Changed {
                path: path.clone(),
                line: 2,
                known_algo: "ssh-ed25519".into()
            }
        );
        assert_eq!(kh.next_line_number(&path), 3);
        // Learned names are literal, never patterns.
        kh.add("*", 22, &algo, &blob, &path, 3);
        assert_eq!(kh.check("other", 22, &algo, &blob), HostKeyStatus::Unknown);
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

    #[test]
    fn fix_hint_format() {
        assert_eq!(
            fix_hint(&p("/x/known_hosts"), "127.0.0.5", 2222),
            r#"ssh-keygen -f "/x/known_hosts" -R "[127.0.0.5]:2222""#
        );
        assert_eq!(
            fix_hint(&p("/we\"ird $dir/kh"), "Host", 22),
            r#"ssh-keygen -f "/we\"ird \$dir/kh" -R "host""#
        );
    }

    #[test]
    fn ten_thousand_lines() {
        let (algo, blob, k1) = key(ED1);
        let mut text = String::new();
        for i in 0..10_000 {
            match i % 10 {
                0 => text.push_str(&format_entry(&format!("h{i}"), 22, &algo, &blob, true)),
                1 => text.push_str(&format!("# comment {i}")),
                2 => text.push_str(&format!("[h{i}]:2222,10.{i}.*.* {k1}")),
                _ => text.push_str(&format!("h{i}.example,10.0.{}.{} {k1}", i / 256, i % 256)),
            }
            text.push('\n');
        }
        let kh = KnownHosts::parse(&text, &p("/kh"));
        assert_eq!(kh.malformed_lines(), 0);
        assert_eq!(kh.len(), 9_000);
        for i in (0..10_000).step_by(997) {
            let _ = kh.check(&format!("h{i}.example"), 22, &algo, &blob);
        }
        assert_eq!(kh.check("h9990", 22, &algo, &blob), HostKeyStatus::Known);
        assert_eq!(
            kh.check("h9993.example", 22, &algo, &blob),
            HostKeyStatus::Known
        );
        assert_eq!(kh.check("h9992", 2222, &algo, &blob), HostKeyStatus::Known);
        assert_eq!(kh.check("nope", 22, &algo, &blob), HostKeyStatus::Unknown);
    }
}
