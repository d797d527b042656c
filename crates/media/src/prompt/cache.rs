//! A process-wide prompt cache: each file is decoded once and then shared.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use super::Prompt;
use crate::error::Result;

/// Loads each prompt file once and hands out shared copies. Cheap to clone (shares the map).
///
/// Failed loads are not cached, so a prompt fixed on disk loads on the next try. Loading happens
/// under no lock, so two calls racing on a new file may both decode it; the first to finish wins.
#[derive(Debug, Clone, Default)]
pub struct PromptCache {
    prompts: Arc<Mutex<HashMap<PathBuf, Prompt>>>,
}

impl PromptCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The prompt at `path`, loading it on first use.
    ///
    /// # Errors
    /// As [`Prompt::load`].
    pub fn get(&self, path: impl AsRef<Path>) -> Result<Prompt> {
        let path = path.as_ref();
        if let Some(prompt) = self.lock().get(path) {
            return Ok(prompt.clone());
        }
        // Decode outside the lock: a slow file must not stall other calls' lookups.
        let prompt = Prompt::load(path)?;
        Ok(self.lock().entry(path.to_owned()).or_insert(prompt).clone())
    }

    /// Prompts held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Drops every cached prompt (calls holding one keep theirs).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Prompt>> {
        // A panic while holding the lock cannot leave the map half-updated (single inserts), so
        // a poisoned lock is still safe to use.
        self.prompts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
