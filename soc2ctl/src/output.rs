//! Where reports go: standard output, or a file given with `--output`.

use std::io::Write;
use std::path::Path;

use crate::Failure;

/// A buffered writer on a new file at `path`, or on standard output.
pub(crate) fn open(path: Option<&Path>) -> Result<Box<dyn Write + Send>, Failure> {
    Ok(match path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::config(format!("cannot create {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

/// Writes `text` to a new file at `path`, or to standard output.
pub(crate) fn write(path: Option<&Path>, text: &str) -> Result<(), Failure> {
    let mut out = open(path)?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| {
            let target = path.map_or_else(|| "standard output".into(), |p| p.display().to_string());
            Failure::config(format!("cannot write {target}: {e}"))
        })
}
