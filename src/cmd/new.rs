//! `trustcard new handoff "NAME"`: a draft brief with every key, ready to
//! fill in.

use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::diagnostics::{Diagnostic, Failure};
use crate::score::Component;
use crate::site::HANDOFFS_DIR;

/// The brief's text. `date` is passed in so the text is testable; the
/// command uses today's date, which is only a starting value for the
/// author to correct.
pub fn brief_text(name: &str, date: Date) -> String {
    let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
    let mut text = format!(
        "+++\n\
title = \"{escaped}\"\n\
date = {date}                # the day the handoff reaches sales\n\
account = \"\"                 # the target account\n\
partner = \"\"                 # the partner\n\
seller = \"\"                  # the seller who receives it\n\
owner = \"\"                   # one named person who runs the next move\n\
draft = true                 # remove when it is ready: drafts never count\n\
# respond_within_days = 5    # defaults to response_window_days in site.toml\n\
\n\
[grades]                     # each \"strong\", \"weak\" or \"missing\"\n"
    );
    for component in Component::ALL {
        text.push_str(&format!("{} = \"missing\"\n", component.key()));
    }
    text.push_str("\n[notes]                      # optional: why a component got its grade\n");
    text.push_str("# partner_offer = \"No date agreed with the partner yet.\"\n+++\n");
    for component in Component::ALL {
        text.push_str(&format!(
            "\n## {}\n\n<!-- {} -->\n",
            component.display_name(),
            component.question()
        ));
    }
    text
}

pub fn today() -> Date {
    jiff::tz::Offset::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

/// Writes the brief and returns its path; refuses to overwrite.
pub fn run(root: &Path, name: &str, date: Date) -> Result<PathBuf, Failure> {
    let slug = slug::slugify(name);
    if slug.is_empty() {
        return Err(Diagnostic::error(format!(
            "`{name}` has no letters or digits to make a file name from"
        ))
        .with_hint("name the handoff after its account and partner: \"Acme × Datadog\"")
        .into());
    }
    if !root.join(crate::config::CONFIG_FILE).is_file() {
        return Err(
            Diagnostic::error(format!("no site.toml in {}", root.display()))
                .with_hint("run this inside a site folder or pass --root DIR")
                .into(),
        );
    }
    let dir = root.join(HANDOFFS_DIR);
    let path = dir.join(format!("{slug}.md"));
    if path.exists() {
        return Err(
            Diagnostic::error(format!("{} already exists", path.display()))
                .with_hint("pick another name, or edit the existing brief")
                .into(),
        );
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Diagnostic::error(format!("cannot create {}: {e}", dir.display())))?;
    std::fs::write(&path, brief_text(name, date))
        .map_err(|e| Diagnostic::error(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Brief;
    use crate::content::markdown::MarkdownOptions;
    use crate::diagnostics::Diagnostics;

    #[test]
    fn a_new_brief_parses_as_a_draft_with_every_grade_missing() {
        let text = brief_text("Zoë \"Big\" Deal", jiff::civil::date(2026, 11, 23));
        let mut diagnostics = Diagnostics::new();
        let brief = Brief::parse(
            "x.md",
            "zoe-big-deal",
            &text,
            MarkdownOptions::default(),
            &mut diagnostics,
        )
        .expect("a new brief is valid");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(brief.handoff.draft);
        assert_eq!(brief.handoff.score(), 0);
        assert_eq!(brief.handoff.title, "Zoë \"Big\" Deal");
        assert!(text.contains("title = \"Zoë \\\"Big\\\" Deal\""));
        assert_eq!(text.matches("= \"missing\"").count(), 9);
    }
}
