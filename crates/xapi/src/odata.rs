//! A typed builder for OData v4 query options (`$filter`, `$select`, `$expand`,
//! `$orderby`, `$top`, `$skip`, `$count`).
//!
//! Property names are `&'static str` (they come from code); every value that may come
//! from a user is a [`Literal`], which is quoted and escaped on output, so a name such
//! as `O'Brien` can neither break nor extend a filter.
//!
//! ```
//! use voicebot_xapi::odata::{prop, Query};
//!
//! let q = Query::new()
//!     .filter(prop("EmailAddress").tolower().eq("o'brien@example.com"))
//!     .select(["Id", "Number"])
//!     .top(10);
//! assert_eq!(
//!     q.to_pairs(),
//!     vec![
//!         ("$filter", "tolower(EmailAddress) eq 'o''brien@example.com'".to_owned()),
//!         ("$select", "Id,Number".to_owned()),
//!         ("$top", "10".to_owned()),
//!     ]
//! );
//! ```

mod encode;
mod expand;
mod filter;

pub use encode::{encode_key_segment, encode_query_value};
pub use expand::Expand;
pub use filter::{CompareOp, Filter, Literal, Operand, Property, StringFn, prop};

/// Sort direction for `$orderby`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Ascending (the OData default, written without a suffix).
    #[default]
    Asc,
    /// Descending (`desc`).
    Desc,
}

/// The query options of one collection request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    filter: Option<Filter>,
    select: Vec<&'static str>,
    expand: Vec<Expand>,
    order_by: Vec<(&'static str, Direction)>,
    top: Option<u64>,
    skip: Option<u64>,
    count: bool,
}

impl Query {
    /// An empty query: the server's defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `$filter`; a second call is combined with `and`.
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
        self
    }

    /// Adds properties to `$select`.
    #[must_use]
    pub fn select<I>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = &'static str>,
    {
        self.select.extend(fields);
        self
    }

    /// Adds a navigation property to `$expand`.
    #[must_use]
    pub fn expand(mut self, expand: impl Into<Expand>) -> Self {
        self.expand.push(expand.into());
        self
    }

    /// Adds a sort key to `$orderby`.
    #[must_use]
    pub fn order_by(mut self, property: &'static str, direction: Direction) -> Self {
        self.order_by.push((property, direction));
        self
    }

    /// Sets `$top` (at most this many entities).
    #[must_use]
    pub fn top(mut self, top: u64) -> Self {
        self.top = Some(top);
        self
    }

    /// Sets `$skip` (skip this many entities first).
    #[must_use]
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Sets `$count=true`, which adds `@odata.count` to the response.
    #[must_use]
    pub fn count(mut self, count: bool) -> Self {
        self.count = count;
        self
    }

    /// The `$filter` set so far.
    #[must_use]
    pub fn filter_expr(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// The `$top` set so far.
    #[must_use]
    pub fn top_value(&self) -> Option<u64> {
        self.top
    }

    /// The `$skip` set so far.
    #[must_use]
    pub fn skip_value(&self) -> Option<u64> {
        self.skip
    }

    /// Whether `$orderby` has any key.
    #[must_use]
    pub fn is_ordered(&self) -> bool {
        !self.order_by.is_empty()
    }

    /// The options as unencoded `(name, value)` pairs, in a fixed order.
    #[must_use]
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(filter) = &self.filter {
            pairs.push(("$filter", filter.to_string()));
        }
        if !self.select.is_empty() {
            pairs.push(("$select", self.select.join(",")));
        }
        if !self.expand.is_empty() {
            let items: Vec<String> = self.expand.iter().map(ToString::to_string).collect();
            pairs.push(("$expand", items.join(",")));
        }
        if !self.order_by.is_empty() {
            let keys: Vec<String> = self
                .order_by
                .iter()
                .map(|(name, direction)| match direction {
                    Direction::Asc => (*name).to_owned(),
                    Direction::Desc => format!("{name} desc"),
                })
                .collect();
            pairs.push(("$orderby", keys.join(",")));
        }
        if let Some(top) = self.top {
            pairs.push(("$top", top.to_string()));
        }
        if let Some(skip) = self.skip {
            pairs.push(("$skip", skip.to_string()));
        }
        if self.count {
            pairs.push(("$count", "true".to_owned()));
        }
        pairs
    }

    /// The percent-encoded query string without the leading `?` (empty if no options).
    #[must_use]
    pub fn to_query_string(&self) -> String {
        self.to_pairs()
            .iter()
            .map(|(name, value)| format!("{name}={}", encode_query_value(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests;
