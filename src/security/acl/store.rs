//! Durable ACLs: Kafka keeps them as `AccessControlEntryRecord`s in the metadata log; Klamm, a
//! single node, keeps the whole set in one JSON file in the data directory, replaced atomically
//! (temp file, fsync, rename, fsync of the directory) on every change, so an acknowledged
//! CreateAcls/DeleteAcls survives kill -9 and a torn write leaves the previous set.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::binding::AclBinding;
use crate::cluster::write_atomically;

const FILE: &str = "klamm-acls.json";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StoredFile {
    version: u32,
    acls: Vec<AclBinding>,
}

/// Where the ACL set lives on disk.
pub struct AclStore {
    path: PathBuf,
}

impl AclStore {
    pub fn new(data_dir: &Path) -> AclStore {
        AclStore {
            path: data_dir.join(FILE),
        }
    }

    /// The stored set; empty when the file does not exist yet. A file that does not parse is an
    /// error (start-up fails rather than silently dropping every ACL, which could open access).
    pub fn load(&self) -> io::Result<BTreeSet<AclBinding>> {
        let Some(file) = crate::cluster::read_json::<StoredFile>(&self.path)? else {
            return Ok(BTreeSet::new());
        };
        if file.version != FORMAT_VERSION {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: unsupported ACL file version {}",
                    self.path.display(),
                    file.version
                ),
            ));
        }
        Ok(file.acls.into_iter().collect())
    }

    /// Replaces the stored set.
    pub fn save(&self, acls: &BTreeSet<AclBinding>) -> io::Result<()> {
        let file = StoredFile {
            version: FORMAT_VERSION,
            acls: acls.iter().cloned().collect(),
        };
        let body = serde_json::to_vec_pretty(&file)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        write_atomically(&self.path, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::super::binding::*;
    use super::*;

    #[test]
    fn acls_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = AclStore::new(dir.path());
        assert!(store.load().unwrap().is_empty());
        let mut set = BTreeSet::new();
        set.insert(AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: "t-".into(),
            pattern_type: PatternType::Prefixed,
            principal: "User:alice".into(),
            host: "127.0.0.1".into(),
            operation: AclOperation::Read,
            permission_type: AclPermissionType::Deny,
        });
        store.save(&set).unwrap();
        assert_eq!(store.load().unwrap(), set);
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert!(store.load().is_err());
    }
}
