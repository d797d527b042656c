//! End-to-end tests of voicebot against the simulator.
