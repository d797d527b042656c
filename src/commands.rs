//! Subcommands of `voicebot`, one module each.

mod audio_input;
pub(crate) mod call;
pub(crate) mod calls;
pub(crate) mod campaign;
pub(crate) mod convert;
pub(crate) mod demo;
pub(crate) mod departments;
pub(crate) mod doctor;
pub(crate) mod parking;
pub(crate) mod pbx;
pub(crate) mod run;
pub(crate) mod say;
pub(crate) mod sim;
pub(crate) mod state;
pub(crate) mod token;
pub(crate) mod transcribe;
pub(crate) mod tts_check;
pub(crate) mod users;
pub(crate) mod xapi;
