//! Id newtypes of XAPI entities (`Id` is `int32` on the wire).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<i32> for $name {
            fn from(id: i32) -> Self {
                Self(id)
            }
        }
    };
}

entity_id!(
    /// `Id` of a user (`/Users({Id})`).
    UserId
);
entity_id!(
    /// `Id` of a department (`/Groups({Id})`).
    GroupId
);
entity_id!(
    /// `Id` of a shared parking (`/Parkings({Id})`).
    ParkingId
);
