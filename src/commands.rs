//! Subcommands of `voicebot`, one module each.

pub(crate) mod sim;
