//! `voicebot call`: a scripted test call through the Call Control API.
//!
//! The Call Control API cannot dial *in* as an outside caller, so the call is placed
//! with `makecall` from one of the API client's own DNs (the route point by default,
//! or a monitored extension with `--from`) to `--to`. Once the far end answers, what
//! the script says goes into the call on the POST audio stream, digits as in-band
//! DTMF tones (3CX has no endpoint to send DTMF), and the GET stream is saved with
//! `--save`. The same works against `voicebot sim`.
//!
//! It cannot: dial from an arbitrary outside number, send RFC 2833 / SIP INFO DTMF,
//! or wait on prompts it hears (scripts use `wait` steps, timed from the connect).

mod timeline;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use futures::StreamExt;
use serde::Serialize;
use tokio::time::Instant;
use voicebot_callcontrol::{CallControlError, Client};
use voicebot_media::{Frame, decode_samples, encode_samples, samples_to_duration};
use voicebot_model::{Dn, MakeCallRequest, ParticipantId};

use self::timeline::{Timeline, parse_press, samples_in};
use super::pbx::PbxArgs;
use crate::exit::Exit;

/// Options of `voicebot call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    pbx: PbxArgs,
    /// Number or DN to call.
    #[arg(long, value_name = "NUMBER")]
    to: String,
    /// The API client's DN to call from (default: its route point, the client id).
    #[arg(long, value_name = "DN")]
    from: Option<String>,
    /// A scenario file (`steps = [{ wait = "2s" }, { press = "1" }, { send_wav = "x.wav" }, "hang_up"]`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["press", "send"])]
    script: Option<PathBuf>,
    /// Press keys at a time after the connect, e.g. `1@2s` (repeatable).
    #[arg(long, value_name = "DIGITS@TIME", value_parser = parse_press)]
    press: Vec<(String, Duration)>,
    /// Say this WAV (any rate) as soon as the call connects.
    #[arg(long, value_name = "WAV")]
    send: Option<PathBuf>,
    /// Save what was heard as an 8 kHz mono WAV.
    #[arg(long, value_name = "WAV")]
    save: Option<PathBuf>,
    /// Keep listening this long after the script's last sound.
    #[arg(long, default_value = "3s", value_parser = humantime_serde::re::humantime::parse_duration)]
    listen: Duration,
    /// How long to let it ring.
    #[arg(long, default_value = "30s", value_parser = humantime_serde::re::humantime::parse_duration)]
    ring: Duration,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    from: String,
    to: String,
    participant: i64,
    answered_after_secs: f64,
    said: Vec<String>,
    heard_secs: f64,
    far_end_hung_up: bool,
    saved: Option<PathBuf>,
}

/// Places the call, plays the script, records, hangs up.
pub(crate) async fn run(args: CallArgs) -> anyhow::Result<()> {
    let timeline = match &args.script {
        Some(path) => Timeline::from_script(path)?,
        None => Timeline::from_flags(args.send.as_deref(), &args.press)?,
    };
    let target = args.pbx.target()?;
    let client = target.client()?;
    let from = Dn::new(
        args.from
            .clone()
            .unwrap_or_else(|| target.client_id.clone()),
    );
    let started = Instant::now();
    let request = MakeCallRequest {
        destination: args.to.clone(),
        timeout: Some(u32::try_from(args.ring.as_secs().max(1)).unwrap_or(u32::MAX)),
        attacheddata: None,
    };
    let placed = client
        .make_call(&from, &request)
        .await
        .with_context(|| format!("makecall from {from} to {}", args.to))?;
    let id = placed
        .result
        .map(|participant| participant.id)
        .ok_or_else(|| {
            Exit::Runtime.error(format!(
                "the PBX placed no call: {}",
                placed.reasontext.unwrap_or(placed.reason)
            ))
        })?;
    if !args.json {
        println!("calling {} from {from} (participant {id})", args.to);
    }
    let outcome = converse(&client, &from, id, &args, &timeline, started).await;
    // Hang up whatever happened; a 404 means the far end already did.
    let _ = client.drop_participant(&from, id).await;
    let (mut report, heard) = outcome?;
    report.from = from.to_string();
    report.to = args.to.clone();
    report.participant = id.0;
    if let Some(path) = &args.save {
        super::convert::write_wav(path, &heard)?;
        report.saved = Some(path.clone());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("answered after {:.1} s", report.answered_after_secs);
    for said in &report.said {
        println!("  {said}");
    }
    println!(
        "heard {:.1} s{}",
        report.heard_secs,
        match report.far_end_hung_up {
            true => "; the far end hung up",
            false => "; we hung up",
        }
    );
    if let Some(path) = &report.saved {
        println!("saved what was heard to {}", path.display());
    }
    Ok(())
}

/// Waits for the answer, then plays the timeline while recording; returns the report
/// and the samples heard.
async fn converse(
    client: &Client,
    from: &Dn,
    id: ParticipantId,
    args: &CallArgs,
    timeline: &Timeline,
    started: Instant,
) -> anyhow::Result<(Report, Vec<i16>)> {
    wait_answered(client, from, id, args.ring).await?;
    let mut report = Report {
        answered_after_secs: started.elapsed().as_secs_f64(),
        ..Report::default()
    };
    let mut incoming = client
        .audio_from(from, id)
        .await
        .context("opening the audio from the call")?;
    let mut outgoing = client
        .audio_to(from, id)
        .await
        .context("opening the audio into the call")?;
    let connected = Instant::now();
    let stop_at = timeline.hang_up_at.unwrap_or(timeline.end() + args.listen);
    let mut heard_bytes = Vec::new();
    let mut queue: std::collections::VecDeque<i16> = std::collections::VecDeque::new();
    let mut cues = timeline.cues.iter().peekable();
    let mut tick = tokio::time::interval(Frame::DURATION);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = connected.elapsed();
                if now >= stop_at {
                    break;
                }
                while let Some(cue) = cues.next_if(|cue| cue.at <= now) {
                    report.said.push(format!("{:>5.1} s  {}", cue.at.as_secs_f64(), cue.label));
                    queue.extend(&cue.samples);
                }
                if !queue.is_empty() {
                    let take = samples_in(Frame::DURATION).min(queue.len());
                    let frame: Vec<i16> = queue.drain(..take).collect();
                    let mut bytes = vec![0u8; frame.len() * 2];
                    encode_samples(&frame, &mut bytes);
                    if let Err(error) = outgoing.send(Bytes::from(bytes)).await {
                        tracing::warn!(%error, "the audio into the call stopped");
                    }
                }
            }
            chunk = incoming.next() => match chunk {
                Some(Ok(bytes)) => heard_bytes.extend_from_slice(&bytes),
                Some(Err(error)) => {
                    tracing::warn!(%error, "the audio from the call stopped");
                    report.far_end_hung_up = true;
                    break;
                }
                None => {
                    report.far_end_hung_up = true;
                    break;
                }
            },
        }
    }
    let _ = outgoing.finish().await;
    let mut heard = vec![0i16; heard_bytes.len() / 2];
    decode_samples(&heard_bytes, &mut heard);
    report.heard_secs = samples_to_duration(heard.len() as u64).as_secs_f64();
    Ok((report, heard))
}

/// Polls the participant until it is connected; fails if it goes away or rings too long.
async fn wait_answered(
    client: &Client,
    dn: &Dn,
    id: ParticipantId,
    ring: Duration,
) -> anyhow::Result<()> {
    let give_up = Instant::now() + ring + Duration::from_secs(2);
    loop {
        match client.participant(dn, id).await {
            Ok(participant) if participant.is_connected() => return Ok(()),
            Ok(_) => {}
            Err(CallControlError::NotFound(_)) => {
                return Err(Exit::Runtime
                    .error("the call ended before it was answered (busy, refused or no answer)"));
            }
            Err(error) => return Err(error).context("watching the call"),
        }
        if Instant::now() >= give_up {
            return Err(Exit::Runtime.error(format!("no answer within {} s", ring.as_secs())));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
