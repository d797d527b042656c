//! `voicebot run` killed with SIGKILL mid-call and started again: the call is still
//! connected at the PBX, and the new engine adopts it and restarts its bot.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use voicebot_sim::{CallerState, JournalKind, Sim, SimConfig};

use crate::cli::{within, write_config};
use crate::support::sawtooth;

/// `voicebot run -c PATH` against the simulator, killed when dropped.
fn engine(config: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_voicebot"))
        .args(["run", "-c", config])
        .env("VOICEBOT_CLIENT_SECRET", SimConfig::default().client_secret)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("voicebot run starts")
}

/// Waits until the caller has heard `more` audio beyond what it had heard.
async fn hears_more(caller: &voicebot_sim::Caller, more: Duration) {
    let target = caller.heard().audio_duration() + more;
    caller
        .wait_heard(target)
        .await
        .expect("the caller hears the bot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_killed_mid_call_and_restarted_gives_the_call_its_bot_again() {
    within(async {
        let sim = Sim::start().await.expect("the simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(
            dir.path(),
            &format!(
                r#"
[pbx]
url = "{}"
client_id = "800"

[route_points."800"]
bot = "echo"
"#,
                sim.base_url()
            ),
        );
        let mut first = engine(&config);
        let caller = sim.call_in("+15550601").await.unwrap();
        // The caller talks for the whole test; the echo bot sends it back.
        caller.send_pcm(sawtooth(1500).samples()).await;
        hears_more(&caller, Duration::from_millis(500)).await;

        // SIGKILL: no shutdown, no hand-off, no drop. The call stays up at the PBX.
        first.kill().await.expect("the engine is killed");
        let _ = first.wait().await;
        assert_eq!(caller.state(), CallerState::Connected);

        let _second = engine(&config);
        // The new engine finds the call in its first snapshot and runs its bot again:
        // the echo resumes.
        hears_more(&caller, Duration::from_millis(500)).await;
        assert_eq!(caller.state(), CallerState::Connected);
        caller.hang_up().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_adopted_calls_to_the_fallback_a_restarted_engine_transfers_the_call() {
    within(async {
        let sim = Sim::start().await.expect("the simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let config = |adopted: &str| {
            format!(
                r#"
[pbx]
url = "{}"
client_id = "800"

[limits]
adopted_calls = "{adopted}"

[fallback]
destination = "+15550999"

[route_points."800"]
bot = "echo"
"#,
                sim.base_url()
            )
        };
        let mut first = engine(&write_config(dir.path(), &config("restart")));
        let caller = sim.call_in("+15550602").await.unwrap();
        caller.send_pcm(sawtooth(1500).samples()).await;
        hears_more(&caller, Duration::from_millis(500)).await;
        first.kill().await.expect("the engine is killed");
        let _ = first.wait().await;

        let _second = engine(&write_config(dir.path(), &config("fallback")));
        // The adopted call goes to the fallback (an outside number that answers), not
        // to a new echo bot.
        let transfers = loop {
            let transfers: Vec<_> = sim
                .journal()
                .into_iter()
                .filter_map(|entry| match entry.kind {
                    JournalKind::Action {
                        action,
                        destination,
                        status,
                        ..
                    } if action == "transferto" => Some((destination, status)),
                    _ => None,
                })
                .collect();
            if !transfers.is_empty() {
                break transfers;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(transfers, vec![(Some("+15550999".to_owned()), 200)]);
        assert_eq!(
            caller.wait_ended().await,
            voicebot_sim::CallEnd::TransferredTo("+15550999".to_owned())
        );
    })
    .await;
}
