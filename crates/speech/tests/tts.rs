//! Integration tests of voicebot-speech's text-to-speech: the HTTP engine against a local
//! server that implements the OpenAI-compatible speech API by running espeak-ng.

mod tts {
    mod http;
    mod server;
}
