//! An offline copy of the Have I Been Pwned password corpus, searched in place.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use zeroize::Zeroizing;

use super::{BreachedCheckError, BreachedPasswordCheck, NormalizedPassword};

/// The longest valid line, `HEXSHA1:COUNT\r\n` with a 20-digit count, rounded up.
const MAX_LINE: usize = 64;

type Sha1 = [u8; 20];

/// The Have I Been Pwned "Pwned Passwords" corpus as downloaded (SHA-1, ordered by hash):
/// one `UPPERHEXSHA1:COUNT` line per password, LF or CRLF line ends.
///
/// Each lookup opens the file and binary-searches it by byte offset, reading about 128 bytes
/// per step (some 30 reads for the full corpus); the file is never loaded into memory, and
/// replacing it (by rename) takes effect at the next lookup. The reads run on tokio's
/// blocking pool. A file that is not sorted by hash makes lookups miss; one that is truncated
/// or malformed where a lookup reads it gives [`BreachedCheckError::Corrupt`].
///
/// The corpus hashes passwords as typed; this hashes the NFKC form, which is the same for
/// every password without compatibility characters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct HibpFile {
    path: PathBuf,
    min_count: u64,
}

impl HibpFile {
    /// Opens `path`, checking that it is not empty and that its first and last lines parse
    /// (which catches most truncated downloads).
    ///
    /// # Errors
    /// [`BreachedCheckError::Io`] when the file cannot be read, [`BreachedCheckError::Corrupt`]
    /// when it is empty or malformed at either end.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, BreachedCheckError> {
        let path = path.into();
        let mut corpus = Corpus::open(&path)?;
        if corpus.len == 0 {
            return Err(corpus.corrupt(0, "the file is empty"));
        }
        // The first line, then the last: the line starting in the final MAX_LINE bytes.
        corpus.probe(0)?;
        let mut at = corpus.len.saturating_sub(MAX_LINE as u64);
        loop {
            match corpus.probe(at)? {
                Some(line) if line.next < corpus.len => at = line.next,
                Some(_) => return Ok(Self { path, min_count: 1 }),
                // No line starts in the final MAX_LINE bytes: the last one is too long.
                None => return Err(corpus.corrupt(at, "line too long")),
            }
        }
    }

    /// Treats passwords seen fewer than `min_count` times as not breached (default 1: any
    /// appearance counts).
    pub fn with_min_count(mut self, min_count: u64) -> Self {
        self.min_count = min_count;
        self
    }

    /// The file searched.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait::async_trait]
impl BreachedPasswordCheck for HibpFile {
    async fn breach_count(
        &self,
        password: &NormalizedPassword,
    ) -> Result<Option<u64>, BreachedCheckError> {
        let mut hash = Zeroizing::new([0u8; 20]);
        hash.copy_from_slice(digest(&SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes()).as_ref());
        let path = self.path.clone();
        let lookup = move || Corpus::open(&path)?.find(&hash);
        let count = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(lookup)
                .await
                .map_err(|_| BreachedCheckError::Task)??,
            // Outside a tokio runtime there is no blocking pool: read in place.
            Err(_) => lookup()?,
        };
        Ok(count.filter(|count| *count >= self.min_count))
    }
}

/// An open corpus file.
struct Corpus<'a> {
    path: &'a Path,
    file: File,
    len: u64,
}

/// A line read from the corpus.
struct Line {
    start: u64,
    next: u64,
    hash: Sha1,
    count: u64,
}

impl<'a> Corpus<'a> {
    fn open(path: &'a Path) -> Result<Self, BreachedCheckError> {
        let io = |source| BreachedCheckError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(Self { path, file, len })
    }

    fn corrupt(&self, offset: u64, reason: &'static str) -> BreachedCheckError {
        BreachedCheckError::Corrupt {
            path: self.path.to_owned(),
            offset,
            reason,
        }
    }

    /// Binary search over byte offsets. `lo` is always the start of a line whose predecessors
    /// all hash lower than `hash`, and no line starting at or after `hi` can match; every step
    /// raises `lo` or lowers `hi`, so the loop ends even on an unsorted file.
    fn find(mut self, hash: &Sha1) -> Result<Option<u64>, BreachedCheckError> {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.probe(mid)? {
                Some(line) if line.start < hi => match line.hash.cmp(hash) {
                    Ordering::Less => lo = line.next,
                    Ordering::Equal => return Ok(Some(line.count)),
                    Ordering::Greater => hi = line.start,
                },
                _ => hi = mid,
            }
        }
        Ok(None)
    }

    /// The first line starting at or after `at`, or `None` when no line starts there.
    fn probe(&mut self, at: u64) -> Result<Option<Line>, BreachedCheckError> {
        // Read from the byte before `at`, so that a line starting exactly at `at` is seen
        // after the newline ending its predecessor.
        let base = at.saturating_sub(1);
        let mut buf = [0u8; 2 * MAX_LINE];
        let read = self.read_at(base, &mut buf)?;
        let data = &buf[..read];
        let at_eof = base + read as u64 >= self.len;
        let skip = if at == 0 {
            0
        } else {
            match data.iter().take(MAX_LINE).position(|b| *b == b'\n') {
                Some(newline) => newline + 1,
                None if at_eof => return Ok(None),
                None => return Err(self.corrupt(base, "line too long")),
            }
        };
        let start = base + skip as u64;
        if start >= self.len {
            return Ok(None);
        }
        let rest = &data[skip..];
        let (text, next) = match rest.iter().position(|b| *b == b'\n') {
            Some(end) => (&rest[..end], start + end as u64 + 1),
            None if at_eof => (rest, self.len),
            None => return Err(self.corrupt(start, "line too long")),
        };
        let (hash, count) = parse(text).ok_or_else(|| self.corrupt(start, "not HEXSHA1:COUNT"))?;
        Ok(Some(Line {
            start,
            next,
            hash,
            count,
        }))
    }

    /// Fills `buf` from `offset` on, short only at the end of the file.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, BreachedCheckError> {
        let io = |source| BreachedCheckError::Io {
            path: self.path.to_owned(),
            source,
        };
        self.file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut filled = 0;
        while filled < buf.len() {
            match self.file.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(filled)
    }
}

/// Parses `HEXSHA1:COUNT`, with an optional trailing CR.
fn parse(line: &[u8]) -> Option<(Sha1, u64)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (hex, count) = (line.get(..40)?, line.get(40..)?.strip_prefix(b":")?);
    let mut hash = [0u8; 20];
    hex::decode_to_slice(hex, &mut hash).ok()?;
    if count.is_empty() || !count.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let count = std::str::from_utf8(count).ok()?.parse().ok()?;
    Some((hash, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_in_either_case_and_line_end() {
        let line = b"000000005AD76BD555C1D6D771DE417A4B87E4B4:10\r";
        let (hash, count) = parse(line).unwrap();
        assert_eq!(hash[4], 0x5a);
        assert_eq!(count, 10);
        assert!(parse(b"000000005ad76bd555c1d6d771de417a4b87e4b4:3").is_some());
        for bad in [
            &b""[..],
            b"000000005AD76BD555C1D6D771DE417A4B87E4B4",
            b"000000005AD76BD555C1D6D771DE417A4B87E4B4:",
            b"000000005AD76BD555C1D6D771DE417A4B87E4B4:+1",
            b"000000005AD76BD555C1D6D771DE417A4B87E4B4:99999999999999999999",
            b"000000005AD76BD555C1D6D771DE417A4B87E4BX:1",
            b"000000005AD76BD555C1D6D771DE417A4B87E4B:12",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
