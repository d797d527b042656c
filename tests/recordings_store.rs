//! `[recordings] store = "s3://…"`: voicemail recorded through the simulator by
//! `voicebot run` ends in a real S3-compatible server (moto's, see
//! `voicebot_testkit::S3Server`) with its metadata beside it, and a store that is down
//! keeps the files until a later start uploads them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use voicebot_recorder::Metadata;
use voicebot_sim::{CallEnd, Sim, SimConfig};
use voicebot_testkit::S3Server;

use crate::cli::{within, write_config};
use crate::support::sawtooth;

/// `voicebot run -c PATH` with the S3 environment of `endpoint`, killed when dropped.
fn engine(config: &str, endpoint: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_voicebot"))
        .args(["run", "-c", config])
        .env("VOICEBOT_CLIENT_SECRET", SimConfig::default().client_secret)
        .envs(S3Server::env_for(endpoint))
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("voicebot run starts")
}

fn config(sim: &Sim, bucket: &str) -> String {
    format!(
        r#"
[pbx]
url = "{}"
client_id = "800"

[recordings]
dir = "rec"
store = "s3://{bucket}/vm"

[route_points."800"]
bot = "recorder"

[route_points."800".config]
beep = false
silence_timeout = "0s"
"#,
        sim.base_url()
    )
}

/// A bucket of its own per test (the server may be shared).
fn bucket(test: &str) -> String {
    format!("vb-{}-{test}", std::process::id())
}

/// A caller leaves a voicemail of about a second, ended with `#`.
async fn leave_voicemail(sim: &Sim, from: &str) {
    let caller = sim.call_in(from).await.expect("the call comes in");
    caller.wait_connected().await.expect("the bot answers");
    tokio::time::sleep(Duration::from_millis(300)).await;
    caller.send_pcm(sawtooth(50).samples()).await;
    caller.wait_sent().await;
    caller.press("#").await.unwrap();
    assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
}

/// Waits until the bucket holds `count` keys; returns them.
async fn keys(server: &S3Server, bucket: &str, count: usize) -> Vec<String> {
    for _ in 0..600 {
        let keys = server.keys(bucket).await;
        if keys.len() >= count {
            return keys;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the bucket never held {count} objects: {:?}",
        server.keys(bucket).await
    );
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            match entry.file_type().unwrap().is_dir() {
                true => folders.push(entry.path()),
                false => found.push(entry.path()),
            }
        }
    }
    found
}

/// Checks the voicemail's two objects: a WAV as long as its metadata says, and the
/// metadata naming the caller.
async fn check_objects(server: &S3Server, bucket: &str, keys: &[String], caller: &str) {
    let [json, wav] = keys else {
        panic!("a WAV and its metadata: {keys:?}");
    };
    assert!(
        json.starts_with("vm/voicemail/800/") && json.ends_with(".json"),
        "{json}"
    );
    assert_eq!(wav.strip_suffix(".wav"), json.strip_suffix(".json"));
    let metadata = server
        .object(bucket, json)
        .await
        .expect("the metadata object");
    let metadata: Metadata = serde_json::from_slice(&metadata).expect("metadata JSON");
    assert_eq!(metadata.caller_number, caller);
    let audio = server.object(bucket, wav).await.expect("the WAV object");
    let reader = hound::WavReader::new(&audio[..]).expect("a valid WAV");
    let samples = u64::from(reader.len());
    // The object holds the whole recording the metadata describes (20 ms of slack).
    let ms = samples * 1000 / 8000;
    assert!(
        ms + 20 >= metadata.duration_ms && ms <= metadata.duration_ms + 20,
        "{ms} ms of audio, metadata says {}",
        metadata.duration_ms
    );
    assert!(samples >= 4000, "{samples} samples");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_goes_to_the_bucket_with_its_metadata_and_leaves_no_local_file() {
    within(async {
        let server = S3Server::start().await;
        let bucket = bucket("up");
        server.create_bucket(&bucket).await;
        let sim = Sim::start().await.expect("the simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), &config(&sim, &bucket));
        let _engine = engine(&path, server.endpoint());
        leave_voicemail(&sim, "+15550701").await;
        let keys = keys(&server, &bucket, 2).await;
        check_objects(&server, &bucket, &keys, "+15550701").await;
        // Removed once verified (the folders stay).
        let mut left = files(&dir.path().join("rec"));
        for _ in 0..100 {
            if left.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            left = files(&dir.path().join("rec"));
        }
        assert!(left.is_empty(), "local files left: {left:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_keeps_the_voicemail_until_a_later_start_uploads_it() {
    within(async {
        let port = S3Server::unused_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let bucket = bucket("down");
        let sim = Sim::start().await.expect("the simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), &config(&sim, &bucket));
        let mut first = engine(&path, &endpoint);
        leave_voicemail(&sim, "+15550702").await;
        // Nothing listens at the endpoint: the uploads fail and the files stay.
        let rec = dir.path().join("rec");
        for _ in 0..100 {
            if files(&rec).len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(files(&rec).len(), 2, "{:?}", files(&rec));
        first.kill().await.expect("the engine is killed");
        let _ = first.wait().await;

        let server = S3Server::start_on(port).await;
        server.create_bucket(&bucket).await;
        let _second = engine(&path, &endpoint);
        let keys = keys(&server, &bucket, 2).await;
        check_objects(&server, &bucket, &keys, "+15550702").await;
    })
    .await;
}
