//! Users: create, update, delete, batch delete, views.

use serde_json::{Map, Value, json};

use super::{Member, OWNER_ROLE, Store, check_body, check_immutable, check_new_id};
use crate::xapi::error::{XapiError, XapiResult};
use crate::xapi::schema::USER;

/// One entry of a `Pbx.BatchDelete` answer.
type DeleteFailure = Value;

/// Properties written but never returned.
const WRITE_ONLY: &[&str] = &["AccessPassword"];

impl Store {
    /// The user with its `Groups`.
    pub(crate) fn user_view(&self, id: i32) -> Option<Value> {
        let user = self.users.get(&id)?;
        let mut view = user.clone();
        let groups =
            self.render_memberships(self.members.iter().filter(|m| m.member == Member::User(id)));
        view.insert("Groups".to_owned(), groups);
        Some(Value::Object(view))
    }

    pub(crate) fn user_views(&self) -> Vec<Value> {
        self.users
            .keys()
            .filter_map(|id| self.user_view(*id))
            .collect()
    }

    pub(crate) fn user_by_number(&self, number: &str) -> Option<i32> {
        self.users
            .iter()
            .find(|(_, u)| u.get("Number").and_then(Value::as_str) == Some(number))
            .map(|(id, _)| *id)
    }

    fn check_email(&self, body: &Map<String, Value>, except: Option<i32>) -> XapiResult<()> {
        let Some(email) = body.get("EmailAddress").and_then(Value::as_str) else {
            return Ok(());
        };
        if email.is_empty() {
            return Ok(());
        }
        if !email.contains('@') {
            return Err(XapiError::invalid(
                "EmailAddress",
                "INVALID_EMAIL",
                "The e-mail address is not valid.",
            ));
        }
        let taken = self.users.iter().any(|(id, u)| {
            Some(*id) != except
                && u.get("EmailAddress")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
        });
        match taken {
            true => Err(XapiError::invalid(
                "EmailAddress",
                "DUPLICATE_EMAIL",
                format!("The e-mail address {email} is already used by another user."),
            )),
            false => Ok(()),
        }
    }

    fn first_free_user_number(&self) -> String {
        (100u32..)
            .map(|n| n.to_string())
            .find(|n| !self.number_in_use(n))
            .unwrap_or_default()
    }

    /// `POST /Users`.
    pub(crate) fn create_user(&mut self, mut body: Map<String, Value>) -> XapiResult<i32> {
        check_body(&body, &USER)?;
        check_new_id(&body)?;
        let number = match body.get("Number") {
            None | Some(Value::Null) => self.first_free_user_number(),
            Some(Value::String(n)) => n.clone(),
            Some(_) => {
                return Err(XapiError::invalid(
                    "Number",
                    "INVALID_VALUE",
                    "Number must be a string.",
                ));
            }
        };
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            return Err(XapiError::invalid(
                "Number",
                "INVALID_NUMBER",
                "An extension number may contain digits only.",
            ));
        }
        if self.number_in_use(&number) {
            return Err(XapiError::invalid(
                "Number",
                "DUPLICATE_NUMBER",
                format!("The number {number} is already in use."),
            ));
        }
        self.check_email(&body, None)?;
        let groups = match body.remove("Groups") {
            Some(value) => self.parse_group_refs(&value, "users")?,
            None => {
                // Like the admin console: new users land in the default department.
                let default = self
                    .groups
                    .iter()
                    .find(|(_, g)| g.get("IsDefault") == Some(&Value::Bool(true)));
                default
                    .map(|(id, _)| vec![(*id, "users".to_owned())])
                    .unwrap_or_default()
            }
        };
        for key in WRITE_ONLY {
            body.remove(*key);
        }
        let id = self.allocate();
        let mut user = super::json_object(json!({
            "Enabled": true, "Language": "EN", "VMEnabled": true,
            "VMEmailOptions": "Notification", "Require2FA": false, "Enable2FA": false,
            "SendEmailMissedCalls": false, "FirstName": "", "LastName": "",
            "EmailAddress": "", "TranscriptionMode": "Inherit",
        }));
        user.extend(body);
        user.insert("Id".to_owned(), json!(id));
        user.insert("Number".to_owned(), json!(number));
        self.users.insert(id, user);
        self.set_memberships(Member::User(id), groups);
        Ok(id)
    }

    /// `PATCH /Users({id})`.
    pub(crate) fn update_user(&mut self, id: i32, mut body: Map<String, Value>) -> XapiResult<()> {
        let current = self
            .users
            .get(&id)
            .ok_or_else(|| XapiError::not_found(format!("User with Id {id} was not found.")))?;
        check_body(&body, &USER)?;
        check_immutable(&body, current)?;
        self.check_email(&body, Some(id))?;
        let groups = match body.remove("Groups") {
            Some(value) => Some(self.parse_group_refs(&value, "users")?),
            None => None,
        };
        for key in WRITE_ONLY {
            body.remove(*key);
        }
        if let Some(user) = self.users.get_mut(&id) {
            user.extend(body);
        }
        if let Some(groups) = groups {
            self.set_memberships(Member::User(id), groups);
        }
        Ok(())
    }

    /// `DELETE /Users({id})`.
    pub(crate) fn delete_user(&mut self, id: i32) -> XapiResult<()> {
        match self.users.remove(&id) {
            Some(_) => {
                self.members.retain(|m| m.member != Member::User(id));
                Ok(())
            }
            None => Err(XapiError::not_found(format!(
                "User with Id {id} was not found."
            ))),
        }
    }

    /// `POST /Users/Pbx.BatchDelete`: deletes what it can; system owners and unknown
    /// ids are reported, not deleted.
    pub(crate) fn batch_delete_users(&mut self, ids: &[i64]) -> Vec<DeleteFailure> {
        let mut failures = Vec::new();
        for &raw in ids {
            let Some(id) = i32::try_from(raw)
                .ok()
                .filter(|id| self.users.contains_key(id))
            else {
                failures.push(json!({"Error": format!("User with Id {raw} was not found."), "ExtensionNumber": null}));
                continue;
            };
            let number = self
                .users
                .get(&id)
                .and_then(|u| u.get("Number"))
                .cloned()
                .unwrap_or(Value::Null);
            let is_owner = self
                .members
                .iter()
                .any(|m| m.member == Member::User(id) && m.role == OWNER_ROLE);
            if is_owner {
                failures.push(json!({"Error": "A system owner cannot be deleted.", "ExtensionNumber": number}));
                continue;
            }
            // Known to exist: checked above.
            let _ = self.delete_user(id);
        }
        failures
    }
}
