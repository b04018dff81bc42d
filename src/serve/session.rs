//! The dev server's builds, incremental: what one build read and rendered
//! is kept for the next, so saving one brief re-parses that brief and
//! renders only the pages whose inputs changed.
//!
//! Every stage still runs on every build; each one skips work whose inputs
//! it can prove unchanged, and nothing is skipped on a guess:
//! - briefs and events come from a [`LoadCache`] (file stamps, or only
//!   the briefs the watcher names when its list can be trusted; the event
//!   log is also keyed on what it knows of the briefs);
//! - the theme is reused while no file under `templates/`, `static/` or
//!   `themes/` changed and the site asks for the same theme;
//! - the model is reused while the config, the event log and everything
//!   it reads of every brief's [`Handoff`](crate::score::Handoff) are
//!   unchanged ([`model::same_model_inputs`]): an edit to a brief's title,
//!   notes or body changes pages, not scores;
//! - when only grades changed ([`model::input_change`]), the last model is
//!   brought up to date instead of computed ([`model::regrade`]): the
//!   regraded cards, the band summaries, the current scores and mean-score
//!   series they feed, in a millisecond where computing takes ~200 ms on a
//!   10,000-brief, million-event site;
//! - a page whose render key (a hash of everything its template sees)
//!   equals the previous build's key for that path takes the previous
//!   build's bytes, shared, not copied;
//! - a page whose inputs are provably the same is carried over without
//!   even computing its key (on a 10,000-brief site that hashing is most
//!   of a rebuild): a scorecard when its brief, card and events are; a
//!   list or rollup page, which reads only the model, the handoffs of
//!   the briefs it lists and perhaps an intro page (see [`Reads`]), when
//!   the model was reused and those handoffs and the intro are the same
//!   (so a title edit renders the pages listing that brief, no others);
//!   after a regrade, a partner or seller page listing no changed handoff
//!   (its rollup is then the same) and a band page whose summary is the
//!   same too (so a grade edit renders the brief's band pages, partner
//!   and seller pages and the handoff list; pages reading the whole model,
//!   the home page and the trends, are keyed);
//! - the data files (`data/scorecard.json`, `llms.txt`…) are carried over
//!   on the same terms, with the FAQ for an intro: they read nothing else
//!   but the config;
//! - a list that is rendered (the handoff list after a title edit) takes
//!   every handoff's template values and row, and `data/scorecard.json`
//!   every handoff's entry, from the [`Memo`] of earlier builds when made
//!   from the same inputs: a title edit makes one of each, not 10,000;
//!   builds are numbered, and the session knows since which build each
//!   card (and its brief's handoff) has been the same ([`Stable`]), so an
//!   item or entry made since is taken without hashing what it was made
//!   from, and the unchanged entries are copied from the last file in
//!   runs;
//! - while the model is reused or regraded, a list that is not carried
//!   over is known to have changed, so its key is not computed
//!   ([`Sink::wants_key`]);
//! - a build starts from the last build's files (shared, not copied) and
//!   writes its big files into the memory of those the build before
//!   replaced, once the server no longer shows them (`RECYCLE_MIN`).
//!
//! A change to `site.toml` forgets everything, so a config edit is a full
//! build. A failed build keeps the caches of the last good one for the
//! next. So a build here gives the same bytes as [`build::render_in_memory`]
//! over the same files, which the tests check edit by edit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;
use walkdir::WalkDir;

use crate::cli::BuildArgs;
use crate::cmd::build::{self, Rendered};
use crate::config::CONFIG_FILE;
use crate::content::Brief;
use crate::content::faq::Faq;
use crate::diagnostics::{Diagnostics, Failure};
use crate::events::EventLog;
use crate::model::{self, Card, Model};
use crate::output::Output;
use crate::render::theme::Theme;
use crate::render::{self, Memo, Reads, RenderOptions, Sink, Stable};
use crate::site::{Laps, LoadCache, Site, Stamp};

/// The folders a theme is read from.
const THEME_DIRS: [&str; 3] = ["templates", "static", "themes"];

/// What the last build skipped and what it did, for the log and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Whether everything was read afresh (the first build, or `site.toml`
    /// changed).
    pub full: bool,
    pub briefs_parsed: usize,
    /// Whether the briefs' folder was walked and every brief stamped,
    /// rather than trusting the watcher's list of changes.
    pub briefs_walked: bool,
    pub events_read: bool,
    pub theme_loaded: bool,
    /// Whether the model was computed from scratch.
    pub model_computed: bool,
    /// Whether the last build's model was brought up to date instead,
    /// only grades having changed ([`model::regrade`]).
    pub model_updated: bool,
    pub pages_rendered: usize,
    /// Pages taken from the last build, their keys unchanged.
    pub pages_reused: usize,
    /// Pages among those taken without computing their keys.
    pub pages_carried: usize,
    /// Whether the data files were taken from the last build.
    pub data_reused: bool,
    /// Handoff-table items (a handoff's template values and row, per page
    /// depth) made rather than taken from earlier builds.
    pub items_made: usize,
    /// Handoff-table items hashed to find them in earlier builds' memo
    /// (or to keep them), rather than known current by their handoffs.
    pub items_hashed: usize,
    /// Handoff entries of `data/scorecard.json` written rather than taken
    /// from earlier builds.
    pub entries_written: usize,
    /// Files written into the memory of files an earlier build replaced
    /// (see `RECYCLE_MIN`).
    pub buffers_recycled: usize,
}

impl std::fmt::Display for BuildStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.full {
            return write!(f, "full build, {} pages", self.pages_rendered);
        }
        write!(
            f,
            "{} brief{} parsed, {} page{} rendered",
            self.briefs_parsed,
            if self.briefs_parsed == 1 { "" } else { "s" },
            self.pages_rendered,
            if self.pages_rendered == 1 { "" } else { "s" },
        )?;
        if self.events_read {
            f.write_str(", events read")?;
        }
        if self.theme_loaded {
            f.write_str(", theme loaded")?;
        }
        if self.model_computed {
            f.write_str(", model computed")?;
        }
        if self.model_updated {
            f.write_str(", model updated")?;
        }
        Ok(())
    }
}

/// The theme files a loaded theme was read from.
#[derive(Debug, PartialEq)]
struct ThemeKey {
    name: String,
    files: Vec<(PathBuf, Stamp)>,
}

struct CachedTheme {
    /// `None` when a file was too fresh to stamp: never matched, so the
    /// theme is loaded again until the file is older.
    key: Option<ThemeKey>,
    theme: Theme,
}

/// A model and what it was computed from.
struct CachedModel {
    briefs: Vec<Arc<Brief>>,
    events: Arc<EventLog>,
    model: Model,
    /// See [`ModelStep::since`].
    since: Vec<u64>,
}

/// How the model computed from a site would relate to a cached one.
#[derive(Debug, PartialEq)]
enum Fit {
    /// It would be the cached model.
    Same,
    /// It would be the cached model regraded: the briefs at these indices
    /// changed their grades, and nothing else the model reads changed.
    Grades(Vec<usize>),
    /// It must be computed.
    No,
}

/// The model a build renders from, and what the sink may assume of it.
struct ModelStep {
    model: Model,
    /// See [`unchanged_scorecards`].
    unchanged: Option<Vec<bool>>,
    /// When the model is the last build's, perhaps regraded: per card,
    /// whether its brief's handoff changed since (see
    /// [`CachedModel::changed_cards`]).
    changed_cards: Option<Vec<bool>>,
    /// When so, per band, whether its summary is the same.
    same_bands: Option<Vec<bool>>,
    /// Per card, the number of the build since which its handoff and
    /// card have been the same (see [`Stable`]): this build's for a card
    /// whose brief's handoff changed, and for every card of a model
    /// computed afresh, whose cards may have moved.
    since: Vec<u64>,
    /// Whether every part of the model but draft cards is the last
    /// build's.
    reused: bool,
}

impl CachedModel {
    /// Whether the model computed from `site` would be this one: the same
    /// event log and, brief by brief, the same scoring data (titles may
    /// differ), or that but for grades. The config is not compared: a
    /// change to it clears the whole session.
    fn fit(&self, site: &Site) -> Fit {
        if !Arc::ptr_eq(&self.events, &site.events) || self.briefs.len() != site.briefs.len() {
            return Fit::No;
        }
        let mut regraded = Vec::new();
        for (brief, (old, new)) in self.briefs.iter().zip(&site.briefs).enumerate() {
            if Arc::ptr_eq(old, new) {
                continue;
            }
            match model::input_change(&old.handoff, &new.handoff) {
                model::InputChange::None => {}
                model::InputChange::Grades => regraded.push(brief),
                model::InputChange::Other => return Fit::No,
            }
        }
        if regraded.is_empty() {
            Fit::Same
        } else {
            Fit::Grades(regraded)
        }
    }

    /// Per card of this model, whether its brief's
    /// [`Handoff`](crate::score::Handoff) changed (a title, or grades),
    /// when the model [`fits`](CachedModel::fit) `site`: all that list and
    /// rollup pages and the data files read of the briefs. A regrade keeps
    /// the cards where they are, so this holds for the regraded model.
    fn changed_cards(&self, site: &Site) -> Vec<bool> {
        let changed = |brief: usize| match (self.briefs.get(brief), site.briefs.get(brief)) {
            (Some(old), Some(new)) => !Arc::ptr_eq(old, new) && old.handoff != new.handoff,
            _ => true,
        };
        self.model
            .cards
            .iter()
            .map(|card| changed(card.brief))
            .collect()
    }
}

/// The last good build's files and the render key of each page.
#[derive(Default)]
struct Previous {
    output: Output,
    keys: FxHashMap<String, u64>,
    /// While building: the files written without a key, whose keys from
    /// earlier builds no longer hold.
    unkeyed: Vec<String>,
    /// The part of every page's key that all pages share.
    base: Option<u64>,
    /// The data files' paths.
    data: Vec<String>,
    /// What pages and data files read besides the model.
    home_intro: Option<String>,
    handoffs_intro: Option<String>,
    faq: Faq,
    /// Parts of the pages and files, for the next build to take.
    memo: Memo,
    /// The big files (see [`RECYCLE_MIN`]) of the build before this one
    /// that this one replaced. The server still shows that build until
    /// this one is published; once it is not, these are the session's
    /// alone, and the next build writes into their memory (see
    /// [`Sink::buffer`]).
    retired: Vec<Arc<Vec<u8>>>,
}

/// Files this big are written into memory the session already has when
/// it can: a 10,000-brief site's handoff list (7 MB), band pages and
/// `data/scorecard.json` (9 MB) taken fresh from the system cost a page
/// fault per 4 KiB written (the allocator hands memory freed a second ago
/// back to the system), which was a fifth of a title edit's rebuild.
const RECYCLE_MIN: usize = 256 << 10;

/// One site folder's builds, for as long as serve runs.
pub struct Session {
    root: PathBuf,
    args: BuildArgs,
    options: RenderOptions,
    /// `site.toml` as the caches last saw it.
    config: Option<Vec<u8>>,
    load: LoadCache,
    theme: Option<CachedTheme>,
    model: Option<CachedModel>,
    previous: Option<Previous>,
    stats: BuildStats,
    /// Builds started, this one included: the build's number.
    builds: u64,
    /// Files at least this big are written into recycled memory:
    /// [`RECYCLE_MIN`], but less in tests, whose sites are small.
    recycle_min: usize,
}

impl Session {
    pub fn new(root: &Path, args: BuildArgs, options: RenderOptions) -> Session {
        Session {
            root: root.to_path_buf(),
            args,
            options,
            config: None,
            load: LoadCache::new(),
            theme: None,
            model: None,
            previous: None,
            stats: BuildStats::default(),
            builds: 0,
            recycle_min: RECYCLE_MIN,
        }
    }

    /// What the last build did.
    pub fn stats(&self) -> BuildStats {
        self.stats
    }

    /// Builds the site into memory, reusing what is unchanged.
    pub fn build(&mut self) -> Result<Rendered, Failure> {
        self.build_after(None)
    }

    /// Like [`Session::build`], told which files changed since the last
    /// build (relative to the root, with `/`) as a file watcher saw them;
    /// `None` when that is not known. A list lets the load skip briefs it
    /// does not name (see [`LoadCache::changed_since_last_load`]).
    pub fn build_after(&mut self, changed: Option<&[String]>) -> Result<Rendered, Failure> {
        let laps = Laps::new();
        self.builds += 1;
        let mut stats = BuildStats::default();
        // Read whole rather than stamped: it is small, and an edit to it
        // must never be missed.
        let config = std::fs::read(self.root.join(CONFIG_FILE)).ok();
        if config != self.config || self.previous.is_none() {
            self.load.clear();
            self.theme = None;
            self.model = None;
            self.previous = None;
            self.config = config;
            stats.full = true;
        }
        self.stats = stats;

        self.load.changed_since_last_load(changed);
        let site = Site::load_cached(&self.root, &mut self.load);
        let load = self.load.stats();
        self.stats.briefs_parsed = load.briefs_parsed;
        self.stats.events_read = load.events_read;
        self.stats.briefs_walked = load.walked;
        laps.lap("load");
        let name = build::theme_name(&self.root, &site);
        let theme = load_theme(&mut self.theme, &self.root, &name, &mut self.stats);
        let (site, theme) = build::join(site, theme)?;
        let site = build::apply_args(site, &self.args)?;
        let ModelStep {
            model,
            unchanged,
            changed_cards,
            same_bands,
            since,
            reused: model_reused,
        } = model_step(
            self.model.take(),
            &site,
            &self.args,
            self.builds,
            &mut self.stats,
        );
        let handoffs_same = model_reused
            && changed_cards
                .as_ref()
                .is_some_and(|changed| !changed.iter().any(|&changed| changed));
        laps.lap("model");

        // The memory of the files the last build replaced, if no one else
        // holds them any more.
        let spare: Vec<Vec<u8>> = self
            .previous
            .as_mut()
            .map(|previous| std::mem::take(&mut previous.retired))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|bytes| Arc::try_unwrap(bytes).ok())
            .map(|mut bytes| {
                bytes.clear();
                bytes
            })
            .collect();
        // The model is cached only by a build that went on to publish, so
        // a reused model is the one `previous` was rendered from. Pages
        // and files that read only it and the briefs' handoffs are the
        // same when those are.
        let same = |check: fn(&Previous, &Site) -> bool| {
            handoffs_same && self.previous.as_ref().is_some_and(|p| check(p, &site))
        };
        let sink = ReusingSink {
            previous: self.previous.as_ref(),
            spare: Mutex::new(spare),
            recycle_min: self.recycle_min,
            recycled: AtomicUsize::new(0),
            unchanged: unchanged.as_deref(),
            model_reused,
            changed_cards: changed_cards.as_deref(),
            same_bands: same_bands.as_deref(),
            stable: Stable {
                build: self.builds,
                since: &since,
            },
            home_intro_same: same(|p, site| p.home_intro == site.home_intro),
            handoffs_intro_same: same(|p, site| p.handoffs_intro == site.handoffs_intro),
            data_reusable: same(|p, site| p.faq == site.faq),
            data_reused: std::sync::atomic::AtomicBool::new(false),
            base: OnceLock::new(),
            // The last build's files, shared, not copied: taking a page
            // over leaves it in place rather than inserting it into a map
            // of 10,000. What this build does not produce is dropped
            // after it (see `drop_unproduced`).
            next: Mutex::new(Previous {
                output: self
                    .previous
                    .as_ref()
                    .map(|previous| previous.output.clone())
                    .unwrap_or_default(),
                ..Previous::default()
            }),
            taken: Mutex::default(),
            rendered: AtomicUsize::new(0),
            reused: AtomicUsize::new(0),
            carried: AtomicUsize::new(0),
        };
        render::render_into(&site, &model, theme, &self.options, &sink)?;
        laps.lap("render");
        self.stats.pages_rendered = sink.rendered.into_inner();
        self.stats.pages_reused = sink.reused.into_inner();
        self.stats.pages_carried = sink.carried.into_inner();
        self.stats.data_reused = sink.data_reused.into_inner();
        self.stats.buffers_recycled = sink.recycled.into_inner();

        let base = sink.base.get().copied();
        let taken = sink
            .taken
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = sink
            .next
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Before the older parts are added: what this build made.
        self.stats.items_made = next.memo.items();
        self.stats.items_hashed = next.memo.hashed();
        self.stats.entries_written = next.memo.entries();
        if let (true, Some(previous)) = (self.stats.data_reused, &self.previous) {
            // Last, over any theme file of the same name, as when generated.
            for path in &previous.data {
                if let Some(bytes) = previous.output.get_shared(path) {
                    next.output.insert_shared(path.clone(), bytes.clone());
                }
            }
            next.data = previous.data.clone();
        }
        drop_unproduced(&mut next, &taken);
        // Pages taken from the last build keep their keys; those written
        // again have new ones, or none. A key left for a page no longer
        // built is harmless: a key is used only with the bytes of its
        // page, which are gone.
        let mut keys = self
            .previous
            .as_mut()
            .map(|previous| std::mem::take(&mut previous.keys))
            .unwrap_or_default();
        for path in std::mem::take(&mut next.unkeyed) {
            keys.remove(&path);
        }
        keys.extend(std::mem::take(&mut next.keys));
        next.keys = keys;
        // The older parts, with this build's over them (into an empty
        // memo after a full build: adding is what files items by place).
        let older = self
            .previous
            .as_mut()
            .map(|previous| std::mem::take(&mut previous.memo))
            .unwrap_or_default();
        let newer = std::mem::replace(&mut next.memo, older);
        next.memo.add(newer);
        next.base = base;
        next.home_intro = site.home_intro.clone();
        next.handoffs_intro = site.handoffs_intro.clone();
        next.faq = site.faq.clone();
        let output = next.output.clone();
        self.previous = Some(next);
        let handoffs = model.cards.len();
        self.model = Some(CachedModel {
            briefs: site.briefs.clone(),
            events: Arc::clone(&site.events),
            model,
            since,
        });
        Ok(Rendered {
            output,
            handoffs,
            warnings: site.warnings,
            config: site.config,
        })
    }
}

/// Drops from `next.output`, which began as the last build's files, those
/// this build did not produce: it produced the pages it `taken` over, the
/// files it wrote (keyed or not) and the data files it took over.
fn drop_unproduced(next: &mut Previous, taken: &[String]) {
    let produced: rustc_hash::FxHashSet<&str> = taken
        .iter()
        .chain(next.keys.keys())
        .chain(&next.unkeyed)
        .chain(&next.data)
        .map(String::as_str)
        .collect();
    // Every produced file is in the output: when there are as many files
    // as produced paths, there is nothing else.
    if produced.len() == next.output.len() {
        return;
    }
    let mut output = Output::default();
    let mut paths: Vec<&str> = produced.into_iter().collect();
    paths.sort_unstable();
    for path in paths {
        if let Some(bytes) = next.output.get_shared(path) {
            output.insert_shared(path.to_string(), bytes.clone());
        }
    }
    next.output = output;
}

/// The model of `site`: the last build's (`cached`) when it fits, that
/// one regraded when only grades changed, else computed.
fn model_step(
    cached: Option<CachedModel>,
    site: &Site,
    args: &BuildArgs,
    build: u64,
    stats: &mut BuildStats,
) -> ModelStep {
    let fit = cached.as_ref().map_or(Fit::No, |cached| cached.fit(site));
    // The model's cards stay where they were, and change only with their
    // briefs' handoffs.
    let since = |cached: &CachedModel, changed: &[bool]| -> Vec<u64> {
        changed
            .iter()
            .zip(&cached.since)
            .map(|(&changed, &since)| if changed { build } else { since })
            .collect()
    };
    match (cached, fit) {
        (Some(cached), Fit::Same) => {
            let changed_cards = cached.changed_cards(site);
            ModelStep {
                unchanged: Some(unchanged_scorecards(&cached, site, &cached.model)),
                since: since(&cached, &changed_cards),
                changed_cards: Some(changed_cards),
                same_bands: Some(vec![true; cached.model.bands.len()]),
                reused: true,
                model: cached.model,
            }
        }
        (Some(cached), Fit::Grades(briefs)) => {
            stats.model_updated = true;
            // Regrading changes the cards of the regraded briefs only,
            // which were parsed again and so are not the same briefs:
            // every other scorecard can be judged by the model as it
            // was.
            let unchanged = unchanged_scorecards(&cached, site, &cached.model);
            let changed_cards = cached.changed_cards(site);
            let since = since(&cached, &changed_cards);
            let mut model = cached.model;
            let bands = model.bands.clone();
            let regraded = model::regrade(&mut model, site, &briefs);
            let same_bands = bands.iter().zip(&model.bands).map(|(a, b)| a == b);
            ModelStep {
                unchanged: Some(unchanged),
                changed_cards: Some(changed_cards),
                same_bands: Some(same_bands.collect()),
                since,
                // Only drafts' cards changed, which only their own
                // scorecards read.
                reused: regraded.is_empty(),
                model,
            }
        }
        (cached, _) => {
            stats.model_computed = true;
            let model = Model::compute(site, &build::model_options(args));
            let unchanged = cached.map(|cached| unchanged_scorecards(&cached, site, &model));
            ModelStep {
                since: vec![build; model.cards.len()],
                model,
                unchanged,
                changed_cards: None,
                same_bands: None,
                reused: false,
            }
        }
    }
}

/// The theme `name`, from `cached` unless one of its files changed.
fn load_theme<'a>(
    cached: &'a mut Option<CachedTheme>,
    root: &Path,
    name: &str,
    stats: &mut BuildStats,
) -> Result<&'a Theme, Diagnostics> {
    let key = theme_key(root, name);
    let entry = match cached.take() {
        Some(hit) if key.is_some() && hit.key == key => hit,
        _ => {
            let theme = Theme::load(root, name)?;
            stats.theme_loaded = true;
            CachedTheme { key, theme }
        }
    };
    Ok(&cached.insert(entry).theme)
}

/// Per brief, whether its scorecard reads exactly what it read in the
/// build `old` comes from. A scorecard reads its own brief, its card, the
/// events its card lists and the config (a change to which clears the
/// session); everything else it sees is in the base key, which the sink
/// compares. So it is unchanged when the brief is the very same parsed
/// brief, the event log the same log, and its card and its events equal.
fn unchanged_scorecards(old: &CachedModel, site: &Site, new: &Model) -> Vec<bool> {
    let count = site.briefs.len();
    if !Arc::ptr_eq(&old.events, &site.events) || old.briefs.len() != count {
        return vec![false; count];
    }
    let by_brief = |model| cards_by_brief(model, count);
    let before = by_brief(&old.model);
    // Judged by the model as it was (the model reused, or about to be
    // regraded): every card and event is itself, and comparing 10,000
    // cards with themselves would only prove it.
    if std::ptr::eq(&old.model, new) {
        return (0..count)
            .map(|brief| {
                Arc::ptr_eq(&old.briefs[brief], &site.briefs[brief]) && before[brief].is_some()
            })
            .collect();
    }
    let after = by_brief(new);
    (0..count)
        .map(|brief| {
            Arc::ptr_eq(&old.briefs[brief], &site.briefs[brief])
                && match (before[brief], after[brief]) {
                    (Some(was), Some(is)) => {
                        was == is
                            && was
                                .events
                                .iter()
                                .all(|&i| old.model.events.get(i) == new.events.get(i))
                    }
                    _ => false,
                }
        })
        .collect()
}

/// Each brief's card (sent or draft), if it has one.
fn cards_by_brief(model: &Model, count: usize) -> Vec<Option<&Card>> {
    let mut cards = vec![None; count];
    for card in model.cards.iter().chain(&model.drafts) {
        if let Some(slot) = cards.get_mut(card.brief) {
            *slot = Some(card);
        }
    }
    cards
}

/// The stamps of every file the theme `name` could be read from; `None`
/// when one is too fresh to trust.
fn theme_key(root: &Path, name: &str) -> Option<ThemeKey> {
    let cutoff = Stamp::cutoff();
    let mut files = Vec::new();
    for dir in THEME_DIRS {
        let dir = root.join(dir);
        if !dir.is_dir() {
            continue;
        }
        for entry in WalkDir::new(&dir).sort_by_file_name() {
            // An unreadable folder is the theme loader's to report; here it
            // only means "do not cache".
            let entry = entry.ok()?;
            if entry.file_type().is_file() {
                let stamp = Stamp::of(entry.path(), cutoff)?;
                files.push((entry.into_path(), stamp));
            }
        }
    }
    Some(ThemeKey {
        name: name.to_string(),
        files,
    })
}

/// Collects a build in memory, taking unchanged pages from the previous
/// build instead of rendering them.
struct ReusingSink<'a> {
    previous: Option<&'a Previous>,
    /// Per brief, whether everything its scorecard reads is the same as
    /// when `previous` was built (see [`unchanged_scorecards`]).
    unchanged: Option<&'a [bool]>,
    /// Whether the model is the one `previous` was rendered from (draft
    /// cards aside: only their own scorecards read them).
    model_reused: bool,
    /// Whether the model is that one or that one regraded, and if so, per
    /// card, whether its brief's handoff changed since (grades included):
    /// a rollup holding none of those is the same, as the event log is.
    changed_cards: Option<&'a [bool]>,
    /// If so, per band, whether its summary (its cards, the shares of
    /// their grades) is the same.
    same_bands: Option<&'a [bool]>,
    /// Which handoff-table items of the memo are current unhashed.
    stable: Stable<'a>,
    /// Whether that is so, no card's handoff changed, and the intro pages
    /// are the same too.
    home_intro_same: bool,
    handoffs_intro_same: bool,
    /// Whether that is so, no card's handoff changed, and the FAQ is the
    /// same, so that the data files (which list cards only) would come out
    /// the same.
    data_reusable: bool,
    /// Whether the renderer took up that offer.
    data_reused: std::sync::atomic::AtomicBool,
    /// This build's base key, as the renderer reports it.
    base: OnceLock<u64>,
    /// This build's files: the last build's (those taken over are left
    /// in place) with the files written over them.
    next: Mutex<Previous>,
    /// The paths of the pages taken over.
    taken: Mutex<Vec<String>>,
    /// Empty buffers to write big files into (see [`Previous::retired`]).
    spare: Mutex<Vec<Vec<u8>>>,
    /// See [`Session::recycle_min`].
    recycle_min: usize,
    /// Buffers handed out from `spare`.
    recycled: AtomicUsize,
    rendered: AtomicUsize,
    reused: AtomicUsize,
    carried: AtomicUsize,
}

impl ReusingSink<'_> {
    fn next(&self) -> std::sync::MutexGuard<'_, Previous> {
        self.next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the model is the last build's, perhaps regraded, and no
    /// brief of these cards changed its handoff.
    fn cards_same(&self, cards: &[usize]) -> bool {
        self.changed_cards
            .is_some_and(|changed| cards.iter().all(|&card| changed.get(card) == Some(&false)))
    }

    /// Carries the previous build's page at `path`, and its key if it
    /// had one, over.
    fn take(&self, previous: &Previous, path: &str) -> bool {
        if previous.output.get_shared(path).is_none() {
            return false;
        }
        // Its bytes are in `next` already, and its key, if any, is the
        // previous build's for this path too, which `build_after` keeps.
        self.taken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(path.to_string());
        self.reused.fetch_add(1, Ordering::Relaxed);
        true
    }
}

impl Sink for ReusingSink<'_> {
    fn wants_keys(&self) -> bool {
        true
    }

    fn reuse(&self, path: &str, key: u64) -> bool {
        match self.previous {
            Some(previous) if previous.keys.get(path) == Some(&key) => self.take(previous, path),
            _ => false,
        }
    }

    fn carry_over(&self, path: &str, reads: Reads<'_>, base: u64) -> bool {
        let base = *self.base.get_or_init(|| base);
        let unchanged = match reads {
            Reads::Scorecard(brief) => self
                .unchanged
                .is_some_and(|unchanged| unchanged.get(brief) == Some(&true)),
            Reads::Model => self.model_reused,
            Reads::Band { band, cards } => {
                self.same_bands
                    .is_some_and(|same| same.get(band) == Some(&true))
                    && self.cards_same(cards)
            }
            Reads::Rollup(cards) => self.cards_same(cards),
            Reads::ModelAndHomeIntro => self.home_intro_same,
            Reads::ModelAndHandoffsIntro => self.handoffs_intro_same,
        };
        match self.previous {
            Some(previous) if unchanged && previous.base == Some(base) => {
                let taken = self.take(previous, path);
                if taken {
                    self.carried.fetch_add(1, Ordering::Relaxed);
                }
                taken
            }
            _ => false,
        }
    }

    fn memo(&self) -> Option<&Memo> {
        self.previous.map(|previous| &previous.memo)
    }

    fn keeps_memo(&self) -> bool {
        true
    }

    fn keep_memo(&self, memo: Memo) {
        self.next().memo = memo;
    }

    fn stable(&self) -> Option<Stable<'_>> {
        Some(self.stable)
    }

    /// While the model is reused or regraded, a band or rollup page or
    /// the handoff list that is not carried over shows a handoff whose
    /// title, owner or grades changed (all that can change without
    /// computing the model again), or a band's members changed, or its
    /// intro or the base key did: its key would (all but always) not
    /// match. The next build carries it over or not by the same proofs,
    /// needing no key either unless the model is computed, which changes
    /// most lists anyway. The home page lists only some handoffs, so its
    /// key often matches.
    fn wants_key(&self, reads: Reads<'_>) -> bool {
        match reads {
            Reads::Band { .. } | Reads::Rollup(_) | Reads::ModelAndHandoffsIntro => {
                self.changed_cards.is_none()
            }
            Reads::Model | Reads::ModelAndHomeIntro | Reads::Scorecard(_) => true,
        }
    }

    /// The smallest spare buffer that holds `size` bytes, for big files.
    fn buffer(&self, size: usize) -> Vec<u8> {
        if size >= self.recycle_min {
            let mut spare = self
                .spare
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let best = (0..spare.len())
                .filter(|&at| spare[at].capacity() >= size)
                .min_by_key(|&at| spare[at].capacity());
            if let Some(at) = best {
                self.recycled.fetch_add(1, Ordering::Relaxed);
                return spare.swap_remove(at);
            }
        }
        Vec::with_capacity(size)
    }

    fn previous_file(&self, path: &str) -> Option<&[u8]> {
        self.previous?.output.get(path)
    }

    fn reuse_data_files(&self) -> bool {
        self.data_reused
            .store(self.data_reusable, Ordering::Relaxed);
        self.data_reusable
    }

    fn put_data_file(&self, path: String, bytes: Vec<u8>) -> Result<(), Failure> {
        self.next().data.push(path.clone());
        self.put(path, bytes, None)
    }

    fn put(&self, path: String, bytes: Vec<u8>, key: Option<u64>) -> Result<(), Failure> {
        if path.ends_with(".html") {
            self.rendered.fetch_add(1, Ordering::Relaxed);
        }
        let mut next = self.next();
        match key {
            Some(key) => {
                next.keys.insert(path.clone(), key);
            }
            None => next.unkeyed.push(path.clone()),
        }
        // What it replaces is the last build's (`next` began as a copy).
        if let Some(old) = next.output.get_shared(&path)
            && old.capacity() >= self.recycle_min
        {
            let old = Arc::clone(old);
            next.retired.push(old);
        }
        next.output.insert(path, bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example site, copied, every file dated in the past so the
    /// caches may trust their stamps.
    fn example_site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(repo.join("site.toml"), dir.path().join("site.toml")).expect("site.toml");
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in WalkDir::new(repo.join("content")) {
            let entry = entry.expect("walk");
            let relative = entry.path().strip_prefix(repo).expect("inside");
            let to = dir.path().join(relative);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&to).expect("folder");
            } else {
                std::fs::copy(entry.path(), &to).expect("copy");
                let file = std::fs::File::options()
                    .write(true)
                    .open(&to)
                    .expect("open");
                file.set_modified(past).expect("date");
            }
        }
        dir
    }

    /// Big files are written into the memory of the files two builds
    /// back replaced, when nothing else holds them, and come out as a
    /// fresh build's; a file still held elsewhere is not touched.
    #[test]
    fn big_files_are_written_into_recycled_memory() {
        let site = example_site();
        let root = site.path();
        let options = RenderOptions::default();
        let mut session = Session::new(root, BuildArgs::default(), options.clone());
        // Every list and data file of the small example site is "big".
        session.recycle_min = 1 << 10;
        let brief = root.join("content/handoffs/aldergrove-kestrel-identity.md");
        let text = std::fs::read_to_string(&brief).expect("read");
        let changed = ["content/handoffs/aldergrove-kestrel-identity.md".to_string()];
        let mut held = Vec::new();
        let mut recycled = 0;
        for n in 0..6 {
            let title = format!("identity clean-up {n}\"");
            std::fs::write(&brief, text.replacen("identity clean-up\"", &title, 1)).expect("write");
            // Dated apart, in the past, as the incremental tests date
            // their edits: same-sized edits a moment apart could share a
            // stamp.
            let file = std::fs::File::options()
                .write(true)
                .open(&brief)
                .expect("open");
            let past = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
            file.set_modified(past + std::time::Duration::from_secs(n))
                .expect("date");
            let rendered = session.build_after(Some(&changed)).expect("builds");
            let fresh =
                build::render_in_memory(root, &BuildArgs::default(), &options).expect("builds");
            assert_eq!(rendered.output, fresh.output, "build {n}");
            recycled += session.stats().buffers_recycled;
            // The server holds every other build for a while: those
            // files' memory must not be reused meanwhile.
            if n % 2 == 0 {
                let copy: Vec<(String, Vec<u8>)> = rendered
                    .output
                    .iter()
                    .map(|(path, bytes)| (path.to_string(), bytes.to_vec()))
                    .collect();
                held.push((rendered.output, copy));
            }
        }
        assert!(recycled > 0, "{:?}", session.stats());
        for (output, copy) in &held {
            let now: Vec<(String, Vec<u8>)> = output
                .iter()
                .map(|(path, bytes)| (path.to_string(), bytes.to_vec()))
                .collect();
            assert!(&now == copy);
        }
    }
}
