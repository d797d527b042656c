//! OData system query options as 3CX evaluates them: parsing `$select`, `$expand`
//! (nested), `$orderby`, `$top`, `$skip`, `$count`, `$filter`; validating names against
//! the schema; and applying them to full JSON entities.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::error::{XapiError, XapiResult};
use super::odata::{Expr, evaluate, parse_filter};
use super::schema::{EntityType, Kind};

/// Parsed options of one request.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub(crate) filter: Option<Expr>,
    pub(crate) shape: Shape,
    pub(crate) order_by: Vec<(String, bool)>,
    pub(crate) top: Option<usize>,
    pub(crate) skip: usize,
    pub(crate) count: bool,
}

/// `$select` and `$expand` at one level.
#[derive(Debug, Default, Clone)]
pub(crate) struct Shape {
    pub(crate) select: Option<Vec<String>>,
    pub(crate) expand: Vec<(String, &'static EntityType, Shape, Option<Expr>)>,
}

/// Parses the query pairs of a request on entities of type `ty`.
pub(crate) fn parse_options(
    pairs: &[(String, String)],
    ty: &'static EntityType,
) -> XapiResult<Options> {
    let mut options = Options::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut select = None;
    let mut expand = None;
    for (name, value) in pairs {
        if !name.starts_with('$') {
            continue;
        }
        if seen.contains(&name.as_str()) {
            return Err(XapiError::bad_request(format!(
                "Query option '{name}' was specified more than once, but it must be specified at most once."
            )));
        }
        seen.push(name);
        match name.as_str() {
            "$filter" => {
                let expr = parse_filter(value).map_err(|e| XapiError::bad_request(e.0))?;
                check_filter(&expr, ty)?;
                options.filter = Some(expr);
            }
            "$select" => select = Some(value.as_str()),
            "$expand" => expand = Some(value.as_str()),
            "$orderby" => options.order_by = parse_order_by(value, ty)?,
            "$top" => options.top = Some(parse_count(name, value)?),
            "$skip" => options.skip = parse_count(name, value)?,
            "$count" => {
                options.count = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(XapiError::bad_request(format!(
                            "'{value}' is not a valid count option."
                        )));
                    }
                }
            }
            "$search" => {}
            _ => {
                return Err(XapiError::bad_request(format!(
                    "The query parameter '{name}' is not supported."
                )));
            }
        }
    }
    options.shape = parse_shape(select, expand, ty, 0)?;
    Ok(options)
}

fn parse_count(name: &str, value: &str) -> XapiResult<usize> {
    value.parse::<usize>().map_err(|_| {
        XapiError::bad_request(format!(
            "Invalid value '{value}' for {name} query option found. The {name} query option requires a non-negative integer value."
        ))
    })
}

fn unknown(name: &str, ty: &EntityType) -> XapiError {
    XapiError::bad_request(format!(
        "Could not find a property named '{name}' on type '{}'.",
        ty.name
    ))
}

fn check_filter(expr: &Expr, ty: &EntityType) -> XapiResult<()> {
    for path in super::odata::properties(expr) {
        let Some(first) = path.first() else { continue };
        match ty.property(first) {
            None => return Err(unknown(first, ty)),
            Some(Kind::Nav(_)) => {
                return Err(XapiError::bad_request(format!(
                    "The parent value for a property access of a property '{first}' is not a single value. Property access can only be applied to a single value."
                )));
            }
            Some(Kind::Complex) => {}
            Some(_) if path.len() > 1 => return Err(unknown(&path[1], ty)),
            Some(_) => {}
        }
    }
    Ok(())
}

fn parse_order_by(value: &str, ty: &EntityType) -> XapiResult<Vec<(String, bool)>> {
    let mut keys = Vec::new();
    for item in value.split(',') {
        let mut words = item.split_whitespace();
        let Some(name) = words.next() else {
            return Err(XapiError::bad_request("Syntax error in $orderby."));
        };
        let descending = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(XapiError::bad_request(format!(
                    "Syntax error: '{other}' in $orderby."
                )));
            }
        };
        match ty.property(name) {
            Some(Kind::Nav(_)) | Some(Kind::Complex) | None => return Err(unknown(name, ty)),
            Some(_) => keys.push((name.to_owned(), descending)),
        }
    }
    Ok(keys)
}

/// Splits on `separator` outside brackets and string literals.
fn split_top(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            c if c == separator && depth == 0 && !quoted => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

fn parse_shape(
    select: Option<&str>,
    expand: Option<&str>,
    ty: &'static EntityType,
    depth: usize,
) -> XapiResult<Shape> {
    if depth > 8 {
        return Err(XapiError::bad_request("The $expand is nested too deeply."));
    }
    let mut shape = Shape::default();
    if let Some(select) = select {
        let mut names = Vec::new();
        for name in select.split(',').map(str::trim) {
            match ty.property(name) {
                Some(_) => names.push(name.to_owned()),
                None if name == "*" => {}
                None => return Err(unknown(name, ty)),
            }
        }
        shape.select = Some(names);
    }
    if let Some(expand) = expand {
        for item in split_top(expand, ',') {
            let item = item.trim();
            let (name, inner) = match item.find('(') {
                Some(open) if item.ends_with(')') => {
                    (&item[..open], &item[open + 1..item.len() - 1])
                }
                Some(_) => {
                    return Err(XapiError::bad_request(format!(
                        "Syntax error in $expand at '{item}'."
                    )));
                }
                None => (item, ""),
            };
            let target = match ty.property(name) {
                Some(Kind::Nav(target)) => target,
                Some(_) => {
                    return Err(XapiError::bad_request(format!(
                        "Property '{name}' on type '{}' is not a navigation property or complex property. Only navigation properties can be expanded.",
                        ty.name
                    )));
                }
                None => return Err(unknown(name, ty)),
            };
            let (mut nested_select, mut nested_expand, mut nested_filter) = (None, None, None);
            for option in split_top(inner, ';')
                .iter()
                .map(|o| o.trim())
                .filter(|o| !o.is_empty())
            {
                match option.split_once('=') {
                    Some(("$select", v)) => nested_select = Some(v.to_owned()),
                    Some(("$expand", v)) => nested_expand = Some(v.to_owned()),
                    Some(("$filter", v)) => {
                        let expr = parse_filter(v).map_err(|e| XapiError::bad_request(e.0))?;
                        check_filter(&expr, target)?;
                        nested_filter = Some(expr);
                    }
                    _ => {
                        return Err(XapiError::bad_request(format!(
                            "Unsupported option '{option}' in $expand."
                        )));
                    }
                }
            }
            let nested = parse_shape(
                nested_select.as_deref(),
                nested_expand.as_deref(),
                target,
                depth + 1,
            )?;
            shape
                .expand
                .push((name.to_owned(), target, nested, nested_filter));
        }
    }
    Ok(shape)
}

/// Filters, sorts and pages full entities; returns the page and the total match count.
pub(crate) fn apply(options: &Options, entities: Vec<Value>) -> XapiResult<(Vec<Value>, usize)> {
    let mut matched = Vec::new();
    for entity in entities {
        let keep = match &options.filter {
            Some(expr) => evaluate(expr, &entity).map_err(|e| XapiError::bad_request(e.0))?,
            None => true,
        };
        if keep {
            matched.push(entity);
        }
    }
    if !options.order_by.is_empty() {
        matched.sort_by(|a, b| {
            for (key, descending) in &options.order_by {
                let ordering = compare(a.get(key), b.get(key));
                if ordering != Ordering::Equal {
                    return if *descending {
                        ordering.reverse()
                    } else {
                        ordering
                    };
                }
            }
            Ordering::Equal
        });
    }
    let total = matched.len();
    let page = matched
        .into_iter()
        .skip(options.skip)
        .take(options.top.unwrap_or(usize::MAX))
        .collect();
    Ok((page, total))
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::String(a)), Some(Value::String(b))) => a.cmp(b),
        (Some(Value::Number(a)), Some(Value::Number(b))) => a
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&b.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        // Nulls sort first, as in SQL Server.
        (None | Some(Value::Null), Some(v)) if !v.is_null() => Ordering::Less,
        (Some(v), None | Some(Value::Null)) if !v.is_null() => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// Projects a full entity: navigation properties only when expanded, `$select` applied.
pub(crate) fn project(entity: &Value, ty: &EntityType, shape: &Shape) -> Value {
    let Value::Object(full) = entity else {
        return entity.clone();
    };
    let mut out = Map::new();
    for (name, value) in full {
        let is_nav = matches!(ty.property(name), Some(Kind::Nav(_)));
        let selected = match &shape.select {
            Some(names) => names.iter().any(|n| n == name),
            None => true,
        };
        if selected && !is_nav {
            out.insert(name.clone(), value.clone());
        }
    }
    for (name, target, nested, filter) in &shape.expand {
        let value = match full.get(name) {
            Some(Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .filter(|item| match filter {
                        Some(expr) => evaluate(expr, item).unwrap_or(false),
                        None => true,
                    })
                    .map(|item| project(item, target, nested))
                    .collect(),
            ),
            Some(single) => project(single, target, nested),
            None => Value::Null,
        };
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

/// The `@odata.context` suffix for a `$select`, e.g. `(Id,Number)`.
pub(crate) fn context_select(shape: &Shape) -> String {
    match &shape.select {
        Some(names) if !names.is_empty() => format!("({})", names.join(",")),
        _ => String::new(),
    }
}
