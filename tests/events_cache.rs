//! `trustcard build` keeps its parsed events in the output folder and
//! takes them from there next time only when nothing they were read from
//! changed; whatever it takes them from, the output is the same.

mod common;

use std::path::Path;

use common::{age, copy_site, fixture, snapshot, stderr, trustcard};

const CACHE: &str = ".trustcard-cache";

fn site() -> tempfile::TempDir {
    let dir = copy_site(&fixture("basic"));
    for entry in walkdir::WalkDir::new(dir.path()) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            age(entry.path(), 0);
        }
    }
    dir
}

/// Builds `root` into `out` and says whether the events came from the
/// cache.
fn build(root: &Path, out: &Path) -> bool {
    build_with(Path::new(env!("CARGO_BIN_EXE_trustcard")), root, out)
}

/// [`build`] with the trustcard binary at `binary`.
fn build_with(binary: &Path, root: &Path, out: &Path) -> bool {
    let run = || {
        std::process::Command::new(binary)
            .arg("--root")
            .arg(root)
            .args(["build", "--output"])
            .arg(out)
            .env("TRUSTCARD_TIMINGS", "1")
            .output()
    };
    // A binary this process just copied can be "busy" for a moment: a child
    // that another test thread forked meanwhile holds the copy's write
    // handle until it execs.
    let mut output = run();
    for _ in 0..50 {
        match &output {
            Err(error) if error.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                output = run();
            }
            _ => break,
        }
    }
    let output = output.expect("run trustcard");
    let stderr = stderr(&output);
    assert!(output.status.success(), "build failed:\n{stderr}");
    stderr.contains("load: events (from cache)")
}

/// The output folder without the cache, whose stamps differ between
/// copies of a site.
fn pages(out: &Path) -> Vec<(String, Vec<u8>)> {
    snapshot(out)
        .into_iter()
        .filter(|(path, _)| path != CACHE)
        .collect()
}

/// What a build of `root` without any cache writes.
fn fresh(root: &Path) -> Vec<(String, Vec<u8>)> {
    let out = tempfile::tempdir().expect("temp dir");
    let out = out.path().join("public");
    assert!(!build(root, &out));
    pages(&out)
}

#[test]
fn a_second_build_takes_the_events_from_the_cache() {
    let dir = site();
    let root = dir.path();
    let out = root.join("public");
    assert!(!build(root, &out));
    assert!(out.join(CACHE).is_file());
    let first = pages(&out);
    assert!(build(root, &out));
    assert_eq!(pages(&out), first);
    assert_eq!(pages(&out), fresh(root));
    // The cache is not an output file: a third build keeps it.
    assert!(build(root, &out));
    let manifest = std::fs::read_to_string(out.join(".trustcard-manifest")).expect("manifest");
    assert!(!manifest.contains(CACHE));
}

#[test]
fn another_trustcard_binary_does_not_take_the_cache() {
    let dir = site();
    let root = dir.path();
    let out = root.join("public");
    assert!(!build(root, &out));
    // The same program, but a different file: as after `cargo install`.
    let bin = tempfile::tempdir().expect("temp dir");
    let other = bin.path().join("trustcard");
    std::fs::copy(env!("CARGO_BIN_EXE_trustcard"), &other).expect("copy binary");
    age(&other, 7);
    assert!(!build_with(&other, root, &out));
    assert!(build_with(&other, root, &out));
    // The manifest's render keys name the binary too, so only it differs.
    let without_manifest = |files: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        files
            .into_iter()
            .filter(|(path, _)| path != ".trustcard-manifest")
            .collect()
    };
    assert_eq!(without_manifest(pages(&out)), without_manifest(fresh(root)));
}

#[test]
fn changed_inputs_invalidate_the_cache() {
    let dir = site();
    let root = dir.path();
    let out = root.join("public");
    let events = root.join("content/events.csv");
    let handoffs = root.join("content/handoffs");
    assert!(!build(root, &out));
    assert!(build(root, &out));

    // New content, new time.
    let mut text = std::fs::read_to_string(&events).expect("read");
    text.push_str("2026-10-05,accepted,Jordan Lee,globex,,,,,\n");
    std::fs::write(&events, &text).expect("write");
    age(&events, 1);
    assert!(!build(root, &out));
    assert!(build(root, &out));
    assert_eq!(pages(&out), fresh(root));

    // The same content, a new time.
    age(&events, 2);
    assert!(!build(root, &out));
    assert!(build(root, &out));

    // A brief the events name appears: rows that were errors are not.
    let brief = std::fs::read_to_string(handoffs.join("globex.md")).expect("read");
    std::fs::write(handoffs.join("aaa-new.md"), &brief).expect("write");
    age(&handoffs.join("aaa-new.md"), 3);
    text.push_str("2026-10-05,accepted,Jordan Lee,aaa-new,,,,,\n");
    std::fs::write(&events, &text).expect("write");
    age(&events, 4);
    assert!(!build(root, &out));
    assert!(build(root, &out));
    std::fs::remove_file(handoffs.join("aaa-new.md")).expect("remove");
    text = text.replace("2026-10-05,accepted,Jordan Lee,aaa-new,,,,,\n", "");
    std::fs::write(&events, &text).expect("write");
    age(&events, 5);
    assert!(!build(root, &out));
    assert!(build(root, &out));
    // Only the brief is new; the events file is as it was.
    std::fs::write(handoffs.join("aaa-new.md"), &brief).expect("write");
    age(&handoffs.join("aaa-new.md"), 6);
    assert!(!build(root, &out));
    assert!(build(root, &out));
    assert_eq!(pages(&out), fresh(root));

    // A rename moves a brief in the list the events point into.
    std::fs::rename(handoffs.join("aaa-new.md"), handoffs.join("zzz-new.md")).expect("rename");
    assert!(!build(root, &out));
    assert!(build(root, &out));
    assert_eq!(pages(&out), fresh(root));
}

#[test]
fn a_damaged_cache_is_ignored() {
    let dir = site();
    let root = dir.path();
    let out = root.join("public");
    assert!(!build(root, &out));
    let expected = pages(&out);
    let good = std::fs::read(out.join(CACHE)).expect("cache");
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    for damaged in [
        good[..good.len() / 2].to_vec(),
        good[..good.len() - 1].to_vec(),
        Vec::new(),
        flipped,
        b"not a cache at all".to_vec(),
    ] {
        std::fs::write(out.join(CACHE), &damaged).expect("write");
        assert!(!build(root, &out));
        assert_eq!(pages(&out), expected);
        // Replaced by a good one.
        assert!(build(root, &out));
    }
}

#[test]
fn events_with_warnings_are_not_cached() {
    let dir = site();
    let root = dir.path();
    let out = root.join("public");
    let events = root.join("content/events.csv");
    let text = std::fs::read_to_string(&events).expect("read");
    // An unknown column is a warning, not an error.
    let text: String = text
        .lines()
        .enumerate()
        .map(|(n, line)| match n {
            0 => format!("{line},extra\n"),
            _ => format!("{line},\n"),
        })
        .collect();
    std::fs::write(&events, text).expect("write");
    age(&events, 1);
    let out_arg = out.to_str().expect("utf-8");
    let first = trustcard(root, &["build", "--output", out_arg]);
    assert!(first.status.success(), "{}", stderr(&first));
    // Without the build summary, whose time varies.
    let messages = |output: &std::process::Output| -> Vec<String> {
        stderr(output)
            .lines()
            .filter(|line| !line.starts_with("built "))
            .map(str::to_string)
            .collect()
    };
    let warnings = stderr(&first);
    assert!(warnings.contains("unknown column `extra`"), "{warnings}");
    assert!(!out.join(CACHE).exists());
    let second = trustcard(root, &["build", "--output", out_arg]);
    assert!(second.status.success());
    assert_eq!(messages(&second), messages(&first));
    assert!(!out.join(CACHE).exists());
}

#[test]
fn a_build_that_fails_while_rendering_leaves_the_output_as_it_was() {
    let dir = site();
    let root = dir.path();
    let out = root.join("public");
    let out_arg = out.to_str().expect("utf-8");
    let events = root.join("content/events.csv");
    // The events' copy is written while pages render; this template fails
    // only when a page renders with it, after that has begun.
    let broken = root.join("templates/handoff.html");
    std::fs::create_dir_all(root.join("templates")).expect("create");
    let fail = || {
        std::fs::write(&broken, "<p>{{ handoff.nope }}</p>\n").expect("write");
        let failed = trustcard(root, &["build", "--output", out_arg]);
        assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
        assert!(stderr(&failed).contains("`nope` is not defined"));
        std::fs::remove_file(&broken).expect("remove");
    };
    let entries = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    };

    // Into a fresh folder: nothing at all, not even a staging folder.
    let before = entries(root);
    fail();
    assert_eq!(entries(root), before);

    // Into a folder a build wrote, with events to keep anew.
    assert!(!build(root, &out));
    age(&events, 1);
    let before = snapshot(&out);
    fail();
    assert_eq!(snapshot(&out), before);
    // The copy from before the failure still stands for the old events,
    // not the new ones.
    assert!(!build(root, &out));
    assert!(build(root, &out));
}
