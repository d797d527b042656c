//! `voicebot run --check` proves the configuration runs (issue #12, item 4): every
//! prompt each bot names is loaded, and the recordings folder is a writable
//! directory. Each problem names the route point, the bot, the key and the file.

use crate::cli::{code, text, voicebot, write_config};

/// An ivr-menu whose prompts are good, missing and corrupt, and a recorder.
fn config(recordings: &str) -> String {
    format!(
        r#"
recordings = "{recordings}"

[pbx]
url = "http://127.0.0.1:5001"
client_id = "800"

[route_points."800"]
bot = "ivr-menu"

[route_points."800".config]
invalid_prompt = "missing.wav"

[route_points."800".config.nodes.main]
prompt = "good.wav"
options."1" = {{ action = "hangup", prompt = "corrupt.wav" }}
options."2" = {{ action = "recorder", config = {{ greeting = "good.wav", saved_prompt = "gone.wav" }} }}

[route_points."801"]
bot = "echo"
config = {{ intro = "slow.wav" }}
"#
    )
}

/// A mono 16-bit WAV declaring `rate`, holding 8000 samples of a sawtooth.
fn mono_wav(path: &std::path::Path, rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..8000 {
        writer
            .write_sample(((n % 40) * 500 - 10_000) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// One second of a sawtooth at 8 kHz.
fn good_wav(path: &std::path::Path) {
    mono_wav(path, 8000);
}

/// 16 KB declaring a 1 Hz rate: 8000 s once resampled, refused from the header.
fn slow_wav(path: &std::path::Path) {
    mono_wav(path, 1);
}

#[tokio::test]
async fn every_broken_prompt_and_the_recordings_folder_are_named() {
    let dir = tempfile::tempdir().unwrap();
    good_wav(&dir.path().join("good.wav"));
    std::fs::write(
        dir.path().join("corrupt.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunkjunk",
    )
    .unwrap();
    // 16 KB declaring a 1 Hz rate: 8000 s once resampled, refused from the header.
    slow_wav(&dir.path().join("slow.wav"));
    let path = write_config(dir.path(), &config("/etc/passwd"));
    let output = voicebot(&["run", "-c", &path, "--check"], &[]).await;
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(stderr.contains("5 problems found"), "{stderr}");
    for line in [
        "route_points.\"800\" (bot ivr-menu): config.nodes.main.invalid_prompt: ",
        "route_points.\"800\" (bot ivr-menu): config.nodes.main.options.1.prompt: ",
        "route_points.\"800\" (bot ivr-menu): config.nodes.main.options.2.config.saved_prompt: ",
        "recordings: /etc/passwd: is not a directory",
        "route_points.\"801\" (bot echo): config.intro: ",
    ] {
        assert!(stderr.contains(line), "{line} not in {stderr}");
    }
    assert!(stderr.contains("missing.wav"), "{stderr}");
    assert!(stderr.contains("corrupt.wav"), "{stderr}");
    assert!(stderr.contains("gone.wav"), "{stderr}");
    // The good prompts are not reported.
    assert!(!stderr.contains("good.wav"), "{stderr}");
    assert!(stderr.contains("1 Hz"), "{stderr}");
}

#[tokio::test]
async fn a_config_whose_prompts_load_passes() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "good.wav",
        "missing.wav",
        "corrupt.wav",
        "gone.wav",
        "slow.wav",
    ] {
        good_wav(&dir.path().join(name));
    }
    let path = write_config(dir.path(), &config("recordings"));
    let output = voicebot(&["run", "-c", &path, "--check"], &[]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("800 → ivr-menu"));
}

#[tokio::test]
async fn the_multi_pbx_sample_checks_and_each_pbx_problem_names_its_table() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/multi-pbx.toml");
    let output = voicebot(&["run", "-c", sample, "--check"], &[]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("acme: 800 → ivr-menu; globex: 700 → recorder"),
        "{stdout}"
    );

    // A prompt missing on the second PBX is named with that PBX's table.
    let dir = tempfile::tempdir().unwrap();
    let edited = std::fs::read_to_string(sample)
        .unwrap()
        .replace("prompts = \".\"", &format!("prompts = {:?}", dir.path()))
        .replace(
            "bot = \"recorder\"\nconfig = { greeting = \"prompts/message.wav\" }",
            "bot = \"recorder\"\nconfig = { greeting = \"nowhere.wav\" }",
        );
    std::fs::create_dir_all(dir.path().join("prompts")).unwrap();
    good_wav(&dir.path().join("prompts/message.wav"));
    let path = write_config(dir.path(), &edited);
    let output = voicebot(&["run", "-c", &path, "--check"], &[]).await;
    assert_eq!(code(&output), 2, "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("pbx[1].route_points.\"700\" (bot recorder): config.greeting"),
        "{stderr}"
    );
    assert!(stderr.contains("nowhere.wav"), "{stderr}");
    assert!(stderr.contains("1 problem found"), "{stderr}");
}
