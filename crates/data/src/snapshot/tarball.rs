//! A snapshot as one tar stream (`--out -`, `--snapshot -`), for `| aws s3 cp - s3://…` and
//! back. The dump writes the directory first (masked rows only, so nothing unmasked touches the
//! disk) and streams it; the restore unpacks the stream into a temporary directory, accepting
//! regular files and directories with plain relative names only, then checks it like any
//! snapshot directory (a cut or changed stream fails the manifest's checks).

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{DataError, Result};
use crate::snapshot::manifest::safe_path;

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DataError + 'a {
    move |source| DataError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

/// Writes the snapshot directory `dir` as a tar stream.
pub fn pack(dir: &Path, out: impl Write) -> Result<()> {
    let mut b = tar::Builder::new(out);
    b.mode(tar::HeaderMode::Deterministic);
    let mut files = Vec::new();
    for top in std::fs::read_dir(dir).map_err(io("listing", dir))? {
        let top = top.map_err(io("listing", dir))?;
        let name = top.file_name().to_string_lossy().into_owned();
        if top.path().is_dir() {
            let sub = top.path();
            for f in std::fs::read_dir(&sub).map_err(io("listing", &sub))? {
                let f = f.map_err(io("listing", &sub))?;
                files.push(format!("{name}/{}", f.file_name().to_string_lossy()));
            }
        } else {
            files.push(name);
        }
    }
    files.sort();
    for rel in files {
        let p = dir.join(&rel);
        b.append_path_with_name(&p, &rel)
            .map_err(io("adding to the tar stream", &p))?;
    }
    b.into_inner()
        .and_then(|mut w| w.flush())
        .map_err(io("finishing the tar stream of", dir))
}

/// Unpacks a tar stream into the (empty) directory `dir`.
pub fn unpack(input: impl Read, dir: &Path) -> Result<()> {
    let shown = "the tar stream on standard input";
    let bad = |reason: String| DataError::Snapshot {
        path: shown.into(),
        reason,
    };
    let mut a = tar::Archive::new(input);
    let entries = a
        .entries()
        .map_err(|e| bad(format!("not a tar stream ({e})")))?;
    for e in entries {
        let mut e = e.map_err(|e| bad(format!("a tar entry cannot be read ({e})")))?;
        let rel = e
            .path()
            .map_err(|e| bad(format!("a tar entry's name cannot be read ({e})")))?
            .to_string_lossy()
            .trim_end_matches('/')
            .to_owned();
        let target = safe_path(dir, &rel)?;
        match e.header().entry_type() {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target).map_err(io("creating", &target))?;
            }
            tar::EntryType::Regular => {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
                }
                let mut f = std::fs::File::create(&target).map_err(io("creating", &target))?;
                std::io::copy(&mut e, &mut f).map_err(|e| {
                    bad(format!("{rel}: the stream ended or failed inside it ({e})"))
                })?;
            }
            other => {
                return Err(bad(format!(
                    "{rel} is a {other:?} entry; a snapshot holds regular files only"
                )));
            }
        }
    }
    Ok(())
}

/// A new private directory under `$TMPDIR` for a streamed snapshot (mode 0700 on Unix: it
/// holds masked rows only, but they are still staging's data).
pub fn scratch_dir(what: &str) -> Result<std::path::PathBuf> {
    let p = std::env::temp_dir().join(format!(
        "prodlike-{what}-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(&p).map_err(io("creating", &p))?;
    Ok(p)
}
