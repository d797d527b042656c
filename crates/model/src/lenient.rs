//! Serde helpers that read what the PBX actually sends: `null` where a value was
//! expected, `""` or `"None"` for "not set".

use serde::{Deserialize, Deserializer, Serializer};

/// `null` reads as the type's default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `null`, `""` and `"None"` read as `None`; anything else is wrapped.
pub(crate) fn optional_string<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<String>,
{
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value
        .filter(|text| !text.is_empty() && text != "None")
        .map(T::from))
}

/// Writes `None` as `""`, which is how the PBX writes an unset DN.
pub(crate) fn empty_when_none<S, T>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: AsRef<str>,
{
    serializer.serialize_str(value.as_ref().map_or("", AsRef::as_ref))
}

impl AsRef<str> for crate::Dn {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for crate::DeviceId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for crate::DeviceId {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}
