//! The detector measurement suite, shared by the quick test (`tests/detectors.rs`, run by
//! `cargo test`) and the full bench (`benches/detectors.rs`): generated DTMF tones, espeak-ng
//! speech, noise, babble, clicks and music-like tone pairs through [`voicebot_media`]'s
//! `DtmfDetector` and `VoiceDetector`. Everything comes from a seeded RNG, so a run is
//! deterministic. It prints Markdown tables and checks the targets of the detectors' note
//! (`crates/media/docs/detectors.md`).

mod dtmf;
mod signals;
mod speech;
mod vad;

use std::fmt::Write as _;

use voicebot_media::{VadConfig, VadModel};

use self::signals::{RATE, Rng, dbfs_rms, white};

/// How much audio to measure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub(crate) seed: u64,
    /// DTMF trials per condition.
    pub(crate) dtmf_trials: usize,
    /// Speech for talk-off and voice detection, seconds.
    pub(crate) speech_secs: f64,
    /// Music-like audio for talk-off, seconds.
    pub(crate) music_secs: f64,
    /// White noise for talk-off, seconds.
    pub(crate) noise_secs: f64,
    /// Each non-speech voice-detection condition, seconds.
    pub(crate) nonspeech_secs: f64,
    /// Compare every voice-detection model, not only the default.
    pub(crate) all_vad_models: bool,
    /// Measure DTMF (detection and talk-off).
    pub(crate) dtmf: bool,
    /// Measure voice detection.
    pub(crate) vad: bool,
}

impl Scale {
    /// A few seconds of CPU in a debug build: the test's form.
    pub(crate) const QUICK: Self = Self {
        seed: 20,
        dtmf_trials: 40,
        speech_secs: 60.0,
        music_secs: 90.0,
        noise_secs: 30.0,
        nonspeech_secs: 40.0,
        all_vad_models: false,
        dtmf: true,
        vad: true,
    };

    /// The bench's form: an hour of speech and of music, 2,000 tones per condition.
    #[allow(dead_code, reason = "the test runs the quick form only")]
    pub(crate) const FULL: Self = Self {
        seed: 2_020,
        dtmf_trials: 2_000,
        speech_secs: 3_600.0,
        music_secs: 3_600.0,
        noise_secs: 600.0,
        nonspeech_secs: 600.0,
        all_vad_models: true,
        dtmf: true,
        vad: true,
    };
}

/// The measured figures, with a Markdown rendering.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) text: String,
    /// Targets missed, each as a sentence.
    pub(crate) missed: Vec<String>,
}

impl Report {
    fn check(&mut self, ok: bool, what: String) {
        if !ok {
            self.missed.push(what);
        }
    }
}

/// Runs the suite at `scale`.
pub(crate) fn run(scale: Scale) -> Report {
    let mut rng = Rng::new(scale.seed);
    let mut report = Report::default();
    if scale.dtmf {
        measure_dtmf(scale, &mut rng, &mut report);
    }
    let speech = speech::corpus(&mut rng, scale.speech_secs);
    if scale.dtmf {
        measure_talk_off(scale, &speech, &mut rng, &mut report);
    }
    if !scale.vad {
        return report;
    }
    let models: Vec<(&str, VadConfig)> = match scale.all_vad_models {
        true => vec![
            ("default", VadConfig::default()),
            ("earshot", with_model(VadModel::Earshot { threshold: 0.5 })),
            ("energy", with_model(VadModel::Energy { margin_db: 9.0 })),
            (
                "earshot + energy",
                with_model(VadModel::Both {
                    threshold: 0.5,
                    margin_db: 6.0,
                }),
            ),
        ],
        false => vec![("default", VadConfig::default())],
    };
    // Voice detection on the first ten minutes of speech at most: its figures settle long before.
    let cut = speech.samples.len().min((600.0 * RATE) as usize);
    let vad_speech = speech::Speech {
        samples: speech.samples[..cut].to_vec(),
        labels: speech.labels[..cut / 160].to_vec(),
    };
    let conditions = vad::conditions(&mut rng, &vad_speech, scale.nonspeech_secs);
    let noises = vad::settle_noises(&mut rng);
    for (name, config) in models {
        measure_vad(name, config, &conditions, &noises, &mut rng, &mut report);
    }
    report
}

fn with_model(model: VadModel) -> VadConfig {
    VadConfig {
        model,
        ..VadConfig::default()
    }
}

fn measure_dtmf(scale: Scale, rng: &mut Rng, report: &mut Report) {
    let mut table = String::from(
        "| DTMF condition | trials | detected | wrong digits |\n|---|---:|---:|---:|\n",
    );
    for condition in dtmf::conditions() {
        let rate = dtmf::measure(&condition, scale.dtmf_trials, rng);
        let _ = writeln!(
            table,
            "| {} | {} | {:.2}% | {} |",
            condition.name,
            rate.trials,
            rate.percent(),
            rate.wrong
        );
        let (ok, target) = match (condition.valid, condition.snr_db.is_some()) {
            (false, _) => (rate.detected == 0, "0%"),
            (true, true) => (rate.percent() >= 99.5, ">= 99.5%"),
            (true, false) => (rate.percent() >= 99.9, ">= 99.9%"),
        };
        report.check(
            ok && rate.wrong == 0,
            format!(
                "DTMF {}: {:.2}% detected (target {target}), {} wrong",
                condition.name,
                rate.percent(),
                rate.wrong
            ),
        );
    }
    report.text.push_str(&table);
}

fn measure_talk_off(scale: Scale, speech: &speech::Speech, rng: &mut Rng, report: &mut Report) {
    let mut table =
        String::from("\n| Talk-off | audio | false digits | per hour |\n|---|---:|---:|---:|\n");
    let mut row = |name: &str, samples: &[f64], max_per_hour: f64, report: &mut Report| {
        let hours = samples.len() as f64 / RATE / 3_600.0;
        let count = dtmf::false_digits(samples);
        let per_hour = count as f64 / hours;
        let _ = writeln!(
            table,
            "| {name} | {:.0} min | {count} | {per_hour:.1} |",
            hours * 60.0
        );
        // The quick form holds minutes, not hours: there any false digit misses the target.
        let ok = match scale.speech_secs < 3_600.0 {
            true => count == 0,
            false => per_hour <= max_per_hour,
        };
        report.check(ok, format!("talk-off on {name}: {count} false digits ({per_hour:.1} per hour, target <= {max_per_hour})"));
    };
    row("speech at -20 dBFS", &speech.samples, 1.0, report);
    let louder: Vec<f64> = speech.samples.iter().map(|s| s * 3.16).collect();
    row("speech at -10 dBFS", &louder, 1.0, report);
    let music = signals::music(rng, scale.music_secs);
    row("music-like tones", &music, 5.0, report);
    let noise = white(rng, (scale.noise_secs * RATE) as usize, dbfs_rms(-20.0));
    row("white noise -20 dBFS", &noise, 0.0, report);
    report.text.push_str(&table);
}

fn measure_vad(
    model: &str,
    config: VadConfig,
    conditions: &[vad::VadCondition],
    noises: &[(String, Vec<f64>)],
    rng: &mut Rng,
    report: &mut Report,
) {
    let mut table = format!(
        "\n| VAD ({model}) | speech caught | non-speech flagged | false starts/min |\n|---|---:|---:|---:|\n"
    );
    let percent = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}%"));
    for condition in conditions {
        let score = vad::score(config, &condition.samples, &condition.labels);
        let _ = writeln!(
            table,
            "| {} | {} | {} | {:.1} |",
            condition.name,
            percent(score.speech_caught),
            percent(score.nonspeech_flagged),
            score.false_starts_per_min
        );
        if model != "default" {
            continue;
        }
        if condition.name == "clean speech" {
            let caught = score.speech_caught.unwrap_or(0.0);
            report.check(
                caught >= 98.0,
                format!("VAD clean speech: {caught:.1}% of speech frames caught (target >= 98%)"),
            );
        }
        if condition.name.starts_with("music") || condition.name.starts_with("noise bursts") {
            report.check(
                score.false_starts_per_min <= 2.0,
                format!(
                    "VAD {}: {:.1} false starts per minute (target <= 2)",
                    condition.name, score.false_starts_per_min
                ),
            );
        }
    }
    let mut worst: f64 = 0.0;
    let mut settle = String::new();
    for (name, noise) in noises {
        let t = vad::settle_time(config, noise, 3.0, rng);
        worst = worst.max(t);
        let _ = write!(settle, "{name}: {t:.2} s; ");
    }
    let _ = writeln!(
        table,
        "\nNoise after a quiet line, speech reported until (after onset): {settle}"
    );
    if model == "default" {
        report.check(
            worst <= 1.0,
            format!("VAD noise after a quiet line: settled after {worst:.2} s (target <= 1 s)"),
        );
    }
    report.text.push_str(&table);
}
