//! The `voicebot` command.

fn main() {}
