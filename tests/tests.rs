//! End-to-end tests of voicebot: the binary and bots against the simulator.

mod architecture;
mod bots;
mod calls;
mod cli;
mod dtmf;
mod media;
mod outbound;
mod reconnect;
mod support;
mod transfer;
