//! `https://` and `wss://`: a simulator with a self-signed identity serves the token
//! endpoint, the API and the event socket to a client that trusts its CA file, and
//! refuses the handshake of one that does not.

use std::sync::Arc;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use voicebot_model::TokenResponse;
use voicebot_sim::{Sim, SimConfig, SimTls};

use super::util::{client, next_event, post_pcm, within};

fn trusting(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn https_token(sim: &Sim, tls: &Arc<rustls::ClientConfig>) -> reqwest::Result<String> {
    let _ = client(); // installs the ring provider once
    let https = reqwest::Client::builder()
        .tls_backend_preconfigured(rustls::ClientConfig::clone(tls))
        .build()
        .unwrap();
    let response = https
        .post(format!("{}/connect/token", sim.base_url()))
        .form(&[
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    Ok(response.json::<TokenResponse>().await?.access_token)
}

#[tokio::test]
async fn a_self_signed_sim_serves_https_and_wss_to_a_client_trusting_its_ca() {
    within(30, async {
        let tls = SimTls::self_signed(&[]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        assert!(tls.write_ca(&ca_file).unwrap());
        assert_eq!(tls.fingerprint().len(), 32 * 3 - 1, "{}", tls.fingerprint());
        let sim = Sim::start_tls(SimConfig::default(), tls).await.unwrap();
        assert!(sim.base_url().starts_with("https://127.0.0.1:"));
        let trusted = trusting(&std::fs::read_to_string(&ca_file).unwrap());
        let token = https_token(&sim, &trusted).await.unwrap();

        let url = format!("wss://{}/callcontrol/ws", sim.local_addr());
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let connector = tokio_tungstenite::Connector::Rustls(trusted.clone());
        let (mut ws, _) =
            tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(connector))
                .await
                .unwrap();
        let caller = sim.call_in("+15550100").await.unwrap();
        let event = next_event(&mut ws).await;
        assert_eq!(
            event.event.entity,
            format!("/callcontrol/800/participants/{}", caller.participant_id())
        );

        // A client that does not trust the CA gets no answer at all.
        let stranger = SimTls::self_signed(&[]).unwrap();
        let untrusted = trusting(stranger.ca_pem().unwrap());
        let error = https_token(&sim, &untrusted).await.unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        // Plain HTTP on the TLS port is no PBX either.
        let plain = client()
            .get(format!("http://{}/callcontrol", sim.local_addr()))
            .send()
            .await;
        assert!(plain.is_err() || !plain.unwrap().status().is_success());
    })
    .await;
}

#[tokio::test]
async fn your_own_certificate_and_key_are_served_and_bad_files_are_named() {
    within(30, async {
        // A certificate made elsewhere: rcgen writes PEM files as openssl would.
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        let tls = SimTls::from_pem_files(&cert_file, &key_file).unwrap();
        assert!(tls.ca_pem().is_none());
        assert!(!tls.write_ca(&dir.path().join("none.pem")).unwrap());
        let sim = Sim::start_tls(SimConfig::default(), tls).await.unwrap();
        let token = https_token(&sim, &trusting(&cert.pem())).await.unwrap();
        assert!(!token.is_empty());

        let error = SimTls::from_pem_files(&dir.path().join("nope.pem"), &key_file).unwrap_err();
        assert!(error.to_string().contains("nope.pem"), "{error}");
        let error = SimTls::from_pem_files(&key_file, &key_file).unwrap_err();
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
        let error = SimTls::from_pem_files(&cert_file, &cert_file).unwrap_err();
        assert!(error.to_string().contains("private key"), "{error}");
    })
    .await;
}

/// Over TLS the audio streams are served through the HTTP server (the plain-TCP server
/// serves them on sockets of their own): both ways must still carry the call's audio.
#[tokio::test]
async fn audio_streams_carry_the_call_over_https() {
    within(30, async {
        use futures::StreamExt;
        let tls = SimTls::self_signed(&[]).unwrap();
        let trusted = trusting(tls.ca_pem().unwrap());
        let sim = Sim::start_tls(SimConfig::default(), tls).await.unwrap();
        let token = https_token(&sim, &trusted).await.unwrap();
        let https = reqwest::Client::builder()
            .tls_backend_preconfigured(rustls::ClientConfig::clone(&trusted))
            .build()
            .unwrap();
        let caller = sim.call_in("+15550101").await.unwrap();
        let said: Vec<i16> = (1..=800).collect();
        caller.send_pcm(&said).await;
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let heard_from_caller = https.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(heard_from_caller.status(), 200);
        let mut body = heard_from_caller.bytes_stream();
        let mut samples = Vec::new();
        while samples.iter().filter(|s: &&i16| **s != 0).count() < said.len() {
            let chunk = body.next().await.expect("the stream stays open").unwrap();
            samples.extend(
                chunk
                    .chunks_exact(2)
                    .map(|p| i16::from_le_bytes([p[0], p[1]])),
            );
        }
        let spoken: Vec<i16> = samples.into_iter().filter(|s| *s != 0).collect();
        assert_eq!(spoken, said);

        assert_eq!(post_pcm(&https, &url, &token, 9, 800).await, 200);
        caller
            .wait_heard(std::time::Duration::from_millis(100))
            .await
            .unwrap();
        assert_eq!(caller.heard().audio(), vec![9; 800]);
    })
    .await;
}
