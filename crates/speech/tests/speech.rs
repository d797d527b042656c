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
}

#[path = "support/energy.rs"]
mod energy;
