//! [`TtsCache`]: synthesised sentences kept on disk, bounded in size.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use voicebot_media::Prompt;

/// The first bytes of every cache file (format version 1).
const MAGIC: &[u8; 7] = b"VBTTS1\n";
/// Cache files end in this.
const EXTENSION: &str = "tts";
/// Eviction frees down to this share of the limit, so it does not run on every insert.
const EVICT_TO_PERCENT: u64 = 80;

/// A folder of synthesised audio (8 kHz samples), one file per (engine, voice, text), bounded
/// in size: once the files pass `max_bytes`, the least recently used go.
///
/// Each file holds its full key as well as the audio, so a hash collision or a file from
/// another engine is a miss, never the wrong words. The cache is an optimisation: a file that
/// cannot be read or written is a miss (counted in [`TtsCache::counts`]), never an error for
/// the call. Methods do blocking I/O; call them off the async runtime.
#[derive(Debug, Clone)]
pub struct TtsCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    max_bytes: u64,
    /// Bytes the files take, as far as this process knows (scanned at open).
    used_bytes: Mutex<u64>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    errors: AtomicU64,
}

/// What a [`TtsCache`] has done since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheCounts {
    /// Lookups answered from disk.
    pub hits: u64,
    /// Lookups that found nothing usable.
    pub misses: u64,
    /// Files removed to stay within the size limit.
    pub evictions: u64,
    /// Files that could not be read, written or removed.
    pub errors: u64,
}

impl TtsCache {
    /// Opens (creating it if needed) the cache folder `dir`, holding at most `max_bytes`.
    ///
    /// # Errors
    /// The I/O error when the folder cannot be created or read.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        let used: u64 = cache_files(&dir)?.iter().map(|file| file.bytes).sum();
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                max_bytes,
                used_bytes: Mutex::new(used),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                evictions: AtomicU64::new(0),
                errors: AtomicU64::new(0),
            }),
        })
    }

    /// The cache folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The cached audio of `key`, if any. Marks it recently used.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<Prompt> {
        let path = self.path(key);
        let found = match fs::read(&path) {
            Ok(bytes) => decode(&bytes, key),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(_) => {
                self.count(&self.inner.errors);
                None
            }
        };
        match found {
            Some(prompt) => {
                self.count(&self.inner.hits);
                // The access time is what eviction goes by; failing to set it only makes
                // this file look older.
                let _ = fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|file| file.set_modified(SystemTime::now()));
                Some(prompt)
            }
            None => {
                self.count(&self.inner.misses);
                None
            }
        }
    }

    /// Stores the audio of `key`, then evicts the least recently used files if the cache is
    /// over its size. A write that fails is counted and otherwise ignored.
    pub fn put(&self, key: &str, prompt: &Prompt) {
        let bytes = encode(key, prompt);
        if bytes.len() as u64 > self.inner.max_bytes {
            return;
        }
        let path = self.path(key);
        // Written aside and renamed, so a reader never sees half a file.
        let temporary = path.with_extension(format!("{}.tmp", crate::staging::unique_suffix()));
        let written = fs::File::create(&temporary)
            .and_then(|mut file| file.write_all(&bytes))
            .and_then(|()| fs::rename(&temporary, &path));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
            self.count(&self.inner.errors);
            return;
        }
        let over = {
            let mut used = self.lock_used();
            *used += bytes.len() as u64;
            *used > self.inner.max_bytes
        };
        if over {
            self.evict();
        }
    }

    /// What the cache has done so far.
    #[must_use]
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
            evictions: self.inner.evictions.load(Ordering::Relaxed),
            errors: self.inner.errors.load(Ordering::Relaxed),
        }
    }

    /// Removes the least recently used files until the folder is at most 80% of the limit.
    fn evict(&self) {
        let mut used = self.lock_used();
        let Ok(mut files) = cache_files(&self.inner.dir) else {
            self.count(&self.inner.errors);
            return;
        };
        // Rescanned rather than trusted: other processes may share the folder.
        *used = files.iter().map(|file| file.bytes).sum();
        files.sort_by_key(|file| file.used_at);
        let target = self.inner.max_bytes / 100 * EVICT_TO_PERCENT;
        for file in files {
            if *used <= target {
                break;
            }
            match fs::remove_file(&file.path) {
                Ok(()) => {
                    *used -= file.bytes;
                    self.count(&self.inner.evictions);
                }
                Err(_) => self.count(&self.inner.errors),
            }
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.inner
            .dir
            .join(format!("{:016x}.{EXTENSION}", fnv1a64(key.as_bytes())))
    }

    fn lock_used(&self) -> std::sync::MutexGuard<'_, u64> {
        // A counter cannot be left half-updated.
        self.inner
            .used_bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

struct CacheFile {
    path: PathBuf,
    bytes: u64,
    used_at: SystemTime,
}

fn cache_files(dir: &Path) -> io::Result<Vec<CacheFile>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path
            .extension()
            .is_none_or(|extension| extension != EXTENSION)
        {
            continue;
        }
        // A file removed meanwhile (another process evicting) is skipped.
        if let Ok(metadata) = entry.metadata() {
            files.push(CacheFile {
                path,
                bytes: metadata.len(),
                used_at: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
    }
    Ok(files)
}

fn encode(key: &str, prompt: &Prompt) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(MAGIC.len() + 4 + key.len() + prompt.len_samples() * 2);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(key.len() as u32).to_le_bytes());
    bytes.extend_from_slice(key.as_bytes());
    for sample in prompt.samples() {
        bytes.extend_from_slice(&sample.to_le_bytes());
    }
    bytes
}

/// The audio in `bytes` if it is a cache file for exactly `key`.
fn decode(bytes: &[u8], key: &str) -> Option<Prompt> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (length, rest) = rest.split_first_chunk::<4>()?;
    let length = u32::from_le_bytes(*length) as usize;
    let (stored_key, audio) = (rest.get(..length)?, rest.get(length..)?);
    if stored_key != key.as_bytes() {
        return None;
    }
    Prompt::from_pcm(audio).ok()
}

/// FNV-1a, 64-bit: a hash that stays the same across Rust releases, so file names do too.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(len: usize, value: i16) -> Prompt {
        Prompt::from_samples(vec![value; len]).unwrap()
    }

    #[test]
    fn what_is_put_comes_back_for_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TtsCache::open(dir.path(), 1 << 20).unwrap();
        assert!(cache.get("espeak|en-us|Hello.").is_none());
        cache.put("espeak|en-us|Hello.", &prompt(800, 7));
        assert_eq!(cache.get("espeak|en-us|Hello.").unwrap(), prompt(800, 7));
        assert!(cache.get("espeak|en-gb|Hello.").is_none());
        // Reopened (a restart): still there.
        let reopened = TtsCache::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(
            reopened.get("espeak|en-us|Hello.").unwrap().len_samples(),
            800
        );
        assert_eq!(cache.counts().hits, 1);
        assert_eq!(cache.counts().misses, 2);
    }

    /// Calls that synthesise the same announcement at once store it at once: every store
    /// succeeds (with one staging name per process, one rename took the file of another).
    #[test]
    fn threads_storing_the_same_key_at_once_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TtsCache::open(dir.path(), 1 << 24).unwrap();
        for round in 0..20 {
            let key = format!("espeak|en-us|Welcome {round}.");
            let barrier = std::sync::Barrier::new(8);
            std::thread::scope(|scope| {
                for _ in 0..8 {
                    scope.spawn(|| {
                        barrier.wait();
                        cache.put(&key, &prompt(800, 3));
                    });
                }
            });
            assert_eq!(cache.counts().errors, 0, "round {round}");
            assert_eq!(cache.get(&key).unwrap(), prompt(800, 3));
        }
    }

    #[test]
    fn a_file_holding_another_key_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TtsCache::open(dir.path(), 1 << 20).unwrap();
        cache.put("a", &prompt(10, 1));
        // Pretend "b" hashed to the file of "a".
        let file_of_a = cache.path("a");
        fs::rename(&file_of_a, cache.path("b")).unwrap();
        assert!(cache.get("b").is_none());
        fs::write(cache.path("c"), b"garbage").unwrap();
        assert!(cache.get("c").is_none());
    }

    #[test]
    fn the_least_recently_used_files_go_when_it_is_full() {
        let dir = tempfile::tempdir().unwrap();
        // Each entry is a little over 16 kB: three fit in 50 kB, four do not.
        let cache = TtsCache::open(dir.path(), 50_000).unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for (index, key) in ["one", "two", "three"].into_iter().enumerate() {
            cache.put(key, &prompt(8_000, 1));
            let age = old + std::time::Duration::from_secs(index as u64 * 60);
            fs::File::options()
                .append(true)
                .open(cache.path(key))
                .unwrap()
                .set_modified(age)
                .unwrap();
        }
        // "one" was used last, so "two" and "three" are the oldest.
        assert!(cache.get("one").is_some());
        cache.put("four", &prompt(8_000, 1));
        assert!(cache.get("two").is_none(), "least recently used");
        assert!(cache.get("four").is_some());
        assert!(cache.get("one").is_some());
        assert!(cache.counts().evictions >= 1);
        let total: u64 = cache_files(dir.path())
            .unwrap()
            .iter()
            .map(|f| f.bytes)
            .sum();
        assert!(total <= 50_000, "{total} bytes on disk");
    }

    #[test]
    fn an_entry_larger_than_the_whole_cache_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TtsCache::open(dir.path(), 1_000).unwrap();
        cache.put("big", &prompt(8_000, 1));
        assert!(cache.get("big").is_none());
        assert!(cache_files(dir.path()).unwrap().is_empty());
    }
}
