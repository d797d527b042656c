//! Evaluating a parsed `$filter` against one JSON entity.

use std::cmp::Ordering;

use serde_json::Value;

use super::{CompareOp, Expr, FilterError};

/// Whether `entity` matches `expr`. A `null` result (e.g. `tolower(null) eq 'x'`)
/// does not match, as in SQL.
pub(crate) fn evaluate(expr: &Expr, entity: &Value) -> Result<bool, FilterError> {
    match value(expr, entity)? {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        _ => Err(FilterError(
            "The $filter expression must evaluate to a single boolean value.".to_owned(),
        )),
    }
}

/// Every property path the expression reads, for validation against the schema.
pub(crate) fn properties(expr: &Expr) -> Vec<&[String]> {
    let mut out = Vec::new();
    collect(expr, &mut out);
    out
}

fn collect<'a>(expr: &'a Expr, out: &mut Vec<&'a [String]>) {
    match expr {
        Expr::Literal(_) => {}
        Expr::Property(path) => out.push(path),
        Expr::Call(_, args) => args.iter().for_each(|a| collect(a, out)),
        Expr::Compare(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
            collect(a, out);
            collect(b, out);
        }
        Expr::Not(a) => collect(a, out),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "Edm.Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Edm.Int32",
        Value::Number(_) => "Edm.Decimal",
        Value::String(_) => "Edm.String",
        Value::Array(_) => "Collection",
        Value::Object(_) => "Complex",
    }
}

fn boolean(value: Value, what: &str) -> Result<bool, FilterError> {
    match value {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        other => Err(FilterError(format!(
            "The operand of '{what}' must be Edm.Boolean, found {}.",
            type_name(&other)
        ))),
    }
}

fn value(expr: &Expr, entity: &Value) -> Result<Value, FilterError> {
    match expr {
        Expr::Literal(v) => Ok(v.clone()),
        Expr::Property(path) => {
            let mut current = entity;
            for part in path {
                current = match current.get(part) {
                    Some(next) => next,
                    None => return Ok(Value::Null),
                };
            }
            Ok(current.clone())
        }
        Expr::And(a, b) => {
            let left = boolean(value(a, entity)?, "and")?;
            let right = boolean(value(b, entity)?, "and")?;
            Ok(Value::Bool(left && right))
        }
        Expr::Or(a, b) => {
            let left = boolean(value(a, entity)?, "or")?;
            let right = boolean(value(b, entity)?, "or")?;
            Ok(Value::Bool(left || right))
        }
        Expr::Not(a) => Ok(Value::Bool(!boolean(value(a, entity)?, "not")?)),
        Expr::Compare(op, a, b) => compare(*op, value(a, entity)?, value(b, entity)?),
        Expr::Call(name, args) => {
            let values = args
                .iter()
                .map(|a| value(a, entity))
                .collect::<Result<Vec<_>, _>>()?;
            call(name, values)
        }
    }
}

fn call(name: &str, args: Vec<Value>) -> Result<Value, FilterError> {
    let wrong = |v: &Value| {
        FilterError(format!(
            "No function signature for the function with name '{name}' matches the \
             specified arguments ({}).",
            type_name(v)
        ))
    };
    match (name, args.as_slice()) {
        (_, [Value::Null]) | (_, [Value::Null, _]) | (_, [_, Value::Null]) => Ok(Value::Null),
        ("tolower", [Value::String(s)]) => Ok(Value::String(s.to_lowercase())),
        ("toupper", [Value::String(s)]) => Ok(Value::String(s.to_uppercase())),
        ("trim", [Value::String(s)]) => Ok(Value::String(s.trim().to_owned())),
        ("length", [Value::String(s)]) => Ok(Value::from(s.chars().count() as i64)),
        ("contains", [Value::String(a), Value::String(b)]) => {
            Ok(Value::Bool(a.contains(b.as_str())))
        }
        ("startswith", [Value::String(a), Value::String(b)]) => {
            Ok(Value::Bool(a.starts_with(b.as_str())))
        }
        ("endswith", [Value::String(a), Value::String(b)]) => {
            Ok(Value::Bool(a.ends_with(b.as_str())))
        }
        (_, [first, ..]) if !first.is_string() => Err(wrong(first)),
        (_, [_, second]) => Err(wrong(second)),
        _ => Err(FilterError(format!("Invalid call of '{name}'."))),
    }
}

fn compare(op: CompareOp, left: Value, right: Value) -> Result<Value, FilterError> {
    let ordering = match (&left, &right) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            a.partial_cmp(&b)
        }
        _ => {
            return Err(FilterError(format!(
                "A binary operator with incompatible types was detected. Found operand \
                 types '{}' and '{}' for operator kind '{op:?}'.",
                type_name(&left),
                type_name(&right)
            )));
        }
    };
    let result = match (op, ordering) {
        (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
        (CompareOp::Ne, Some(o)) => o != Ordering::Equal,
        (CompareOp::Ne, None) => true,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        (_, None) => false,
    };
    Ok(Value::Bool(result))
}
