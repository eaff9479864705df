//! The rule language. One rule per line, `#` starts a comment:
//!
//! ```text
//! rules      = { line "\n" }
//! line       = [ rule ] [ "#" any text ]
//! rule       = [ "rule" STRING ":" ] action "if" expr
//! action     = { WORD | INTEGER }              (each rule set's own: `block`; `delay 7 days`)
//! expr       = and_expr { "or" and_expr }
//! and_expr   = unary { "and" unary }
//! unary      = "not" unary | "(" expr ")" | comparison
//! comparison = operand ( ">" | ">=" | "<" | "<=" | "==" | "!=" ) operand   (at least one a signal)
//! operand    = SIGNAL | INTEGER                                       (digits, `_` allowed: 86_400)
//! ```
//!
//! The lexer and the recursive-descent parser are written by hand: the grammar is a dozen lines, and
//! a hand-written parser gives exact line/column errors with our own wording and adds no dependency.
//!
//! One language, several rule sets: each names its signals (`RuleSignal`) and its actions
//! (`RuleAction`). Fraud rules (`allow`, `block`, `review` on a request's velocity) are one; payout
//! rules (`same_day`, `delay 7 days` on a payee's record, `payout.rs`) another.

use crate::eval::{Action, Signal};
use std::fmt;
use std::hash::Hash;

/// A signal a rule set's conditions may read.
pub trait RuleSignal: Copy + Eq + Ord + Hash + fmt::Debug + 'static {
    /// The catalogue, in the order verdicts list values.
    const CATALOGUE: &'static [Self];
    fn name(self) -> &'static str;
}

/// What a rule set's rules do, parsed from the words between a rule's name and `if`.
pub trait RuleAction: Clone + fmt::Debug + PartialEq + Eq + Sized {
    /// How an error names what was expected: "an action (allow, block or review)".
    const EXPECTED: &'static str;
    /// The words actions start with, offered as suggestions for a misspelt one.
    const FIRST_WORDS: &'static [&'static str];
    /// `words` holds at least one word or number.
    fn parse(words: &[ActionWord]) -> Result<Self, RuleError>;
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A word or a number of an action, with its column (from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionWord {
    pub column: usize,
    pub word: Result<String, i64>,
}

impl ActionWord {
    /// `"block"` or `the number 7`, as errors quote it.
    pub fn describe(&self) -> String {
        match &self.word {
            Ok(word) => format!("\"{word}\""),
            Err(value) => format!("the number {value}"),
        }
    }

    /// An error at this word. Its line is filled in by the parser.
    pub fn error(&self, message: impl Into<String>) -> RuleError {
        RuleError { line: 0, column: self.column, message: message.into() }
    }

    /// The error of a word that starts no action of `A`, with a "did you mean" for a near miss.
    pub fn not_an_action<A: RuleAction>(&self) -> RuleError {
        let mut message = format!("expected {}, found {}", A::EXPECTED, self.describe());
        if let Ok(word) = &self.word
            && let Some(suggestion) = closest(word, A::FIRST_WORDS)
        {
            message.push_str(&format!("; did you mean \"{suggestion}\"?"));
        }
        self.error(message)
    }
}

/// Rules in one set at most; each costs every claim a little.
pub const RULES_MAX: usize = 100;
/// Characters on one line at most.
pub const RULE_CHARS_MAX: usize = 500;
/// Nesting of parentheses and `not` at most.
pub const RULE_DEPTH_MAX: usize = 16;
pub const RULE_NAME_CHARS_MAX: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Cmp {
    pub fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Cmp::Gt => left > right,
            Cmp::Ge => left >= right,
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand<S = Signal> {
    Signal(S),
    Int(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr<S = Signal> {
    Cmp(Operand<S>, Cmp, Operand<S>),
    And(Box<Expr<S>>, Box<Expr<S>>),
    Or(Box<Expr<S>>, Box<Expr<S>>),
    Not(Box<Expr<S>>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule<A = Action, S = Signal> {
    pub name: Option<String>,
    pub action: A,
    pub condition: Expr<S>,
    /// Line of the rule in the text it was parsed from, from 1.
    pub line: usize,
    /// The signals the condition reads, computed once (journaled with every decision).
    pub signals: Vec<S>,
}

/// A parsed, valid rule set. The text it came from is kept by whoever saved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSet<A = Action, S = Signal> {
    pub rules: Vec<Rule<A, S>>,
}

impl<A, S> Default for RuleSet<A, S> {
    fn default() -> Self {
        RuleSet { rules: Vec::new() }
    }
}

impl<A, S> RuleSet<A, S> {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// A mistake in a rule text, located by line and column (both from 1, columns in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for RuleError {}

/// Parses a whole fraud rule text, reporting every line's first error (all of them, not just the
/// first).
pub fn parse(text: &str) -> Result<RuleSet, Vec<RuleError>> {
    parse_rules(text)
}

/// Parses a whole rule text of any rule set.
pub fn parse_rules<A: RuleAction, S: RuleSignal>(text: &str) -> Result<RuleSet<A, S>, Vec<RuleError>> {
    let mut rules: Vec<Rule<A, S>> = Vec::new();
    let mut errors = Vec::new();
    for (line_idx, line) in text.split('\n').enumerate() {
        let line_no = line_idx + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.chars().count() > RULE_CHARS_MAX {
            let message = format!("the line is longer than {RULE_CHARS_MAX} characters");
            errors.push(RuleError { line: line_no, column: RULE_CHARS_MAX + 1, message });
            continue;
        }
        let tokens = match lex(line) {
            Ok(tokens) if tokens.len() == 1 => continue, // blank or comment only: just the end token
            Ok(tokens) => tokens,
            Err((column, message)) => {
                errors.push(RuleError { line: line_no, column, message });
                continue;
            }
        };
        let mut parser = Parser { tokens: &tokens, at: 0, depth: 0, vocabulary: std::marker::PhantomData };
        match parser.rule(line_no) {
            Ok(rule) => {
                if rules.len() == RULES_MAX {
                    errors.push(RuleError {
                        line: line_no,
                        column: 1,
                        message: format!("more than {RULES_MAX} rules"),
                    });
                    continue;
                }
                if let Some(name) = &rule.name
                    && rules.iter().any(|other| other.name.as_ref() == Some(name))
                {
                    let message = format!("another rule is already named \"{name}\"");
                    errors.push(RuleError { line: line_no, column: tokens[1].column, message });
                    continue;
                }
                rules.push(rule);
            }
            Err((column, message)) => errors.push(RuleError { line: line_no, column, message }),
        }
    }
    if errors.is_empty() { Ok(RuleSet { rules }) } else { Err(errors) }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Int(i64),
    Str(String),
    Colon,
    Open,
    Close,
    Cmp(Cmp),
    End,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    column: usize,
}

type LangError = (usize, String);

fn lex(line: &str) -> Result<Vec<Token>, LangError> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let column = at + 1;
        if c == '#' {
            break;
        }
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        let tok = if c.is_ascii_alphabetic() || c == '_' {
            let start = at;
            while at < chars.len() && (chars[at].is_ascii_alphanumeric() || chars[at] == '_') {
                at += 1;
            }
            Tok::Word(chars[start..at].iter().collect())
        } else if c.is_ascii_digit() {
            let start = at;
            while at < chars.len() && (chars[at].is_ascii_digit() || chars[at] == '_') {
                at += 1;
            }
            if at < chars.len() && (chars[at].is_ascii_alphabetic()) {
                return Err((at + 1, format!("unexpected '{}' after a number", chars[at])));
            }
            let digits: String = chars[start..at].iter().filter(|c| **c != '_').collect();
            let value = digits
                .parse::<i64>()
                .map_err(|_| (column, format!("the number {digits} is too large (at most {})", i64::MAX)))?;
            Tok::Int(value)
        } else if c == '"' {
            let start = at + 1;
            at = start;
            while at < chars.len() && chars[at] != '"' {
                at += 1;
            }
            if at == chars.len() {
                return Err((column, "the name is missing its closing \"".to_owned()));
            }
            let name: String = chars[start..at].iter().collect();
            at += 1;
            Tok::Str(name)
        } else {
            let next = chars.get(at + 1).copied();
            let (tok, width) = match (c, next) {
                ('>', Some('=')) => (Tok::Cmp(Cmp::Ge), 2),
                ('<', Some('=')) => (Tok::Cmp(Cmp::Le), 2),
                ('=', Some('=')) => (Tok::Cmp(Cmp::Eq), 2),
                ('!', Some('=')) => (Tok::Cmp(Cmp::Ne), 2),
                ('>', _) => (Tok::Cmp(Cmp::Gt), 1),
                ('<', _) => (Tok::Cmp(Cmp::Lt), 1),
                ('(', _) => (Tok::Open, 1),
                (')', _) => (Tok::Close, 1),
                (':', _) => (Tok::Colon, 1),
                ('=', _) => return Err((column, "unexpected '='; compare with ==".to_owned())),
                ('!', _) => return Err((column, "unexpected '!'; negate with not, or compare with !=".to_owned())),
                _ => return Err((column, format!("unexpected character '{c}'"))),
            };
            at += width;
            tok
        };
        tokens.push(Token { tok, column });
    }
    tokens.push(Token { tok: Tok::End, column: chars.len() + 1 });
    Ok(tokens)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(word) => format!("\"{word}\""),
        Tok::Int(value) => format!("the number {value}"),
        Tok::Str(text) => format!("the name \"{text}\""),
        Tok::Colon => "':'".to_owned(),
        Tok::Open => "'('".to_owned(),
        Tok::Close => "')'".to_owned(),
        Tok::Cmp(cmp) => format!("'{}'", cmp.as_str()),
        Tok::End => "the end of the line".to_owned(),
    }
}

/// Words no signal may be called: they shape the rule, or start an action.
fn is_keyword<A: RuleAction>(word: &str) -> bool {
    ["rule", "if", "and", "or", "not"].contains(&word) || A::FIRST_WORDS.contains(&word)
}

struct Parser<'a, A, S> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
    vocabulary: std::marker::PhantomData<(A, S)>,
}

impl<A: RuleAction, S: RuleSignal> Parser<'_, A, S> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    fn next(&mut self) -> &Token {
        let token = &self.tokens[self.at];
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(w) if w == word)
    }

    fn rule(&mut self, line: usize) -> Result<Rule<A, S>, LangError> {
        let mut name = None;
        if self.is_word("rule") {
            self.next();
            let token = self.next();
            let column = token.column;
            match &token.tok {
                Tok::Str(text) => {
                    let n_chars = text.chars().count();
                    if text.trim().is_empty() || n_chars > RULE_NAME_CHARS_MAX || text.chars().any(char::is_control) {
                        let message = format!("a rule name is 1 to {RULE_NAME_CHARS_MAX} printable characters");
                        return Err((column, message));
                    }
                    name = Some(text.clone());
                }
                other => {
                    return Err((column, format!("expected the rule's name in quotes, found {}", describe(other))));
                }
            }
            let token = self.next();
            if token.tok != Tok::Colon {
                return Err((
                    token.column,
                    format!("expected ':' after the rule's name, found {}", describe(&token.tok)),
                ));
            }
        }
        let mut words = Vec::new();
        loop {
            let token = self.peek();
            let word = match &token.tok {
                Tok::Word(word) if word != "if" => Ok(word.clone()),
                Tok::Int(value) => Err(*value),
                _ => break,
            };
            words.push(ActionWord { column: token.column, word });
            self.next();
        }
        let Some(last) = words.last() else {
            let token = self.peek();
            return Err((token.column, format!("expected {}, found {}", A::EXPECTED, describe(&token.tok))));
        };
        let action = A::parse(&words).map_err(|error| (error.column, error.message))?;
        let token = self.next();
        if !matches!(&token.tok, Tok::Word(word) if word == "if") {
            return Err((
                token.column,
                format!("expected \"if\" after {}, found {}", last.describe(), describe(&token.tok)),
            ));
        }
        let condition = self.expr()?;
        let token = self.peek();
        if token.tok != Tok::End {
            let message = match token.tok {
                Tok::Close => "unexpected ')' without a matching '('".to_owned(),
                _ => format!("expected \"and\", \"or\" or the end of the rule, found {}", describe(&token.tok)),
            };
            return Err((token.column, message));
        }
        let signals = condition.signals();
        Ok(Rule { name, action, condition, line, signals })
    }

    fn expr(&mut self) -> Result<Expr<S>, LangError> {
        let mut left = self.and_expr()?;
        while self.is_word("or") {
            self.next();
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr<S>, LangError> {
        let mut left = self.unary()?;
        while self.is_word("and") {
            self.next();
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn nested<T>(
        &mut self,
        column: usize,
        parse: impl FnOnce(&mut Self) -> Result<T, LangError>,
    ) -> Result<T, LangError> {
        self.depth += 1;
        if self.depth > RULE_DEPTH_MAX {
            return Err((column, format!("nested more than {RULE_DEPTH_MAX} levels deep")));
        }
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn unary(&mut self) -> Result<Expr<S>, LangError> {
        let column = self.peek().column;
        if self.is_word("not") {
            self.next();
            return self.nested(column, |parser| Ok(Expr::Not(Box::new(parser.unary()?))));
        }
        if self.peek().tok == Tok::Open {
            self.next();
            let inner = self.nested(column, Self::expr)?;
            let token = self.next();
            if token.tok != Tok::Close {
                return Err((
                    token.column,
                    format!("expected ')' to close the '(' at column {column}, found {}", describe(&token.tok)),
                ));
            }
            return Ok(inner);
        }
        let left = self.operand()?;
        let token = self.next();
        let cmp = match token.tok {
            Tok::Cmp(cmp) => cmp,
            ref other => {
                let after = match left {
                    Operand::Signal(signal) => signal.name().to_owned(),
                    Operand::Int(value) => value.to_string(),
                };
                let message =
                    format!("expected a comparison (>, >=, <, <=, == or !=) after {after}, found {}", describe(other));
                return Err((token.column, message));
            }
        };
        let right = self.operand()?;
        if let (Operand::Int(_), Operand::Int(_)) = (left, right) {
            return Err((column, "this compares two numbers; one side must be a signal".to_owned()));
        }
        Ok(Expr::Cmp(left, cmp, right))
    }

    fn operand(&mut self) -> Result<Operand<S>, LangError> {
        let token = self.next();
        match &token.tok {
            Tok::Int(value) => Ok(Operand::Int(*value)),
            Tok::Word(word) if !is_keyword::<A>(word) => match S::CATALOGUE.iter().find(|s| s.name() == word) {
                Some(signal) => Ok(Operand::Signal(*signal)),
                None => {
                    let mut message = format!("unknown signal \"{word}\"");
                    let names: Vec<&str> = S::CATALOGUE.iter().map(|signal| signal.name()).collect();
                    match closest(word, &names) {
                        Some(suggestion) => message.push_str(&format!("; did you mean \"{suggestion}\"?")),
                        None => message.push_str(&format!("; signals are {}", names.join(", "))),
                    }
                    Err((token.column, message))
                }
            },
            other => Err((token.column, format!("expected a signal or a number, found {}", describe(other)))),
        }
    }
}

/// The candidate nearest to `word` by edit distance, if it is near enough to be a typo.
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let best = candidates.iter().map(|candidate| (edit_distance(word, candidate), *candidate)).min()?;
    (best.0 <= 3.max(word.len() / 4)).then_some(best.1)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}
