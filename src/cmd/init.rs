//! `trustcard init DIR`: a small working site to start from.

use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::diagnostics::{Diagnostic, Failure};

static STARTER: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/cmd/starter");

fn files(dir: &'static Dir<'static>, out: &mut Vec<(&'static Path, &'static [u8])>) {
    for file in dir.files() {
        out.push((file.path(), file.contents()));
    }
    for sub in dir.dirs() {
        files(sub, out);
    }
}

/// Creates the starter site in `dir`; refuses a folder with anything in it
/// so nobody's work is overwritten. Returns the number of files written.
pub fn run(dir: &Path) -> Result<usize, Failure> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(
                Diagnostic::error(format!("{} exists and is not a folder", dir.display())).into(),
            );
        }
        let mut entries = std::fs::read_dir(dir)
            .map_err(|e| Diagnostic::error(format!("cannot read {}: {e}", dir.display())))?;
        if entries.next().is_some() {
            return Err(Diagnostic::error(format!("{} is not empty", dir.display()))
                .with_hint("choose a new or empty folder: `trustcard init my-scorecard`")
                .into());
        }
    }
    let mut starter = Vec::new();
    files(&STARTER, &mut starter);
    for (path, bytes) in &starter {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Diagnostic::error(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        std::fs::write(&target, bytes)
            .map_err(|e| Diagnostic::error(format!("cannot write {}: {e}", target.display())))?;
    }
    Ok(starter.len())
}
