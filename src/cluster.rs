//! Broker identity on disk: `meta.properties` (cluster id, node id, directory id, in Kafka's
//! KRaft format), producer-id allocation, and small file helpers shared by the storage code.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

/// Kafka's `Uuid.toString`: URL-safe base64 of the 16 bytes, without padding (22 chars).
pub fn uuid_to_kafka_string(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Parses Kafka's 22-character topic/cluster id form.
pub fn uuid_from_kafka_string(s: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(s.trim()).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// A random id that is never Kafka's reserved zero or metadata-topic id
/// (`Uuid.randomUuid` skips ids whose string form starts with '-').
pub fn random_uuid() -> Uuid {
    loop {
        let id = Uuid::new_v4();
        if id != Uuid::nil() && id.as_u128() != 1 && !uuid_to_kafka_string(id).starts_with('-') {
            return id;
        }
    }
}

/// Writes a file so that a crash leaves either the old or the new content: temp file, fsync,
/// rename, fsync of the directory.
pub fn write_atomically(path: &Path, content: &[u8]) -> io::Result<()> {
    write_atomically_with_mode(path, content, 0o666)
}

/// [`write_atomically`] with the file created with `mode` (less the umask) from the start, so a
/// secret (`0o600`) is never readable by others, not even between the write and a chmod.
pub fn write_atomically_with_mode(path: &Path, content: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = tmp_path(path);
    // A temporary file a crash left behind keeps its mode when reopened: start afresh.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Reads a JSON state file written with [`write_atomically`]: `None` when it does not exist
/// yet; a file that does not parse is an error naming it (the broker's stores refuse to start
/// rather than silently forget credentials, ACLs or quotas).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// The contents of `meta.properties`.
#[derive(Clone, Debug)]
pub struct MetaProperties {
    pub cluster_id: String,
    pub node_id: i32,
    pub directory_id: String,
}

impl MetaProperties {
    /// Reads `meta.properties`, or creates it with a fresh cluster id. A node id that differs
    /// from the configured one is an error, as in Kafka (the directory belongs to another node).
    pub fn load_or_create(data_dir: &Path, node_id: i32) -> io::Result<MetaProperties> {
        let path = data_dir.join("meta.properties");
        if let Ok(text) = fs::read_to_string(&path) {
            let get = |key: &str| {
                text.lines()
                    .filter_map(|l| l.split_once('='))
                    .find(|(k, _)| k.trim() == key)
                    .map(|(_, v)| v.trim().to_string())
            };
            let stored_node: Option<i32> = get("node.id").and_then(|v| v.parse().ok());
            if let Some(stored) = stored_node {
                if stored != node_id {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} holds data of node {stored}, but node.id is {node_id}",
                            path.display()
                        ),
                    ));
                }
            }
            if let Some(cluster_id) = get("cluster.id") {
                return Ok(MetaProperties {
                    cluster_id,
                    node_id,
                    directory_id: get("directory.id")
                        .unwrap_or_else(|| uuid_to_kafka_string(random_uuid())),
                });
            }
        }
        let meta = MetaProperties {
            cluster_id: uuid_to_kafka_string(random_uuid()),
            node_id,
            directory_id: uuid_to_kafka_string(random_uuid()),
        };
        let content = format!(
            "#\n#Written by Klamm\ncluster.id={}\ndirectory.id={}\nnode.id={}\nversion=1\n",
            meta.cluster_id, meta.directory_id, meta.node_id
        );
        write_atomically(&path, content.as_bytes())?;
        Ok(meta)
    }
}

/// Hands out producer ids for InitProducerId. Ids are reserved on disk in blocks (Kafka's
/// `ProducerIdManager` reserves blocks of 1000 in the controller), so an id is never handed out
/// twice, even across a crash: at start-up allocation resumes after the last reserved block.
pub struct ProducerIdManager {
    path: PathBuf,
    state: Mutex<(i64, i64)>,
}

/// Size of one reserved block.
const BLOCK: i64 = 1000;

impl ProducerIdManager {
    pub fn open(data_dir: &Path) -> io::Result<ProducerIdManager> {
        let path = data_dir.join("klamm-producer-ids");
        let reserved_end = fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(0);
        Ok(ProducerIdManager {
            path,
            state: Mutex::new((reserved_end, reserved_end)),
        })
    }

    /// The next unused producer id.
    pub fn next_id(&self) -> io::Result<i64> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (next, end) = *st;
        if next >= end {
            let new_end = next + BLOCK;
            write_atomically(&self.path, format!("{new_end}\n").as_bytes())?;
            *st = (next + 1, new_end);
            return Ok(next);
        }
        *st = (next + 1, end);
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_format_matches_kafka() {
        // Kafka prints Uuid(0, 1) as AAAAAAAAAAAAAAAAAAAAAQ.
        let id = Uuid::from_u128(1);
        assert_eq!(uuid_to_kafka_string(id), "AAAAAAAAAAAAAAAAAAAAAQ");
        assert_eq!(uuid_from_kafka_string("AAAAAAAAAAAAAAAAAAAAAQ"), Some(id));
        let r = random_uuid();
        assert_eq!(uuid_to_kafka_string(r).len(), 22);
    }

    #[test]
    fn meta_properties_persist_and_check_node() {
        let dir = tempfile::tempdir().unwrap();
        let a = MetaProperties::load_or_create(dir.path(), 0).unwrap();
        let b = MetaProperties::load_or_create(dir.path(), 0).unwrap();
        assert_eq!(a.cluster_id, b.cluster_id);
        assert!(MetaProperties::load_or_create(dir.path(), 3).is_err());
    }

    #[test]
    fn producer_ids_never_repeat_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let m = ProducerIdManager::open(dir.path()).unwrap();
        let a = m.next_id().unwrap();
        let b = m.next_id().unwrap();
        assert_eq!((a, b), (0, 1));
        drop(m);
        let m = ProducerIdManager::open(dir.path()).unwrap();
        assert!(m.next_id().unwrap() >= 1000);
    }
}
