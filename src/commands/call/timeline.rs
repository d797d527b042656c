//! What `voicebot call` says into the call, as a timeline of audio clips (spoken WAVs
//! and in-band DTMF tones) from the moment the call connects.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use voicebot_media::{DtmfGenerator, duration_to_samples, samples_to_duration};
use voicebot_sim::{Script, Step};

use crate::exit::Exit;

/// One thing to say at a moment.
#[derive(Debug, Clone)]
pub(crate) struct Cue {
    /// From the moment the call connected.
    pub(crate) at: Duration,
    /// What it is, for the report (`"press 1"`, `"send hello.wav"`).
    pub(crate) label: String,
    /// 8 kHz mono samples.
    pub(crate) samples: Vec<i16>,
}

/// Cues in time order, and when the caller hangs up (if the script says).
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    pub(crate) cues: Vec<Cue>,
    pub(crate) hang_up_at: Option<Duration>,
}

fn tones(digits: &str) -> anyhow::Result<Vec<i16>> {
    DtmfGenerator::new()
        .generate(digits)
        .map_err(|error| Exit::Usage.error(format!("cannot press {digits:?}: {error}")))
}

fn wav(path: &Path) -> anyhow::Result<Vec<i16>> {
    crate::commands::audio_input::load(path, None).map(|prompt| prompt.samples().to_vec())
}

impl Timeline {
    /// From `--send FILE` (at the start) and `--press DIGITS@TIME` flags.
    pub(crate) fn from_flags(
        send: Option<&Path>,
        presses: &[(String, Duration)],
    ) -> anyhow::Result<Self> {
        let mut cues = Vec::new();
        if let Some(path) = send {
            cues.push(Cue {
                at: Duration::ZERO,
                label: format!("send {}", path.display()),
                samples: wav(path)?,
            });
        }
        for (digits, at) in presses {
            cues.push(Cue {
                at: *at,
                label: format!("press {digits}"),
                samples: tones(digits)?,
            });
        }
        cues.sort_by_key(|cue| cue.at);
        Ok(Self {
            cues,
            hang_up_at: None,
        })
    }

    /// From a scenario file in the simulator's script format (`steps = [...]`). Steps
    /// that wait on what was heard cannot be timed against a real PBX and are refused.
    pub(crate) fn from_script(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))
            .map_err(|error| Exit::Usage.error(format!("{error:#}")))?;
        let script = Script::from_toml(&text)
            .map_err(|error| Exit::Usage.error(format!("{}: {error}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut timeline = Self::default();
        let mut at = Duration::ZERO;
        for step in script.steps {
            let (label, samples) = match step {
                Step::Wait(duration) | Step::SendSilence(duration) => {
                    at += duration;
                    continue;
                }
                Step::WaitConnected(_) => continue,
                Step::Press(digits) => (format!("press {digits}"), tones(&digits)?),
                Step::PressRandom(keys) => {
                    let digits = keys.pick().map_err(|error| {
                        Exit::Usage.error(format!("{}: {error}", path.display()))
                    })?;
                    (format!("press {digits}"), tones(&digits)?)
                }
                Step::SendWav(file) => {
                    let file = match file.is_absolute() {
                        true => file,
                        false => base.join(file),
                    };
                    (format!("send {}", file.display()), wav(&file)?)
                }
                Step::SendPcm(samples) => ("send samples".to_owned(), samples),
                Step::HangUp => {
                    timeline.hang_up_at = Some(at);
                    break;
                }
                other => {
                    return Err(Exit::Usage.error(format!(
                        "{}: step {other:?} waits on what was heard, which `voicebot call` \
                         cannot do; use `wait` steps",
                        path.display()
                    )));
                }
            };
            let length = samples_to_duration(samples.len() as u64);
            timeline.cues.push(Cue { at, label, samples });
            at += length;
        }
        Ok(timeline)
    }

    /// When the last cue has been said.
    pub(crate) fn end(&self) -> Duration {
        self.cues
            .iter()
            .map(|cue| cue.at + samples_to_duration(cue.samples.len() as u64))
            .max()
            .unwrap_or_default()
    }
}

/// Parses `--press 1@2s` / `--press 12#@1.5s` (time from the connect; `@` part optional).
pub(crate) fn parse_press(text: &str) -> Result<(String, Duration), String> {
    let (digits, at) = match text.split_once('@') {
        Some((digits, at)) => {
            let at = humantime_serde::re::humantime::parse_duration(at.trim())
                .map_err(|error| format!("{at:?}: {error} (write e.g. 2s or 1500ms)"))?;
            (digits, at)
        }
        None => (text, Duration::ZERO),
    };
    if digits.is_empty() || !digits.chars().all(|c| "0123456789*#ABCDabcd".contains(c)) {
        return Err(format!(
            "{digits:?} is not a DTMF key sequence (0-9 * # A-D)"
        ));
    }
    Ok((digits.to_owned(), at))
}

/// Samples for `duration` (for pacing).
pub(crate) fn samples_in(duration: Duration) -> usize {
    usize::try_from(duration_to_samples(duration)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_parse_with_and_without_a_time() {
        assert_eq!(
            parse_press("1@2s"),
            Ok(("1".to_owned(), Duration::from_secs(2)))
        );
        assert_eq!(parse_press("12#"), Ok(("12#".to_owned(), Duration::ZERO)));
        assert!(parse_press("x@1s").is_err());
        assert!(parse_press("1@soon").is_err());
    }

    #[test]
    fn flags_make_sorted_cues() {
        let presses = [
            ("2".to_owned(), Duration::from_secs(3)),
            ("1".to_owned(), Duration::from_secs(1)),
        ];
        let timeline = Timeline::from_flags(None, &presses).unwrap();
        assert_eq!(timeline.cues[0].label, "press 1");
        assert!(timeline.end() > Duration::from_secs(3));
    }
}
