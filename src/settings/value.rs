//! Typed config values, parsed and validated the way Kafka's `ConfigDef` does it.
//!
//! Broker settings and topic configs share this vocabulary, so a value is rejected with the same
//! message whether it arrives in `klamm.toml`, through `--override`, or in a CreateTopics request.

use std::fmt;

/// A config's type, numbered as DescribeConfigs v3+ reports it (Kafka's `ConfigType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Password,
}

impl Kind {
    /// `DescribeConfigsResponse.ConfigType` code.
    pub fn describe_code(self) -> i8 {
        match self {
            Kind::Boolean => 1,
            Kind::String => 2,
            Kind::Int => 3,
            Kind::Short => 4,
            Kind::Long => 5,
            Kind::Double => 6,
            Kind::List => 7,
            Kind::Password => 9,
        }
    }
}

/// Constraints a value must meet (Kafka's `ConfigDef.Validator` implementations).
#[derive(Clone, Copy, Debug)]
pub enum Validator {
    None,
    /// `ConfigDef.Range.atLeast`
    AtLeast(i64),
    /// `ConfigDef.Range.between`
    Between(i64, i64),
    /// `ConfigDef.Range.between` for doubles
    DoubleBetween(f64, f64),
    /// `[min, max]` or exactly `extra` (Kafka's gzip level validator: 1..9 or -1).
    BetweenOr(i64, i64, i64),
    /// `ConfigDef.ValidString.in` (case-sensitive, as Kafka)
    OneOf(&'static [&'static str]),
    /// `ConfigDef.CaseInsensitiveValidString.in`
    OneOfIgnoreCase(&'static [&'static str]),
    /// `ConfigDef.ValidList.in`: every element must be one of these
    ListOf(&'static [&'static str]),
}

/// A parsed value. `Null` is a config with no value (Kafka's `null` default).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    List(Vec<String>),
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(v) => Some(*v),
            Value::Int(v) => Some(*v as f64),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[String]> {
        match self {
            Value::List(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    /// Renders the value as Kafka's DescribeConfigs does (`ConfigDef.convertToString`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            // Java's Double.toString spelling of exponents (1.7976931348623157E308).
            Value::Double(v) => f.write_str(&format!("{v:?}").replace('e', "E")),
            Value::Str(v) => f.write_str(v),
            Value::List(v) => f.write_str(&v.join(",")),
        }
    }
}

/// Parses `raw` as a value of `kind` and checks it against `validator`.
///
/// The error message names the key, like Kafka's `ConfigException`:
/// `Invalid value X for configuration KEY: REASON`.
pub fn parse(key: &str, kind: Kind, validator: Validator, raw: &str) -> Result<Value, String> {
    let trimmed = raw.trim();
    let invalid = |reason: &str| format!("Invalid value {raw} for configuration {key}: {reason}");
    let value = match kind {
        Kind::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(invalid("Expected value to be either true or false")),
        },
        Kind::Int => {
            let v: i32 = trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type INT"))?;
            Value::Int(v as i64)
        }
        Kind::Short => {
            let v: i16 = trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type SHORT"))?;
            Value::Int(v as i64)
        }
        Kind::Long => {
            let v: i64 = trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type LONG"))?;
            Value::Int(v)
        }
        Kind::Double => {
            let v: f64 = trimmed
                .parse()
                .map_err(|_| invalid("Not a number of type DOUBLE"))?;
            Value::Double(v)
        }
        Kind::String | Kind::Password => Value::Str(trimmed.to_string()),
        Kind::List => {
            if trimmed.is_empty() {
                Value::List(Vec::new())
            } else {
                Value::List(trimmed.split(',').map(|s| s.trim().to_string()).collect())
            }
        }
    };
    validate(key, validator, &value, raw)?;
    Ok(value)
}

fn validate(key: &str, validator: Validator, value: &Value, raw: &str) -> Result<(), String> {
    let invalid = |reason: String| format!("Invalid value {raw} for configuration {key}: {reason}");
    match (validator, value) {
        (Validator::None, _) => Ok(()),
        (Validator::AtLeast(min), Value::Int(v)) if *v < min => {
            Err(invalid(format!("Value must be at least {min}")))
        }
        (Validator::Between(min, _), Value::Int(v)) if *v < min => {
            Err(invalid(format!("Value must be at least {min}")))
        }
        (Validator::Between(_, max), Value::Int(v)) if *v > max => {
            Err(invalid(format!("Value must be no more than {max}")))
        }
        (Validator::BetweenOr(min, max, extra), Value::Int(v))
            if *v != extra && (*v < min || *v > max) =>
        {
            Err(invalid(format!(
                "Value must be between {min} and {max} or equal to {extra}"
            )))
        }
        (Validator::DoubleBetween(min, max), Value::Double(v)) if *v < min || *v > max => {
            if *v < min {
                Err(invalid(format!("Value must be at least {min:?}")))
            } else {
                Err(invalid(format!("Value must be no more than {max:?}")))
            }
        }
        (Validator::OneOf(allowed), Value::Str(v)) if !allowed.contains(&v.as_str()) => Err(
            invalid(format!("String must be one of: {}", allowed.join(", "))),
        ),
        (Validator::OneOfIgnoreCase(allowed), Value::Str(v))
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(v)) =>
        {
            Err(invalid(format!(
                "String must be one of (case insensitive): {}",
                allowed.join(", ")
            )))
        }
        (Validator::ListOf(allowed), Value::List(items)) => {
            match items.iter().find(|i| !allowed.contains(&i.as_str())) {
                Some(bad) => Err(format!(
                    "Invalid value {bad} for configuration {key}: String must be one of: {}",
                    allowed.join(", ")
                )),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates_like_kafka() {
        assert_eq!(
            parse("num.partitions", Kind::Int, Validator::AtLeast(1), "3"),
            Ok(Value::Int(3))
        );
        let err = parse("num.partitions", Kind::Int, Validator::AtLeast(1), "0").unwrap_err();
        assert!(
            err.contains("num.partitions") && err.contains("at least 1"),
            "{err}"
        );
        assert!(parse("x", Kind::Int, Validator::None, "3000000000").is_err());
        assert_eq!(
            parse("x", Kind::Long, Validator::None, "3000000000"),
            Ok(Value::Int(3_000_000_000))
        );
        assert_eq!(
            parse("b", Kind::Boolean, Validator::None, "TRUE"),
            Ok(Value::Bool(true))
        );
        let policy = Validator::ListOf(&["delete", "compact"]);
        assert_eq!(
            parse("cleanup.policy", Kind::List, policy, "compact, delete"),
            Ok(Value::List(vec!["compact".into(), "delete".into()]))
        );
        assert!(parse("cleanup.policy", Kind::List, policy, "nope").is_err());
        let between = Validator::Between(0, 10);
        assert!(parse("x", Kind::Int, between, "11")
            .unwrap_err()
            .contains("no more than 10"));
        assert!(parse("x", Kind::Int, between, "-1")
            .unwrap_err()
            .contains("at least 0"));
    }
}
