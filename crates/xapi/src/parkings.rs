//! `/Parkings` (shared parking): create for departments, get by number, delete, list.

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::XapiClient;
use crate::error::{Error, Result};
use crate::ids::{GroupId, ParkingId};
use crate::keys::{NewEntity, NumberLookup, by_id};
use crate::members::GroupMember;
use crate::odata::{Expand, Query};

const SET: &str = "Parkings";

/// A shared parking (`Pbx.Parking`): only DN fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parking {
    /// Entity id.
    #[serde(default)]
    pub id: ParkingId,
    /// Number such as `SP11`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The departments that share it (with `$expand=Groups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupMember>>,
    /// Transcription mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription_mode: Option<String>,
    /// Every other property, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRef {
    group_id: GroupId,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ParkingFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    groups: Vec<GroupRef>,
}

/// Parking operations; from [`XapiClient::parkings`].
#[derive(Debug, Clone, Copy)]
pub struct Parkings<'a> {
    client: &'a XapiClient,
}

impl<'a> Parkings<'a> {
    pub(crate) fn new(client: &'a XapiClient) -> Self {
        Self { client }
    }

    /// Creates a shared parking for `groups` (`POST /Parkings`, 201). With `number`
    /// unset the PBX assigns the next `SPnn`.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for a duplicate number or unknown department.
    pub async fn create(&self, groups: &[GroupId], number: Option<&str>) -> Result<Parking> {
        let fields = ParkingFields {
            number: number.map(str::to_owned),
            groups: groups
                .iter()
                .map(|&group_id| GroupRef { group_id })
                .collect(),
        };
        self.client.post_json(SET, &NewEntity::new(&fields)).await
    }

    /// The parking with `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is none.
    pub async fn get(&self, id: ParkingId) -> Result<Parking> {
        let query = Query::new().expand("Groups");
        self.client.get_json(&by_id(SET, id.0), Some(&query)).await
    }

    /// The parking numbered `number` (e.g. `SP11`): `Parkings(Number='SP11')` on
    /// 20.0.8+, `Parkings/Pbx.GetByNumber(number='SP11')` before, per `lookup`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if there is none.
    pub async fn get_by_number(&self, number: &str, lookup: NumberLookup) -> Result<Parking> {
        let path = self.client.by_number(SET, number, lookup).await?;
        self.client.get_json(&path, None).await
    }

    /// Deletes parking `id` (204).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id.
    pub async fn delete(&self, id: ParkingId) -> Result<()> {
        self.client.delete(&by_id(SET, id.0)).await
    }

    /// Every parking (`GET /Parkings`, paged).
    ///
    /// # Errors
    ///
    /// Request errors.
    pub async fn list(&self) -> Result<Vec<Parking>> {
        self.client
            .stream_all(SET, Query::new().expand("Groups"))
            .try_collect()
            .await
    }

    /// The parkings shared with department `group`, found as the documentation does:
    /// `GET /Groups({id})?$expand=Members`, keeping members of type `Parking`, each
    /// then read by number.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown department; request errors.
    pub async fn list_for_group(&self, group: GroupId) -> Result<Vec<Parking>> {
        let query = Query::new().expand(Expand::new("Members"));
        let department = self.client.departments().get(group, Some(&query)).await?;
        let mut parkings = Vec::new();
        for member in department.members.unwrap_or_default() {
            if !member.is_parking() {
                continue;
            }
            let Some(number) = member.number.as_deref() else {
                continue;
            };
            match self.get_by_number(number, NumberLookup::Auto).await {
                Ok(parking) => parkings.push(parking),
                // Deleted between the two requests: not an error for a listing.
                Err(Error::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(parkings)
    }
}
