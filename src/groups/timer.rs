//! Keyed deadlines of one coordinator shard (Kafka's `CoordinatorTimer`): scheduling a key
//! replaces its previous deadline, cancelling removes it, and expired tasks are handed to the
//! shard under the same lock that guards the groups, so a task that was rescheduled or cancelled
//! never runs.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use tokio::time::Instant;

/// What a deadline is for; one deadline per key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TimerKey {
    /// `session-timeout-<group>-<member>`: a member's session (or a pending member's join).
    Heartbeat { group: String, member: String },
    /// The join phase of a rebalance (also the initial rebalance delay).
    Join { group: String },
    /// Waiting for every member's SyncGroup.
    Sync { group: String },
    /// The periodic offset expiration of the shard.
    Expiration,
    /// `rebalance-timeout-<group>-<member>`: a consumer-group member revoking partitions.
    ConsumerRebalance { group: String, member: String },
}

/// What to do when a deadline passes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerTask {
    HeartbeatExpired {
        group: String,
        member: String,
    },
    CompleteJoin {
        group: String,
    },
    InitialRebalance {
        group: String,
        delay_ms: i64,
        remaining_ms: i64,
    },
    PendingSyncExpired {
        group: String,
        generation: i32,
    },
    CleanupGroupMetadata,
    /// A consumer-group member's session expired (scheduled under [`TimerKey::Heartbeat`]).
    ConsumerSessionExpired {
        group: String,
        member: String,
    },
    /// A share-group member's session expired (scheduled under [`TimerKey::Heartbeat`]).
    ShareSessionExpired {
        group: String,
        member: String,
    },
    /// A consumer-group member did not revoke its partitions within its rebalance timeout.
    ConsumerRebalanceExpired {
        group: String,
        member: String,
        epoch: i32,
    },
}

/// The deadlines of one shard.
#[derive(Default, Debug)]
pub struct Timer {
    entries: HashMap<TimerKey, (Instant, u64, TimerTask)>,
    queue: BTreeSet<(Instant, u64)>,
    keys: HashMap<u64, TimerKey>,
    next_seq: u64,
}

impl Timer {
    /// Schedules `task` under `key` after `delay`, replacing the key's previous deadline.
    /// Returns true when this is now the earliest deadline (the shard's task must wake up).
    pub fn schedule(&mut self, key: TimerKey, delay: Duration, task: TimerTask) -> bool {
        self.cancel(&key);
        let at = Instant::now() + delay;
        let seq = self.next_seq;
        self.next_seq += 1;
        let earliest = self.queue.first().is_none_or(|(first, _)| at < *first);
        self.queue.insert((at, seq));
        self.keys.insert(seq, key.clone());
        self.entries.insert(key, (at, seq, task));
        earliest
    }

    pub fn cancel(&mut self, key: &TimerKey) {
        if let Some((at, seq, _)) = self.entries.remove(key) {
            self.queue.remove(&(at, seq));
            self.keys.remove(&seq);
        }
    }

    pub fn is_scheduled(&self, key: &TimerKey) -> bool {
        self.entries.contains_key(key)
    }

    /// Removes and returns the tasks whose deadline is at or before `now`, earliest first.
    pub fn pop_expired(&mut self, now: Instant) -> Vec<TimerTask> {
        let mut out = Vec::new();
        while let Some(&(at, seq)) = self.queue.first() {
            if at > now {
                break;
            }
            self.queue.pop_first();
            if let Some(key) = self.keys.remove(&seq) {
                if let Some((_, _, task)) = self.entries.remove(&key) {
                    out.push(task);
                }
            }
        }
        out
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue.first().map(|(at, _)| *at)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn reschedule_replaces_and_cancel_removes() {
        let mut t = Timer::default();
        let hb = |m: &str| TimerKey::Heartbeat {
            group: "g".into(),
            member: m.into(),
        };
        let task = |m: &str| TimerTask::HeartbeatExpired {
            group: "g".into(),
            member: m.into(),
        };
        assert!(t.schedule(hb("a"), Duration::from_millis(100), task("a")));
        assert!(!t.schedule(hb("b"), Duration::from_millis(200), task("b")));
        // Rescheduling "a" later: "b" is now first.
        assert!(!t.schedule(hb("a"), Duration::from_millis(300), task("a")));
        assert_eq!(t.len(), 2);
        tokio::time::advance(Duration::from_millis(250)).await;
        assert_eq!(t.pop_expired(Instant::now()), vec![task("b")]);
        t.cancel(&hb("a"));
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(t.pop_expired(Instant::now()).is_empty());
        assert!(t.is_empty());
        assert_eq!(t.next_deadline(), None);
    }
}
