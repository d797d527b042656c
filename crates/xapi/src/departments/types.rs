//! `Pbx.Group` (a department) and `Pbx.GroupProps` (its number ranges and limits).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::GroupId;
use crate::members::GroupMember;

/// `Pbx.GroupProps`: number ranges and limits of a department. All optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DepartmentProps {
    /// First number for system DNs (queues, IVRs…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_number_from: Option<String>,
    /// Last number for system DNs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_number_to: Option<String>,
    /// First trunk number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk_number_from: Option<String>,
    /// Last trunk number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk_number_to: Option<String>,
    /// First user extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_number_from: Option<String>,
    /// Last user extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_number_to: Option<String>,
    /// Maximum live-chat links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_chat_max_count: Option<i32>,
    /// Maximum personal contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_contacts_max_count: Option<i32>,
    /// Maximum custom prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_max_count: Option<i32>,
    /// Every other property, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DepartmentProps {
    /// Sets the user, system and trunk number ranges in one go (`from..=to` each).
    #[must_use]
    pub fn with_ranges(users: (&str, &str), system: (&str, &str), trunks: (&str, &str)) -> Self {
        Self {
            user_number_from: Some(users.0.to_owned()),
            user_number_to: Some(users.1.to_owned()),
            system_number_from: Some(system.0.to_owned()),
            system_number_to: Some(system.1.to_owned()),
            trunk_number_from: Some(trunks.0.to_owned()),
            trunk_number_to: Some(trunks.1.to_owned()),
            ..Self::default()
        }
    }
}

/// A department as XAPI returns it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Department {
    /// Entity id.
    #[serde(default)]
    pub id: GroupId,
    /// The department's DN number, e.g. `GRP0000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Name (unique).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Language, e.g. `EN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Time zone id, e.g. `51`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone_id: Option<String>,
    /// Prompt set id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_set: Option<String>,
    /// Whether this is the built-in `DEFAULT` department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    /// Whether it has members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_members: Option<bool>,
    /// Number ranges and limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub props: Option<DepartmentProps>,
    /// Members (with `$expand=Members`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<GroupMember>>,
    /// Every other property, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Settable department properties: whole for `create`, partial for `update`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DepartmentFields {
    /// Name (unique).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Language, e.g. `EN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Time zone id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone_id: Option<String>,
    /// Prompt set id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_set: Option<String>,
    /// Allow the call service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_call_service: Option<bool>,
    /// Disable the custom prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_custom_prompt: Option<bool>,
    /// Number ranges and limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub props: Option<DepartmentProps>,
    /// Members (by number); `Some(vec![])` clears them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<GroupMember>>,
    /// Any other property, written as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
