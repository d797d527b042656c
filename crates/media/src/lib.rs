//! voicebot-media (being built).
