//! Departments (`Pbx.Group`): create with `Props` number ranges, update, delete.

use serde_json::{Map, Value, json};

use super::{Member, Store, check_body, check_immutable, check_new_id, parse_role};
use crate::xapi::error::{XapiError, XapiResult};
use crate::xapi::schema::{GROUP, GROUP_PROPS, Kind};

const RANGES: &[(&str, &str)] = &[
    ("UserNumberFrom", "UserNumberTo"),
    ("SystemNumberFrom", "SystemNumberTo"),
    ("TrunkNumberFrom", "TrunkNumberTo"),
];

impl Store {
    /// The department with `Members` and `HasMembers`.
    pub(crate) fn group_view(&self, id: i32) -> Option<Value> {
        let group = self.groups.get(&id)?;
        let mut view = group.clone();
        let members = self.render_memberships(self.members.iter().filter(|m| m.group_id == id));
        let has_members = members.as_array().is_some_and(|m| !m.is_empty());
        view.insert("HasMembers".to_owned(), json!(has_members));
        view.insert("Members".to_owned(), members);
        Some(Value::Object(view))
    }

    pub(crate) fn group_views(&self) -> Vec<Value> {
        self.groups
            .keys()
            .filter_map(|id| self.group_view(*id))
            .collect()
    }

    fn check_name(
        &self,
        body: &Map<String, Value>,
        except: Option<i32>,
        required: bool,
    ) -> XapiResult<()> {
        let name = match body.get("Name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name,
            None if !required => return Ok(()),
            _ => {
                return Err(XapiError::invalid(
                    "Name",
                    "REQUIRED",
                    "The department name is required.",
                ));
            }
        };
        let taken = self.groups.iter().any(|(id, g)| {
            Some(*id) != except
                && g.get("Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        match taken {
            true => Err(XapiError::invalid(
                "Name",
                "DUPLICATE_NAME",
                format!("A department named '{name}' already exists."),
            )),
            false => Ok(()),
        }
    }

    /// Reads `[{"Number": n, "Rights": {..}}]` into members, refusing unknown numbers.
    fn parse_members(&self, value: &Value) -> XapiResult<Vec<(Member, String)>> {
        let Value::Array(items) = value else {
            return Err(XapiError::invalid(
                "Members",
                "INVALID_TYPE",
                "Members must be an array.",
            ));
        };
        items
            .iter()
            .map(|item| {
                let number = item.get("Number").and_then(Value::as_str).unwrap_or("");
                let member = self.find_member_by_number(number).ok_or_else(|| {
                    XapiError::invalid(
                        "Members",
                        "NUMBER_NOT_FOUND",
                        format!("No DN has number '{number}'."),
                    )
                })?;
                Ok((member, parse_role(item, "users")?))
            })
            .collect()
    }

    /// `POST /Groups`.
    pub(crate) fn create_group(&mut self, mut body: Map<String, Value>) -> XapiResult<i32> {
        check_body(&body, &GROUP)?;
        check_new_id(&body)?;
        self.check_name(&body, None, true)?;
        check_props(body.get("Props"))?;
        if body.contains_key("Number")
            || body.contains_key("IsDefault")
            || body.contains_key("HasMembers")
        {
            return Err(XapiError::bad_request(
                "Number, IsDefault and HasMembers are assigned by the PBX.",
            ));
        }
        let members = match body.remove("Members") {
            Some(value) => self.parse_members(&value)?,
            None => Vec::new(),
        };
        let id = self.allocate();
        let number = format!("GRP{:04}", self.next_group_number);
        self.next_group_number += 1;
        let mut group = super::json_object(json!({
            "Language": "EN", "TimeZoneId": "51", "AllowCallService": true,
            "DisableCustomPrompt": false, "Props": {},
        }));
        group.extend(body);
        group.insert("Id".to_owned(), json!(id));
        group.insert("Number".to_owned(), json!(number));
        group.insert("IsDefault".to_owned(), json!(false));
        self.groups.insert(id, group);
        for (member, role) in members {
            self.add_member(id, member, &role);
        }
        Ok(id)
    }

    /// `PATCH /Groups({id})`; `Members` replaces the department's member list.
    pub(crate) fn update_group(&mut self, id: i32, mut body: Map<String, Value>) -> XapiResult<()> {
        let current = self.groups.get(&id).ok_or_else(|| {
            XapiError::not_found(format!("Department with Id {id} was not found."))
        })?;
        check_body(&body, &GROUP)?;
        check_immutable(&body, current)?;
        self.check_name(&body, Some(id), false)?;
        check_props(body.get("Props"))?;
        let members = match body.remove("Members") {
            Some(value) => Some(self.parse_members(&value)?),
            None => None,
        };
        body.remove("IsDefault");
        body.remove("HasMembers");
        if let Some(group) = self.groups.get_mut(&id) {
            // Props is merged property by property, as a PATCH of a complex value.
            if let (Some(Value::Object(new)), Some(Value::Object(old))) =
                (body.remove("Props"), group.get_mut("Props"))
            {
                old.extend(new);
            }
            group.extend(body);
        }
        if let Some(members) = members {
            self.members.retain(|m| m.group_id != id);
            for (member, role) in members {
                self.add_member(id, member, &role);
            }
        }
        Ok(())
    }

    /// `DELETE /Groups({id})` and `Pbx.DeleteCompanyById`.
    pub(crate) fn delete_group(&mut self, id: i32) -> XapiResult<()> {
        let group = self.groups.get(&id).ok_or_else(|| {
            XapiError::not_found(format!("Department with Id {id} was not found."))
        })?;
        if group.get("IsDefault") == Some(&Value::Bool(true)) {
            return Err(XapiError::invalid(
                "Id",
                "DEFAULT_GROUP",
                "The default department cannot be deleted.",
            ));
        }
        self.groups.remove(&id);
        self.members.retain(|m| m.group_id != id);
        Ok(())
    }
}

/// `Props`: known keys, typed values, and each range `From <= To`, digits only.
fn check_props(props: Option<&Value>) -> XapiResult<()> {
    let Some(Value::Object(props)) = props else {
        return Ok(());
    };
    for (name, value) in props {
        let ok = match (GROUP_PROPS.iter().find(|(n, _)| n == name), value) {
            (None, _) => {
                return Err(XapiError::bad_request(format!(
                    "The property '{name}' does not exist on type 'Pbx.GroupProps'."
                )));
            }
            (_, Value::Null) => true,
            (Some((_, Kind::Str)), Value::String(_)) => true,
            (Some((_, Kind::Int)), Value::Number(n)) => n.is_i64(),
            _ => false,
        };
        if !ok {
            return Err(XapiError::invalid(
                name,
                "INVALID_VALUE",
                format!("Invalid value for '{name}'."),
            ));
        }
    }
    for (from, to) in RANGES {
        let get = |k: &str| props.get(k).and_then(Value::as_str);
        match (get(from), get(to)) {
            (None, None) => {}
            (Some(a), Some(b)) => match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(a), Ok(b)) if a <= b => {}
                _ => {
                    return Err(XapiError::invalid(
                        from,
                        "INVALID_RANGE",
                        format!("{from}..{to} must be numbers with {from} <= {to}."),
                    ));
                }
            },
            _ => {
                return Err(XapiError::invalid(
                    from,
                    "INCOMPLETE_RANGE",
                    format!("{from} and {to} go together."),
                ));
            }
        }
    }
    Ok(())
}
