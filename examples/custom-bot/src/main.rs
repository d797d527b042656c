//! `custom-bot`: every command of `voicebot`, with `my-menu` beside the bundled bots.
//!
//! ```sh
//! cargo run -p custom-bot -- demo                                  # the bundled demo still runs
//! cargo run -p custom-bot -- run -c examples/custom-bot/voicebot.toml --check
//! VOICEBOT_CLIENT_SECRET=... cargo run -p custom-bot -- run -c examples/custom-bot/voicebot.toml
//! ```

fn main() -> std::process::ExitCode {
    voicebot::App::new()
        .bot(custom_bot::NAME, custom_bot::MyMenu::from_config)
        .run()
}
