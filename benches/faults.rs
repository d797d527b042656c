//! Fault bench: calls under every fault at once, and what survived.
//!
//! `cargo bench --bench faults -- --calls 100 --seconds 60`
//!
//! `--calls` callers call the route point back to back for `--seconds` while the
//! simulator drops the event socket every 5 s, expires every token every 10 s, cuts
//! every audio stream every 7 s, answers 10% of POSTs on participants (actions and
//! the streams to callers) with 503, and restarts once halfway (participant ids start
//! again, so new calls reuse the ids of lost ones). Each bot loops hold music while it
//! records the caller until `#`, then hangs up. Each caller waits for the music, talks
//! for 3 to 6 s, presses `#` (again after 3 s if nothing happened, as a person would:
//! a press while the event socket is down is lost at the PBX) and waits to be dropped.
//!
//! It prints a table and one JSON line (starting with `{`) with:
//! - `calls_lost`: a caller whose bot never played, or whose call never ended, or
//!   ended otherwise than dropped after `#` (calls ended by the restart excepted);
//! - `recordings_short`: a finished call whose recording is missing or more than 0.5 s
//!   shorter than the caller talked (gaps are kept as silence, so they count);
//! - `duplicate_actions`: accepted actions repeated on the same call;
//! - `foreign_actions`: accepted actions on a call whose caller had not pressed `#`
//!   (e.g. an old session's drop hitting a new call that reuses its id);
//! - `dead_air_seconds`: silence the callers heard for more than 1 s at a time while
//!   their bot played (the caller's side of every stream fault).

mod common;

use std::collections::{HashMap, HashSet};
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;
use voicebot_bot::{Prompt, bot_fn};
use voicebot_callcontrol::{Client, Secret};
use voicebot_engine::Engine;
use voicebot_sim::{CallEnd, JournalKind, RecurringFault, RestartIds, Sim, SimConfig};

/// How one call went, from the caller's side.
#[derive(Debug)]
struct CallReport {
    callid: i64,
    /// The bot's music was heard.
    served: bool,
    /// Media time the caller talked, from the start of its message to the `#`.
    talked: Duration,
    end: Option<CallEnd>,
    /// Silences over 1 s heard while the bot played (before the `#`).
    dead_air: Duration,
    /// Times `#` was pressed.
    presses: u32,
}

fn main() {
    let (calls, seconds) = common::arguments(100, 60);
    let sim_runtime = common::runtime("vb-sim", 1);
    let engine_runtime = common::runtime("vb-engine", 2);
    let config = SimConfig {
        restart_ids: RestartIds::ParticipantIds,
        ..SimConfig::default()
    };
    let sim = Arc::new(
        sim_runtime
            .block_on(Sim::start_with(config))
            .expect("the simulator starts"),
    );
    let dir = tempfile::tempdir().expect("a folder for recordings");
    let (engine, shutdown) = start_engine(&engine_runtime, &sim, dir.path());

    let route_point = sim.route_point().clone();
    let faults = sim.faults().clone();
    let _repeating = sim_runtime.block_on(async {
        faults.fail_fraction(
            format!("POST /callcontrol/{route_point}/participants").as_str(),
            503,
            0.1,
        );
        [
            faults.repeat(RecurringFault::DropWebSockets, Duration::from_secs(5)),
            faults.repeat(RecurringFault::ExpireTokens, Duration::from_secs(10)),
            faults.repeat(RecurringFault::CutAudioStreams, Duration::from_secs(7)),
        ]
    });
    println!(
        "faults bench: {calls} callers for {seconds} s; event socket dropped every 5 s, tokens \
         expired every 10 s, audio streams cut every 7 s, 10% of participant POSTs answered \
         503, one PBX restart at {} s",
        seconds / 2
    );
    let deadline = tokio::time::Duration::from_secs(seconds);
    let reports: Vec<CallReport> = sim_runtime.block_on(async {
        let started = tokio::time::Instant::now();
        let restart = {
            let faults = faults.clone();
            tokio::spawn(async move {
                tokio::time::sleep(deadline / 2).await;
                faults.restart().await;
            })
        };
        let mut workers = Vec::new();
        for worker in 0..calls {
            let sim = Arc::clone(&sim);
            workers.push(tokio::spawn(async move {
                let mut reports = Vec::new();
                let mut n = 0;
                // Spread the first calls over a second, as real traffic would be.
                tokio::time::sleep(Duration::from_millis(
                    (worker as u64 * 1000) / calls.max(1) as u64,
                ))
                .await;
                while started.elapsed() < deadline {
                    n += 1;
                    let number = format!("+1555{worker:04}{n:03}");
                    reports.push(one_call(&sim, &number, worker + n).await);
                }
                reports
            }));
        }
        let mut reports = Vec::new();
        for worker in workers {
            reports.extend(worker.await.expect("a caller task"));
        }
        let _ = restart.await;
        reports
    });
    drop(_repeating);
    let _ = shutdown.send(());
    engine_runtime.shutdown_timeout(Duration::from_secs(10));
    let stats = engine.stats();
    let journal = sim.journal();
    summarize(&reports, &journal, dir.path(), &stats);
}

/// Presses `#` as a person would: again when nothing happened within 3 s (a press
/// made while the event socket was down is lost at the PBX, as with 3CX), at most
/// three times. Returns the presses made (none when the call was gone first).
async fn press_until_dropped(caller: &voicebot_sim::Caller) -> u32 {
    let mut presses = 0;
    while presses < 3 {
        if caller.press("#").await.is_err() {
            break;
        }
        presses += 1;
        let ended = tokio::time::timeout(Duration::from_secs(3), caller.wait_ended()).await;
        if ended.is_ok() {
            break;
        }
    }
    presses
}

/// One caller: music heard, a message, `#`, dropped.
async fn one_call(sim: &Sim, number: &str, seed: usize) -> CallReport {
    let mut report = CallReport {
        callid: 0,
        served: false,
        talked: Duration::ZERO,
        end: None,
        dead_air: Duration::ZERO,
        presses: 0,
    };
    let Ok(caller) = sim.call_in(number).await else {
        return report;
    };
    report.callid = caller.callid();
    let served = tokio::time::timeout(
        Duration::from_secs(10),
        caller.wait_heard(Duration::from_millis(200)),
    )
    .await;
    report.served = matches!(served, Ok(Ok(())));
    if report.served {
        let talk = Duration::from_millis(3000 + (seed as u64 * 7919) % 3000);
        let start = caller.media_time();
        caller
            .send_pcm(&common::sawtooth(common::samples_in(talk)))
            .await;
        let sent = tokio::time::timeout(talk + Duration::from_secs(5), caller.wait_sent()).await;
        report.talked = caller.media_time().saturating_sub(start);
        report.presses = match sent {
            Ok(()) => press_until_dropped(&caller).await,
            Err(_) => 0,
        };
        if report.presses > 0 {
            let heard = caller.heard();
            let until = caller.media_time();
            report.dead_air = heard
                .underruns
                .iter()
                .filter(|gap| gap.len > Duration::from_secs(1) && gap.at < until)
                .map(|gap| gap.len.min(until.saturating_sub(gap.at)))
                .sum();
        }
    }
    report.end = tokio::time::timeout(Duration::from_secs(20), caller.wait_ended())
        .await
        .ok();
    if report.end.is_none() {
        let _ = caller.hang_up().await;
    }
    report
}

fn summarize(
    reports: &[CallReport],
    journal: &[voicebot_sim::JournalEntry],
    recordings: &Path,
    stats: &voicebot_engine::EngineStats,
) {
    let restarted = |r: &CallReport| r.end == Some(CallEnd::Restarted);
    let lost: Vec<&CallReport> = reports
        .iter()
        .filter(|r| !restarted(r) && (!r.served || r.end != Some(CallEnd::Dropped)))
        .collect();
    let finished: Vec<&CallReport> = reports
        .iter()
        .filter(|r| r.served && r.end == Some(CallEnd::Dropped))
        .collect();
    let mut short = 0;
    let mut gaps_listed = 0;
    for report in &finished {
        let path = recordings.join(format!("{}.wav", report.callid));
        let length = wav_length(&path);
        if length.is_none_or(|length| length + Duration::from_millis(500) < report.talked) {
            short += 1;
            if short <= 5 {
                eprintln!(
                    "short recording: call {} talked {:?}, recorded {length:?}",
                    report.callid, report.talked
                );
            }
        }
        gaps_listed += gaps_in(&path);
    }
    let (duplicates, foreign) = action_checks(journal);
    let dead_air: Duration = reports
        .iter()
        .filter(|r| !restarted(r))
        .map(|r| r.dead_air)
        .sum();
    for report in lost.iter().take(5) {
        eprintln!("lost call: {report:?}");
    }
    let restarted_count = reports.iter().filter(|r| restarted(r)).count();
    let reopens: usize = journal
        .iter()
        .filter(|e| matches!(e.kind, JournalKind::StreamOpened { .. }))
        .count();
    println!("--- faults: {} calls ---", reports.len());
    println!("calls                  {}", reports.len());
    println!("  ended by the restart {restarted_count}");
    println!("  finished (# → drop)  {}", finished.len());
    println!("calls_lost             {}", lost.len());
    println!("recordings_short       {short} (gaps listed in metadata: {gaps_listed})");
    println!("duplicate_actions      {duplicates}");
    println!("foreign_actions        {foreign}");
    println!("dead_air_seconds       {:.1}", dead_air.as_secs_f64());
    println!(
        "# pressed again        {} callers (their first press fell in a socket outage)",
        reports.iter().filter(|r| r.presses > 1).count()
    );
    println!("audio streams opened   {reopens}");
    println!(
        "engine: calls started {}, ended {}, bot errors {}, panics {}",
        stats.calls_started, stats.calls_ended, stats.bot_errors, stats.bot_panics
    );
    println!(
        "{{\"calls\":{},\"calls_restarted\":{},\"calls_lost\":{},\"recordings_short\":{},\"duplicate_actions\":{},\"foreign_actions\":{},\"dead_air_seconds\":{:.1},\"bot_errors\":{}}}",
        reports.len(),
        restarted_count,
        lost.len(),
        short,
        duplicates,
        foreign,
        dead_air.as_secs_f64(),
        stats.bot_errors
    );
}

/// Accepted actions repeated on one call, and accepted actions on a call whose caller
/// had not pressed `#` yet.
fn action_checks(journal: &[voicebot_sim::JournalEntry]) -> (usize, usize) {
    let mut pressed: HashSet<i64> = HashSet::new();
    let mut accepted: HashMap<(i64, String), usize> = HashMap::new();
    let mut foreign = 0;
    for entry in journal {
        match &entry.kind {
            JournalKind::DtmfPressed { callid, .. } => {
                pressed.insert(*callid);
            }
            JournalKind::Action {
                callid: Some(callid),
                action,
                status,
                ..
            } if (200..300).contains(status) => {
                *accepted.entry((*callid, action.clone())).or_default() += 1;
                if !pressed.contains(callid) {
                    foreign += 1;
                }
            }
            _ => {}
        }
    }
    let duplicates = accepted.values().map(|count| count - 1).sum();
    (duplicates, foreign)
}

fn wav_length(path: &Path) -> Option<Duration> {
    let reader = hound::WavReader::open(path).ok()?;
    Some(Duration::from_micros(u64::from(reader.duration()) * 125))
}

/// Gaps the bot listed for a recording (it writes them beside the file).
fn gaps_in(wav: &Path) -> usize {
    let listed: PathBuf = wav.with_extension("gaps");
    std::fs::read_to_string(listed).map_or(0, |text| text.lines().count())
}

fn start_engine(
    runtime: &Runtime,
    sim: &Sim,
    recordings: &Path,
) -> (
    voicebot_engine::EngineHandle,
    tokio::sync::oneshot::Sender<()>,
) {
    let music: Vec<i16> = (0..8000)
        .map(|n| ((n as f64 * 0.05).sin() * 8000.0) as i16 | 1)
        .collect();
    let music = Prompt::from_samples(music).expect("a prompt");
    let bot = bot_fn(move |call| {
        let music = music.clone();
        async move {
            let hold = call.play(music).forever().not_interruptible().into_future();
            let record = call
                .record()
                .beep(false)
                .finish_on("#")
                .no_silence_timeout()
                .max_length(Duration::from_secs(60))
                .path_template("{callid}.wav");
            tokio::pin!(hold);
            let recording = tokio::select! {
                biased;
                recording = record => recording?,
                // The music only ends with the call.
                played = &mut hold => {
                    played?;
                    return Ok(());
                }
            };
            let gaps: String = recording
                .gaps
                .iter()
                .map(|gap| format!("{:?} {:?}\n", gap.at, gap.len))
                .collect();
            let _ = std::fs::write(recording.path.with_extension("gaps"), gaps);
            call.hangup().await?;
            Ok(())
        }
    });
    let client = Client::builder(sim.base_url())
        .credentials(sim.client_id(), Secret::new(sim.client_secret()))
        .build()
        .expect("the client builds");
    let engine = Engine::builder()
        .client(client)
        .route_point(sim.route_point().clone(), Arc::new(bot))
        .recordings_dir(recordings)
        .max_calls(4096)
        .build()
        .expect("the engine builds");
    common::run_engine(runtime, engine)
}
