//! Regex subscriptions (KIP-848 `SubscribedTopicRegex`): RE2 syntax, matched against the whole
//! topic name, as Kafka does with RE2/J's `Pattern.matcher(topic).matches()`. The `regex` crate
//! implements RE2's syntax and linear-time semantics, so a client's pattern cannot stall the
//! coordinator.

use std::collections::{BTreeSet, HashMap};

use crate::error::Error;
use crate::groups::modern::topics::TopicsImage;
use crate::groups::records::consumer::ResolvedRegex;

/// Compiles a subscription regex anchored at both ends; an invalid one is Kafka's
/// INVALID_REGULAR_EXPRESSION with `Utils.throwIfRegularExpressionIsInvalid`'s message.
pub fn compile(regex: &str) -> Result<regex::Regex, Error> {
    regex::Regex::new(&format!("^(?:{regex})$")).map_err(|e| {
        let description = match &e {
            regex::Error::Syntax(s) => s
                .lines()
                .filter(|l| l.starts_with("error:"))
                .map(|l| l.trim_start_matches("error:").trim().to_string())
                .next()
                .unwrap_or_else(|| s.clone()),
            other => other.to_string(),
        };
        Error::InvalidRegularExpression(format!(
            "SubscribedTopicRegex `{regex}` is not a valid regular expression: {description}."
        ))
    })
}

/// Resolves `regexes` against every topic of `image` (Kafka's `TopicRegexResolver`); a regex
/// that does not compile (it was validated when a member brought it) resolves to nothing.
pub fn resolve<'a>(
    regexes: impl IntoIterator<Item = &'a str>,
    image: &TopicsImage,
    now: i64,
) -> HashMap<String, ResolvedRegex> {
    let mut out = HashMap::new();
    for r in regexes {
        let topics: BTreeSet<String> = match compile(r) {
            Ok(re) => image
                .topics()
                .filter(|t| re.is_match(&t.name))
                .map(|t| t.name.to_string())
                .collect(),
            Err(_) => BTreeSet::new(),
        };
        out.insert(
            r.to_string(),
            ResolvedRegex {
                topics,
                version: image.version as i64,
                timestamp: now,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::modern::topics::TopicMetadata;

    #[test]
    fn whole_name_matches_like_re2j() {
        let image = TopicsImage::new(
            4,
            ["orders", "orders-eu", "my-orders", "__consumer_offsets"]
                .iter()
                .enumerate()
                .map(|(i, n)| TopicMetadata {
                    id: uuid::Uuid::from_u128(i as u128 + 1),
                    name: (*n).into(),
                    num_partitions: 1,
                }),
        );
        let r = resolve(["orders.*", "orders|__.*"], &image, 7);
        let a: Vec<&str> = r["orders.*"].topics.iter().map(String::as_str).collect();
        assert_eq!(a, vec!["orders", "orders-eu"]);
        let b: Vec<&str> = r["orders|__.*"].topics.iter().map(String::as_str).collect();
        assert_eq!(b, vec!["__consumer_offsets", "orders"]);
        assert_eq!((r["orders.*"].version, r["orders.*"].timestamp), (4, 7));
        let e = compile("orders(").unwrap_err();
        assert_eq!(e.code(), 128);
        assert!(
            e.message()
                .starts_with("SubscribedTopicRegex `orders(` is not a valid regular expression"),
            "{}",
            e.message()
        );
        // RE2 has no backreferences or lookaround.
        assert!(compile("(a)\\1").is_err());
        assert!(compile("a(?=b)").is_err());
    }
}
