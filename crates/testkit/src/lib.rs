//! Tests for voicebot bots, in a handful of lines.
//!
//! Two levels, both real implementations rather than mocks:
//!
//! - **End to end** ([`TestPbx`]): the 3CX simulator (real HTTP and WebSocket on
//!   loopback), an engine and your bot, in the test's process. Scripted callers
//!   ([`TestCaller`]) dial in, listen, press keys and hang up; you assert what each
//!   heard ([`TestCaller::heard_prompts`]), pressed and where the call went
//!   ([`TestCaller::wait_end`]). Prompts are stand-ins the kit writes
//!   ([`TestPbxBuilder::prompts`]): each a constant tone of its own, so what a caller
//!   heard reads back as prompt names.
//! - **Unit** ([`FakeCall`]): a [`Call`](voicebot_bot::Call) served by a fake call
//!   task on tokio's clock, without PBX or engine. Prompts take time, digits barge in
//!   and are gathered by the engine's own gather state machine, transfers ring and may
//!   be refused, recordings end as told; [`FakeCall::journal`] lists what the bot did.
//!   Run it under `#[tokio::test(start_paused = true)]` and minutes pass in no time.
//!
//! It depends on the simulator, the engine and the PBX client, which the bot crates
//! must not: use it as a `[dev-dependencies]` entry only.
//!
//! ```no_run
//! use voicebot_bot::bot_fn;
//! use voicebot_testkit::{CallEnd, TestPbx};
//!
//! # async fn example() {
//! let bot = bot_fn(|call| async move {
//!     let choice = call.gather().prompt("welcome.wav").max_digits(1).await?;
//!     match choice.as_str() {
//!         "1" => call.transfer("100").await?,
//!         _ => call.play("goodbye.wav").await.map(drop)?,
//!     }
//!     Ok(())
//! });
//! let pbx = TestPbx::builder().prompts(["welcome", "goodbye"]).start(bot).await;
//! let alice = pbx.call_in("+15550100").await;
//! alice.wait_for_prompt("welcome").await;
//! alice.press("1").await.unwrap();
//! assert_eq!(alice.wait_end().await, CallEnd::TransferredTo("100".to_owned()));
//! assert_eq!(alice.heard_prompts(), ["welcome"]);
//! # }
//! ```
//!
//! # Design
//!
//! The end-to-end half is the harness voicebot's own tests use (`tests/support.rs` in
//! the repository), so a bot author tests against exactly what the engine is tested
//! against. The fake call serves the engine-facing protocol of `voicebot-bot`
//! (`voicebot_bot::__engine`), which is why it lives here and not in a bot's crate:
//! when that protocol changes, one fake changes with it.

mod caller;
mod fake;
mod logging;
mod pbx;
mod prompts;
mod s3;

pub use voicebot_media::Repeat;
/// The simulator crate, for faults, journal entries and settings.
pub use voicebot_sim as sim;
pub use voicebot_sim::{CallEnd, CallSpec, Script, Sim, SimConfig, Step, within};

pub use crate::caller::TestCaller;
pub use crate::fake::{Entry, FakeCall, FakeCallBuilder};
pub use crate::logging::init_logging;
pub use crate::pbx::{TestPbx, TestPbxBuilder};
pub use crate::s3::S3Server;
