//! The test recogniser program for `CommandRecognizer`: reads s16le PCM on stdin (rate from
//! VOICEBOT_SAMPLE_RATE), finds utterances by energy, prints one JSON result per line. Each
//! final's text is the first phrase of VOICEBOT_PHRASES (or "speech").
//!
//! Faults on demand: `--crash-after-ms N` exits with status 3 after N ms of audio,
//! `--stall-after-ms N` stops reading (sleeps forever); `--once PATH` makes the fault happen
//! only in the first process (it creates PATH). `--vosk` prints Vosk-style results.
//! `--label TEXT` makes every result's text TEXT (e.g. speech off the grammar).
//! Compiled by the tests with plain rustc: std only.

#[path = "energy.rs"]
mod energy;

use std::io::{Read, Write};

use energy::{Event, Segmenter};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let opt_text = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let once = args
        .iter()
        .position(|a| a == "--once")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let fault_allowed = || match &once {
        Some(path) => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .is_ok(),
        None => true,
    };
    let (crash_after, stall_after) = (opt("--crash-after-ms"), opt("--stall-after-ms"));
    let vosk = args.iter().any(|a| a == "--vosk");
    let rate: usize = std::env::var("VOICEBOT_SAMPLE_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8000);
    // A crude look into the JSON array: the first quoted string.
    let label = opt_text("--label").unwrap_or_else(|| {
        std::env::var("VOICEBOT_PHRASES")
            .ok()
            .and_then(|p| p.split('"').nth(1).map(str::to_owned))
            .unwrap_or_else(|| "speech".to_owned())
    });
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut bytes = vec![0u8; rate / 50 * 2];
    let mut segmenter = Segmenter::default();
    let mut faulted = false;
    let print = |event: Event, out: &mut dyn Write| {
        let line = match (event, vosk) {
            (Event::Partial, true) => format!(r#"{{"partial": "{label}"}}"#),
            (Event::Partial, false) => format!(r#"{{"text": "{label}", "final": false}}"#),
            (Event::Final { start_ms, end_ms }, true) => format!(
                r#"{{"result": [{{"word": "{label}", "start": {}, "end": {}, "conf": 0.9}}], "text": "{label}"}}"#,
                start_ms as f64 / 1000.0,
                end_ms as f64 / 1000.0
            ),
            (Event::Final { start_ms, end_ms }, false) => format!(
                r#"{{"text": "{label}", "final": true, "start": {}, "end": {}, "confidence": 0.9}}"#,
                start_ms as f64 / 1000.0,
                end_ms as f64 / 1000.0
            ),
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    while stdin.read_exact(&mut bytes).is_ok() {
        let samples: Vec<i16> = bytes
            .chunks_exact(2)
            .map(|p| i16::from_le_bytes([p[0], p[1]]))
            .collect();
        if let Some(event) = segmenter.push(&samples) {
            print(event, &mut stdout);
        }
        let now = segmenter.now_ms();
        if !faulted && crash_after.is_some_and(|ms| now >= ms) {
            faulted = true;
            if fault_allowed() {
                std::process::exit(3);
            }
        }
        if !faulted && stall_after.is_some_and(|ms| now >= ms) {
            faulted = true;
            if fault_allowed() {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                }
            }
        }
    }
    if let Some(event) = segmenter.end() {
        print(event, &mut stdout);
    }
}
