//! The uploader against a real S3-compatible server (moto's; see
//! `voicebot_testkit::S3Server`): uploads verified and local files removed or kept, a
//! server that is down, leftovers of a killed run, and recordings still being written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use voicebot_store::{StoreUrl, UploaderBuilder, UploaderHandle};
use voicebot_testkit::S3Server;

/// A hard limit on each test (moto may take seconds to start on a busy machine).
async fn within<F: std::future::Future>(body: F) -> F::Output {
    voicebot_testkit::within(Duration::from_secs(90), body).await
}

/// A bucket name of its own per test, so tests can share one server.
fn bucket() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("vb-{}-{n}", std::process::id())
}

/// A WAV of `seconds` of a sawtooth at 8 kHz, and its metadata beside it.
fn recording(dir: &Path, name: &str, seconds: u32) -> PathBuf {
    let wav = dir.join(name);
    std::fs::create_dir_all(wav.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    for n in 0..8000 * seconds {
        writer.write_sample((n % 3000) as i16).unwrap();
    }
    writer.finalize().unwrap();
    std::fs::write(
        wav.with_extension("json"),
        format!(r#"{{"path":{:?}}}"#, wav),
    )
    .unwrap();
    wav
}

fn uploader(server_endpoint: &str, bucket: &str, dir: &Path) -> UploaderBuilder {
    let url = StoreUrl::parse(&format!("s3://{bucket}/calls")).unwrap();
    let mut builder = UploaderBuilder::new(url, dir)
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(400))
        .settle(Duration::ZERO);
    for (name, value) in S3Server::env_for(server_endpoint) {
        builder = builder.option(name, value);
    }
    builder
}

async fn idle(uploads: &UploaderHandle) {
    tokio::time::timeout(Duration::from_secs(30), uploads.idle())
        .await
        .expect("the uploads finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_recording_goes_up_with_its_metadata_and_the_local_files_go() {
    within(async {
        let server = S3Server::start().await;
        let bucket = bucket();
        server.create_bucket(&bucket).await;
        let dir = tempfile::tempdir().unwrap();
        let wav = recording(dir.path(), "800/+15550100-7.wav", 2);
        let audio = std::fs::read(&wav).unwrap();
        let json = std::fs::read(wav.with_extension("json")).unwrap();
        let uploads = uploader(server.endpoint(), &bucket, dir.path())
            .start()
            .unwrap();
        uploads.opened(&wav);
        uploads.submit(&wav);
        idle(&uploads).await;
        let stored = server.object(&bucket, "calls/800/+15550100-7.wav").await;
        assert_eq!(stored.as_deref(), Some(&audio[..]), "the WAV's bytes");
        let stored = server.object(&bucket, "calls/800/+15550100-7.json").await;
        assert_eq!(stored.as_deref(), Some(&json[..]), "the metadata beside it");
        assert!(!wav.exists() && !wav.with_extension("json").exists());
        assert_eq!(uploads.stop(Duration::ZERO).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_local_keeps_the_files_after_the_upload() {
    within(async {
        let server = S3Server::start().await;
        let bucket = bucket();
        server.create_bucket(&bucket).await;
        let dir = tempfile::tempdir().unwrap();
        let wav = recording(dir.path(), "a.wav", 1);
        let uploads = uploader(server.endpoint(), &bucket, dir.path())
            .keep_local(true)
            .start()
            .unwrap();
        // Found at start: a final recording the last run did not upload.
        idle(&uploads).await;
        assert_eq!(
            server.keys(&bucket).await,
            vec!["calls/a.json".to_owned(), "calls/a.wav".to_owned()]
        );
        assert!(wav.exists() && wav.with_extension("json").exists());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_keeps_the_file_and_gets_it_once_it_is_up() {
    within(async {
        let port = S3Server::unused_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().unwrap();
        let wav = recording(dir.path(), "down.wav", 1);
        let audio = std::fs::read(&wav).unwrap();
        let bucket = bucket();
        let uploads = uploader(&endpoint, &bucket, dir.path()).start().unwrap();
        uploads.submit(&wav);
        // Nothing listens: attempts fail and the file stays.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(uploads.pending(), 1);
        assert!(wav.exists());
        let server = S3Server::start_on(port).await;
        server.create_bucket(&bucket).await;
        idle(&uploads).await;
        let stored = server.object(&bucket, "calls/down.wav").await;
        assert_eq!(stored.as_deref(), Some(&audio[..]));
        assert!(!wav.exists());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_left_by_a_killed_writer_is_repaired_then_uploaded() {
    within(async {
        let server = S3Server::start().await;
        let bucket = bucket();
        server.create_bucket(&bucket).await;
        let dir = tempfile::tempdir().unwrap();
        let wav = recording(dir.path(), "killed.wav", 1);
        let mut bytes = std::fs::read(&wav).unwrap();
        let whole = bytes.clone();
        // A writer killed before its header update: the header claims no audio.
        let data = bytes.windows(4).position(|w| w == b"data").unwrap();
        bytes[data + 4..data + 8].copy_from_slice(&0u32.to_le_bytes());
        bytes[4..8].copy_from_slice(&((data as u32) - 4 + 8).to_le_bytes());
        std::fs::write(&wav, &bytes).unwrap();
        std::fs::remove_file(wav.with_extension("json")).unwrap();
        let uploads = uploader(server.endpoint(), &bucket, dir.path())
            .start()
            .unwrap();
        idle(&uploads).await;
        let stored = server.object(&bucket, "calls/killed.wav").await.unwrap();
        assert_eq!(stored, whole, "the header was repaired before the upload");
        let samples = hound::WavReader::new(&stored[..]).unwrap().len();
        assert_eq!(samples, 8000);
        assert_eq!(
            server.keys(&bucket).await,
            vec!["calls/killed.wav".to_owned()]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_a_live_call_writes_waits_for_its_submit() {
    within(async {
        let server = S3Server::start().await;
        let bucket = bucket();
        server.create_bucket(&bucket).await;
        let dir = tempfile::tempdir().unwrap();
        let wav = recording(dir.path(), "live.wav", 1);
        let uploads = uploader(server.endpoint(), &bucket, dir.path())
            .settle(Duration::from_millis(300))
            .start()
            .unwrap();
        // Found at start but just written; a call of ours opens it before it settles.
        uploads.opened(&wav);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            server.keys(&bucket).await.is_empty(),
            "not uploaded while live"
        );
        assert!(wav.exists());
        uploads.submit(&wav);
        idle(&uploads).await;
        assert_eq!(
            server.keys(&bucket).await,
            vec!["calls/live.json".to_owned(), "calls/live.wav".to_owned()]
        );
    })
    .await;
}

#[test]
fn a_plain_http_endpoint_needs_allow_http() {
    let url = StoreUrl::parse("s3://calls").unwrap();
    let error = UploaderBuilder::new(url, "rec")
        .option("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
        .option("AWS_ALLOW_HTTP", "false")
        .check()
        .unwrap_err()
        .to_string();
    assert!(error.contains("AWS_ALLOW_HTTP=true"), "{error}");
    let url = StoreUrl::parse("s3://calls").unwrap();
    let error = UploaderBuilder::new(url, "rec")
        .option("AWS_NO_SUCH_THING", "1")
        .check()
        .unwrap_err()
        .to_string();
    assert!(error.contains("AWS_NO_SUCH_THING"), "{error}");
}
