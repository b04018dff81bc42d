//! Watching the site's sources: `site.toml`, `content/`, `templates/`,
//! `static/` and `themes/`, and nothing else (not the output folder, not
//! `target/`, not the rest of a repository that doubles as a site).
//!
//! Folders are watched, never single files: editors that save by writing a
//! new file and renaming it over the old one replace the inode, and a watch
//! on the old inode would go quiet. `site.toml` is seen through a
//! non-recursive watch on the root, which also notices a source folder
//! being created later; [`Watcher::refresh`] then starts watching it.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::diagnostics::{Diagnostic, Failure};

/// How long the watcher waits for a burst of events to settle before
/// reporting it. A save, even one by rename (write a temporary file,
/// rename it over the brief), is a burst well under a millisecond long, so
/// this only needs to outlast a scheduling hiccup; everything beyond it is
/// latency the user sees on every save. A longer burst (a `git checkout`)
/// may come in two reports; the second one's rebuild then sees the final
/// files, and rebuilds are incremental, so that costs little.
pub const DEBOUNCE: Duration = Duration::from_millis(30);

/// The source folders under the root, each watched recursively.
pub const SOURCE_DIRS: [&str; 4] = ["content", "templates", "static", "themes"];

/// The configuration file, seen through the root's watch.
pub const CONFIG_FILE: &str = "site.toml";

/// What the watcher reports.
#[derive(Debug)]
pub enum Change {
    /// Source files changed: their paths (relative to the root, with `/`),
    /// and when the first of them changed. `rescan` when the platform lost
    /// events (an inotify queue overflow): then other files may have
    /// changed too, unnamed.
    Files {
        paths: Vec<String>,
        since: Instant,
        rescan: bool,
    },
    /// The watcher itself failed (e.g. too many inotify watches).
    Error(String),
}

pub struct Watcher {
    root: PathBuf,
    debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    watching: BTreeSet<&'static str>,
}

impl Watcher {
    /// Starts watching `root`, sending every relevant change to `changes`.
    /// Paths under `ignored` (relative to the root: the output folder) are
    /// never reported, even when they sit inside a source folder.
    pub fn start(
        root: &Path,
        ignored: Vec<PathBuf>,
        changes: Sender<Change>,
    ) -> Result<Watcher, Failure> {
        // Canonical, because some platforms (macOS) report canonical paths.
        let root = root
            .canonicalize()
            .or_else(|_| std::path::absolute(root))
            .unwrap_or_else(|_| root.to_path_buf());
        let filter_root = root.clone();
        let handler = move |result: DebounceEventResult| {
            let change = match result {
                Ok(events) => {
                    let since = events.iter().map(|event| event.time).min();
                    let rescan = events.iter().any(|event| event.need_rescan());
                    let mut paths: Vec<String> = events
                        .iter()
                        .filter(|event| !matches!(event.kind, EventKind::Access(_)))
                        .flat_map(|event| event.paths.iter())
                        .filter_map(|path| relevant(&filter_root, &ignored, path))
                        .collect();
                    paths.sort();
                    paths.dedup();
                    match since {
                        Some(since) if rescan || !paths.is_empty() => Change::Files {
                            paths,
                            since,
                            rescan,
                        },
                        _ => return,
                    }
                }
                Err(errors) => Change::Error(
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            };
            // The receiver is gone only when serve is shutting down.
            let _ = changes.send(change);
        };
        let mut debouncer =
            new_debouncer(DEBOUNCE, None, handler).map_err(|error| watch_error(&root, &error))?;
        debouncer
            .watch(&root, RecursiveMode::NonRecursive)
            .map_err(|error| watch_error(&root, &error))?;
        let mut watcher = Watcher {
            root,
            debouncer,
            watching: BTreeSet::new(),
        };
        watcher.refresh()?;
        Ok(watcher)
    }

    /// Watches source folders that appeared since the last call and forgets
    /// those that are gone.
    pub fn refresh(&mut self) -> Result<(), Failure> {
        for dir in SOURCE_DIRS {
            let path = self.root.join(dir);
            let exists = path.is_dir();
            let watched = self.watching.contains(dir);
            if exists && !watched {
                self.debouncer
                    .watch(&path, RecursiveMode::Recursive)
                    .map_err(|error| watch_error(&path, &error))?;
                self.watching.insert(dir);
            } else if !exists && watched {
                // The watch died with the folder; this only tidies up.
                let _ = self.debouncer.unwatch(&path);
                self.watching.remove(dir);
            }
        }
        Ok(())
    }
}

fn watch_error(path: &Path, error: &impl std::fmt::Display) -> Failure {
    Diagnostic::error(format!(
        "cannot watch {} for changes: {error}",
        path.display()
    ))
    .with_hint("on Linux, raise fs.inotify.max_user_watches if it is exhausted")
    .into()
}

/// The path relative to the root (with `/`), if a change there can change
/// the site.
fn relevant(root: &Path, ignored: &[PathBuf], path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    if ignored.iter().any(|dir| relative.starts_with(dir)) {
        return None;
    }
    let names: Vec<&str> = relative
        .components()
        .map(|component| match component {
            Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let source = match names.as_slice() {
        [file] => *file == CONFIG_FILE || SOURCE_DIRS.contains(file),
        [dir, .., file] => SOURCE_DIRS.contains(dir) && !is_editor_scratch(file),
        [] => false,
    };
    source.then(|| names.join("/"))
}

/// Swap, backup and probe files editors write beside the real one (vim's
/// `.x.swp` and `4913`, emacs's `.#x` and `#x#`, `x~`): not sources, and
/// reacting to them would rebuild on every keystroke pause.
fn is_editor_scratch(name: &str) -> bool {
    name == "4913"
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || [".swp", ".swx", ".swo"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_are_relevant() {
        let root = Path::new("/site");
        let ignored = vec![PathBuf::from("public"), PathBuf::from("content/out")];
        let check = |path: &str| relevant(root, &ignored, Path::new(path));
        assert_eq!(check("/site/site.toml").as_deref(), Some("site.toml"));
        assert_eq!(
            check("/site/content/handoffs/a.md").as_deref(),
            Some("content/handoffs/a.md")
        );
        assert_eq!(check("/site/templates").as_deref(), Some("templates"));
        assert_eq!(
            check("/site/themes/dark/static/x.css").as_deref(),
            Some("themes/dark/static/x.css")
        );
        assert_eq!(
            check("/site/static/logo.png").as_deref(),
            Some("static/logo.png")
        );
        for ignored in [
            "/site/Cargo.toml",
            "/site/site.toml~",
            "/site/public/index.html",
            "/site/target/release/trustcard",
            "/site/src/main.rs",
            "/site/content/out/index.html",
            "/site/content/handoffs/.a.md.swp",
            "/site/content/handoffs/4913",
            "/site/content/handoffs/a.md~",
            "/site/content/handoffs/.#a.md",
            "/site",
            "/elsewhere/content/a.md",
        ] {
            assert_eq!(check(ignored), None, "{ignored}");
        }
    }
}
