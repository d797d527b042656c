//! A recording survives SIGKILL: the test re-runs its own binary as a child that records, kills
//! it mid-recording, and checks what is left on disk.

use std::{path::Path, process::Command, time::Duration};

use voicebot_media::{Channels, RecorderBuilder, Repair, repair_wav};

const CHILD_ENV: &str = "VOICEBOT_MEDIA_RECORD_CHILD";
const FLUSHED: usize = 8_000; // one flush interval: 1 s
const WRITTEN: usize = 15_200; // 1.9 s: the last 0.9 s is never flushed

fn sample(i: usize) -> i16 {
    (i % 30_000) as i16
}

/// In the child: record 1.9 s (one header flush at 1 s), say so, then hang mid-recording.
fn record_and_hang(path: &Path) -> ! {
    let mut rec = RecorderBuilder::new(path)
        .channels(Channels::Caller)
        .flush_interval(Duration::from_secs(1))
        .create()
        .expect("child creates the recording");
    let samples: Vec<i16> = (0..WRITTEN).map(sample).collect();
    for chunk in samples.chunks(160) {
        rec.write_caller(chunk).expect("child writes");
    }
    std::fs::write(path.with_extension("ready"), b"").expect("child signals");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn killed_recording_plays_to_last_flush_and_repairs() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        record_and_hang(Path::new(&path));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("call.wav");
    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "--exact",
            "killed_recording_plays_to_last_flush_and_repairs",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .spawn()
        .expect("spawns child");
    let ready = path.with_extension("ready");
    for _ in 0..600 {
        if ready.exists() || child.try_wait().expect("polls child").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        ready.exists(),
        "child never got to the middle of the recording"
    );
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.wait().expect("reaps child");

    // Without repair: the header is as of the last flush, and those samples are intact.
    let mut reader = hound::WavReader::open(&path).expect("a killed recording still opens");
    assert_eq!(reader.len() as usize, FLUSHED);
    let got: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("reads");
    assert!(got.iter().enumerate().all(|(i, &s)| s == sample(i)));

    // Repair recovers what the buffered writer had pushed to disk past the flush.
    let Repair::Repaired {
        claimed_bytes,
        actual_bytes,
    } = repair_wav(&path).expect("repairs")
    else {
        panic!("the header was stale");
    };
    assert_eq!(claimed_bytes as usize, FLUSHED * 2);
    assert!(
        actual_bytes as usize > FLUSHED * 2,
        "nothing recovered past the flush"
    );
    let reader = hound::WavReader::open(&path).expect("opens repaired");
    let got: Vec<i16> = reader
        .into_samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("reads");
    assert_eq!(got.len(), actual_bytes as usize / 2);
    assert!(got.len() <= WRITTEN);
    assert!(got.iter().enumerate().all(|(i, &s)| s == sample(i)));
}
