//! The principal of a TLS client: its certificate's subject DN as Java's
//! `X500Principal.getName()` prints it (RFC 2253), mapped by `ssl.principal.mapping.rules`
//! (Kafka's `SslPrincipalMapper`), as Kafka's `DefaultKafkaPrincipalBuilder` does for an
//! `SslAuthenticationContext`.

use std::fmt::Write as _;
use std::sync::OnceLock;

use regex::Regex;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::AttributeTypeAndValue;

/// Why no principal could be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrincipalError {
    #[error("the client certificate cannot be parsed: {0}")]
    Certificate(String),
    /// Kafka's `NoMatchingRule`.
    #[error("No rules apply to {dn}, rules {rules}")]
    NoMatchingRule { dn: String, rules: String },
    /// Kafka's `IllegalArgumentException` from `SslPrincipalMapper.parseRules`.
    #[error("{0}")]
    InvalidRule(String),
}

/// The subject DN of a DER certificate in Java's RFC 2253 form (`X500Principal.getName()`):
/// the RDNs from the last in the encoding (the most specific, usually CN) to the first,
/// attributes with an RFC 2253 keyword by keyword, others as `OID=#hex-of-DER`.
pub fn subject_dn(der: &[u8]) -> Result<String, PrincipalError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| PrincipalError::Certificate(e.to_string()))?;
    let rdns: Vec<_> = cert.subject().iter().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            write_ava(&mut out, atv);
        }
    }
    Ok(out)
}

/// RFC 2253 section 2.3's keywords, the ones Java prints by name.
fn keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn write_ava(out: &mut String, atv: &AttributeTypeAndValue<'_>) {
    let oid = atv.attr_type().to_id_string();
    match (keyword(&oid), atv.as_str()) {
        (Some(k), Ok(v)) => {
            out.push_str(k);
            out.push('=');
            escape_value(out, v);
        }
        _ => {
            // RFC 2253 2.4: an attribute without a keyword (or whose value is not a string)
            // is printed as its OID and `#` with the hex of the value's BER encoding.
            out.push_str(&oid);
            out.push_str("=#");
            let value = atv.attr_value();
            let header_and_data = der_of(value);
            for b in header_and_data {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
}

/// The DER encoding (tag, length, content) of one attribute value.
fn der_of(value: &x509_parser::der_parser::asn1_rs::Any<'_>) -> Vec<u8> {
    let data: &[u8] = value.data;
    let tag = value.header.tag().0;
    let class = value.header.class() as u8;
    let constructed = if value.header.is_constructed() {
        0x20
    } else {
        0
    };
    let mut out = Vec::with_capacity(data.len() + 6);
    // Attribute values use universal low tags (< 31); others are printed with the same
    // one-byte form, which is what a short tag would be.
    out.push((class << 6) | constructed | (tag as u8 & 0x1f));
    let len = data.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(data);
    out
}

/// RFC 2253 2.4 escaping, as Java's `AVA.toRFC2253String`: `,+"\<>;` always, `#` or a space
/// at the start and a space at the end.
fn escape_value(out: &mut String, v: &str) {
    let chars: Vec<char> = v.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (*c == '#' || *c == ' '))
            || (i == chars.len() - 1 && *c == ' ');
        if special {
            out.push('\\');
        }
        out.push(*c);
    }
}

/// Kafka's `SslPrincipalMapper`: `ssl.principal.mapping.rules`, a comma-separated list of
/// `DEFAULT` and `RULE:pattern/replacement/[L|U]`, tried in order; the first rule whose pattern
/// matches the whole DN gives the name.
#[derive(Clone, Debug)]
pub struct SslPrincipalMapper {
    rules: Vec<Rule>,
    /// The rules as given, for Kafka's `NoMatchingRule` message.
    display: String,
}

#[derive(Clone, Debug)]
enum Rule {
    Default,
    Pattern {
        /// The pattern anchored at both ends (Java's `Matcher.matches`).
        whole: Regex,
        /// The unanchored pattern, for `String.replaceAll`.
        pattern: Regex,
        replacement: String,
        to_lower: bool,
        to_upper: bool,
    },
}

/// Kafka's `RULE_PATTERN`.
const RULE_PATTERN: &str = r"(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)";

fn rule_splitter() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| compile_constant(&format!(r"\s*({RULE_PATTERN})\s*(,\s*|$)")))
}

fn rule_parser() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| compile_constant(&format!("^(?:{RULE_PATTERN})")))
}

fn compile_constant(p: &str) -> Regex {
    // Constant patterns, compiled in the unit tests.
    Regex::new(p).unwrap_or_else(|e| unreachable!("constant pattern {p}: {e}"))
}

impl SslPrincipalMapper {
    /// Parses the rules (`SslPrincipalMapper.fromRules`); an invalid rule is a start-up error
    /// with Kafka's message.
    pub fn from_rules(rules: &str) -> Result<SslPrincipalMapper, PrincipalError> {
        let trimmed = rules.trim();
        let mut parsed = Vec::new();
        let mut shown = Vec::new();
        for caps in rule_splitter().captures_iter(trimmed) {
            let rule = caps.get(1).map_or("", |m| m.as_str());
            let Some(m) = rule_parser().captures(rule) else {
                return Err(PrincipalError::InvalidRule(format!("Invalid rule: {rule}")));
            };
            let end = m.get(0).map_or(0, |g| g.end());
            if end != rule.len() {
                return Err(PrincipalError::InvalidRule(format!(
                    "Invalid rule: `{rule}`, unmatched substring: `{}`",
                    &rule[end..]
                )));
            }
            if m.get(1).is_some() {
                parsed.push(Rule::Default);
                shown.push("DEFAULT".to_string());
            } else if let Some(p) = m.get(2) {
                let source = p.as_str();
                let replacement = m.get(4).map_or("", |g| g.as_str()).to_string();
                let case = m.get(6).map_or("", |g| g.as_str());
                let bad = |e: regex::Error| {
                    PrincipalError::InvalidRule(format!("Invalid rule: {rule}: {e}"))
                };
                parsed.push(Rule::Pattern {
                    whole: Regex::new(&format!("^(?:{source})$")).map_err(bad)?,
                    pattern: Regex::new(source).map_err(bad)?,
                    replacement,
                    to_lower: case == "L",
                    to_upper: case == "U",
                });
                shown.push(rule.to_string());
            }
            // An empty rule is ignored, as in Kafka.
        }
        Ok(SslPrincipalMapper {
            rules: parsed,
            display: format!("[{}]", shown.join(", ")),
        })
    }

    /// The principal name for `dn` (`SslPrincipalMapper.getName`).
    pub fn name(&self, dn: &str) -> Result<String, PrincipalError> {
        for rule in &self.rules {
            if let Some(name) = rule.apply(dn) {
                return Ok(name);
            }
        }
        Err(PrincipalError::NoMatchingRule {
            dn: dn.to_string(),
            rules: self.display.clone(),
        })
    }
}

impl Rule {
    fn apply(&self, dn: &str) -> Option<String> {
        let Rule::Pattern {
            whole,
            pattern,
            replacement,
            to_lower,
            to_upper,
            ..
        } = self
        else {
            return Some(dn.to_string());
        };
        if !whole.is_match(dn) {
            return None;
        }
        // `distinguishedName.replaceAll(pattern, replacement)`: every match replaced, with
        // Java's `$n` group references (Kafka escapes references past the group count, so
        // they stay literal) and `\x` escapes.
        let groups = pattern.captures_len() - 1;
        let mut result = String::with_capacity(dn.len());
        let mut last = 0;
        for caps in pattern.captures_iter(dn) {
            let Some(m) = caps.get(0) else { continue };
            result.push_str(&dn[last..m.start()]);
            expand_java_replacement(replacement, &caps, groups, &mut result);
            last = m.end();
        }
        result.push_str(&dn[last..]);
        if *to_lower {
            result = result.to_lowercase();
        } else if *to_upper {
            result = result.to_uppercase();
        }
        Some(result)
    }
}

/// Java's `Matcher.appendReplacement` syntax: `$n` (digits taken while the number stays a valid
/// group) and `\x` for a literal `x`. A `$n` past the group count is literal (Kafka's
/// `escapeLiteralBackReferences`).
fn expand_java_replacement(
    replacement: &str,
    caps: &regex::Captures<'_>,
    groups: usize,
    out: &mut String,
) {
    let bytes: Vec<char> = replacement.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '\\' && i + 1 < bytes.len() {
            out.push(bytes[i + 1]);
            i += 2;
        } else if c == '$' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit() {
            let first = bytes[i + 1].to_digit(10).unwrap_or(0) as usize;
            if first > groups {
                out.push('$');
                i += 1;
                continue;
            }
            let mut n = first;
            let mut j = i + 2;
            while j < bytes.len() {
                let Some(d) = bytes[j].to_digit(10) else {
                    break;
                };
                let next = n * 10 + d as usize;
                if next > groups {
                    break;
                }
                n = next;
                j += 1;
            }
            if let Some(g) = caps.get(n) {
                out.push_str(g.as_str());
            }
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper(rules: &str) -> SslPrincipalMapper {
        SslPrincipalMapper::from_rules(rules).unwrap()
    }

    // Kafka's SslPrincipalMapperTest cases.
    #[test]
    fn valid_rules_parse() {
        for r in [
            "DEFAULT",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
            "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
            "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
            "RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
            "RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
            "RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
        ] {
            SslPrincipalMapper::from_rules(r).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
    }

    #[test]
    fn invalid_rules_are_refused_with_kafkas_message() {
        for r in [
            "default",
            "DEFAULT/L",
            "DEFAULT/U",
            "RULE:CN=(.*?),OU=ServiceUsers.*/$1",
            "rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
        ] {
            assert!(
                SslPrincipalMapper::from_rules(r).is_err(),
                "{r} must be refused"
            );
        }
        assert_eq!(
            SslPrincipalMapper::from_rules("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U")
                .unwrap_err()
                .to_string(),
            "Invalid rule: `RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U`, unmatched substring: `/U`"
        );
    }

    #[test]
    fn rules_map_names_like_kafka() {
        let rules = "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,\
                     RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,\
                     RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U,\
                     RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,\
                     DEFAULT";
        let m = mapper(rules);
        assert_eq!(
            m.name("CN=Duke,OU=ServiceUsers,O=Org,C=US").unwrap(),
            "Duke"
        );
        assert_eq!(
            m.name("CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US").unwrap(),
            "duke@sme"
        );
        assert_eq!(m.name("cn=duke,ou=sme,dc=mycp,dc=com").unwrap(), "DUKE@SME");
        assert_eq!(
            m.name("cN=duke,OU=JavaSoft,O=Sun Microsystems").unwrap(),
            "DUKE"
        );
        assert_eq!(
            m.name("OU=JavaSoft,O=Sun Microsystems,C=US").unwrap(),
            "OU=JavaSoft,O=Sun Microsystems,C=US"
        );
    }

    #[test]
    fn no_matching_rule_is_an_error() {
        let m = mapper("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/");
        assert_eq!(
            m.name("CN=x,OU=Other").unwrap_err().to_string(),
            "No rules apply to CN=x,OU=Other, rules [RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/]"
        );
    }

    #[test]
    fn literal_back_references_past_the_group_count_stay() {
        let m = mapper("RULE:^CN=(.*)$/$1-$2\\/x/");
        assert_eq!(m.name("CN=a").unwrap(), "a-$2/x");
    }

    #[test]
    fn subject_dn_is_javas_rfc2253_form() {
        let mut params = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, "DE");
        dn.push(rcgen::DnType::OrganizationName, "Example, Inc.");
        dn.push(rcgen::DnType::OrganizationalUnitName, "eng");
        dn.push(rcgen::DnType::CommonName, "client");
        dn.push(
            rcgen::DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            rcgen::DnValue::Ia5String("a@b.c".try_into().unwrap()),
        );
        params.distinguished_name = dn;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            subject_dn(cert.der()).unwrap(),
            "1.2.840.113549.1.9.1=#16056140622e63,CN=client,OU=eng,O=Example\\, Inc.,C=DE"
        );
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        escape_value(&mut s, "#a+b ");
        assert_eq!(s, "\\#a\\+b\\ ");
    }
}
