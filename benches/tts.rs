//! The built-in speech synthesiser (espeak-ng) as calls use it: time to first audio and CPU per
//! synthesised second.
//!
//! Run with `cargo bench --bench tts` (needs the `espeak-ng` program). It prints a table and one
//! JSON line. Measured, through the same `Speaker` the engine uses (sentence splitting, espeak-ng
//! run per sentence, WAV decoding and resampling to 8 kHz):
//!
//! - **time to first audio**: from `speak(text)` to the first sentence's 8 kHz audio in hand, for
//!   a three-sentence menu with no cache (every call's first play of a text it has never said),
//!   and with a warm disk cache (every later call);
//! - **whole text**: the time until the last sentence is ready, against the audio's length
//!   (real-time factor);
//! - **CPU per synthesised second**: CPU time of the espeak-ng processes (their user + system
//!   time, read from `/proc/self/stat` as the waited-for children's time) and of voicebot's own
//!   part (decoding and resampling: this process's time), divided by the seconds of speech made.
//!
//! The 20 ms media budget does not apply: synthesis runs on its own task and process, never in a
//! media tick. What matters for a caller is the time to first audio (silence before a prompt).

use std::time::{Duration, Instant};

use voicebot_speech::tts::{Espeak, Speaker, TtsCache};

/// A menu prompt of the usual shape.
const MENU: &str = "Thank you for calling Example Corp. Press 1 for sales, 2 for support, or \
    3 to leave a message. To hear these options again, press 9.";

/// A long announcement for the CPU measurement.
const LONG: &str = "Our opening hours have changed. From the first of March, the shop is open \
    from nine in the morning to six in the evening, Monday to Friday. On Saturdays we open at ten \
    and close at four. We are closed on Sundays and public holidays. Orders placed online are \
    shipped the next working day. For returns, please keep your receipt and the original \
    packaging. Thank you for your patience, and have a good day.";

const RUNS: usize = 20;

/// CPU seconds of this process and of its waited-for children, from `/proc/self/stat`.
fn cpu_times() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat format") + 2..]
        .split_whitespace()
        .collect();
    // utime, stime, cutime, cstime are fields 14-17 of stat (1-based); 3 is fields[0].
    let tick = |index: usize| fields[index - 3].parse::<f64>().expect("a number") / clock_ticks();
    (tick(14) + tick(15), tick(16) + tick(17))
}

fn clock_ticks() -> f64 {
    // sysconf(_SC_CLK_TCK): 100 on Linux on every architecture voicebot runs on.
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

fn percentile(samples: &mut [Duration], share: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * share).round() as usize]
}

async fn first_audio(speaker: &Speaker, text: &str) -> (Duration, Duration, Duration) {
    let started = Instant::now();
    let mut stream = speaker.speak(text, None);
    let mut first = None;
    let mut audio = Duration::ZERO;
    while let Some(sentence) = stream.next().await {
        let sentence = sentence.expect("espeak-ng speaks (is it installed?)");
        first.get_or_insert_with(|| started.elapsed());
        audio += sentence.duration();
    }
    (
        first.expect("at least one sentence"),
        started.elapsed(),
        audio,
    )
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let espeak = Espeak::builder().build().expect("default settings");
    let cold = Speaker::new(espeak.clone());
    let cache_dir = tempfile::tempdir().expect("a temporary folder");
    let cache = TtsCache::open(cache_dir.path(), 100_000_000).expect("the cache folder");
    let warm = Speaker::new(espeak).with_cache(cache);
    // Warm-up: page in espeak-ng and its voice data, fill the cache.
    first_audio(&cold, MENU).await;
    first_audio(&warm, MENU).await;

    let (mut cold_first, mut cold_whole, mut warm_first) = (Vec::new(), Vec::new(), Vec::new());
    let mut menu_audio = Duration::ZERO;
    for _ in 0..RUNS {
        let (first, whole, audio) = first_audio(&cold, MENU).await;
        cold_first.push(first);
        cold_whole.push(whole);
        menu_audio = audio;
        warm_first.push(first_audio(&warm, MENU).await.0);
    }

    let (own_before, children_before) = cpu_times();
    let started = Instant::now();
    let mut long_audio = Duration::ZERO;
    for _ in 0..5 {
        long_audio += first_audio(&cold, LONG).await.2;
    }
    let wall = started.elapsed();
    let (own_after, children_after) = cpu_times();
    let spoken = long_audio.as_secs_f64();
    let espeak_cpu = (children_after - children_before) / spoken;
    let own_cpu = (own_after - own_before) / spoken;

    let cold_p50 = percentile(&mut cold_first, 0.5);
    let cold_p95 = percentile(&mut cold_first, 0.95);
    let whole_p50 = percentile(&mut cold_whole, 0.5);
    let warm_p50 = percentile(&mut warm_first, 0.5);
    println!("espeak-ng through voicebot's Speaker ({RUNS} runs, release build recommended)");
    println!(
        "  menu, {:.1} s of speech in 3 sentences",
        menu_audio.as_secs_f64()
    );
    println!(
        "    time to first audio, no cache:  p50 {:.0} ms, p95 {:.0} ms",
        ms(cold_p50),
        ms(cold_p95)
    );
    println!(
        "    time to first audio, cached:    p50 {:.1} ms",
        ms(warm_p50)
    );
    println!(
        "    whole text ready, no cache:     p50 {:.0} ms (real-time factor {:.3})",
        ms(whole_p50),
        whole_p50.as_secs_f64() / menu_audio.as_secs_f64()
    );
    println!(
        "  long announcement x5, {spoken:.1} s of speech in {:.2} s",
        wall.as_secs_f64()
    );
    println!(
        "    CPU per synthesised second: espeak-ng {:.1} ms, voicebot (decode + resample) {:.1} ms",
        espeak_cpu * 1_000.0,
        own_cpu * 1_000.0
    );
    println!(
        "{{\"bench\":\"tts\",\"engine\":\"espeak-ng\",\"first_audio_ms_p50\":{:.1},\"first_audio_ms_p95\":{:.1},\"first_audio_cached_ms_p50\":{:.2},\"whole_menu_ms_p50\":{:.1},\"menu_audio_s\":{:.2},\"cpu_ms_per_audio_s_espeak\":{:.2},\"cpu_ms_per_audio_s_voicebot\":{:.2}}}",
        ms(cold_p50),
        ms(cold_p95),
        ms(warm_p50),
        ms(whole_p50),
        menu_audio.as_secs_f64(),
        espeak_cpu * 1_000.0,
        own_cpu * 1_000.0
    );
}
