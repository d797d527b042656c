//! Stand-in prompts that can be told apart in what a caller heard: each is a
//! constant tone (one sample value) of its own, so the heard audio reads back as
//! prompt names.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Sample values: the first prompt is `FIRST`, each next one `STEP` higher.
const FIRST: i16 = 1_000;
const STEP: i16 = 500;
/// The most prompts one test can name (values stay below `i16::MAX`).
pub(crate) const MAX_PROMPTS: usize = 63;
/// Shorter runs of a prompt's value are taken as chance, not as the prompt (10 ms).
const MIN_RUN_SAMPLES: usize = 80;
/// Two runs of one prompt this close, with only silence between, are one stretch: the
/// caller's playout ran dry for a moment (a busy machine), the prompt did not restart.
const MERGE_GAP_SAMPLES: usize = 2_000;

/// The labelled prompts of one [`TestPbx`](crate::TestPbx).
#[derive(Debug, Clone, Default)]
pub(crate) struct Prompts {
    labels: Vec<String>,
    length_samples: usize,
}

/// One stretch of a prompt heard: its label and how many samples of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    label: usize,
    samples: usize,
    end: usize,
}

impl Prompts {
    /// Prompts named `labels` (a `.wav` suffix is dropped), each `length` long.
    ///
    /// # Panics
    /// More than [`MAX_PROMPTS`] labels, a label named twice, or an empty one.
    pub(crate) fn new(labels: Vec<String>, length: Duration) -> Self {
        assert!(
            labels.len() <= MAX_PROMPTS,
            "the test kit tells at most {MAX_PROMPTS} prompts apart ({} asked)",
            labels.len()
        );
        let labels: Vec<String> = labels
            .into_iter()
            .map(|label| label.strip_suffix(".wav").unwrap_or(&label).to_owned())
            .collect();
        for (index, label) in labels.iter().enumerate() {
            assert!(!label.is_empty(), "a test prompt needs a name");
            assert!(
                !labels[..index].contains(label),
                "the test prompt {label:?} is named twice"
            );
        }
        let length_samples = (length.as_micros() / 125).max(MIN_RUN_SAMPLES as u128 * 2) as usize;
        Self {
            labels,
            length_samples,
        }
    }

    /// The file of `label` under `dir`: `dir/LABEL.wav`.
    pub(crate) fn path(dir: &Path, label: &str) -> PathBuf {
        dir.join(format!(
            "{}.wav",
            label.strip_suffix(".wav").unwrap_or(label)
        ))
    }

    /// Writes every prompt into `dir` (as `LABEL.wav`, folders created).
    ///
    /// # Errors
    /// The first file that cannot be written, naming it.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), String> {
        for (index, label) in self.labels.iter().enumerate() {
            let path = Self::path(dir, label);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|error| format!("{}: {error}", parent.display()))?;
            }
            let samples = vec![value_of(index); self.length_samples];
            voicebot_sim::write_wav(&path, &samples).map_err(|error| error.to_string())?;
        }
        Ok(())
    }

    /// Every prompt heard in `samples` (a caller's timeline), in order; a prompt
    /// played twice in a row counts twice, one cut short (barge-in) once.
    pub(crate) fn heard(&self, samples: &[i16]) -> Vec<String> {
        let mut heard = Vec::new();
        for run in self.runs(samples) {
            let whole = (run.samples + MIN_RUN_SAMPLES) / self.length_samples;
            let rest = (run.samples + MIN_RUN_SAMPLES) % self.length_samples;
            let started = (whole + usize::from(rest >= 2 * MIN_RUN_SAMPLES)).max(1);
            heard.extend(std::iter::repeat_n(self.labels[run.label].clone(), started));
        }
        heard
    }

    /// The prompts heard in full in `samples`, in order.
    pub(crate) fn heard_whole(&self, samples: &[i16]) -> Vec<String> {
        let mut heard = Vec::new();
        for run in self.runs(samples) {
            let whole = (run.samples + MIN_RUN_SAMPLES) / self.length_samples;
            heard.extend(std::iter::repeat_n(self.labels[run.label].clone(), whole));
        }
        heard
    }

    /// The names, in order.
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    fn label_of(&self, value: i16) -> Option<usize> {
        let offset = value.checked_sub(FIRST)?;
        let index = usize::try_from(offset / STEP).ok()?;
        (offset % STEP == 0 && index < self.labels.len()).then_some(index)
    }

    /// Stretches of labelled prompts: runs of one value, joined across short silences.
    fn runs(&self, samples: &[i16]) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        // Whether other audio (a tone, a real prompt) came since the last run.
        let mut other_since = false;
        let mut start = 0;
        while start < samples.len() {
            let value = samples[start];
            let len = samples[start..]
                .iter()
                .take_while(|sample| **sample == value)
                .count();
            let end = start + len;
            match (value, self.label_of(value)) {
                (0, _) => {}
                (_, Some(label)) if len >= MIN_RUN_SAMPLES => match runs.last_mut() {
                    Some(last)
                        if last.label == label
                            && !other_since
                            && start - last.end <= MERGE_GAP_SAMPLES =>
                    {
                        last.samples += len;
                        last.end = end;
                    }
                    _ => {
                        runs.push(Run {
                            label,
                            samples: len,
                            end,
                        });
                        other_since = false;
                    }
                },
                _ => other_since = true,
            }
            start = end;
        }
        runs
    }
}

fn value_of(index: usize) -> i16 {
    // `index < MAX_PROMPTS`, so this stays below `i16::MAX`.
    FIRST + STEP * index as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts() -> Prompts {
        Prompts::new(
            vec!["welcome".to_owned(), "goodbye.wav".to_owned()],
            Duration::from_millis(300),
        )
    }

    fn play(out: &mut Vec<i16>, index: usize, samples: usize) {
        out.extend(std::iter::repeat_n(value_of(index), samples));
    }

    #[test]
    fn reads_back_prompts_in_order_with_repeats_and_barge_in() {
        let prompts = prompts();
        let mut heard = vec![0; 800];
        play(&mut heard, 0, 2_400);
        heard.extend([0; 4_000]);
        // Played twice back to back, the second cut short after 100 ms.
        play(&mut heard, 0, 2_400 + 800);
        // A ringback tone's samples are not prompts.
        heard.extend((0..800).map(|n| (n % 50) as i16 * 300 - 7_000));
        play(&mut heard, 1, 2_400);
        assert_eq!(
            prompts.heard(&heard),
            ["welcome", "welcome", "welcome", "goodbye"]
        );
        assert_eq!(
            prompts.heard_whole(&heard),
            ["welcome", "welcome", "goodbye"]
        );
    }

    #[test]
    fn a_short_dropout_does_not_restart_a_prompt_but_other_audio_does() {
        let prompts = prompts();
        let mut heard = Vec::new();
        play(&mut heard, 0, 1_200);
        heard.extend([0; 160]);
        play(&mut heard, 0, 1_200);
        assert_eq!(prompts.heard(&heard), ["welcome"]);
        assert_eq!(prompts.heard_whole(&heard), ["welcome"]);
        let mut heard = Vec::new();
        play(&mut heard, 0, 1_200);
        heard.extend([5; 160]);
        play(&mut heard, 0, 1_200);
        assert_eq!(prompts.heard(&heard), ["welcome", "welcome"]);
        assert!(prompts.heard_whole(&heard).is_empty());
    }

    #[test]
    fn names_are_files_under_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let prompts = Prompts::new(vec!["menu/main".to_owned()], Duration::from_millis(100));
        prompts.write(dir.path()).unwrap();
        assert!(dir.path().join("menu/main.wav").is_file());
        assert_eq!(prompts.labels(), ["menu/main"]);
    }

    #[test]
    #[should_panic(expected = "named twice")]
    fn a_name_given_twice_is_refused() {
        Prompts::new(
            vec!["a".to_owned(), "a.wav".to_owned()],
            Duration::from_secs(1),
        );
    }
}
