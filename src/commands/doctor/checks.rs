//! The checks of `voicebot doctor`, in the order a failure is most likely to be found:
//! each needs the ones before it.

use std::time::Duration;

use futures::StreamExt;
use tokio::net::TcpStream;
use voicebot_callcontrol::{CallControlError, Client, TokenProvider};
use voicebot_model::{Dn, DnInfo, DnType, MakeCallRequest, PbxEvent};

use super::{Status, Step};
use crate::commands::pbx::Target;

/// How long a TCP connect, the WebSocket or the test call may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WEBSOCKET_TIMEOUT: Duration = Duration::from_secs(30);
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// What to check.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) target: Target,
    pub(crate) extensions: Vec<String>,
    pub(crate) test_call: Option<String>,
}

/// What a passed check found, or why it failed.
type Outcome = Result<(Status, String), (String, String)>;

const STEPS: [&str; 8] = [
    "PBX address reachable",
    "token (client id and API key)",
    "Call Control API access",
    "route point present",
    "monitored extensions present",
    "devices registered",
    "event WebSocket opens",
    "audio streams available",
];

/// Runs every check in order, calling `report` as each one ends. After a failure the
/// rest are reported as skipped.
pub(crate) async fn run_all(plan: &Plan, mut report: impl FnMut(&Step)) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut snapshot: Vec<DnInfo> = Vec::new();
    let client = plan.target.client();
    let mut failed = false;
    for (index, name) in STEPS.iter().enumerate() {
        let outcome = match (&client, failed) {
            (_, true) => Ok((
                Status::Skipped,
                "not run: an earlier step failed".to_owned(),
            )),
            (Err(error), false) => Err((format!("{error:#}"), "check --url".to_owned())),
            (Ok(client), false) => match index {
                0 => reachable(&plan.target).await,
                1 => token(&plan.target).await,
                2 => match client.snapshot().await {
                    Ok(dns) => {
                        let count = dns.len();
                        snapshot = dns;
                        Ok((Status::Ok, format!("GET /callcontrol lists {count} DNs")))
                    }
                    Err(error) => Err(api_failure(&error)),
                },
                3 => route_point(plan, &snapshot),
                4 => extensions(plan, &snapshot),
                5 => devices(plan, &snapshot),
                6 => websocket(client).await,
                _ => streams(plan, client).await,
            },
        };
        let step = match outcome {
            Ok((status, detail)) => Step {
                number: index + 1,
                name,
                status,
                detail,
                hint: None,
            },
            Err((detail, hint)) => {
                failed = true;
                Step {
                    number: index + 1,
                    name,
                    status: Status::Failed,
                    detail,
                    hint: Some(hint),
                }
            }
        };
        report(&step);
        steps.push(step);
    }
    steps
}

fn route_point_dn(plan: &Plan) -> String {
    plan.target
        .route_points
        .first()
        .cloned()
        .unwrap_or_else(|| plan.target.client_id.clone())
}

async fn reachable(target: &Target) -> Outcome {
    let base = target
        .base()
        .map_err(|error| (format!("{error:#}"), "check --url".to_owned()))?;
    let host = base.host_str().unwrap_or_default().to_owned();
    let port = base.port_or_known_default().unwrap_or(443);
    let hint = || {
        format!(
            "check the host and port in the URL (hosted 3CX uses 5001), DNS, and that no \
             firewall blocks {host}:{port}"
        )
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host.as_str(), port))).await {
        Ok(Ok(_)) => Ok((Status::Ok, format!("TCP connect to {host}:{port}"))),
        Ok(Err(error)) => Err((format!("cannot connect to {host}:{port}: {error}"), hint())),
        Err(_) => Err((
            format!("no answer from {host}:{port} within {CONNECT_TIMEOUT:?}"),
            hint(),
        )),
    }
}

async fn token(target: &Target) -> Outcome {
    let base = target
        .base()
        .map_err(|error| (format!("{error:#}"), "check --url".to_owned()))?;
    let http = target
        .tls
        .http_client_builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|error| (error.to_string(), "TLS set-up failed".to_owned()))?;
    let provider = TokenProvider::new(http, &base, &target.client_id, target.secret.clone())
        .map_err(|error| (error.to_string(), "check --url".to_owned()))?
        .with_timeout(Duration::from_secs(10));
    match provider.token().await {
        Ok(token) => Ok((
            Status::Ok,
            format!(
                "token issued, valid for {} s{}",
                token.lifetime().as_secs(),
                provider
                    .pbx_version()
                    .map(|version| format!(" (PBX {version})"))
                    .unwrap_or_default()
            ),
        )),
        Err(error @ CallControlError::Auth { .. }) => Err((
            format!(
                "{} from /connect/token: {error}",
                error.status().unwrap_or(401)
            ),
            "check the client id and that the API key was copied in full (it is shown \
             once, when the API client is saved)"
                .to_owned(),
        )),
        Err(error) => Err((
            format!("POST /connect/token failed: {error}"),
            "check that the URL points at the 3CX web server (scheme and port)".to_owned(),
        )),
    }
}

fn api_failure(error: &CallControlError) -> (String, String) {
    let hint = match error {
        CallControlError::Forbidden(_) => {
            "tick '3CX Call Control API access' on the API client (Admin → Integrations → API); \
             the licence must be Enterprise"
        }
        CallControlError::Unauthorized(_) => {
            "the token was refused by the API: check the client id"
        }
        CallControlError::NotFound(_) => "this PBX has no /callcontrol: 3CX V20 is required",
        _ => "the PBX failed to answer GET /callcontrol",
    };
    (format!("GET /callcontrol: {error}"), hint.to_owned())
}

fn route_point(plan: &Plan, snapshot: &[DnInfo]) -> Outcome {
    let wanted = route_point_dn(plan);
    match snapshot.iter().find(|dn| dn.dn.as_str() == wanted) {
        Some(dn) if dn.dn_type == DnType::RoutePoint => {
            Ok((Status::Ok, format!("{wanted} is a route point")))
        }
        Some(dn) => Ok((
            Status::Warning,
            format!("{wanted} is listed but its type is {}", dn.dn_type),
        )),
        None => Err((
            format!("{wanted} is not among the DNs the API client sees"),
            "the route point's DN is the API client's Client ID; check the client id, or the \
             route point keys in the config"
                .to_owned(),
        )),
    }
}

fn extensions(plan: &Plan, snapshot: &[DnInfo]) -> Outcome {
    let seen: Vec<&str> = snapshot
        .iter()
        .filter(|dn| dn.dn_type != DnType::RoutePoint)
        .map(|dn| dn.dn.as_str())
        .collect();
    let missing: Vec<&str> = plan
        .extensions
        .iter()
        .map(String::as_str)
        .filter(|wanted| !seen.contains(wanted))
        .collect();
    match (missing.is_empty(), seen.is_empty()) {
        (false, _) => Err((
            format!("not monitored: {}", missing.join(", ")),
            "add them under 'Extensions to monitor' on the API client (Admin → Integrations → API)"
                .to_owned(),
        )),
        (true, true) => Ok((Status::Ok, "none monitored (none required)".to_owned())),
        (true, false) => Ok((Status::Ok, format!("monitored: {}", seen.join(", ")))),
    }
}

fn devices(plan: &Plan, snapshot: &[DnInfo]) -> Outcome {
    let route_point = route_point_dn(plan);
    let mut required = vec![route_point];
    required.extend(plan.extensions.iter().cloned());
    let without: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|wanted| {
            snapshot
                .iter()
                .find(|dn| dn.dn.as_str() == *wanted)
                .is_some_and(|dn| dn.devices.is_empty())
        })
        .collect();
    let count: usize = snapshot.iter().map(|dn| dn.devices.len()).sum();
    match without.is_empty() {
        true => Ok((Status::Ok, format!("{count} devices registered"))),
        false => Err((
            format!("no registered device on {}", without.join(", ")),
            "register a phone or app on each extension; makecall and answer need a device"
                .to_owned(),
        )),
    }
}

async fn websocket(client: &Client) -> Outcome {
    let mut events = client.events();
    // The first refusal is the answer: the client would keep retrying with backoff,
    // and waiting that out would only delay the report of why it failed.
    let waited = tokio::time::timeout(WEBSOCKET_TIMEOUT, async {
        while let Some(event) = events.next().await {
            match event {
                PbxEvent::Connected { .. } => return Ok(()),
                PbxEvent::ConnectFailed { reason, .. } | PbxEvent::Disconnected { reason } => {
                    return Err(reason);
                }
                _ => {}
            }
        }
        Err("the client stopped".to_owned())
    })
    .await;
    client.shutdown();
    let hint = "a reverse proxy or firewall must pass WebSocket upgrades (Connection: Upgrade) \
                to the PBX; run with RUST_LOG=voicebot_callcontrol=debug for the details";
    match waited {
        Ok(Ok(())) => Ok((Status::Ok, "connected to /callcontrol/ws".to_owned())),
        Ok(Err(reason)) => Err((
            format!("/callcontrol/ws did not open: {reason}"),
            hint.to_owned(),
        )),
        Err(_) => Err((
            format!(
                "/callcontrol/ws did not open within {} s",
                WEBSOCKET_TIMEOUT.as_secs()
            ),
            hint.to_owned(),
        )),
    }
}

async fn streams(plan: &Plan, client: &Client) -> Outcome {
    let Some(destination) = &plan.test_call else {
        return Ok((
            Status::Skipped,
            "pass --test-call NUMBER to place a test call and open its audio".to_owned(),
        ));
    };
    let dn = Dn::new(route_point_dn(plan));
    let hint = "audio streams exist only for the route point's own connected calls; check \
                that the destination answers";
    let fail = |detail: String| (detail, hint.to_owned());
    let placed = client
        .make_call(&dn, &MakeCallRequest::to(destination.clone()))
        .await
        .map_err(|error| fail(format!("makecall to {destination}: {error}")))?;
    let participant = placed
        .result
        .ok_or_else(|| fail(format!("makecall to {destination} placed no call")))?;
    let opened = tokio::time::timeout(CALL_TIMEOUT, async {
        let mut audio = client.audio_from(&dn, participant.id).await?;
        let first = audio.next().await;
        Ok::<_, CallControlError>(first.is_some())
    })
    .await;
    let _ = client.drop_participant(&dn, participant.id).await;
    match opened {
        Ok(Ok(true)) => Ok((
            Status::Ok,
            format!("test call to {destination}: audio received"),
        )),
        Ok(Ok(false)) => Err(fail(format!(
            "test call to {destination}: the stream ended at once"
        ))),
        Ok(Err(error)) => Err(fail(format!("test call to {destination}: {error}"))),
        Err(_) => Err(fail(format!(
            "test call to {destination}: no audio within {} s",
            CALL_TIMEOUT.as_secs()
        ))),
    }
}
