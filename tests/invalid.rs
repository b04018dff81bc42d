//! The invalid-site corpus: every folder under tests/invalid is a site with
//! one kind of mistake, and `expected.txt` beside it holds exactly what
//! `trustcard check` must print. Set TRUSTCARD_BLESS=1 to rewrite the
//! expectations after reviewing a deliberate change.

mod common;

use std::path::Path;
use std::process::Command;

fn run(case: &Path, command: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trustcard"))
        .current_dir(case)
        .args([command, "--root", "."])
        .output()
        .expect("run trustcard")
}

#[test]
fn every_invalid_site_gets_its_exact_message() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "corpus shrank to {}", cases.len());
    let bless = std::env::var_os("TRUSTCARD_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let check = run(case, "check");
        assert_eq!(check.status.code(), Some(1), "{name}: check must exit 1");
        let actual = String::from_utf8_lossy(&check.stderr).into_owned();
        let expected_path = case.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &actual).expect("bless");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{name}: no expected.txt (run with TRUSTCARD_BLESS=1)"));
        if actual != expected {
            failures.push(format!(
                "== {name}\n--- expected\n{expected}--- actual\n{actual}"
            ));
        }

        // build fails the same way and writes nothing.
        let build = run(case, "build");
        assert_eq!(build.status.code(), Some(1), "{name}: build must exit 1");
        let build_stderr = String::from_utf8_lossy(&build.stderr);
        let diagnostics: String = actual
            .lines()
            .filter(|l| !l.starts_with("checked:"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            build_stderr.starts_with(&diagnostics),
            "{name}: build printed\n{build_stderr}"
        );
        assert!(!case.join("public").exists(), "{name}: build wrote output");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
