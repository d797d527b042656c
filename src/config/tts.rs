//! `[tts]`: the speech synthesiser text prompts go through (`call.say`, and prompts written
//! `{ text = "..." }` in bot tables).
//!
//! ```toml
//! [tts]
//! engine = "espeak-ng"          # built in (the default): Debian's espeak-ng program
//! voice = "en-us"               # the engine's own voice names
//! rate = 1.0                    # speaking speed, 1.0 = normal (0.5 to 2.5)
//! cache = "tts-cache"           # synthesised sentences kept here (relative: the file's folder)
//! cache_mb = 200                # at most this many megabytes on disk; 0: no cache
//!
//! # engine = "http": a server with the OpenAI-compatible POST /v1/audio/speech
//! # url = "http://127.0.0.1:8880", model = "kokoro", api_key_env = "TTS_API_KEY",
//! # format = "wav" (or "pcm", with pcm_rate = 24000)
//!
//! # engine = "command": a program that reads text on stdin and writes WAV on stdout
//! # program = ["piper", "--model", "en_US-lessac-medium.onnx", "--output_file", "/dev/stdout"]
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use voicebot_speech::tts::{
    CommandSynthesizer, Espeak, HttpSynthesizer, ResponseFormat, Speaker, TtsCache,
};

use super::{Config, ConfigError};

/// espeak-ng's words per minute at `rate = 1.0`.
const ESPEAK_WPM: f32 = 175.0;

/// `[tts]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Tts {
    /// Which engine.
    pub(crate) engine: Engine,
    /// The default voice; none: the engine's.
    pub(crate) voice: Option<String>,
    /// Speaking speed, 1.0 = the engine's normal speed.
    pub(crate) rate: Option<f32>,
    /// `http`: the server's base URL.
    pub(crate) url: Option<String>,
    /// `http`: the model.
    pub(crate) model: Option<String>,
    /// `http`: the environment variable holding the API key (never the key itself).
    pub(crate) api_key_env: Option<String>,
    /// `http`: what the server sends back.
    pub(crate) format: Format,
    /// `http`: the sample rate of PCM answers.
    pub(crate) pcm_rate: u32,
    /// `command`: the program and its arguments; `espeak-ng`: the program's path.
    pub(crate) program: Option<Vec<String>>,
    /// The longest one sentence may take.
    #[serde(with = "humantime_serde")]
    pub(crate) timeout: Duration,
    /// The cache folder.
    pub(crate) cache: PathBuf,
    /// The cache's size limit in megabytes; 0 turns it off.
    pub(crate) cache_mb: u64,
    /// Present only to refuse it with a helpful message.
    api_key: Option<toml::Value>,
}

impl Default for Tts {
    fn default() -> Self {
        Self {
            engine: Engine::EspeakNg,
            voice: None,
            rate: None,
            url: None,
            model: None,
            api_key_env: None,
            format: Format::Wav,
            pcm_rate: 24_000,
            program: None,
            timeout: Duration::from_secs(30),
            cache: PathBuf::from("tts-cache"),
            cache_mb: 200,
            api_key: None,
        }
    }
}

/// `tts.engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Engine {
    /// The built-in espeak-ng.
    EspeakNg,
    /// An OpenAI-compatible speech server.
    Http,
    /// A program.
    Command,
}

/// `tts.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Format {
    /// WAV answers.
    Wav,
    /// Raw s16le answers at `pcm_rate`.
    Pcm,
}

impl Tts {
    /// Builds the speaker (without its cache, which [`Tts::open_cache`] adds): checks every
    /// setting against the engine, reads the API key from its variable. Runs nothing.
    ///
    /// # Errors
    /// `(key, message)` naming the `tts.*` key that is wrong.
    pub(crate) fn speaker(&self) -> Result<Speaker, (&'static str, String)> {
        if self.api_key.is_some() {
            return Err((
                "tts.api_key",
                "the API key never goes in the file: name its environment variable with \
                 api_key_env"
                    .to_owned(),
            ));
        }
        let rate = self.rate.unwrap_or(1.0);
        self.refuse_foreign_keys()?;
        let speaker = match self.engine {
            Engine::EspeakNg => {
                if !(0.5..=2.5).contains(&rate) {
                    return Err(("tts.rate", format!("{rate} is not within 0.5 to 2.5")));
                }
                let mut builder = Espeak::builder()
                    .rate_wpm((ESPEAK_WPM * rate).round() as u32)
                    .timeout(self.timeout);
                if let Some(voice) = &self.voice {
                    builder = builder.voice(voice);
                }
                match self.program.as_deref() {
                    None => {}
                    Some([program]) => builder = builder.program(program),
                    Some(_) => {
                        return Err((
                            "tts.program",
                            "espeak-ng takes one program path here, without arguments".to_owned(),
                        ));
                    }
                }
                Speaker::new(
                    builder
                        .build()
                        .map_err(|error| key_of(&error.to_string()))?,
                )
            }
            Engine::Http => Speaker::new(self.http(rate)?),
            Engine::Command => {
                let Some((program, args)) =
                    self.program.as_deref().and_then(<[String]>::split_first)
                else {
                    return Err((
                        "tts.program",
                        "engine \"command\" needs program = [\"prog\", \"arg\", ...]".to_owned(),
                    ));
                };
                let mut builder = CommandSynthesizer::builder(program)
                    .args(args.iter().cloned())
                    .timeout(self.timeout);
                if let Some(voice) = &self.voice {
                    builder = builder.voice(voice);
                }
                Speaker::new(
                    builder
                        .build()
                        .map_err(|error| ("tts.program", error.to_string()))?,
                )
            }
        };
        Ok(speaker)
    }

    fn http(&self, rate: f32) -> Result<HttpSynthesizer, (&'static str, String)> {
        let url = self.url.as_ref().ok_or((
            "tts.url",
            "engine \"http\" needs the server's url".to_owned(),
        ))?;
        let model = self
            .model
            .as_ref()
            .ok_or(("tts.model", "engine \"http\" needs a model".to_owned()))?;
        let format = match self.format {
            Format::Wav => ResponseFormat::Wav,
            Format::Pcm => ResponseFormat::Pcm {
                rate: self.pcm_rate,
            },
        };
        let mut builder = HttpSynthesizer::builder(url, model)
            .speed(rate)
            .format(format)
            .timeout(self.timeout);
        if let Some(voice) = &self.voice {
            builder = builder.voice(voice);
        }
        if let Some(variable) = &self.api_key_env {
            let key = std::env::var(variable).map_err(|_| {
                (
                    "tts.api_key_env",
                    format!("the environment variable {variable} (the API key) is not set"),
                )
            })?;
            builder = builder.api_key(key);
        }
        builder.build().map_err(|error| key_of(&error.to_string()))
    }

    /// Settings of one engine given to another are mistakes, not defaults to ignore.
    fn refuse_foreign_keys(&self) -> Result<(), (&'static str, String)> {
        let http_only = [
            ("tts.url", self.url.is_some()),
            ("tts.model", self.model.is_some()),
            ("tts.api_key_env", self.api_key_env.is_some()),
            ("tts.format", self.format != Format::Wav),
        ];
        if self.engine != Engine::Http
            && let Some((key, _)) = http_only.iter().find(|(_, set)| *set)
        {
            return Err((key, "only engine \"http\" takes this".to_owned()));
        }
        if self.engine == Engine::Http && self.program.is_some() {
            return Err(("tts.program", "engine \"http\" runs no program".to_owned()));
        }
        if self.engine == Engine::Command && self.rate.is_some() {
            return Err((
                "tts.rate",
                "a command sets its speed in its own arguments".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The `tts.*` key a speech crate setting error is about (its message starts with the setting).
fn key_of(message: &str) -> (&'static str, String) {
    let key = ["rate", "pitch", "voice", "speed", "model", "pcm_rate"]
        .into_iter()
        .find(|setting| message.starts_with(setting))
        .map_or("tts", |setting| match setting {
            "rate" | "speed" => "tts.rate",
            "voice" => "tts.voice",
            "model" => "tts.model",
            "pcm_rate" => "tts.pcm_rate",
            _ => "tts",
        });
    let key = match message.contains("URL") {
        true => "tts.url",
        false => key,
    };
    (key, message.to_owned())
}

impl Config {
    /// The configured speech synthesiser (espeak-ng with its defaults when there is no
    /// `[tts]`), without its cache.
    ///
    /// # Errors
    /// [`ConfigError`] at the `tts.*` key that is wrong.
    pub(crate) fn speaker(&self) -> Result<Speaker, ConfigError> {
        self.tts
            .speaker()
            .map_err(|(key, message)| self.error_at(None, key, message))
    }

    /// The speaker with its disk cache opened (created when missing), as calls use it.
    ///
    /// # Errors
    /// As [`Config::speaker`], and at `tts.cache` when the folder cannot be created.
    pub(crate) fn speaker_with_cache(&self) -> Result<Speaker, ConfigError> {
        let speaker = self.speaker()?;
        if self.tts.cache_mb == 0 {
            return Ok(speaker);
        }
        let dir = self.resolve(&self.tts.cache);
        TtsCache::open(&dir, self.tts.cache_mb * 1_000_000)
            .map(|cache| speaker.with_cache(cache))
            .map_err(|error| {
                self.error_at(
                    None,
                    "tts.cache",
                    format!("cannot use {} as the cache: {error}", dir.display()),
                )
            })
    }

    /// Whether the file has a `[tts]` table.
    pub(crate) fn has_tts_section(&self) -> bool {
        self.text
            .parse::<toml::Table>()
            .is_ok_and(|table| table.contains_key("tts"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Tts {
        toml::from_str(text).unwrap()
    }

    fn refused(text: &str) -> (&'static str, String) {
        parse(text).speaker().unwrap_err()
    }

    #[test]
    fn the_default_is_espeak_ng_at_normal_speed() {
        let speaker = Tts::default().speaker().unwrap();
        assert_eq!(speaker.engine().identity(), "espeak-ng rate=175");
        let faster = parse("voice = \"en-gb\"\nrate = 1.2").speaker().unwrap();
        assert_eq!(faster.engine().identity(), "espeak-ng rate=210");
        assert_eq!(faster.engine().default_voice(), Some("en-gb"));
    }

    #[test]
    fn each_mistake_names_its_key() {
        assert_eq!(refused("rate = 5.0").0, "tts.rate");
        assert_eq!(refused("voice = \"-x\"").0, "tts.voice");
        assert_eq!(refused("url = \"http://h\"").0, "tts.url");
        assert_eq!(refused("engine = \"http\"\nmodel = \"m\"").0, "tts.url");
        assert_eq!(
            refused("engine = \"http\"\nurl = \"http://h\"").0,
            "tts.model"
        );
        assert_eq!(
            refused("engine = \"http\"\nurl = \"ftp://h\"\nmodel = \"m\"").0,
            "tts.url"
        );
        assert_eq!(refused("engine = \"command\"").0, "tts.program");
        assert_eq!(
            refused("engine = \"command\"\nprogram = [\"p\"]\nrate = 1.1").0,
            "tts.rate"
        );
        assert_eq!(refused("api_key = \"sk-x\"").0, "tts.api_key");
        let missing = refused(
            "engine = \"http\"\nurl = \"http://h\"\nmodel = \"m\"\napi_key_env = \"VOICEBOT_TEST_UNSET_KEY\"",
        );
        assert_eq!(missing.0, "tts.api_key_env");
        assert!(missing.1.contains("VOICEBOT_TEST_UNSET_KEY"));
    }

    #[test]
    fn http_and_command_engines_build() {
        let http = parse(
            "engine = \"http\"\nurl = \"http://127.0.0.1:8880\"\nmodel = \"kokoro\"\n\
             voice = \"af_bella\"\nformat = \"pcm\"\npcm_rate = 24000",
        )
        .speaker()
        .unwrap();
        assert!(http.engine().identity().contains("pcm/24000"));
        let command =
            parse("engine = \"command\"\nprogram = [\"piper\", \"--voice\", \"{voice}\"]")
                .speaker()
                .unwrap();
        assert!(command.engine().identity().starts_with("command piper"));
        assert!(toml::from_str::<Tts>("engine = \"festival\"").is_err());
    }
}
