//! Kafka's `sasl.jaas.config` syntax (`JaasConfig`, which tokenizes with Java's
//! `StreamTokenizer`): one or more login module entries
//! `<class> <flag> [<key>=<value>]* ;`, where the flag is required, requisite, sufficient or
//! optional, values are quoted strings (`"..."` or `'...'`, with backslash escapes) or words,
//! and `//` or `/* */` comments may appear anywhere. Option values are secrets (passwords):
//! [`LoginModule`]'s `Debug` shows their keys only.

use std::collections::BTreeMap;
use std::fmt;

/// `AppConfigurationEntry.LoginModuleControlFlag`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlFlag {
    Required,
    Requisite,
    Sufficient,
    Optional,
}

/// One login module entry.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginModule {
    pub class: String,
    pub flag: ControlFlag,
    pub options: BTreeMap<String, String>,
}

impl fmt::Debug for LoginModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginModule")
            .field("class", &self.class)
            .field("flag", &self.flag)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why a JAAS config does not parse; the messages are Kafka's `JaasConfig` ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JaasError {
    #[error("Login module not specified in JAAS config")]
    NoLoginModule,
    #[error("Login module control flag not specified in JAAS config")]
    NoControlFlag,
    #[error("Invalid login module control flag '{0}' in JAAS config")]
    InvalidControlFlag(String),
    #[error("Value not specified for key '{0}' in JAAS config")]
    NoValue(String),
    #[error("JAAS config entry not terminated by semi-colon")]
    NotTerminated,
    #[error("Unterminated quoted string in JAAS config")]
    UnterminatedQuote,
    #[error("JAAS config property contains {0} login modules, should be 1 module")]
    NotOneModule(usize),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A word or a quoted string (`StreamTokenizer.sval` set).
    Word(String),
    /// A number token (`TT_NUMBER`: `sval` is null, so it cannot be a value).
    Number,
    /// Any other character (`ttype` is the character).
    Char(char),
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$' || (c as u32) >= 160
}

fn is_word_part(c: char) -> bool {
    is_word_start(c) || c.is_ascii_digit() || c == '.' || c == '-'
}

/// Java `StreamTokenizer` with Kafka's settings.
fn tokenize(s: &str) -> Result<Vec<Token>, JaasError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c as u32) <= 32 {
            i += 1;
        } else if c == '/' {
            if chars.get(i + 1) == Some(&'*') {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i = (i + 2).min(chars.len());
            } else {
                // `//` and a lone `/` (the default comment character) both end the line.
                while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                    i += 1;
                }
            }
        } else if c == '"' || c == '\'' {
            let quote = c;
            let mut value = String::new();
            i += 1;
            loop {
                let Some(&ch) = chars.get(i) else {
                    return Err(JaasError::UnterminatedQuote);
                };
                if ch == quote {
                    i += 1;
                    break;
                }
                if ch == '\n' || ch == '\r' {
                    return Err(JaasError::UnterminatedQuote);
                }
                if ch == '\\' {
                    i += 1;
                    let Some(&e) = chars.get(i) else {
                        return Err(JaasError::UnterminatedQuote);
                    };
                    match e {
                        'a' => value.push('\u{7}'),
                        'b' => value.push('\u{8}'),
                        'f' => value.push('\u{c}'),
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        't' => value.push('\t'),
                        'v' => value.push('\u{b}'),
                        '0'..='7' => {
                            // Up to three octal digits (at most \377), as StreamTokenizer.
                            let mut n = 0u32;
                            let mut digits = 0;
                            let max = if e <= '3' { 3 } else { 2 };
                            while digits < max {
                                match chars.get(i) {
                                    Some(d @ '0'..='7') => {
                                        n = n * 8 + (*d as u32 - '0' as u32);
                                        digits += 1;
                                        i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            i -= 1;
                            value.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                        }
                        other => value.push(other),
                    }
                    i += 1;
                    continue;
                }
                value.push(ch);
                i += 1;
            }
            out.push(Token::Word(value));
        } else if c.is_ascii_digit() || c == '.' || c == '-' {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Number);
        } else if is_word_start(c) {
            let start = i;
            while i < chars.len() && is_word_part(chars[i]) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Char(c));
            i += 1;
        }
    }
    Ok(out)
}

/// Parses a whole `sasl.jaas.config` value (`JaasConfig`'s constructor).
pub fn parse(config: &str) -> Result<Vec<LoginModule>, JaasError> {
    let tokens = tokenize(config)?;
    let mut it = tokens.into_iter().peekable();
    let mut modules = Vec::new();
    while let Some(first) = it.next() {
        let class = match first {
            Token::Word(w) => w,
            _ => return Err(JaasError::NoLoginModule),
        };
        let flag = match it.next() {
            None => return Err(JaasError::NoControlFlag),
            Some(Token::Word(f)) => match f.to_ascii_lowercase().as_str() {
                "required" => ControlFlag::Required,
                "requisite" => ControlFlag::Requisite,
                "sufficient" => ControlFlag::Sufficient,
                "optional" => ControlFlag::Optional,
                _ => return Err(JaasError::InvalidControlFlag(f)),
            },
            Some(Token::Number) => return Err(JaasError::InvalidControlFlag(String::new())),
            Some(Token::Char(c)) => return Err(JaasError::InvalidControlFlag(c.to_string())),
        };
        let mut options = BTreeMap::new();
        let mut terminated = false;
        while let Some(t) = it.next() {
            let key = match t {
                Token::Char(';') => {
                    terminated = true;
                    break;
                }
                Token::Word(k) => k,
                Token::Number => String::new(),
                Token::Char(c) => c.to_string(),
            };
            if it.next() != Some(Token::Char('=')) {
                return Err(JaasError::NoValue(key));
            }
            match it.next() {
                Some(Token::Word(v)) => {
                    options.insert(key, v);
                }
                _ => return Err(JaasError::NoValue(key)),
            }
        }
        if !terminated {
            return Err(JaasError::NotTerminated);
        }
        modules.push(LoginModule {
            class,
            flag,
            options,
        });
    }
    if modules.is_empty() {
        return Err(JaasError::NoLoginModule);
    }
    Ok(modules)
}

/// Parses a config that must hold exactly one login module, as Kafka requires of
/// `sasl.jaas.config` (`JaasContext.loadServerContext`).
pub fn parse_one(config: &str) -> Result<LoginModule, JaasError> {
    let mut modules = parse(config)?;
    if modules.len() != 1 {
        return Err(JaasError::NotOneModule(modules.len()));
    }
    Ok(modules.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kafkas_plain_login_module() {
        let m = parse_one(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required
               username="admin" password="admin-secret"
               user_admin="admin-secret" user_alice='alice "quoted" \\ \"x\"';"#,
        )
        .unwrap();
        assert_eq!(
            m.class,
            "org.apache.kafka.common.security.plain.PlainLoginModule"
        );
        assert_eq!(m.flag, ControlFlag::Required);
        assert_eq!(m.options["username"], "admin");
        assert_eq!(m.options["user_admin"], "admin-secret");
        assert_eq!(m.options["user_alice"], r#"alice "quoted" \ "x""#);
        // Secrets stay out of Debug output.
        assert!(!format!("{m:?}").contains("admin-secret"));
    }

    #[test]
    fn comments_words_and_several_modules() {
        let ms =
            parse("/* first */ a.B REQUIRED k=v_1; // line comment\n c.D optional x=\"\\101\\t\";")
                .unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].options["k"], "v_1");
        assert_eq!(ms[1].flag, ControlFlag::Optional);
        assert_eq!(ms[1].options["x"], "A\t");
        assert_eq!(
            parse_one("a.B required; c.D required;"),
            Err(JaasError::NotOneModule(2))
        );
    }

    #[test]
    fn errors_are_kafkas() {
        assert_eq!(parse(""), Err(JaasError::NoLoginModule));
        assert_eq!(parse("a.B"), Err(JaasError::NoControlFlag));
        assert_eq!(
            parse("a.B mandatory;"),
            Err(JaasError::InvalidControlFlag("mandatory".into()))
        );
        assert_eq!(
            parse("a.B required k=;"),
            Err(JaasError::NoValue("k".into()))
        );
        assert_eq!(
            parse("a.B required k=8192;"),
            Err(JaasError::NoValue("k".into()))
        );
        assert_eq!(parse("a.B required k=\"v\""), Err(JaasError::NotTerminated));
        assert_eq!(
            parse("a.B required k=\"v;"),
            Err(JaasError::UnterminatedQuote)
        );
        assert_eq!(
            JaasError::NoValue("k".into()).to_string(),
            "Value not specified for key 'k' in JAAS config"
        );
    }
}
