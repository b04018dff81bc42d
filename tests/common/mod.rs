//! Shared helpers for the integration tests: run the real binary on a copy
//! of a fixture site, then read what it wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a fixture into a fresh temp dir so tests never write into the
/// repository and can edit the site freely.
pub fn copy_site(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(from, dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixture");
        let relative = entry.path().strip_prefix(from).expect("inside fixture");
        let target = to.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("create dir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

pub fn trustcard(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustcard"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run trustcard")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Builds `root` into `root/public`, panicking with stderr on failure.
pub fn build(root: &Path, extra: &[&str]) -> PathBuf {
    let out = root.join("public");
    let mut args = vec!["build", "--output"];
    let out_str = out.to_str().expect("utf-8 path").to_string();
    args.push(&out_str);
    args.extend_from_slice(extra);
    let output = trustcard(root, &args);
    assert!(
        output.status.success(),
        "build failed:\n{}",
        stderr(&output)
    );
    out
}

pub fn read(out: &Path, path: &str) -> String {
    std::fs::read_to_string(out.join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// One text field of every handoff in `data/scorecard.json`, in its order.
pub fn handoff_field<'a>(json: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    let handoffs = json["handoffs"].as_array().expect("handoffs is an array");
    handoffs
        .iter()
        .map(|h| {
            h[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} is text"))
        })
        .collect()
}

pub fn html(out: &Path, path: &str) -> scraper::Html {
    scraper::Html::parse_document(&read(out, path))
}

pub fn select<'a>(document: &'a scraper::Html, selector: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector =
        scraper::Selector::parse(selector).unwrap_or_else(|e| panic!("selector {selector}: {e:?}"));
    document.select(&selector).collect()
}

pub fn text(element: &scraper::ElementRef<'_>) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every file under `dir` with its bytes, for byte-for-byte comparisons.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let relative = e
                .path()
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .into_owned();
            (relative, std::fs::read(e.path()).expect("read"))
        })
        .collect();
    files.sort();
    files
}

/// Dates a file `n` seconds after a fixed day long past: its stamp is then
/// trusted by the caches (files saved in the last few seconds are always
/// re-read), and every edit gets its own time, as saves seconds apart would.
pub fn age(path: &Path, n: u64) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    let time =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000 + n);
    file.set_modified(time).expect("set mtime");
}
