//! Voice-detection measurements: speech caught, non-speech flagged and false starts per minute,
//! and how long noise that appears after a quiet line passes for speech.

use std::time::Duration;

use voicebot_media::{Frame, VadConfig, VoiceDetector, VoiceEvent};

use super::signals::{
    RATE, Rng, add, dbfs_rms, impulses, music, noise_bursts, rumble, to_i16, white,
};
use super::speech::{SPEECH_DBFS, Speech, babble};

/// Frames per second.
const FPS: f64 = 50.0;

/// What a detector made of one condition.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct VadScore {
    /// Labelled speech frames inside a reported speech interval.
    pub(crate) speech_caught: Option<f64>,
    /// Labelled non-speech frames (far from any speech) inside a reported speech interval.
    pub(crate) nonspeech_flagged: Option<f64>,
    /// Reported speech intervals without any labelled speech frame, per minute.
    pub(crate) false_starts_per_min: f64,
}

/// Speech intervals (frame indices, end exclusive) as the detector reports them: from each
/// `SpeechStarted { at }` to the matching `SpeechStopped { at }`.
pub(crate) fn intervals(config: VadConfig, samples: &[f64]) -> Vec<(usize, usize)> {
    let mut vad = VoiceDetector::new(config).expect("valid VAD settings");
    let frames = to_i16(samples);
    let index = |at: Duration| (at.as_micros() / Frame::DURATION.as_micros()) as usize;
    let mut out = Vec::new();
    let mut open = None;
    let count = frames.len() / 160;
    for (i, chunk) in frames.chunks_exact(160).enumerate() {
        match vad.process(&Frame::from_slice_padded(chunk), Frame::DURATION * i as u32) {
            Some(VoiceEvent::SpeechStarted { at }) => open = Some(index(at)),
            Some(VoiceEvent::SpeechStopped { at }) => {
                if let Some(start) = open.take() {
                    out.push((start, index(at).max(start + 1)));
                }
            }
            None => {}
        }
    }
    if let Some(start) = open {
        out.push((start, count));
    }
    out
}

/// Scores `samples` against `labels` (one per frame).
pub(crate) fn score(config: VadConfig, samples: &[f64], labels: &[Option<bool>]) -> VadScore {
    let found = intervals(config, samples);
    let mut flagged = vec![false; labels.len()];
    for &(start, end) in &found {
        flagged[start.min(labels.len())..end.min(labels.len())].fill(true);
    }
    let fraction = |want: bool| {
        let (hit, total) = labels
            .iter()
            .zip(&flagged)
            .filter(|(label, _)| **label == Some(want))
            .fold((0usize, 0usize), |(hit, total), (_, &f)| {
                (hit + usize::from(f), total + 1)
            });
        (total > 0).then(|| 100.0 * hit as f64 / total as f64)
    };
    let false_starts = found
        .iter()
        .filter(|&&(start, end)| {
            !labels[start.min(labels.len())..end.min(labels.len())].contains(&Some(true))
        })
        .count();
    VadScore {
        speech_caught: fraction(true),
        nonspeech_flagged: fraction(false),
        false_starts_per_min: false_starts as f64 / (labels.len() as f64 / FPS / 60.0),
    }
}

/// A named condition: audio and its per-frame labels.
#[derive(Debug, Clone)]
pub(crate) struct VadCondition {
    pub(crate) name: String,
    pub(crate) samples: Vec<f64>,
    pub(crate) labels: Vec<Option<bool>>,
}

/// Speech alone and with white noise, rumble and babble; then non-speech alone: music-like
/// tones, noise bursts (1 s on, 1 s off) and clicks.
pub(crate) fn conditions(rng: &mut Rng, speech: &Speech, nonspeech_secs: f64) -> Vec<VadCondition> {
    let n = speech.samples.len();
    let mut out = vec![VadCondition {
        name: "clean speech".into(),
        samples: speech.samples.clone(),
        labels: speech.labels.clone(),
    }];
    let noisy = |name: &str, noise: Vec<f64>| {
        let mut samples = speech.samples.clone();
        add(&mut samples, 0, &noise, 1.0);
        VadCondition {
            name: name.into(),
            samples,
            labels: speech.labels.clone(),
        }
    };
    out.push(noisy(
        "speech + white noise, 20 dB SNR",
        white(rng, n, dbfs_rms(SPEECH_DBFS - 20.0)),
    ));
    out.push(noisy(
        "speech + white noise, 10 dB SNR",
        white(rng, n, dbfs_rms(SPEECH_DBFS - 10.0)),
    ));
    out.push(noisy(
        "speech + rumble, 10 dB SNR",
        rumble(rng, n, dbfs_rms(SPEECH_DBFS - 10.0)),
    ));
    let mut talkers = babble(rng, speech, 6, n);
    let gain = dbfs_rms(SPEECH_DBFS - 10.0) / dbfs_rms(super::signals::level_dbfs(&talkers));
    talkers.iter_mut().for_each(|s| *s *= gain);
    out.push(noisy("speech + babble, 10 dB SNR", talkers));
    let mut music_bed = music(rng, n as f64 / RATE);
    music_bed.iter_mut().for_each(|s| *s *= 0.3); // about 10 dB under the speech
    out.push(noisy("speech + music, 10 dB SNR", music_bed));
    let nonspeech = |name: &str, samples: Vec<f64>| {
        let labels = vec![Some(false); samples.len() / 160];
        VadCondition {
            name: name.into(),
            samples,
            labels,
        }
    };
    out.push(nonspeech("music-like tones", music(rng, nonspeech_secs)));
    out.push(nonspeech(
        "noise bursts -30 dBFS, 1 s on/off",
        noise_bursts(rng, nonspeech_secs, -30.0),
    ));
    out.push(nonspeech(
        "noise bursts -45 dBFS, 1 s on/off",
        noise_bursts(rng, nonspeech_secs, -45.0),
    ));
    let mut clicks = impulses(rng, nonspeech_secs);
    add(
        &mut clicks,
        0,
        &white(rng, (nonspeech_secs * RATE) as usize, dbfs_rms(-70.0)),
        1.0,
    );
    out.push(nonspeech("clicks and knocks", clicks));
    out
}

/// Noise appearing after `quiet_secs` of a quiet line: how long (seconds) after its onset the
/// detector still reports speech.
pub(crate) fn settle_time(config: VadConfig, noise: &[f64], quiet_secs: f64, rng: &mut Rng) -> f64 {
    let quiet = (quiet_secs * RATE) as usize;
    let mut samples = white(rng, quiet + noise.len(), dbfs_rms(-70.0));
    add(&mut samples, quiet, noise, 1.0);
    let onset = quiet / 160;
    intervals(config, &samples)
        .iter()
        .filter(|&&(_, end)| end > onset)
        .map(|&(_, end)| (end - onset) as f64 / FPS)
        .fold(0.0, f64::max)
}

/// The noises of [`settle_time`], 8 s each: white and rumble at −45, −35 and −25 dBFS.
pub(crate) fn settle_noises(rng: &mut Rng) -> Vec<(String, Vec<f64>)> {
    let n = (8.0 * RATE) as usize;
    let mut out = Vec::new();
    for level in [-45.0, -35.0, -25.0] {
        out.push((
            format!("white {level} dBFS"),
            white(rng, n, dbfs_rms(level)),
        ));
        out.push((
            format!("rumble {level} dBFS"),
            rumble(rng, n, dbfs_rms(level)),
        ));
    }
    out
}
