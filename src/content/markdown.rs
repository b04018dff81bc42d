//! Markdown → HTML with heading anchors, prefixed footnote ids and, unless
//! the site allows it, raw HTML shown as text.

use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    pub allow_html: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
}

pub fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders a document. `id_prefix` keeps footnote ids of several documents
/// on one page (a brief's notes and body) from colliding.
pub fn render(markdown: &str, options: MarkdownOptions, id_prefix: &str) -> Rendered {
    let events: Vec<Event> = Parser::new_ext(markdown, parser_options()).collect();
    render_events(events, options, id_prefix)
}

/// Renders a short note; a single paragraph loses its `<p>` so the note can
/// sit inline in a table cell.
pub fn render_note(markdown: &str, options: MarkdownOptions) -> String {
    let rendered = render(markdown, options, "note-");
    let html = rendered.html.trim_end();
    match html
        .strip_prefix("<p>")
        .and_then(|inner| inner.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html.to_string(),
    }
}

pub fn render_events<'a>(
    events: Vec<Event<'a>>,
    options: MarkdownOptions,
    id_prefix: &str,
) -> Rendered {
    let mut used_ids: HashMap<String, usize> = HashMap::new();
    let mut headings = Vec::new();
    let mut footnote_numbers: HashMap<String, usize> = HashMap::new();
    let mut table_labels = table_labels(&events).into_iter();
    let mut out: Vec<Event<'a>> = Vec::with_capacity(events.len());
    let mut events = events.into_iter();

    while let Some(event) = events.next() {
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let mut inner = Vec::new();
                for next in events.by_ref() {
                    if matches!(next, Event::End(TagEnd::Heading(_))) {
                        break;
                    }
                    inner.push(next);
                }
                let text = plain_text(&inner);
                let base = match &id {
                    Some(id) => id.to_string(),
                    None => {
                        let slug = slug::slugify(&text);
                        if slug.is_empty() {
                            "section".to_string()
                        } else {
                            slug
                        }
                    }
                };
                let unique = unique_id(&mut used_ids, base);
                headings.push(Heading {
                    level: heading_number(level),
                    id: unique.clone(),
                    text,
                });
                out.push(Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(unique)),
                    classes,
                    attrs,
                }));
                out.extend(inner.into_iter().map(|e| escape_html(e, options)));
                out.push(Event::End(TagEnd::Heading(level)));
            }
            Event::FootnoteReference(name) => {
                let next = footnote_numbers.len() + 1;
                let number = *footnote_numbers.entry(name.to_string()).or_insert(next);
                let id = footnote_id(id_prefix, &name);
                out.push(Event::InlineHtml(CowStr::from(format!(
                    "<sup class=\"footnote-reference\"><a href=\"#{id}\" id=\"{id}-ref\">{number}</a></sup>"
                ))));
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let next = footnote_numbers.len() + 1;
                let number = *footnote_numbers.entry(name.to_string()).or_insert(next);
                let id = footnote_id(id_prefix, &name);
                out.push(Event::Html(CowStr::from(format!(
                    "<div class=\"footnote-definition\" id=\"{id}\"><sup class=\"footnote-definition-label\"><a href=\"#{id}-ref\">{number}</a></sup>"
                ))));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                out.push(Event::Html(CowStr::from("</div>\n")));
            }
            // A focusable region, so a table wider than a phone scrolls
            // inside it and keyboard users can scroll it too.
            Event::Start(Tag::Table(alignments)) => {
                let label = table_labels.next().unwrap_or_default();
                out.push(Event::Html(CowStr::from(format!(
                    "<div class=\"table-scroll\" role=\"region\" aria-label=\"{}\" tabindex=\"0\">\n",
                    escape_attribute(&label)
                ))));
                out.push(Event::Start(Tag::Table(alignments)));
            }
            Event::End(TagEnd::Table) => {
                out.push(Event::End(TagEnd::Table));
                out.push(Event::Html(CowStr::from("</div>\n")));
            }
            // The checkbox pulldown-cmark writes has no label and is not a
            // control anyone can use; a mark with a name says the same.
            Event::TaskListMarker(done) => {
                out.push(Event::InlineHtml(CowStr::from(if done {
                    "<span class=\"task done\" role=\"img\" aria-label=\"Done\">☑</span> "
                } else {
                    "<span class=\"task\" role=\"img\" aria-label=\"To do\">☐</span> "
                })));
            }
            other => out.push(escape_html(other, options)),
        }
    }

    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    Rendered { html, headings }
}

/// The accessible name of each table's scroll region, in document order:
/// "Table: " and its column headings. Regions are landmarks, and two with
/// one name on a page are hard to tell apart, so a repeat gets a number.
fn table_labels(events: &[Event<'_>]) -> Vec<String> {
    let mut labels = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut at = 0;
    while let Some(start) = events[at..]
        .iter()
        .position(|e| matches!(e, Event::Start(Tag::TableHead)))
    {
        let head = &events[at + start..];
        let end = head
            .iter()
            .position(|e| matches!(e, Event::End(TagEnd::TableHead)))
            .unwrap_or(head.len());
        let mut columns = Vec::new();
        let mut cell = None;
        for (index, event) in head[..end].iter().enumerate() {
            match event {
                Event::Start(Tag::TableCell) => cell = Some(index + 1),
                Event::End(TagEnd::TableCell) => {
                    if let Some(from) = cell.take() {
                        let text = plain_text(&head[from..index]);
                        if !text.trim().is_empty() {
                            columns.push(text.trim().to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        let base = if columns.is_empty() {
            "Table".to_string()
        } else {
            format!("Table: {}", columns.join(", "))
        };
        let count = seen.entry(base.clone()).or_insert(0);
        *count += 1;
        labels.push(if *count == 1 {
            base
        } else {
            format!("{base} ({count})")
        });
        at += start + end;
    }
    labels
}

fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

fn footnote_id(prefix: &str, name: &str) -> String {
    let slug = slug::slugify(name);
    format!(
        "{prefix}fn-{}",
        if slug.is_empty() { "note" } else { &slug }
    )
}

fn unique_id(used: &mut HashMap<String, usize>, base: String) -> String {
    let count = used.entry(base.clone()).or_insert(0);
    let id = if *count == 0 {
        base.clone()
    } else {
        format!("{base}-{count}")
    };
    *count += 1;
    if id != base {
        used.insert(id.clone(), 1);
    }
    id
}

fn heading_number(level: HeadingLevel) -> u8 {
    level as u8
}

/// Shows raw HTML as text and neutralises script URLs unless HTML is
/// allowed: a brief is data, not code.
fn escape_html(event: Event<'_>, options: MarkdownOptions) -> Event<'_> {
    if options.allow_html {
        return event;
    }
    match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    }
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lowered: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if ["javascript:", "vbscript:", "data:"]
        .iter()
        .any(|scheme| lowered.starts_with(scheme))
    {
        CowStr::from("#")
    } else {
        url
    }
}

/// The text a reader sees, without markup.
pub fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                text.push_str(t)
            }
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

/// Whether a link type is an autolink, for callers that treat them apart.
pub fn is_autolink(link_type: LinkType) -> bool {
    matches!(link_type, LinkType::Autolink | LinkType::Email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(markdown: &str) -> String {
        render(markdown, MarkdownOptions::default(), "").html
    }

    #[test]
    fn headings_get_unique_slug_ids() {
        let rendered = render(
            "## Why now?\n\n## Why now?\n\n### Zoë & Co\n",
            MarkdownOptions::default(),
            "",
        );
        assert_eq!(
            rendered.html,
            "<h2 id=\"why-now\">Why now?</h2>\n<h2 id=\"why-now-1\">Why now?</h2>\n<h3 id=\"zoe-co\">Zoë &amp; Co</h3>\n"
        );
        assert_eq!(rendered.headings[2].text, "Zoë & Co");
    }

    #[test]
    fn raw_html_is_escaped_unless_allowed() {
        assert_eq!(
            html("Hi <b>there</b>\n"),
            "<p>Hi &lt;b&gt;there&lt;/b&gt;</p>\n"
        );
        assert_eq!(
            html("<script>alert(1)</script>\n"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;\n</p>\n"
        );
        let allowed = render(
            "Hi <b>there</b>\n",
            MarkdownOptions { allow_html: true },
            "",
        )
        .html;
        assert_eq!(allowed, "<p>Hi <b>there</b></p>\n");
    }

    #[test]
    fn script_urls_are_neutralised() {
        assert_eq!(
            html("[x](javascript:alert(1))\n"),
            "<p><a href=\"#\">x</a></p>\n"
        );
    }

    #[test]
    fn footnotes_are_prefixed_and_numbered() {
        let out = render(
            "A[^src].\n\n[^src]: The source.\n",
            MarkdownOptions::default(),
            "body-",
        )
        .html;
        assert!(
            out.contains("<a href=\"#body-fn-src\" id=\"body-fn-src-ref\">1</a>"),
            "{out}"
        );
        assert!(
            out.contains("<div class=\"footnote-definition\" id=\"body-fn-src\">"),
            "{out}"
        );
    }

    #[test]
    fn tables_tasklists_strikethrough() {
        let out = html("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n~~old~~\n");
        assert!(out.contains("<table>"));
        assert!(out.contains("<del>old</del>"));
    }

    #[test]
    fn tables_scroll_in_a_named_focusable_region() {
        let out = html("| Metric | *Target* |\n|---|---|\n| 1 | 2 |\n");
        assert!(
            out.starts_with(
                "<div class=\"table-scroll\" role=\"region\" aria-label=\"Table: Metric, Target\" tabindex=\"0\">\n<table>"
            ),
            "{out}"
        );
        assert!(out.ends_with("</table>\n</div>\n"), "{out}");
    }

    #[test]
    fn repeated_table_names_are_numbered_and_escaped() {
        let table = "| A & \"B\" |\n|---|\n| 1 |\n\n";
        let out = html(&format!("{table}{table}"));
        assert!(
            out.contains("aria-label=\"Table: A &amp; &quot;B&quot;\" tabindex"),
            "{out}"
        );
        assert!(
            out.contains("aria-label=\"Table: A &amp; &quot;B&quot; (2)\" tabindex"),
            "{out}"
        );
        assert_eq!(out.matches("<div class=\"table-scroll\"").count(), 2);
        assert_eq!(out.matches("</table>\n</div>").count(), 2);
    }

    #[test]
    fn task_list_items_show_named_marks_not_checkboxes() {
        let out = html("- [x] Signed\n- [ ] Kick-off\n");
        assert_eq!(
            out,
            "<ul>\n<li><span class=\"task done\" role=\"img\" aria-label=\"Done\">☑</span> Signed</li>\n\
             <li><span class=\"task\" role=\"img\" aria-label=\"To do\">☐</span> Kick-off</li>\n</ul>\n"
        );
        assert!(!out.contains("<input"));
    }

    #[test]
    fn notes_lose_their_paragraph() {
        assert_eq!(
            render_note("No *date* yet.", MarkdownOptions::default()),
            "No <em>date</em> yet."
        );
    }
}
