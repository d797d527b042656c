//! voicebot-sim (being built).
