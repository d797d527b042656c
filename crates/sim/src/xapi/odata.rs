//! The simulator's own OData v4 `$filter` parser and evaluator. It is written from the
//! OData grammar, not from the client's builder, so the two can disagree and a test
//! catches it. Supports literals (string, integer, decimal, true/false/null),
//! property paths (`A/B`), `eq ne gt ge lt le and or not`, brackets, and the
//! functions `tolower toupper contains startswith endswith length`.

mod eval;
mod lexer;

use lexer::{Token, tokenize};

pub(crate) use eval::{evaluate, properties};

/// A parsed `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Literal(serde_json::Value),
    Property(Vec<String>),
    Call(String, Vec<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// Why a `$filter` was refused (3CX answers 400 with this as the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilterError(pub(crate) String);

/// Deepest nesting accepted, so a hostile filter cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Parses `$filter` text.
pub(crate) fn parse_filter(text: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        depth: 0,
    };
    let expr = parser.or_expr()?;
    match parser.peek() {
        None => Ok(expr),
        Some(token) => Err(FilterError(format!(
            "Syntax error: unexpected '{token}' at position {}",
            parser.position
        ))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn expect(&mut self, wanted: &Token) -> Result<(), FilterError> {
        match self.next() {
            Some(token) if &token == wanted => Ok(()),
            Some(token) => Err(FilterError(format!(
                "Syntax error: expected '{wanted}' but found '{token}'"
            ))),
            None => Err(FilterError(format!(
                "Syntax error: expected '{wanted}' at end of expression"
            ))),
        }
    }

    fn descend(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        match self.depth > MAX_DEPTH {
            true => Err(FilterError("The filter is nested too deeply.".to_owned())),
            false => Ok(()),
        }
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        self.descend()?;
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            self.position += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.position += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            self.position += 1;
            self.descend()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Token::Word(w)) => match w.as_str() {
                "eq" => Some(CompareOp::Eq),
                "ne" => Some(CompareOp::Ne),
                "gt" => Some(CompareOp::Gt),
                "ge" => Some(CompareOp::Ge),
                "lt" => Some(CompareOp::Lt),
                "le" => Some(CompareOp::Le),
                _ => None,
            },
            _ => None,
        };
        match op {
            Some(op) => {
                self.position += 1;
                let right = self.primary()?;
                Ok(Expr::Compare(op, Box::new(left), Box::new(right)))
            }
            None => Ok(left),
        }
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or_expr()?;
                self.expect(&Token::Close)?;
                Ok(inner)
            }
            Some(Token::Str(s)) => Ok(Expr::Literal(serde_json::Value::String(s))),
            Some(Token::Number(n)) => Ok(Expr::Literal(n)),
            Some(Token::Word(word)) => match word.as_str() {
                "true" => Ok(Expr::Literal(serde_json::Value::Bool(true))),
                "false" => Ok(Expr::Literal(serde_json::Value::Bool(false))),
                "null" => Ok(Expr::Literal(serde_json::Value::Null)),
                "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "and" | "or" | "not" => Err(FilterError(
                    format!("Syntax error: unexpected operator '{word}'"),
                )),
                _ if self.peek() == Some(&Token::Open) => self.call(word),
                _ => Ok(Expr::Property(word.split('/').map(str::to_owned).collect())),
            },
            Some(token) => Err(FilterError(format!("Syntax error: unexpected '{token}'"))),
            None => Err(FilterError(
                "Syntax error: expression ended unexpectedly".to_owned(),
            )),
        }
    }

    fn call(&mut self, name: String) -> Result<Expr, FilterError> {
        let arity = match name.as_str() {
            "tolower" | "toupper" | "length" | "trim" => 1,
            "contains" | "startswith" | "endswith" => 2,
            _ => {
                return Err(FilterError(format!(
                    "An unknown function with name '{name}' was found."
                )));
            }
        };
        self.expect(&Token::Open)?;
        self.descend()?;
        let mut args = Vec::new();
        if self.peek() != Some(&Token::Close) {
            args.push(self.or_expr()?);
            while self.peek() == Some(&Token::Comma) {
                self.position += 1;
                args.push(self.or_expr()?);
            }
        }
        self.expect(&Token::Close)?;
        self.depth -= 1;
        if args.len() != arity {
            return Err(FilterError(format!(
                "The function '{name}' takes {arity} argument(s), {} given.",
                args.len()
            )));
        }
        Ok(Expr::Call(name, args))
    }
}

#[cfg(test)]
mod tests;
