//! The mock's SFTP subsystem: each mock host serves a private directory of its own (made
//! under the server's temporary root), so `mtssh push`/`pull` work offline for practice and
//! tests. No path leaves that directory: `..` above it, an absolute path elsewhere and a
//! symlink pointing out are refused with a permission error, and no symlink can be made.
//!
//! File IO goes through `tokio::fs` (the blocking pool): the mock often shares the loop of
//! the program it serves.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// The most one READ returns (OpenSSH's sftp-server caps at 256 KiB too).
const MAX_READ: u32 = 256 * 1024;

/// Handles one client may hold open at once: a client cannot exhaust our descriptors.
const MAX_HANDLES: usize = 256;

/// One SFTP session on one mock host.
pub(super) struct SftpHandler {
    /// The host's directory, canonical (symlinks resolved), made before the session starts.
    root: PathBuf,
    handles: HashMap<String, Opened>,
    next_handle: u64,
}

enum Opened {
    File(tokio::fs::File),
    /// A directory's entries, read whole at OPENDIR; `None` once handed out.
    Dir(Option<Vec<File>>),
}

/// The directory a mock host serves: `base/HOST`, made if missing, canonical.
pub(super) async fn host_root(base: &Path, host: &str) -> std::io::Result<PathBuf> {
    let root = base.join(crate::text::safe_file_name(host));
    tokio::fs::create_dir_all(&root).await?;
    tokio::fs::canonicalize(&root).await
}

impl SftpHandler {
    pub(super) fn new(root: PathBuf) -> SftpHandler {
        SftpHandler {
            root,
            handles: HashMap::new(),
            next_handle: 1,
        }
    }

    /// Where a client's path lands under the root, or a refusal when it would leave it.
    async fn resolve(&self, path: &str) -> Result<PathBuf, StatusReply> {
        resolve_under(&self.root, path)
            .await
            .ok_or_else(|| escapes(path))
    }

    /// The client's view of a real path: absolute, as realpath answers.
    fn shown(&self, real: &Path) -> String {
        real.display().to_string()
    }

    fn add_handle(&mut self, opened: Opened) -> Result<String, StatusReply> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure.with_message("too many open handles"));
        }
        let handle = self.next_handle.to_string();
        self.next_handle += 1;
        self.handles.insert(handle.clone(), opened);
        Ok(handle)
    }

    fn file(&mut self, handle: &str) -> Result<&mut tokio::fs::File, StatusReply> {
        match self.handles.get_mut(handle) {
            Some(Opened::File(file)) => Ok(file),
            _ => Err(StatusCode::Failure.with_message("no such file handle")),
        }
    }
}

/// Where `path` lands under the canonical `root`, or `None` when it would leave it: through
/// `..`, as an absolute path elsewhere, or through a symlink (the SFTP subsystem and the
/// mock's `sha256sum` both go through here).
pub(super) async fn resolve_under(root: &Path, path: &str) -> Option<PathBuf> {
    let lexical = lexical_under(root, path)?;
    // A symlink on the way (or at the end) must not lead out either: the deepest part of
    // the path that exists is resolved and checked.
    let mut existing = lexical.as_path();
    loop {
        match tokio::fs::canonicalize(existing).await {
            Ok(real) if real.starts_with(root) => return Some(lexical),
            Ok(_) => return None,
            Err(_) => match existing.parent() {
                Some(parent) if parent.starts_with(root) => existing = parent,
                _ => return None,
            },
        }
    }
}

/// `path` joined to `root` with `.` and `..` taken lexically; `None` when it climbs above
/// the root or is absolute somewhere else.
fn lexical_under(root: &Path, path: &str) -> Option<PathBuf> {
    let given = Path::new(path);
    let relative = if given.is_absolute() {
        given.strip_prefix(root).ok()?
    } else {
        given
    };
    let mut out = root.to_path_buf();
    for component in relative.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if out == root {
                    return None;
                }
                out.pop();
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn escapes(path: &str) -> StatusReply {
    StatusCode::PermissionDenied.with_message(format!(
        "{path}: outside this mock host's directory (the mock serves only its own)"
    ))
}

/// An IO error as the status a client understands, with the OS's sentence.
fn io_status(e: std::io::Error) -> StatusReply {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        std::io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        std::io::ErrorKind::UnexpectedEof => StatusCode::Eof,
        _ => StatusCode::Failure,
    };
    code.with_message(e.to_string())
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".to_string(),
        language_tag: "en-US".to_string(),
    }
}

/// Sets what the client asked for of mode and times (uid/gid are not the mock's to change).
async fn apply_attrs(path: &Path, attrs: &FileAttributes) -> Result<(), StatusReply> {
    crate::ssh::sftp::keep_locally(path, attrs)
        .await
        .map_err(io_status)
}

impl russh_sftp::server::Handler for SftpHandler {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.with_message("not offered by the mock")
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let real = self.resolve(&path).await?;
        Ok(Name {
            id,
            files: vec![File::dummy(self.shown(&real))],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let real = self.resolve(&path).await?;
        let meta = tokio::fs::metadata(&real).await.map_err(io_status)?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&meta),
        })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let real = self.resolve(&path).await?;
        let meta = tokio::fs::symlink_metadata(&real)
            .await
            .map_err(io_status)?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&meta),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let meta = self.file(&handle)?.metadata().await.map_err(io_status)?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&meta),
        })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let real = self.resolve(&filename).await?;
        let mut options = tokio::fs::OpenOptions::from(std::fs::OpenOptions::from(pflags));
        if let Some(mode) = attrs.permissions {
            options.mode(mode & 0o7777);
        }
        let file = options.open(&real).await.map_err(io_status)?;
        let handle = self.add_handle(Opened::File(file))?;
        Ok(Handle { id, handle })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(Opened::File(mut file)) => {
                file.flush().await.map_err(io_status)?;
                Ok(ok(id))
            }
            Some(Opened::Dir(_)) => Ok(ok(id)),
            None => Err(StatusCode::Failure.with_message("no such handle")),
        }
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let file = self.file(&handle)?;
        file.seek(SeekFrom::Start(offset))
            .await
            .map_err(io_status)?;
        let mut data = vec![0; len.min(MAX_READ) as usize];
        let mut filled = 0;
        while filled < data.len() {
            match file.read(&mut data[filled..]).await.map_err(io_status)? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 && len > 0 {
            return Err(StatusCode::Eof.with_message("end of file"));
        }
        data.truncate(filled);
        Ok(Data { id, data })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let file = self.file(&handle)?;
        file.seek(SeekFrom::Start(offset))
            .await
            .map_err(io_status)?;
        file.write_all(&data).await.map_err(io_status)?;
        Ok(ok(id))
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let real = self.resolve(&path).await?;
        apply_attrs(&real, &attrs).await?;
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        use std::os::unix::fs::PermissionsExt;
        let file = self.file(&handle)?;
        if let Some(mode) = attrs.permissions {
            let permissions = std::fs::Permissions::from_mode(mode & 0o7777);
            file.set_permissions(permissions).await.map_err(io_status)?;
        }
        if let Some(times) = crate::ssh::sftp::file_times(&attrs) {
            let std_file = file.try_clone().await.map_err(io_status)?.into_std().await;
            tokio::task::spawn_blocking(move || std_file.set_times(times))
                .await
                .map_err(|e| StatusCode::Failure.with_message(e.to_string()))?
                .map_err(io_status)?;
        }
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let real = self.resolve(&path).await?;
        let mut entries = tokio::fs::read_dir(&real).await.map_err(io_status)?;
        let mut files = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(io_status)? {
            let meta = entry.metadata().await.map_err(io_status)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            files.push(File::new(name, FileAttributes::from(&meta)));
        }
        let handle = self.add_handle(Opened::Dir(Some(files)))?;
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Opened::Dir(entries)) => match entries.take() {
                Some(files) if !files.is_empty() => Ok(Name { id, files }),
                _ => Err(StatusCode::Eof.with_message("no more entries")),
            },
            _ => Err(StatusCode::Failure.with_message("no such directory handle")),
        }
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let real = self.resolve(&path).await?;
        tokio::fs::create_dir(&real).await.map_err(io_status)?;
        if attrs.permissions.is_some() {
            apply_attrs(&real, &attrs).await?;
        }
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        let real = self.resolve(&path).await?;
        tokio::fs::remove_dir(&real).await.map_err(io_status)?;
        Ok(ok(id))
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let real = self.resolve(&filename).await?;
        tokio::fs::remove_file(&real).await.map_err(io_status)?;
        Ok(ok(id))
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let from = self.resolve(&oldpath).await?;
        let to = self.resolve(&newpath).await?;
        tokio::fs::rename(&from, &to).await.map_err(io_status)?;
        Ok(ok(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_paths_stay_under_the_root() {
        let root = Path::new("/srv/mock-01");
        let under = |p: &str| lexical_under(root, p);
        assert_eq!(under("a/b"), Some(root.join("a/b")));
        assert_eq!(under("./a/../b"), Some(root.join("b")));
        assert_eq!(under(""), Some(root.to_path_buf()));
        assert_eq!(under("/srv/mock-01/x"), Some(root.join("x")));
        assert_eq!(under(".."), None);
        assert_eq!(under("a/../../x"), None);
        assert_eq!(under("/etc/passwd"), None);
        assert_eq!(under("/srv/mock-01/../mock-02/x"), None);
    }

    #[tokio::test]
    async fn a_symlink_out_of_the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = host_root(dir.path(), "mock-01").await.unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        std::fs::create_dir(root.join("in")).unwrap();
        let handler = SftpHandler::new(root.clone());
        assert!(handler.resolve("in/new-file").await.is_ok());
        let refused = handler.resolve("out/new-file").await.unwrap_err();
        assert_eq!(refused.status_code, StatusCode::PermissionDenied);
        assert!(handler.resolve("out").await.is_err());
    }
}
