//! A handoff brief: front matter checked key by key, body rendered.

use toml::de::{DeTable, DeValue};

use super::front_matter;
use super::markdown::{self, MarkdownOptions};
use crate::diagnostics::{Diagnostic, Diagnostics, Position, did_you_mean};
use crate::score::{Component, Grade, Grades, Handoff};
use crate::toml_doc::{Reader, TomlSource, get};

#[derive(Debug, Clone)]
pub struct Brief {
    /// Path relative to the site root, as diagnostics show it.
    pub source: String,
    pub handoff: Handoff,
    /// Rendered HTML per component, in [`Component::ALL`] order.
    pub notes: [Option<String>; 9],
    /// The Markdown below the front matter. It is rendered only when its
    /// scorecard page is (see [`Brief::body_html`]): a rebuild that finds
    /// the page unchanged never renders it.
    pub body: String,
    /// How `body` renders.
    pub markdown: MarkdownOptions,
    pub extra: serde_json::Value,
    /// Where the id comes from (the `id` key or the file's first line), for
    /// duplicate-id errors.
    pub id_position: Position,
}

const KEYS: &[&str] = &[
    "title",
    "date",
    "account",
    "partner",
    "seller",
    "owner",
    "id",
    "draft",
    "respond_within_days",
    "grades",
    "notes",
    "extra",
];

const REQUIRED_TEXT: [&str; 4] = ["title", "account", "partner", "seller"];

/// A valid id: lowercase ASCII letters, digits and hyphens. Also what keeps
/// `/handoffs/<id>/` inside the output folder.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Brief {
    /// Parses one brief. `file` is its display path and `stem` its file
    /// name without extension (the default id). Every problem goes into
    /// `diagnostics`; `None` means at least one was an error.
    pub fn parse(
        file: &str,
        stem: &str,
        text: &str,
        options: MarkdownOptions,
        diagnostics: &mut Diagnostics,
    ) -> Option<Brief> {
        let split = match front_matter::split(file, text, true) {
            Ok(split) => split,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                return None;
            }
        };
        let source = TomlSource::new(file, split.text, split.front_matter_offset);
        let mut local = Diagnostics::new();
        let Some(table) = source.parse(split.front_matter, &mut local) else {
            diagnostics.extend(local);
            return None;
        };
        let brief = parse_front_matter(&source, stem, &table, options, &mut local);
        let failed = local.has_errors();
        diagnostics.extend(local);
        if failed {
            return None;
        }
        let mut brief = brief?;
        brief.body = split.body.to_string();
        Some(brief)
    }

    /// The id of a brief without an `id` key: its file name as a slug.
    pub fn default_id(stem: &str) -> String {
        slug::slugify(stem)
    }

    /// The id a brief that failed to parse would have had: its `id` key
    /// when the front matter is readable TOML and has one, else
    /// [`Brief::default_id`]. Events naming it are then not also reported
    /// as naming an unknown handoff.
    pub fn claimed_id(stem: &str, text: &str) -> String {
        front_matter::split("", text, true)
            .ok()
            .and_then(|split| split.front_matter.parse::<toml::Table>().ok())
            .and_then(|table| match table.get("id") {
                Some(toml::Value::String(id)) => Some(id.clone()),
                _ => None,
            })
            .unwrap_or_else(|| Brief::default_id(stem))
    }

    /// The body as HTML, heading ids and footnotes prefixed `body-`.
    pub fn body_html(&self) -> String {
        markdown::render(&self.body, self.markdown, "body-").html
    }
}

fn parse_front_matter(
    source: &TomlSource<'_>,
    stem: &str,
    table: &DeTable<'_>,
    options: MarkdownOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Brief> {
    let file_start = Position {
        line: 1,
        column: Some(1),
    };
    let misspelt = source.reject_unknown_keys(table, KEYS, " in front matter", diagnostics);
    let mut reader = Reader {
        source,
        diagnostics,
    };

    // Drafts may leave names empty: `trustcard new` writes them that way so
    // the site keeps building while the author fills them in.
    let draft = reader.boolean(table, "draft").unwrap_or(false);
    let mut texts: [Option<String>; 4] = Default::default();
    for (slot, key) in texts.iter_mut().zip(REQUIRED_TEXT) {
        match reader.string(table, key) {
            Some((value, span)) if value.trim().is_empty() && !(draft && key != "title") => {
                reader.diagnostics.push(
                    source
                        .error(&span, format!("`{key}` must not be empty"))
                        .with_hint("only drafts may leave names empty"),
                );
            }
            Some((value, _)) => *slot = Some(value.trim().to_string()),
            None if get(table, key).is_none() && !misspelt.contains(&key) => {
                reader.diagnostics.push(
                    Diagnostic::error(format!("missing required key `{key}`"))
                        .in_file(source.file)
                        .at(file_start)
                        .with_hint(format!("add `{key} = \"…\"` to the front matter")),
                )
            }
            None => {}
        }
    }
    let owner = reader
        .string(table, "owner")
        .map(|(owner, _)| owner.trim().to_string())
        .filter(|owner| !owner.is_empty());
    let date = reader.date(table, "date");
    if date.is_none() && !draft && get(table, "date").is_none() && !misspelt.contains(&"date") {
        reader.diagnostics.push(
            Diagnostic::error("missing required key `date`")
                .in_file(source.file)
                .at(file_start)
                .with_hint("add the day the handoff reached sales, like `date = 2026-10-02`, or mark it `draft = true`"),
        );
    }
    let respond_within_days = reader
        .count(table, "respond_within_days")
        .map(|(days, _)| days);

    let (id, id_position) = match reader.string(table, "id") {
        Some((id, span)) => {
            let position = source.position(&span);
            if !is_valid_id(&id) {
                reader.diagnostics.push(
                    source
                        .error(&span, format!("invalid id `{id}`"))
                        .with_hint("an id may only hold lowercase letters, digits and hyphens"),
                );
            }
            (id, position)
        }
        None => {
            let slug = Brief::default_id(stem);
            if slug.is_empty() {
                reader.diagnostics.push(
                    Diagnostic::error(format!("the file name `{stem}` gives an empty id"))
                        .in_file(source.file)
                        .at(file_start)
                        .with_hint("rename the file or set `id = \"…\"` in the front matter"),
                );
            }
            (slug, file_start)
        }
    };

    let grades = read_grades(&mut reader, table);
    let notes = read_notes(&mut reader, table, options);
    let extra = reader
        .table(table, "extra")
        .map(|extra| crate::toml_doc::to_json(&DeValue::Table(extra.clone())))
        .unwrap_or_else(|| serde_json::Value::Object(Default::default()));

    let [title, account, partner, seller] = texts;
    Some(Brief {
        source: source.file.to_string(),
        handoff: Handoff {
            id,
            title: title?,
            date,
            account: account?,
            partner: partner?,
            seller: seller?,
            owner,
            draft,
            respond_within_days,
            grades: grades?,
        },
        notes,
        body: String::new(),
        markdown: options,
        extra,
        id_position,
    })
}

fn read_grades(reader: &mut Reader<'_, '_>, table: &DeTable<'_>) -> Option<Grades> {
    let source = reader.source;
    let file_start = Position {
        line: 1,
        column: Some(1),
    };
    let Some(grades_table) = reader.table(table, "grades") else {
        if get(table, "grades").is_none() {
            reader.diagnostics.push(
                Diagnostic::error("missing the [grades] table")
                    .in_file(source.file)
                    .at(file_start)
                    .with_hint("add [grades] with all nine components, each \"strong\", \"weak\" or \"missing\""),
            );
        }
        return None;
    };
    let keys: Vec<&str> = Component::ALL.iter().map(|c| c.key()).collect();
    let misspelt =
        source.reject_unknown_keys(grades_table, &keys, " in [grades]", reader.diagnostics);
    let mut grades = [Grade::Missing; 9];
    let mut complete = true;
    let (grades_key_span, _) =
        get(table, "grades").unwrap_or((0..0, &toml::Spanned::new(0..0, DeValue::Boolean(false))));
    for component in Component::ALL {
        let key = component.key();
        let Some((text, span)) = reader.string(grades_table, key) else {
            if get(grades_table, key).is_none() && !misspelt.contains(&key) {
                reader.diagnostics.push(
                    source
                        .error(&grades_key_span, format!("[grades] is missing `{key}`"))
                        .with_hint(format!("add `{key} = \"strong\"`, \"weak\" or \"missing\"")),
                );
            }
            complete = false;
            continue;
        };
        match Grade::parse(&text) {
            Some(grade) => grades[component.index()] = grade,
            None => {
                let mut diagnostic = source.error(
                    &span,
                    format!(
                        "grade `{text}` for `{key}` must be \"strong\", \"weak\" or \"missing\""
                    ),
                );
                if let Some(suggestion) =
                    did_you_mean(&text.to_lowercase(), ["strong", "weak", "missing"])
                {
                    diagnostic = diagnostic.with_hint(format!("did you mean \"{suggestion}\"?"));
                }
                reader.diagnostics.push(diagnostic);
                complete = false;
            }
        }
    }
    complete.then_some(Grades(grades))
}

fn read_notes(
    reader: &mut Reader<'_, '_>,
    table: &DeTable<'_>,
    options: MarkdownOptions,
) -> [Option<String>; 9] {
    let mut notes: [Option<String>; 9] = Default::default();
    let Some(notes_table) = reader.table(table, "notes") else {
        return notes;
    };
    let keys: Vec<&str> = Component::ALL.iter().map(|c| c.key()).collect();
    let _ =
        reader
            .source
            .reject_unknown_keys(notes_table, &keys, " in [notes]", reader.diagnostics);
    for component in Component::ALL {
        if let Some((note, _)) = reader.string(notes_table, component.key())
            && !note.trim().is_empty()
        {
            notes[component.index()] = Some(markdown::render_note(&note, options));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++
title = \"Acme × Datadog\"
date = 2026-10-02
account = \"Acme Corp\"
partner = \"Datadog\"
seller = \"Jordan Lee\"

[grades]
target_account = \"strong\"
partner_context = \"weak\"
relationship_path = \"strong\"
buyer_problem = \"weak\"
partner_offer = \"missing\"
next_action = \"strong\"
owner = \"strong\"
acceptance_criteria = \"missing\"
proof = \"weak\"

[notes]
partner_offer = \"No date *agreed* yet.\"
+++
## Why now

Body.
";

    fn parse(text: &str) -> (Option<Brief>, Vec<String>) {
        let mut diagnostics = Diagnostics::new();
        let brief = Brief::parse(
            "content/handoffs/Zoë Deal.md",
            "Zoë Deal",
            text,
            MarkdownOptions::default(),
            &mut diagnostics,
        );
        (brief, diagnostics.sorted().messages())
    }

    #[test]
    fn parses_a_complete_brief() {
        let (brief, messages) = parse(GOOD);
        assert!(messages.is_empty(), "{messages:?}");
        let brief = brief.unwrap();
        assert_eq!(brief.handoff.id, "zoe-deal");
        assert_eq!(brief.handoff.score(), 11);
        assert_eq!(brief.handoff.date, Some(jiff::civil::date(2026, 10, 2)));
        assert_eq!(
            brief.notes[4].as_deref(),
            Some("No date <em>agreed</em> yet.")
        );
        assert_eq!(
            brief.body_html(),
            "<h2 id=\"why-now\">Why now</h2>\n<p>Body.</p>\n"
        );
    }

    #[test]
    fn crlf_and_bom_parse_the_same() {
        let crlf = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
        let (brief, messages) = parse(&crlf);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(brief.unwrap().handoff.score(), 11);
    }

    #[test]
    fn typos_get_suggestions_at_their_real_line() {
        let text = GOOD
            .replace("seller = ", "seler = ")
            .replace("owner = \"strong\"", "owner = \"stong\"");
        let (brief, messages) = parse(&text);
        assert!(brief.is_none());
        assert_eq!(
            messages,
            [
                "content/handoffs/Zoë Deal.md:6:1: error: unknown key `seler` in front matter\n  hint: did you mean `seller`?",
                "content/handoffs/Zoë Deal.md:15:9: error: grade `stong` for `owner` must be \"strong\", \"weak\" or \"missing\"\n  hint: did you mean \"strong\"?",
            ]
        );
    }

    #[test]
    fn drafts_may_omit_the_date() {
        let text = GOOD.replace("date = 2026-10-02\n", "draft = true\n");
        let (brief, messages) = parse(&text);
        assert!(messages.is_empty(), "{messages:?}");
        assert!(brief.unwrap().handoff.draft);
        let text = GOOD.replace("date = 2026-10-02\n", "");
        let (_, messages) = parse(&text);
        assert!(messages[0].contains("missing required key `date`"));
    }

    #[test]
    fn ids_are_validated() {
        let text = GOOD.replace(
            "seller = \"Jordan Lee\"",
            "seller = \"Jordan Lee\"\nid = \"../../etc\"",
        );
        let (_, messages) = parse(&text);
        assert!(
            messages[0]
                .starts_with("content/handoffs/Zoë Deal.md:7:6: error: invalid id `../../etc`"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_missing_grade_is_named() {
        let text = GOOD.replace("proof = \"weak\"\n", "");
        let (_, messages) = parse(&text);
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].contains("[grades] is missing `proof`"),
            "{messages:?}"
        );
    }

    #[test]
    fn dates_must_be_bare_toml_dates() {
        let text = GOOD.replace("date = 2026-10-02", "date = \"2026-10-02\"");
        let (_, messages) = parse(&text);
        assert!(messages[0].starts_with("content/handoffs/Zoë Deal.md:3:8: error: `date` must be a date like 2026-10-02, found the string \"2026-10-02\""), "{messages:?}");
    }
}
