//! The part of the XAPI entity model the simulator serves: property names and kinds
//! of `Pbx.User`, `Pbx.Group`, `Pbx.Parking`, `Pbx.UserGroup` and `Pbx.Rights`
//! (reference §7.4–7.6). Used to refuse unknown properties in bodies and queries, as
//! an OData service does, and to tell navigation properties (only with `$expand`)
//! from plain ones.

/// What a property holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Str,
    Bool,
    Int,
    /// A string restricted to these values.
    Enum(&'static [&'static str]),
    /// A complex value (an object), written and returned whole.
    Complex,
    /// A navigation property: returned only when expanded.
    Nav(&'static EntityType),
}

/// One entity type.
#[derive(Debug)]
pub(crate) struct EntityType {
    pub(crate) name: &'static str,
    pub(crate) properties: &'static [(&'static str, Kind)],
}

impl EntityType {
    pub(crate) fn property(&self, name: &str) -> Option<Kind> {
        self.properties
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, kind)| *kind)
    }
}

pub(crate) const VM_EMAIL_OPTIONS: &[&str] = &[
    "None",
    "Notification",
    "Attachment",
    "AttachmentAndDelete",
    "VmailToMembers",
    "EmailToExtrasOnly",
];

const TRANSCRIPTION: &[&str] = &["Nothing", "Voicemail", "Recordings", "Both", "Inherit"];

pub(crate) static RIGHTS: EntityType = EntityType {
    name: "Pbx.Rights",
    properties: &[
        ("RoleName", Kind::Str),
        ("AllowIVR", Kind::Bool),
        ("AllowParking", Kind::Bool),
        ("CanBargeIn", Kind::Bool),
        ("CanSeeGroupCalls", Kind::Bool),
        ("CanSeeGroupMembers", Kind::Bool),
        ("PerformOperations", Kind::Bool),
        ("ShowMyCalls", Kind::Bool),
    ],
};

pub(crate) static USER_GROUP: EntityType = EntityType {
    name: "Pbx.UserGroup",
    properties: &[
        ("Id", Kind::Int),
        ("GroupId", Kind::Int),
        ("Number", Kind::Str),
        ("Name", Kind::Str),
        ("MemberName", Kind::Str),
        ("Type", Kind::Str),
        ("CanDelete", Kind::Bool),
        ("Rights", Kind::Nav(&RIGHTS)),
    ],
};

pub(crate) static USER: EntityType = EntityType {
    name: "Pbx.User",
    properties: &[
        ("Id", Kind::Int),
        ("Number", Kind::Str),
        ("FirstName", Kind::Str),
        ("LastName", Kind::Str),
        ("DisplayName", Kind::Str),
        ("EmailAddress", Kind::Str),
        ("AccessPassword", Kind::Str),
        ("Mobile", Kind::Str),
        ("OutboundCallerID", Kind::Str),
        ("Language", Kind::Str),
        ("PromptSet", Kind::Str),
        ("Enabled", Kind::Bool),
        ("Require2FA", Kind::Bool),
        ("Enable2FA", Kind::Bool),
        ("SendEmailMissedCalls", Kind::Bool),
        ("VMEnabled", Kind::Bool),
        ("VMPIN", Kind::Str),
        ("VMEmailOptions", Kind::Enum(VM_EMAIL_OPTIONS)),
        ("VMPlayCallerID", Kind::Bool),
        ("PrimaryGroupId", Kind::Int),
        ("TranscriptionMode", Kind::Enum(TRANSCRIPTION)),
        ("Groups", Kind::Nav(&USER_GROUP)),
    ],
};

pub(crate) static GROUP: EntityType = EntityType {
    name: "Pbx.Group",
    properties: &[
        ("Id", Kind::Int),
        ("Number", Kind::Str),
        ("Name", Kind::Str),
        ("Language", Kind::Str),
        ("TimeZoneId", Kind::Str),
        ("PromptSet", Kind::Str),
        ("AllowCallService", Kind::Bool),
        ("DisableCustomPrompt", Kind::Bool),
        ("IsDefault", Kind::Bool),
        ("HasMembers", Kind::Bool),
        ("Props", Kind::Complex),
        ("Members", Kind::Nav(&USER_GROUP)),
    ],
};

pub(crate) static PARKING: EntityType = EntityType {
    name: "Pbx.Parking",
    properties: &[
        ("Id", Kind::Int),
        ("Number", Kind::Str),
        ("TranscriptionMode", Kind::Enum(TRANSCRIPTION)),
        ("Groups", Kind::Nav(&USER_GROUP)),
    ],
};

/// Properties of `Pbx.GroupProps` (all optional).
pub(crate) const GROUP_PROPS: &[(&str, Kind)] = &[
    ("SystemNumberFrom", Kind::Str),
    ("SystemNumberTo", Kind::Str),
    ("TrunkNumberFrom", Kind::Str),
    ("TrunkNumberTo", Kind::Str),
    ("UserNumberFrom", Kind::Str),
    ("UserNumberTo", Kind::Str),
    ("LiveChatMaxCount", Kind::Int),
    ("PersonalContactsMaxCount", Kind::Int),
    ("PromptsMaxCount", Kind::Int),
    ("DectMaxCount", Kind::Int),
    ("TrunksMaxCount", Kind::Int),
    ("SbcMaxCount", Kind::Int),
    ("OutboundRulesMaxCount", Kind::Int),
    ("DepartmentContactsMaxCount", Kind::Int),
    ("Fqdn", Kind::Str),
];
