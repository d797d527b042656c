//! The recording writer: one blocking task for all calls' WAV files.
//!
//! Media tasks never touch files. They hand [`WriterCommand`]s (frames are `Copy`, so
//! a command allocates nothing) to a task on tokio's blocking pool, which owns every
//! open [`Recorder`](voicebot_media::Recorder). The hand-off never waits: the channel is
//! unbounded, because a bounded one made every call's 20 ms media tick wait behind the
//! slowest disk of any call. A slow disk now costs memory (at most the audio of the
//! recordings in progress), never another call's audio.
//!
//! A recording's outcome goes back on its own `oneshot`, given when it opens: at once
//! when a write fails (the file keeps the audio up to its last header update, a valid
//! WAV), else when its media task finishes it, including on hang-up and shutdown.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};
use voicebot_bot::RecordEnd;
use voicebot_media::{Channels, Frame, Recorder, RecorderBuilder, RecorderError, RecordingSummary};

/// A stretch of a recording the caller's audio did not reach the engine (its stream
/// was cut or stalled and reopened), filled with silence to keep wall-clock time.
pub(crate) type Gap = voicebot_bot::RecordingGap;

/// A finished recording, as its media task ended it.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) summary: RecordingSummary,
    pub(crate) end: RecordEnd,
    pub(crate) gaps: Vec<Gap>,
}

/// The outcome of a recording: sent when its file is closed, or at the first write error.
pub(crate) type RecordingDone = oneshot::Sender<Result<Finished, RecorderError>>;

/// The sending side, for media tasks: never waits.
pub(crate) type WriterSender = mpsc::UnboundedSender<WriterCommand>;

/// One request to the writer.
#[derive(Debug)]
pub(crate) enum WriterCommand {
    /// Create the file; `done` gets the outcome.
    Open {
        id: u64,
        path: PathBuf,
        channels: Channels,
        done: RecordingDone,
    },
    /// Append the first `len` samples of `frame` from the caller.
    Caller { id: u64, frame: Frame, len: u16 },
    /// Append `samples` of silence on the caller side (a gap in the caller's audio).
    Silence { id: u64, samples: u64 },
    /// Append a frame sent to the caller (stereo recordings).
    Bot { id: u64, frame: Frame },
    /// Close the file and report.
    Finish {
        id: u64,
        end: RecordEnd,
        gaps: Vec<Gap>,
    },
    /// Answer `done` (everything sent before this is done: files finished are closed).
    Flush { done: oneshot::Sender<()> },
    /// Close every open file and stop (the engine has stopped).
    Stop,
}

/// An open recording and where its outcome goes.
struct Open {
    recorder: Recorder,
    done: RecordingDone,
}

/// Runs the writer until [`WriterCommand::Stop`] or every sender is gone. Blocking: run
/// it on the blocking pool.
/// `pbx` labels its error counter.
pub(crate) fn run(
    mut commands: mpsc::UnboundedReceiver<WriterCommand>,
    pbx: metrics::SharedString,
) {
    let mut open: HashMap<u64, Open> = HashMap::new();
    while let Some(command) = commands.blocking_recv() {
        match command {
            WriterCommand::Stop => break,
            WriterCommand::Flush { done } => {
                let _ = done.send(());
            }
            WriterCommand::Open {
                id,
                path,
                channels,
                done,
            } => {
                if let Some(parent) = path.parent()
                    && !parent.as_os_str().is_empty()
                {
                    let _ = std::fs::create_dir_all(parent);
                }
                match RecorderBuilder::new(path).channels(channels).create() {
                    Ok(recorder) => {
                        open.insert(id, Open { recorder, done });
                    }
                    Err(error) => failed(&pbx, done, error),
                }
            }
            WriterCommand::Caller { id, frame, len } => {
                let samples = &frame.as_samples()[..usize::from(len)];
                write(&mut open, &pbx, id, |r| r.write_caller(samples));
            }
            WriterCommand::Silence { id, samples } => {
                let silence = [0i16; Frame::SAMPLES];
                let mut left = samples;
                write(&mut open, &pbx, id, |r| {
                    while left > 0 {
                        let n = left.min(Frame::SAMPLES as u64) as usize;
                        r.write_caller(&silence[..n])?;
                        left -= n as u64;
                    }
                    Ok(())
                });
            }
            WriterCommand::Bot { id, frame } => {
                write(&mut open, &pbx, id, |r| r.write_bot(frame.as_samples()));
            }
            WriterCommand::Finish { id, end, gaps } => {
                // Unknown: it failed earlier and was reported then.
                if let Some(Open { recorder, done }) = open.remove(&id) {
                    match recorder.finish() {
                        Ok(summary) => {
                            let _ = done.send(Ok(Finished { summary, end, gaps }));
                        }
                        Err(error) => failed(&pbx, done, error),
                    }
                }
            }
        }
    }
    // The engine is gone: close what is still open so every file is valid.
    for Open { recorder, .. } in open.into_values() {
        let _ = recorder.finish();
    }
}

/// Applies a write; the first error ends the recording and is reported at once.
fn write(
    open: &mut HashMap<u64, Open>,
    pbx: &metrics::SharedString,
    id: u64,
    apply: impl FnOnce(&mut Recorder) -> Result<(), RecorderError>,
) {
    let Some(entry) = open.get_mut(&id) else {
        return;
    };
    if let Err(error) = apply(&mut entry.recorder) {
        let Some(Open { recorder, done }) = open.remove(&id) else {
            return;
        };
        // Best effort: fix the header over what was written. If that fails too, the
        // header of the last periodic update stands, so the file stays a valid WAV.
        let _ = recorder.finish();
        failed(pbx, done, error);
    }
}

fn failed(pbx: &metrics::SharedString, done: RecordingDone, error: RecorderError) {
    tracing::warn!(%error, "recording failed");
    metrics::counter!(crate::metrics::RECORDER_ERRORS, "pbx" => pbx.clone()).increment(1);
    let _ = done.send(Err(error));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(
        path: &str,
    ) -> (
        WriterSender,
        oneshot::Receiver<Result<Finished, RecorderError>>,
    ) {
        let (sender, commands) = mpsc::unbounded_channel();
        std::thread::spawn(move || run(commands, "test".into()));
        let (done, outcome) = oneshot::channel();
        let command = WriterCommand::Open {
            id: 1,
            path: PathBuf::from(path),
            channels: Channels::Caller,
            done,
        };
        sender.send(command).unwrap();
        (sender, outcome)
    }

    #[test]
    fn a_write_error_is_reported_at_once_not_at_the_end() {
        // Every write to /dev/full fails with "no space left on device".
        let (sender, outcome) = open("/dev/full");
        let frame = Frame::from_samples([100; Frame::SAMPLES]);
        for _ in 0..100 {
            let len = Frame::SAMPLES as u16;
            let _ = sender.send(WriterCommand::Caller { id: 1, frame, len });
        }
        // No `Finish` was sent: the recording is still going as far as its call knows.
        let outcome = outcome.blocking_recv().expect("the writer answers");
        assert!(outcome.is_err(), "{outcome:?}");
    }

    #[test]
    fn a_file_that_cannot_be_created_is_reported_at_once() {
        let (_sender, outcome) = open("/proc/voicebot-no-such-dir/a.wav");
        let outcome = outcome.blocking_recv().expect("the writer answers");
        assert!(outcome.is_err(), "{outcome:?}");
    }

    #[test]
    fn gaps_are_silence_in_the_file_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gap.wav");
        let (sender, outcome) = open(path.to_str().unwrap());
        let frame = Frame::from_samples([100; Frame::SAMPLES]);
        let len = Frame::SAMPLES as u16;
        sender
            .send(WriterCommand::Caller { id: 1, frame, len })
            .unwrap();
        sender
            .send(WriterCommand::Silence {
                id: 1,
                samples: 800,
            })
            .unwrap();
        sender
            .send(WriterCommand::Caller { id: 1, frame, len })
            .unwrap();
        let gap = Gap {
            at: std::time::Duration::from_millis(20),
            len: std::time::Duration::from_millis(100),
        };
        let end = RecordEnd::Hangup;
        sender
            .send(WriterCommand::Finish {
                id: 1,
                end,
                gaps: vec![gap],
            })
            .unwrap();
        let finished = outcome.blocking_recv().unwrap().unwrap();
        assert_eq!(finished.gaps, vec![gap]);
        let samples: Vec<i16> = hound::WavReader::open(&path)
            .unwrap()
            .samples::<i16>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(samples.len(), 160 + 800 + 160);
        assert!(samples[160..960].iter().all(|&s| s == 0));
        assert!(samples[960..].iter().all(|&s| s == 100));
    }

    const FULL_DISK_CHILD: &str = "VOICEBOT_WRITER_FULL_DISK_CHILD";
    /// The child's file-size limit, in the 1024-byte blocks of `ulimit -f`: about
    /// 2.5 s of audio, less than the 5 s the child records.
    const LIMIT_BLOCKS: u64 = 40;

    fn sample(n: usize) -> i16 {
        1000 + (n % 7000) as i16
    }

    /// In the child: a recording that runs into the file-size limit. Prints whether
    /// the error came back before the recording was finished.
    fn record_into_a_full_disk(path: &str) -> ! {
        let (sender, outcome) = open(path);
        let mut n = 0;
        for _ in 0..250 {
            let mut samples = [0i16; Frame::SAMPLES];
            for slot in &mut samples {
                *slot = sample(n);
                n += 1;
            }
            let frame = Frame::from_samples(samples);
            let len = Frame::SAMPLES as u16;
            let _ = sender.send(WriterCommand::Caller { id: 1, frame, len });
        }
        let outcome = outcome.blocking_recv().expect("the writer answers");
        println!("outcome before finish: {}", outcome.is_err());
        std::process::exit(0);
    }

    #[test]
    fn a_disk_that_fills_mid_recording_leaves_a_valid_wav_of_what_was_written() {
        if let Ok(path) = std::env::var(FULL_DISK_CHILD) {
            record_into_a_full_disk(&path);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("full.wav");
        // A child process with a file-size limit (writes past it fail with EFBIG;
        // SIGXFSZ ignored, as the shell passes an ignored signal on through exec).
        let exe = std::env::current_exe().unwrap();
        let script = format!(
            "trap '' XFSZ; ulimit -f {LIMIT_BLOCKS}; exec \"$0\" --exact \
             writer::tests::a_disk_that_fills_mid_recording_leaves_a_valid_wav_of_what_was_written \
             --nocapture"
        );
        let output = std::process::Command::new("sh")
            .args(["-c", &script])
            .arg(&exe)
            .env(FULL_DISK_CHILD, &path)
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        assert!(stdout.contains("outcome before finish: true"), "{stdout}");
        // What is on disk is a valid WAV of a prefix of what was sent, sample for sample.
        let samples: Vec<i16> = hound::WavReader::open(&path)
            .expect("still a valid WAV")
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("every sample the header claims is there");
        assert!(samples.len() >= 8_000, "{} samples kept", samples.len());
        assert!(samples.len() * 2 <= (LIMIT_BLOCKS * 1024) as usize);
        assert!(samples.iter().enumerate().all(|(n, &s)| s == sample(n)));
    }
}
