//! Subcommands of `voicebot`, one module each.

pub(crate) mod departments;
pub(crate) mod parking;
pub(crate) mod sim;
pub(crate) mod users;
pub(crate) mod xapi;
