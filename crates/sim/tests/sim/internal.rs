//! A call from an extension to the route point (`makecall` from 101 to 800): it
//! reaches the route point's client as an inbound call, and the two legs' streams
//! carry each other's audio.

use std::time::Duration;

use futures::StreamExt;
use voicebot_model::{CallControlResult, DnType, ParticipantStatus};
use voicebot_sim::{CallEnd, InboundMode, Sim, SimConfig};

use super::util::{act, client, makecall, participant, post_pcm, token, within};

/// Reads a GET stream until `wanted` bytes equal to `value` have arrived.
async fn hear(response: reqwest::Response, value: i16, wanted: usize) {
    let mut stream = response.bytes_stream();
    let mut bytes = Vec::new();
    loop {
        let chunk = stream.next().await.expect("the stream stays open").unwrap();
        bytes.extend_from_slice(&chunk);
        let matching = bytes
            .chunks_exact(2)
            .filter(|pair| i16::from_le_bytes([pair[0], pair[1]]) == value)
            .count();
        if matching >= wanted {
            return;
        }
    }
}

#[tokio::test]
async fn an_extension_calls_the_route_point_and_both_sides_hear_each_other() {
    within(30, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let response = makecall(&sim, &token, "101", "800").await;
        assert_eq!(response.status(), 200);
        let placed: CallControlResult = response.json().await.unwrap();
        let caller_leg = placed.result.unwrap();
        assert_eq!(caller_leg.dn.as_str(), "101");
        assert_eq!(caller_leg.party_dn_type, DnType::RoutePoint);
        // The route point's client sees an inbound call from 101, connected.
        let bot_side = sim.wait_outbound("800").await.unwrap();
        let inbound = participant(&sim, &token, "800", bot_side.participant_id().0).await;
        assert_eq!(inbound.status, ParticipantStatus::Connected);
        assert_eq!(inbound.party_caller_id, "101");
        assert_eq!(inbound.party_dn_type, DnType::Extension);
        assert_eq!(inbound.callid, caller_leg.callid);
        let caller_now = participant(&sim, &token, "101", caller_leg.id.0).await;
        assert_eq!(caller_now.status, ParticipantStatus::Connected);

        let stream = |dn: &str, id: i64| {
            format!(
                "{}/callcontrol/{dn}/participants/{id}/stream",
                sim.base_url()
            )
        };
        let bot_stream = stream("800", inbound.id.0);
        let caller_stream = stream("101", caller_leg.id.0);
        let bot_hears = client()
            .get(&bot_stream)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let caller_hears = client()
            .get(&caller_stream)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(bot_hears.status(), 200);
        assert_eq!(caller_hears.status(), 200);
        // 101 says 7s, the bot says 9s: each hears the other.
        let (caller_http, bot_http) = (client(), client());
        let said_by_caller = post_pcm(&caller_http, &caller_stream, &token, 7, 1600);
        let said_by_bot = post_pcm(&bot_http, &bot_stream, &token, 9, 1600);
        let (a, b) = tokio::join!(said_by_caller, said_by_bot);
        assert_eq!((a.as_u16(), b.as_u16()), (200, 200));
        tokio::join!(hear(bot_hears, 7, 1600), hear(caller_hears, 9, 1600));

        // 101 hangs up: the whole call ends, the route point's leg with it.
        assert_eq!(act(&sim, &token, "101", caller_leg.id.0, "drop").await, 200);
        assert_eq!(bot_side.wait_ended().await, CallEnd::HungUp);
        assert!(sim.snapshot().iter().all(|dn| dn.participants.is_empty()));
    })
    .await;
}

#[tokio::test]
async fn a_ringing_route_point_call_from_an_extension_connects_on_answer() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        let response = makecall(&sim, &token, "101", "800").await;
        let caller_leg = response
            .json::<CallControlResult>()
            .await
            .unwrap()
            .result
            .unwrap();
        let bot_side = sim.wait_outbound("800").await.unwrap();
        let id = bot_side.participant_id().0;
        assert_eq!(
            participant(&sim, &token, "800", id).await.status,
            ParticipantStatus::Ringing
        );
        assert_eq!(
            participant(&sim, &token, "101", caller_leg.id.0)
                .await
                .status,
            ParticipantStatus::Dialing
        );
        assert_eq!(act(&sim, &token, "800", id, "answer").await, 200);
        bot_side.wait_connected().await.unwrap();
        assert_eq!(
            participant(&sim, &token, "101", caller_leg.id.0)
                .await
                .status,
            ParticipantStatus::Connected
        );
        // The bot drops: the extension's leg goes too.
        assert_eq!(act(&sim, &token, "800", id, "drop").await, 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(sim.snapshot().iter().all(|dn| dn.participants.is_empty()));
    })
    .await;
}
