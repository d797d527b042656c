//! End-to-end tests of voicebot: the binary and bots against the simulator.

mod architecture;
