//! The set of files a build produces, and publishing it to the output
//! folder.
//!
//! Everything is rendered into memory first, so a failed build never
//! touches the folder. Publishing then writes only files whose bytes
//! changed and removes files the previous build wrote that are gone now:
//! deleting and rewriting a 10,000-file folder costs seconds, comparing
//! hashes costs milliseconds. A manifest of what we wrote is how we know
//! which files are ours; we never delete anything else.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Failure};

pub const MANIFEST: &str = ".trustcard-manifest";
const MANIFEST_HEADER: &str = "# files written by trustcard; do not edit";

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    files: BTreeMap<String, Vec<u8>>,
}

impl Output {
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) {
        self.files.insert(path, bytes);
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn html_paths(&self) -> Vec<String> {
        self.files
            .keys()
            .filter(|p| p.ends_with(".html"))
            .cloned()
            .collect()
    }

    pub fn page_count(&self) -> usize {
        self.files.keys().filter(|p| p.ends_with(".html")).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PublishStats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

fn content_hash(bytes: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// A path inside the output folder: relative, no `..`, no root.
fn is_contained(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn io_error(path: &Path, action: &str, error: std::io::Error) -> Failure {
    Diagnostic::error(format!("cannot {action} {}: {error}", path.display())).into()
}

/// Refuses output folders that would overwrite the site itself.
pub fn check_output_dir(root: &Path, output_dir: &Path) -> Result<(), Failure> {
    let absolute = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let mut normal = PathBuf::new();
        for component in p.components() {
            match component {
                Component::ParentDir => {
                    normal.pop();
                }
                Component::CurDir => {}
                other => normal.push(other),
            }
        }
        // Resolve symlinks in the part that exists so they compare truly.
        let mut existing = normal.clone();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (
                existing.file_name().map(|n| n.to_os_string()),
                existing.parent(),
            ) {
                (Some(name), Some(parent)) => {
                    rest.push(name);
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut resolved = existing.canonicalize().unwrap_or(existing);
        for name in rest.into_iter().rev() {
            resolved.push(name);
        }
        resolved
    };
    let root = absolute(root);
    let out = absolute(output_dir);
    let refuse = |why: &str| -> Result<(), Failure> {
        Err(Diagnostic::error(format!(
            "refusing to build into {}: {why}",
            output_dir.display()
        ))
        .with_hint(
            "choose a separate folder such as `public` with --output or output_dir in site.toml",
        )
        .into())
    };
    if out.parent().is_none() {
        return refuse("it is the file system root");
    }
    if root.starts_with(&out) {
        return refuse("it is the site folder or contains it");
    }
    for protected in ["content", "templates", "static", "themes", "src", ".git"] {
        if out.starts_with(root.join(protected)) {
            return refuse(&format!("it is inside the site's {protected}/ folder"));
        }
    }
    Ok(())
}

fn read_manifest(dir: &Path) -> Option<BTreeMap<String, u64>> {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let mut entries = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (hash, path) = line.split_once(' ')?;
        entries.insert(path.to_string(), u64::from_str_radix(hash, 16).ok()?);
    }
    Some(entries)
}

/// Writes `output` into `dir`, touching only what changed.
pub fn publish(output: &Output, dir: &Path, force: bool) -> Result<PublishStats, Failure> {
    if let Some(bad) = output.paths().find(|p| !is_contained(p)) {
        return Err(Diagnostic::error(format!(
            "refusing to write `{bad}` outside the output folder"
        ))
        .into());
    }
    let previous = if dir.exists() {
        if !dir.is_dir() {
            return Err(Diagnostic::error(format!(
                "output path {} is a file, not a folder",
                dir.display()
            ))
            .with_hint("remove it or choose another --output")
            .into());
        }
        match read_manifest(dir) {
            Some(manifest) => manifest,
            None => {
                let mut entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, "read", e))?;
                if entries.next().is_some() && !force {
                    return Err(Diagnostic::error(format!(
                        "output folder {} is not empty and was not written by trustcard",
                        dir.display()
                    ))
                    .with_hint("empty it, choose another --output, or pass --force to write into it anyway")
                    .into());
                }
                BTreeMap::new()
            }
        }
    } else {
        BTreeMap::new()
    };

    let hashes: Vec<(&str, &[u8], u64)> = output
        .files
        .par_iter()
        .map(|(path, bytes)| (path.as_str(), bytes.as_slice(), content_hash(bytes)))
        .collect();

    let to_write: Vec<&(&str, &[u8], u64)> = hashes
        .iter()
        .filter(|(path, bytes, hash)| {
            previous.get(*path) != Some(hash)
                || std::fs::metadata(dir.join(path)).map(|m| m.len()).ok()
                    != Some(bytes.len() as u64)
        })
        .collect();

    let dirs: BTreeSet<PathBuf> = to_write
        .iter()
        .filter_map(|(path, _, _)| Path::new(path).parent().map(|p| dir.join(p)))
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "create", e))?;
    for folder in &dirs {
        std::fs::create_dir_all(folder).map_err(|e| io_error(folder, "create", e))?;
    }
    to_write
        .par_iter()
        .map(|(path, bytes, _)| {
            let target = dir.join(path);
            std::fs::write(&target, bytes).map_err(|e| io_error(&target, "write", e))
        })
        .collect::<Result<Vec<()>, Failure>>()?;

    let mut removed = 0;
    let mut emptied: BTreeSet<PathBuf> = BTreeSet::new();
    for old in previous.keys() {
        if output.files.contains_key(old) || !is_contained(old) {
            continue;
        }
        let target = dir.join(old);
        match std::fs::remove_file(&target) {
            Ok(()) => removed += 1,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error(&target, "remove", error)),
        }
        let mut parent = target.parent();
        while let Some(folder) = parent {
            if folder == dir {
                break;
            }
            emptied.insert(folder.to_path_buf());
            parent = folder.parent();
        }
    }
    // Deepest first, and only folders that are now empty: a user's file
    // in them keeps them.
    for folder in emptied.iter().rev() {
        let _ = std::fs::remove_dir(folder);
    }

    let mut manifest = String::from(MANIFEST_HEADER);
    manifest.push('\n');
    for (path, _, hash) in &hashes {
        manifest.push_str(&format!("{hash:016x} {path}\n"));
    }
    let temp = dir.join(format!("{MANIFEST}.tmp"));
    let mut file = std::fs::File::create(&temp).map_err(|e| io_error(&temp, "write", e))?;
    file.write_all(manifest.as_bytes())
        .map_err(|e| io_error(&temp, "write", e))?;
    drop(file);
    std::fs::rename(&temp, dir.join(MANIFEST)).map_err(|e| io_error(&temp, "rename", e))?;

    Ok(PublishStats {
        written: to_write.len(),
        unchanged: hashes.len() - to_write.len(),
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(files: &[(&str, &str)]) -> Output {
        let mut output = Output::default();
        for (path, text) in files {
            output.insert(path.to_string(), text.as_bytes().to_vec());
        }
        output
    }

    #[test]
    fn writes_only_changes_and_removes_what_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let first = publish(
            &output(&[("a/index.html", "A"), ("b/index.html", "B")]),
            &out,
            false,
        )
        .unwrap();
        assert_eq!(first.written, 2);
        let second = publish(
            &output(&[("a/index.html", "A"), ("c.txt", "C")]),
            &out,
            false,
        )
        .unwrap();
        assert_eq!(
            second,
            PublishStats {
                written: 1,
                unchanged: 1,
                removed: 1
            }
        );
        assert!(!out.join("b").exists(), "emptied folder is removed");
        assert_eq!(std::fs::read_to_string(out.join("c.txt")).unwrap(), "C");
    }

    #[test]
    fn refuses_a_folder_of_someone_elses_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.docx"), "precious").unwrap();
        let error = publish(&output(&[("index.html", "x")]), dir.path(), false).unwrap_err();
        assert!(
            error
                .0
                .iter()
                .next()
                .unwrap()
                .message
                .contains("not written by trustcard")
        );
        publish(&output(&[("index.html", "x")]), dir.path(), true).unwrap();
        // Forced, then later builds never delete the user's file.
        publish(&output(&[("other.html", "y")]), dir.path(), false).unwrap();
        assert!(dir.path().join("thesis.docx").exists());
        assert!(!dir.path().join("index.html").exists());
    }

    #[test]
    fn refuses_paths_that_escape() {
        let dir = tempfile::tempdir().unwrap();
        assert!(publish(&output(&[("../evil", "x")]), &dir.path().join("o"), false).is_err());
        assert!(publish(&output(&[("/etc/x", "x")]), &dir.path().join("o"), false).is_err());
    }

    #[test]
    fn refuses_the_site_or_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(check_output_dir(root, root).is_err());
        assert!(check_output_dir(root, root.parent().unwrap()).is_err());
        assert!(check_output_dir(root, &root.join("content/out")).is_err());
        assert!(check_output_dir(root, &root.join("public")).is_ok());
        assert!(check_output_dir(root, &root.join("public/../content")).is_err());
    }
}
