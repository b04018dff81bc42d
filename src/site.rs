//! Loading a site folder: config, briefs, intro pages and events, with every
//! problem of every file collected before anything is computed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::config::Config;
use crate::content::Brief;
use crate::content::faq::{self, Faq};
use crate::content::markdown::{self, MarkdownOptions};
use crate::diagnostics::{Diagnostic, Diagnostics, Failure, display_path};
use crate::events::{self, EventLog, HandoffRef, Names};

pub const HANDOFFS_DIR: &str = "content/handoffs";

/// Everything read from a site folder, validated.
#[derive(Debug)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    /// Every brief, drafts included, sorted by source path.
    pub briefs: Vec<Brief>,
    /// Rendered `content/_index.md`, if any.
    pub home_intro: Option<String>,
    /// Rendered `content/handoffs/_index.md`, if any.
    pub handoffs_intro: Option<String>,
    /// All events, including those naming drafts; the model filters.
    pub events: EventLog,
    pub faq: Faq,
    /// Warnings found while loading (errors make loading fail).
    pub warnings: Diagnostics,
}

impl Site {
    pub fn load(root: &Path) -> Result<Site, Failure> {
        let laps = Laps::new();
        let (config, mut diagnostics) = Config::load_lenient(root);
        if !root.join(crate::config::CONFIG_FILE).is_file() {
            return Err(Failure(diagnostics));
        }
        let options = MarkdownOptions {
            allow_html: config.allow_html,
        };
        let briefs = load_briefs(root, options, &mut diagnostics);
        laps.lap("load: briefs");
        check_unique_ids(&briefs, &mut diagnostics);
        let home_intro = load_intro(root, "content/_index.md", options, &mut diagnostics);
        let handoffs_intro = load_intro(
            root,
            "content/handoffs/_index.md",
            options,
            &mut diagnostics,
        );

        let lookup: HashMap<&str, HandoffRef, rustc_hash::FxBuildHasher> = briefs
            .iter()
            .enumerate()
            .map(|(index, brief)| {
                (
                    brief.handoff.id.as_str(),
                    HandoffRef {
                        index: index as u32,
                        date: brief.handoff.date,
                        draft: brief.handoff.draft,
                    },
                )
            })
            .collect();
        let mut names = Names::default();
        for brief in &briefs {
            names.intern(&brief.handoff.seller);
            names.intern(&brief.handoff.account);
            names.intern(&brief.handoff.partner);
        }
        let events = events::read_events(root, &config.events, &lookup, names, &mut diagnostics);
        laps.lap("load: events");
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

fn load_briefs(root: &Path, options: MarkdownOptions, diagnostics: &mut Diagnostics) -> Vec<Brief> {
    let dir = root.join(HANDOFFS_DIR);
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut paths = Vec::new();
    for entry in WalkDir::new(&dir).sort_by_file_name() {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                let is_brief = entry.file_type().is_file()
                    && path.extension().is_some_and(|ext| ext == "md")
                    && !entry.file_name().to_string_lossy().starts_with('_');
                if is_brief {
                    paths.push(path.to_path_buf());
                }
            }
            Err(error) => {
                let file = error
                    .path()
                    .map_or_else(|| HANDOFFS_DIR.to_string(), |p| display_path(root, p));
                diagnostics.push(Diagnostic::error(format!("cannot read: {error}")).in_file(file));
            }
        }
    }
    let parsed: Vec<(Option<Brief>, Diagnostics)> = paths
        .par_iter()
        .map(|path| {
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
        })
        .collect();
    let mut briefs = Vec::with_capacity(parsed.len());
    for (brief, local) in parsed {
        diagnostics.extend(local);
        briefs.extend(brief);
    }
    briefs
}

fn check_unique_ids(briefs: &[Brief], diagnostics: &mut Diagnostics) {
    let mut first_seen: HashMap<&str, &Brief> = HashMap::new();
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
