//! Incremental rebuilds (the dev server's [`Session`]) give exactly what a
//! fresh build of the same files gives, edit after edit, while reading and
//! rendering only what each edit touched.

mod common;

use common::age;
use std::path::{Path, PathBuf};

use trustcard::cli::BuildArgs;
use trustcard::cmd::build::{self, Rendered};
use trustcard::diagnostics::Failure;
use trustcard::render::RenderOptions;
use trustcard::score::signals::Field;
use trustcard::serve::session::{BuildStats, Session};

/// The example site at the repository root, in a temp dir, every file
/// dated in the past so the caches may trust their stamps.
fn example_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(repo.join("site.toml"), dir.path().join("site.toml")).expect("copy site.toml");
    common::copy_dir(&repo.join("content"), &dir.path().join("content"));
    for entry in walkdir::WalkDir::new(dir.path()) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            age(entry.path(), 0);
        }
    }
    dir
}

/// Edits files, and lists what it touched as serve's watcher would.
struct Editor {
    root: PathBuf,
    edits: u64,
    touched: Vec<String>,
}

impl Editor {
    fn at(root: &Path) -> Editor {
        Editor {
            root: root.to_path_buf(),
            edits: 0,
            touched: Vec::new(),
        }
    }

    fn note(&mut self, path: &Path) {
        let relative = path.strip_prefix(&self.root).expect("inside the site");
        let relative = relative.to_string_lossy().replace('\\', "/");
        self.touched.push(relative);
    }

    /// What changed since the last call.
    fn changes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.touched)
    }

    fn remove(&mut self, path: &Path) {
        std::fs::remove_file(path).expect("remove");
        self.note(path);
    }

    fn age(&mut self, path: &Path, n: u64) {
        age(path, n);
        self.note(path);
    }

    fn write(&mut self, path: &Path, text: &str) {
        self.note(path);
        self.edits += 1;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(path, text).expect("write");
        age(path, self.edits);
    }

    fn replace(&mut self, path: &Path, from: &str, to: &str) {
        let text = std::fs::read_to_string(path).expect("read");
        assert!(text.contains(from), "{} lacks {from:?}", path.display());
        self.write(path, &text.replacen(from, to, 1));
    }
}

fn messages(failure: &Failure) -> Vec<String> {
    failure.0.iter().map(ToString::to_string).collect()
}

fn warnings(rendered: &Rendered) -> Vec<String> {
    rendered.warnings.iter().map(ToString::to_string).collect()
}

/// Rebuilds incrementally (told what changed, when `changed` says) and
/// from scratch, asserts both agree byte for byte, and returns what the
/// incremental build did.
fn rebuild(
    session: &mut Session,
    root: &Path,
    args: &BuildArgs,
    options: &RenderOptions,
    changed: Option<&[String]>,
) -> (bool, BuildStats) {
    let incremental = session.build_after(changed);
    let fresh = build::render_in_memory(root, args, options);
    match (&incremental, &fresh) {
        (Ok(incremental), Ok(fresh)) => {
            for (path, bytes) in fresh.output.iter() {
                assert!(
                    incremental.output.get(path) == Some(bytes),
                    "{path} differs from a fresh build"
                );
            }
            assert_eq!(incremental.output, fresh.output);
            assert_eq!(warnings(incremental), warnings(fresh));
            assert_eq!(incremental.handoffs, fresh.handoffs);
        }
        (Err(incremental), Err(fresh)) => assert_eq!(messages(incremental), messages(fresh)),
        (incremental, fresh) => panic!(
            "incremental {} but fresh {}",
            if incremental.is_ok() {
                "succeeded"
            } else {
                "failed"
            },
            if fresh.is_ok() { "succeeded" } else { "failed" },
        ),
    }
    (incremental.is_ok(), session.stats())
}

#[test]
fn every_edit_matches_a_fresh_build() {
    let site = example_site();
    let root = site.path();
    let handoffs = root.join("content/handoffs");
    let args = BuildArgs {
        base_url: Some("http://127.0.0.1:1".into()),
        ..BuildArgs::default()
    };
    let options = RenderOptions {
        explicit_index: false,
        inject: Some("<script>reload</script>".into()),
    };
    let mut session = Session::new(root, args.clone(), options.clone());
    let mut editor = Editor::at(root);
    // Each build is told what changed, as serve's are.
    let step = |session: &mut Session, editor: &mut Editor| {
        rebuild(session, root, &args, &options, Some(&editor.changes()))
    };

    let (ok, first) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(first.full && first.events_read && first.theme_loaded && first.briefs_walked);
    let pages = first.pages_rendered;
    // Sent briefs: drafts have no scorecard without --drafts.
    let scorecards = std::fs::read_dir(&handoffs)
        .expect("list briefs")
        .filter(|entry| {
            entry.as_ref().is_ok_and(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.ends_with(".md") && !name.starts_with('_') && !name.contains("draft")
            })
        })
        .count();
    assert!(pages > 30, "{first:?}");

    // Nothing changed: nothing is read or rendered.
    let (_, stats) = step(&mut session, &mut editor);
    assert_eq!(
        stats,
        BuildStats {
            pages_reused: stats.pages_reused,
            pages_carried: stats.pages_carried,
            data_reused: true,
            ..BuildStats::default()
        }
    );
    assert!(stats.pages_reused >= pages);
    // Scorecards, lists and rollups; only a few small pages are keyed.
    assert!(stats.pages_carried > scorecards + 10, "{stats:?}");
    assert!(stats.pages_reused - stats.pages_carried <= 4, "{stats:?}");

    let identity = handoffs.join("aldergrove-kestrel-identity.md");
    editor.replace(&identity, "proof = \"missing\"", "proof = \"strong\"");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert_eq!(stats.briefs_parsed, 1);
    assert!(!stats.events_read && !stats.theme_loaded && !stats.full);
    assert!(
        stats.pages_rendered > 0 && stats.pages_rendered < pages,
        "{stats:?}"
    );
    // Only a grade changed: the model is brought up to date.
    assert!(stats.model_updated && !stats.model_computed, "{stats:?}");

    // Prose changes pages, not scores.
    editor.replace(
        &identity,
        "## Why this account, why now",
        "## Why this account, and why now",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert_eq!(stats.briefs_parsed, 1);
    assert!(!stats.model_computed && !stats.events_read, "{stats:?}");
    assert!(stats.pages_rendered == 1, "only its scorecard: {stats:?}");
    assert!(stats.data_reused, "{stats:?}");
    assert_eq!((stats.items_made, stats.entries_written), (0, 0));
    // The watcher named the one brief: no other was looked at.
    assert!(!stats.briefs_walked, "{stats:?}");

    // A note shows on the scorecard and on the meeting review page, not
    // in the model.
    editor.replace(
        &identity,
        "comes from a conversation nobody wrote down",
        "comes from a conversation that nobody wrote down",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(!stats.model_computed && stats.data_reused, "{stats:?}");
    assert!(stats.pages_rendered >= 1, "{stats:?}");

    // Intro pages: the home page and the handoff list read them.
    editor.replace(
        &root.join("content/_index.md"),
        "Two questions drive the page",
        "Two questions drive this page",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(!stats.model_computed && stats.data_reused, "{stats:?}");
    assert_eq!(stats.pages_rendered, 1, "only the home page: {stats:?}");
    editor.replace(
        &root.join("content/handoffs/_index.md"),
        "newest first",
        "the newest first",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert_eq!(stats.briefs_parsed, 0);
    assert!(!stats.model_computed && stats.data_reused, "{stats:?}");
    assert_eq!(stats.pages_rendered, 1, "only the list: {stats:?}");

    // The FAQ feeds its page and the data files.
    editor.replace(
        &root.join("content/faq/02-trust.md"),
        "not what they say in surveys",
        "not what they say in a survey",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(!stats.model_computed && !stats.data_reused, "{stats:?}");
    assert!(stats.pages_rendered >= 1, "{stats:?}");

    // An owner is shown, not scored, like a title.
    editor.replace(
        &identity,
        "owner = \"Elena Varga\"",
        "owner = \"Elena Varga-Lund\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(!stats.model_computed && !stats.data_reused, "{stats:?}");

    // Another partner: its rollups, the lists and the events change.
    editor.replace(
        &identity,
        "partner = \"Kestrel Security\"",
        "partner = \"Orbit Cloud\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.model_computed && !stats.data_reused, "{stats:?}");
    // Events are checked against the briefs' names.
    assert!(stats.events_read, "{stats:?}");
    editor.replace(
        &identity,
        "partner = \"Orbit Cloud\"",
        "partner = \"Kestrel Security\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.model_computed);

    editor.replace(
        &identity,
        "identity clean-up\"",
        "identity clean-up, again\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert_eq!(stats.briefs_parsed, 1);
    // Titles are shown, not scored.
    assert!(!stats.events_read && !stats.model_computed, "{stats:?}");
    // Every other scorecard is carried over without hashing its inputs,
    // and so is every band and rollup page not listing this brief; the
    // lists showing it are rendered again.
    assert!(stats.pages_carried > scorecards + 5, "{stats:?}");
    assert!(stats.pages_rendered <= 6, "{stats:?}");
    assert!(!stats.data_reused, "{stats:?}");
    // Of the lists' items and the data's entries, only its own are made
    // again: one per page depth it is listed at (the list, its band and
    // rollups, perhaps the home page), and one entry.
    assert!(
        (1..=3).contains(&stats.items_made) && stats.entries_written == 1,
        "{stats:?}"
    );
    // Found without hashing the other handoffs' summaries.
    assert!(stats.items_hashed <= 3, "{stats:?}");

    // A new brief sorts first, so every other brief moves down one place
    // and the events, which name briefs by place, are read again.
    let text = std::fs::read_to_string(&identity).expect("read");
    let added = handoffs.join("aaa-added.md");
    editor.write(&added, &text.replace("identity clean-up, again", "added"));
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert_eq!(stats.briefs_parsed, 1);
    assert!(stats.events_read && stats.briefs_walked, "{stats:?}");

    editor.remove(&added);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert_eq!(stats.briefs_parsed, 0);
    assert!(stats.events_read && stats.briefs_walked, "{stats:?}");

    // A folder of briefs moved in: the watcher names only the folder.
    let moved = root.join("moved-in");
    std::fs::create_dir_all(&moved).expect("mkdir");
    std::fs::write(
        moved.join("zz-moved.md"),
        text.replace("identity clean-up, again", "moved in"),
    )
    .expect("write");
    age(&moved.join("zz-moved.md"), 500);
    let sub = handoffs.join("sub");
    std::fs::rename(&moved, &sub).expect("rename");
    editor.note(&sub);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.briefs_walked && stats.briefs_parsed == 1, "{stats:?}");
    std::fs::rename(&sub, &moved).expect("rename");
    editor.note(&sub);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.briefs_walked && stats.briefs_parsed == 0, "{stats:?}");

    // Not known to be complete: everything is looked at.
    let (ok, stats) = rebuild(&mut session, root, &args, &options, None);
    assert!(ok && stats.briefs_walked && stats.briefs_parsed == 0);

    // A brief no event names, before others in the list.
    editor.remove(&handoffs.join("brightwater-kestrel-audit.md"));
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.events_read);

    let events = root.join("content/events.csv");
    let mut log = std::fs::read_to_string(&events).expect("read events");
    log.push_str(
        "2026-06-01,pipeline_mention,Jordan Lee,,Halvorsen Logistics,Snowline Data,,yes,added\n",
    );
    editor.write(&events, &log);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.events_read && stats.briefs_parsed == 0);

    // Only the time changes.
    editor.age(&events, 1000);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.events_read && stats.pages_rendered == 0, "{stats:?}");

    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/404.html");
    let template = std::fs::read_to_string(builtin).expect("read template");
    let override_path = root.join("templates/404.html");
    editor.write(
        &override_path,
        &template.replacen("</div>", "<p>overridden</p></div>", 1),
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.theme_loaded && stats.briefs_parsed == 0 && !stats.events_read);
    assert_eq!(stats.pages_reused, 0, "templates are in every key");

    editor.write(&override_path, "{% broken");
    let (ok, _) = step(&mut session, &mut editor);
    assert!(!ok);
    editor.remove(&override_path);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.theme_loaded);

    editor.replace(&identity, "date = 2026-05-20", "date = 2026-05-40");
    let (ok, _) = step(&mut session, &mut editor);
    assert!(!ok);
    editor.replace(&identity, "date = 2026-05-40", "date = 2026-05-21");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert_eq!(stats.briefs_parsed, 1);
    // Its date moved, so the events are checked against it again.
    assert!(stats.events_read);

    editor.replace(
        &root.join("site.toml"),
        "Larkspur partner handoff scorecard",
        "Larkspur scorecard",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok);
    assert!(stats.full && stats.events_read && stats.theme_loaded);
    assert!(stats.briefs_parsed > 20);
}

/// A file saved twice within the file system's time granularity can keep
/// its time and size; one changed that recently is never taken from the
/// cache.
#[test]
fn fresh_files_are_always_read() {
    let site = example_site();
    let root = site.path();
    let mut session = Session::new(root, BuildArgs::default(), RenderOptions::default());
    assert!(session.build().is_ok());
    let brief = root.join("content/handoffs/aldergrove-kestrel-identity.md");
    let text = std::fs::read_to_string(&brief).expect("read");
    std::fs::write(
        &brief,
        text.replacen("proof = \"missing\"", "proof = \"strong\" ", 1),
    )
    .expect("write");
    let first = session.build().expect("build");
    std::fs::write(
        &brief,
        text.replacen("proof = \"missing\"", "proof = \"weak\"   ", 1),
    )
    .expect("write");
    let second = session.build().expect("build");
    assert_eq!(session.stats().briefs_parsed, 1);
    assert_ne!(first.output, second.output);
    let fresh = build::render_in_memory(root, &BuildArgs::default(), &RenderOptions::default())
        .expect("fresh build");
    assert_eq!(second.output, fresh.output);
}

/// Drafts have scorecards but are on no list: a draft's title shows on
/// its own page only, and every build still matches a fresh one.
#[test]
fn draft_edits_match_a_fresh_build() {
    let site = example_site();
    let root = site.path();
    let args = BuildArgs {
        drafts: true,
        ..BuildArgs::default()
    };
    let options = RenderOptions::default();
    let mut session = Session::new(root, args.clone(), options.clone());
    let mut editor = Editor::at(root);
    let (ok, _) = rebuild(&mut session, root, &args, &options, None);
    assert!(ok);
    let draft = root.join("content/handoffs/brightwater-snowline-draft.md");
    editor.replace(
        &draft,
        "clinical data warehouse (draft)",
        "warehouse (draft)",
    );
    let (ok, stats) = rebuild(&mut session, root, &args, &options, Some(&editor.changes()));
    assert!(ok);
    assert!(!stats.model_computed && stats.data_reused, "{stats:?}");
    assert_eq!(stats.pages_rendered, 1, "{stats:?}");
    editor.replace(&draft, "draft = true", "draft = false\ndate = 2026-05-02");
    let (ok, stats) = rebuild(&mut session, root, &args, &options, Some(&editor.changes()));
    assert!(ok);
    assert!(stats.model_computed && !stats.data_reused, "{stats:?}");
}

/// The handoffs' items in lists (values and rows) and their entries in
/// `data/scorecard.json` are kept between builds: whatever changes, the
/// pages and files are those of a fresh build, and only what changed is
/// made again.
#[test]
fn kept_list_items_follow_edits_and_templates() {
    let site = example_site();
    let root = site.path();
    let args = BuildArgs::default();
    let options = RenderOptions {
        explicit_index: true,
        inject: None,
    };
    let mut session = Session::new(root, args.clone(), options.clone());
    let mut editor = Editor::at(root);
    let step = |session: &mut Session, editor: &mut Editor| {
        rebuild(session, root, &args, &options, Some(&editor.changes()))
    };
    let (ok, first) = step(&mut session, &mut editor);
    assert!(ok);
    let items = first.items_made;
    assert!(items > 30 && first.entries_written > 20, "{first:?}");

    let identity = root.join("content/handoffs/aldergrove-kestrel-identity.md");
    let title = "identity clean-up\"";
    editor.replace(&identity, title, "identity <clean-up> & \\\"more\\\"\"");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && !stats.model_computed, "{stats:?}");
    assert!(
        stats.items_made <= 3 && stats.entries_written == 1,
        "{stats:?}"
    );
    // Back as it was: the kept items are the edited ones, so made again.
    editor.replace(&identity, "identity <clean-up> & \\\"more\\\"\"", title);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(
        ok && stats.items_made <= 3 && stats.entries_written == 1,
        "{stats:?}"
    );

    // The row template overridden, changed, broken, fixed and removed:
    // every row is made again each time it changes.
    let row = root.join("templates/handoff_row.html");
    editor.write(
        &row,
        r#"<tr class="mine" data-id="{{ h.id }}"><td>{{ root }}{{ h.url }}{{ index }}</td><td>{{ h.title }}</td></tr>"#,
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.theme_loaded, "{stats:?}");
    assert_eq!(stats.items_made, items, "{stats:?}");
    assert_eq!(stats.entries_written, 0, "{stats:?}");
    editor.replace(
        &row,
        "<td>{{ h.title }}</td>",
        "<td>{{ h.title }} ({{ h.score }})</td>",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.items_made == items, "{stats:?}");
    editor.replace(&row, "{{ h.title }} (", "{{ h.title }} {% broken (");
    let (ok, _) = step(&mut session, &mut editor);
    assert!(!ok);
    editor.replace(&row, "{{ h.title }} {% broken (", "{{ h.title }} (");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok, "{stats:?}");
    editor.replace(
        &identity,
        "owner = \"Elena Varga\"",
        "owner = \"Elena Varga-Lund\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(
        ok && stats.items_made <= 3 && stats.entries_written == 1,
        "{stats:?}"
    );
    editor.remove(&row);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.theme_loaded, "{stats:?}");

    // The table around the rows: another template, so every row again.
    let builtin =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/components.html");
    let components = std::fs::read_to_string(builtin).expect("read components.html");
    let table = root.join("templates/components.html");
    editor.write(
        &table,
        &components.replacen("<tbody>", "<tbody class=\"overridden\">", 1),
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.items_made == items, "{stats:?}");
    editor.remove(&table);
    let (ok, _) = step(&mut session, &mut editor);
    assert!(ok);

    // A grade: scores, bands and rollups are brought up to date, and the
    // handoff's items and entry made again; no other handoff's item is.
    editor.replace(&identity, "proof = \"missing\"", "proof = \"strong\"");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(
        ok && stats.model_updated && !stats.model_computed,
        "{stats:?}"
    );
    assert!(
        stats.items_made <= 3 && stats.entries_written >= 1,
        "{stats:?}"
    );
    editor.replace(
        &identity,
        "next_action = \"weak\"",
        "next_action = \"strong\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.model_updated, "{stats:?}");
    // The other handoffs' items are known current by their handoffs, not
    // hashed; the home page's few are.
    assert!(stats.items_hashed < items / 2, "{items} {stats:?}");

    // A new brief moves every other one down the lists: items are kept
    // by handoff, not by place, so only its own are made.
    let text = std::fs::read_to_string(&identity).expect("read");
    let added = root.join("content/handoffs/aaa-added.md");
    editor.write(
        &added,
        &text
            .replace("identity clean-up", "added")
            .replace("date = 2026-05-20", "date = 2026-05-30"),
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.model_computed, "{stats:?}");
    assert!(stats.items_made <= 4, "{stats:?}");
    editor.remove(&added);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.model_computed, "{stats:?}");
    // After a build that moved every card, and so found every item by
    // its key, an edit hashes only its own handoff's items again.
    editor.replace(&identity, "identity clean-up", "identity clean-up, later");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && !stats.model_computed, "{stats:?}");
    assert!(
        stats.items_made <= 3 && stats.items_hashed <= 3,
        "{stats:?}"
    );
}

/// How many pages of a fresh build are under `section/` (its index
/// aside): scorecards, bands, partners or sellers.
fn pages_under(root: &Path, args: &BuildArgs, section: &str) -> usize {
    let fresh = build::render_in_memory(root, args, &RenderOptions::default()).expect("builds");
    fresh
        .output
        .iter()
        .filter(|(path, _)| {
            path.starts_with(&format!("{section}/"))
                && path.ends_with("/index.html")
                && path.matches('/').count() == 2
        })
        .count()
}

/// Edits that change only grades bring the last model up to date rather
/// than computing it again, and carry over every scorecard, band and
/// rollup page that does not show a regraded handoff; each build is
/// still byte for byte a fresh one.
#[test]
fn grade_edits_match_a_fresh_build() {
    let site = example_site();
    let root = site.path();
    let handoffs = root.join("content/handoffs");
    let args = BuildArgs::default();
    let options = RenderOptions {
        explicit_index: false,
        inject: Some("<script>reload</script>".into()),
    };
    let mut session = Session::new(root, args.clone(), options.clone());
    let mut editor = Editor::at(root);
    let step = |session: &mut Session, editor: &mut Editor| {
        rebuild(session, root, &args, &options, Some(&editor.changes()))
    };
    let (ok, _) = step(&mut session, &mut editor);
    assert!(ok);
    let [scorecards, bands, partners, sellers] =
        ["handoffs", "bands", "partners", "sellers"].map(|s| pages_under(root, &args, s));
    assert!(
        bands == 3 && partners > 2 && sellers > 2,
        "{bands} {partners} {sellers}"
    );
    let updated = |stats: &BuildStats| {
        stats.model_updated && !stats.model_computed && !stats.events_read && !stats.full
    };
    // Every scorecard, band, partner and seller page but those showing
    // the `regraded` handoffs, in `moved` more bands than theirs.
    let carried = |stats: &BuildStats, regraded: usize, moved: usize| {
        let at_least = scorecards - regraded + bands - regraded - moved + partners - regraded
            + sellers
            - regraded;
        assert!(stats.pages_carried >= at_least, "{at_least}: {stats:?}");
    };

    // 10 → 11 of 18: still "Needs work".
    let identity = handoffs.join("aldergrove-kestrel-identity.md");
    editor.replace(&identity, "proof = \"missing\"", "proof = \"weak\"");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && updated(&stats), "{stats:?}");
    carried(&stats, 1, 0);
    // Its scorecard, band, partner and seller pages and the handoff list,
    // and of the small pages reading the whole model, those that changed.
    assert!(
        (5..=5 + 1 + 3 + Field::ALL.len() + 1).contains(&stats.pages_rendered),
        "{stats:?}"
    );
    assert!(!stats.data_reused, "{stats:?}");
    assert!(
        (1..=3).contains(&stats.items_made) && stats.entries_written == 1,
        "{stats:?}"
    );

    // 11 → 9: into "Not ready", out of "Needs work".
    editor.replace(
        &identity,
        "partner_context = \"strong\"",
        "partner_context = \"missing\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && updated(&stats), "{stats:?}");
    carried(&stats, 1, 1);

    // The same score, band and fixes, other grades: only the band's
    // shares show it.
    editor.replace(
        &identity,
        "target_account = \"weak\"\npartner_context = \"missing\"",
        "target_account = \"missing\"\npartner_context = \"weak\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && updated(&stats), "{stats:?}");
    carried(&stats, 1, 0);

    // Two briefs at once, of other partners and sellers.
    let ember = handoffs.join("ember-orbit-booking.md");
    editor.replace(&identity, "proof = \"weak\"", "proof = \"strong\"");
    let text = std::fs::read_to_string(&ember).expect("read");
    let proof = ["strong", "weak", "missing"]
        .into_iter()
        .find(|grade| text.contains(&format!("proof = \"{grade}\"")))
        .expect("a proof grade");
    let other = if proof == "missing" {
        "strong"
    } else {
        "missing"
    };
    editor.replace(
        &ember,
        &format!("proof = \"{proof}\""),
        &format!("proof = \"{other}\""),
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && updated(&stats), "{stats:?}");
    assert_eq!(stats.briefs_parsed, 2);
    carried(&stats, 2, 2);

    // Then a title: the model is reused as it was updated.
    editor.replace(
        &identity,
        "identity clean-up\"",
        "identity clean-up, again\"",
    );
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(
        ok && !stats.model_updated && !stats.model_computed,
        "{stats:?}"
    );
    assert!(stats.pages_rendered <= 6, "{stats:?}");
    carried(&stats, 1, 0);

    // A grade and the title in one save, as the benchmark edits.
    editor.replace(&identity, "proof = \"strong\"", "proof = \"missing\"");
    editor.replace(&identity, "clean-up, again\"", "clean-up\"");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && updated(&stats), "{stats:?}");
    carried(&stats, 1, 1);

    // A grade that does not parse fails the build, before the model; the
    // next good one starts from the last good model, brought up to date
    // unless the event log was read again (the load reads it again after
    // a brief failed).
    editor.replace(&identity, "proof = \"missing\"", "proof = \"sorta\"");
    let (ok, _) = step(&mut session, &mut editor);
    assert!(!ok);
    editor.replace(&identity, "proof = \"sorta\"", "proof = \"weak\"");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok, "{stats:?}");
    assert_eq!(stats.model_updated, !stats.events_read, "{stats:?}");
    assert_eq!(stats.model_computed, stats.events_read, "{stats:?}");

    // A draft has no card without --drafts: nothing else changes.
    let draft = handoffs.join("brightwater-snowline-draft.md");
    editor.replace(&draft, "proof = \"missing\"", "proof = \"strong\"");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && updated(&stats), "{stats:?}");
    assert!(stats.pages_rendered == 0 && stats.data_reused, "{stats:?}");

    // A grade and the event log at once: the model is computed.
    editor.replace(&identity, "proof = \"weak\"", "proof = \"strong\"");
    let events = root.join("content/events.csv");
    let mut log = std::fs::read_to_string(&events).expect("read events");
    log.push_str(
        "2026-06-01,pipeline_mention,Jordan Lee,,Halvorsen Logistics,Snowline Data,,yes,added\n",
    );
    editor.write(&events, &log);
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(ok && stats.events_read, "{stats:?}");
    assert!(stats.model_computed && !stats.model_updated, "{stats:?}");

    // And a grade with a date: computed too.
    editor.replace(&identity, "proof = \"strong\"", "proof = \"weak\"");
    editor.replace(&identity, "date = 2026-05-20", "date = 2026-05-21");
    let (ok, stats) = step(&mut session, &mut editor);
    assert!(
        ok && stats.model_computed && !stats.model_updated,
        "{stats:?}"
    );
}

/// A draft's grades show on its own scorecard (with --drafts) and
/// nowhere else.
#[test]
fn draft_grade_edits_render_only_the_draft() {
    let site = example_site();
    let root = site.path();
    let args = BuildArgs {
        drafts: true,
        ..BuildArgs::default()
    };
    let options = RenderOptions::default();
    let mut session = Session::new(root, args.clone(), options.clone());
    let mut editor = Editor::at(root);
    let (ok, _) = rebuild(&mut session, root, &args, &options, None);
    assert!(ok);
    let draft = root.join("content/handoffs/brightwater-snowline-draft.md");
    editor.replace(
        &draft,
        "next_action = \"missing\"",
        "next_action = \"strong\"",
    );
    let (ok, stats) = rebuild(&mut session, root, &args, &options, Some(&editor.changes()));
    assert!(
        ok && stats.model_updated && !stats.model_computed,
        "{stats:?}"
    );
    assert_eq!(stats.pages_rendered, 1, "{stats:?}");
    assert!(stats.data_reused, "{stats:?}");
}
