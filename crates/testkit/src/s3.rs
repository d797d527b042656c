//! [`S3Server`]: a real S3-compatible server for tests of recordings in object storage
//! (the standalone server of the Python `moto` package), never a mock of our client.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

const ENDPOINT_ENV: &str = "VOICEBOT_TEST_S3_ENDPOINT";

const INSTALL: &str = "install it with `pip install 'moto[server]'` (the .ci/run script \
     does, into a venv) or set VOICEBOT_TEST_S3_ENDPOINT to a running S3-compatible server";

/// A running S3-compatible server on loopback, stopped when dropped if this value
/// started it. Requests to it here are plain HTTP without signatures (moto takes any
/// credentials and checks no signature), so test set-up and checks do not go through
/// the client under test.
#[derive(Debug)]
pub struct S3Server {
    endpoint: String,
    child: Option<Child>,
    http: reqwest::Client,
}

impl S3Server {
    /// The environment variable naming a running server's endpoint (CI starts one
    /// and sets it); without it, each [`S3Server::start`] runs `moto_server` from `PATH`.
    pub const ENDPOINT_ENV: &str = ENDPOINT_ENV;

    /// The server named by `VOICEBOT_TEST_S3_ENDPOINT`, else a new `moto_server`.
    ///
    /// # Panics
    /// When neither is available, with a message saying how to install it: a test of
    /// object storage is never skipped silently.
    pub async fn start() -> Self {
        match std::env::var(ENDPOINT_ENV) {
            Ok(endpoint) if !endpoint.is_empty() => {
                let server = Self::at(endpoint.trim_end_matches('/').to_owned(), None);
                server.wait_ready().await;
                server
            }
            _ => Self::start_on(free_port()).await,
        }
    }

    /// A new `moto_server` on `127.0.0.1:port` (for tests that need the server down
    /// first, then up on a known port).
    ///
    /// # Panics
    /// When `moto_server` is not on `PATH` or does not come up within a minute.
    pub async fn start_on(port: u16) -> Self {
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start moto_server ({error}): {INSTALL}"));
        watch_parent(child.id());
        let server = Self::at(format!("http://127.0.0.1:{port}"), Some(child));
        server.wait_ready().await;
        server
    }

    fn at(endpoint: String, child: Option<Child>) -> Self {
        // moto refuses anonymous reads of private objects but does not check
        // signatures: a request that names an access key is enough.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=voicebot-test/20250101/us-east-1/s3/aws4_request, \
                 SignedHeaders=host, Signature=0",
            ),
        );
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("a plain HTTP client builds");
        Self {
            endpoint,
            child,
            http,
        }
    }

    /// A port nothing listens on now (for a server started later with [`start_on`](Self::start_on)).
    pub fn unused_port() -> u16 {
        free_port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The `AWS_*` environment that points an S3 client at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        Self::env_for(&self.endpoint)
    }

    /// The `AWS_*` environment of an S3 client for a local server at `endpoint` (one
    /// that is not up yet, for instance).
    pub fn env_for(endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_ACCESS_KEY_ID", "voicebot-test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "voicebot-test-secret".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
    }

    /// Creates `bucket` (a new name per test keeps tests on a shared server apart).
    ///
    /// # Panics
    /// When the server refuses.
    pub async fn create_bucket(&self, bucket: &str) {
        let url = format!("{}/{bucket}", self.endpoint);
        let response = self.http.put(&url).send().await.expect("PUT bucket");
        assert!(
            response.status().is_success(),
            "creating {bucket}: {response:?}"
        );
    }

    /// The object's bytes, `None` when there is no such object.
    ///
    /// # Panics
    /// When the server cannot be reached or fails.
    pub async fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let url = format!("{}/{bucket}/{key}", self.endpoint);
        let response = self.http.get(&url).send().await.expect("GET object");
        match response.status() {
            reqwest::StatusCode::NOT_FOUND => None,
            status if status.is_success() => Some(response.bytes().await.unwrap().to_vec()),
            status => panic!("GET {url}: {status}"),
        }
    }

    /// Every key in `bucket`, sorted.
    ///
    /// # Panics
    /// When the server cannot be reached or fails.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let url = format!("{}/{bucket}?list-type=2", self.endpoint);
        let response = self.http.get(&url).send().await.expect("list objects");
        assert!(
            response.status().is_success(),
            "listing {bucket}: {response:?}"
        );
        let body = response.text().await.unwrap();
        let mut keys: Vec<String> = body
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>"))
            .map(|(key, _)| key.replace("&amp;", "&").replace("&#43;", "+"))
            .collect();
        keys.sort();
        keys
    }

    /// Stops the server if this value started it (the endpoint then refuses
    /// connections).
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    async fn wait_ready(&self) {
        for _ in 0..600 {
            if self.http.get(&self.endpoint).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no S3 server answers at {} within a minute: {INSTALL}",
            self.endpoint
        );
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("bound").port()
}

/// A test process killed outright drops nothing: a small shell outlives it only to
/// stop the server, so no `moto_server` is left running.
fn watch_parent(server: Option<u32>) {
    let Some(server) = server else {
        return;
    };
    let script = "while kill -0 \"$1\" 2>/dev/null && kill -0 \"$2\" 2>/dev/null; do sleep 1; done; kill \"$2\" 2>/dev/null";
    let _ = std::process::Command::new("sh")
        .args([
            "-c",
            script,
            "watch",
            &std::process::id().to_string(),
            &server.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
