//! Terraform `.tfvars`: `name = value` attributes whose values are literals (strings, numbers,
//! booleans, null, lists, objects, heredocs). Expressions other than literals are not variable
//! values and are rejected with their line.
use std::collections::BTreeMap;

use crate::tree::{MAX_DEPTH, Node};

type Error = (usize, usize, String);

pub fn parse(text: &str) -> Result<Node, Error> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        col: 1,
    };
    let mut out = BTreeMap::new();
    loop {
        p.skip_space(true)?;
        if p.peek().is_none() {
            break;
        }
        let (line, col) = (p.line, p.col);
        let name = p
            .identifier()
            .ok_or_else(|| p.err("expected a variable name"))?;
        p.skip_space(false)?;
        if !p.eat('=') {
            return Err(p.err(&format!("expected `=` after `{name}`")));
        }
        let value = p.value(0)?;
        if out.insert(name.clone(), value).is_some() {
            return Err((line, col, format!("`{name}` is set twice")));
        }
        p.skip_space(false)?;
        match p.peek() {
            None | Some('\n') => {}
            Some(_) => return Err(p.err("expected a new line after the value")),
        }
    }
    Ok(Node::Map(out))
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    col: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn err(&self, message: &str) -> Error {
        let found = match self.peek() {
            Some('\n') => "end of line".to_string(),
            Some(c) => format!("`{c}`"),
            None => "end of file".to_string(),
        };
        (self.line, self.col, format!("{message}, found {found}"))
    }

    /// Skips blanks and comments; with `newlines`, also line breaks.
    fn skip_space(&mut self, newlines: bool) -> Result<(), Error> {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => {
                    self.bump();
                }
                Some('\n') if newlines => {
                    self.bump();
                }
                Some('#') => self.skip_line(),
                Some('/') if self.peek_at(1) == Some('/') => self.skip_line(),
                Some('/') if self.peek_at(1) == Some('*') => {
                    let (line, col) = (self.line, self.col);
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            Some('*') if self.peek() == Some('/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                            None => return Err((line, col, "unclosed /* comment".into())),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    fn identifier(&mut self) -> Option<String> {
        let first = self.peek()?;
        if !(first.is_alphabetic() || first == '_') {
            return None;
        }
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                s.push(c);
                self.bump();
            } else {
                break;
            }
        }
        Some(s)
    }

    fn value(&mut self, depth: usize) -> Result<Node, Error> {
        if depth > MAX_DEPTH {
            return Err(self.err(&format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.skip_space(false)?;
        match self.peek() {
            Some('"') => self.string().map(Node::String),
            Some('<') if self.peek_at(1) == Some('<') => self.heredoc().map(Node::String),
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.skip_space(true)?;
                    if self.eat(']') {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    self.skip_space(true)?;
                    if self.eat(',') {
                        continue;
                    }
                    if self.eat(']') {
                        break;
                    }
                    return Err(self.err("expected `,` or `]` in a list"));
                }
                Ok(Node::List(items))
            }
            Some('{') => {
                self.bump();
                let mut map = BTreeMap::new();
                loop {
                    self.skip_space(true)?;
                    if self.eat('}') {
                        break;
                    }
                    let key = match self.peek() {
                        Some('"') => self.string()?,
                        _ => self
                            .identifier()
                            .ok_or_else(|| self.err("expected a key in an object"))?,
                    };
                    self.skip_space(false)?;
                    if !(self.eat('=') || self.eat(':')) {
                        return Err(self.err(&format!("expected `=` after the key `{key}`")));
                    }
                    let v = self.value(depth + 1)?;
                    map.insert(key, v);
                    self.skip_space(false)?;
                    self.eat(',');
                    self.skip_space(true)?;
                    if self.eat('}') {
                        break;
                    }
                }
                Ok(Node::Map(map))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphabetic() => {
                let (line, col) = (self.line, self.col);
                let word = self.identifier().unwrap_or_default();
                match word.as_str() {
                    "true" => Ok(Node::Bool(true)),
                    "false" => Ok(Node::Bool(false)),
                    "null" => Ok(Node::Null),
                    _ => Err((
                        line,
                        col,
                        format!("`{word}` is an expression; .tfvars values must be literals"),
                    )),
                }
            }
            _ => Err(self.err("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Node, Error> {
        let (line, col) = (self.line, self.col);
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') {
                s.push(c);
                self.bump();
            } else {
                break;
            }
        }
        if let Ok(i) = s.parse::<i128>() {
            return Ok(Node::Int(i));
        }
        match s.parse::<f64>() {
            Ok(f)
                if f.is_finite()
                    && !s.contains(|c: char| c.is_alphabetic() && c != 'e' && c != 'E') =>
            {
                Ok(Node::Float(f))
            }
            _ => Err((line, col, format!("`{s}` is not a number"))),
        }
    }

    fn string(&mut self) -> Result<String, Error> {
        let (line, col) = (self.line, self.col);
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('u') => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                        match c {
                            Some(c) => s.push(c),
                            None => {
                                return Err((
                                    self.line,
                                    self.col,
                                    format!("bad escape `\\u{hex}`"),
                                ));
                            }
                        }
                    }
                    Some(c) => s.push(c),
                    None => return Err((line, col, "unclosed string".into())),
                },
                Some('\n') | None => return Err((line, col, "unclosed string".into())),
                Some(c) => s.push(c),
            }
        }
    }

    fn heredoc(&mut self) -> Result<String, Error> {
        let (line, col) = (self.line, self.col);
        self.bump();
        self.bump();
        let indent = self.eat('-');
        let marker = self
            .identifier()
            .ok_or_else(|| self.err("expected a heredoc marker after `<<`"))?;
        self.skip_line();
        self.bump();
        let mut lines = Vec::new();
        loop {
            if self.peek().is_none() {
                return Err((line, col, format!("heredoc `{marker}` is never closed")));
            }
            let mut l = String::new();
            while let Some(c) = self.peek() {
                if c == '\n' {
                    break;
                }
                l.push(c);
                self.bump();
            }
            if l.trim() == marker {
                break;
            }
            self.bump();
            lines.push(l);
        }
        if indent {
            let min = lines
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            for l in &mut lines {
                *l = l.chars().skip(min).collect();
            }
        }
        let mut s = lines.join("\n");
        s.push('\n');
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_literals() {
        let n = parse(
            "# vars\nregion = \"eu-west-1\"\ninstance_type = \"t3.xlarge\" // prod size\nreplicas = 4\nratio = 0.5\nenabled = true\nzones = [\"a\", \"b\",\n  \"c\"]\ntags = {\n  team = \"shop\"\n  \"cost-center\" = 42\n}\npolicy = <<-EOT\n    line one\n    line two\n  EOT\n",
        )
        .unwrap();
        assert_eq!(n.get("region").and_then(Node::as_str), Some("eu-west-1"));
        assert!(n.get("replicas").unwrap().same(&Node::Int(4)));
        assert!(n.get("ratio").unwrap().same(&Node::Float(0.5)));
        assert_eq!(n.get("zones").map(Node::leaf_count), Some(3));
        assert!(
            n.get("tags")
                .unwrap()
                .get("cost-center")
                .unwrap()
                .same(&Node::Int(42))
        );
        assert_eq!(
            n.get("policy").and_then(Node::as_str),
            Some("line one\nline two\n")
        );
    }

    #[test]
    fn expressions_and_garbage_name_the_line() {
        let e = parse("a = 1\nb = var.x\n").unwrap_err();
        assert_eq!((e.0, e.1), (2, 5));
        let e = parse("a = \"open\n").unwrap_err();
        assert_eq!(e.0, 1);
    }
}
