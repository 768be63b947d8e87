//! The in-memory index of every entry, and the lookups on it.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::line::{HostMatcher, Marker, Pattern, key_type_name, normalize_algo, parse_line};
use super::{HostKeyStatus, host_pattern};

/// Only this many malformed lines per file get their own warning, so a
/// corrupt 100k-line file cannot flood the UI.
pub(super) const MAX_LINE_WARNINGS_PER_FILE: usize = 3;

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
            match crate::sys::read_file_capped(path, crate::sys::MAX_CONFIG_FILE) {
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
        let mut first_same: Option<u32> = None;
        let mut first_any: Option<u32> = None;
        for (i, e) in self.matching(name.as_bytes()) {
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

    /// The key types known for `host:port` (`ssh-rsa` for every RSA key), each once: what
    /// the client should ask the server for first (OpenSSH's `order_hostkeyalgs`).
    pub fn key_types(&self, host: &str, port: u16) -> Vec<String> {
        let name = host_pattern(host, port);
        let mut types: Vec<String> = Vec::new();
        for (_, e) in self.matching(name.as_bytes()) {
            if !types.iter().any(|t| **t == *e.algo) {
                types.push(e.algo.to_string());
            }
        }
        types
    }

    /// The usable entries whose host field matches `name` (a [`host_pattern`]), with their
    /// index; revoked ones are not among them.
    fn matching<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = (u32, &'a Entry)> + 'a {
        let literal = self
            .literal
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        literal
            .iter()
            .chain(&self.wildcard)
            .chain(&self.hashed)
            .filter_map(|&i| Some((i, self.entries.get(i as usize)?)))
            .filter(move |(_, e)| e.hosts.matches(name))
    }

    /// Remembers a key learned this session (after the caller appended it
    /// with [`append_entry`](super::append_entry)) so later checks see it without reloading.
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

#[cfg(test)]
mod tests {
    use super::super::format_entry;
    use super::super::test_util::*;
    use super::*;
    use std::fs;

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
