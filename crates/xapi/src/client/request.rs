//! Sending requests: bearer header, one retry with a fresh token on 401, and
//! mapping non-2xx answers to [`Error`] with the PBX's OData body.

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::XapiClient;
use crate::error::{Error, Result};
use crate::odata::Query;

/// A successful response, read to the end.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    /// Parses the body as JSON of type `T`.
    pub(crate) fn json<T>(&self) -> Result<T>
    where
        T: DeserializeOwned,
    {
        serde_json::from_str(&self.body).map_err(|e| {
            let snippet: String = self.body.chars().take(200).collect();
            let snippet = voicebot_callcontrol::redact_text(&snippet);
            Error::Protocol(format!("cannot parse response body ({e}): {snippet}"))
        })
    }
}

/// The `Authorization` value, marked sensitive so no Debug output prints it.
fn bearer(token: &str) -> Result<reqwest::header::HeaderValue> {
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| Error::Protocol("the access token is not a valid header value".to_owned()))?;
    value.set_sensitive(true);
    Ok(value)
}

impl XapiClient {
    /// Sends `method` to `path` (relative to `/xapi/v1/`, already encoded) with an
    /// optional query and JSON body.
    ///
    /// A 401 is retried once with a fresh token: the shared token may have expired or
    /// been replaced by another user of the same API client between fetch and use.
    pub(crate) async fn send<B>(
        &self,
        method: Method,
        path: &str,
        query: Option<&Query>,
        body: Option<&B>,
    ) -> Result<Reply>
    where
        B: Serialize + ?Sized,
    {
        let mut url = format!("{}{path}", self.inner.base);
        if let Some(query) = query {
            let encoded = query.to_query_string();
            if !encoded.is_empty() {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&encoded);
            }
        }
        let body = match body {
            Some(body) => Some(
                serde_json::to_vec(body)
                    .map_err(|e| Error::Protocol(format!("cannot encode request body: {e}")))?,
            ),
            None => None,
        };
        let mut retried = false;
        loop {
            let token = self.inner.tokens.token().await.map_err(Error::Token)?;
            let mut request = self
                .inner
                .http
                .request(method.clone(), &url)
                .header(AUTHORIZATION, bearer(token.secret())?)
                .header(ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let response = request.send().await?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !retried {
                tracing::debug!(%url, "XAPI answered 401; retrying once with a fresh token");
                self.inner.tokens.invalidate(&token).await;
                retried = true;
                continue;
            }
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|location| url::Url::parse(&url).ok()?.join(location).ok())
                    .map(|target| {
                        let port = target.port_or_known_default().map(|p| format!(":{p}"));
                        format!(
                            "{}://{}{}",
                            target.scheme(),
                            target.host_str().unwrap_or(""),
                            port.unwrap_or_default()
                        )
                    });
                return Err(Error::Redirect {
                    status: status.as_u16(),
                    location,
                });
            }
            let headers = response.headers().clone();
            let text = response.text().await?;
            if !status.is_success() {
                let redacted = self.inner.tokens.redact(&text);
                return Err(Error::from_status(status.as_u16(), &redacted));
            }
            return Ok(Reply {
                headers,
                body: text,
            });
        }
    }

    /// `GET` returning JSON.
    pub(crate) async fn get_json<T>(&self, path: &str, query: Option<&Query>) -> Result<T>
    where
        T: DeserializeOwned,
    {
        self.send::<()>(Method::GET, path, query, None)
            .await?
            .json()
    }

    /// `POST` with a JSON body, returning the JSON answer (201 or 200).
    pub(crate) async fn post_json<B, T>(&self, path: &str, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send(Method::POST, path, None, Some(body))
            .await?
            .json()
    }

    /// `POST` of an action that answers 204 (or any 2xx without a needed body).
    pub(crate) async fn post_void<B>(&self, path: &str, body: &B) -> Result<()>
    where
        B: Serialize + ?Sized,
    {
        self.send(Method::POST, path, None, Some(body))
            .await
            .map(drop)
    }

    /// `PATCH` with a partial entity; 3CX answers 204.
    pub(crate) async fn patch<B>(&self, path: &str, body: &B) -> Result<()>
    where
        B: Serialize + ?Sized,
    {
        self.send(Method::PATCH, path, None, Some(body))
            .await
            .map(drop)
    }

    /// `DELETE`; 3CX answers 204.
    pub(crate) async fn delete(&self, path: &str) -> Result<()> {
        self.send::<()>(Method::DELETE, path, None, None)
            .await
            .map(drop)
    }
}
