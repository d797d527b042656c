//! Percent-encoding for query values and entity-key path segments.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Left readable in query values: RFC 3986 unreserved characters plus the OData
/// punctuation that cannot be mistaken for a query separator. `&`, `=`, `+`, `;`, `#`
/// and `%` are always encoded, so a value can never start a new option.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'$')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b'\'')
    .remove(b'/')
    .remove(b':')
    .remove(b'@');

/// Left readable in a key segment such as `Parkings(Number='SP11')`; `/`, `?` and `#`
/// are encoded so a key can never change the path or start the query.
const KEY_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'(')
    .remove(b')')
    .remove(b'\'')
    .remove(b'=')
    .remove(b',');

/// Percent-encodes one query option value (space becomes `%20`, never `+`).
#[must_use]
pub fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// Percent-encodes a path segment that holds an OData key or function call.
#[must_use]
pub fn encode_key_segment(segment: &str) -> String {
    utf8_percent_encode(segment, KEY_SEGMENT).to_string()
}
