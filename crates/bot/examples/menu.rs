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
//! The bot is a value: `voicebot run` registers bots like it by name (see
//! `examples/custom-bot`), and `Engine::builder().route_point(dn, bot)` runs it
//! directly. Here it runs on the test kit's `FakeCall` (no engine, no PBX), on
//! tokio's paused clock, and prints what happened on the call:
//!
//! ```text
//! cargo run -p voicebot-bot --example menu
//! ```

use std::time::Duration;

use voicebot_bot::{Bot, BotError, Call, bot_fn};
use voicebot_testkit::FakeCall;

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

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let fake = FakeCall::new();
    let call = fake.call();
    let bot = menu();
    let running = tokio::spawn(async move { bot.handle(call).await });
    // The caller presses 2 one second into the welcome prompt.
    tokio::time::sleep(Duration::from_secs(1)).await;
    fake.press("2");
    let outcome = running.await.expect("the bot task");
    for entry in fake.journal() {
        println!("{entry}");
    }
    println!("the bot returned {outcome:?}");
}
