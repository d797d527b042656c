//! `/Groups` (departments): list, get, create, update, delete, name check.

mod types;

use futures::stream::BoxStream;
use serde_json::json;

pub use types::{Department, DepartmentFields, DepartmentProps};

use crate::XapiClient;
use crate::error::Result;
use crate::ids::GroupId;
use crate::keys::{NewEntity, by_id};
use crate::odata::{Query, prop};
use crate::paging::Page;

const SET: &str = "Groups";

/// Department operations; from [`XapiClient::departments`].
#[derive(Debug, Clone, Copy)]
pub struct Departments<'a> {
    client: &'a XapiClient,
}

impl<'a> Departments<'a> {
    pub(crate) fn new(client: &'a XapiClient) -> Self {
        Self { client }
    }

    /// Every department matching `query`, fetched page by page as polled.
    ///
    /// # Errors
    ///
    /// Each item is an error if its page could not be fetched.
    pub fn list(&self, query: Query) -> BoxStream<'static, Result<Department>> {
        self.client.stream_all(SET, query)
    }

    /// One page of departments, exactly as `query` asks.
    ///
    /// # Errors
    ///
    /// Request errors.
    pub async fn list_page(&self, query: &Query) -> Result<Page<Department>> {
        self.client.get_page(SET, query).await
    }

    /// The department with `id`; pass `Query::new().expand("Members")` for members.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) if there is none.
    pub async fn get(&self, id: GroupId, query: Option<&Query>) -> Result<Department> {
        self.client.get_json(&by_id(SET, id.0), query).await
    }

    /// Creates a department (`POST /Groups`, `"Id": 0`), with number ranges in `Props`.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`](crate::Error::BadRequest) for a duplicate name or invalid
    /// ranges; [`Error::Forbidden`](crate::Error::Forbidden) without the owner role.
    pub async fn create(&self, fields: &DepartmentFields) -> Result<Department> {
        self.client.post_json(SET, &NewEntity::new(fields)).await
    }

    /// Changes the set fields of department `id` (`PATCH`, 204).
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`](crate::Error::BadRequest) for invalid values;
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown id.
    pub async fn update(&self, id: GroupId, fields: &DepartmentFields) -> Result<()> {
        self.client.patch(&by_id(SET, id.0), fields).await
    }

    /// Deletes department `id` with everything in it
    /// (`POST /Groups/Pbx.DeleteCompanyById {"id": …}`, 204).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown id;
    /// [`Error::BadRequest`](crate::Error::BadRequest) for the default department.
    pub async fn delete(&self, id: GroupId) -> Result<()> {
        self.client
            .post_void(
                &format!("{SET}/Pbx.DeleteCompanyById"),
                &json!({ "id": id }),
            )
            .await
    }

    /// The department called exactly `name`, if any (`$filter=Name eq '…'`).
    ///
    /// # Errors
    ///
    /// Request errors.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Department>> {
        let query = Query::new().filter(prop("Name").eq(name)).top(1);
        Ok(self.list_page(&query).await?.items.into_iter().next())
    }

    /// Whether a department called exactly `name` exists.
    ///
    /// # Errors
    ///
    /// Request errors.
    pub async fn exists_by_name(&self, name: &str) -> Result<bool> {
        let query = Query::new()
            .filter(prop("Name").eq(name))
            .select(["Id"])
            .top(1);
        Ok(!self.list_page(&query).await?.items.is_empty())
    }
}
