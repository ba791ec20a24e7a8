//! `-Q`/`--filter EXPR`: libsmartcols's filter expressions (scols-filter(5),
//! util-linux 2.40+): column names, numbers (`10`, `4K`, `4KiB`, `1.5`),
//! strings in double or single quotes, `true`/`false`; `==` `!=` `<` `<=`
//! `>` `>=` and their words `eq` `ne` `lt` `le` `gt` `ge`; `=~` and `!~`
//! against a POSIX extended regular expression (regex(7)); `!`/`not`,
//! `&&`/`and`, `||`/`or`, parentheses. Words are all lower or all upper
//! case. Binding, loosest first: or, and, `==` `!=`, the order comparisons
//! and regexes, not.

mod regex;

use anyhow::{anyhow, bail};

use crate::columns::Col;
use regex::Regex;

/// A parsed expression and the columns it reads.
#[derive(Debug)]
pub struct Filter {
    expr: Expr,
    pub columns: Vec<Col>,
}

#[derive(Debug)]
enum Expr {
    Value(Value),
    Column(Col),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Op, Box<Expr>, Box<Expr>),
    Match(Box<Expr>, Regex, bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What an expression stands for in one row.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// An empty cell.
    Null,
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl Value {
    fn truth(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bool(b) => *b,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(*n as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => float_text(*f),
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
        }
    }
}

/// A float as text, as libsmartcols makes it (`%Lg`: six significant
/// digits, an exponent past them): `%g` of the f64 rlsns keeps.
fn float_text(f: f64) -> String {
    let mut buf = [0u8; 32];
    // SAFETY: snprintf writes at most `buf.len()` bytes (NUL included) into
    // `buf`, reading the one double that the one `%g` takes.
    let len = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%g".as_ptr(), f) };
    let len = usize::try_from(len).unwrap_or(0).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// `a OP b`: numbers as numbers (a number column's cell, or a string that
/// reads as one, against a number), else text; an empty cell equals only
/// an empty cell and is neither less nor greater than anything.
fn compare(op: Op, a: &Value, b: &Value) -> bool {
    use std::cmp::Ordering;
    let order = match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Bool(x), y) | (y, Value::Bool(x)) => Some(if *x == y.truth() {
            Ordering::Equal
        } else {
            Ordering::Less
        }),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => match (a.number(), b.number()) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(a.text().cmp(&b.text())),
        },
    };
    match (op, order) {
        (Op::Ne, None) => true,
        (_, None) => false,
        (Op::Eq, Some(o)) => o == Ordering::Equal,
        (Op::Ne, Some(o)) => o != Ordering::Equal,
        (Op::Lt, Some(o)) => o == Ordering::Less,
        (Op::Le, Some(o)) => o != Ordering::Greater,
        (Op::Gt, Some(o)) => o == Ordering::Greater,
        (Op::Ge, Some(o)) => o != Ordering::Less,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Cmp(Op),
    Match(bool),
    Str(String),
    Value(Value),
    Word(String),
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::And => f.write_str("'&&'"),
            Token::Or => f.write_str("'||'"),
            Token::Not => f.write_str("'!'"),
            Token::Cmp(op) => write!(f, "'{op:?}'"),
            Token::Match(yes) => f.write_str(if *yes { "'=~'" } else { "'!~'" }),
            Token::Str(s) => write!(f, "\"{s}\""),
            Token::Value(v) => write!(f, "'{}'", v.text()),
            Token::Word(w) => write!(f, "'{w}'"),
        }
    }
}

/// A number literal: digits, `.digits`, then a size suffix K M G T P E Z Y
/// (powers of 1024), optionally followed by `iB`.
fn number(text: &str) -> Option<Value> {
    let (body, power) = match text.strip_suffix("iB").unwrap_or(text) {
        s if s.ends_with(|c: char| "KMGTPEZY".contains(c)) => {
            let unit = s.chars().last()?;
            let power = "KMGTPEZY".find(unit)? as u32 + 1;
            (&s[..s.len() - 1], power)
        }
        s if s.len() == text.len() => (s, 0),
        _ => return None,
    };
    let scale = 1024i128.checked_pow(power)?;
    match body.split_once('.') {
        None => body
            .parse::<i128>()
            .ok()?
            .checked_mul(scale)
            .map(Value::Int),
        Some(_) => body
            .parse::<f64>()
            .ok()
            .map(|f| Value::Float(f * scale as f64)),
    }
}

fn tokens(text: &str) -> anyhow::Result<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let two = rest.get(..2).unwrap_or_default();
        let (token, len) = match (c, two) {
            (c, _) if c.is_whitespace() => {
                rest = &rest[c.len_utf8()..];
                continue;
            }
            (_, "&&") => (Token::And, 2),
            (_, "||") => (Token::Or, 2),
            (_, "==") => (Token::Cmp(Op::Eq), 2),
            (_, "!=") => (Token::Cmp(Op::Ne), 2),
            (_, "<=") => (Token::Cmp(Op::Le), 2),
            (_, ">=") => (Token::Cmp(Op::Ge), 2),
            (_, "=~") => (Token::Match(true), 2),
            (_, "!~") => (Token::Match(false), 2),
            ('<', _) => (Token::Cmp(Op::Lt), 1),
            ('>', _) => (Token::Cmp(Op::Gt), 1),
            ('!', _) => (Token::Not, 1),
            ('(', _) => (Token::Open, 1),
            (')', _) => (Token::Close, 1),
            ('"' | '\'', _) => {
                let end = rest[1..]
                    .find([c, '\n'])
                    .filter(|&e| rest[1 + e..].starts_with(c))
                    .ok_or_else(|| anyhow!("unterminated string: {rest}"))?;
                (Token::Str(rest[1..1 + end].to_string()), end + 2)
            }
            (c, _) if c.is_ascii_digit() => {
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                    .unwrap_or(rest.len());
                let value = number(&rest[..len])
                    .ok_or_else(|| anyhow!("invalid number: {}", &rest[..len]))?;
                (Token::Value(value), len)
            }
            (c, _) if c.is_ascii_alphabetic() => {
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || "_.%:/-".contains(c)))
                    .unwrap_or(rest.len());
                let word = &rest[..len];
                let token = match word {
                    "and" | "AND" => Token::And,
                    "or" | "OR" => Token::Or,
                    "not" | "NOT" => Token::Not,
                    "eq" | "EQ" => Token::Cmp(Op::Eq),
                    "ne" | "NE" => Token::Cmp(Op::Ne),
                    "lt" | "LT" => Token::Cmp(Op::Lt),
                    "le" | "LE" => Token::Cmp(Op::Le),
                    "gt" | "GT" => Token::Cmp(Op::Gt),
                    "ge" | "GE" => Token::Cmp(Op::Ge),
                    "true" | "TRUE" => Token::Value(Value::Bool(true)),
                    "false" | "FALSE" => Token::Value(Value::Bool(false)),
                    _ => Token::Word(word.to_string()),
                };
                (token, len)
            }
            _ => bail!("unexpected '{c}'"),
        };
        out.push(token);
        rest = &rest[len..];
    }
    Ok(out)
}

/// A recursive-descent parser over the tokens, one level per binding.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
    columns: Vec<Col>,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> anyhow::Result<Expr> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> anyhow::Result<Expr> {
        let mut left = self.equality()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.equality()?));
        }
        Ok(left)
    }

    fn equality(&mut self) -> anyhow::Result<Expr> {
        let mut left = self.order()?;
        while let Some(&Token::Cmp(op @ (Op::Eq | Op::Ne))) = self.peek() {
            self.at += 1;
            left = Expr::Cmp(op, Box::new(left), Box::new(self.order()?));
        }
        Ok(left)
    }

    fn order(&mut self) -> anyhow::Result<Expr> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some(&Token::Cmp(op @ (Op::Lt | Op::Le | Op::Gt | Op::Ge))) => {
                    self.at += 1;
                    left = Expr::Cmp(op, Box::new(left), Box::new(self.unary()?));
                }
                Some(&Token::Match(yes)) => {
                    self.at += 1;
                    let Some(Token::Str(pattern)) = self.next() else {
                        bail!("a string must follow =~ and !~");
                    };
                    let re = Regex::new(&pattern)
                        .map_err(|e| anyhow!("invalid regular expression '{pattern}': {e}"))?;
                    left = Expr::Match(Box::new(left), re, yes);
                }
                _ => return Ok(left),
            }
        }
    }

    fn unary(&mut self) -> anyhow::Result<Expr> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => bail!("missing ')'"),
                }
            }
            Some(Token::Value(v)) => Ok(Expr::Value(v)),
            Some(Token::Str(s)) => Ok(Expr::Value(Value::Str(s))),
            Some(Token::Word(name)) => {
                let col = Col::by_name(&name).ok_or_else(|| anyhow!("unknown column: {name}"))?;
                if !self.columns.contains(&col) {
                    self.columns.push(col);
                }
                Ok(Expr::Column(col))
            }
            Some(other) => bail!("unexpected {other}"),
            None => bail!("unexpected end of expression"),
        }
    }
}

impl Filter {
    /// Parses `text`; a mistake is `failed to parse filter: …`, a column
    /// that does not exist `unknown column: NAME`, as for -o.
    pub fn parse(text: &str) -> anyhow::Result<Filter> {
        let mut p = Parser {
            tokens: tokens(text).map_err(|e| anyhow!("failed to parse filter: {e}"))?,
            at: 0,
            columns: Vec::new(),
        };
        let expr = p.or().map_err(|e| {
            if e.to_string().starts_with("unknown column") {
                e
            } else {
                anyhow!("failed to parse filter: {e}")
            }
        })?;
        if let Some(t) = p.peek() {
            bail!("failed to parse filter: unexpected {t}");
        }
        Ok(Filter {
            expr,
            columns: p.columns,
        })
    }

    /// Whether a row passes, `cell` giving the text of a column (None:
    /// empty); an error only where regexec refuses the text.
    pub fn accepts(&self, cell: &dyn Fn(Col) -> Option<String>) -> anyhow::Result<bool> {
        Ok(eval(&self.expr, cell)?.truth())
    }
}

fn eval(expr: &Expr, cell: &dyn Fn(Col) -> Option<String>) -> anyhow::Result<Value> {
    Ok(match expr {
        Expr::Value(v) => v.clone(),
        Expr::Column(c) => match cell(*c).filter(|s| !s.is_empty()) {
            None => Value::Null,
            Some(s) if c.is_number() => s.parse().map_or(Value::Str(s), Value::Int),
            Some(s) => Value::Str(s),
        },
        Expr::Not(e) => Value::Bool(!eval(e, cell)?.truth()),
        Expr::And(a, b) => Value::Bool(eval(a, cell)?.truth() && eval(b, cell)?.truth()),
        Expr::Or(a, b) => Value::Bool(eval(a, cell)?.truth() || eval(b, cell)?.truth()),
        Expr::Cmp(op, a, b) => Value::Bool(compare(*op, &eval(a, cell)?, &eval(b, cell)?)),
        Expr::Match(e, re, yes) => match eval(e, cell)? {
            Value::Null => Value::Bool(!yes),
            v => Value::Bool(re.is_match(&v.text())? == *yes),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `expr` on a row of NS 4026531840, TYPE net, NPROCS 3, USER
    /// root, COMMAND `sleep 10`, PID empty.
    fn row(expr: &str) -> bool {
        let f = Filter::parse(expr).unwrap();
        f.accepts(&|c| match c {
            Col::Ns => Some("4026531840".into()),
            Col::Type => Some("net".into()),
            Col::Nprocs => Some("3".into()),
            Col::User => Some("root".into()),
            Col::Command => Some("sleep 10".into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn comparisons_and_their_words() {
        for yes in [
            "NPROCS > 1",
            "NPROCS gt 1",
            "NPROCS GE 3",
            "nprocs == 3",
            "NPROCS != 4",
            "NPROCS ne 4 && TYPE eq \"net\"",
            "TYPE == 'net'",
            "NS >= 4026531840 and NS <= 4026531840",
            "USER != \"nobody\" AND NPROCS > 1",
            "NPROCS < 1K",
            "NPROCS < 1KiB",
            "NPROCS > 2.5",
            "NPROCS == 3 == true",
            "TYPE",
            "PID == PID",
        ] {
            assert!(row(yes), "{yes}");
        }
        for no in [
            "NPROCS > 3",
            "NPROCS lt 3",
            "TYPE == \"mnt\"",
            "PID > 0",
            "PID < 0",
            "PID == 0",
            "PID",
            "false",
            "NPROCS == 3 == false",
        ] {
            assert!(!row(no), "{no}");
        }
        assert!(row("PID != 0"));
    }

    #[test]
    fn logic_binds_as_scols_filter_does() {
        // and before or; not before a comparison.
        assert!(row("TYPE == \"mnt\" || NPROCS == 3 && USER == \"root\""));
        assert!(!row(
            "(TYPE == \"mnt\" || NPROCS == 3) && USER == \"nobody\""
        ));
        assert!(row("!(TYPE == \"mnt\")"));
        assert!(row("not (TYPE == \"mnt\") or false"));
        // `not` binds tighter than `==`: (not TYPE) == "mnt", false == true.
        assert!(!row("not TYPE == \"mnt\""));
        assert!(row("!!TYPE"));
        assert!(!row("NOT NPROCS"));
    }

    #[test]
    fn regular_expressions() {
        assert!(row("COMMAND =~ \"^sl.*[0-9]+$\""));
        assert!(row("COMMAND =~ 'eep'"));
        assert!(row("COMMAND !~ \"^bash\""));
        assert!(!row("COMMAND !~ \"sleep\""));
        assert!(row("NS =~ \"^4026\""));
        assert!(!row("PID =~ \".*\""));
        assert!(row("PID !~ \".*\""));
        // POSIX extended syntax, as regcomp reads it: classes in brackets,
        // intervals, alternation; `\d` is an ordinary d.
        assert!(row("NS =~ \"^[[:digit:]]+$\""));
        assert!(row("TYPE =~ 'net|mnt'"));
        assert!(row("COMMAND =~ \"e{2}p [0-9]{2}$\""));
        assert!(!row("COMMAND =~ \"e{3}\""));
        assert!(!row(r#"COMMAND =~ "\d""#));
    }

    #[test]
    fn a_cell_with_a_nul_is_an_error_for_a_regex() {
        let f = Filter::parse("COMMAND =~ \"x\" || true").unwrap();
        let err = f.accepts(&|_| Some("a\0x".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot match 'x' against text with a NUL byte"
        );
    }

    #[test]
    fn mistakes_are_named() {
        let err = |e: &str| Filter::parse(e).unwrap_err().to_string();
        assert_eq!(err("BOGUS == 1"), "unknown column: BOGUS");
        assert_eq!(err("NPROCS = 1"), "failed to parse filter: unexpected '='");
        assert!(err("(NPROCS == 1").starts_with("failed to parse filter: missing ')'"));
        assert!(err("TYPE == \"net").contains("unterminated string"));
        assert!(err("COMMAND =~ NPROCS").contains("a string must follow"));
        assert_eq!(
            err("COMMAND =~ \"(\""),
            "failed to parse filter: invalid regular expression '(': Unmatched ( or \\("
        );
        assert!(err("NPROCS == 1 2").contains("unexpected"));
        assert!(err("").contains("unexpected end"));
        assert!(err("NPROCS == 1X").contains("invalid number"));
        // Mixed case is a column name, not a keyword.
        assert_eq!(
            err("NPROCS And 1"),
            "failed to parse filter: unexpected 'And'"
        );
    }

    #[test]
    fn numbers_with_size_suffixes() {
        assert_eq!(number("4K"), Some(Value::Int(4096)));
        assert_eq!(number("1MiB"), Some(Value::Int(1 << 20)));
        assert_eq!(number("1.5"), Some(Value::Float(1.5)));
        assert_eq!(Value::Float(1536.0).text(), "1536");
        assert_eq!(Value::Float(0.1).text(), "0.1");
        assert_eq!(Value::Float(1.23456789).text(), "1.23457");
        assert_eq!(Value::Float(-1e20).text(), "-1e+20");
        assert_eq!(number("12"), Some(Value::Int(12)));
        assert_eq!(number("1iB"), None);
        assert_eq!(number("1Q"), None);
    }

    #[test]
    fn any_text_parses_or_is_refused() {
        let alphabet: Vec<char> = "NS PID TYPE ()!=<>~&|'\"01Kand or \t.x".chars().collect();
        let mut seed: u64 = 0x5eed;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 20) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            if let Ok(f) = Filter::parse(&text) {
                let _ = f.accepts(&|_| Some("1".into()));
            }
        }
    }
}
