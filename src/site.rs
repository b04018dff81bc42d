//! Loading a site folder: config, briefs, intro pages and events, with every
//! problem of every file collected before anything is computed.

mod cache;

use std::collections::HashMap;
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
use crate::events::unchecked::Unchecked;
use crate::events::{self, EventLog, HandoffRef, Names};
use cache::{CachedBrief, CachedEvents, EventsKey, Listing};
pub use cache::{LoadCache, LoadStats, Stamp};

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

/// The name of a build's copy of its parsed events, in the output folder:
/// it lives and dies with the output it was built with.
pub const EVENTS_CACHE: &str = ".trustcard-cache";
/// Its name until the build that wrote it succeeded.
const EVENTS_CACHE_TEMP: &str = ".trustcard-cache.tmp";

/// A build's copy of its parsed events on disk, and what the load did
/// with it.
#[derive(Debug)]
pub struct EventsFile {
    path: PathBuf,
    state: EventsFileState,
}

#[derive(Debug)]
enum EventsFileState {
    /// The events came from the file.
    Used,
    /// The events were parsed, cleanly, under this key.
    Save(Vec<u8>),
    /// The events were parsed and are not to be kept: they had
    /// diagnostics (which only a real parse may produce), or an event
    /// file changed too recently for its stamp to be trusted.
    Discard,
}

impl EventsFile {
    /// Whether the load took the events from the file.
    pub fn used(&self) -> bool {
        matches!(self.state, EventsFileState::Used)
    }

    /// Writes the copy of `log` to keep, if any, under a temporary name in
    /// `folder`, the output's [side folder](crate::output::Publisher::side_folder):
    /// it runs beside rendering, so the build's serial tail does not encode
    /// and write tens of megabytes. True when there is a copy for
    /// [`EventsFile::finish`] to move into place. Best effort: a copy that
    /// could not be written only costs the next build a parse.
    pub fn write(&self, log: &EventLog, folder: &Path) -> bool {
        let EventsFileState::Save(key) = &self.state else {
            return false;
        };
        let temp = folder.join(EVENTS_CACHE_TEMP);
        let written = std::fs::File::create(&temp)
            .and_then(|mut file| events::store::write(log, key, &mut file));
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written.is_ok()
    }

    /// Once the build succeeded, so a failed build leaves the output folder
    /// as it was: moves the copy [`EventsFile::write`] made (now beside
    /// `path`, the commit having moved the side folder's files) into place,
    /// or removes a copy that no longer applies.
    pub fn finish(&self, written: bool) {
        let temp = self.path.with_file_name(EVENTS_CACHE_TEMP);
        match &self.state {
            EventsFileState::Used => {}
            EventsFileState::Save(_) if written => {
                if std::fs::rename(&temp, &self.path).is_err() {
                    let _ = std::fs::remove_file(&temp);
                    let _ = std::fs::remove_file(&self.path);
                }
            }
            EventsFileState::Save(_) | EventsFileState::Discard => {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }

    /// After a failed build: removes what [`EventsFile::write`] left in
    /// `folder`.
    pub fn abandon(&self, folder: &Path) {
        if matches!(self.state, EventsFileState::Save(_)) {
            let _ = std::fs::remove_file(folder.join(EVENTS_CACHE_TEMP));
        }
    }
}

/// What the event reader needs of the briefs: each handoff id's index, date
/// and draft flag. Public so the benchmarks read events as a load does.
pub fn handoff_lookup<B: std::borrow::Borrow<Brief>>(
    briefs: &[B],
) -> HashMap<&str, HandoffRef, rustc_hash::FxBuildHasher> {
    briefs
        .iter()
        .enumerate()
        .map(|(index, brief)| {
            let brief: &Brief = brief.borrow();
            (
                brief.handoff.id.as_str(),
                HandoffRef {
                    index: index as u32,
                    date: brief.handoff.date,
                    draft: brief.handoff.draft,
                },
            )
        })
        .collect()
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
        // Without a copy of the events that could hold, they are read while
        // the briefs load (see `events::unchecked`): on a cold build of a
        // large site, both stages at once rather than one after the other.
        let early = cache.is_none()
            && !config.events.is_empty()
            && stored_path.as_deref().is_none_or(|path| !path.exists());
        let (briefs, early) = if early {
            // Stamped before reading, as `events_key` does.
            let stamps = event_stamps(root, &config.events);
            let (briefs, unchecked) = std::thread::scope(|scope| {
                let events = scope.spawn(|| read_early(root, &config.events));
                let briefs = load_briefs(root, options, &mut diagnostics, None);
                laps.lap("load: briefs");
                let unchecked = events
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (briefs, unchecked)
            });
            (briefs, Some(Early { unchecked, stamps }))
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
                let unchecked = early.map(|early| early.unchecked);
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

/// Events read while the briefs loaded, and their files' stamps from
/// before (`None` when one changed too recently to be trusted).
struct Early {
    unchecked: Unchecked,
    stamps: Option<Vec<(PathBuf, Stamp)>>,
}

/// Reads the events for [`Early`], on a thread pool of their own: in the
/// pool the briefs load in, their tasks would wait for every brief's.
fn read_early(root: &Path, sources: &[events::EventSource]) -> Unchecked {
    let read = || events::unchecked::read(root, sources);
    match rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .build()
    {
        Ok(pool) => pool.install(read),
        Err(_) => read(),
    }
}

/// Reads the events, checked against `briefs`, or finishes those read
/// while the briefs loaded: the same log and diagnostics either way.
fn read_events(
    root: &Path,
    config: &Config,
    briefs: &[Arc<Brief>],
    unchecked: Option<Unchecked>,
    diagnostics: &mut Diagnostics,
) -> EventLog {
    let lookup = handoff_lookup(briefs);
    if let Some(unchecked) = unchecked
        && let Some((log, local)) = unchecked.check(&lookup, brief_names(briefs))
    {
        diagnostics.extend(local);
        return log;
    }
    events::read_events(
        root,
        &config.events,
        &lookup,
        brief_names(briefs),
        diagnostics,
    )
}

/// The names of the briefs, interned before the events' own.
fn brief_names(briefs: &[Arc<Brief>]) -> Names {
    let mut names = Names::default();
    for brief in briefs {
        names.intern(&brief.handoff.seller);
        names.intern(&brief.handoff.account);
        names.intern(&brief.handoff.partner);
    }
    names
}

/// The events from `cache` if nothing they were read from changed, else
/// read afresh (and kept, unless they had errors).
fn cached_events(
    root: &Path,
    config: &Config,
    briefs: &[Arc<Brief>],
    cache: &mut LoadCache,
    diagnostics: &mut Diagnostics,
) -> Arc<EventLog> {
    let fingerprint = cache::cached_fingerprint(cache, briefs);
    let key = events_key(root, &config.events, fingerprint);
    if let Some(cached) = &cache.events
        && key.as_ref() == Some(&cached.key)
    {
        diagnostics.extend(cached.diagnostics.clone());
        return Arc::clone(&cached.log);
    }
    let mut local = Diagnostics::new();
    let log = Arc::new(read_events(root, config, briefs, None, &mut local));
    cache.stats.events_read = true;
    // As with briefs, a log with errors is not kept.
    cache.events = key.filter(|_| !local.has_errors()).map(|key| CachedEvents {
        key,
        log: Arc::clone(&log),
        diagnostics: local.clone(),
    });
    diagnostics.extend(local);
    log
}

/// The events from the copy at `path` if it was made from the same inputs
/// (the key [`cached_events`] checks), else read afresh, or finished if
/// read `early`, when there was no copy.
fn stored_events(
    root: &Path,
    config: &Config,
    briefs: &[Arc<Brief>],
    path: PathBuf,
    early: Option<Early>,
    diagnostics: &mut Diagnostics,
) -> (Arc<EventLog>, EventsFile) {
    let fingerprint = cache::briefs_fingerprint(briefs);
    let (key, unchecked) = match early {
        Some(Early { unchecked, stamps }) => {
            let key = stamps.map(|files| EventsKey {
                sources: config.events.clone(),
                files,
                briefs: fingerprint,
            });
            (key, Some(unchecked))
        }
        None => (events_key(root, &config.events, fingerprint), None),
    };
    // The in-memory key, plus the binary: a copy made by another build of
    // trustcard may have parsed the same file differently.
    let key = key
        .and_then(|key| key.to_bytes())
        .zip(crate::output::binary_stamp())
        .map(|(mut key, (size, modified))| {
            key.extend_from_slice(&size.to_le_bytes());
            key.extend_from_slice(&modified.to_le_bytes());
            key
        });
    if unchecked.is_none()
        && let Some(key) = &key
        && let Ok(bytes) = std::fs::read(&path)
        && let Some(log) = events::store::decode(&bytes, key, briefs.len())
    {
        let state = EventsFileState::Used;
        return (Arc::new(log), EventsFile { path, state });
    }
    let mut local = Diagnostics::new();
    let log = read_events(root, config, briefs, unchecked, &mut local);
    let state = match key {
        Some(key) if local.is_empty() => EventsFileState::Save(key),
        _ => EventsFileState::Discard,
    };
    diagnostics.extend(local);
    (Arc::new(log), EventsFile { path, state })
}

/// What a cached event log must match to be reused; `None` when an event
/// file changed too recently for its stamp to be trusted.
fn events_key(root: &Path, sources: &[events::EventSource], briefs: u128) -> Option<EventsKey> {
    Some(EventsKey {
        sources: sources.to_vec(),
        files: event_stamps(root, sources)?,
        briefs,
    })
}

/// The event files and their stamps, or `None` when one changed too
/// recently for its stamp to be trusted.
fn event_stamps(root: &Path, sources: &[events::EventSource]) -> Option<Vec<(PathBuf, Stamp)>> {
    let cutoff = Stamp::cutoff();
    events::source_files(root, sources)
        .into_iter()
        .map(|path| Stamp::of(&path, cutoff).map(|stamp| (path, stamp)))
        .collect()
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

/// Parses every brief, or with a cache only those whose file changed:
/// unchanged ones come back as they were, warnings included, and files
/// that are gone leave the cache.
fn load_briefs(
    root: &Path,
    options: MarkdownOptions,
    diagnostics: &mut Diagnostics,
    mut cache: Option<&mut LoadCache>,
) -> Vec<Arc<Brief>> {
    // Taken whatever happens: a list of changes is good for one load.
    let changed = cache.as_deref_mut().and_then(|cache| cache.changed.take());
    let dir = root.join(HANDOFFS_DIR);
    if !dir.is_dir() {
        if let Some(cache) = cache {
            cache.briefs.clear();
            cache.listing = None;
        }
        return Vec::new();
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
                };
            }
            let (brief, diagnostics) = parse_brief(root, path, options);
            Loaded {
                brief: brief.map(Arc::new),
                diagnostics,
                stamp,
                parsed: true,
            }
        })
        .collect();
    let mut briefs = Vec::with_capacity(parsed.len());
    let mut fresh = FxHashMap::default();
    let mut parsed_count = 0;
    for (path, loaded) in paths.into_iter().zip(parsed) {
        let Loaded {
            brief,
            diagnostics: local,
            stamp,
            parsed,
        } = loaded;
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
    briefs
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
}

fn parse_brief(root: &Path, path: &Path, options: MarkdownOptions) -> (Option<Brief>, Diagnostics) {
    let mut local = Diagnostics::new();
    let file = display_path(root, path);
    let brief = match std::fs::read_to_string(path) {
        Ok(text) => {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default();
            Brief::parse(&file, &stem, &text, options, &mut local)
        }
        Err(error) => {
            local.push(
                Diagnostic::error(format!("cannot read this brief: {error}"))
                    .in_file(file)
                    .with_hint("briefs must be UTF-8 text files"),
            );
            None
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
