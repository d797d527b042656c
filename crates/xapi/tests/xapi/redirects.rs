//! A redirecting PBX (issue #12): XAPI never follows a redirect, so the bearer token
//! never reaches the host the `Location` names.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use voicebot_xapi::{BearerToken, Error, TokenSource, TokenSourceError, XapiClient};

use crate::common::{install_crypto, timed};

#[derive(Debug)]
struct FixedToken;

#[async_trait]
impl TokenSource for FixedToken {
    async fn token(&self) -> Result<BearerToken, TokenSourceError> {
        Ok(BearerToken::new("xapi-token-Qm3Zr8"))
    }

    async fn invalidate(&self, _token: &BearerToken) {}
}

async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    addr
}

#[tokio::test]
async fn a_redirect_is_an_error_and_nothing_reaches_the_other_host() -> anyhow::Result<()> {
    timed(async {
        install_crypto();
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let record = Arc::clone(&seen);
        let other = serve(Router::new().fallback(move |request: Request| {
            let record = Arc::clone(&record);
            async move {
                record
                    .lock()
                    .unwrap()
                    .push(format!("{:?}", request.headers()));
                StatusCode::OK
            }
        }))
        .await;
        let to = format!("http://{other}/xapi/v1/Users");
        let pbx = serve(Router::new().fallback(move || {
            let to = to.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, to)]).into_response() }
        }))
        .await;
        let client = XapiClient::builder(format!("http://{pbx}"), Arc::new(FixedToken)).build()?;
        let error = client.ping().await.unwrap_err();
        assert!(
            matches!(error, Error::Redirect { status: 302, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains(&format!("http://{other}")),
            "{error}"
        );
        assert!(
            seen.lock().unwrap().is_empty(),
            "{:?}",
            seen.lock().unwrap()
        );
        Ok(())
    })
    .await
}
