//! Audio both ways, byte-exact, with chunks split mid-sample.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use voicebot_callcontrol::{AudioIn, CallControlError};
use voicebot_model::ParticipantId;
use voicebot_sim::{AudioConfig, InboundMode, JournalKind, SimConfig, StreamDirection};

use crate::support::{builder, pcm, read_now_until, send_now_paced, signal, start, within};

/// Reads `audio` until `want` bytes past the leading silence have arrived.
async fn read_signal(audio: &mut AudioIn, want: usize) -> (Vec<u8>, Vec<usize>) {
    let mut received = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let chunk = audio.next().await.expect("stream open").expect("no error");
        sizes.push(chunk.len());
        received.extend_from_slice(&chunk);
        let start = received.iter().position(|byte| *byte != 0);
        if let Some(start) = start.filter(|start| received.len() - start >= want) {
            return (received[start..start + want].to_vec(), sizes);
        }
    }
}

/// A connected call whose audio arrives in odd-sized chunks, read in whole samples;
/// the caller (kept on the line by holding it) has sent the returned samples.
async fn odd_chunked_call() -> (voicebot_sim::Sim, voicebot_sim::Caller, AudioIn, Vec<i16>) {
    let (sim, client) = start(odd_chunks()).await;
    let caller = sim.call_in("+15551234").await.unwrap();
    caller.wait_connected().await.unwrap();
    let audio = client
        .audio_from(sim.route_point(), caller.participant_id())
        .await
        .unwrap()
        .whole_samples();
    let samples = signal(2000);
    caller.send_pcm(&samples).await;
    (sim, caller, audio, samples)
}

fn odd_chunks() -> SimConfig {
    SimConfig {
        audio: AudioConfig {
            chunk_bytes: 317,
            ..AudioConfig::default()
        },
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn caller_audio_arrives_byte_exact_in_odd_chunks() {
    within(10, async {
        let (sim, client) = start(odd_chunks()).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let mut audio = client
            .audio_from(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        let samples = signal(4000);
        caller.send_pcm(&samples).await;
        let (received, sizes) = read_signal(&mut audio, samples.len() * 2).await;
        assert_eq!(received, pcm(&samples));
        assert!(
            sizes.iter().any(|size| size % 2 == 1),
            "chunks split samples: {sizes:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn whole_samples_mode_realigns_odd_chunks() {
    within(10, async {
        let (_sim, _caller, mut audio, samples) = odd_chunked_call().await;
        let (received, sizes) = read_signal(&mut audio, samples.len() * 2).await;
        assert_eq!(received, pcm(&samples));
        assert!(sizes.iter().all(|size| size % 2 == 0), "{sizes:?}");
    })
    .await;
}

#[tokio::test]
async fn the_stream_ends_when_the_caller_hangs_up() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let mut audio = client
            .audio_from(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        audio.next().await.unwrap().unwrap();
        caller.hang_up().await.unwrap();
        while let Some(chunk) = audio.next().await {
            chunk.unwrap();
        }
        assert!(audio.bytes_received() > 0);
    })
    .await;
}

#[tokio::test]
async fn opening_waits_while_the_leg_connects() {
    within(10, async {
        let (sim, client) = start(SimConfig {
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await;
        let caller = sim.call_in("+15551234").await.unwrap();
        let id = caller.participant_id();
        let opening = {
            let client = client.clone();
            let dn = sim.route_point().clone();
            tokio::spawn(async move { client.audio_from(&dn, id).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        client.answer(sim.route_point(), id).await.unwrap();
        let mut audio = opening.await.unwrap().unwrap();
        audio.next().await.unwrap().unwrap();
        let statuses: Vec<u16> = crate::support::requests(
            &sim,
            &format!("/callcontrol/800/participants/{}/stream", id.0),
        )
        .iter()
        .map(|r| r.2)
        .collect();
        assert!(
            statuses.len() >= 3 && statuses.contains(&424),
            "{statuses:?}"
        );
        assert_eq!(statuses.last(), Some(&200));
    })
    .await;
}

#[tokio::test]
async fn opening_gives_up_after_the_open_timeout() {
    within(10, async {
        let (sim, _) = start(SimConfig {
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await;
        let client = builder(&sim)
            .audio_open_timeout(Duration::from_millis(400))
            .build()
            .unwrap();
        let caller = sim.call_in("+15551234").await.unwrap();
        let error = client
            .audio_from(sim.route_point(), caller.participant_id())
            .await
            .unwrap_err();
        assert!(error.is_failed_dependency(), "{error:?}");
        let error = client
            .audio_from(sim.route_point(), ParticipantId(9999))
            .await
            .unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn audio_to_the_caller_is_byte_exact_with_chunks_split_mid_sample() {
    within(15, async {
        let (sim, client) = start(SimConfig::default()).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let mut out = client
            .audio_to(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        let samples = signal(8000);
        let bytes = pcm(&samples);
        // 333-byte chunks: every other chunk ends in the middle of a sample. Pace
        // roughly at real time (333 B ≈ 21 ms) with a lead, as the engine would.
        for (index, chunk) in bytes.chunks(333).enumerate() {
            out.send(Bytes::copy_from_slice(chunk)).await.unwrap();
            if index > 20 {
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        }
        assert_eq!(out.bytes_sent(), bytes.len() as u64);
        out.finish().await.unwrap();
        within(5, caller.wait_heard(Duration::from_secs(1)))
            .await
            .unwrap();
        let heard = caller.heard();
        assert_eq!(heard.audio(), samples);
        assert_eq!(heard.bytes_received, bytes.len() as u64);
        let closed = sim
            .journal()
            .into_iter()
            .find_map(|entry| match entry.kind {
                JournalKind::StreamClosed {
                    direction: StreamDirection::IntoCall,
                    bytes,
                    reason,
                    ..
                } => Some((bytes, reason)),
                _ => None,
            });
        assert_eq!(closed, Some((bytes.len() as u64, "end of body".to_owned())));
    })
    .await;
}

#[tokio::test]
async fn dropping_audio_out_aborts_the_upload() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let mut out = client
            .audio_to(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        out.send(Bytes::from(pcm(&signal(800)))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(out);
        let mut reason = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            reason = sim
                .journal()
                .into_iter()
                .find_map(|entry| match entry.kind {
                    JournalKind::StreamClosed {
                        direction: StreamDirection::IntoCall,
                        reason,
                        ..
                    } => Some(reason),
                    _ => None,
                });
            if reason.is_some() {
                break;
            }
        }
        let reason = reason.expect("the PBX saw the upload end");
        assert_ne!(reason, "end of body", "a drop is not a clean end");
    })
    .await;
}

#[tokio::test]
async fn audio_to_an_unknown_participant_reports_the_refusal() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut out = client
            .audio_to(sim.route_point(), ParticipantId(9999))
            .await
            .unwrap();
        let mut result = Ok(());
        for _ in 0..100 {
            result = out.send(Bytes::from_static(&[1, 2, 3, 4])).await;
            if result.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let error = match result {
            Err(error) => error,
            Ok(()) => out.finish().await.unwrap_err(),
        };
        assert!(matches!(error, CallControlError::NotFound(_)), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn read_now_takes_what_has_arrived_without_waiting() {
    within(10, async {
        let (_sim, _caller, mut audio, samples) = odd_chunked_call().await;
        let (reads, empty_polls) =
            read_now_until(&mut audio, &pcm(&samples), Duration::from_millis(30)).await;
        for read in &reads {
            assert!(*read > 0 && read % 2 == 0, "whole samples: {read}");
        }
        assert!(
            empty_polls > 0,
            "audio arrives at real time, so some polls found none"
        );
        // At most an odd byte is held back for its sample's other half.
        let held = audio.bytes_received() - reads.iter().sum::<usize>() as u64;
        assert!(held <= 1, "{held} bytes received but not handed out");
    })
    .await;
}

#[tokio::test]
async fn send_now_writes_without_waiting_and_the_caller_hears_it_byte_exact() {
    within(15, async {
        let (sim, client) = start(SimConfig::default()).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let mut out = client
            .audio_to(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        assert!(
            matches!(out.send_now(&[1, 2]), Err(CallControlError::Closed { .. })),
            "an upload not yet connected takes nothing"
        );
        out.connect().await.unwrap();
        let samples = signal(8000);
        let bytes = pcm(&samples);
        send_now_paced(&mut out, &bytes).await;
        // An empty send only writes what the socket did not take yet.
        out.send_now(&[]).unwrap();
        assert_eq!(out.backlog(), 0, "loopback takes a second of audio at once");
        assert_eq!(out.bytes_sent(), bytes.len() as u64);
        out.finish().await.unwrap();
        within(5, caller.wait_heard(Duration::from_secs(1)))
            .await
            .unwrap();
        assert_eq!(caller.heard().audio(), samples);
    })
    .await;
}

#[tokio::test]
async fn send_now_reports_the_pbxs_refusal_without_waiting() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut out = client
            .audio_to(sim.route_point(), ParticipantId(9999))
            .await
            .unwrap();
        out.connect().await.unwrap();
        let mut result = Ok(());
        for _ in 0..200 {
            result = out.send_now(&[1, 2, 3, 4]);
            if result.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let error = result.expect_err("the refusal arrives while sending");
        assert!(matches!(error, CallControlError::NotFound(_)), "{error:?}");
        // The upload is over: every later send says the same.
        let again = out.send_now(&[5, 6]).expect_err("still refused");
        assert!(matches!(again, CallControlError::NotFound(_)), "{again:?}");
    })
    .await;
}

#[tokio::test]
async fn detached_streams_carry_audio_both_ways_byte_exact_without_the_reactor() {
    within(15, async {
        let (_sim, caller, mut audio, samples) = odd_chunked_call().await;
        // Out of the reactor: only polling sees what arrives.
        audio.detach().unwrap();
        read_now_until(&mut audio, &pcm(&samples), Duration::from_millis(20)).await;
        // The async read still works on a detached stream (it polls).
        let mut buf = [0u8; 1024];
        let read = audio.read(&mut buf).await.unwrap();
        assert!(read > 0);

        drop((audio, caller));
        let (sim, client) = start(SimConfig::default()).await;
        let caller = sim.call_in("+15551235").await.unwrap();
        caller.wait_connected().await.unwrap();
        let mut out = client
            .audio_to(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        assert!(
            matches!(out.detach(), Err(CallControlError::Closed { .. })),
            "an upload not yet connected has no socket to take out"
        );
        out.connect().await.unwrap();
        out.detach().unwrap();
        let samples = signal(8000);
        let bytes = pcm(&samples);
        send_now_paced(&mut out, &bytes).await;
        out.send_now(&[]).unwrap();
        assert_eq!(out.backlog(), 0);
        // Ending the body waits for the PBX's answer on the detached socket.
        out.finish().await.unwrap();
        within(5, caller.wait_heard(Duration::from_secs(1)))
            .await
            .unwrap();
        assert_eq!(caller.heard().audio(), samples);
    })
    .await;
}

#[tokio::test]
async fn a_detached_upload_still_hears_the_pbxs_refusal() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut out = client
            .audio_to(sim.route_point(), ParticipantId(9999))
            .await
            .unwrap();
        out.connect().await.unwrap();
        out.detach().unwrap();
        let mut result = Ok(());
        for _ in 0..300 {
            result = out.send_now(&[1, 2, 3, 4]);
            if result.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let error = result.expect_err("the refusal arrives while sending");
        assert!(matches!(error, CallControlError::NotFound(_)), "{error:?}");
    })
    .await;
}
