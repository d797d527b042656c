//! Simulator conveniences driven by the clock: the route point's ring timeout and
//! hanging up every call at once. No socket is involved, so the clock is paused.

use std::time::Duration;

use voicebot_sim::{CallEnd, CallSpec, CallerState, InboundMode, Sim, SimConfig};

#[tokio::test(start_paused = true)]
async fn an_unanswered_route_point_call_gives_up_after_the_ring_timeout() {
    tokio::time::timeout(Duration::from_secs(600), async {
        let sim = Sim::start_with(SimConfig {
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        assert_eq!(
            sim.config().inbound_ring_timeout,
            Some(Duration::from_secs(60))
        );
        let caller = sim.call_in("+15550001").await.unwrap();
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert_eq!(caller.state(), CallerState::Ringing);
        assert_eq!(participants(&sim), 1);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(caller.state(), CallerState::Ended(CallEnd::NoAnswer));
        assert_eq!(participants(&sim), 0);
    })
    .await
    .expect("test timed out");
}

#[tokio::test(start_paused = true)]
async fn connected_calls_and_disabled_timeouts_never_give_up() {
    tokio::time::timeout(Duration::from_secs(600), async {
        let connected = Sim::start().await.unwrap();
        let stays = connected.call_in("+15550002").await.unwrap();
        let never = Sim::start_with(SimConfig {
            inbound: InboundMode::Ringing,
            inbound_ring_timeout: None,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let rings = never.call_in("+15550003").await.unwrap();
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(stays.state(), CallerState::Connected);
        assert_eq!(rings.state(), CallerState::Ringing);
    })
    .await
    .expect("test timed out");
}

#[tokio::test(start_paused = true)]
async fn hang_up_all_ends_every_call() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let sim = Sim::start().await.unwrap();
        let callers = [
            sim.call_in("+15550004").await.unwrap(),
            sim.call_in("+15550005").await.unwrap(),
            sim.call(CallSpec::new("+15550006").to("101"))
                .await
                .unwrap(),
        ];
        assert_eq!(participants(&sim), 3);
        assert_eq!(sim.hang_up_all(), 3);
        assert_eq!(participants(&sim), 0);
        for caller in &callers {
            assert_eq!(caller.state(), CallerState::Ended(CallEnd::HungUp));
        }
        assert_eq!(sim.hang_up_all(), 0);
    })
    .await
    .expect("test timed out");
}

fn participants(sim: &Sim) -> usize {
    sim.snapshot().iter().map(|dn| dn.participants.len()).sum()
}
