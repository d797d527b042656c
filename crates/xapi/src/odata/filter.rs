//! `$filter` expressions: a small typed AST rendered to OData text.

use std::borrow::Cow;
use std::fmt;

/// A property path such as `Name` or `Groups/GroupId`.
///
/// Names are `&'static str` on purpose: they come from code, never from user input,
/// so only literals carry untrusted text, and literals are always escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property(Cow<'static, str>);

/// Starts a filter on a property: `prop("Number").ge("100")`.
#[must_use]
pub fn prop(name: &'static str) -> Operand {
    Operand::Property(Property(Cow::Borrowed(name)))
}

/// A literal value in a filter. Strings are quoted and their `'` doubled on output.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'`, with `'` written as `''`.
    String(String),
    /// An integer.
    Int(i64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// One side of a comparison: a property, a literal or a function of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A property path.
    Property(Property),
    /// A literal value.
    Literal(Literal),
    /// `tolower(x)`.
    ToLower(Box<Operand>),
    /// `toupper(x)`.
    ToUpper(Box<Operand>),
}

/// Comparison operators of OData v4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// String functions that yield a boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFn {
    /// `contains(a,b)`
    Contains,
    /// `startswith(a,b)`
    StartsWith,
    /// `endswith(a,b)`
    EndsWith,
}

/// A boolean `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `lhs op rhs`.
    Compare(Operand, CompareOp, Operand),
    /// `contains(a,b)` and friends.
    Call(StringFn, Operand, Operand),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not a`.
    Not(Box<Filter>),
    /// Text passed through unchanged, e.g. a `--filter` typed by an operator on the
    /// command line. Always parenthesised when combined with other terms.
    Raw(String),
}

impl From<&str> for Literal {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for Literal {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<&String> for Literal {
    fn from(value: &String) -> Self {
        Self::String(value.clone())
    }
}

impl From<i64> for Literal {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<i32> for Literal {
    fn from(value: i32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<bool> for Literal {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl<T> From<Option<T>> for Literal
where
    T: Into<Literal>,
{
    fn from(value: Option<T>) -> Self {
        match value {
            Some(v) => v.into(),
            None => Self::Null,
        }
    }
}

impl<T> From<T> for Operand
where
    T: Into<Literal>,
{
    fn from(value: T) -> Self {
        Self::Literal(value.into())
    }
}

impl Operand {
    /// `tolower(self)`, for case-insensitive comparisons.
    #[must_use]
    pub fn tolower(self) -> Self {
        Self::ToLower(Box::new(self))
    }

    /// `toupper(self)`.
    #[must_use]
    pub fn toupper(self) -> Self {
        Self::ToUpper(Box::new(self))
    }

    fn compare(self, op: CompareOp, rhs: impl Into<Operand>) -> Filter {
        Filter::Compare(self, op, rhs.into())
    }

    /// `self eq rhs`.
    #[must_use]
    pub fn eq(self, rhs: impl Into<Operand>) -> Filter {
        self.compare(CompareOp::Eq, rhs)
    }

    /// `self ne rhs`.
    #[must_use]
    pub fn ne(self, rhs: impl Into<Operand>) -> Filter {
        self.compare(CompareOp::Ne, rhs)
    }

    /// `self gt rhs`.
    #[must_use]
    pub fn gt(self, rhs: impl Into<Operand>) -> Filter {
        self.compare(CompareOp::Gt, rhs)
    }

    /// `self ge rhs`.
    #[must_use]
    pub fn ge(self, rhs: impl Into<Operand>) -> Filter {
        self.compare(CompareOp::Ge, rhs)
    }

    /// `self lt rhs`.
    #[must_use]
    pub fn lt(self, rhs: impl Into<Operand>) -> Filter {
        self.compare(CompareOp::Lt, rhs)
    }

    /// `self le rhs`.
    #[must_use]
    pub fn le(self, rhs: impl Into<Operand>) -> Filter {
        self.compare(CompareOp::Le, rhs)
    }

    /// `self eq null`.
    #[must_use]
    pub fn is_null(self) -> Filter {
        self.compare(CompareOp::Eq, Literal::Null)
    }

    /// `contains(self, needle)`.
    #[must_use]
    pub fn contains(self, needle: impl Into<Operand>) -> Filter {
        Filter::Call(StringFn::Contains, self, needle.into())
    }

    /// `startswith(self, prefix)`.
    #[must_use]
    pub fn starts_with(self, prefix: impl Into<Operand>) -> Filter {
        Filter::Call(StringFn::StartsWith, self, prefix.into())
    }

    /// `endswith(self, suffix)`.
    #[must_use]
    pub fn ends_with(self, suffix: impl Into<Operand>) -> Filter {
        Filter::Call(StringFn::EndsWith, self, suffix.into())
    }
}

impl Filter {
    /// Wraps operator-typed filter text, passed to the PBX unchanged.
    #[must_use]
    pub fn raw(text: impl Into<String>) -> Self {
        Self::Raw(text.into())
    }

    /// `self and other`.
    #[must_use]
    pub fn and(self, other: Filter) -> Self {
        Self::And(Box::new(self), Box::new(other))
    }

    /// `self or other`.
    #[must_use]
    pub fn or(self, other: Filter) -> Self {
        Self::Or(Box::new(self), Box::new(other))
    }

    /// Writes `self`, parenthesised unless it binds at least as tightly as `min`.
    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, min: Precedence) -> fmt::Result {
        if self.precedence() >= min {
            write!(f, "{self}")
        } else {
            write!(f, "({self})")
        }
    }

    fn precedence(&self) -> Precedence {
        match self {
            Self::Or(..) => Precedence::Or,
            Self::And(..) => Precedence::And,
            Self::Compare(..) => Precedence::Compare,
            Self::Not(..) => Precedence::Unary,
            Self::Call(..) => Precedence::Primary,
            // Raw text could hold any operator, so it is always bracketed when combined.
            Self::Raw(_) => Precedence::Raw,
        }
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;

    fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}

/// OData v4 precedence, lowest first (`Raw` sits below everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Raw,
    Or,
    And,
    Compare,
    Unary,
    Primary,
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Self::Int(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Property(p) => f.write_str(&p.0),
            Self::Literal(l) => write!(f, "{l}"),
            Self::ToLower(inner) => write!(f, "tolower({inner})"),
            Self::ToUpper(inner) => write!(f, "toupper({inner})"),
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        })
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare(lhs, op, rhs) => write!(f, "{lhs} {op} {rhs}"),
            Self::Call(func, a, b) => {
                let name = match func {
                    StringFn::Contains => "contains",
                    StringFn::StartsWith => "startswith",
                    StringFn::EndsWith => "endswith",
                };
                write!(f, "{name}({a},{b})")
            }
            Self::And(a, b) => {
                a.fmt_operand(f, Precedence::And)?;
                f.write_str(" and ")?;
                // `a and (b and c)` keeps its brackets so the tree round-trips exactly.
                b.fmt_operand(f, Precedence::Compare)
            }
            Self::Or(a, b) => {
                a.fmt_operand(f, Precedence::Or)?;
                f.write_str(" or ")?;
                b.fmt_operand(f, Precedence::And)
            }
            Self::Not(inner) => {
                f.write_str("not ")?;
                inner.fmt_operand(f, Precedence::Unary)
            }
            Self::Raw(text) => f.write_str(text),
        }
    }
}
