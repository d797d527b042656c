//! A process-wide prompt cache: each key is loaded by one caller at a time while the others wait
//! for its result, and the cache holds at most a set number of bytes of audio, evicting the least
//! recently used prompts first.

use std::{
    collections::HashMap,
    hash::Hash,
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
};

use super::Prompt;
use crate::error::PromptError;

/// Loads each prompt once and hands out shared copies. Cheap to clone (shares the map).
///
/// Keyed by file path by default; other sources of audio (text-to-speech, say) key it by what
/// they render and load it with [`PromptCache::get_or_load`], with their own error type `E`.
///
/// - **One load per key at a time.** The first caller of a key loads it; callers arriving
///   meanwhile block until it is done and share its result, prompt or error. Loading happens
///   outside the map's lock, so other keys are served meanwhile. Call it from a thread that may
///   block (in async code, the blocking pool).
/// - **Failures are not kept**: the next caller after a failure tries again, so a prompt fixed on
///   disk loads.
/// - **Bounded in bytes** (2 per sample): past [`PromptCache::capacity_bytes`] the least recently
///   used prompts are dropped (calls playing them keep their copy). A prompt larger than the whole
///   capacity is returned but not kept.
pub struct PromptCache<K = PathBuf, E = PromptError> {
    shared: Arc<Shared<K, E>>,
}

/// Counters of a [`PromptCache`] since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups served from memory, including callers that waited for another's load.
    pub hits: u64,
    /// Loads run (decodes, for files), successful or not.
    pub loads: u64,
    /// Prompts dropped to stay within the byte bound.
    pub evictions: u64,
    /// Prompts held now.
    pub entries: usize,
    /// Bytes of audio held now.
    pub bytes: u64,
}

struct Shared<K, E> {
    state: Mutex<State<K, E>>,
    capacity_bytes: u64,
}

struct State<K, E> {
    entries: HashMap<K, Entry<E>>,
    /// Bumped on every use; an entry's stamp says when it was last used.
    clock: u64,
    stats: CacheStats,
}

enum Entry<E> {
    Ready { prompt: Prompt, last_used: u64 },
    Loading(Arc<Pending<E>>),
}

/// A load in progress that other callers wait on.
struct Pending<E> {
    outcome: Mutex<Outcome<E>>,
    done: Condvar,
    #[cfg(test)]
    waiters: std::sync::atomic::AtomicUsize,
}

enum Outcome<E> {
    Loading,
    Loaded(Result<Prompt, E>),
    /// The loader panicked: waiters try again themselves.
    Abandoned,
}

impl PromptCache {
    /// The default byte bound: 64 MiB, about 70 minutes of 8 kHz audio.
    pub const DEFAULT_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

    /// An empty cache of files holding at most [`Self::DEFAULT_CAPACITY_BYTES`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity_bytes(Self::DEFAULT_CAPACITY_BYTES)
    }

    /// The prompt at `path`, loading it with [`Prompt::load`] on first use.
    ///
    /// # Errors
    /// As [`Prompt::load`].
    pub fn get(&self, path: impl AsRef<Path>) -> Result<Prompt, PromptError> {
        let path = path.as_ref();
        self.get_or_load(&path.to_owned(), || Prompt::load(path))
    }
}

impl Default for PromptCache {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, E> PromptCache<K, E>
where
    K: Eq + Hash + Clone,
    E: Clone,
{
    /// An empty cache holding at most `capacity_bytes` of audio.
    #[must_use]
    pub fn with_capacity_bytes(capacity_bytes: u64) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    entries: HashMap::new(),
                    clock: 0,
                    stats: CacheStats::default(),
                }),
                capacity_bytes,
            }),
        }
    }

    /// The prompt for `key`: from memory, or from another caller's load of it in progress (this
    /// call blocks until that is done), or from `load`, run on this thread.
    ///
    /// # Errors
    /// `load`'s error, for this caller and those that waited for it.
    pub fn get_or_load<F>(&self, key: &K, load: F) -> Result<Prompt, E>
    where
        F: FnOnce() -> Result<Prompt, E>,
    {
        let mut load = Some(load);
        loop {
            let pending = {
                let mut state = self.lock();
                state.clock += 1;
                let now = state.clock;
                match state.entries.get_mut(key) {
                    Some(Entry::Ready { prompt, last_used }) => {
                        *last_used = now;
                        let prompt = prompt.clone();
                        state.stats.hits += 1;
                        return Ok(prompt);
                    }
                    Some(Entry::Loading(pending)) => Arc::clone(pending),
                    None => {
                        let pending = Arc::new(Pending::new());
                        state
                            .entries
                            .insert(key.clone(), Entry::Loading(Arc::clone(&pending)));
                        state.stats.loads += 1;
                        drop(state);
                        let load = load.take().expect("a caller loads at most once");
                        return self.load(key, &pending, load);
                    }
                }
            };
            match pending.wait() {
                Some(Ok(prompt)) => {
                    self.lock().stats.hits += 1;
                    return Ok(prompt);
                }
                Some(Err(error)) => return Err(error),
                // The loader panicked and removed its entry: try again (as loader, perhaps).
                None => {}
            }
        }
    }

    /// Runs `load` for `key`, whose entry is `pending`, and publishes the outcome.
    fn load<F>(&self, key: &K, pending: &Arc<Pending<E>>, load: F) -> Result<Prompt, E>
    where
        F: FnOnce() -> Result<Prompt, E>,
    {
        // Waiters must hear of a panicking loader, or they would wait for ever.
        let mut guard = AbandonOnDrop {
            cache: self,
            key,
            pending,
            armed: true,
        };
        let result = load();
        guard.armed = false;
        {
            let mut state = self.lock();
            match &result {
                Ok(prompt) => self.keep(&mut state, key, prompt),
                Err(_) => {
                    state.entries.remove(key);
                }
            }
        }
        pending.finish(Outcome::Loaded(result.clone()));
        result
    }

    /// Stores a loaded prompt in place of its pending entry, then evicts to stay in bounds.
    fn keep(&self, state: &mut State<K, E>, key: &K, prompt: &Prompt) {
        let size = prompt_bytes(prompt);
        if size > self.shared.capacity_bytes {
            state.entries.remove(key);
            return;
        }
        state.clock += 1;
        let last_used = state.clock;
        state.entries.insert(
            key.clone(),
            Entry::Ready {
                prompt: prompt.clone(),
                last_used,
            },
        );
        state.stats.bytes += size;
        state.stats.entries += 1;
        while state.stats.bytes > self.shared.capacity_bytes {
            // A linear scan: caches hold tens or hundreds of prompts, and this runs once per
            // load, never per lookup.
            let oldest = state
                .entries
                .iter()
                .filter_map(|(key, entry)| match entry {
                    Entry::Ready { last_used, .. } => Some((*last_used, key)),
                    Entry::Loading(_) => None,
                })
                .min_by_key(|(last_used, _)| *last_used)
                .map(|(_, key)| key.clone());
            let Some(oldest) = oldest else { break };
            if let Some(Entry::Ready { prompt, .. }) = state.entries.remove(&oldest) {
                state.stats.bytes -= prompt_bytes(&prompt);
                state.stats.entries -= 1;
                state.stats.evictions += 1;
            }
        }
    }

    /// Prompts held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().stats.entries
    }

    /// Whether the cache holds no prompt.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The byte bound.
    #[must_use]
    pub fn capacity_bytes(&self) -> u64 {
        self.shared.capacity_bytes
    }

    /// Counters since the cache was made.
    #[must_use]
    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }

    /// Drops every cached prompt (calls holding one keep theirs; loads in progress finish).
    pub fn clear(&self) {
        let mut state = self.lock();
        state
            .entries
            .retain(|_, entry| matches!(entry, Entry::Loading(_)));
        state.stats.bytes = 0;
        state.stats.entries = 0;
    }

    fn lock(&self) -> MutexGuard<'_, State<K, E>> {
        // Every update leaves the map consistent before anything that can panic runs, so a
        // poisoned lock is still safe to use.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Callers blocked on the load of `key` in progress (for tests of the waiting).
    #[cfg(test)]
    pub(crate) fn waiters(&self, key: &K) -> usize {
        match self.lock().entries.get(key) {
            Some(Entry::Loading(pending)) => {
                pending.waiters.load(std::sync::atomic::Ordering::SeqCst)
            }
            _ => 0,
        }
    }
}

impl<K, E> Clone for PromptCache<K, E> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K, E> std::fmt::Debug for PromptCache<K, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stats = self
            .shared
            .state
            .lock()
            .map(|state| state.stats)
            .unwrap_or_default();
        f.debug_struct("PromptCache")
            .field("capacity_bytes", &self.shared.capacity_bytes)
            .field("stats", &stats)
            .finish()
    }
}

impl<E: Clone> Pending<E> {
    fn new() -> Self {
        Self {
            outcome: Mutex::new(Outcome::Loading),
            done: Condvar::new(),
            #[cfg(test)]
            waiters: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Blocks until the load is done; `None` if it was abandoned.
    fn wait(&self) -> Option<Result<Prompt, E>> {
        #[cfg(test)]
        self.waiters
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &*outcome {
                Outcome::Loading => {
                    outcome = self
                        .done
                        .wait(outcome)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Outcome::Loaded(result) => return Some(result.clone()),
                Outcome::Abandoned => return None,
            }
        }
    }

    fn finish(&self, result: Outcome<E>) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = result;
        self.done.notify_all();
    }
}

/// Removes the pending entry and wakes its waiters if the loader unwinds.
struct AbandonOnDrop<'a, K, E>
where
    K: Eq + Hash + Clone,
    E: Clone,
{
    cache: &'a PromptCache<K, E>,
    key: &'a K,
    pending: &'a Arc<Pending<E>>,
    armed: bool,
}

impl<K, E> Drop for AbandonOnDrop<'_, K, E>
where
    K: Eq + Hash + Clone,
    E: Clone,
{
    fn drop(&mut self) {
        if self.armed {
            self.cache.lock().entries.remove(self.key);
            self.pending.finish(Outcome::Abandoned);
        }
    }
}

fn prompt_bytes(prompt: &Prompt) -> u64 {
    prompt.len_samples() as u64 * 2
}

#[cfg(test)]
mod tests;
