//! `/Users`: list, get, create, update, delete, batch delete, e-mail checks.

mod types;

use futures::stream::BoxStream;
use serde::Deserialize;
use serde_json::json;

pub use types::{User, UserDeleteError, UserFields, VoicemailEmailOptions};

use crate::XapiClient;
use crate::error::Result;
use crate::ids::UserId;
use crate::keys::{NewEntity, NumberLookup, by_id};
use crate::odata::{Query, prop};
use crate::paging::Page;

const SET: &str = "Users";

/// User operations; from [`XapiClient::users`].
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    client: &'a XapiClient,
}

impl<'a> Users<'a> {
    pub(crate) fn new(client: &'a XapiClient) -> Self {
        Self { client }
    }

    /// Every user matching `query`, fetched page by page (`$top`/`$skip`) as the
    /// stream is polled. The query's `$skip`/`$top` bound the whole listing.
    ///
    /// # Errors
    ///
    /// Each item is an error if its page could not be fetched; the stream ends after it.
    pub fn list(&self, query: Query) -> BoxStream<'static, Result<User>> {
        self.client.stream_all(SET, query)
    }

    /// One page of users, exactly as `query` asks (with `@odata.count` if requested).
    ///
    /// # Errors
    ///
    /// Request errors; [`Error::BadRequest`](crate::Error::BadRequest) for a bad query.
    pub async fn list_page(&self, query: &Query) -> Result<Page<User>> {
        self.client.get_page(SET, query).await
    }

    /// The user with `id` (`GET /Users({id})`), with `$select`/`$expand` from `query`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) if there is no such user.
    pub async fn get(&self, id: UserId, query: Option<&Query>) -> Result<User> {
        self.client.get_json(&by_id(SET, id.0), query).await
    }

    /// The user with extension `number`, by alternate key or function per `lookup`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) if there is no such user.
    pub async fn get_by_number(&self, number: &str, lookup: NumberLookup) -> Result<User> {
        let path = self.client.by_number(SET, number, lookup).await?;
        self.client.get_json(&path, None).await
    }

    /// Creates a user (`POST /Users` with `"Id": 0`) and returns it as stored.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`](crate::Error::BadRequest) for a duplicate number or
    /// e-mail or invalid fields; [`Error::Forbidden`](crate::Error::Forbidden) for a
    /// client without the needed role.
    pub async fn create(&self, fields: &UserFields) -> Result<User> {
        self.client.post_json(SET, &NewEntity::new(fields)).await
    }

    /// Changes the set fields of user `id` (`PATCH`, 204).
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`](crate::Error::BadRequest) when changing `Number` or on a
    /// duplicate e-mail; [`Error::NotFound`](crate::Error::NotFound) for an unknown id.
    pub async fn update(&self, id: UserId, fields: &UserFields) -> Result<()> {
        self.client.patch(&by_id(SET, id.0), fields).await
    }

    /// Deletes user `id` (`DELETE`, 204).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown id.
    pub async fn delete(&self, id: UserId) -> Result<()> {
        self.client.delete(&by_id(SET, id.0)).await
    }

    /// Deletes several users in one call (`POST /Users/Pbx.BatchDelete`). The PBX
    /// deletes what it can and reports the rest: an empty list means all went.
    ///
    /// # Errors
    ///
    /// Request errors only; per-user failures are in the returned list.
    pub async fn batch_delete(&self, ids: &[UserId]) -> Result<Vec<UserDeleteError>> {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            value: Vec<UserDeleteError>,
        }
        let body: Body = self
            .client
            .post_json(&format!("{SET}/Pbx.BatchDelete"), &json!({ "ids": ids }))
            .await?;
        Ok(body.value)
    }

    /// Whether any user has `email`, compared case-insensitively on the PBX
    /// (`tolower(EmailAddress) eq '…'`).
    ///
    /// # Errors
    ///
    /// Request errors.
    pub async fn exists_by_email(&self, email: &str) -> Result<bool> {
        let query = Query::new()
            .filter(prop("EmailAddress").tolower().eq(email.to_lowercase()))
            .select(["Id"])
            .top(1);
        Ok(!self.list_page(&query).await?.items.is_empty())
    }
}
