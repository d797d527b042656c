//! `$expand` items, with nested `$select`, `$filter` and `$expand`.

use std::fmt;

use super::Filter;

/// One navigation property to expand, e.g. `Groups($expand=Rights)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expand {
    name: &'static str,
    select: Vec<&'static str>,
    filter: Option<Filter>,
    expand: Vec<Expand>,
}

impl Expand {
    /// Expands the navigation property `name` with no nested options.
    #[must_use]
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            select: Vec::new(),
            filter: None,
            expand: Vec::new(),
        }
    }

    /// Nested `$select` on the expanded entities.
    #[must_use]
    pub fn select<I>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = &'static str>,
    {
        self.select.extend(fields);
        self
    }

    /// Nested `$filter` on the expanded collection.
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Nested `$expand` (any depth).
    #[must_use]
    pub fn expand(mut self, inner: impl Into<Expand>) -> Self {
        self.expand.push(inner.into());
        self
    }
}

impl From<&'static str> for Expand {
    fn from(name: &'static str) -> Self {
        Self::new(name)
    }
}

impl fmt::Display for Expand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        let mut options = Vec::new();
        if !self.select.is_empty() {
            options.push(format!("$select={}", self.select.join(",")));
        }
        if let Some(filter) = &self.filter {
            options.push(format!("$filter={filter}"));
        }
        if !self.expand.is_empty() {
            let inner: Vec<String> = self.expand.iter().map(ToString::to_string).collect();
            options.push(format!("$expand={}", inner.join(",")));
        }
        if !options.is_empty() {
            // Nested options are separated by `;` inside the brackets (OData v4 §5.1.2).
            write!(f, "({})", options.join(";"))?;
        }
        Ok(())
    }
}
