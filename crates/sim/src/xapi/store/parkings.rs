//! Shared parkings (`Pbx.Parking`): numbers `SPnn`, shared with departments.

use serde_json::{Map, Value, json};

use super::{Member, Store, check_body, check_immutable, check_new_id};
use crate::xapi::error::{XapiError, XapiResult};
use crate::xapi::schema::PARKING;

impl Store {
    /// The parking with its `Groups`.
    pub(crate) fn parking_view(&self, id: i32) -> Option<Value> {
        let parking = self.parkings.get(&id)?;
        let mut view = parking.clone();
        let groups = self.render_memberships(
            self.members
                .iter()
                .filter(|m| m.member == Member::Parking(id)),
        );
        view.insert("Groups".to_owned(), groups);
        Some(Value::Object(view))
    }

    pub(crate) fn parking_views(&self) -> Vec<Value> {
        self.parkings
            .keys()
            .filter_map(|id| self.parking_view(*id))
            .collect()
    }

    pub(crate) fn parking_by_number(&self, number: &str) -> Option<i32> {
        self.parkings
            .iter()
            .find(|(_, p)| p.get("Number").and_then(Value::as_str) == Some(number))
            .map(|(id, _)| *id)
    }

    /// `POST /Parkings`.
    pub(crate) fn create_parking(&mut self, mut body: Map<String, Value>) -> XapiResult<i32> {
        check_body(&body, &PARKING)?;
        check_new_id(&body)?;
        let number = match body.get("Number").and_then(Value::as_str) {
            Some(number) => {
                let digits = number.strip_prefix("SP").unwrap_or("");
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                    return Err(XapiError::invalid(
                        "Number",
                        "INVALID_NUMBER",
                        "A parking number is SP followed by digits.",
                    ));
                }
                if self.number_in_use(number) {
                    return Err(XapiError::invalid(
                        "Number",
                        "DUPLICATE_NUMBER",
                        format!("The number {number} is already in use."),
                    ));
                }
                number.to_owned()
            }
            None => (10u32..)
                .map(|n| format!("SP{n}"))
                .find(|n| !self.number_in_use(n))
                .unwrap_or_default(),
        };
        let groups = match body.remove("Groups") {
            Some(value) => self.parse_group_refs(&value, "users")?,
            None => Vec::new(),
        };
        let id = self.allocate();
        let mut parking = super::json_object(json!({"TranscriptionMode": "Inherit"}));
        parking.extend(body);
        parking.insert("Id".to_owned(), json!(id));
        parking.insert("Number".to_owned(), json!(number));
        self.parkings.insert(id, parking);
        self.set_memberships(Member::Parking(id), groups);
        Ok(id)
    }

    /// `PATCH /Parkings({id})`.
    pub(crate) fn update_parking(
        &mut self,
        id: i32,
        mut body: Map<String, Value>,
    ) -> XapiResult<()> {
        let current = self
            .parkings
            .get(&id)
            .ok_or_else(|| XapiError::not_found(format!("Parking with Id {id} was not found.")))?;
        check_body(&body, &PARKING)?;
        check_immutable(&body, current)?;
        let groups = match body.remove("Groups") {
            Some(value) => Some(self.parse_group_refs(&value, "users")?),
            None => None,
        };
        if let Some(parking) = self.parkings.get_mut(&id) {
            parking.extend(body);
        }
        if let Some(groups) = groups {
            self.set_memberships(Member::Parking(id), groups);
        }
        Ok(())
    }

    /// `DELETE /Parkings({id})`.
    pub(crate) fn delete_parking(&mut self, id: i32) -> XapiResult<()> {
        match self.parkings.remove(&id) {
            Some(_) => {
                self.members.retain(|m| m.member != Member::Parking(id));
                Ok(())
            }
            None => Err(XapiError::not_found(format!(
                "Parking with Id {id} was not found."
            ))),
        }
    }
}
