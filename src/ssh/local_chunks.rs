//! A local file read in request-sized chunks for SFTP writes, on the blocking pool; and the
//! reads a push shares between its hosts ([`SharedReads`]).
//!
//! Why not `tokio::fs::File` behind a `BufReader`: that copies every byte twice before it
//! reaches a request (tokio's own buffer, then the `BufReader`'s, then the chunk). Here one
//! positioned read per blocking-pool trip (about a megabyte) fills one buffer, and the
//! chunks are slices of it: the `Bytes` that [`super::sftp_client`] hands russh uncopied.
//!
//! Why share: every host of a push sends the same file. Read per host, the kernel copied the
//! file out of the page cache once per host, which was a fifth of a 50-host push's client
//! CPU. With [`SharedReads`], a trip is read once and every host takes the same `Bytes`,
//! kept until the last host has taken it or until the cache's budget pushes it out (a host
//! that falls that far behind reads for itself again).

use std::collections::{HashMap, VecDeque};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

/// Bytes read per blocking-pool trip (rounded to whole chunks, at least one).
const BYTES_PER_TRIP: usize = 1024 * 1024;

/// What a push's shared reads may hold at once, at most.
const SHARED_BUDGET: usize = 128 * 1024 * 1024;

/// One trip's chunks and whether the file ended in it.
#[derive(Clone)]
struct Trip {
    chunks: Vec<Bytes>,
    at_end: bool,
}

impl Trip {
    fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }
}

/// Which file (as it was when opened: a file changed since is another file), which chunk
/// size, which trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct TripKey {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    chunk: usize,
    trip: u64,
}

pub struct LocalChunks {
    file: Arc<std::fs::File>,
    /// The key of trip 0 of this file; `None` when nothing is shared.
    shared: Option<(SharedReads, TripKey)>,
    ready: VecDeque<Bytes>,
    chunk: usize,
    /// Chunks per trip.
    count: usize,
    trip: u64,
    at_end: bool,
}

impl LocalChunks {
    /// Opens `path` to be read in chunks of `chunk` bytes; `shared` lets other hosts' readers
    /// of the same file take the same reads.
    pub async fn open(
        path: &Path,
        chunk: usize,
        shared: Option<&SharedReads>,
    ) -> std::io::Result<Self> {
        let file = tokio::fs::File::open(path).await?.into_std().await;
        let chunk = chunk.max(1);
        let shared = match shared {
            Some(reads) => {
                let file = file.try_clone()?;
                let meta = tokio::task::spawn_blocking(move || file.metadata())
                    .await
                    .map_err(std::io::Error::other)??;
                let key = TripKey {
                    dev: meta.dev(),
                    ino: meta.ino(),
                    len: meta.len(),
                    mtime_ns: i128::from(meta.mtime()) * 1_000_000_000
                        + i128::from(meta.mtime_nsec()),
                    chunk,
                    trip: 0,
                };
                Some((reads.clone(), key))
            }
            None => None,
        };
        Ok(Self {
            file: Arc::new(file),
            shared,
            ready: VecDeque::new(),
            chunk,
            count: (BYTES_PER_TRIP / chunk).max(1),
            trip: 0,
            at_end: false,
        })
    }

    /// The next chunk: `chunk` bytes but the last, which is shorter (never empty); `None`
    /// at the end.
    pub async fn next(&mut self) -> std::io::Result<Option<Bytes>> {
        if self.ready.is_empty() && !self.at_end {
            let trip = self.read_trip().await?;
            self.ready.extend(trip.chunks);
            self.at_end = trip.at_end;
            self.trip += 1;
        }
        Ok(self.ready.pop_front())
    }

    async fn read_trip(&self) -> std::io::Result<Trip> {
        let (file, chunk, count) = (self.file.clone(), self.chunk, self.count);
        let offset = self.trip * (chunk * count) as u64;
        let read = move || async move {
            tokio::task::spawn_blocking(move || read_trip_at(&file, offset, chunk, count))
                .await
                .map_err(std::io::Error::other)?
        };
        match &self.shared {
            Some((reads, key)) => {
                let key = TripKey {
                    trip: self.trip,
                    ..*key
                };
                reads.get_or_read(key, read).await
            }
            None => read().await,
        }
    }
}

/// Up to `count` chunks of `chunk` bytes from `offset` (the last may be shorter), read into
/// one buffer and sliced; whether the file ended.
fn read_trip_at(
    file: &std::fs::File,
    offset: u64,
    chunk: usize,
    count: usize,
) -> std::io::Result<Trip> {
    let want = chunk * count;
    let mut buf = vec![0u8; want];
    let mut filled = 0;
    while filled < want {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    let all = Bytes::from(buf);
    let chunks = (0..filled)
        .step_by(chunk)
        .map(|at| all.slice(at..(at + chunk).min(filled)))
        .collect();
    Ok(Trip {
        chunks,
        at_end: filled < want,
    })
}

/// The trips of the files a push reads, shared by its `readers` hosts. Cheap to clone: the
/// clones share one cache.
#[derive(Clone)]
pub struct SharedReads(Arc<Mutex<Cache>>);

impl std::fmt::Debug for SharedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cache = self.lock();
        f.debug_struct("SharedReads")
            .field("readers", &cache.readers)
            .field("held", &cache.held)
            .finish()
    }
}

struct Cache {
    readers: usize,
    budget: usize,
    /// Bytes of the trips held.
    held: usize,
    trips: HashMap<TripKey, Slot>,
    /// Trips in the order they were first asked for: the oldest go first when over budget.
    order: VecDeque<TripKey>,
    /// How many readers have taken each trip that some have not, held or not: a trip read
    /// again for a reader that fell behind is kept only for the readers still to come.
    taken: HashMap<TripKey, usize>,
}

struct Slot {
    trip: Arc<tokio::sync::OnceCell<Trip>>,
    /// Readers that have not taken it yet.
    left: usize,
    /// Its size once read (0 before).
    bytes: usize,
}

impl SharedReads {
    /// Reads shared by `readers` hosts (each reads each trip once).
    pub fn new(readers: usize) -> Self {
        Self::with_budget(readers, SHARED_BUDGET)
    }

    fn with_budget(readers: usize, budget: usize) -> Self {
        SharedReads(Arc::new(Mutex::new(Cache {
            readers,
            budget,
            held: 0,
            trips: HashMap::new(),
            order: VecDeque::new(),
            taken: HashMap::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        // Never held across a panic that matters: the map stays usable as it is.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Trip `key`: the one another reader read or is reading, or `read` now. A reader
    /// takes each trip once; the last one's taking frees it.
    async fn get_or_read<F, Fut>(&self, key: TripKey, read: F) -> std::io::Result<Trip>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = std::io::Result<Trip>>,
    {
        let cell = {
            let mut guard = self.lock();
            let cache = &mut *guard;
            let readers = cache.readers;
            let taken = cache.taken.entry(key).or_insert(0);
            *taken += 1;
            let before = *taken - 1;
            if *taken >= readers {
                cache.taken.remove(&key);
            }
            let slot = cache.trips.entry(key).or_insert_with(|| {
                cache.order.push_back(key);
                Slot {
                    trip: Arc::new(tokio::sync::OnceCell::new()),
                    left: readers.saturating_sub(before),
                    bytes: 0,
                }
            });
            slot.left = slot.left.saturating_sub(1);
            let cell = slot.trip.clone();
            if slot.left == 0 {
                let bytes = slot.bytes;
                cache.trips.remove(&key);
                cache.held -= bytes;
                if cache.trips.is_empty() {
                    // Only keys already gone are left in it.
                    cache.order.clear();
                }
            }
            cell
        };
        // A failed read leaves the cell empty: the next reader tries again itself.
        let trip = cell.get_or_try_init(read).await?.clone();
        self.account(key, trip.len());
        Ok(trip)
    }

    /// Counts a trip just read against the budget, and lets the oldest go while over it.
    fn account(&self, key: TripKey, bytes: usize) {
        let mut cache = self.lock();
        match cache.trips.get_mut(&key) {
            Some(slot) if slot.bytes == 0 => slot.bytes = bytes,
            _ => return,
        }
        cache.held += bytes;
        while cache.held > cache.budget {
            let Some(oldest) = cache.order.pop_front() else {
                break;
            };
            if let Some(slot) = cache.trips.remove(&oldest) {
                cache.held -= slot.bytes;
            }
        }
        if cache.trips.is_empty() {
            cache.order.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn noise(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    async fn all_chunks(path: &Path, chunk: usize, shared: Option<&SharedReads>) -> Vec<Bytes> {
        let mut reader = LocalChunks::open(path, chunk, shared).await.unwrap();
        let mut out = Vec::new();
        while let Some(c) = reader.next().await.unwrap() {
            out.push(c);
        }
        out
    }

    async fn chunks_of(len: usize, chunk: usize) -> Vec<Bytes> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes = noise(len);
        std::fs::write(&path, &bytes).unwrap();
        let out = all_chunks(&path, chunk, None).await;
        assert_eq!(out.concat(), bytes, "len {len} chunk {chunk}");
        out
    }

    #[tokio::test]
    async fn chunks_cover_the_file_exactly() {
        assert!(chunks_of(0, 1000).await.is_empty());
        let sizes = |c: Vec<Bytes>| c.iter().map(Bytes::len).collect::<Vec<_>>();
        assert_eq!(sizes(chunks_of(1000, 1000).await), [1000]);
        assert_eq!(sizes(chunks_of(2500, 1000).await), [1000, 1000, 500]);
        // Across several blocking-pool trips, and with a chunk larger than a trip.
        let big = chunks_of(3 * BYTES_PER_TRIP + 17, 255 * 1024).await;
        assert!(big[..big.len() - 1].iter().all(|c| c.len() == 255 * 1024));
        assert_eq!(sizes(chunks_of(5, 2 * BYTES_PER_TRIP).await), [5]);
        // A file that ends exactly at a trip's end.
        assert_eq!(chunks_of(2 * BYTES_PER_TRIP, 1024).await.len(), 2048);
    }

    fn key(trip: u64) -> TripKey {
        TripKey {
            dev: 1,
            ino: 2,
            len: 3,
            mtime_ns: 4,
            chunk: 5,
            trip,
        }
    }

    /// `get_or_read` of `key`, counting the reads it makes in `reads`.
    async fn take(shared: &SharedReads, key: TripKey, reads: &AtomicUsize) -> Trip {
        shared
            .get_or_read(key, || async {
                reads.fetch_add(1, Ordering::Relaxed);
                Ok(Trip {
                    chunks: vec![Bytes::from(vec![key.trip as u8; 100])],
                    at_end: false,
                })
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_trip_is_read_once_for_every_reader_and_freed_by_the_last() {
        let shared = SharedReads::new(3);
        let reads = AtomicUsize::new(0);
        for _ in 0..3 {
            assert_eq!(&take(&shared, key(0), &reads).await.chunks[0][..], [0; 100]);
        }
        assert_eq!(reads.load(Ordering::Relaxed), 1);
        let cache = shared.lock();
        assert!(cache.trips.is_empty() && cache.held == 0 && cache.order.is_empty());
        assert!(cache.taken.is_empty());
    }

    #[tokio::test]
    async fn over_budget_the_oldest_trips_go_and_a_late_reader_reads_again() {
        // Room for two trips of 100 bytes: a reader far behind finds trip 0 gone.
        let shared = SharedReads::with_budget(2, 250);
        let reads = AtomicUsize::new(0);
        for trip in 0..3 {
            take(&shared, key(trip), &reads).await;
        }
        assert_eq!(reads.load(Ordering::Relaxed), 3);
        assert!(shared.lock().held <= 250);
        take(&shared, key(2), &reads).await;
        assert_eq!(reads.load(Ordering::Relaxed), 3, "trip 2 was still held");
        take(&shared, key(0), &reads).await;
        assert_eq!(reads.load(Ordering::Relaxed), 4, "trip 0 had to go");
        // Read again for the last of its two readers, it is not kept for anyone.
        assert!(!shared.lock().trips.contains_key(&key(0)));
        assert!(!shared.lock().taken.contains_key(&key(0)));
    }

    #[tokio::test]
    async fn readers_of_one_file_share_its_reads_and_a_changed_file_is_not_mixed_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let first = noise(3 * BYTES_PER_TRIP + 1);
        std::fs::write(&path, &first).unwrap();
        let shared = SharedReads::new(3);
        let a = all_chunks(&path, 32 * 1024, Some(&shared)).await;
        let b = all_chunks(&path, 32 * 1024, Some(&shared)).await;
        assert_eq!(a.concat(), first);
        assert_eq!(b.concat(), first);
        // The same memory, not a second read.
        assert!(a.iter().zip(&b).all(|(x, y)| x.as_ptr() == y.as_ptr()));
        // Rewritten (another size, another time): the third reader reads what is there now.
        let second = noise(1000);
        std::fs::write(&path, &second).unwrap();
        let then = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(then)
            .unwrap();
        let c = all_chunks(&path, 32 * 1024, Some(&shared)).await;
        assert_eq!(c.concat(), second);
    }
}
