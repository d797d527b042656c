//! End-to-end tests of voicebot: the binary and bots against the simulator.

mod architecture;
mod bots;
mod calls;
mod cli;
mod cli_campaign;
mod cli_restart;
mod cli_run;
mod cli_sim;
mod cli_xapi;
mod dtmf;
mod faults;
mod identity;
mod media;
mod observability;
mod outbound;
mod reconnect;
mod speech;
mod stream;
mod stream_agent;
mod streams;
mod support;
mod transfer;
mod webhook;
mod webhook_server;
