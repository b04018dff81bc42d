//! The binary driven end to end: exit codes, messages and files written for
//! each command.

mod common;

use common::*;
use std::process::Command;

fn bare(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trustcard"))
        .args(args)
        .output()
        .expect("run trustcard")
}

#[test]
fn version_and_help() {
    let version = bare(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("trustcard {}", env!("CARGO_PKG_VERSION"))
    );
    let help = bare(&["--help"]);
    let text = stdout(&help);
    for command in ["build", "check", "serve", "init", "new", "completions"] {
        assert!(text.contains(command), "help lacks {command}:\n{text}");
    }
    assert!(
        !text.contains("synth"),
        "the benchmark generator stays out of help"
    );
    let build_help = stdout(&bare(&["build", "--help"]));
    for flag in [
        "--output",
        "--base-url",
        "--drafts",
        "--as-of",
        "--explicit-index",
        "--root",
    ] {
        assert!(build_help.contains(flag), "build help lacks {flag}");
    }
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = bare(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        assert!(stdout(&output).contains("trustcard"), "{shell}");
    }
    let bad = bare(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn init_makes_a_site_that_builds_and_refuses_a_non_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("scorecard");
    let output = bare(&["init", site.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(site.join("site.toml").is_file());
    assert!(site.join("content/events.csv").is_file());
    let check = trustcard(&site, &["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("0 error(s), 0 warning(s)"),
        "{}",
        stderr(&check)
    );
    let out = build(&site, &[]);
    assert!(
        out.join("handoffs/fabrikam-cobalt-analytics/index.html")
            .is_file()
    );
    assert!(out.join("faq/index.html").is_file());

    let again = bare(&["init", site.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("is not empty"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn new_handoff_writes_a_draft_that_keeps_the_site_building() {
    let site = copy_site(&fixture("basic"));
    let output = trustcard(
        site.path(),
        &["new", "handoff", "Wayne Enterprises × Datadog"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let path = site
        .path()
        .join("content/handoffs/wayne-enterprises-x-datadog.md");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("draft = true"));
    assert_eq!(text.matches("= \"missing\"").count(), 9);
    for heading in [
        "## Target account logic",
        "## Acceptance criteria",
        "## Proof",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    let out = build(site.path(), &["--drafts"]);
    assert!(
        out.join("handoffs/wayne-enterprises-x-datadog/index.html")
            .is_file()
    );
    // The draft does not count.
    let json = read(&out, "data/scorecard.json");
    assert!(!json.contains("wayne-enterprises-x-datadog"));

    let again = trustcard(
        site.path(),
        &["new", "handoff", "Wayne Enterprises × Datadog"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "never overwritten"
    );
}

#[test]
fn check_reports_everything_in_text_and_json_and_writes_nothing() {
    let site = copy_site(&fixture("basic"));
    let ok = trustcard(site.path(), &["check"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    let brief = site.path().join("content/handoffs/globex.md");
    let text = std::fs::read_to_string(&brief).unwrap();
    std::fs::write(
        &brief,
        text.replace("seller = ", "seler = ")
            .replace("proof = \"missing\"", "proof = \"stong\""),
    )
    .unwrap();
    let failed = trustcard(site.path(), &["check"]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(
        stderr(&failed),
        "content/handoffs/globex.md:6:1: error: unknown key `seler` in front matter\n  hint: did you mean `seller`?\n\
content/handoffs/globex.md:19:9: error: grade `stong` for `proof` must be \"strong\", \"weak\" or \"missing\"\n  hint: did you mean \"strong\"?\n\
checked: 2 error(s), 0 warning(s)\n"
    );

    let json = trustcard(site.path(), &["check", "--format", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(value["errors"].as_array().unwrap().len(), 2);
    assert_eq!(value["errors"][0]["file"], "content/handoffs/globex.md");
    assert_eq!(value["errors"][0]["line"], 6);
    assert_eq!(value["errors"][0]["column"], 1);
    assert!(
        value["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown key `seler`")
    );
    assert_eq!(value["warnings"], serde_json::json!([]));
    assert!(!site.path().join("public").exists(), "check writes nothing");
}

#[test]
fn quiet_build_prints_nothing_and_the_summary_counts_pages() {
    let site = copy_site(&fixture("basic"));
    let loud = trustcard(site.path(), &["build"]);
    assert!(loud.status.success());
    let summary = stderr(&loud);
    assert!(summary.starts_with("built 4 handoffs, "), "{summary}");
    assert!(
        summary.contains(" pages in ") && summary.contains(" ms → "),
        "{summary}"
    );
    let quiet = trustcard(site.path(), &["build", "--quiet"]);
    assert!(quiet.status.success());
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let site = copy_site(&fixture("basic"));
    let bad_date = trustcard(site.path(), &["build", "--as-of", "2026-02-30"]);
    assert_eq!(bad_date.status.code(), Some(2));
    assert!(
        stderr(&bad_date).contains("not a real calendar date"),
        "{}",
        stderr(&bad_date)
    );
    let bad_url = trustcard(site.path(), &["build", "--base-url", "intranet"]);
    assert_eq!(bad_url.status.code(), Some(1));
    assert!(stderr(&bad_url).contains("--base-url `intranet` is not an http(s) URL"));
    let no_site = bare(&["--root", "/nonexistent/site", "build"]);
    assert_eq!(no_site.status.code(), Some(1));
    assert!(stderr(&no_site).contains("no site.toml in /nonexistent/site"));
}

#[test]
fn as_of_cuts_later_data_everywhere() {
    let site = copy_site(&fixture("basic"));
    let out = build(site.path(), &["--as-of", "2026-09-30"]);
    let json: serde_json::Value = serde_json::from_str(&read(&out, "data/scorecard.json")).unwrap();
    assert_eq!(json["as_of"], "2026-09-30");
    let ids = handoff_field(&json, "id");
    assert_eq!(ids, ["acme-datadog", "zoe-deal"]);
    assert!(!out.join("handoffs/globex/index.html").exists());
    let last = json["periods"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["period"], "2026-09");
}
