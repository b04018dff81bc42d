//! The set of files a build produces, and publishing it to the output
//! folder.
//!
//! A failed build never touches the folder, and a rebuild writes only
//! files whose bytes changed and removes files the previous build wrote
//! that are gone now: deleting and rewriting a 10,000-file folder costs
//! seconds, comparing hashes costs milliseconds. A manifest of what we wrote
//! is how we know which files are ours; we never delete anything else.
//!
//! The [`Publisher`] takes files while pages are still rendering, so a big
//! site is never held in memory whole:
//! - into a folder that does not exist yet, every file goes straight into a
//!   staging folder beside it, renamed into place once the build succeeded;
//! - into an existing folder, unchanged files are dropped at once, changed
//!   ones are held in memory up to [`HOLD_BUDGET`] and appended to one spill
//!   file inside it beyond that, then written over the old files at the end.
//!   Old files are overwritten in place, never replaced: on ext4, freeing
//!   10,000 inodes or blocks and allocating new ones cost seconds of system
//!   time, and more on every rebuild after it.
//!
//! The manifest also records each page's render key (a hash of everything
//! its template saw), so a rebuild can skip rendering pages whose inputs did
//! not change at all.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::diagnostics::{Diagnostic, Failure};

pub const MANIFEST: &str = ".trustcard-manifest";
const MANIFEST_HEADER_V1: &str = "# files written by trustcard; do not edit";
const MANIFEST_HEADER: &str =
    "# files written by trustcard (content hash, render key, size, path); do not edit";
/// Inside an existing output folder: changed files beyond the memory budget.
const SPILL: &str = ".trustcard-staging";
/// How many bytes of changed files a rebuild holds in memory before it
/// spills the rest to disk. Spilled bytes are read back from the page
/// cache, so holding more buys little: on the 10k site with every page
/// changed, 32 MiB rebuilt as fast as 64 MiB and peaked ~40 MiB lower.
pub const HOLD_BUDGET: usize = 32 << 20;

/// Files by output path. Bytes are shared, so the dev server can carry an
/// unchanged page from one build to the next without copying it, and
/// comparing two builds skips shared pages by pointer.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    files: BTreeMap<String, Arc<Vec<u8>>>,
}

impl Output {
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) {
        self.files.insert(path, Arc::new(bytes));
    }

    pub fn insert_shared(&mut self, path: String, bytes: Arc<Vec<u8>>) {
        self.files.insert(path, bytes);
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|bytes| bytes.as_slice())
    }

    pub fn get_shared(&self, path: &str) -> Option<&Arc<Vec<u8>>> {
        self.files.get(path)
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

    pub fn into_files(self) -> impl Iterator<Item = (String, Vec<u8>)> {
        self.files
            .into_iter()
            .map(|(path, bytes)| (path, Arc::unwrap_or_clone(bytes)))
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PublishStats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Which trustcard binary is running: its size and modification time.
/// What a build keeps for the next one (render keys, parsed events) is only
/// valid for the binary that made it, since a rebuilt trustcard may derive
/// different output from the same inputs without changing its version.
pub fn binary_stamp() -> Option<(u64, u128)> {
    let exe = std::env::current_exe().and_then(std::fs::metadata).ok()?;
    let modified = exe
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((exe.len(), modified.as_nanos()))
}

/// The hash the manifest records: xxh3, whose values, unlike std's
/// `DefaultHasher`, are the same across Rust releases, and which hashes
/// hundreds of megabytes in milliseconds.
pub fn content_hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
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

/// What the manifest knows about one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    hash: u64,
    /// The page's render key, if it had one.
    key: Option<u64>,
    size: u64,
}

/// Parses a manifest; `None` when there is none or it is damaged. A
/// manifest from before render keys (v1) has no keys or sizes and, its
/// hashes being of another kind, matches nothing: every file is rewritten
/// once, and still only files listed in it are ever removed.
fn read_manifest(dir: &Path) -> Option<FxHashMap<String, Option<Entry>>> {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let mut lines = text.lines();
    let v2 = match lines.next()? {
        MANIFEST_HEADER => true,
        MANIFEST_HEADER_V1 => false,
        _ => return None,
    };
    let mut entries = FxHashMap::default();
    for line in lines.filter(|l| !l.starts_with('#') && !l.is_empty()) {
        if v2 {
            let mut parts = line.splitn(4, ' ');
            let hash = u64::from_str_radix(parts.next()?, 16).ok()?;
            let key = match parts.next()? {
                "-" => None,
                key => Some(u64::from_str_radix(key, 16).ok()?),
            };
            let size = parts.next()?.parse().ok()?;
            entries.insert(parts.next()?.to_string(), Some(Entry { hash, key, size }));
        } else {
            let (_, path) = line.split_once(' ')?;
            entries.insert(path.to_string(), None);
        }
    }
    Some(entries)
}

/// Where a changed file waits until the build is known to have succeeded.
#[derive(Debug)]
enum Change {
    Unchanged,
    Held(Vec<u8>),
    /// Written under the staging folder, same relative path.
    Staged,
    /// Written into the spill file at this offset.
    Spilled(u64),
}

#[derive(Debug)]
struct Record {
    path: String,
    entry: Entry,
    change: Change,
}

#[derive(Debug)]
enum Target {
    /// The output folder did not exist: everything is written into
    /// `staging`, which becomes the output folder in one rename.
    Fresh {
        staging: PathBuf,
        /// Ancestors of the output folder this build created, removed again
        /// if it fails.
        created: Vec<PathBuf>,
    },
    /// The output folder exists; changed files beyond the memory budget go
    /// into the file `spill` inside it.
    Existing { spill: PathBuf },
}

/// Takes the files of one build as they are rendered, from any thread, and
/// publishes them in [`Publisher::commit`]. Dropped without a commit (a
/// failed build), it removes everything it staged.
#[derive(Debug)]
pub struct Publisher {
    dir: PathBuf,
    target: Target,
    previous: FxHashMap<String, Option<Entry>>,
    records: Mutex<Vec<Record>>,
    held: AtomicUsize,
    /// The spill file, made when the first file is spilled, and its length.
    spill_file: Mutex<Option<(File, u64)>>,
    /// Bytes of changed files to hold before spilling ([`HOLD_BUDGET`]).
    budget: usize,
    committed: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a Vec of records
    // inconsistent, so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn create_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    }
}

impl Publisher {
    /// Checks the output folder and prepares to publish into it.
    pub fn open(dir: &Path, force: bool) -> Result<Publisher, Failure> {
        let mut previous = FxHashMap::default();
        let target = if dir.exists() {
            if !dir.is_dir() {
                return Err(Diagnostic::error(format!(
                    "output path {} is a file, not a folder",
                    dir.display()
                ))
                .with_hint("remove it or choose another --output")
                .into());
            }
            let spill = dir.join(SPILL);
            match read_manifest(dir) {
                Some(manifest) => previous = manifest,
                None => {
                    let mut entries =
                        std::fs::read_dir(dir).map_err(|e| io_error(dir, "read", e))?;
                    if entries.next().is_some() && !force {
                        return Err(Diagnostic::error(format!(
                            "output folder {} is not empty and was not written by trustcard",
                            dir.display()
                        ))
                        .with_hint("empty it, choose another --output, or pass --force to write into it anyway")
                        .into());
                    }
                }
            }
            // Left by a build that was killed: ours by its name.
            // (a folder, in earlier releases: one file per spilled page).
            let left = match std::fs::symlink_metadata(&spill) {
                Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&spill),
                Ok(_) => std::fs::remove_file(&spill),
                Err(_) => Ok(()),
            };
            left.map_err(|e| io_error(&spill, "remove", e))?;
            Target::Existing { spill }
        } else {
            let name = dir
                .file_name()
                .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
            let staging = dir.with_file_name(format!(".{name}.trustcard-staging"));
            let mut created = Vec::new();
            let mut ancestor = dir.parent();
            while let Some(folder) = ancestor {
                if folder.as_os_str().is_empty() || folder.exists() {
                    break;
                }
                created.push(folder.to_path_buf());
                ancestor = folder.parent();
            }
            if staging.exists() {
                std::fs::remove_dir_all(&staging).map_err(|e| io_error(&staging, "remove", e))?;
            }
            std::fs::create_dir_all(&staging).map_err(|e| io_error(&staging, "create", e))?;
            Target::Fresh { staging, created }
        };
        Ok(Publisher {
            dir: dir.to_path_buf(),
            target,
            previous,
            records: Mutex::new(Vec::new()),
            held: AtomicUsize::new(0),
            spill_file: Mutex::new(None),
            budget: HOLD_BUDGET,
            committed: false,
        })
    }

    /// Where a file kept beside the output (a cache, not a page: the
    /// manifest never lists it) is written while the build runs: a fresh
    /// output's staging folder, which the commit renames into place and a
    /// failed build removes, or else the output folder itself, where the
    /// caller gives it a temporary name and removes it if the build fails.
    pub fn side_folder(&self) -> &Path {
        match &self.target {
            Target::Fresh { staging, .. } => staging,
            Target::Existing { .. } => &self.dir,
        }
    }

    /// Whether the file at `path`, whose inputs hash to `key`, is already
    /// in the folder from a build with the same inputs. If so it counts as
    /// published unchanged and need not be rendered at all.
    pub fn reuse(&self, path: &str, key: u64) -> bool {
        let Some(Some(entry)) = self.previous.get(path) else {
            return false;
        };
        let on_disk = std::fs::metadata(self.dir.join(path)).map(|m| m.len()).ok();
        if entry.key != Some(key) || on_disk != Some(entry.size) {
            return false;
        }
        lock(&self.records).push(Record {
            path: path.to_string(),
            entry: *entry,
            change: Change::Unchanged,
        });
        true
    }

    /// Takes one file. Unchanged bytes are dropped at once; changed ones are
    /// staged or held until [`Publisher::commit`].
    pub fn put(&self, path: String, bytes: Vec<u8>, key: Option<u64>) -> Result<(), Failure> {
        if !is_contained(&path) {
            return Err(Diagnostic::error(format!(
                "refusing to write `{path}` outside the output folder"
            ))
            .into());
        }
        let entry = Entry {
            hash: content_hash(&bytes),
            key,
            size: bytes.len() as u64,
        };
        let change = match &self.target {
            Target::Fresh { staging, .. } => {
                stage(staging, &path, &bytes)?;
                Change::Staged
            }
            Target::Existing { spill } => {
                let same = self.previous.get(&path).is_some_and(|old| {
                    old.is_some_and(|old| old.hash == entry.hash && old.size == entry.size)
                }) && std::fs::metadata(self.dir.join(&path))
                    .map(|m| m.len())
                    .ok()
                    == Some(entry.size);
                if same {
                    Change::Unchanged
                } else if self.held.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len()
                    <= self.budget
                {
                    Change::Held(bytes)
                } else {
                    self.held.fetch_sub(bytes.len(), Ordering::Relaxed);
                    let offset = self
                        .with_spill_file(spill, |file, end| {
                            let offset = *end;
                            file.write_all(&bytes)?;
                            *end += entry.size;
                            Ok(offset)
                        })
                        .map_err(|e| io_error(spill, "write", e))?;
                    Change::Spilled(offset)
                }
            }
        };
        lock(&self.records).push(Record {
            path,
            entry,
            change,
        });
        Ok(())
    }

    /// Runs `use_file` on the spill file (made on first use) and its
    /// length, holding it: writes append, reads seek.
    fn with_spill_file<T>(
        &self,
        spill: &Path,
        use_file: impl FnOnce(&mut File, &mut u64) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        let mut slot = lock(&self.spill_file);
        let open = match slot.take() {
            Some(open) => open,
            None => {
                let file = File::options()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(spill)?;
                (file, 0)
            }
        };
        let (file, end) = slot.insert(open);
        use_file(file, end)
    }

    /// Moves everything into place, removes what the previous build wrote
    /// that is gone now, and records the new manifest.
    pub fn commit(mut self) -> Result<PublishStats, Failure> {
        let mut records = std::mem::take(&mut *lock(&self.records));
        records.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        if let Some(pair) = records.windows(2).find(|pair| pair[0].path == pair[1].path) {
            return Err(Diagnostic::error(format!(
                "two files would be written to `{}`",
                pair[0].path
            ))
            .into());
        }
        let dir = self.dir.clone();
        let mut stats = PublishStats::default();
        let manifest = manifest_text(&records);
        match &self.target {
            Target::Fresh { staging, .. } => {
                write_manifest(staging, &manifest)?;
                std::fs::rename(staging, &dir).map_err(|e| io_error(&dir, "create", e))?;
                stats.written = records.len();
            }
            Target::Existing { spill } => {
                let changed: Vec<&Record> = records
                    .iter()
                    .filter(|r| !matches!(r.change, Change::Unchanged))
                    .collect();
                stats.written = changed.len();
                stats.unchanged = records.len() - changed.len();
                changed.par_iter().try_for_each(|record| {
                    let target = dir.join(&record.path);
                    let bytes = match &record.change {
                        Change::Held(bytes) => std::borrow::Cow::Borrowed(bytes.as_slice()),
                        Change::Spilled(offset) => {
                            let mut bytes = vec![0; record.entry.size as usize];
                            self.with_spill_file(spill, |file, _| {
                                file.seek(SeekFrom::Start(*offset))?;
                                file.read_exact(&mut bytes)
                            })
                            .map_err(|e| io_error(spill, "read", e))?;
                            std::borrow::Cow::Owned(bytes)
                        }
                        Change::Staged | Change::Unchanged => return Ok(()),
                    };
                    with_parent(&target, || overwrite(&target, &bytes))
                        .map_err(|e| io_error(&target, "write", e))
                })?;
                if lock(&self.spill_file).take().is_some() {
                    std::fs::remove_file(spill).map_err(|e| io_error(spill, "remove", e))?;
                }
                let current: FxHashSet<&str> = records.iter().map(|r| r.path.as_str()).collect();
                stats.removed = remove_stale(&dir, &self.previous, &current)?;
                write_manifest(&dir, &manifest)?;
            }
        }
        self.committed = true;
        Ok(stats)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        match &self.target {
            Target::Fresh { staging, created } => {
                let _ = std::fs::remove_dir_all(staging);
                for folder in created {
                    let _ = std::fs::remove_dir(folder);
                }
            }
            Target::Existing { spill } => {
                if lock(&self.spill_file).take().is_some() {
                    let _ = std::fs::remove_file(spill);
                }
            }
        }
    }
}

/// Writes `bytes` over the file at `target` in place. Truncating first
/// would free its blocks only to allocate new ones, which ext4 makes slow.
fn overwrite(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(target)?;
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)
}

/// Runs `write`, and if a folder on the way to `target` is missing, makes
/// it and runs `write` once more. In a rebuild nearly every folder exists,
/// and making sure first cost a system call per file.
fn with_parent(target: &Path, write: impl Fn() -> std::io::Result<()>) -> std::io::Result<()> {
    match write() {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            create_parent(target)?;
            write()
        }
        done => done,
    }
}

fn stage(folder: &Path, path: &str, bytes: &[u8]) -> Result<(), Failure> {
    let target = folder.join(path);
    create_parent(&target)
        .and_then(|()| std::fs::write(&target, bytes))
        .map_err(|e| io_error(&target, "write", e))
}

fn manifest_text(records: &[Record]) -> String {
    use std::fmt::Write as _;
    let mut manifest = String::with_capacity(64 * records.len() + 100);
    manifest.push_str(MANIFEST_HEADER);
    manifest.push('\n');
    for record in records {
        let Entry { hash, key, size } = record.entry;
        let _ = match key {
            Some(key) => writeln!(manifest, "{hash:016x} {key:016x} {size} {}", record.path),
            None => writeln!(manifest, "{hash:016x} - {size} {}", record.path),
        };
    }
    manifest
}

fn write_manifest(dir: &Path, manifest: &str) -> Result<(), Failure> {
    let temp = dir.join(format!("{MANIFEST}.tmp"));
    let mut file = std::fs::File::create(&temp).map_err(|e| io_error(&temp, "write", e))?;
    file.write_all(manifest.as_bytes())
        .map_err(|e| io_error(&temp, "write", e))?;
    drop(file);
    std::fs::rename(&temp, dir.join(MANIFEST)).map_err(|e| io_error(&temp, "rename", e))
}

/// Removes files the previous build wrote that this one did not, then the
/// folders that left empty. Returns how many files went.
fn remove_stale(
    dir: &Path,
    previous: &FxHashMap<String, Option<Entry>>,
    current: &FxHashSet<&str>,
) -> Result<usize, Failure> {
    let mut removed = 0;
    let mut emptied: BTreeSet<PathBuf> = BTreeSet::new();
    let mut stale: Vec<&String> = previous
        .keys()
        .filter(|old| !current.contains(old.as_str()) && is_contained(old))
        .collect();
    stale.sort();
    for old in stale {
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
    Ok(removed)
}

/// Writes `output` into `dir`, touching only what changed.
pub fn publish(output: &Output, dir: &Path, force: bool) -> Result<PublishStats, Failure> {
    if let Some(bad) = output.paths().find(|p| !is_contained(p)) {
        return Err(Diagnostic::error(format!(
            "refusing to write `{bad}` outside the output folder"
        ))
        .into());
    }
    let publisher = Publisher::open(dir, force)?;
    output
        .files
        .par_iter()
        .try_for_each(|(path, bytes)| publisher.put(path.clone(), bytes.to_vec(), None))?;
    publisher.commit()
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

    fn files_in(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let path = e
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (path, std::fs::read_to_string(e.path()).unwrap_or_default())
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_failed_build_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deep/public");
        let publisher = Publisher::open(&out, false).unwrap();
        publisher
            .put("a/index.html".into(), b"A".to_vec(), None)
            .unwrap();
        drop(publisher);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no output, no staging folder, no created parent"
        );

        publish(
            &output(&[("a/index.html", "A"), ("b.txt", "B")]),
            &out,
            false,
        )
        .unwrap();
        let before = files_in(&out);
        for budget in [0, HOLD_BUDGET] {
            let mut publisher = Publisher::open(&out, false).unwrap();
            publisher.budget = budget;
            publisher
                .put("a/index.html".into(), b"changed".to_vec(), None)
                .unwrap();
            publisher
                .put("c/new.html".into(), b"new".to_vec(), None)
                .unwrap();
            drop(publisher);
            assert_eq!(files_in(&out), before, "budget {budget}");
            assert!(!out.join(SPILL).exists());
        }
    }

    #[test]
    fn spilled_files_are_moved_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        publish(
            &output(&[("a/index.html", "A"), ("old.txt", "O")]),
            &out,
            false,
        )
        .unwrap();
        let mut publisher = Publisher::open(&out, false).unwrap();
        publisher.budget = 3;
        for (path, text) in [
            ("a/index.html", "AA"),
            ("b/c/index.html", "BC"),
            ("d.txt", "D"),
        ] {
            publisher
                .put(path.into(), text.as_bytes().to_vec(), None)
                .unwrap();
        }
        assert_eq!(
            std::fs::read(out.join(SPILL)).unwrap(),
            b"BC",
            "the one spilled page, in the spill file"
        );
        let stats = publisher.commit().unwrap();
        assert_eq!(
            stats,
            PublishStats {
                written: 3,
                unchanged: 0,
                removed: 1
            }
        );
        let files: Vec<(String, String)> = files_in(&out)
            .into_iter()
            .filter(|(path, _)| path != MANIFEST)
            .collect();
        let expected = [
            ("a/index.html", "AA"),
            ("b/c/index.html", "BC"),
            ("d.txt", "D"),
        ]
        .map(|(p, t)| (p.to_string(), t.to_string()));
        assert_eq!(files, expected);
        assert!(!out.join(SPILL).exists());
    }

    #[test]
    fn a_rebuild_remakes_folders_removed_since_the_last_build() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        publish(
            &output(&[("a/index.html", "A"), ("b/c/index.html", "B")]),
            &out,
            false,
        )
        .unwrap();
        std::fs::remove_dir_all(out.join("a")).unwrap();
        std::fs::remove_dir_all(out.join("b")).unwrap();
        for budget in [0, HOLD_BUDGET] {
            let mut publisher = Publisher::open(&out, false).unwrap();
            publisher.budget = budget;
            let text = format!("{budget}");
            for path in ["a/index.html", "b/c/index.html"] {
                publisher
                    .put(path.into(), text.clone().into_bytes(), None)
                    .unwrap();
            }
            publisher.commit().unwrap();
            let files: Vec<(String, String)> = files_in(&out)
                .into_iter()
                .filter(|(path, _)| path != MANIFEST)
                .collect();
            let expected =
                ["a/index.html", "b/c/index.html"].map(|p| (p.to_string(), text.clone()));
            assert_eq!(files, expected, "budget {budget}");
            std::fs::remove_dir_all(out.join("b/c")).unwrap();
        }
    }

    #[test]
    fn pages_with_the_same_render_key_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let publisher = Publisher::open(&out, false).unwrap();
        publisher
            .put("p/index.html".into(), b"page".to_vec(), Some(7))
            .unwrap();
        publisher.commit().unwrap();

        let publisher = Publisher::open(&out, false).unwrap();
        assert!(!publisher.reuse("p/index.html", 8), "another key");
        assert!(!publisher.reuse("q/index.html", 7), "another page");
        assert!(publisher.reuse("p/index.html", 7));
        let stats = publisher.commit().unwrap();
        assert_eq!(stats.unchanged, 1);
        assert_eq!(
            std::fs::read_to_string(out.join("p/index.html")).unwrap(),
            "page"
        );

        // A file changed behind our back is rendered again.
        std::fs::write(out.join("p/index.html"), "edited by hand").unwrap();
        let publisher = Publisher::open(&out, false).unwrap();
        assert!(!publisher.reuse("p/index.html", 7));
    }

    #[test]
    fn a_manifest_from_before_render_keys_still_works() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        std::fs::create_dir_all(out.join("gone")).unwrap();
        std::fs::write(out.join("a.html"), "A").unwrap();
        std::fs::write(out.join("gone/index.html"), "G").unwrap();
        std::fs::write(
            out.join(MANIFEST),
            format!(
                "{MANIFEST_HEADER_V1}\n0123456789abcdef a.html\n0123456789abcdef gone/index.html\n"
            ),
        )
        .unwrap();
        let stats = publish(&output(&[("a.html", "A")]), &out, false).unwrap();
        assert_eq!((stats.written, stats.removed), (1, 1));
        assert!(!out.join("gone").exists());
        assert!(
            std::fs::read_to_string(out.join(MANIFEST))
                .unwrap()
                .starts_with(MANIFEST_HEADER)
        );
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
