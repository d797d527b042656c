//! Entity addresses: `Set(Id)` and the two ways of finding an entity by number.

use crate::XapiClient;
use crate::error::Result;
use crate::odata::{Literal, encode_key_segment};

/// How to address an entity by its `Number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberLookup {
    /// Pick from the PBX version ([`PbxVersion::has_number_keys`](crate::PbxVersion::has_number_keys)),
    /// asking the PBX once if it is not known yet.
    #[default]
    Auto,
    /// `Set(Number='SP11')`: the alternate key of 20.0.8 and later.
    AlternateKey,
    /// `Set/Pbx.GetByNumber(number='SP11')`: the function of 20.0.7 and earlier.
    Function,
}

/// `Users(12)`.
pub(crate) fn by_id(set: &str, id: i32) -> String {
    format!("{set}({id})")
}

impl XapiClient {
    /// The path of the entity of `set` whose `Number` is `number`.
    pub(crate) async fn by_number(
        &self,
        set: &str,
        number: &str,
        lookup: NumberLookup,
    ) -> Result<String> {
        let lookup = match lookup {
            NumberLookup::Auto => match self.cached_version().await?.has_number_keys() {
                true => NumberLookup::AlternateKey,
                false => NumberLookup::Function,
            },
            other => other,
        };
        // The number is an OData string literal, so a quote in it is doubled and the
        // whole segment is percent-encoded: it cannot leave the key.
        let literal = Literal::from(number).to_string();
        let segment = match lookup {
            NumberLookup::Function => format!("Pbx.GetByNumber(number={literal})"),
            NumberLookup::AlternateKey | NumberLookup::Auto => format!("Number={literal}"),
        };
        Ok(match lookup {
            NumberLookup::Function => format!("{set}/{}", encode_key_segment(&segment)),
            NumberLookup::AlternateKey | NumberLookup::Auto => {
                format!("{set}({})", encode_key_segment(&segment))
            }
        })
    }
}

/// A create body: the fields plus `"Id": 0`, which 3CX requires on `POST`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct NewEntity<'a, T>
where
    T: serde::Serialize,
{
    #[serde(rename = "Id")]
    id: i32,
    #[serde(flatten)]
    fields: &'a T,
}

impl<'a, T> NewEntity<'a, T>
where
    T: serde::Serialize,
{
    pub(crate) fn new(fields: &'a T) -> Self {
        Self { id: 0, fields }
    }
}
