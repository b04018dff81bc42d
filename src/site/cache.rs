//! What one site load keeps for the next (the dev server's rebuilds):
//! parsed briefs by file stamp, and the event log by everything it was
//! read from. Nothing here decides what a load produces; it only lets
//! [`Site::load_cached`](super::Site::load_cached) skip work whose inputs
//! are provably the same, so a cached load equals a fresh one.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustc_hash::{FxHashMap, FxHashSet};
use xxhash_rust::xxh3::Xxh3;

use crate::content::Brief;
use crate::content::markdown::MarkdownOptions;
use crate::diagnostics::Diagnostics;
use crate::events::{EventLog, EventSource};

/// How old a file's modification time must be before its stamp is trusted.
/// File systems keep coarse times (a kernel tick, two seconds on FAT), so
/// two saves close together can leave the same time and size; a file
/// changed that recently is read again every time until it is older.
const RACY: Duration = Duration::from_secs(3);

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: SystemTime,
    len: u64,
    /// A save by rename gives the file a new inode even when the time and
    /// size come out the same.
    #[cfg(unix)]
    inode: u64,
}

impl Stamp {
    /// The file's stamp, or `None` when it cannot be read or changed too
    /// recently (before `trusted_before`) to be told apart from its next
    /// version.
    pub fn of(path: &Path, trusted_before: SystemTime) -> Option<Stamp> {
        let metadata = std::fs::metadata(path).ok()?;
        let modified = metadata.modified().ok()?;
        if modified >= trusted_before {
            return None;
        }
        Some(Stamp {
            modified,
            len: metadata.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&metadata),
        })
    }

    /// The cut-off for stamps taken now.
    pub fn cutoff() -> SystemTime {
        SystemTime::now()
            .checked_sub(RACY)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// One brief as its file last parsed, problems included.
#[derive(Debug)]
pub(super) struct CachedBrief {
    pub stamp: Stamp,
    pub brief: Option<Arc<Brief>>,
    pub diagnostics: Diagnostics,
}

/// Everything an event log was read from. Event rows name briefs by their
/// position in the sorted brief list, are checked against their dates and
/// draft flags, and intern their names after the briefs' names, so all of
/// that is part of the key, not just the files.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EventsKey {
    pub sources: Vec<EventSource>,
    pub files: Vec<(PathBuf, Stamp)>,
    pub briefs: u128,
}

/// The event sources and their files' stamps as bytes, for a copy of the
/// events kept on disk between runs (which adds what else it needs, the
/// briefs' fingerprint last): equal bytes mean equal sources and files.
/// `None` for a file time before 1970, which is not worth encoding.
pub(super) fn files_bytes(sources: &[EventSource], files: &[(PathBuf, Stamp)]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let text = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    out.extend_from_slice(&(sources.len() as u64).to_le_bytes());
    for source in sources {
        text(&mut out, source.pattern.as_bytes());
        let line = source.line.map_or(u64::MAX, |line| line as u64);
        out.extend_from_slice(&line.to_le_bytes());
    }
    out.extend_from_slice(&(files.len() as u64).to_le_bytes());
    for (path, stamp) in files {
        text(&mut out, path.as_os_str().as_encoded_bytes());
        let since = stamp.modified.duration_since(SystemTime::UNIX_EPOCH).ok()?;
        out.extend_from_slice(&since.as_secs().to_le_bytes());
        out.extend_from_slice(&since.subsec_nanos().to_le_bytes());
        out.extend_from_slice(&stamp.len.to_le_bytes());
        #[cfg(unix)]
        out.extend_from_slice(&stamp.inode.to_le_bytes());
    }
    Some(out)
}

#[derive(Debug)]
pub(super) struct CachedEvents {
    pub key: EventsKey,
    pub log: Arc<EventLog>,
    pub diagnostics: Diagnostics,
}

/// What the last load did, for the dev server's log and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Briefs read and parsed (the rest came from the cache).
    pub briefs_parsed: usize,
    /// Whether the event files were read.
    pub events_read: bool,
    /// Whether the briefs' folder was walked (rather than trusting a
    /// watcher's list of changes).
    pub walked: bool,
}

/// What the last walk of the briefs' folder found, when it found it
/// without errors.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// Every brief file, in load order.
    pub briefs: Vec<PathBuf>,
    pub known: FxHashSet<PathBuf>,
    /// The folders under the briefs' folder.
    pub dirs: FxHashSet<PathBuf>,
}

/// Kept by the caller between loads of one site folder.
#[derive(Debug, Default)]
pub struct LoadCache {
    pub(super) options: Option<MarkdownOptions>,
    pub(super) briefs: FxHashMap<PathBuf, CachedBrief>,
    pub(super) events: Option<CachedEvents>,
    pub(super) listing: Option<Listing>,
    /// The last load's briefs and their [`briefs_fingerprint`]: hashing
    /// 10,000 briefs on every load costs more than checking that they are
    /// the very same parsed briefs, or the same in what it hashes.
    pub(super) fingerprint: Option<(Vec<Arc<Brief>>, u128)>,
    /// The files a watcher saw change since the last load, relative to
    /// the root with `/`; `None` when that is not known.
    pub(super) changed: Option<Vec<String>>,
    pub(super) stats: LoadStats,
}

impl LoadCache {
    pub fn new() -> LoadCache {
        LoadCache::default()
    }

    /// Forgets everything: the next load reads every file.
    pub fn clear(&mut self) {
        *self = LoadCache::default();
    }

    pub fn stats(&self) -> LoadStats {
        self.stats
    }

    /// Tells the next load which files changed since the last one (paths
    /// relative to the root, with `/`), as a file watcher saw them; `None`
    /// when that is not known (the watcher failed or lost events). With a
    /// list, the next load need not look at briefs it does not name: see
    /// [`changed_briefs`] for when the list is trusted.
    pub fn changed_since_last_load(&mut self, paths: Option<&[String]>) {
        self.changed = paths.map(<[String]>::to_vec);
    }
}

/// The briefs to read again, given the files a watcher saw change since
/// the last walk found `listing`; `None` when the folder must be walked
/// again. The list is trusted only when it shows nothing but edits to
/// briefs already known: a new brief, a deleted one, or any change to a
/// folder (a rename or removal moves files without naming them) means a
/// walk. Other files are not briefs, so their changes do not matter here.
pub(super) fn changed_briefs(
    root: &Path,
    listing: &Listing,
    changed: &[String],
) -> Option<FxHashSet<PathBuf>> {
    let dir = super::HANDOFFS_DIR;
    let mut briefs = FxHashSet::default();
    for relative in changed {
        let inside = relative
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'));
        if !inside {
            // The briefs' folder or one above it.
            if dir == relative || dir.starts_with(&format!("{relative}/")) {
                return None;
            }
            continue;
        }
        let path = root.join(relative);
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_file() => {
                if !super::is_brief_name(&path) {
                    continue;
                }
                if !listing.known.contains(&path) {
                    return None;
                }
                briefs.insert(path);
            }
            Ok(_) => return None,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if listing.known.contains(&path) || listing.dirs.contains(&path) {
                    return None;
                }
                // Never a brief or folder the last walk saw: a temporary
                // file, or a folder made and removed since, with nothing
                // in it now.
            }
            Err(_) => return None,
        }
    }
    Some(briefs)
}

/// [`briefs_fingerprint`], from `cache` when `briefs` are, one by one, the
/// very briefs it was computed from or the same in all it hashes.
pub(super) fn cached_fingerprint(cache: &mut LoadCache, briefs: &[Arc<Brief>]) -> u128 {
    let fingerprint = match &cache.fingerprint {
        Some((old, fingerprint))
            if old.len() == briefs.len()
                && old.iter().zip(briefs).all(|(old, new)| {
                    Arc::ptr_eq(old, new) || same_fingerprint_inputs(old, new)
                }) =>
        {
            *fingerprint
        }
        _ => briefs_fingerprint(briefs),
    };
    cache.fingerprint = Some((briefs.to_vec(), fingerprint));
    fingerprint
}

/// Whether [`briefs_fingerprint`] sees the two briefs as the same.
fn same_fingerprint_inputs(a: &Brief, b: &Brief) -> bool {
    let (a, b) = (&a.handoff, &b.handoff);
    a.id == b.id
        && a.date == b.date
        && a.draft == b.draft
        && a.seller == b.seller
        && a.account == b.account
        && a.partner == b.partner
}

/// A hash of what event validation and name interning see of the briefs,
/// in list order. What it reads of each brief must be what
/// [`same_fingerprint_inputs`] compares.
pub(super) fn briefs_fingerprint(briefs: &[Arc<Brief>]) -> u128 {
    let mut hasher = Xxh3::new();
    let text = |hasher: &mut Xxh3, value: &str| {
        hasher.write_u64(value.len() as u64);
        hasher.write(value.as_bytes());
    };
    hasher.write_u64(briefs.len() as u64);
    for brief in briefs {
        let handoff = &brief.handoff;
        text(&mut hasher, &handoff.id);
        match handoff.date {
            Some(date) => {
                hasher.write_u8(1);
                hasher.write_i16(date.year());
                hasher.write_i8(date.month());
                hasher.write_i8(date.day());
            }
            None => hasher.write_u8(0),
        }
        hasher.write_u8(u8::from(handoff.draft));
        text(&mut hasher, &handoff.seller);
        text(&mut hasher, &handoff.account);
        text(&mut hasher, &handoff.partner);
    }
    hasher.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives the file a fixed, old modification time.
    fn set_old(path: &Path) {
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        file.set_modified(time).expect("set mtime");
    }

    /// Loads `root` with `cache` and returns what was read afresh.
    fn load(root: &Path, cache: &mut LoadCache) -> (bool, LoadStats) {
        let ok = crate::site::Site::load_cached(root, cache).is_ok();
        (ok, cache.stats())
    }

    fn write_old(path: &Path, text: &str, n: u64) {
        std::fs::write(path, text).expect("write");
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000 + n);
        file.set_modified(time).expect("set mtime");
    }

    #[test]
    fn only_changed_files_are_read_again() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let handoffs = root.join("content/handoffs");
        std::fs::create_dir_all(&handoffs).expect("mkdir");
        let read = |name: &str| std::fs::read_to_string(fixture.join(name)).expect("read fixture");
        write_old(&root.join("site.toml"), &read("site.toml"), 0);
        write_old(
            &root.join("content/events.csv"),
            &read("content/events.csv"),
            0,
        );
        let acme = read("content/handoffs/acme-datadog.md");
        for name in [
            "acme-datadog.md",
            "globex.md",
            "initech.md",
            "wip.md",
            "Zoë Deal.md",
        ] {
            write_old(
                &handoffs.join(name),
                &read(&format!("content/handoffs/{name}")),
                0,
            );
        }
        let mut cache = LoadCache::new();
        let parsed = |briefs_parsed, events_read| LoadStats {
            briefs_parsed,
            events_read,
            walked: true,
        };
        assert_eq!(load(root, &mut cache), (true, parsed(5, true)));
        assert_eq!(load(root, &mut cache), (true, parsed(0, false)));

        // Its notes changed, not what the events are checked against.
        let edited = acme.replacen("+++\n", "+++\n\n", 2);
        assert_ne!(edited, acme);
        write_old(&handoffs.join("acme-datadog.md"), &edited, 1);
        assert_eq!(load(root, &mut cache), (true, parsed(1, false)));

        // A new brief moves the others in the list the events point into.
        write_old(&handoffs.join("aaa.md"), &acme, 2);
        assert_eq!(load(root, &mut cache), (true, parsed(1, true)));
        std::fs::remove_file(handoffs.join("aaa.md")).expect("remove");
        assert_eq!(load(root, &mut cache), (true, parsed(0, true)));
        assert_eq!(load(root, &mut cache), (true, parsed(0, false)));

        // A broken brief is read every time until it is fixed.
        let broken = acme.replacen("date = ", "date = x", 1);
        write_old(&handoffs.join("acme-datadog.md"), &broken, 3);
        assert!(!load(root, &mut cache).0);
        assert_eq!(load(root, &mut cache).1.briefs_parsed, 1);
        write_old(&handoffs.join("acme-datadog.md"), &acme, 4);
        assert_eq!(load(root, &mut cache), (true, parsed(1, true)));
        assert_eq!(load(root, &mut cache), (true, parsed(0, false)));

        // The event file's time alone is a change.
        write_old(
            &root.join("content/events.csv"),
            &read("content/events.csv"),
            5,
        );
        assert_eq!(load(root, &mut cache), (true, parsed(0, true)));
    }

    #[test]
    fn a_watchers_list_is_trusted_only_for_edits_to_known_briefs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let handoffs = root.join("content/handoffs");
        std::fs::create_dir_all(handoffs.join("old")).expect("mkdir");
        for name in ["a.md", "b.md", "_index.md", "logo.png"] {
            std::fs::write(handoffs.join(name), "x").expect("write");
        }
        std::fs::create_dir_all(handoffs.join("new")).expect("mkdir");
        std::fs::write(handoffs.join("c.md"), "x").expect("write");
        let listing = Listing {
            briefs: vec![handoffs.join("a.md"), handoffs.join("b.md")],
            known: [
                handoffs.join("a.md"),
                handoffs.join("b.md"),
                handoffs.join("gone.md"),
            ]
            .into_iter()
            .collect(),
            dirs: [handoffs.clone(), handoffs.join("old"), handoffs.join("was")]
                .into_iter()
                .collect(),
        };
        let check = |changed: &[&str]| {
            let changed: Vec<String> = changed.iter().map(|s| s.to_string()).collect();
            changed_briefs(root, &listing, &changed).map(|briefs| {
                let mut names: Vec<String> = briefs
                    .iter()
                    .map(|path| {
                        path.strip_prefix(&handoffs)
                            .expect("inside")
                            .display()
                            .to_string()
                    })
                    .collect();
                names.sort();
                names
            })
        };
        let trusted = |names: &[&str]| Some(names.iter().map(|s| s.to_string()).collect());
        assert_eq!(check(&[]), trusted(&[]));
        assert_eq!(check(&["content/handoffs/a.md"]), trusted(&["a.md"]));
        // Not briefs, or not under the briefs' folder.
        assert_eq!(
            check(&[
                "content/handoffs/b.md",
                "content/handoffs/_index.md",
                "content/handoffs/logo.png",
                "content/handoffs/.b.md.tmp",
                "content/events.csv",
                "content/faq/a.md",
                "content/handoffsx/a.md",
                "templates/a.html",
                "site.toml",
            ]),
            trusted(&["b.md"])
        );
        for walk in [
            // A new brief, a deleted one.
            "content/handoffs/c.md",
            "content/handoffs/gone.md",
            // Folders, there or gone, and the folders above.
            "content/handoffs/new",
            "content/handoffs/old",
            "content/handoffs/was",
            "content/handoffs",
            "content",
        ] {
            assert_eq!(check(&["content/handoffs/a.md", walk]), None, "{walk}");
        }
    }

    #[test]
    fn stamps_tell_versions_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.md");
        std::fs::write(&path, "one").expect("write");
        // Just written: too recent to trust.
        assert_eq!(Stamp::of(&path, Stamp::cutoff()), None);
        set_old(&path);
        let first = Stamp::of(&path, Stamp::cutoff()).expect("old enough");
        assert_eq!(Stamp::of(&path, Stamp::cutoff()), Some(first));
        // Same size, same time, but rewritten by rename: a new inode.
        let temp = dir.path().join("a.md.tmp");
        std::fs::write(&temp, "two").expect("write");
        std::fs::rename(&temp, &path).expect("rename");
        set_old(&path);
        let renamed = Stamp::of(&path, Stamp::cutoff()).expect("old enough");
        #[cfg(unix)]
        assert_ne!(renamed, first);
        // Same inode, new size.
        std::fs::write(&path, "three").expect("write");
        set_old(&path);
        assert_ne!(Stamp::of(&path, Stamp::cutoff()), Some(renamed));
        assert_eq!(
            Stamp::of(&dir.path().join("gone.md"), Stamp::cutoff()),
            None
        );
    }
}
