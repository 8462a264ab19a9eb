//! Opening a partition's log at start-up (Kafka's `LogLoader`): leftovers of interrupted
//! operations are removed, the segments are loaded (those at or above the recovery point
//! re-validated and their indexes rebuilt), a torn tail is truncated, and the producer state
//! and aborted-transaction list are rebuilt from the newest snapshot and the batch headers.

use super::*;

impl Partition {
    /// Opens (or creates) the partition directory, recovering it as `recovery` says.
    pub fn open(
        topic: Arc<str>,
        topic_id: Uuid,
        index: i32,
        data_dir: &Path,
        config: Arc<LogConfig>,
        recovery: Recovery,
        checkpointed_log_start: Option<i64>,
    ) -> io::Result<Partition> {
        let dir = data_dir.join(dir_name(&topic, index));
        fs::create_dir_all(&dir)?;
        remove_leftovers(&dir)?;
        swap::complete_interrupted_swaps(&dir)?;
        write_partition_metadata(&dir, topic_id)?;
        write_leader_epoch_checkpoint(&dir)?;

        let mut bases: Vec<i64> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.strip_suffix(".log")
                    .and_then(|_| segment::offset_from_file_name(&name))
            })
            .collect();
        bases.sort_unstable();

        let recover_from = match recovery {
            Recovery::Clean => None,
            Recovery::From(point) => Some(
                bases
                    .iter()
                    .copied()
                    .rfind(|b| *b <= point)
                    .unwrap_or(i64::MIN),
            ),
        };
        let lim = limits(&config);
        let mut segments = BTreeMap::new();
        let mut expected_next: Option<i64> = None;
        let mut cut_rest = false;
        for (i, base) in bases.iter().copied().enumerate() {
            if cut_rest || expected_next.is_some_and(|n| base < n) {
                warn!(topic = %topic, partition = index, base, "deleting segment after a truncated or overlapping one");
                delete_segment_files(&dir, base);
                cut_rest = true;
                continue;
            }
            let recover = recover_from.is_some_and(|from| base >= from);
            let (seg, scan) = LogSegment::open(&dir, base, lim, recover, &mut |_| {})?;
            if scan.invalid_bytes > 0 {
                warn!(
                    topic = %topic, partition = index, segment = base,
                    valid_bytes = scan.valid_bytes, truncated_bytes = scan.invalid_bytes,
                    reason = scan.end_reason.unwrap_or("unknown"),
                    "found invalid data in log segment: truncated the torn tail"
                );
                if i + 1 < bases.len() {
                    cut_rest = true;
                }
            }
            expected_next = Some(seg.next_offset());
            segments.insert(base, seg);
        }
        // An empty segment is only useful as the active one.
        let last_base = segments.keys().next_back().copied();
        segments.retain(|base, seg| {
            let keep = !seg.is_empty() || Some(*base) == last_base;
            if !keep {
                let _ = seg.delete_files();
            }
            keep
        });
        if segments.is_empty() {
            let base = checkpointed_log_start.unwrap_or(0).max(0);
            segments.insert(base, LogSegment::create(&dir, base, lim)?);
        }
        let first_base = *segments.keys().next().expect("non-empty");
        let next_offset = segments
            .values()
            .next_back()
            .map(|s| s.next_offset())
            .unwrap_or(first_base);
        let log_start_offset = checkpointed_log_start
            .unwrap_or(first_base)
            .clamp(first_base, next_offset);

        // Producer state: newest snapshot at or below the log end, then replay the headers.
        let (snap_offset, mut producers) = ProducerStateManager::load_latest(&dir, next_offset)
            .unwrap_or((log_start_offset, ProducerStateManager::new()));
        let mut aborted: BTreeMap<i64, AbortedTxn> = txn_index::read_all(&dir)
            .into_iter()
            .filter(|(_, a)| a.last_offset < next_offset)
            .map(|(_, a)| (a.last_offset, a))
            .collect();
        for seg in segments.values() {
            if seg.next_offset() <= snap_offset {
                continue;
            }
            let start = if seg.base_offset >= snap_offset {
                0
            } else {
                seg.translate_offset(snap_offset)?
                    .map(|(p, _)| p)
                    .unwrap_or(seg.size())
            };
            let mut ended = Vec::new();
            let mut markers = Vec::new();
            seg.read_headers(start, seg.size(), &mut |pos, h| {
                if h.last_offset() >= snap_offset {
                    if h.is_control() && h.has_producer_id() {
                        markers.push((pos, h.size(), h.producer_id()));
                    }
                    if let Some(first) = producers.replay(h) {
                        // A marker ended an open transaction: if it was an abort the index must
                        // list it (it may not have reached the `.txnindex` before a crash).
                        let lso = producers
                            .first_unstable_offset()
                            .unwrap_or(h.last_offset() + 1);
                        ended.push((pos, h.size(), h.producer_id(), first, h.base_offset(), lso));
                    }
                }
                true
            })?;
            // The coordinator epoch is in the marker's value, not its header: read each marker
            // the replay passed (few and small) so DescribeProducers and the fencing check see
            // the last one, as after Kafka's `appendEndTxnMarker`.
            for (pos, size, pid) in markers {
                let bytes = seg.read_bytes(pos, size)?;
                if let Some(epoch) = control::marker_coordinator_epoch(&bytes) {
                    producers.set_coordinator_epoch(pid, epoch);
                }
            }
            for (pos, size, pid, first, marker, lso) in ended.drain(..) {
                if aborted.contains_key(&marker) {
                    continue;
                }
                let bytes = seg.read_bytes(pos, size)?;
                if control::control_type(&bytes) == Some(control::ABORT) {
                    let a = AbortedTxn {
                        producer_id: pid,
                        first_offset: first,
                        last_offset: marker,
                        last_stable_offset: lso,
                    };
                    match txn_index::append(&dir, seg.base_offset, &a) {
                        Ok(()) => {}
                        // The entry is in memory, and the next start finds the marker again.
                        Err(e) if space::is_out_of_space(&e) => {
                            warn!(topic = %topic, partition = index, "cannot write the transaction index: {e}");
                        }
                        Err(e) => return Err(e),
                    }
                    aborted.insert(marker, a);
                }
            }
        }
        producer_state::clean_snapshots(&dir, next_offset, 3);

        let recovery_point = match recovery {
            Recovery::Clean => next_offset,
            Recovery::From(_) => log_start_offset,
        };
        if recover_from.is_some() {
            info!(topic = %topic, partition = index, log_end_offset = next_offset, "recovered partition");
        }
        let p = Partition {
            topic,
            topic_id,
            index,
            dir,
            config: RwLock::new(config),
            state: Mutex::new(LogState {
                segments,
                log_start_offset,
                next_offset,
                recovery_point,
                unflushed_messages: 0,
                producers,
                aborted,
                poisoned: None,
            }),
            waiters: Mutex::new(Vec::new()),
            flush_lock: tokio::sync::Mutex::new(()),
            maintenance: Mutex::new(()),
            log_end_offset: AtomicI64::new(next_offset),
            log_start_offset: AtomicI64::new(log_start_offset),
            last_stable_offset: AtomicI64::new(0),
            deleted: AtomicBool::new(false),
            space: space::for_dir(data_dir),
        };
        let lso = p.lock().last_stable_offset();
        p.last_stable_offset.store(lso, Ordering::Release);
        Ok(p)
    }
}

fn remove_leftovers(dir: &Path) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".tmp") || name.ends_with(".deleted") || name.ends_with(".cleaned") {
            let _ = fs::remove_file(e.path());
        }
    }
    Ok(())
}

pub(super) fn delete_segment_files(dir: &Path, base: i64) {
    for suffix in [".log", ".index", ".timeindex", ".txnindex"] {
        let _ = fs::remove_file(dir.join(segment::file_name(base, suffix)));
    }
}

/// `partition.metadata`: Kafka's record of the topic id a partition directory belongs to.
fn write_partition_metadata(dir: &Path, topic_id: Uuid) -> io::Result<()> {
    let path = dir.join("partition.metadata");
    let content = format!(
        "version: 0\ntopic_id: {}\n",
        crate::cluster::uuid_to_kafka_string(topic_id)
    );
    if fs::read_to_string(&path).ok().as_deref() == Some(content.as_str()) {
        return Ok(());
    }
    crate::cluster::write_atomically(&path, content.as_bytes())
}

/// `leader-epoch-checkpoint`: one epoch (0) starting at offset 0, in Kafka's text format.
fn write_leader_epoch_checkpoint(dir: &Path) -> io::Result<()> {
    let path = dir.join("leader-epoch-checkpoint");
    if path.exists() {
        return Ok(());
    }
    crate::cluster::write_atomically(&path, format!("0\n1\n{LEADER_EPOCH} 0\n").as_bytes())
}
