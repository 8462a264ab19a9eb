//! A byte range of a segment file: what a read of the log returns for Fetch, so that the
//! network layer can send it with `sendfile(2)` without the log knowing how it is sent.

use std::fs::File;
use std::io;
use std::sync::Arc;

use bytes::Bytes;

/// A byte range of a segment file. The `Arc<File>` keeps the data readable even if the segment
/// is deleted or replaced while the response is being written.
#[derive(Clone, Debug)]
pub struct FileSlice {
    pub file: Arc<File>,
    pub position: u64,
    pub len: usize,
}

impl FileSlice {
    /// An empty region of `file`.
    pub fn empty(file: Arc<File>) -> FileSlice {
        FileSlice {
            file,
            position: 0,
            len: 0,
        }
    }

    /// Copies the region into memory (tests and internal readers; not the fetch path).
    pub fn read_to_bytes(&self) -> io::Result<Bytes> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; self.len];
        self.file.read_exact_at(&mut buf, self.position)?;
        Ok(Bytes::from(buf))
    }
}
