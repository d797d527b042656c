//! voicebot-callcontrol (being built).
