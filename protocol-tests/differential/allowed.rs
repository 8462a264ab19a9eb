//! The checked-in list of differences from Apache Kafka that Klamm keeps on purpose
//! (`allowed-differences.txt`), each with its reason.
//!
//! Format: `#` starts a comment line; an entry is one unindented line
//! `<step glob> <path glob>` followed by one or more indented lines giving the reason. A step is
//! `scenario/step@vN`; a path is a field path as `tree::flatten` writes it; `*` in a glob matches
//! any run of characters. An entry that matches no difference in a full run is stale and fails
//! the run, so the list stays the truth.

use std::path::Path;

pub struct Entry {
    pub line: usize,
    pub step: String,
    pub path: String,
    pub reason: String,
    pub used: usize,
}

pub fn load(file: &Path) -> Result<Vec<Entry>, String> {
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let mut out: Vec<Entry> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            let Some(last) = out.last_mut() else {
                return Err(format!("line {}: a reason without an entry", n + 1));
            };
            if !last.reason.is_empty() {
                last.reason.push(' ');
            }
            last.reason.push_str(line.trim());
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(step), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "line {}: an entry is `<step glob> <path glob>`: {line}",
                n + 1
            ));
        };
        out.push(Entry {
            line: n + 1,
            step: step.to_string(),
            path: path.to_string(),
            reason: String::new(),
            used: 0,
        });
    }
    if let Some(e) = out.iter().find(|e| e.reason.is_empty()) {
        return Err(format!("line {}: entry without a reason", e.line));
    }
    Ok(out)
}

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}
