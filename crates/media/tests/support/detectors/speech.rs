//! Speech from espeak-ng (installed by `.ci/apt-packages`): random sentences in several voices,
//! speeds and pitches, with pauses between them, and per-frame speech labels.

use std::process::Command;

use voicebot_media::Prompt;

use super::signals::{RATE, Rng, add, dbfs_rms, level_dbfs};

const WORDS: &[&str] = &[
    "the",
    "a",
    "your",
    "my",
    "call",
    "account",
    "number",
    "please",
    "hold",
    "line",
    "agent",
    "billing",
    "support",
    "sales",
    "order",
    "delivery",
    "yesterday",
    "tomorrow",
    "morning",
    "evening",
    "seven",
    "eight",
    "nine",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "star",
    "pound",
    "hash",
    "press",
    "speak",
    "to",
    "someone",
    "about",
    "problem",
    "with",
    "internet",
    "connection",
    "payment",
    "card",
    "refund",
    "invoice",
    "address",
    "changed",
    "moved",
    "would",
    "like",
    "need",
    "help",
    "check",
    "status",
    "of",
    "is",
    "was",
    "not",
    "working",
    "since",
    "last",
    "week",
    "thank",
    "you",
    "very",
    "much",
    "hello",
    "yes",
    "no",
    "maybe",
    "operator",
    "representative",
    "cancel",
    "subscription",
    "upgrade",
    "plan",
    "phone",
    "mobile",
    "roaming",
    "charges",
    "password",
    "reset",
    "locked",
    "out",
    "email",
    "message",
    "received",
    "strange",
    "text",
    "fraud",
    "department",
    "manager",
    "complaint",
    "waiting",
    "for",
    "an",
    "hour",
    "already",
    "this",
    "is",
    "ridiculous",
    "okay",
    "sure",
    "fine",
    "great",
    "wonderful",
    "thursday",
    "friday",
    "monday",
    "december",
    "january",
    "twenty",
    "hundred",
    "thousand",
    "dollars",
    "euros",
    "street",
    "avenue",
    "apartment",
    "building",
    "floor",
    "quickly",
    "slowly",
    "again",
    "repeat",
    "sorry",
    "didn't",
    "catch",
    "that",
    "could",
    "spell",
    "it",
    "whisky",
    "tango",
    "foxtrot",
    "bravo",
    "charlie",
    "echo",
    "shipping",
];

const VOICES: &[&str] = &[
    "en-us",
    "en-gb",
    "en-us+f3",
    "en-gb+f2",
    "en+m3",
    "en-us+f4",
    "en-gb-scotland",
    "en-029",
    "en+m7",
    "en+f5",
];

/// Speech with its labels: `Some(true)` for a frame (20 ms) with speech in it, `Some(false)` for
/// one far (> 300 ms) from any speech, `None` for frames near speech (word gaps, fades).
#[derive(Debug, Clone)]
pub(crate) struct Speech {
    pub(crate) samples: Vec<f64>,
    pub(crate) labels: Vec<Option<bool>>,
}

/// Active speech level the corpus is scaled to (dBFS RMS over frames with speech).
pub(crate) const SPEECH_DBFS: f64 = -20.0;

/// About `seconds` of speech: paragraphs of a few sentences, each in a random voice, speed and
/// pitch, separated by 0.5–2.5 s of silence.
///
/// # Panics
/// If espeak-ng cannot be run (it is a test dependency: `.ci/apt-packages`).
pub(crate) fn corpus(rng: &mut Rng, seconds: f64) -> Speech {
    let total = (seconds * RATE) as usize;
    let mut samples = Vec::with_capacity(total);
    while samples.len() < total {
        let pause = (rng.range(0.5, 2.5) * RATE) as usize;
        samples.resize(samples.len() + pause, 0.0);
        let mut paragraph = espeak(rng);
        normalise(&mut paragraph);
        samples.extend(paragraph);
    }
    samples.truncate(total);
    let labels = label(&samples);
    Speech { samples, labels }
}

/// Several talkers at once (the corpus, cut and overlaid at random offsets): babble, with no
/// pause long enough to count as non-speech.
pub(crate) fn babble(rng: &mut Rng, speech: &Speech, talkers: usize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for _ in 0..talkers {
        let offset = rng.below(speech.samples.len());
        let talker: Vec<f64> = speech
            .samples
            .iter()
            .cycle()
            .skip(offset)
            .take(n)
            .copied()
            .collect();
        add(&mut out, 0, &talker, 1.0);
    }
    out
}

fn espeak(rng: &mut Rng) -> Vec<f64> {
    let sentences = 2 + rng.below(4);
    let text: Vec<String> = (0..sentences)
        .map(|_| {
            let words: Vec<&str> = (0..4 + rng.below(10))
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect();
            let end = [".", "?", "!", ","][rng.below(4)];
            format!("{}{end}", words.join(" "))
        })
        .collect();
    let voice = VOICES[rng.below(VOICES.len())];
    let speed = 120 + rng.below(80);
    let pitch = 20 + rng.below(60);
    let output = Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
            "--stdout",
        ])
        .arg(text.join(" "))
        .output()
        .expect(
            "espeak-ng runs (a test dependency: apt-get install espeak-ng, see .ci/apt-packages)",
        );
    assert!(
        output.status.success(),
        "espeak-ng failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let prompt = Prompt::from_wav_bytes(&output.stdout).expect("espeak-ng writes a WAV");
    prompt.samples().iter().map(|&s| f64::from(s)).collect()
}

/// Scales speech so its active frames (within 40 dB of the loudest) average [`SPEECH_DBFS`].
fn normalise(samples: &mut [f64]) {
    let levels: Vec<f64> = samples.chunks(160).map(level_dbfs).collect();
    let loudest = levels.iter().copied().fold(f64::MIN, f64::max);
    let active: Vec<f64> = samples
        .chunks(160)
        .zip(&levels)
        .filter(|(_, level)| **level > loudest - 40.0)
        .flat_map(|(chunk, _)| chunk.iter().copied())
        .collect();
    let gain = dbfs_rms(SPEECH_DBFS) / dbfs_rms(level_dbfs(&active));
    samples.iter_mut().for_each(|s| *s *= gain);
}

fn label(samples: &[f64]) -> Vec<Option<bool>> {
    let speech: Vec<bool> = samples
        .chunks_exact(160)
        .map(|f| level_dbfs(f) > SPEECH_DBFS - 25.0)
        .collect();
    let near = 15; // frames: 300 ms
    (0..speech.len())
        .map(|i| {
            let lo = i.saturating_sub(near);
            let hi = (i + near + 1).min(speech.len());
            match (speech[i], speech[lo..hi].iter().any(|&s| s)) {
                (true, _) => Some(true),
                (false, false) => Some(false),
                (false, true) => None,
            }
        })
        .collect()
}
