//! What must differ between two brokers answering the same request, taken out before the answers
//! are compared: ports, generated identifiers (topic ids, producer ids, member ids, cluster ids,
//! fetch session ids), wall-clock timestamps and throttle times.
//!
//! Generated identifiers are not erased but renamed in order of first appearance within a
//! scenario (`#topic_id1`, `#topic_id2`, ...), on each broker separately, so that a scenario still
//! sees when a broker answers a different id where Kafka answers the same one (or the reverse).

use std::collections::HashMap;

use super::tree::V;

/// Fields whose value is a per-broker identifier: renamed by first appearance.
const RENAMED: &[&str] = &[
    "topic_id",
    "producer_id",
    "member_id",
    "leader",
    "cluster_id",
    "session_id",
    "group_instance_id_generated",
    "assignor_generation",
];

/// Fields that carry the listener's port.
const PORTS: &[&str] = &["port"];

/// Fields dropped: quota throttling is timing, not behaviour.
const DROPPED: &[&str] = &["throttle_time_ms"];

/// The renaming state of one broker within one scenario.
#[derive(Default)]
pub struct Renamer {
    seen: HashMap<(String, String), String>,
    next: HashMap<String, usize>,
}

impl Renamer {
    fn rename(&mut self, class: &str, value: &str) -> String {
        // Kafka's "none" values stay as they are: -1, 0 for session ids, empty and null strings.
        if matches!(
            value,
            "-1" | "None" | "\"\"" | "00000000-0000-0000-0000-000000000000"
        ) || (class == "session_id" && value == "0")
        {
            return value.to_string();
        }
        let key = (class.to_string(), value.to_string());
        if let Some(v) = self.seen.get(&key) {
            return v.clone();
        }
        let n = self.next.entry(class.to_string()).or_insert(0);
        *n += 1;
        let name = format!("#{class}{n}");
        self.seen.insert(key, name.clone());
        name
    }
}

/// True for a field that holds a wall-clock time in milliseconds.
fn is_time_field(name: &str) -> bool {
    (name.contains("timestamp") || name.ends_with("_time_ms") || name.ends_with("time"))
        && !name.contains("timeout")
}

/// Normalises `v` in place (see the module doc). Lists are sorted by their key field first
/// (`tree::flatten` compares them by key anyway), so renaming follows the same order on both
/// brokers whatever order each listed things in.
pub fn normalise(v: &mut V, r: &mut Renamer) {
    match v {
        V::Struct(_, fields) => {
            fields.retain(|(f, _)| !DROPPED.contains(&f.as_str()));
            for (f, val) in fields.iter_mut() {
                if let V::Atom(a) | V::Str(a) = val {
                    if RENAMED.contains(&f.as_str()) {
                        *a = r.rename(f, a);
                        continue;
                    }
                    if PORTS.contains(&f.as_str()) && a != "-1" {
                        *a = "<port>".into();
                        continue;
                    }
                    if is_time_field(f) && a.parse::<i64>().is_ok_and(|t| t > 1_000_000_000_000) {
                        *a = "<now>".into();
                        continue;
                    }
                }
                normalise(val, r);
            }
        }
        V::Seq(items) => {
            super::tree::sort_by_key(items);
            for i in items.iter_mut() {
                normalise(i, r);
            }
        }
        V::Map(items) => {
            for (_, val) in items.iter_mut() {
                normalise(val, r);
            }
        }
        V::Atom(_) | V::Str(_) => {}
    }
}
