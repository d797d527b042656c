//! The README's bot: a one-level menu.
//!
//! A sample call (what the caller hears and does):
//!
//! ```text
//! bot:    "Welcome to voicebot. Press 1 for sales, press 2 for support, ..."
//! caller: (presses 2 during the prompt; the prompt stops at once)
//! bot:    (plays ringback while 3CX rings 200: `routeto`)
//! 3CX:    extension 200 answers; the route point leaves the call
//! ```
//!
//! Pressing 1 transfers the caller to 100 (`transferto`); anything else, or nothing
//! within 5 seconds three times, plays the goodbye prompt and the engine hangs up.
//! The bot is a value: `voicebot run` registers bots like it by name, and
//! `Engine::builder().route_point(dn, bot)` runs it directly.

use std::time::Duration;

use voicebot_bot::{Bot, BotError, Call, bot_fn};

/// The menu as an async function of the call.
fn menu() -> impl Bot {
    bot_fn(|call: Call| async move {
        let choice = call
            .gather()
            .prompt("prompts/welcome.wav")
            .max_digits(1)
            .timeout(Duration::from_secs(5))
            .tries(3)
            .await?;
        match choice.as_str() {
            "1" => call.transfer("100").await?, // 3CX transferto
            "2" => call.route_to("200").prompt("prompts/ringback.wav").await?,
            _ => call.play("prompts/goodbye.wav").await.map(drop)?,
        }
        Ok::<_, BotError>(())
    })
}

fn main() {
    // Running a bot needs an engine and a PBX (or the simulator): see `voicebot demo`.
    let bot = menu();
    println!("built {}", std::any::type_name_of_val(&bot));
}
