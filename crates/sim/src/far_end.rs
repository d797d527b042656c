//! [`FarEnd`]: what a called party does (an extension's user, or an outside number),
//! and the text form `voicebot sim --extension 100=answer:2s,hangup:30s` and the
//! simulator's configuration file use.
//!
//! ```text
//! answer[:RING][,stay | ,hangup:AFTER | ,script:FILE][,audio:WAV]
//! busy
//! reject[:RING]
//! noanswer[:RING]
//! unreachable
//! ```

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::Script;
use crate::script::parse_duration;

/// How long `noanswer` without a time rings before the attempt fails.
pub const DEFAULT_NO_ANSWER: Duration = Duration::from_secs(30);

/// What a called destination does.
#[derive(Debug, Clone, PartialEq)]
pub enum FarEnd {
    /// Answers after `after`; then sends `audio` (a WAV file) if given, and does what
    /// `then` says.
    Answer {
        /// Ringing time.
        after: Duration,
        /// Audio the far end speaks once answered.
        audio: Option<PathBuf>,
        /// What the answered party does next.
        then: Answered,
    },
    /// Busy: the attempt fails at once.
    Busy,
    /// Rings for `after`, then the user declines the call: the attempt fails.
    Reject {
        /// Ringing time before the refusal.
        after: Duration,
    },
    /// Rings for `after`, then the attempt fails.
    NoAnswer {
        /// Ringing time.
        after: Duration,
    },
    /// The number cannot be reached: the request fails immediately.
    Unreachable,
}

/// What a party does once it has answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Answered {
    /// Stays on the line until the other side ends the call.
    #[default]
    Stay,
    /// Hangs up this long after answering.
    HangUpAfter(Duration),
    /// Runs this script (its steps press keys, speak, wait and may hang up); a failing
    /// script is reported in the journal and the call goes on.
    Script(Script),
}

impl FarEnd {
    /// Answers after `after` and stays silent on the line.
    pub fn answer_after(after: Duration) -> Self {
        Self::Answer {
            after,
            audio: None,
            then: Answered::Stay,
        }
    }

    /// Parses the text form (see the module docs); relative paths (`script:`,
    /// `audio:`) are read from `base`.
    ///
    /// # Errors
    /// A message naming the part that is wrong.
    pub fn parse_in(text: &str, base: &Path) -> Result<Self, String> {
        let mut parts = text.split(',').map(str::trim);
        let head = parts.next().unwrap_or_default();
        let (kind, ring) = match head.split_once(':') {
            Some((kind, ring)) => (kind.trim(), Some(duration(ring, head)?)),
            None => (head, None),
        };
        let far_end = match kind.to_ascii_lowercase().as_str() {
            "answer" => {
                let mut audio = None;
                let mut then = Answered::Stay;
                for part in parts.by_ref() {
                    let (name, value) = part.split_once(':').unwrap_or((part, ""));
                    match name.trim() {
                        "stay" if value.is_empty() => then = Answered::Stay,
                        "hangup" => then = Answered::HangUpAfter(duration(value, part)?),
                        "script" if !value.is_empty() => {
                            then = Answered::Script(read_script(&base.join(value.trim()))?);
                        }
                        "audio" if !value.is_empty() => audio = Some(base.join(value.trim())),
                        _ => {
                            return Err(format!(
                                "{part:?}: after `answer` comes stay, hangup:DURATION, script:FILE or audio:WAV"
                            ));
                        }
                    }
                }
                Self::Answer {
                    after: ring.unwrap_or(Duration::ZERO),
                    audio,
                    then,
                }
            }
            "busy" if ring.is_none() => Self::Busy,
            "reject" => Self::Reject {
                after: ring.unwrap_or(Duration::ZERO),
            },
            "noanswer" | "no-answer" | "no_answer" => Self::NoAnswer {
                after: ring.unwrap_or(DEFAULT_NO_ANSWER),
            },
            "unreachable" if ring.is_none() => Self::Unreachable,
            _ => {
                return Err(format!(
                    "{text:?}: expected answer[:RING][,stay|,hangup:T|,script:FILE], busy, reject[:RING], noanswer[:RING] or unreachable"
                ));
            }
        };
        match parts.next() {
            Some(extra) => Err(format!("{text:?}: {extra:?} only follows `answer`")),
            None => Ok(far_end),
        }
    }
}

impl FromStr for FarEnd {
    type Err = String;

    /// Parses the text form with paths relative to the current directory.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse_in(text, Path::new(""))
    }
}

fn duration(text: &str, part: &str) -> Result<Duration, String> {
    parse_duration(text)
        .filter(|duration| *duration <= crate::MAX_STEP_DURATION)
        .ok_or_else(|| format!("{part:?}: {text:?} is not a duration such as 2s or 500ms"))
}

fn read_script(path: &Path) -> Result<Script, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("script {}: {error}", path.display()))?;
    Script::from_toml(&text).map_err(|error| format!("script {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FarEnd, String> {
        text.parse()
    }

    #[test]
    fn every_behaviour_reads_from_text() {
        let secs = Duration::from_secs;
        assert_eq!(
            parse("answer").unwrap(),
            FarEnd::answer_after(Duration::ZERO)
        );
        assert_eq!(parse("answer:2s").unwrap(), FarEnd::answer_after(secs(2)));
        assert_eq!(
            parse("answer:1s, hangup:30s").unwrap(),
            FarEnd::Answer {
                after: secs(1),
                audio: None,
                then: Answered::HangUpAfter(secs(30))
            }
        );
        assert_eq!(parse("busy").unwrap(), FarEnd::Busy);
        assert_eq!(
            parse("reject:3s").unwrap(),
            FarEnd::Reject { after: secs(3) }
        );
        assert_eq!(
            parse("noanswer").unwrap(),
            FarEnd::NoAnswer {
                after: DEFAULT_NO_ANSWER
            }
        );
        assert_eq!(parse("unreachable").unwrap(), FarEnd::Unreachable);
    }

    #[test]
    fn a_script_is_read_when_parsed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), "steps = [ { press = \"1\" } ]").unwrap();
        let far_end = FarEnd::parse_in("answer:0s,script:s.toml", dir.path()).unwrap();
        let FarEnd::Answer {
            then: Answered::Script(script),
            ..
        } = far_end
        else {
            panic!("a script: {far_end:?}");
        };
        assert_eq!(script.steps.len(), 1);
        let missing = FarEnd::parse_in("answer,script:none.toml", dir.path()).unwrap_err();
        assert!(missing.contains("none.toml"), "{missing}");
    }

    #[test]
    fn mistakes_name_the_part() {
        for (text, part) in [
            ("answer:soon", "soon"),
            ("answer,hangup", "hangup"),
            ("busy:2s", "busy"),
            ("ring", "ring"),
            ("busy,stay", "stay"),
            ("answer,dance", "dance"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(part), "{text}: {error}");
        }
    }
}
