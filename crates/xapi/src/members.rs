//! Department membership records (`Pbx.UserGroup`) and roles (`Pbx.Rights`), shared
//! by users, departments and parkings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::GroupId;

/// Role names 3CX knows, for [`Rights::role`].
pub mod roles {
    /// Full control of the PBX; needed for most XAPI writes.
    pub const SYSTEM_OWNERS: &str = "system_owners";
    /// System administrators.
    pub const SYSTEM_ADMINS: &str = "system_admins";
    /// Owners of one department.
    pub const GROUP_OWNERS: &str = "group_owners";
    /// Department managers.
    pub const MANAGERS: &str = "managers";
    /// Department administrators.
    pub const GROUP_ADMINS: &str = "group_admins";
    /// Receptionists.
    pub const RECEPTIONISTS: &str = "receptionists";
    /// Plain users.
    pub const USERS: &str = "users";
}

/// `Pbx.Rights`: the role of a member in a department (plus flags kept in `extra`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rights {
    /// E.g. `users` or `system_owners` (see [`roles`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// Every other property, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Rights {
    /// Rights with only a role name.
    #[must_use]
    pub fn role(role_name: &str) -> Self {
        Self {
            role_name: Some(role_name.to_owned()),
            extra: Map::new(),
        }
    }
}

/// `Pbx.UserGroup`: one membership of a DN (user, parking, …) in a department.
///
/// Read from `User.Groups`, `Group.Members` and `Parking.Groups`; written (with only
/// the fields needed set) to add members.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupMember {
    /// Membership record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    /// The department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// The member's number (extension, `SP11`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The department's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The member's display name, e.g. `Doe, John`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_name: Option<String>,
    /// The member's DN type (`Extension`, `Parking`, …).
    #[serde(default, rename = "Type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether the membership may be removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_delete: Option<bool>,
    /// The member's role in the department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<Rights>,
    /// Every other property, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GroupMember {
    /// A membership to write on a user: `{"GroupId": g, "Rights": {"RoleName": role}}`.
    #[must_use]
    pub fn in_group(group_id: GroupId, role_name: &str) -> Self {
        Self {
            group_id: Some(group_id),
            rights: Some(Rights::role(role_name)),
            ..Self::default()
        }
    }

    /// A member to write on a group: `{"Number": n, "Rights": {"RoleName": role}}`.
    #[must_use]
    pub fn number(number: &str, role_name: &str) -> Self {
        Self {
            number: Some(number.to_owned()),
            rights: Some(Rights::role(role_name)),
            ..Self::default()
        }
    }

    /// Whether this member is a shared parking (`Type` = `Parking`).
    #[must_use]
    pub fn is_parking(&self) -> bool {
        self.kind.as_deref() == Some("Parking")
    }
}
