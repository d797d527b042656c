//! A hostile PBX on loopback (issue #12): redirects to another host, bodies that
//! echo the secret, garbled answers to actions, an event socket closed as soon as it
//! opens. The client must send nothing to the other host, quote nothing secret, never
//! repeat an action and never reconnect in a tight loop.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use voicebot_callcontrol::{CallControlError, Client, RetryPolicy, Secret};
use voicebot_model::{Action, ActionRequest, Dn, ParticipantId, PbxEvent};

use crate::support::within;

const SECRET: &str = "hostile-test-secret-7Hq2";
const TOKEN: &str = "issued-token-Xy81Lp0Qw5";

/// Every request a server saw, as `METHOD path body`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self, prefix: &str) -> usize {
        self.all()
            .iter()
            .filter(|line| line.starts_with(prefix))
            .count()
    }
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    addr
}

/// The "other host": records whatever reaches it.
async fn bystander() -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let record = seen.clone();
    let router = Router::new().fallback(move |request: Request| {
        let record = record.clone();
        async move {
            let line = format!("{} {}", request.method(), request.uri().path());
            let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            record.push(format!("{line} {}", String::from_utf8_lossy(&body)));
            StatusCode::OK
        }
    });
    (serve(router).await, seen)
}

fn redirect(status: StatusCode, to: String) -> Response {
    (status, [(header::LOCATION, to)]).into_response()
}

async fn token_ok() -> Response {
    let body = format!(r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":3600}}"#);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn client(addr: SocketAddr) -> Client {
    Client::builder(format!("http://{addr}"))
        .credentials("800", Secret::new(SECRET))
        .request_timeout(Duration::from_secs(5))
        .get_retry(RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        })
        .drop_retry(RetryPolicy {
            max_attempts: 5,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        })
        .reconnect_backoff(Duration::from_millis(100), Duration::from_secs(2))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_token_redirect_sends_nothing_to_the_other_host() {
    within(20, async {
        let (other, seen) = bystander().await;
        for status in [
            StatusCode::TEMPORARY_REDIRECT,
            StatusCode::PERMANENT_REDIRECT,
            StatusCode::FOUND,
        ] {
            let to = format!("http://{other}/connect/token");
            let router = Router::new().route(
                "/connect/token",
                post(move || {
                    let to = to.clone();
                    async move { redirect(status, to) }
                }),
            );
            let pbx = serve(router).await;
            let error = client(pbx).token_provider().token().await.unwrap_err();
            assert!(error.is_redirect(), "{error}");
            assert_eq!(error.status(), Some(status.as_u16()));
            let text = error.to_string();
            assert!(text.contains(&format!("http://{other}")), "{text}");
            assert!(text.contains("never followed"), "{text}");
        }
        assert_eq!(seen.all(), Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn a_redirected_get_and_event_socket_send_nothing_to_the_other_host() {
    within(20, async {
        let (other, seen) = bystander().await;
        let to = format!("http://{other}/callcontrol");
        let ws_to = format!("http://{other}/callcontrol/ws");
        let router = Router::new()
            .route("/connect/token", post(token_ok))
            .route(
                "/callcontrol",
                get(move || {
                    let to = to.clone();
                    async move { redirect(StatusCode::FOUND, to) }
                }),
            )
            .route(
                "/callcontrol/ws",
                get(move || {
                    let to = ws_to.clone();
                    async move { redirect(StatusCode::MOVED_PERMANENTLY, to) }
                }),
            );
        let pbx = serve(router).await;
        let client = client(pbx);
        let error = client.snapshot().await.unwrap_err();
        assert!(error.is_redirect(), "{error}");
        assert!(
            error.to_string().contains("GET /callcontrol answered 302"),
            "{error}"
        );

        let mut events = client.events();
        let reason = loop {
            match events.next().await {
                Some(PbxEvent::ConnectFailed { reason, .. }) => break reason,
                Some(_) => continue,
                None => panic!("the event stream ended"),
            }
        };
        assert!(reason.contains("301, a redirect"), "{reason}");
        client.shutdown();
        assert_eq!(seen.all(), Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn an_unreadable_answer_to_a_drop_is_typed_and_never_repeated() {
    within(20, async {
        let seen = Seen::default();
        let record = seen.clone();
        let router = Router::new().route("/connect/token", post(token_ok)).route(
            "/callcontrol/800/participants/5/drop",
            post(move || {
                let record = record.clone();
                async move {
                    record.push("POST drop".to_owned());
                    (StatusCode::OK, "<html>done</html>")
                }
            }),
        );
        let pbx = serve(router).await;
        let error = client(pbx)
            .action(
                &Dn::from("800"),
                ParticipantId(5),
                &Action::Drop,
                &ActionRequest::default(),
            )
            .await
            .unwrap_err();
        assert!(error.was_accepted(), "{error}");
        assert!(!error.is_transient());
        assert!(
            matches!(
                error,
                CallControlError::UnreadableAnswer { status: 200, .. }
            ),
            "{error:?}"
        );
        assert_eq!(seen.count("POST drop"), 1);
    })
    .await;
}

#[tokio::test]
async fn bodies_quoted_in_errors_are_cut_and_carry_no_secret() {
    within(20, async {
        // The PBX echoes the request's Authorization header and the secret.
        let router = Router::new().route("/connect/token", post(token_ok)).route(
            "/callcontrol",
            get(|headers: HeaderMap| async move {
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = format!(
                    r#"{{"reasontext":"you sent {auth} with {SECRET}","pad":"{}"}}"#,
                    "x".repeat(5000)
                );
                (StatusCode::BAD_REQUEST, body)
            }),
        );
        let pbx = serve(router).await;
        let error = client(pbx).snapshot().await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("answered 400"), "{text}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
        assert!(text.len() < 1200, "{} bytes", text.len());
        assert!(error.body().unwrap().len() <= 512 + '…'.len_utf8());
    })
    .await;
}

#[tokio::test]
async fn a_socket_closed_at_once_is_retried_with_growing_delays() {
    within(30, async {
        let seen = Seen::default();
        let record = seen.clone();
        let router = Router::new()
            .route("/connect/token", post(token_ok))
            .route(
                "/callcontrol",
                get(|| async { ([(header::CONTENT_TYPE, "application/json")], "[]") }),
            )
            .route(
                "/callcontrol/ws",
                get(move |upgrade: WebSocketUpgrade| {
                    let record = record.clone();
                    async move {
                        record.push("WS open".to_owned());
                        // Accepted, then closed at once.
                        upgrade.on_upgrade(|socket| async move { drop(socket) })
                    }
                }),
            );
        let pbx = serve(router).await;
        let client = client(pbx);
        let mut events = client.events();
        let watch = async {
            while let Some(event) = events.next().await {
                let _ = event;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(3), watch).await;
        client.shutdown();
        // Delays from 100 ms doubling (jittered to half..full) add up to at least
        // 50 + 100 + 200 + 400 + 800 ms over the first five, so 3 s hold at most
        // about seven connects; reconnecting "at once" each time gave ~50 in 3 s.
        let opened = seen.count("WS open");
        assert!((2..=8).contains(&opened), "{opened} connects in 3 s");
    })
    .await;
}
