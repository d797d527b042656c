//! The `voicebot` command: [`voicebot::App`] with the bundled bots. A binary of your
//! own with your bots added is the same line with `.bot(name, factory)` before `run`.

fn main() -> std::process::ExitCode {
    voicebot::App::new().run()
}
