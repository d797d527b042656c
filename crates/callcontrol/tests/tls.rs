//! One TLS configuration for REST and the event socket (issue #12): a PBX on
//! loopback behind a private CA (generated here) is trusted everywhere with
//! `TlsConfig::with_ca_file`, and refused everywhere without it, with the reason in
//! the error's first line.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use voicebot_callcontrol::{Client, RetryPolicy, Secret, TlsConfig};
use voicebot_model::PbxEvent;
use voicebot_sim::Sim;

use crate::support::{pcm, read_now_until, send_now_paced, within};

/// A private CA and a server certificate for 127.0.0.1 signed by it.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![server.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
    }
}

/// Terminates TLS on a loopback port and forwards each connection to `backend`.
async fn tls_front(pki: &Pki, backend: SocketAddr) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

fn client(url: &str, sim: &Sim, tls: TlsConfig) -> Client {
    Client::builder(url)
        .credentials(sim.client_id(), Secret::new(sim.client_secret()))
        .tls(tls)
        .request_timeout(Duration::from_secs(5))
        .get_retry(RetryPolicy::none())
        .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(200))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_private_ca_is_trusted_for_rest_and_the_event_socket_alike() {
    within(30, async {
        let sim = Sim::start().await.unwrap();
        let pki = pki();
        let front = tls_front(&pki, sim.local_addr()).await;
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).unwrap();
        let url = format!("https://{front}");

        let trusted = client(&url, &sim, TlsConfig::with_ca_file(&ca_file).unwrap());
        trusted.token_provider().token().await.unwrap();
        assert!(!trusted.snapshot().await.unwrap().is_empty());
        let mut events = trusted.events();
        loop {
            match events.next().await.expect("events") {
                PbxEvent::Connected { .. } => break,
                PbxEvent::ConnectFailed { reason, .. } => panic!("wss refused: {reason}"),
                _ => {}
            }
        }
        // The caller's audio comes through the same TLS configuration.
        let caller = sim.call_in("+15550701").await.unwrap();
        let dn = sim.route_point().clone();
        let mut audio = trusted
            .audio_from(&dn, caller.participant_id())
            .await
            .unwrap();
        assert!(audio.next().await.is_some());
        trusted.shutdown();
    })
    .await;
}

/// The media clock takes both audio sockets out of the reactor and drives TLS on them by
/// hand: audio must still flow both ways, byte exact, and the upload end cleanly.
#[tokio::test]
async fn detached_audio_streams_work_over_tls() {
    within(30, async {
        let sim = Sim::start().await.unwrap();
        let pki = pki();
        let front = tls_front(&pki, sim.local_addr()).await;
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).unwrap();
        let url = format!("https://{front}");
        let client = client(&url, &sim, TlsConfig::with_ca_file(&ca_file).unwrap());
        let caller = sim.call_in("+15550702").await.unwrap();
        caller.wait_connected().await.unwrap();
        let dn = sim.route_point().clone();

        let said: Vec<i16> = (0..4000).map(|n| (n % 700) as i16 + 1).collect();
        let said_bytes = pcm(&said);
        // The stream opens first: what the caller says before it opens is not sent to it
        // (as with 3CX), and a busy machine may take a frame or more to open it.
        let mut audio = client
            .audio_from(&dn, caller.participant_id())
            .await
            .unwrap();
        audio.detach().unwrap();
        caller.send_pcm(&said).await;
        read_now_until(&mut audio, &said_bytes, Duration::from_millis(20)).await;

        let mut out = client.audio_to(&dn, caller.participant_id()).await.unwrap();
        out.connect().await.unwrap();
        out.detach().unwrap();
        let heard: Vec<i16> = (0..8000).map(|n| (n % 500) as i16 - 250).collect();
        let bytes = pcm(&heard);
        send_now_paced(&mut out, &bytes).await;
        // Whatever TLS still holds goes out before the body ends.
        for _ in 0..100 {
            out.send_now(&[]).unwrap();
            if out.backlog() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        out.finish().await.unwrap();
        caller.wait_heard(Duration::from_secs(1)).await.unwrap();
        assert_eq!(caller.heard().audio(), heard);
    })
    .await;
}

#[tokio::test]
async fn without_the_ca_file_both_are_refused_saying_why() {
    within(30, async {
        let sim = Sim::start().await.unwrap();
        let pki = pki();
        let front = tls_front(&pki, sim.local_addr()).await;
        let url = format!("https://{front}");
        let untrusted = client(&url, &sim, TlsConfig::system().unwrap());

        let error = untrusted.token_provider().token().await.unwrap_err();
        let first_line = error.to_string().lines().next().unwrap().to_owned();
        assert!(
            first_line.contains("invalid peer certificate") && first_line.contains("UnknownIssuer"),
            "{first_line}"
        );
        assert!(first_line.contains("pbx.ca_file"), "{first_line}");

        // The event task reports the same reason (its first step, the token, fails).
        // That the socket itself uses these roots is shown by the test above: with
        // the CA file it connects over wss, which bundled roots alone would refuse.
        let mut events = untrusted.events();
        let reason = loop {
            if let PbxEvent::ConnectFailed { reason, .. } = events.next().await.expect("events") {
                break reason;
            }
        };
        assert!(reason.contains("invalid peer certificate"), "{reason}");
        untrusted.shutdown();
    })
    .await;
}
