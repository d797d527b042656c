//! `POST /connect/token` and the bearer check every API route uses.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use voicebot_model::{TokenError, TokenResponse};

use crate::config::{ExpiresInUnit, TokenFormat};
use crate::journal::JournalKind;
use crate::routes::cc_error;
use crate::state::{Shared, TokenState};

/// A request that passed the bearer check.
#[derive(Debug, Clone)]
pub(crate) struct Authorized {
    /// Cancelled when the token is revoked.
    pub(crate) revoked: CancellationToken,
}

/// Which API a route belongs to, for the permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    CallControl,
    Xapi,
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    match scheme.eq_ignore_ascii_case("bearer") {
        true => Some(token.trim()),
        false => None,
    }
}

/// Checks the `Authorization: Bearer` header: 401 when missing, unknown or expired,
/// 403 when the API client lacks access to `api`.
pub(crate) fn check_bearer(
    shared: &Shared,
    headers: &HeaderMap,
    api: Api,
) -> Result<Authorized, Response> {
    let unauthorized = |text: &str| {
        let mut response = cc_error(StatusCode::UNAUTHORIZED, "Unauthorized", text);
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    };
    let Some(token) = bearer(headers) else {
        return Err(unauthorized(
            "The request requires valid user authentication.",
        ));
    };
    let pbx = shared.pbx();
    let Some(state) = pbx.tokens.get(token) else {
        return Err(unauthorized("The access token is not valid."));
    };
    if state.expires_at <= Instant::now() || state.revoked.is_cancelled() {
        return Err(unauthorized("The access token has expired."));
    }
    let allowed = match api {
        Api::CallControl => shared.config.call_control_enabled,
        Api::Xapi => shared.config.xapi_enabled,
    };
    if !allowed {
        return Err(cc_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The API client has no access to this API.",
        ));
    }
    Ok(Authorized {
        revoked: state.revoked.clone(),
    })
}

/// `POST /connect/token`: urlencoded or multipart `client_id`, `client_secret`,
/// `grant_type=client_credentials` (Basic authentication also accepted).
pub(crate) async fn token(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let basic = basic_credentials(request.headers());
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut fields: HashMap<String, String> = match content_type.as_str() {
        t if t.starts_with("multipart/form-data") => {
            match Multipart::from_request(request, &()).await {
                Ok(multipart) => collect_multipart(multipart).await,
                Err(_) => HashMap::new(),
            }
        }
        t if t.starts_with("application/x-www-form-urlencoded") => {
            match Form::<HashMap<String, String>>::from_request(request, &()).await {
                Ok(Form(fields)) => fields,
                Err(_) => HashMap::new(),
            }
        }
        _ => HashMap::new(),
    };
    if let Some((id, secret)) = basic {
        fields.entry("client_id".to_owned()).or_insert(id);
        fields.entry("client_secret".to_owned()).or_insert(secret);
    }
    let client_id = fields.get("client_id").cloned();
    if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return refuse(
            &shared,
            client_id,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type must be client_credentials.",
        );
    }
    let valid = client_id.as_deref() == Some(shared.config.client_id.as_str())
        && fields.get("client_secret").map(String::as_str)
            == Some(shared.config.client_secret.as_str());
    if !valid {
        return refuse(
            &shared,
            client_id,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The request requires valid user authentication.",
        );
    }
    let response = issue(&shared);
    let mut response = Json(response).into_response();
    let headers = response.headers_mut();
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-xss-protection", HeaderValue::from_static("0"));
    response
}

async fn collect_multipart(mut multipart: Multipart) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        if let Ok(text) = field.text().await {
            fields.insert(name, text);
        }
    }
    fields
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn refuse(
    shared: &Shared,
    client_id: Option<String>,
    status: StatusCode,
    error: &str,
    description: &str,
) -> Response {
    shared.record(JournalKind::TokenRefused {
        client_id,
        status: status.as_u16(),
        reason: error.to_owned(),
    });
    let body = TokenError {
        error: error.to_owned(),
        error_description: Some(description.to_owned()),
    };
    (status, Json(body)).into_response()
}

/// Issues a token (revoking the previous ones if so configured).
pub(crate) fn issue(shared: &Shared) -> TokenResponse {
    let config = &shared.config;
    let lifetime = config.token_lifetime;
    let access_token = match config.token_format {
        TokenFormat::Jwt => make_jwt(&config.client_id, lifetime.as_secs()),
        // No dots, so nothing in it parses as a JWT.
        TokenFormat::Opaque => format!(
            "{:032x}{:032x}",
            rand::random::<u128>(),
            rand::random::<u128>()
        ),
    };
    {
        let mut pbx = shared.pbx();
        if config.revoke_previous_token {
            for (_, old) in pbx.tokens.drain() {
                if config.revoke_closes_streams {
                    old.revoked.cancel();
                }
                shared.record(JournalKind::TokenRevoked);
            }
        }
        pbx.tokens.insert(
            access_token.clone(),
            TokenState {
                expires_at: Instant::now() + lifetime,
                revoked: CancellationToken::new(),
            },
        );
    }
    shared
        .issued_tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(access_token.clone());
    shared.record(JournalKind::TokenIssued {
        client_id: config.client_id.clone(),
    });
    let expires_in = match config.expires_in_unit {
        ExpiresInUnit::Seconds => lifetime.as_secs(),
        ExpiresInUnit::Minutes => lifetime.as_secs() / 60,
    };
    TokenResponse {
        token_type: "Bearer".to_owned(),
        expires_in,
        access_token,
        refresh_token: None,
    }
}

/// A JWT-shaped token whose `exp − iat` is the lifetime (clients may decode it).
fn make_jwt(client_id: &str, lifetime_secs: u64) -> String {
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let header = serde_json::json!({"alg": "ES256", "kid": "voicebot-sim", "typ": "JWT"});
    let claims = serde_json::json!({
        "iss": "voicebot-sim",
        "client_id": client_id,
        "iat": iat,
        "nbf": iat,
        "exp": iat + lifetime_secs,
        "jti": format!("{:032x}", rand::random::<u128>()),
    });
    let signature: [u8; 32] = rand::random();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}
