//! A response as a tree of named values, so two answers can be compared field by field.
//!
//! `kafka-protocol`'s messages have no reflection, but every one derives `Debug`, whose compact
//! form (`Name { field: value, list: [..] }`) is a faithful, regular rendering of the decoded
//! message. [`parse`] reads that rendering back into a [`V`] tree; [`flatten`] turns a tree into
//! `path -> leaf` pairs (`responses[name=t].partitions[partition_index=0].error_code -> 0`), and
//! the runner diffs the pairs of Kafka's and Klamm's answers.

use std::collections::BTreeMap;

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    /// A number, a bool, `None`, an enum variant without payload, a UUID.
    Atom(String),
    /// A string or byte-string literal, as `Debug` rendered it (quotes included).
    Str(String),
    Seq(Vec<V>),
    Struct(String, Vec<(String, V)>),
    /// A map (`{k: v}`), e.g. the unknown tagged fields.
    Map(Vec<(V, V)>),
}

/// Parses the compact `Debug` rendering of a message.
pub fn parse(text: &str) -> Result<V, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.at != p.s.len() {
        return Err(format!("trailing input at {}: {}", p.at, p.rest()));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.at..(self.at + 40).min(self.s.len())]).into_owned()
    }

    fn ws(&mut self) {
        while self.at < self.s.len() && self.s[self.at] == b' ' {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!(
                "expected '{}' at {}: {}",
                c as char,
                self.at,
                self.rest()
            ))
        }
    }

    /// A quoted literal starting at `self.at` (after an optional `b`), escapes kept as written.
    fn literal(&mut self) -> Result<String, String> {
        let start = self.at;
        if self.s[self.at] == b'b' {
            self.at += 1;
        }
        self.at += 1; // the opening quote
        while self.at < self.s.len() {
            match self.s[self.at] {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return Ok(String::from_utf8_lossy(&self.s[start..self.at]).into_owned());
                }
                _ => self.at += 1,
            }
        }
        Err("unterminated string literal".into())
    }

    fn token(&mut self) -> String {
        let start = self.at;
        while self.at < self.s.len() && !b" ,:()[]{}\"".contains(&self.s[self.at]) {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.at]).into_owned()
    }

    fn value(&mut self) -> Result<V, String> {
        match self.peek() {
            None => Err("unexpected end of input".into()),
            Some(b'"') => Ok(V::Str(self.literal()?)),
            Some(b'b') if self.s.get(self.at + 1) == Some(&b'"') => Ok(V::Str(self.literal()?)),
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                while self.peek() != Some(b']') {
                    items.push(self.value()?);
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    }
                }
                self.at += 1;
                Ok(V::Seq(items))
            }
            Some(b'{') => {
                self.at += 1;
                let mut items = Vec::new();
                while self.peek() != Some(b'}') {
                    let k = self.value()?;
                    self.eat(b':')?;
                    let v = self.value()?;
                    items.push((k, v));
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    }
                }
                self.at += 1;
                Ok(V::Map(items))
            }
            Some(_) => {
                let name = self.token();
                if name.is_empty() {
                    return Err(format!("unexpected input at {}: {}", self.at, self.rest()));
                }
                // `Name(..)` (a tuple struct or newtype) or `Name { .. }` (a struct); a bare
                // token is an atom. `peek` skips the space before a struct's brace.
                let save = self.at;
                match self.peek() {
                    Some(b'(') => {
                        self.at += 1;
                        let mut items = Vec::new();
                        while self.peek() != Some(b')') {
                            items.push(self.value()?);
                            if self.peek() == Some(b',') {
                                self.at += 1;
                            }
                        }
                        self.at += 1;
                        // Newtypes (`BrokerId(1)`, `Some(x)`, `TopicName("t")`) are their value.
                        if items.len() == 1 {
                            Ok(items.pop().unwrap_or(V::Atom(String::new())))
                        } else {
                            Ok(V::Struct(
                                name,
                                items
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, v)| (i.to_string(), v))
                                    .collect(),
                            ))
                        }
                    }
                    Some(b'{') if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {
                        self.at += 1;
                        let mut fields = Vec::new();
                        while self.peek() != Some(b'}') {
                            self.ws();
                            let f = self.token();
                            self.eat(b':')?;
                            let v = self.value()?;
                            fields.push((f, v));
                            if self.peek() == Some(b',') {
                                self.at += 1;
                            }
                        }
                        self.at += 1;
                        Ok(V::Struct(name, fields))
                    }
                    _ => {
                        self.at = save;
                        Ok(V::Atom(name))
                    }
                }
            }
        }
    }
}

/// The fields that identify an element of a list, in order of preference: a list whose elements
/// all carry one of them, with distinct values, is compared as a map from that key, so the order
/// two brokers list topics, partitions or configs in does not count as a difference (no Kafka
/// client depends on it).
const KEYS: &[&str] = &[
    "name",
    "topic",
    "topic_name",
    "partition_index",
    "partition",
    "resource_name",
    "group_id",
    "api_key",
    "key",
    "index",
    "batch_index",
    "member_id",
    "transactional_id",
    "producer_id",
];

fn field<'a>(v: &'a V, name: &str) -> Option<&'a V> {
    match v {
        V::Struct(_, fields) => fields.iter().find(|(f, _)| f == name).map(|(_, v)| v),
        _ => None,
    }
}

fn leaf(v: &V) -> Option<String> {
    match v {
        V::Atom(a) | V::Str(a) => Some(a.clone()),
        _ => None,
    }
}

/// The key field shared by every element of `items`, if their values are distinct leaves.
fn list_key(items: &[V]) -> Option<&'static str> {
    if items.is_empty() {
        return None;
    }
    KEYS.iter().copied().find(|k| {
        let vals: Option<Vec<String>> = items.iter().map(|i| field(i, k).and_then(leaf)).collect();
        vals.is_some_and(|mut vs| {
            let n = vs.len();
            vs.sort();
            vs.dedup();
            vs.len() == n
        })
    })
}

/// Sorts a list by its key field (see [`KEYS`]), when it has one.
pub fn sort_by_key(items: &mut [V]) {
    if let Some(k) = list_key(items) {
        items.sort_by_key(|i| field(i, k).and_then(leaf).unwrap_or_default());
    }
}

/// The value of the entry `flatten` makes for each struct element of a list, so that an element
/// only one side has is one difference (the runner leaves out the paths below it).
pub const ELEMENT: &str = "{..}";

/// `path -> leaf` for every leaf of `v`; lists also get a `path.len` entry, so a missing element
/// is one difference rather than one per field.
pub fn flatten(v: &V) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

fn walk(v: &V, path: String, out: &mut BTreeMap<String, String>) {
    match v {
        V::Atom(a) | V::Str(a) => {
            out.insert(path, a.clone());
        }
        V::Seq(items) => {
            out.insert(format!("{path}.len"), items.len().to_string());
            match list_key(items) {
                Some(k) => {
                    for i in items {
                        let key = field(i, k).and_then(leaf).unwrap_or_default();
                        let p = format!("{path}[{k}={}]", key.trim_matches('"'));
                        out.insert(p.clone(), ELEMENT.into());
                        walk(i, p, out);
                    }
                }
                None => {
                    for (n, i) in items.iter().enumerate() {
                        let p = format!("{path}[{n}]");
                        if matches!(i, V::Struct(..)) {
                            out.insert(p.clone(), ELEMENT.into());
                        }
                        walk(i, p, out);
                    }
                }
            }
        }
        V::Struct(_, fields) => {
            for (f, v) in fields {
                let p = if path.is_empty() {
                    f.clone()
                } else {
                    format!("{path}.{f}")
                };
                walk(v, p, out);
            }
        }
        V::Map(items) => {
            out.insert(format!("{path}.len"), items.len().to_string());
            for (k, v) in items {
                let k = leaf(k).unwrap_or_else(|| format!("{k:?}"));
                walk(v, format!("{path}{{{k}}}"), out);
            }
        }
    }
}

/// The parser's own check, run before any scenario (the module has no unit-test harness).
pub fn self_check() {
    let v = parse(r#"R { a: 1, b: Some(TopicName("x\"y")), c: [P { partition_index: 1, e: None }], d: {}, u: 0a1b-2c, bs: b"\x00" }"#)
        .unwrap_or_else(|e| panic!("tree::parse self-check: {e}"));
    let f = flatten(&v);
    assert_eq!(f["a"], "1");
    assert_eq!(f["b"], r#""x\"y""#);
    assert_eq!(f["c[partition_index=1].e"], "None");
    assert_eq!(f["c.len"], "1");
    assert_eq!(f["u"], "0a1b-2c");
    assert_eq!(f["bs"], r#"b"\x00""#);
}
