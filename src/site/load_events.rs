//! The events of a load: read while the briefs load, after them, or taken
//! from the dev server's cache or a build's copy on disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::{self, CachedEvents, EventsKey, LoadCache, Stamp};
use crate::config::Config;
use crate::content::Brief;
use crate::diagnostics::Diagnostics;
use crate::events::unchecked::Unchecked;
use crate::events::{self, EventLog, HandoffRef, Names};

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

/// What a load read while its briefs loaded, and the key of a build's
/// copy of the events (`None` without a copy, or when an event file changed
/// too recently for its stamp to be trusted).
pub(super) struct Early {
    pub ahead: Ahead,
    pub key: Option<CopyKey>,
}

/// The events read while the briefs load: a build's copy, still to be
/// checked against the briefs, or the event files, still unchecked.
pub(super) enum Ahead {
    Copy(events::store::Stored),
    Files(Unchecked),
}

impl Ahead {
    pub(super) fn into_unchecked(self) -> Option<Unchecked> {
        match self {
            Ahead::Files(unchecked) => Some(unchecked),
            Ahead::Copy(_) => None,
        }
    }
}

/// What a build's copy of the events on disk is made for, as bytes: first
/// what is known before the briefs load (the event sources, their files'
/// stamps, and the binary, which may parse a file differently from another
/// build of trustcard), then the briefs' fingerprint. A rebuild checks the
/// first part to choose, before the briefs load, between decoding its copy
/// and reading the files while they load.
pub(super) struct CopyKey {
    head: Vec<u8>,
}

impl CopyKey {
    /// `None` when an event file changed too recently for its stamp to be
    /// trusted (`stamps` is `None`), or the binary cannot be stamped.
    pub fn new(config: &Config, stamps: Option<Vec<(PathBuf, Stamp)>>) -> Option<CopyKey> {
        let mut head = cache::files_bytes(&config.events, &stamps?)?;
        let (size, modified) = crate::output::binary_stamp()?;
        head.extend_from_slice(&size.to_le_bytes());
        head.extend_from_slice(&modified.to_le_bytes());
        Some(CopyKey { head })
    }

    /// Whether a copy's `key` may be this one, whatever the briefs.
    fn may_be(&self, key: &[u8]) -> bool {
        key.len() == self.head.len() + size_of::<u128>() && key.starts_with(&self.head)
    }

    fn with_briefs(mut self, briefs: &[Arc<Brief>]) -> Vec<u8> {
        let fingerprint = cache::briefs_fingerprint(briefs);
        self.head.extend_from_slice(&fingerprint.to_le_bytes());
        self.head
    }
}

/// The copy at `path`, decoded, if its key may be `key` (what the briefs
/// add to the key is checked once they have loaded).
fn read_copy(path: &Path, key: &CopyKey) -> Option<events::store::Stored> {
    let bytes = std::fs::read(path).ok()?;
    events::store::decode_if(&bytes, |stored| key.may_be(stored))
}

/// Reads a load's events while its briefs load: the build's copy at
/// `copy` if one was made from the same files by this binary (on a rebuild
/// of 10k briefs and 1M events, decoding it after the briefs took ~190 ms
/// on one core), else the event files, on a thread pool of their own: in
/// the pool the briefs load in, their tasks would wait for every brief's.
pub(super) fn read_ahead(
    root: &Path,
    sources: &[events::EventSource],
    copy: Option<(&Path, &CopyKey)>,
) -> Ahead {
    if let Some(stored) = copy.and_then(|(path, key)| read_copy(path, key)) {
        return Ahead::Copy(stored);
    }
    let read = || events::unchecked::read(root, sources);
    let unchecked = match rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .build()
    {
        Ok(pool) => pool.install(read),
        Err(_) => read(),
    };
    Ahead::Files(unchecked)
}

/// Reads the events, checked against `briefs`, or finishes those read
/// while the briefs loaded: the same log and diagnostics either way.
pub(super) fn read_events(
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
pub(super) fn cached_events(
    root: &Path,
    config: &Config,
    briefs: &[Arc<Brief>],
    cache: &mut LoadCache,
    diagnostics: &mut Diagnostics,
) -> Arc<EventLog> {
    let fingerprint = cache::cached_fingerprint(cache, briefs);
    let key = events_key(config, event_stamps(root, &config.events), fingerprint);
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
/// (the key [`cached_events`] checks, and the binary), else read afresh,
/// or finished if read `early`.
pub(super) fn stored_events(
    root: &Path,
    config: &Config,
    briefs: &[Arc<Brief>],
    path: PathBuf,
    early: Option<Early>,
    diagnostics: &mut Diagnostics,
) -> (Arc<EventLog>, EventsFile) {
    let (key, ahead) = match early {
        Some(Early { ahead, key }) => (key, Some(ahead)),
        // Nothing was read ahead (`events = []`): the copy, if any, now.
        None => {
            let key = CopyKey::new(config, event_stamps(root, &config.events));
            let copy = key.as_ref().and_then(|key| read_copy(&path, key));
            (key, copy.map(Ahead::Copy))
        }
    };
    let key = key.map(|key| key.with_briefs(briefs));
    let unchecked = match ahead {
        Some(Ahead::Copy(stored)) => {
            if let Some(log) = key
                .as_ref()
                .and_then(|key| stored.made_for(key, briefs.len()))
            {
                let state = EventsFileState::Used;
                return (Arc::new(log), EventsFile { path, state });
            }
            None
        }
        Some(Ahead::Files(unchecked)) => Some(unchecked),
        None => None,
    };
    let mut local = Diagnostics::new();
    let log = read_events(root, config, briefs, unchecked, &mut local);
    let state = match key {
        Some(key) if local.is_empty() => EventsFileState::Save(key),
        _ => EventsFileState::Discard,
    };
    diagnostics.extend(local);
    (Arc::new(log), EventsFile { path, state })
}

/// What a cached event log must match to be reused, from its files'
/// [`event_stamps`]; `None` when one changed too recently for its stamp to
/// be trusted.
fn events_key(
    config: &Config,
    stamps: Option<Vec<(PathBuf, Stamp)>>,
    briefs: u128,
) -> Option<EventsKey> {
    Some(EventsKey {
        sources: config.events.clone(),
        files: stamps?,
        briefs,
    })
}

/// The event files and their stamps, or `None` when one changed too
/// recently for its stamp to be trusted.
pub(super) fn event_stamps(
    root: &Path,
    sources: &[events::EventSource],
) -> Option<Vec<(PathBuf, Stamp)>> {
    let cutoff = Stamp::cutoff();
    events::source_files(root, sources)
        .into_iter()
        .map(|path| Stamp::of(&path, cutoff).map(|stamp| (path, stamp)))
        .collect()
}
