//! `Pbx.User` as read, and the settable fields written on create and update.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::UserId;
use crate::members::GroupMember;

/// `VMEmailOptions`: what voicemail e-mails carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoicemailEmailOptions {
    /// No e-mail.
    None,
    /// A notification only.
    Notification,
    /// The message as an attachment.
    Attachment,
    /// Attach, then delete from the PBX.
    AttachmentAndDelete,
    /// Send to the department's members.
    VmailToMembers,
    /// Only to the extra addresses.
    EmailToExtrasOnly,
    /// A value newer than this client.
    #[serde(other)]
    Unknown,
}

/// A user (extension) as XAPI returns it. Properties not modelled here stay in
/// [`extra`](Self::extra), so nothing the PBX sends is lost.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    /// Entity id (absent when `$select` left it out; then 0).
    #[serde(default)]
    pub id: UserId,
    /// Extension number, e.g. `211`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Mobile number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// UI and prompt language, e.g. `EN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Prompt set id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_set: Option<String>,
    /// Whether the extension is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Whether voicemail is on.
    #[serde(default, rename = "VMEnabled", skip_serializing_if = "Option::is_none")]
    pub voicemail_enabled: Option<bool>,
    /// Voicemail e-mail behaviour.
    #[serde(
        default,
        rename = "VMEmailOptions",
        skip_serializing_if = "Option::is_none"
    )]
    pub voicemail_email_options: Option<VoicemailEmailOptions>,
    /// Department memberships (with `$expand=Groups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupMember>>,
    /// Every other property, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Settable user properties. Used whole for `create` (unset fields take the PBX's
/// defaults; an unset `number` lets the PBX pick one) and as a partial body for
/// `update` (only set fields change). Never serialises `null`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserFields {
    /// Extension number. Cannot be changed after creation (the PBX answers 400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail address; must be unique on the PBX.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Web client password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_password: Option<String>,
    /// Mobile number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Language, e.g. `EN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Prompt set id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_set: Option<String>,
    /// Enable or disable the extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Require two-factor authentication.
    #[serde(rename = "Require2FA", skip_serializing_if = "Option::is_none")]
    pub require_2fa: Option<bool>,
    /// E-mail on missed calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_email_missed_calls: Option<bool>,
    /// Voicemail on or off.
    #[serde(rename = "VMEnabled", skip_serializing_if = "Option::is_none")]
    pub voicemail_enabled: Option<bool>,
    /// Voicemail PIN.
    #[serde(rename = "VMPIN", skip_serializing_if = "Option::is_none")]
    pub voicemail_pin: Option<String>,
    /// Voicemail e-mail behaviour.
    #[serde(rename = "VMEmailOptions", skip_serializing_if = "Option::is_none")]
    pub voicemail_email_options: Option<VoicemailEmailOptions>,
    /// Department memberships; `Some(vec![])` removes all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupMember>>,
    /// Any other property, written as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One failure of `Pbx.BatchDelete` (`Pbx.UserDeleteError`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDeleteError {
    /// Why this user was not deleted.
    #[serde(default)]
    pub error: Option<String>,
    /// The extension number of the user concerned.
    #[serde(default)]
    pub extension_number: Option<String>,
}
