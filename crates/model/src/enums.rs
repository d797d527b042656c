//! Open enumerations of the wire format. Each keeps values it does not know as
//! `Other(..)`, because a newer PBX may send more than this crate knows about.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a string enum with an `Other(String)` catch-all, serialised as its wire text.
macro_rules! open_string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of voicebot does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self::from(text.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // `null` and `""` mean "not set" on the wire.
                let text = Option::<String>::deserialize(deserializer)?;
                Ok(text
                    .filter(|text| !text.is_empty())
                    .map_or_else(Self::default, Self::from))
            }
        }
    };
}

open_string_enum! {
    /// A participant's call state. 3CX's own code knows only these three.
    ParticipantStatus {
        /// An outbound leg being placed.
        Dialing => "Dialing",
        /// Ringing, not yet answered.
        Ringing => "Ringing",
        /// Answered; audio streams are available.
        Connected => "Connected",
    }
}

impl Default for ParticipantStatus {
    fn default() -> Self {
        Self::Other(String::new())
    }
}

open_string_enum! {
    /// The kind of a DN, `W`-prefixed on the wire.
    DnType {
        /// No DN (also what `""` reads as).
        None => "None",
        /// An API client's route point.
        RoutePoint => "Wroutepoint",
        /// A user extension.
        Extension => "Wextension",
        /// A digital receptionist (IVR).
        Ivr => "Wivr",
        /// A call queue.
        Queue => "Wqueue",
        /// A trunk / PSTN line.
        ExternalLine => "Wexternalline",
        /// A special menu (voicemail menu and similar).
        SpecialMenu => "Wspecialmenu",
        /// A ring group.
        RingGroup => "Wringgroup",
        /// A fax extension.
        Fax => "Wfax",
        /// A conference.
        Conference => "Wconference",
        /// A parking place.
        Parking => "Wparking",
    }
}

// The enum comes from a macro, so `#[default]` cannot mark the variant.
#[allow(clippy::derivable_impls)]
impl Default for DnType {
    fn default() -> Self {
        Self::None
    }
}

open_string_enum! {
    /// Why a call is diverted or routed (`reason` of a participant action).
    DiversionReason {
        /// No particular reason.
        None => "None",
        /// The destination did not answer.
        NoAnswer => "NoAnswer",
        /// The destination was busy.
        PhoneBusy => "PhoneBusy",
        /// The destination phone is not registered.
        PhoneNotRegistered => "PhoneNotRegistered",
        /// Forward all calls.
        ForwardAll => "ForwardAll",
        /// Based on the caller id.
        BasedOnCallerId => "BasedOnCallerID",
        /// Based on the DID.
        BasedOnDid => "BasedOnDID",
        /// Out of office hours.
        OutOfOfficeHours => "OutOfOfficeHours",
        /// Break time.
        BreakTime => "BreakTime",
        /// Holiday.
        Holiday => "Holiday",
        /// Office hours.
        OfficeHours => "OfficeHours",
        /// No destinations left.
        NoDestinations => "NoDestinations",
        /// Polling.
        Polling => "Polling",
        /// Callback requested.
        CallbackRequested => "CallbackRequested",
        /// Callback.
        Callback => "Callback",
    }
}

// The enum comes from a macro, so `#[default]` cannot mark the variant.
#[allow(clippy::derivable_impls)]
impl Default for DiversionReason {
    fn default() -> Self {
        Self::None
    }
}

/// Outcome of a call-control request (`finalstatus`). CCE's enum has numeric values
/// (`Failed = -1`, `Rejected = 0`, `Success = 1`), the docs show the names; both read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum FinalStatus {
    /// The request was carried out.
    Success,
    /// The PBX refused the request.
    Rejected,
    /// The request failed.
    Failed,
    /// A value this version does not know, kept as sent.
    Other(String),
    /// The field was absent or `null`.
    #[default]
    Unset,
}

impl FinalStatus {
    /// The value as written on the wire (names, as the documentation shows).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Success => "Success",
            Self::Rejected => "Rejected",
            Self::Failed => "Failed",
            Self::Other(text) => text,
            Self::Unset => "",
        }
    }

    fn from_text(text: &str) -> Self {
        match text {
            "Success" | "1" => Self::Success,
            "Rejected" | "0" => Self::Rejected,
            "Failed" | "-1" => Self::Failed,
            "" => Self::Unset,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for FinalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinalStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinalStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;
        impl Visitor<'_> for StatusVisitor {
            type Value = FinalStatus;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a finalstatus name or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FinalStatus, E> {
                Ok(FinalStatus::from_text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FinalStatus, E> {
                Ok(FinalStatus::from_text(&v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FinalStatus, E> {
                Ok(FinalStatus::from_text(&v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<FinalStatus, E> {
                Ok(FinalStatus::Unset)
            }
            fn visit_none<E: de::Error>(self) -> Result<FinalStatus, E> {
                Ok(FinalStatus::Unset)
            }
        }
        deserializer.deserialize_any(StatusVisitor)
    }
}

/// The kind of a WebSocket event (`event.event_type`, a JSON number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// 0: an entity was added or changed; GET it to see how.
    Upsert,
    /// 1: an entity is gone.
    Remove,
    /// 2: DTMF digits, in `attached_data.dtmf_input`.
    Dtmf,
    /// 3: a prompt finished playing (in 3CX's example code only).
    PromptPlaybackFinished,
    /// 4: the reply to a request sent over the socket.
    Response,
    /// Any other number, kept as sent.
    Other(i64),
}

impl EventType {
    /// The wire number.
    pub fn code(self) -> i64 {
        match self {
            Self::Upsert => 0,
            Self::Remove => 1,
            Self::Dtmf => 2,
            Self::PromptPlaybackFinished => 3,
            Self::Response => 4,
            Self::Other(code) => code,
        }
    }

    /// The event type for a wire number.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Upsert,
            1 => Self::Remove,
            2 => Self::Dtmf,
            3 => Self::PromptPlaybackFinished,
            4 => Self::Response,
            other => Self::Other(other),
        }
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        i64::deserialize(deserializer).map(Self::from_code)
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;

    #[test_case("\"Connected\"", ParticipantStatus::Connected ; "known status")]
    #[test_case("\"Talking\"", ParticipantStatus::Other("Talking".into()) ; "unknown status kept")]
    #[test_case("null", ParticipantStatus::Other(String::new()) ; "null status")]
    fn statuses_parse(json: &str, expected: ParticipantStatus) {
        assert_eq!(
            serde_json::from_str::<ParticipantStatus>(json).unwrap(),
            expected
        );
    }

    #[test_case("\"Success\"", FinalStatus::Success)]
    #[test_case("1", FinalStatus::Success)]
    #[test_case("0", FinalStatus::Rejected)]
    #[test_case("-1", FinalStatus::Failed)]
    #[test_case("\"Weird\"", FinalStatus::Other("Weird".into()))]
    #[test_case("null", FinalStatus::Unset)]
    fn final_status_reads_names_and_numbers(json: &str, expected: FinalStatus) {
        assert_eq!(serde_json::from_str::<FinalStatus>(json).unwrap(), expected);
    }

    #[test_case("\"Wroutepoint\"", DnType::RoutePoint)]
    #[test_case("\"Wsomethingnew\"", DnType::Other("Wsomethingnew".into()))]
    #[test_case("\"None\"", DnType::None)]
    #[test_case("\"\"", DnType::None ; "empty type is none")]
    fn dn_types_parse(json: &str, expected: DnType) {
        assert_eq!(serde_json::from_str::<DnType>(json).unwrap(), expected);
    }

    #[test]
    fn event_types_round_trip_as_numbers() {
        for code in -1..8 {
            let parsed: EventType = serde_json::from_str(&code.to_string()).unwrap();
            assert_eq!(parsed.code(), code);
            assert_eq!(serde_json::to_string(&parsed).unwrap(), code.to_string());
        }
        assert_eq!(EventType::from_code(9), EventType::Other(9));
    }

    #[test]
    fn diversion_reasons_keep_wire_case() {
        assert_eq!(DiversionReason::BasedOnCallerId.as_str(), "BasedOnCallerID");
        assert_eq!(
            DiversionReason::from("Vacation"),
            DiversionReason::Other("Vacation".into())
        );
    }
}
