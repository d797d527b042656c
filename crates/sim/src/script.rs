//! Scripts for callers: a list of steps, deserialisable from TOML scenario files.
//!
//! ```toml
//! steps = [
//!   { wait_connected = true },
//!   { wait_heard = "1.5s" },
//!   { press = "1" },
//!   { press_random = "123" },
//!   { send_wav = "samples/hello_8k.wav" },
//!   { wait = "500ms" },
//!   "hang_up",
//! ]
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Caller, SimError};

/// The longest duration a step may name: a silence is sent as samples (an hour is
/// 57.6 MB), and `voicebot call` adds the steps up.
pub const MAX_STEP_DURATION: Duration = Duration::from_secs(3600);

/// A caller's script.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Script {
    /// Steps, run in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

impl Script {
    /// Parses a TOML scenario (`steps = [...]`).
    ///
    /// # Errors
    /// [`SimError::Script`] when the text is not a valid script.
    pub fn from_toml(text: &str) -> Result<Self, SimError> {
        toml::from_str(text).map_err(|e| SimError::Script(e.to_string()))
    }
}

impl From<Vec<Step>> for Script {
    fn from(steps: Vec<Step>) -> Self {
        Self { steps }
    }
}

impl FromIterator<Step> for Script {
    fn from_iter<I: IntoIterator<Item = Step>>(iter: I) -> Self {
        Self {
            steps: iter.into_iter().collect(),
        }
    }
}

/// One step of a [`Script`]. Durations read as `"1.5s"`, `"200ms"`, `"2m"` or a
/// number of seconds, at most [`MAX_STEP_DURATION`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Sleep.
    Wait(#[serde(with = "duration_text")] Duration),
    /// Wait until the call is connected (the value is ignored).
    WaitConnected(bool),
    /// Press DTMF keys.
    Press(String),
    /// Press keys picked at random: `"123"` presses one of 1, 2 or 3;
    /// `{ keys = "0123456789", count = 4 }` presses four.
    PressRandom(RandomKeys),
    /// Say a WAV file, and wait until it has been said.
    SendWav(PathBuf),
    /// Say these samples, and wait until they have been said.
    SendPcm(Vec<i16>),
    /// Stay silent for this long.
    SendSilence(#[serde(with = "duration_text")] Duration),
    /// Wait until this much audio has been heard in total.
    WaitHeard(#[serde(with = "duration_text")] Duration),
    /// Wait until something was heard and then this much silence.
    WaitSilence(#[serde(with = "duration_text")] Duration),
    /// Hang up.
    HangUp,
}

/// Keys to pick from at random, and how many to press.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RandomKeys {
    /// One key out of these.
    One(String),
    /// `count` keys, each out of `keys`.
    Many {
        /// The keys to pick from.
        keys: String,
        /// How many to press.
        count: usize,
    },
}

impl RandomKeys {
    /// Picks the keys.
    ///
    /// # Errors
    /// [`SimError::Script`] when there is nothing to pick from, or more than 64 keys
    /// are asked for.
    pub fn pick(&self) -> Result<String, SimError> {
        let (keys, count) = match self {
            Self::One(keys) => (keys.as_str(), 1),
            Self::Many { keys, count } => (keys.as_str(), *count),
        };
        let keys: Vec<char> = keys.chars().collect();
        if keys.is_empty() || count > 64 {
            return Err(SimError::Script(
                "press_random needs keys to pick from and at most 64 of them".to_owned(),
            ));
        }
        Ok((0..count)
            .map(|_| keys[rand::random_range(0..keys.len())])
            .collect())
    }
}

impl Step {
    /// Runs the step; returns the keys it pressed, if it pressed any.
    pub(crate) async fn run(&self, caller: &Caller) -> Result<Option<String>, SimError> {
        match self {
            Self::Wait(duration) => tokio::time::sleep(*duration).await,
            Self::WaitConnected(_) => caller.wait_connected().await?,
            Self::Press(digits) => {
                caller.press(digits).await?;
                return Ok(Some(digits.clone()));
            }
            Self::PressRandom(keys) => {
                let digits = keys.pick()?;
                caller.press(&digits).await?;
                return Ok(Some(digits));
            }
            Self::SendWav(path) => {
                caller.send_wav(path).await?;
                caller.wait_sent().await;
            }
            Self::SendPcm(samples) => {
                caller.send_pcm(samples).await;
                caller.wait_sent().await;
            }
            Self::SendSilence(duration) => {
                caller.send_silence(*duration).await;
                caller.wait_sent().await;
            }
            Self::WaitHeard(duration) => caller.wait_heard(*duration).await?,
            Self::WaitSilence(duration) => caller.wait_silence(*duration).await?,
            Self::HangUp => caller.hang_up().await?,
        }
        Ok(None)
    }
}

/// Parses `"1.5s"`, `"200ms"`, `"2m"`, `"3"` (seconds).
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    Duration::try_from_secs_f64(value * scale).ok()
}

mod duration_text {
    use super::*;

    pub(super) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", value.as_millis()))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Seconds(f64),
            Text(String),
        }
        let invalid = || {
            serde::de::Error::custom(
                "expected a duration of at most 1h such as \"1.5s\" or \"200ms\"",
            )
        };
        let duration = match Text::deserialize(d)? {
            Text::Seconds(secs) => Duration::try_from_secs_f64(secs).ok(),
            Text::Text(text) => parse_duration(&text),
        };
        duration
            .filter(|duration| *duration <= MAX_STEP_DURATION)
            .ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_toml_scenario() {
        let script = Script::from_toml(
            r#"steps = [ { wait = "1.5s" }, { press = "12#" }, { send_silence = 0.2 },
                         { wait_heard = "300ms" }, "hang_up" ]"#,
        )
        .unwrap();
        assert_eq!(
            script.steps,
            vec![
                Step::Wait(Duration::from_millis(1500)),
                Step::Press("12#".into()),
                Step::SendSilence(Duration::from_millis(200)),
                Step::WaitHeard(Duration::from_millis(300)),
                Step::HangUp,
            ]
        );
    }

    #[test]
    fn random_keys_come_from_the_set() {
        let script = Script::from_toml(
            r#"steps = [ { press_random = "12" }, { press_random = { keys = "9", count = 3 } } ]"#,
        )
        .unwrap();
        let Step::PressRandom(one) = &script.steps[0] else {
            panic!("{script:?}");
        };
        for _ in 0..20 {
            let key = one.pick().unwrap();
            assert!(key == "1" || key == "2", "{key}");
        }
        let Step::PressRandom(many) = &script.steps[1] else {
            panic!("{script:?}");
        };
        assert_eq!(many.pick().unwrap(), "999");
        assert!(RandomKeys::One(String::new()).pick().is_err());
    }

    #[test]
    fn rejects_bad_durations() {
        assert!(Script::from_toml(r#"steps = [ { wait = "soon" } ]"#).is_err());
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    }

    /// Found writing `fuzz_scripts`' bounds: a step of 1e19 s made `voicebot call` overflow
    /// adding the steps up, and a long `send_silence` allocated all its samples at once.
    #[test]
    fn durations_over_an_hour_are_refused() {
        for step in [
            "{ wait = 1e19 }",
            "{ send_silence = \"100000m\" }",
            "{ wait_heard = 3600.001 }",
        ] {
            let error = Script::from_toml(&format!("steps = [ {step} ]")).unwrap_err();
            assert!(error.to_string().contains("at most 1h"), "{step}: {error}");
        }
        let hour = Script::from_toml(r#"steps = [ { send_silence = "60m" } ]"#).unwrap();
        assert_eq!(hour.steps, vec![Step::SendSilence(MAX_STEP_DURATION)]);
    }
}
