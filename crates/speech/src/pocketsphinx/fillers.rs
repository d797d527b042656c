//! Rejection for menu grammars: a filler dictionary of common English words and of single
//! phones, so that speech
//! off the menu is taken by fillers rather than forced onto a menu phrase, and a menu phrase
//! inside a longer sentence is found between fillers.
//!
//! PocketSphinx inserts filler words (normally silence and noise) at every state of a grammar,
//! each at a fixed cost (`-fillprob`). Giving it ordinary words as fillers makes them a garbage
//! model: the grammar becomes "an optional menu phrase", and the decoder takes the menu path
//! only where a phrase fits the audio better than the fillers do. What was measured, and why
//! this and not keyword spotting or a garbage loop in the JSGF, is in the crate's docs
//! (`docs/rejection.md`).

use std::{
    collections::{HashMap, HashSet},
    fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use super::telephone::{FNV_OFFSET, fnv1a64};
use crate::error::ConfigError;

/// The filler cost (`-fillprob`) of menu grammars, chosen by the measurements.
pub(super) const FILLER_PROBABILITY: &str = "1e-2";

/// The word insertion penalty (`-wip`) of menu grammars, chosen by the measurements.
pub(super) const MENU_WORD_INSERTION_PENALTY: &str = "1e-3";

/// The search beams of menu grammars, wider than PocketSphinx's defaults (1e-48, 1e-48,
/// 7e-29): with a filler at every grammar state, the default beams pruned the menu phrase's
/// path inside sentences. Measured in `docs/rejection.md`.
pub(super) const MENU_BEAMS: [(&str, &str); 3] =
    [("-beam", "1e-80"), ("-pbeam", "1e-80"), ("-wbeam", "1e-60")];

/// How many of the adaptation corpus's most frequent words become fillers.
const FILLER_WORDS: usize = 100;

/// The corpus the filler words come from: the everyday and IVR sentences the telephone
/// adaptation was made from (`model/telephone/sentences.txt`), which was written before and
/// apart from the rejection test's phrases.
const CORPUS: &str = include_str!("../../model/telephone/sentences.txt");

/// The phones of the en-us model: each is also a filler, so that any stretch of speech can be
/// covered by fillers, not only the words above.
const PHONES: [&str; 39] = [
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH",
    "UW", "V", "W", "Y", "Z", "ZH",
];

/// The corpus's `FILLER_WORDS` most frequent words, most frequent first (ties by spelling).
fn garbage_words() -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for word in CORPUS.split_whitespace() {
        let word = crate::recognition::normalize(word);
        if !word.is_empty() {
            *counts.entry(word).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(FILLER_WORDS)
        .map(|(word, _)| word)
        .collect()
}

/// The silence entries every filler dictionary needs (the model's own `noisedict` has them).
const SILENCE: &str = "<s> SIL\n</s> SIL\n<sil> SIL\n";

/// The JSGF of an optional choice among `phrases`: an utterance of fillers only is allowed
/// and comes back empty.
pub(super) fn optional_jsgf(phrases: &[String]) -> String {
    let alternatives: Vec<String> = phrases.iter().map(|p| format!("( {p} )")).collect();
    format!(
        "#JSGF V1.0;\ngrammar choices;\npublic <choice> = [ {} ];\n",
        alternatives.join(" | ")
    )
}

/// Writes (once per content) the filler dictionary for a menu of `phrases` and returns its
/// path; pronunciations come from `dictionary`.
///
/// # Errors
/// [`ConfigError::ModelNotFound`] if the dictionary cannot be read;
/// [`ConfigError::ModelUnwritable`] if the file cannot be written.
pub(super) fn filler_dictionary(
    dictionary: &Path,
    phrases: &[String],
) -> Result<PathBuf, ConfigError> {
    let pronunciations = pronunciations(dictionary)?;
    let menu_words: HashSet<&str> = phrases.iter().flat_map(|p| p.split(' ')).collect();
    let menu_sounds: HashSet<&str> = menu_words
        .iter()
        .filter_map(|w| pronunciations.get(*w))
        .flatten()
        .map(String::as_str)
        .collect();
    let mut text = SILENCE.to_owned();
    for word in garbage_words() {
        if menu_words.contains(word.as_str()) {
            continue;
        }
        for (variant, phones) in pronunciations.get(&word).into_iter().flatten().enumerate() {
            // A word that sounds like a menu word would take its place.
            if menu_sounds.contains(phones.as_str()) {
                continue;
            }
            // Filler names are marked so they can never be mistaken for menu words.
            text.push_str(&format!("++{word}{variant}++ {phones}\n"));
        }
    }
    for phone in PHONES {
        text.push_str(&format!("++{}++ {phone}\n", phone.to_lowercase()));
    }
    let hash = fnv1a64(FNV_OFFSET, text.as_bytes());
    let path = std::env::temp_dir().join(format!("voicebot-fillers-{hash:016x}.dict"));
    if fs::read_to_string(&path).is_ok_and(|found| found == text) {
        return Ok(path);
    }
    let unwritable = |error: std::io::Error| ConfigError::ModelUnwritable {
        path: path.clone(),
        reason: error.to_string(),
    };
    // Written aside and renamed into place, so no decoder reads a half-written file.
    let staging = path.with_extension(format!("{}.tmp", crate::staging::unique_suffix()));
    fs::write(&staging, &text).map_err(unwritable)?;
    fs::rename(&staging, &path).map_err(unwritable)?;
    Ok(path)
}

/// Pronunciations by word (alternates under the same word).
type Pronunciations = HashMap<String, Vec<String>>;

/// Pronunciations of the garbage words and of any word, read from `dictionary` once per
/// process (a few MB); keyed by word, alternates (`word(2)`) under the same key.
fn pronunciations(dictionary: &Path) -> Result<Arc<Pronunciations>, ConfigError> {
    static CACHE: Mutex<Option<(PathBuf, Arc<Pronunciations>)>> = Mutex::new(None);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((path, words)) = cache.as_ref()
        && path == dictionary
    {
        return Ok(Arc::clone(words));
    }
    let text = fs::read_to_string(dictionary).map_err(|_| ConfigError::ModelNotFound {
        path: dictionary.to_path_buf(),
    })?;
    let mut words: HashMap<String, Vec<String>> = HashMap::new();
    for line in text.lines() {
        let Some((word, phones)) = line.split_once(' ') else {
            continue;
        };
        let word = word.split('(').next().unwrap_or(word);
        words
            .entry(word.to_owned())
            .or_default()
            .push(phones.trim().to_owned());
    }
    let words = Arc::new(words);
    *cache = Some((dictionary.to_path_buf(), Arc::clone(&words)));
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_words_and_their_homophones_are_not_fillers() {
        let dir = tempfile::tempdir().unwrap();
        let dictionary = dir.path().join("dict");
        fs::write(
            &dictionary,
            "no N OW\nfor F AO R\nfour F AO R\nthe DH AH\nthe(2) DH IY\nplease P L IY Z\nsales S EY L Z\n",
        )
        .unwrap();
        let path =
            filler_dictionary(&dictionary, &["sales".to_owned(), "four".to_owned()]).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(SILENCE));
        assert!(text.contains("++the0++ DH AH\n++the1++ DH IY\n"), "{text}");
        assert!(text.contains("++please0++ P L IY Z\n"));
        assert!(text.contains("++zh++ ZH\n"), "phones are fillers too");
        assert!(
            !text.contains("++for"),
            "a homophone of a menu word: {text}"
        );
        let words = garbage_words();
        assert_eq!(words.len(), FILLER_WORDS);
        assert_eq!(words[0], "the", "the corpus's most frequent word");
        assert_eq!(
            optional_jsgf(&["sales".to_owned(), "speak to an agent".to_owned()]),
            "#JSGF V1.0;\ngrammar choices;\npublic <choice> = [ ( sales ) | ( speak to an agent ) ];\n"
        );
    }

    /// Tests decoding in parallel start recognisers of the same menu at once: each must get
    /// the dictionary, none an error because another thread renamed the file first.
    #[test]
    fn threads_writing_the_same_dictionary_at_once_all_get_it() {
        let dir = tempfile::tempdir().unwrap();
        let threads = 8;
        for round in 0..20 {
            // A dictionary (pronunciations are cached by its path) and a pronunciation of this
            // round's own, so the round's filler file does not exist yet.
            let dictionary = dir.path().join(format!("dict{round}"));
            let token = format!("{}{round}", crate::staging::unique_suffix());
            fs::write(&dictionary, format!("the DH AH {token}\nsales S EY L Z\n")).unwrap();
            let barrier = std::sync::Barrier::new(threads);
            let results: Vec<Result<PathBuf, ConfigError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|_| {
                        scope.spawn(|| {
                            barrier.wait();
                            filler_dictionary(&dictionary, &["sales".to_owned()])
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let paths: Vec<PathBuf> = results
                .into_iter()
                .map(|result| result.expect("every thread gets the dictionary"))
                .collect();
            assert!(paths.iter().all(|path| *path == paths[0]));
            let text = fs::read_to_string(&paths[0]).unwrap();
            assert!(text.contains(&token), "round {round}: {text}");
            let _ = fs::remove_file(&paths[0]);
        }
    }
}
