//! A local file read in request-sized chunks for SFTP writes, on the blocking pool.
//!
//! Why not `tokio::fs::File` behind a `BufReader`: that copies every byte twice before it
//! reaches a request (tokio's own buffer, then the `BufReader`'s, then the chunk), and those
//! copies were a tenth of a push's client CPU. Here the kernel reads straight into the
//! `Vec` that becomes the request (russh-sftp's `write` takes the `Vec` by value), and one
//! blocking-pool trip reads about a megabyte of chunks so the trips stay as few as before.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

/// Bytes read per blocking-pool trip (rounded to whole chunks, at least one).
const BYTES_PER_TRIP: usize = 1024 * 1024;

pub struct LocalChunks {
    /// `None` while a trip has it, or once the end is reached.
    file: Option<std::fs::File>,
    ready: VecDeque<Vec<u8>>,
    chunk: usize,
}

impl LocalChunks {
    pub async fn open(path: &Path, chunk: usize) -> std::io::Result<Self> {
        let file = tokio::fs::File::open(path).await?.into_std().await;
        Ok(Self {
            file: Some(file),
            ready: VecDeque::new(),
            chunk: chunk.max(1),
        })
    }

    /// The next chunk: `chunk` bytes but the last, which is shorter (never empty); `None`
    /// at the end.
    pub async fn next(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if self.ready.is_empty()
            && let Some(file) = self.file.take()
        {
            let (chunk, count) = (self.chunk, (BYTES_PER_TRIP / self.chunk).max(1));
            let (file, chunks, at_end) =
                tokio::task::spawn_blocking(move || read_chunks(file, chunk, count))
                    .await
                    .map_err(std::io::Error::other)??;
            self.ready.extend(chunks);
            if !at_end {
                self.file = Some(file);
            }
        }
        Ok(self.ready.pop_front())
    }
}

/// Up to `count` chunks of `chunk` bytes (the last may be shorter); whether the file ended.
fn read_chunks(
    mut file: std::fs::File,
    chunk: usize,
    count: usize,
) -> std::io::Result<(std::fs::File, Vec<Vec<u8>>, bool)> {
    let mut chunks = Vec::with_capacity(count);
    for _ in 0..count {
        let mut data = Vec::with_capacity(chunk);
        (&mut file).take(chunk as u64).read_to_end(&mut data)?;
        let short = data.len() < chunk;
        if !data.is_empty() {
            chunks.push(data);
        }
        if short {
            return Ok((file, chunks, true));
        }
    }
    Ok((file, chunks, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all_chunks(len: usize, chunk: usize) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut reader = LocalChunks::open(&path, chunk).await.unwrap();
        let mut out = Vec::new();
        while let Some(c) = reader.next().await.unwrap() {
            out.push(c);
        }
        assert_eq!(out.concat(), bytes, "len {len} chunk {chunk}");
        out
    }

    #[tokio::test]
    async fn chunks_cover_the_file_exactly() {
        assert!(all_chunks(0, 1000).await.is_empty());
        let sizes = |c: Vec<Vec<u8>>| c.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(sizes(all_chunks(1000, 1000).await), [1000]);
        assert_eq!(sizes(all_chunks(2500, 1000).await), [1000, 1000, 500]);
        // Across several blocking-pool trips, and with a chunk larger than a trip.
        let big = all_chunks(3 * BYTES_PER_TRIP + 17, 255 * 1024).await;
        assert!(big[..big.len() - 1].iter().all(|c| c.len() == 255 * 1024));
        assert_eq!(sizes(all_chunks(5, 2 * BYTES_PER_TRIP).await), [5]);
    }
}
