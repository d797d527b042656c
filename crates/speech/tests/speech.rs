//! Integration tests of voicebot-speech: real recognition through each recogniser, on spoken
//! fixtures (`tests/fixtures/`, made by `make-fixtures.sh`).

mod speech {
    mod command;
    mod support;
    mod vosk;
    mod vosk_server;

    #[cfg(feature = "pocketsphinx")]
    mod accuracy;
    #[cfg(feature = "pocketsphinx")]
    mod pocketsphinx;
    #[cfg(feature = "pocketsphinx")]
    mod rejection;
    #[cfg(feature = "pocketsphinx")]
    mod transcription;
    #[cfg(feature = "pocketsphinx")]
    mod transcription_server;
}

#[path = "support/energy.rs"]
mod energy;
