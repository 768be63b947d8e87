//! A local file written from SFTP READ answers (`pull`), on the blocking pool.
//!
//! Why not `tokio::fs::File` behind a `BufWriter`: that copied every byte twice before the
//! kernel (the `BufWriter`'s buffer, then tokio's own), and the kernel then copied it once
//! more into fresh page-cache pages: at 50 hosts that last copy alone was nearly half of a
//! pull's client CPU (`perf`: `copy_folio_from_iter_atomic` 47 %, see docs/BENCHMARKS.md).
//! Here the answers are copied once, into one of two reused page-aligned blocks, and each
//! full block is written with `O_DIRECT` when the file system takes it: the device reads
//! the block itself, with no page-cache copy. The unaligned tail of the file, and every
//! write on a file system that refuses `O_DIRECT` (at open, or `EINVAL` at a write), go
//! through an ordinary descriptor of the same file. One block is written on the blocking
//! pool while the other fills, so the disk and the network overlap.

use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use tokio::task::JoinHandle;

/// The alignment `O_DIRECT` asks of the buffer, the offset and the length: the page size,
/// which is also a multiple of every common logical block size (512, 4096).
const ALIGN: usize = 4096;

/// Bytes per block (a multiple of [`ALIGN`]): one blocking-pool trip per megabyte, as the
/// buffered writer it replaces.
const BLOCK: usize = 1024 * 1024;

/// The file's two descriptors.
struct Files {
    buffered: std::fs::File,
    /// The same file with `O_DIRECT`; `None` when the file system refuses it.
    direct: Option<std::fs::File>,
}

/// A page-aligned window of `BLOCK` bytes inside a `Vec` (so no `unsafe` allocation).
struct Block {
    bytes: Vec<u8>,
    start: usize,
    len: usize,
}

impl Block {
    fn new(size: usize) -> Block {
        let bytes = vec![0u8; size + ALIGN];
        let start = bytes.as_ptr().align_offset(ALIGN).min(ALIGN);
        Block {
            bytes,
            start,
            len: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.bytes.len() - ALIGN
    }

    fn filled(&self) -> &[u8] {
        self.bytes
            .get(self.start..self.start + self.len)
            .unwrap_or_default()
    }

    /// Copies as much of `data` as fits; how much that was.
    fn fill(&mut self, data: &[u8]) -> usize {
        let room = self.capacity() - self.len;
        let take = room.min(data.len());
        let at = self.start + self.len;
        if let (Some(to), Some(from)) = (self.bytes.get_mut(at..at + take), data.get(..take)) {
            to.copy_from_slice(from);
            self.len += take;
            take
        } else {
            0
        }
    }
}

/// What a trip gives back: the descriptors and the emptied block.
type Trip = JoinHandle<std::io::Result<(Files, Block)>>;

pub struct LocalWriter {
    /// `None` while a trip has them.
    files: Option<Files>,
    trip: Option<Trip>,
    filling: Block,
    spare: Option<Block>,
    /// The file offset where `filling` starts.
    at: u64,
}

impl LocalWriter {
    /// Creates `path` (it must not exist yet) for writing.
    pub async fn create(path: &Path) -> std::io::Result<LocalWriter> {
        Self::create_with(path, true, BLOCK).await
    }

    /// `direct: false` never tries `O_DIRECT` (tests of the other path).
    async fn create_with(path: &Path, direct: bool, block: usize) -> std::io::Result<Self> {
        let path = path.to_path_buf();
        let files = tokio::task::spawn_blocking(move || {
            let buffered = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
            // A second descriptor, since O_DIRECT on the creating open would make a file
            // system that refuses it fail the create; a refusal here only costs the copy.
            let direct = direct
                .then(|| {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .custom_flags(libc::O_DIRECT)
                        .open(&path)
                        .ok()
                })
                .flatten();
            Ok::<_, std::io::Error>(Files { buffered, direct })
        })
        .await
        .map_err(std::io::Error::other)??;
        let block = (block / ALIGN).max(1) * ALIGN;
        Ok(LocalWriter {
            files: Some(files),
            trip: None,
            filling: Block::new(block),
            spare: None,
            at: 0,
        })
    }

    /// Whether the file is being written with `O_DIRECT` (for tests).
    #[cfg(test)]
    fn is_direct(&self) -> bool {
        self.files.as_ref().is_some_and(|f| f.direct.is_some())
    }

    /// Appends `data`.
    pub async fn write(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            let took = self.filling.fill(data);
            data = data.get(took..).unwrap_or_default();
            if self.filling.len == self.filling.capacity() {
                self.send_block().await?;
            }
        }
        Ok(())
    }

    /// Writes what is left and syncs the file to disk (before its rename, so a crash never
    /// leaves a short file under the final name).
    pub async fn finish(mut self) -> std::io::Result<()> {
        self.send_block().await?;
        let files = self.take_files().await?;
        tokio::task::spawn_blocking(move || files.buffered.sync_all())
            .await
            .map_err(std::io::Error::other)?
    }

    /// The descriptors, once the trip under way (if any) is back.
    async fn take_files(&mut self) -> std::io::Result<Files> {
        if let Some(trip) = self.trip.take() {
            let (files, block) = trip.await.map_err(std::io::Error::other)??;
            self.files = Some(files);
            self.spare = Some(block);
        }
        self.files
            .take()
            .ok_or_else(|| std::io::Error::other("local file writer lost its descriptors"))
    }

    /// Starts a trip writing the filled block; the next one fills meanwhile.
    async fn send_block(&mut self) -> std::io::Result<()> {
        if self.filling.len == 0 {
            return Ok(());
        }
        let files = self.take_files().await?;
        let mut next = self
            .spare
            .take()
            .unwrap_or_else(|| Block::new(self.filling.capacity()));
        next.len = 0;
        let block = std::mem::replace(&mut self.filling, next);
        let at = self.at;
        self.at += block.len as u64;
        self.trip = Some(tokio::task::spawn_blocking(move || {
            write_block(files, block, at)
        }));
        Ok(())
    }
}

/// Writes a block at `at`: its aligned part through the direct descriptor when there is
/// one, the rest (or all of it) through the buffered one.
fn write_block(mut files: Files, block: Block, at: u64) -> std::io::Result<(Files, Block)> {
    let data = block.filled();
    let mut done = 0;
    if let Some(direct) = &files.direct {
        let aligned = data.len() / ALIGN * ALIGN;
        match data
            .get(..aligned)
            .map(|part| direct.write_all_at(part, at))
        {
            Some(Ok(())) => done = aligned,
            // The file system wants another alignment (or none): from here on, buffered;
            // what the failed write may have written is written again, the same bytes.
            Some(Err(e)) if e.raw_os_error() == Some(libc::EINVAL) => files.direct = None,
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    if let Some(rest) = data.get(done..)
        && !rest.is_empty()
    {
        files.buffered.write_all_at(rest, at + done as u64)?;
    }
    Ok((files, block))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// Writes `len` bytes in pieces of `piece` and reads the file back.
    async fn round_trip(len: usize, piece: usize, direct: bool, block: usize) -> bool {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes = pattern(len);
        let mut writer = LocalWriter::create_with(&path, direct, block)
            .await
            .unwrap();
        let used_direct = writer.is_direct();
        for part in bytes.chunks(piece.max(1)) {
            writer.write(part).await.unwrap();
        }
        writer.finish().await.unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "len {len} piece {piece}"
        );
        used_direct
    }

    #[tokio::test]
    async fn the_file_holds_exactly_the_bytes_written() {
        for direct in [true, false] {
            for (len, piece) in [
                (0, 1),
                (1, 1),
                (ALIGN - 1, 100),
                (ALIGN, ALIGN),
                (ALIGN + 1, 255 * 1024),
                (3 * ALIGN + 5, 1000),
                (3 * BLOCK + 17, 255 * 1024),
                (BLOCK, 32 * 1024),
            ] {
                let used = round_trip(len, piece, direct, BLOCK).await;
                assert!(direct || !used, "O_DIRECT used though not asked for");
            }
        }
        // Small blocks: many trips, each block's tail aligned or not.
        round_trip(10 * ALIGN + 3, 777, true, ALIGN).await;
    }

    #[tokio::test]
    async fn an_existing_file_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"keep").unwrap();
        assert!(LocalWriter::create(&path).await.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"keep");
    }

    #[test]
    fn blocks_are_page_aligned() {
        for _ in 0..4 {
            let block = Block::new(BLOCK);
            assert_eq!(block.filled().as_ptr() as usize % ALIGN, 0);
            assert_eq!(block.capacity(), BLOCK);
        }
    }
}
