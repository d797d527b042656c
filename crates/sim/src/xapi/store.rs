//! The in-memory XAPI entity store with 3CX's validation rules: `Id` must be 0 on
//! create, numbers are unique across all DNs, e-mail addresses are unique ignoring
//! case, `Number` cannot change on PATCH, the default department cannot be deleted.
//!
//! Entities are kept as JSON objects without navigation properties; memberships
//! (`Pbx.UserGroup`) are kept once and rendered into `User.Groups`, `Group.Members`
//! and `Parking.Groups`, so the three views never disagree.

mod groups;
mod parkings;
mod users;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::{XapiError, XapiResult};
use super::schema::{EntityType, Kind};

/// Role a client needs for writes.
pub(crate) const OWNER_ROLE: &str = "system_owners";
const ROLES: &[&str] = &[
    "system_owners",
    "system_admins",
    "group_owners",
    "managers",
    "group_admins",
    "receptionists",
    "users",
];

/// Which DN a membership is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    User(i32),
    Parking(i32),
    /// The API client itself (its role decides what it may do).
    Principal,
}

#[derive(Debug, Clone)]
pub(crate) struct Membership {
    id: i32,
    group_id: i32,
    member: Member,
    role: String,
}

/// All XAPI entities of one simulated PBX.
#[derive(Debug)]
pub(crate) struct Store {
    next_id: i32,
    next_group_number: u32,
    principal_number: String,
    pub(crate) users: BTreeMap<i32, Map<String, Value>>,
    pub(crate) groups: BTreeMap<i32, Map<String, Value>>,
    pub(crate) parkings: BTreeMap<i32, Map<String, Value>>,
    members: Vec<Membership>,
}

impl Store {
    /// A PBX with the `DEFAULT` department (`GRP0000`), the API client in it as
    /// system owner, and one user per extension number given.
    pub(crate) fn new(principal_number: &str, extensions: &[String]) -> Self {
        let mut store = Self {
            next_id: 1,
            next_group_number: 1,
            principal_number: principal_number.to_owned(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            parkings: BTreeMap::new(),
            members: Vec::new(),
        };
        let id = store.allocate();
        store.groups.insert(
            id,
            json_object(json!({
                "Id": id, "Number": "GRP0000", "Name": "DEFAULT", "IsDefault": true,
                "Language": "EN", "TimeZoneId": "51", "AllowCallService": true,
                "DisableCustomPrompt": false, "Props": {}
            })),
        );
        store.add_member(id, Member::Principal, OWNER_ROLE);
        for number in extensions {
            let body = json_object(
                json!({ "Number": number, "FirstName": "Extension", "LastName": number }),
            );
            // Seed numbers come from the simulator config; a clash only skips one.
            let _ = store.create_user(body);
        }
        store
    }

    fn allocate(&mut self) -> i32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The API client's role, from its department membership.
    pub(crate) fn principal_role(&self) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.member == Member::Principal)
            .map(|m| m.role.as_str())
    }

    fn add_member(&mut self, group_id: i32, member: Member, role: &str) {
        let id = self.allocate();
        self.members.push(Membership {
            id,
            group_id,
            member,
            role: role.to_owned(),
        });
    }

    fn member_number(&self, member: Member) -> Option<String> {
        let entity = match member {
            Member::User(id) => self.users.get(&id),
            Member::Parking(id) => self.parkings.get(&id),
            Member::Principal => return Some(self.principal_number.clone()),
        }?;
        entity
            .get("Number")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Any DN with this number: users, parkings, departments and the API client.
    fn number_in_use(&self, number: &str) -> bool {
        let same = |m: &Map<String, Value>| {
            m.get("Number")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(number))
        };
        number == self.principal_number
            || self.users.values().any(same)
            || self.parkings.values().any(same)
            || self.groups.values().any(same)
    }

    fn find_member_by_number(&self, number: &str) -> Option<Member> {
        if number == self.principal_number {
            return Some(Member::Principal);
        }
        let find = |set: &BTreeMap<i32, Map<String, Value>>| {
            set.iter()
                .find(|(_, m)| m.get("Number").and_then(Value::as_str) == Some(number))
                .map(|(id, _)| *id)
        };
        find(&self.users)
            .map(Member::User)
            .or_else(|| find(&self.parkings).map(Member::Parking))
    }

    /// `Pbx.UserGroup` records of a membership list.
    fn render_memberships<'a>(&self, list: impl Iterator<Item = &'a Membership>) -> Value {
        let items = list
            .filter_map(|m| {
                let group = self.groups.get(&m.group_id)?;
                let number = self.member_number(m.member).unwrap_or_default();
                let (kind, name) = match m.member {
                    Member::User(id) => {
                        let user = self.users.get(&id)?;
                        let field =
                            |k: &str| user.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                        (
                            "Extension",
                            format!("{}, {}", field("LastName"), field("FirstName")),
                        )
                    }
                    Member::Parking(_) => ("Parking", number.clone()),
                    Member::Principal => ("ServicePrincipal", number.clone()),
                };
                Some(json!({
                    "Id": m.id, "GroupId": m.group_id, "Number": number,
                    "Name": group.get("Name").cloned().unwrap_or(Value::Null),
                    "MemberName": name, "Type": kind, "CanDelete": true,
                    "Rights": {"RoleName": m.role},
                }))
            })
            .collect();
        Value::Array(items)
    }

    /// Reads `[{"GroupId": n, "Rights": {"RoleName": r}}]` (what a user or parking
    /// body carries) into `(group, role)` pairs, refusing unknown departments.
    fn parse_group_refs(
        &self,
        value: &Value,
        default_role: &str,
    ) -> XapiResult<Vec<(i32, String)>> {
        let Value::Array(items) = value else {
            return Err(XapiError::invalid(
                "Groups",
                "INVALID_TYPE",
                "Groups must be an array.",
            ));
        };
        let mut refs = Vec::new();
        for item in items {
            let group_id = item
                .get("GroupId")
                .and_then(Value::as_i64)
                .and_then(|g| i32::try_from(g).ok())
                .ok_or_else(|| XapiError::invalid("Groups", "REQUIRED", "GroupId is required."))?;
            if !self.groups.contains_key(&group_id) {
                return Err(XapiError::invalid(
                    "Groups",
                    "GROUP_NOT_FOUND",
                    format!("Department {group_id} does not exist."),
                ));
            }
            let role = parse_role(item, default_role)?;
            refs.push((group_id, role));
        }
        Ok(refs)
    }

    fn set_memberships(&mut self, member: Member, refs: Vec<(i32, String)>) {
        self.members.retain(|m| m.member != member);
        for (group_id, role) in refs {
            self.add_member(group_id, member, &role);
        }
    }
}

fn parse_role(item: &Value, default_role: &str) -> XapiResult<String> {
    let role = item
        .get("Rights")
        .and_then(|r| r.get("RoleName"))
        .and_then(Value::as_str)
        .unwrap_or(default_role);
    match ROLES.contains(&role) {
        true => Ok(role.to_owned()),
        false => Err(XapiError::invalid(
            "Rights",
            "INVALID_ROLE",
            format!("Unknown role '{role}'."),
        )),
    }
}

pub(crate) fn json_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Refuses properties the type does not have and values of the wrong JSON type,
/// as the OData deserializer does. Navigation properties are left to the caller.
pub(crate) fn check_body(body: &Map<String, Value>, ty: &EntityType) -> XapiResult<()> {
    for (name, value) in body {
        if name.starts_with("@odata.") {
            continue;
        }
        let Some(kind) = ty.property(name) else {
            return Err(XapiError::bad_request(format!(
                "The property '{name}' does not exist on type '{}'. Make sure to only use property names that are defined by the type.",
                ty.name
            )));
        };
        let ok = match (kind, value) {
            (_, Value::Null) => true,
            (Kind::Str, Value::String(_)) => true,
            (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Int, Value::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            (Kind::Enum(values), Value::String(s)) => values.contains(&s.as_str()),
            (Kind::Complex, Value::Object(_)) => true,
            (Kind::Nav(_), Value::Array(_)) => true,
            _ => false,
        };
        if !ok {
            return Err(XapiError::invalid(
                name,
                "INVALID_VALUE",
                format!("Cannot convert the value {value} of property '{name}'."),
            ));
        }
    }
    Ok(())
}

/// `Id` must be absent or 0 on create.
fn check_new_id(body: &Map<String, Value>) -> XapiResult<()> {
    match body.get("Id") {
        None => Ok(()),
        Some(v) if v.as_i64() == Some(0) => Ok(()),
        Some(_) => Err(XapiError::invalid(
            "Id",
            "INVALID_ID",
            "Id must be 0 when creating an entity.",
        )),
    }
}

/// `Number` and `Id` may appear in a PATCH only with their current values.
fn check_immutable(body: &Map<String, Value>, current: &Map<String, Value>) -> XapiResult<()> {
    for key in ["Id", "Number"] {
        if let Some(new) = body.get(key)
            && Some(new) != current.get(key)
        {
            return Err(XapiError::invalid(
                key,
                "IMMUTABLE",
                format!("{key} cannot be changed."),
            ));
        }
    }
    Ok(())
}
