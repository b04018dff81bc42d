//! Loading a site folder: config, briefs, intro pages and events, with every
//! problem of every file collected before anything is computed.

mod cache;
mod load_events;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use walkdir::WalkDir;

use crate::config::Config;
use crate::content::Brief;
use crate::content::faq::{self, Faq};
use crate::content::markdown::{self, MarkdownOptions};
use crate::diagnostics::{Diagnostic, Diagnostics, Failure, display_path};
use crate::events::{EventLog, unknown_handoff};
use cache::{CachedBrief, Listing};
pub use cache::{LoadCache, LoadStats, Stamp};
use load_events::{
    CopyKey, Early, cached_events, event_stamps, read_ahead, read_events, stored_events,
};
pub use load_events::{EVENTS_CACHE, EventsFile, handoff_lookup};

pub const HANDOFFS_DIR: &str = "content/handoffs";

/// Everything read from a site folder, validated.
#[derive(Debug)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    /// Every brief, drafts included, sorted by source path. Shared with a
    /// [`LoadCache`], which hands unchanged briefs to the next load.
    pub briefs: Vec<Arc<Brief>>,
    /// Rendered `content/_index.md`, if any.
    pub home_intro: Option<String>,
    /// Rendered `content/handoffs/_index.md`, if any.
    pub handoffs_intro: Option<String>,
    /// All events, including those naming drafts; the model filters.
    pub events: Arc<EventLog>,
    pub faq: Faq,
    /// Warnings found while loading (errors make loading fail).
    pub warnings: Diagnostics,
    /// The on-disk copy of the events a build keeps between runs, when
    /// loaded with [`Site::load_for_build`].
    pub events_file: Option<EventsFile>,
}

impl Site {
    pub fn load(root: &Path) -> Result<Site, Failure> {
        Site::load_with(root, None, None)
    }

    /// Loads like [`Site::load`], taking the events from the copy at
    /// `events_file(&config)` when it was made from the very same inputs,
    /// by the rules of [`LoadCache`]. The site's
    /// [`events_file`](Site::events_file) says what to keep once the build
    /// succeeded.
    pub fn load_for_build(
        root: &Path,
        events_file: &dyn Fn(&Config) -> PathBuf,
    ) -> Result<Site, Failure> {
        Site::load_with(root, None, Some(events_file))
    }

    /// Loads like [`Site::load`], re-reading only the briefs and event
    /// files that changed since the last load with the same `cache`.
    pub fn load_cached(root: &Path, cache: &mut LoadCache) -> Result<Site, Failure> {
        Site::load_with(root, Some(cache), None)
    }

    fn load_with(
        root: &Path,
        mut cache: Option<&mut LoadCache>,
        events_file: Option<&dyn Fn(&Config) -> PathBuf>,
    ) -> Result<Site, Failure> {
        let laps = Laps::new();
        let (config, mut diagnostics) = Config::load_lenient(root);
        if !root.join(crate::config::CONFIG_FILE).is_file() {
            return Err(Failure(diagnostics));
        }
        let options = MarkdownOptions {
            allow_html: config.allow_html,
        };
        if let Some(cache) = cache.as_deref_mut() {
            if cache.options != Some(options) {
                cache.clear();
                cache.options = Some(options);
            }
            cache.stats = LoadStats::default();
        }
        let stored_path = events_file.map(|path| path(&config));
        // Outside the dev server, the events are read while the briefs load:
        // a build's copy from the last build if it was made from the same
        // files, else the files (see `events::unchecked`). On a large site,
        // both stages at once rather than one after the other.
        let (Briefs { briefs, failed }, early) = if cache.is_none() && !config.events.is_empty() {
            // Stamped before reading, as `events_key` does.
            let key = stored_path
                .as_ref()
                .and_then(|_| CopyKey::new(&config, event_stamps(root, &config.events)));
            let copy = stored_path.as_deref().zip(key.as_ref());
            let (briefs, ahead) = std::thread::scope(|scope| {
                let events = scope.spawn(|| read_ahead(root, &config.events, copy));
                let briefs = load_briefs(root, options, &mut diagnostics, None);
                laps.lap("load: briefs");
                let ahead = events
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (briefs, ahead)
            });
            (briefs, Some(Early { ahead, key }))
        } else {
            let briefs = load_briefs(root, options, &mut diagnostics, cache.as_deref_mut());
            laps.lap("load: briefs");
            (briefs, None)
        };
        check_unique_ids(&briefs, &mut diagnostics);
        let home_intro = load_intro(root, "content/_index.md", options, &mut diagnostics);
        let handoffs_intro = load_intro(
            root,
            "content/handoffs/_index.md",
            options,
            &mut diagnostics,
        );

        let mut stored = None;
        let events = match (cache, stored_path) {
            (Some(cache), _) => cached_events(root, &config, &briefs, cache, &mut diagnostics),
            (None, Some(path)) => {
                let (log, file) =
                    stored_events(root, &config, &briefs, path, early, &mut diagnostics);
                stored = Some(file);
                log
            }
            (None, None) => {
                let unchecked = early.and_then(|early| early.ahead.into_unchecked());
                Arc::new(read_events(
                    root,
                    &config,
                    &briefs,
                    unchecked,
                    &mut diagnostics,
                ))
            }
        };
        if stored.as_ref().is_some_and(EventsFile::used) {
            laps.lap("load: events (from cache)");
        } else {
            laps.lap("load: events");
        }
        forget_cascades(&failed, &mut diagnostics);
        let faq = faq::load(root, options, &mut diagnostics);

        let diagnostics = diagnostics.sorted();
        if diagnostics.has_errors() {
            return Err(Failure(diagnostics));
        }
        Ok(Site {
            root: root.to_path_buf(),
            config,
            briefs,
            home_intro,
            handoffs_intro,
            events,
            faq,
            warnings: diagnostics,
            events_file: stored,
        })
    }
}

/// Stage timings on stderr when `TRUSTCARD_TIMINGS` is set.
pub struct Laps {
    started: Option<std::time::Instant>,
}

impl Laps {
    pub fn new() -> Laps {
        Laps {
            started: std::env::var_os("TRUSTCARD_TIMINGS").map(|_| std::time::Instant::now()),
        }
    }

    /// Prints the wall time since the start, and on Linux the process's
    /// CPU time so far (on a busy machine that is the steadier figure) and
    /// its peak memory so far, which shows what each stage adds.
    pub fn lap(&self, stage: &str) {
        if let Some(started) = self.started {
            let cpu = cpu_ms()
                .map(|ms| format!(" (cpu {ms} ms)"))
                .unwrap_or_default();
            let peak = peak_mib()
                .map(|mib| format!(" (peak {mib} MiB)"))
                .unwrap_or_default();
            eprintln!("{stage}: {} ms{cpu}{peak}", started.elapsed().as_millis());
        }
    }
}

/// Peak resident memory of this process, from /proc/self/status.
fn peak_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// User plus system CPU time of this process, from /proc/self/stat.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(ticks * 10)
}

impl Default for Laps {
    fn default() -> Laps {
        Laps::new()
    }
}

/// The briefs that parsed, and the ids of those that did not.
#[derive(Default)]
struct Briefs {
    briefs: Vec<Arc<Brief>>,
    failed: Vec<String>,
}

/// Parses every brief, or with a cache only those whose file changed:
/// unchanged ones come back as they were, warnings included, and files
/// that are gone leave the cache.
fn load_briefs(
    root: &Path,
    options: MarkdownOptions,
    diagnostics: &mut Diagnostics,
    mut cache: Option<&mut LoadCache>,
) -> Briefs {
    // Taken whatever happens: a list of changes is good for one load.
    let changed = cache.as_deref_mut().and_then(|cache| cache.changed.take());
    let dir = root.join(HANDOFFS_DIR);
    if !dir.is_dir() {
        if let Some(cache) = cache {
            cache.briefs.clear();
            cache.listing = None;
        }
        return Briefs::default();
    }
    // With a watcher's list of changes that can be trusted, the briefs are
    // the ones the last walk found, and only those named are looked at:
    // on a large site, walking the folder and stamping every brief is
    // most of a rebuild after one save.
    let hinted = match (&cache, changed) {
        (Some(cache), Some(changed)) => cache.listing.as_ref().and_then(|listing| {
            cache::changed_briefs(root, listing, &changed)
                .map(|briefs| (listing.briefs.clone(), briefs))
        }),
        _ => None,
    };
    let (paths, changed) = match hinted {
        Some((paths, changed)) => (paths, Some(changed)),
        None => {
            let (listing, complete) = walk_briefs(root, &dir, diagnostics);
            let paths = listing.briefs.clone();
            if let Some(cache) = cache.as_deref_mut() {
                cache.listing = Some(listing).filter(|_| complete);
                cache.stats.walked = true;
            }
            (paths, None)
        }
    };
    let cutoff = Stamp::cutoff();
    let cached = cache.as_deref();
    let parsed: Vec<Loaded> = paths
        .par_iter()
        .map(|path| {
            // A file the watcher names is read even if its stamp looks the
            // same (a tool that restores modification times).
            let named = changed.as_ref().map(|changed| changed.contains(path));
            if let (Some(cache), Some(false)) = (cached, named)
                && let Some(hit) = cache.briefs.get(path)
            {
                return Loaded {
                    brief: hit.brief.clone(),
                    diagnostics: hit.diagnostics.clone(),
                    stamp: Some(hit.stamp),
                    parsed: false,
                    failed_id: None,
                };
            }
            // Stamped before reading, so a save during the read leaves a
            // stamp that no longer matches.
            let stamp = cached.and_then(|_| Stamp::of(path, cutoff));
            if let (Some(cache), Some(stamp), None | Some(false)) = (cached, stamp, named)
                && let Some(hit) = cache.briefs.get(path)
                && hit.stamp == stamp
            {
                return Loaded {
                    brief: hit.brief.clone(),
                    diagnostics: hit.diagnostics.clone(),
                    stamp: Some(stamp),
                    parsed: false,
                    failed_id: None,
                };
            }
            let (brief, diagnostics) = parse_brief(root, path, options);
            let (brief, failed_id) = match brief {
                Ok(brief) => (Some(Arc::new(brief)), None),
                Err(id) => (None, Some(id)),
            };
            Loaded {
                brief,
                diagnostics,
                stamp,
                parsed: true,
                failed_id,
            }
        })
        .collect();
    let mut briefs = Vec::with_capacity(parsed.len());
    // Only a cached load keeps stamps, and then nearly every brief is kept:
    // grown from empty, the map rehashed its way up to 10k entries on
    // every rebuild of the server.
    let kept = if cache.is_some() { parsed.len() } else { 0 };
    let mut fresh = FxHashMap::with_capacity_and_hasher(kept, Default::default());
    let mut parsed_count = 0;
    let mut failed = Vec::new();
    for (path, loaded) in paths.into_iter().zip(parsed) {
        let Loaded {
            brief,
            diagnostics: local,
            stamp,
            parsed,
            failed_id,
        } = loaded;
        failed.extend(failed_id);
        parsed_count += usize::from(parsed);
        // A brief with errors is read again next time: it is about to be
        // fixed, and a file that could not be read may become readable
        // without its stamp changing (`chmod`).
        if let Some(stamp) = stamp.filter(|_| !local.has_errors()) {
            fresh.insert(
                path,
                CachedBrief {
                    stamp,
                    brief: brief.clone(),
                    diagnostics: local.clone(),
                },
            );
        }
        diagnostics.extend(local);
        briefs.extend(brief);
    }
    if let Some(cache) = cache {
        cache.briefs = fresh;
        cache.stats.briefs_parsed = parsed_count;
    }
    Briefs { briefs, failed }
}

/// Whether a file at `path` is a brief (rather than an intro page or an
/// attachment).
fn is_brief_name(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "md")
        && path
            .file_name()
            .is_some_and(|name| !name.to_string_lossy().starts_with('_'))
}

/// Every brief file under `dir`, in load order, and the folders there,
/// and whether the walk saw everything (its failures are reported in
/// `diagnostics`).
fn walk_briefs(root: &Path, dir: &Path, diagnostics: &mut Diagnostics) -> (Listing, bool) {
    let mut listing = Listing::default();
    let mut complete = true;
    for entry in WalkDir::new(dir).sort_by_file_name() {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                if entry.file_type().is_dir() {
                    listing.dirs.insert(path.to_path_buf());
                } else if entry.file_type().is_file() && is_brief_name(path) {
                    listing.known.insert(path.to_path_buf());
                    listing.briefs.push(path.to_path_buf());
                }
            }
            Err(error) => {
                complete = false;
                let file = error
                    .path()
                    .map_or_else(|| HANDOFFS_DIR.to_string(), |p| display_path(root, p));
                diagnostics.push(Diagnostic::error(format!("cannot read: {error}")).in_file(file));
            }
        }
    }
    (listing, complete)
}

/// One brief file's outcome, parsed now or taken from the cache.
struct Loaded {
    brief: Option<Arc<Brief>>,
    diagnostics: Diagnostics,
    /// `None` when the file is not to be cached.
    stamp: Option<Stamp>,
    parsed: bool,
    /// The id a brief that failed to parse claims.
    failed_id: Option<String>,
}

/// Drops the events' "unknown handoff" errors that name a brief which
/// failed to parse: that brief's own error is the one to fix, and the
/// events are fine once it is.
fn forget_cascades(failed: &[String], diagnostics: &mut Diagnostics) {
    if failed.is_empty() {
        return;
    }
    let echoes: HashSet<String> = failed.iter().map(|id| unknown_handoff(id)).collect();
    diagnostics.retain(|diagnostic| !echoes.contains(&diagnostic.message));
}

/// One brief file parsed: the brief, or the id it claims if it failed.
fn parse_brief(
    root: &Path,
    path: &Path,
    options: MarkdownOptions,
) -> (Result<Brief, String>, Diagnostics) {
    let mut local = Diagnostics::new();
    let file = display_path(root, path);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let brief = match std::fs::read_to_string(path) {
        Ok(text) => Brief::parse(&file, &stem, &text, options, &mut local)
            .ok_or_else(|| Brief::claimed_id(&stem, &text)),
        Err(error) => {
            local.push(
                Diagnostic::error(format!("cannot read this brief: {error}"))
                    .in_file(file)
                    .with_hint("briefs must be UTF-8 text files"),
            );
            Err(Brief::default_id(&stem))
        }
    };
    (brief, local)
}

fn check_unique_ids(briefs: &[Arc<Brief>], diagnostics: &mut Diagnostics) {
    let mut first_seen: HashMap<&str, &Arc<Brief>> = HashMap::new();
    for brief in briefs {
        if let Some(first) = first_seen.get(brief.handoff.id.as_str()) {
            diagnostics.push(
                Diagnostic::error(format!(
                    "duplicate id `{}`: {} has it too",
                    brief.handoff.id, first.source
                ))
                .in_file(&brief.source)
                .at(brief.id_position)
                .with_hint("give one of them its own `id = \"…\"` or rename the file"),
            );
        } else {
            first_seen.insert(&brief.handoff.id, brief);
        }
    }
}

fn load_intro(
    root: &Path,
    relative: &str,
    options: MarkdownOptions,
    diagnostics: &mut Diagnostics,
) -> Option<String> {
    let path = root.join(relative);
    if !path.is_file() {
        return None;
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            diagnostics.push(Diagnostic::error(format!("cannot read: {error}")).in_file(relative));
            return None;
        }
    };
    match crate::content::front_matter::split(relative, &text, false) {
        Ok(split) => Some(markdown::render(split.body, options, "intro-").html),
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            None
        }
    }
}
