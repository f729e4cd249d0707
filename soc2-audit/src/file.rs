//! A JSON Lines file sink: one chained record per line, appended.

use std::io::SeekFrom;
use std::path::Path;

use async_trait::async_trait;
use serde::Deserialize;
use soc2_core::{KeyRing, StoreError};
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::Mutex;

use crate::{AuditSink, ChainHash, Chainer, GENESIS_HASH, PreparedEvent, hash_from_slice};

/// How far back from the end of the file the last record is looked for at open.
const TAIL_WINDOW: u64 = 64 * 1024;

/// When the file sink forces written records to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FsyncPolicy {
    /// `fdatasync` after every batch: a batch the writer saw succeed survives a power cut.
    #[default]
    EveryBatch,
    /// Leave it to the operating system (faster; the newest events can be lost on power loss).
    Never,
}

/// Appends chained records (the same format as the JSON Lines export) to a file.
///
/// The chain continues across restarts from the file's last record. A file whose last line is
/// incomplete (a crash mid-write) is refused at open with [`StoreError::Corrupt`] rather than
/// extended, so the damage is looked at by a person.
#[derive(Debug)]
pub struct JsonlFileSink {
    chainer: Chainer,
    fsync: FsyncPolicy,
    state: Mutex<FileState>,
}

#[derive(Debug)]
struct FileState {
    file: File,
    seq: u64,
    hash: ChainHash,
}

#[derive(Deserialize)]
struct LastRecord {
    seq: u64,
    hash: String,
}

impl JsonlFileSink {
    /// Opens (or creates) `path` for appending.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened, [`StoreError::Corrupt`] when
    /// its last record is incomplete or unreadable.
    pub async fn open(path: &Path, keys: &KeyRing, fsync: FsyncPolicy) -> Result<Self, StoreError> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .await
            .map_err(|e| StoreError::Unavailable(e.into()))?;
        let (seq, hash) = last_record(&mut file).await?;
        Ok(Self {
            chainer: Chainer::new(keys),
            fsync,
            state: Mutex::new(FileState { file, seq, hash }),
        })
    }
}

#[async_trait]
impl AuditSink for JsonlFileSink {
    async fn append(&self, batch: &[PreparedEvent]) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        let mut cursor = self.chainer.cursor_at(state.seq, state.hash);
        let mut buffer = String::new();
        let mut last = None;
        for event in batch {
            let stored = cursor.link(event);
            buffer.push_str(&stored.to_json_line()?);
            buffer.push('\n');
            last = Some((stored.seq, stored.hash));
        }
        let io = |e: std::io::Error| StoreError::Unavailable(e.into());
        state.file.write_all(buffer.as_bytes()).await.map_err(io)?;
        state.file.flush().await.map_err(io)?;
        if self.fsync == FsyncPolicy::EveryBatch {
            state.file.sync_data().await.map_err(io)?;
        }
        if let Some((seq, hash)) = last {
            state.seq = seq;
            state.hash = hash;
        }
        Ok(())
    }
}

async fn last_record(file: &mut File) -> Result<(u64, ChainHash), StoreError> {
    let io = |e: std::io::Error| StoreError::Unavailable(e.into());
    let len = file.metadata().await.map_err(io)?.len();
    if len == 0 {
        return Ok((0, GENESIS_HASH));
    }
    let window = len.min(TAIL_WINDOW);
    file.seek(SeekFrom::Start(len - window)).await.map_err(io)?;
    let mut tail = Vec::with_capacity(window as usize);
    file.read_to_end(&mut tail).await.map_err(io)?;
    let Some(body) = tail.strip_suffix(b"\n") else {
        return Err(StoreError::Corrupt(
            "the audit file's last line is incomplete (crash mid-write?); inspect and repair it before appending".into(),
        ));
    };
    let line = match body.iter().rposition(|&b| b == b'\n') {
        Some(newline) => &body[newline + 1..],
        None if window == len => body,
        None => {
            return Err(StoreError::Corrupt(
                "the audit file's last line is too long".into(),
            ));
        }
    };
    let record: LastRecord = serde_json::from_slice(line).map_err(|e| {
        StoreError::Corrupt(format!("the audit file's last record does not parse: {e}"))
    })?;
    let hash = hex::decode(&record.hash)
        .map_err(|e| StoreError::Corrupt(format!("the audit file's last hash is not hex: {e}")))?;
    Ok((record.seq, hash_from_slice(&hash)?))
}

#[cfg(test)]
mod tests {
    use soc2_core::KeyId;
    use time::macros::datetime;

    use super::*;
    use crate::{Actor, AuditEvent, Outcome, SdkAction};

    fn keys() -> KeyRing {
        KeyRing::single(KeyId::new("k").unwrap(), [5; 32])
    }

    fn event() -> AuditEvent {
        AuditEvent::new(
            SdkAction::SessionCreated,
            Outcome::Success,
            Actor::System,
            datetime!(2026-05-01 12:00 UTC),
        )
    }

    fn records(text: &str) -> Vec<serde_json::Value> {
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn chain_continues_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let sink = JsonlFileSink::open(&path, &keys(), FsyncPolicy::EveryBatch)
            .await
            .unwrap();
        sink.append_events(&[event(), event()]).await.unwrap();
        drop(sink);
        let sink = JsonlFileSink::open(&path, &keys(), FsyncPolicy::Never)
            .await
            .unwrap();
        sink.append_events(&[event()]).await.unwrap();

        let lines = records(&std::fs::read_to_string(&path).unwrap());
        let seqs: Vec<_> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(lines[0]["prev_hash"], "0".repeat(64));
        assert_eq!(lines[2]["prev_hash"], lines[1]["hash"]);
        assert_eq!(lines[2]["event"]["action"], "session.created");
        let chainer = Chainer::new(&keys());
        let prev: ChainHash =
            hash_from_slice(&hex::decode(lines[1]["hash"].as_str().unwrap()).unwrap()).unwrap();
        // The embedded event is the exact body that was hashed.
        #[derive(Deserialize)]
        struct Raw {
            event: Box<serde_json::value::RawValue>,
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let raw: Raw = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
        let body = raw.event.get();
        assert_eq!(
            hex::encode(chainer.event_mac("k", &prev, body).unwrap()),
            lines[2]["hash"]
        );
    }

    #[tokio::test]
    async fn incomplete_last_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"seq\":1,\"hash\":\"00").unwrap();
        let error = JsonlFileSink::open(&path, &keys(), FsyncPolicy::Never)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Corrupt(message) if message.contains("incomplete")));
    }
}
