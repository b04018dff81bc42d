//! Answer blocks: the questions of `content/faq.md` and `content/faq/*.md`.
//!
//! An answer block is what a person, a search engine or an AI assistant can
//! lift off the page whole: a question, a one-paragraph short answer, and
//! detail. We find blocks in the parser's event stream (with source offsets)
//! rather than in the text, so a `## x?` inside a code block is never a
//! question and every diagnostic points at the file's real line.
//!
//! The rules of SPEC section 4, and what we decided where it is silent:
//!
//! - Files are ordered by front matter `weight` (any whole number, default 0),
//!   then by path, so `content/faq.md` comes before `content/faq/*.md` at
//!   equal weight. Only `.md` files directly in `content/faq/` count; names
//!   starting with `_` or `.` are skipped.
//! - A *top-level* level-2 heading (ATX or setext) whose plain text ends with
//!   `?` opens a block. A `## …?` nested in a list or quote belongs to its
//!   container.
//! - A block runs to the next level-2 heading, question or not. A level-1
//!   heading also ends it: a heading of higher rank closes the section, as in
//!   any document outline, and never becomes part of an answer.
//! - Block ids are the slug of the question (or of its `{#id}` attribute),
//!   made unique across the whole FAQ page with `-2`, `-3`, … in page order.
//!   Blocks get their ids before any other heading, so adding an ordinary
//!   heading never moves an anchor; other headings get ids that avoid them.
//! - The plain text of a question or short answer is what a reader sees: raw
//!   HTML counts as text unless `allow_html` is set (it is shown escaped),
//!   and runs of whitespace are collapsed.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Parser, Tag};

use super::front_matter;
use super::markdown::{self, MarkdownOptions};
use crate::diagnostics::{Diagnostic, Diagnostics, LineIndex, Position, display_path};
use crate::toml_doc::{Reader, TomlSource, get, type_name};

/// The single-file FAQ.
pub const FAQ_FILE: &str = "content/faq.md";
/// The folder of FAQ files.
pub const FAQ_DIR: &str = "content/faq";
/// A short answer longer than this gets a warning.
pub const MAX_ANSWER_WORDS: usize = 60;

const FRONT_MATTER_KEYS: &[&str] = &["title", "weight"];

/// One question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerBlock {
    /// The slug of the question, unique on the FAQ page.
    pub id: String,
    /// Plain text of the heading.
    pub question: String,
    /// Rendered inline HTML of the heading.
    pub question_html: String,
    /// The heading's inline Markdown source, on one line.
    pub question_markdown: String,
    /// Rendered HTML of the first paragraph: the short answer. Empty when
    /// the block does not start with a paragraph.
    pub answer_html: String,
    /// Plain text of the short answer.
    pub answer_text: String,
    /// Rendered HTML of everything after the short answer.
    pub detail_html: String,
    /// The Markdown source of the block below its heading (short answer and
    /// detail), with any reference-link definitions it uses.
    pub markdown: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl AnswerBlock {
    /// The block's rendered HTML below the heading: what JSON-LD gives as
    /// the accepted answer, and what the page shows under the question.
    pub fn html(&self) -> String {
        format!("{}{}", self.answer_html, self.detail_html)
            .trim_end()
            .to_string()
    }

    /// The block as a Markdown document, for `/faq/<id>.md`.
    pub fn to_markdown(&self) -> String {
        if self.markdown.is_empty() {
            format!("# {}\n", self.question_markdown)
        } else {
            format!("# {}\n\n{}\n", self.question_markdown, self.markdown)
        }
    }
}

/// One FAQ file in display order, rendered whole, with its blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaqSection {
    pub title: Option<String>,
    pub weight: i64,
    pub file: String,
    /// The whole file rendered, with answer blocks wrapped for the page.
    pub html: String,
    /// The file's Markdown body (front matter removed).
    pub markdown: String,
    /// Indices into [`Faq::blocks`].
    pub blocks: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faq {
    pub sections: Vec<FaqSection>,
    pub blocks: Vec<AnswerBlock>,
}

impl Faq {
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.sections.is_empty()
    }
}

/// One FAQ file: its display path and text.
#[derive(Debug, Clone)]
pub struct Source {
    pub file: String,
    pub text: String,
}

/// Reads every FAQ file under `root` and parses them into one page.
pub fn load(root: &Path, options: MarkdownOptions, diagnostics: &mut Diagnostics) -> Faq {
    let sources = read_sources(root, diagnostics);
    parse(&sources, options, diagnostics)
}

fn read_sources(root: &Path, diagnostics: &mut Diagnostics) -> Vec<Source> {
    let mut paths = Vec::new();
    let single = root.join(FAQ_FILE);
    if single.is_file() {
        paths.push(single);
    }
    let dir = root.join(FAQ_DIR);
    if dir.is_dir() {
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    match entry {
                        Ok(entry) => {
                            let path = entry.path();
                            let name = entry.file_name();
                            let name = name.to_string_lossy();
                            let wanted = !name.starts_with('_')
                                && !name.starts_with('.')
                                && path.extension().is_some_and(|ext| ext == "md")
                                && path.is_file();
                            if wanted {
                                paths.push(path);
                            }
                        }
                        Err(error) => diagnostics.push(
                            Diagnostic::error(format!("cannot list the FAQ folder: {error}"))
                                .in_file(FAQ_DIR),
                        ),
                    }
                }
            }
            Err(error) => diagnostics.push(
                Diagnostic::error(format!("cannot list the FAQ folder: {error}")).in_file(FAQ_DIR),
            ),
        }
    }
    paths.sort();
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let file = display_path(root, &path);
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push(Source { file, text }),
            Err(error) => diagnostics.push(
                Diagnostic::error(format!("cannot read this FAQ file: {error}"))
                    .in_file(file)
                    .with_hint("FAQ files must be UTF-8 text files"),
            ),
        }
    }
    sources
}

/// Parses FAQ files (in any order) into the page: sections ordered by
/// weight then path, blocks with page-unique ids. Pure: no I/O.
pub fn parse(sources: &[Source], options: MarkdownOptions, diagnostics: &mut Diagnostics) -> Faq {
    let mut files: Vec<FileOutline<'_>> = sources
        .iter()
        .filter_map(|source| outline_file(source, options, diagnostics))
        .collect();
    files.sort_by(|a, b| (a.weight, a.file).cmp(&(b.weight, b.file)));
    check_duplicates(&files, diagnostics);

    // Blocks first, over the whole page, so their anchors never depend on
    // the ordinary headings around them.
    let mut used = HashSet::new();
    let block_ids: Vec<Vec<String>> = files
        .iter()
        .map(|file| {
            file.blocks
                .iter()
                .map(|block| unique_id(&mut used, &block.base_id))
                .collect()
        })
        .collect();
    let heading_ids: Vec<HashMap<usize, String>> = files
        .iter()
        .map(|file| {
            file.headings
                .iter()
                .map(|(index, base)| (*index, unique_id(&mut used, base)))
                .collect()
        })
        .collect();

    let mut faq = Faq::default();
    for (number, ((file, ids), headings)) in
        files.iter().zip(&block_ids).zip(&heading_ids).enumerate()
    {
        let prefix = format!("faq{}-", number + 1);
        let Some(rendered) = render_file(file, ids, headings, options, &prefix) else {
            diagnostics.push(
                Diagnostic::error(
                    "this file contains every Unicode noncharacter from U+FDD0 to U+FDEF, which trustcard reserves for its own use",
                )
                .in_file(file.file)
                .with_hint("remove those characters; they are never meant to appear in text"),
            );
            continue;
        };
        let mut indices = Vec::with_capacity(file.blocks.len());
        for ((raw, id), pieces) in file.blocks.iter().zip(ids).zip(rendered.pieces) {
            indices.push(faq.blocks.len());
            faq.blocks.push(AnswerBlock {
                id: id.clone(),
                question: raw.question.clone(),
                question_html: pieces.question_html.trim().to_string(),
                question_markdown: raw.question_markdown.clone(),
                answer_html: pieces.answer_html,
                answer_text: raw.answer_text.clone(),
                detail_html: pieces.detail_html,
                markdown: raw.markdown.clone(),
                file: file.file.to_string(),
                line: raw.position.line,
                column: raw.position.column.unwrap_or(1),
            });
        }
        faq.sections.push(FaqSection {
            title: file.title.clone(),
            weight: file.weight,
            file: file.file.to_string(),
            html: rendered.html,
            markdown: normalise_newlines(file.body.trim()),
            blocks: indices,
        });
    }
    faq
}

/// What one file holds, before ids are assigned and HTML rendered.
struct FileOutline<'a> {
    file: &'a str,
    title: Option<String>,
    weight: i64,
    body: &'a str,
    events: Vec<Event<'a>>,
    blocks: Vec<RawBlock>,
    /// Every other heading: the index of its start event and its base id.
    headings: Vec<(usize, String)>,
}

struct RawBlock {
    question: String,
    question_markdown: String,
    /// The slug the id is made from.
    base_id: String,
    position: Position,
    /// Event indices: the heading's start and end, the end of the short
    /// answer (just after the heading when there is none) and the end of
    /// the block (exclusive).
    heading_start: usize,
    heading_end: usize,
    answer_end: usize,
    end: usize,
    answer_text: String,
    markdown: String,
}

/// A top-level element of a file: a run of events from a start to its end.
#[derive(Debug, Clone, Copy)]
struct Item {
    start: usize,
    end: usize,
    kind: ItemKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ItemKind {
    Heading(HeadingLevel),
    Paragraph,
    /// Anything else, described for the warning's hint.
    Other(&'static str),
}

fn outline_file<'a>(
    source: &'a Source,
    options: MarkdownOptions,
    diagnostics: &mut Diagnostics,
) -> Option<FileOutline<'a>> {
    let file = source.file.as_str();
    let split = match front_matter::split(file, &source.text, false) {
        Ok(split) => split,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return None;
        }
    };
    let (title, weight) = if split.body.len() < split.text.len() {
        read_front_matter(
            file,
            split.text,
            split.front_matter,
            split.front_matter_offset,
            diagnostics,
        )
    } else {
        (None, 0)
    };
    let body = split.body;
    let body_offset = split.text.len() - body.len();
    let lines = LineIndex::new(split.text);

    let mut iter = Parser::new_ext(body, markdown::parser_options()).into_offset_iter();
    let mut events = Vec::new();
    let mut spans = Vec::new();
    for (event, span) in iter.by_ref() {
        events.push(event);
        spans.push(span);
    }
    // Where each reference-style link's definition sits, so a block's
    // Markdown can carry the definitions it uses.
    let definitions: Vec<(usize, Range<usize>)> = events
        .iter()
        .enumerate()
        .filter_map(|(index, event)| match event {
            Event::Start(Tag::Link { link_type, id, .. } | Tag::Image { link_type, id, .. })
                if is_reference(*link_type) =>
            {
                let definition = iter.reference_definitions().get(id)?;
                Some((index, definition.span.clone()))
            }
            _ => None,
        })
        .collect();

    // A block ends at the next heading of level 1 or 2 or at the end of the
    // file; only where it ends differs.
    let close = |(heading, question, first): (Item, String, Option<Item>),
                 end: Ending,
                 diagnostics: &mut Diagnostics| {
        close_block(
            &Closing {
                file,
                body,
                events: &events,
                spans: &spans,
                definitions: &definitions,
                position: lines.position(body_offset + spans[heading.start].start),
                heading,
                question,
                first,
                end,
                options,
            },
            diagnostics,
        )
    };
    let items = top_level_items(&events);
    let mut blocks = Vec::new();
    let mut open: Option<(Item, String, Option<Item>)> = None;
    for item in &items {
        if let ItemKind::Heading(level) = item.kind
            && level <= HeadingLevel::H2
        {
            if let Some(block) = open.take() {
                let end = Ending {
                    event: item.start,
                    byte: spans[item.start].start,
                    what: if level == HeadingLevel::H2 {
                        "the next level-2 heading"
                    } else {
                        "the next level-1 heading"
                    },
                };
                blocks.extend(close(block, end, diagnostics));
            }
            if level == HeadingLevel::H2 {
                let question = visible_text(&events[item.start + 1..item.end - 1], options);
                if question.ends_with('?') {
                    open = Some((*item, question, None));
                }
            }
        } else if let Some((_, _, first @ None)) = &mut open {
            *first = Some(*item);
        }
    }
    if let Some(block) = open.take() {
        let end = Ending {
            event: events.len(),
            byte: body.len(),
            what: "the end of the file",
        };
        blocks.extend(close(block, end, diagnostics));
    }

    let question_starts: HashSet<usize> = blocks.iter().map(|b| b.heading_start).collect();
    let headings = other_headings(&events, &question_starts, options);
    Some(FileOutline {
        file,
        title,
        weight,
        body,
        events,
        blocks,
        headings,
    })
}

fn is_reference(link_type: LinkType) -> bool {
    matches!(
        link_type,
        LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut
    )
}

/// Reads `title` and `weight`; every other key is an error.
fn read_front_matter(
    file: &str,
    text: &str,
    front_matter: &str,
    offset: usize,
    diagnostics: &mut Diagnostics,
) -> (Option<String>, i64) {
    let source = TomlSource::new(file, text, offset);
    let Some(table) = source.parse(front_matter, diagnostics) else {
        return (None, 0);
    };
    let _ = source.reject_unknown_keys(
        &table,
        FRONT_MATTER_KEYS,
        " in FAQ front matter",
        diagnostics,
    );
    let mut reader = Reader {
        source: &source,
        diagnostics,
    };
    let title = reader
        .string(&table, "title")
        .map(|(title, _)| title.trim().to_string())
        .filter(|title| !title.is_empty());
    let weight = match get(&table, "weight") {
        None => 0,
        Some((_, value)) => match value.get_ref() {
            toml::de::DeValue::Integer(number) => {
                match i64::from_str_radix(&number.as_str().replace('_', ""), number.radix()) {
                    Ok(weight) => weight,
                    Err(_) => {
                        diagnostics.push(
                            source.error(&value.span(), "`weight` is too large for a whole number"),
                        );
                        0
                    }
                }
            }
            other => {
                diagnostics.push(
                    source
                        .error(
                            &value.span(),
                            format!(
                                "`weight` must be a whole number, found {}",
                                type_name(other)
                            ),
                        )
                        .with_hint("files are ordered by weight, lowest first: `weight = 1`"),
                );
                0
            }
        },
    };
    (title, weight)
}

/// Splits the event stream into its top-level elements.
fn top_level_items(events: &[Event<'_>]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut kind = ItemKind::Paragraph;
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    start = index;
                    kind = classify(tag);
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    items.push(Item {
                        start,
                        end: index + 1,
                        kind,
                    });
                }
            }
            other if depth == 0 => items.push(Item {
                start: index,
                end: index + 1,
                kind: ItemKind::Other(match other {
                    Event::Rule => "a horizontal rule",
                    Event::Html(_) => "HTML",
                    _ => "something other than a paragraph",
                }),
            }),
            _ => {}
        }
    }
    items
}

fn classify(tag: &Tag<'_>) -> ItemKind {
    ItemKind::Other(match tag {
        Tag::Paragraph => return ItemKind::Paragraph,
        Tag::Heading { level, .. } => return ItemKind::Heading(*level),
        Tag::BlockQuote(_) => "a block quote",
        Tag::CodeBlock(_) => "a code block",
        Tag::HtmlBlock => "an HTML block",
        Tag::List(_) => "a list",
        Tag::FootnoteDefinition(_) => "a footnote definition",
        Tag::Table(_) => "a table",
        Tag::DefinitionList => "a definition list",
        _ => "something other than a paragraph",
    })
}

/// Where an open block stops.
struct Ending {
    event: usize,
    byte: usize,
    what: &'static str,
}

/// Everything needed to turn an open block into a [`RawBlock`].
struct Closing<'c, 'a> {
    file: &'c str,
    body: &'a str,
    events: &'c [Event<'a>],
    spans: &'c [Range<usize>],
    definitions: &'c [(usize, Range<usize>)],
    position: Position,
    heading: Item,
    question: String,
    first: Option<Item>,
    end: Ending,
    options: MarkdownOptions,
}

fn close_block(closing: &Closing<'_, '_>, diagnostics: &mut Diagnostics) -> Option<RawBlock> {
    let Closing {
        file,
        body,
        events,
        spans,
        position,
        heading,
        ref question,
        first,
        ref end,
        options,
        ..
    } = *closing;
    let at = |diagnostic: Diagnostic| diagnostic.in_file(file).at(position);
    let heading_end = heading.end - 1;
    let (answer_end, answer_text) = match first {
        None => {
            diagnostics.push(
                at(Diagnostic::error(format!(
                    "the question \"{question}\" has no answer before {}",
                    end.what
                )))
                .with_hint("write the short answer as a paragraph right under the question"),
            );
            return None;
        }
        Some(item) if item.kind == ItemKind::Paragraph => {
            let text = visible_text(&events[item.start + 1..item.end - 1], options);
            let words = text.split_whitespace().count();
            if words > MAX_ANSWER_WORDS {
                diagnostics.push(
                    at(Diagnostic::warning(format!(
                        "short answer has {words} words; keep it to {MAX_ANSWER_WORDS} or fewer so it can be quoted whole"
                    )))
                    .with_hint("move the rest into the paragraphs after it"),
                );
            }
            (item.end, text)
        }
        Some(item) => {
            let what = match item.kind {
                ItemKind::Heading(level) => match level {
                    HeadingLevel::H3 => "a level-3 heading",
                    HeadingLevel::H4 => "a level-4 heading",
                    HeadingLevel::H5 => "a level-5 heading",
                    _ => "a level-6 heading",
                },
                ItemKind::Other(what) => what,
                ItemKind::Paragraph => "a paragraph",
            };
            diagnostics.push(
                at(Diagnostic::warning(
                    "the first thing under this question is not a paragraph, so there is no short answer to extract",
                ))
                .with_hint(format!(
                    "it starts with {what}; put a one-paragraph answer right under the question"
                )),
            );
            (heading_end + 1, String::new())
        }
    };

    let inner = &spans[heading.start + 1..heading_end];
    let question_markdown = match (
        inner.iter().map(|s| s.start).min(),
        inner.iter().map(|s| s.end).max(),
    ) {
        (Some(start), Some(end)) => collapse_whitespace(body.get(start..end).unwrap_or_default()),
        _ => question.clone(),
    };
    let explicit_id = match &events[heading.start] {
        Event::Start(Tag::Heading { id: Some(id), .. }) => Some(id.to_string()),
        _ => None,
    };
    let mut base_id = slug::slugify(explicit_id.as_deref().unwrap_or(question));
    if base_id.is_empty() {
        base_id = "question".to_string();
    }

    let source = spans[heading.start].end..end.byte;
    let mut markdown = normalise_newlines(body.get(source.clone()).unwrap_or_default().trim());
    let mut appended = HashSet::new();
    for (index, definition) in closing.definitions {
        let inside_block = (heading.start..end.event).contains(index);
        let defined_inside = source.start <= definition.start && definition.end <= source.end;
        if inside_block && !defined_inside && appended.insert(definition.start) {
            let text = body.get(definition.clone()).unwrap_or_default().trim();
            if appended.len() == 1 {
                markdown.push('\n');
            }
            markdown.push('\n');
            markdown.push_str(&normalise_newlines(text));
        }
    }

    Some(RawBlock {
        question: question.clone(),
        question_markdown,
        base_id,
        position,
        heading_start: heading.start,
        heading_end,
        answer_end,
        end: end.event,
        answer_text,
        markdown,
    })
}

/// Every heading that does not open a block, with the id it asks for.
fn other_headings(
    events: &[Event<'_>],
    question_starts: &HashSet<usize>,
    options: MarkdownOptions,
) -> Vec<(usize, String)> {
    let mut headings = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let Event::Start(Tag::Heading { id, .. }) = event else {
            continue;
        };
        if question_starts.contains(&index) {
            continue;
        }
        let base = match id {
            Some(id) => id.to_string(),
            None => {
                let end = events[index..]
                    .iter()
                    .position(|e| matches!(e, Event::End(pulldown_cmark::TagEnd::Heading(_))))
                    .map_or(events.len(), |offset| index + offset);
                let slug = slug::slugify(visible_text(&events[index + 1..end], options));
                if slug.is_empty() {
                    "section".to_string()
                } else {
                    slug
                }
            }
        };
        headings.push((index, base));
    }
    headings
}

/// Reports every question asked twice, at the later place, naming the first.
fn check_duplicates(files: &[FileOutline<'_>], diagnostics: &mut Diagnostics) {
    let mut seen: HashMap<String, (&str, usize)> = HashMap::new();
    for file in files {
        for block in &file.blocks {
            let key = collapse_whitespace(&block.question.to_lowercase());
            match seen.get(&key) {
                Some((first_file, first_line)) => diagnostics.push(
                    Diagnostic::error(format!(
                        "duplicate question \"{}\": also at {first_file}:{first_line}",
                        block.question
                    ))
                    .in_file(file.file)
                    .at(block.position)
                    .with_hint("merge the two answers, or reword one question so they differ"),
                ),
                None => {
                    seen.insert(key, (file.file, block.position.line));
                }
            }
        }
    }
}

fn unique_id(used: &mut HashSet<String>, base: &str) -> String {
    if used.insert(base.to_string()) {
        return base.to_string();
    }
    let mut n = 2;
    loop {
        let candidate = format!("{base}-{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// The rendered HTML of one block, cut out of its file's HTML.
#[derive(Debug, Default)]
struct Pieces {
    question_html: String,
    answer_html: String,
    detail_html: String,
}

struct RenderedFile {
    html: String,
    pieces: Vec<Pieces>,
}

/// Renders a whole file in one pass (so footnotes number across it) with
/// each block's parts marked, then cuts the parts out and wraps each block
/// in its `<section>`.
///
/// The marks are Unicode noncharacters, which text never legitimately
/// holds; if a file holds the one we picked anyway (written as an entity,
/// say), the count comes out wrong and we try the next.
fn render_file(
    file: &FileOutline<'_>,
    ids: &[String],
    heading_ids: &HashMap<usize, String>,
    options: MarkdownOptions,
    prefix: &str,
) -> Option<RenderedFile> {
    const PARTS: [char; 4] = ['o', 'q', 'a', 'c'];
    let mut marks: Vec<(usize, usize, char)> = Vec::with_capacity(file.blocks.len() * 4);
    for (k, block) in file.blocks.iter().enumerate() {
        marks.push((block.heading_start, k, 'o'));
        marks.push((block.heading_end + 1, k, 'q'));
        marks.push((block.answer_end, k, 'a'));
        marks.push((block.end, k, 'c'));
    }
    let skipped: HashSet<usize> = file
        .blocks
        .iter()
        .flat_map(|b| [b.heading_start, b.heading_end])
        .collect();

    for sentinel in '\u{FDD0}'..='\u{FDEF}' {
        let mark = |k: usize, part: char| format!("{sentinel}{k}{part}{sentinel}\n");
        let mut stream: Vec<Event<'_>> = Vec::with_capacity(file.events.len() + marks.len());
        let mut next = marks.iter().peekable();
        for (index, event) in file.events.iter().enumerate() {
            while let Some((_, k, part)) = next.next_if(|(at, _, _)| *at == index) {
                stream.push(Event::Text(CowStr::from(mark(*k, *part))));
            }
            if skipped.contains(&index) {
                continue;
            }
            stream.push(match (event, heading_ids.get(&index)) {
                (
                    Event::Start(Tag::Heading {
                        level,
                        classes,
                        attrs,
                        ..
                    }),
                    Some(id),
                ) => Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id.clone())),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }),
                (event, _) => event.clone(),
            });
        }
        for (_, k, part) in next {
            stream.push(Event::Text(CowStr::from(mark(*k, *part))));
        }
        let html = markdown::render_events(stream, options, prefix).html;
        if html.matches(sentinel).count() != marks.len() * 2 {
            continue;
        }

        let mut rest = html.as_str();
        let mut out = String::with_capacity(html.len() + ids.len() * 80);
        let mut pieces = Vec::with_capacity(ids.len());
        for (k, id) in ids.iter().enumerate() {
            let mut parts = [""; 4];
            for (slot, part) in parts.iter_mut().zip(PARTS) {
                let (before, after) = rest.split_once(&mark(k, part))?;
                *slot = before;
                rest = after;
            }
            let [before, question_html, answer_html, detail_html] = parts;
            out.push_str(before);
            out.push_str(&format!(
                "<section class=\"answer-block\" id=\"{id}\">\n<h2>{}</h2>\n",
                question_html.trim()
            ));
            if !answer_html.trim().is_empty() {
                out.push_str(&format!("<div class=\"answer\">\n{answer_html}</div>\n"));
            }
            out.push_str(detail_html);
            out.push_str("</section>\n");
            pieces.push(Pieces {
                question_html: question_html.to_string(),
                answer_html: answer_html.to_string(),
                detail_html: detail_html.to_string(),
            });
        }
        out.push_str(rest);
        return Some(RenderedFile { html: out, pieces });
    }
    None
}

/// The text a reader sees: raw HTML is shown as text unless allowed.
fn visible_text(events: &[Event<'_>], options: MarkdownOptions) -> String {
    let text = if options.allow_html {
        markdown::plain_text(events)
    } else {
        let shown: Vec<Event<'_>> = events
            .iter()
            .map(|event| match event {
                Event::Html(html) | Event::InlineHtml(html) => Event::Text(html.clone()),
                other => other.clone(),
            })
            .collect();
        markdown::plain_text(&shown)
    };
    collapse_whitespace(&text)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(file: &str, text: &str) -> Source {
        Source {
            file: file.to_string(),
            text: text.to_string(),
        }
    }

    fn run(files: &[(&str, &str)]) -> (Faq, Vec<String>) {
        run_with(files, MarkdownOptions::default())
    }

    fn run_with(files: &[(&str, &str)], options: MarkdownOptions) -> (Faq, Vec<String>) {
        let sources: Vec<Source> = files.iter().map(|(f, t)| source(f, t)).collect();
        let mut diagnostics = Diagnostics::new();
        let faq = parse(&sources, options, &mut diagnostics);
        let messages = diagnostics.sorted().iter().map(|d| d.to_string()).collect();
        (faq, messages)
    }

    fn questions(faq: &Faq) -> Vec<&str> {
        faq.blocks.iter().map(|b| b.question.as_str()).collect()
    }

    const F: &str = "content/faq.md";

    #[test]
    fn level_two_questions_open_blocks() {
        let (faq, messages) = run(&[(
            F,
            "Intro text.\n\n## Why now?\n\nBecause.\n\nMore detail.\n\n## About us\n\nNot a block.\n\n## Is it? No, it is not\n\nMiddle question mark.\n\n### Level three?\n\nNot a block.\n",
        )]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(questions(&faq), ["Why now?"]);
        let block = &faq.blocks[0];
        assert_eq!(block.id, "why-now");
        assert_eq!(block.answer_html, "<p>Because.</p>\n");
        assert_eq!(block.answer_text, "Because.");
        assert_eq!(block.detail_html, "<p>More detail.</p>\n");
        assert_eq!(block.markdown, "Because.\n\nMore detail.");
        assert_eq!((block.line, block.column), (3, 1));
        assert_eq!(
            faq.sections[0].html,
            "<p>Intro text.</p>\n<section class=\"answer-block\" id=\"why-now\">\n<h2>Why now?</h2>\n<div class=\"answer\">\n<p>Because.</p>\n</div>\n<p>More detail.</p>\n</section>\n<h2 id=\"about-us\">About us</h2>\n<p>Not a block.</p>\n<h2 id=\"is-it-no-it-is-not\">Is it? No, it is not</h2>\n<p>Middle question mark.</p>\n<h3 id=\"level-three\">Level three?</h3>\n<p>Not a block.</p>\n"
        );
    }

    #[test]
    fn level_three_question_inside_a_block_is_detail() {
        let (faq, messages) = run(&[(F, "## Why?\n\nShort.\n\n### And then?\n\nMore.\n")]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(questions(&faq), ["Why?"]);
        assert_eq!(
            faq.blocks[0].detail_html,
            "<h3 id=\"and-then\">And then?</h3>\n<p>More.</p>\n"
        );
    }

    #[test]
    fn code_blocks_never_hold_questions() {
        let text = "## Real?\n\nYes.\n\n```md\n## Fake?\n\nNo.\n```\n\n    ## Indented?\n";
        let (faq, messages) = run(&[(F, text)]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(questions(&faq), ["Real?"]);
        assert!(faq.blocks[0].detail_html.contains("## Fake?"));
        assert!(faq.blocks[0].markdown.contains("## Fake?"));
    }

    #[test]
    fn setext_headings_and_trailing_spaces() {
        let (faq, messages) = run(&[(
            F,
            "Is setext fine?\n---------------\n\nIt is.\n\n##   Spaces after?   \n\nTrimmed.\n\nTitle?\n======\n\nLevel one is no block.\n",
        )]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(questions(&faq), ["Is setext fine?", "Spaces after?"]);
        assert_eq!(faq.blocks[0].markdown, "It is.");
        assert_eq!(faq.blocks[1].id, "spaces-after");
        assert_eq!(faq.blocks[1].detail_html, "");
        // A level-1 heading ends the block before it.
        assert_eq!(faq.blocks[1].markdown, "Trimmed.");
        assert!(
            faq.sections[0]
                .html
                .contains("<h1 id=\"title\">Title?</h1>")
        );
    }

    #[test]
    fn nested_level_two_headings_are_not_blocks() {
        let (faq, messages) = run(&[(F, "> ## Quoted?\n>\n> Text.\n\n- ## Listed?\n")]);
        assert!(messages.is_empty(), "{messages:?}");
        assert!(faq.blocks.is_empty());
        assert_eq!(faq.sections.len(), 1);
    }

    #[test]
    fn file_without_blocks_stays_on_the_page() {
        let (faq, messages) = run(&[(
            F,
            "# Welcome\n\nJust some text.\n\n## Contact\n\nMail us.\n",
        )]);
        assert!(messages.is_empty(), "{messages:?}");
        assert!(faq.blocks.is_empty());
        assert!(!faq.is_empty());
        assert_eq!(
            faq.sections[0].html,
            "<h1 id=\"welcome\">Welcome</h1>\n<p>Just some text.</p>\n<h2 id=\"contact\">Contact</h2>\n<p>Mail us.</p>\n"
        );
    }

    #[test]
    fn questions_are_plain_text_with_markup_kept_in_html() {
        let (faq, messages) = run(&[(
            F,
            "## What does `weight` *really*   do?\n\nOrders files.\n\n## Is <b>bold</b> & \"quoted\" ok?\n\nYes.\n",
        )]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(
            questions(&faq),
            [
                "What does weight really do?",
                "Is <b>bold</b> & \"quoted\" ok?"
            ]
        );
        let block = &faq.blocks[0];
        assert_eq!(block.id, "what-does-weight-really-do");
        assert_eq!(
            block.question_html,
            "What does <code>weight</code> <em>really</em>   do?"
        );
        assert_eq!(block.question_markdown, "What does `weight` *really* do?");
        assert_eq!(
            faq.blocks[1].question_html,
            "Is &lt;b&gt;bold&lt;/b&gt; &amp; \"quoted\" ok?"
        );
        assert_eq!(faq.blocks[1].id, "is-b-bold-b-quoted-ok");
    }

    #[test]
    fn allowed_html_is_markup_not_text() {
        let (faq, _) = run_with(
            &[(F, "## Is <b>bold</b> ok?\n\nYes <i>really</i>.\n")],
            MarkdownOptions { allow_html: true },
        );
        assert_eq!(questions(&faq), ["Is bold ok?"]);
        assert_eq!(faq.blocks[0].question_html, "Is <b>bold</b> ok?");
        assert_eq!(faq.blocks[0].answer_text, "Yes really.");
    }

    #[test]
    fn files_are_ordered_by_weight_then_path() {
        let (faq, messages) = run(&[
            ("content/faq/b.md", "## B?\n\nb\n"),
            ("content/faq/a.md", "+++\nweight = 2\n+++\n## A?\n\na\n"),
            (
                "content/faq/c.md",
                "+++\ntitle = \"Early\"\nweight = -1\n+++\n## C?\n\nc\n",
            ),
            (F, "## Single?\n\ns\n"),
            ("content/faq/d.md", "## D?\n\nd\n"),
        ]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(questions(&faq), ["C?", "Single?", "B?", "D?", "A?"]);
        let files: Vec<_> = faq.sections.iter().map(|s| s.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "content/faq/c.md",
                F,
                "content/faq/b.md",
                "content/faq/d.md",
                "content/faq/a.md"
            ]
        );
        assert_eq!(faq.sections[0].title.as_deref(), Some("Early"));
        assert_eq!(faq.sections[4].blocks, [4]);
        // The line counts the front matter.
        assert_eq!(faq.blocks[4].line, 4);
    }

    #[test]
    fn unknown_front_matter_keys_are_errors_with_suggestions() {
        let (_, messages) = run(&[(
            "content/faq/a.md",
            "+++\ntitle = \"A\"\nwieght = 2\n+++\n## A?\n\na\n",
        )]);
        assert_eq!(
            messages,
            [
                "content/faq/a.md:3:1: error: unknown key `wieght` in FAQ front matter\n  hint: did you mean `weight`?"
            ]
        );
        let (_, messages) = run(&[("content/faq/a.md", "+++\nweight = \"2\"\n+++\n")]);
        assert_eq!(
            messages,
            [
                "content/faq/a.md:2:10: error: `weight` must be a whole number, found a string\n  hint: files are ordered by weight, lowest first: `weight = 1`"
            ]
        );
    }

    #[test]
    fn duplicates_across_files_name_both_places() {
        let (_, messages) = run(&[
            (
                "content/faq/a.md",
                "Intro.\n\n## What is  a handoff?\n\nA.\n",
            ),
            (
                "content/faq/b.md",
                "+++\ntitle = \"B\"\n+++\n## what is a HANDOFF?\n\nB.\n",
            ),
        ]);
        assert_eq!(
            messages,
            [
                "content/faq/b.md:4:1: error: duplicate question \"what is a HANDOFF?\": also at content/faq/a.md:3\n  hint: merge the two answers, or reword one question so they differ"
            ]
        );
    }

    #[test]
    fn ids_are_unique_across_the_page_and_headings_avoid_them() {
        let (faq, messages) = run(&[
            (
                "content/faq/a.md",
                "## Pricing\n\nText.\n\n## What's new?\n\nA.\n",
            ),
            (
                "content/faq/b.md",
                "## Whats new?\n\nB.\n\n### What's new?\n\nC.\n",
            ),
        ]);
        assert!(messages.is_empty(), "{messages:?}");
        let ids: Vec<_> = faq.blocks.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["what-s-new", "whats-new"]);
        assert!(
            faq.sections[1].html.contains("<h3 id=\"what-s-new-2\">"),
            "{}",
            faq.sections[1].html
        );
        let (faq, _) = run(&[(F, "## Why?\n\nA.\n\n## Why…?\n\nB.\n\n## ???\n\nC.\n")]);
        let ids: Vec<_> = faq.blocks.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["why", "why-2", "question"]);
    }

    #[test]
    fn an_explicit_id_is_slugified() {
        let (faq, _) = run(&[(F, "## Why? {#../../Evil_Path}\n\nA.\n")]);
        assert_eq!(faq.blocks[0].id, "evil-path");
        assert_eq!(faq.blocks[0].question, "Why?");
    }

    #[test]
    fn empty_blocks_are_errors() {
        let (faq, messages) = run(&[(
            "content/faq/a.md",
            "+++\ntitle = \"A\"\n+++\n## First?\n\n## Second?\n\nFine.\n\n## Third?\n\n# Part two\n\n## Last?\n",
        )]);
        assert_eq!(
            messages,
            [
                "content/faq/a.md:4:1: error: the question \"First?\" has no answer before the next level-2 heading\n  hint: write the short answer as a paragraph right under the question",
                "content/faq/a.md:10:1: error: the question \"Third?\" has no answer before the next level-1 heading\n  hint: write the short answer as a paragraph right under the question",
                "content/faq/a.md:14:1: error: the question \"Last?\" has no answer before the end of the file\n  hint: write the short answer as a paragraph right under the question",
            ]
        );
        assert_eq!(questions(&faq), ["Second?"]);
    }

    #[test]
    fn long_short_answers_warn() {
        let answer = vec!["word"; 61].join(" ");
        let (faq, messages) = run(&[(F, &format!("Intro.\n\n  ## Long?\n\n{answer}\n"))]);
        assert_eq!(
            messages,
            [
                "content/faq.md:3:3: warning: short answer has 61 words; keep it to 60 or fewer so it can be quoted whole\n  hint: move the rest into the paragraphs after it"
            ]
        );
        assert_eq!(faq.blocks.len(), 1);
        let answer = vec!["word"; 60].join("\n");
        let (_, messages) = run(&[(F, &format!("## Sixty?\n\n{answer}\n"))]);
        assert!(messages.is_empty(), "{messages:?}");
    }

    #[test]
    fn a_block_that_does_not_start_with_a_paragraph_warns() {
        let (faq, messages) = run(&[(
            F,
            "## List?\n\n- one\n- two\n\n## Code?\n\n```\nx\n```\n\nThen text.\n\n## Sub?\n\n### Heading\n",
        )]);
        assert_eq!(
            messages,
            [
                "content/faq.md:1:1: warning: the first thing under this question is not a paragraph, so there is no short answer to extract\n  hint: it starts with a list; put a one-paragraph answer right under the question",
                "content/faq.md:6:1: warning: the first thing under this question is not a paragraph, so there is no short answer to extract\n  hint: it starts with a code block; put a one-paragraph answer right under the question",
                "content/faq.md:14:1: warning: the first thing under this question is not a paragraph, so there is no short answer to extract\n  hint: it starts with a level-3 heading; put a one-paragraph answer right under the question",
            ]
        );
        let block = &faq.blocks[0];
        assert_eq!(block.answer_html, "");
        assert_eq!(block.answer_text, "");
        assert!(block.detail_html.starts_with("<ul>"));
        assert!(
            faq.sections[0]
                .html
                .starts_with("<section class=\"answer-block\" id=\"list\">\n<h2>List?</h2>\n<ul>")
        );
    }

    #[test]
    fn block_markdown_carries_reference_definitions_and_crlf_is_normalised() {
        let (faq, messages) = run(&[(
            F,
            "## Where?\r\n\r\nSee [the spec][spec].\r\n\r\n## Other?\r\n\r\nNo.\r\n\r\n[spec]: https://example.com/spec\r\n",
        )]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(
            faq.blocks[0].to_markdown(),
            "# Where?\n\nSee [the spec][spec].\n\n[spec]: https://example.com/spec\n"
        );
    }

    #[test]
    fn footnotes_number_across_the_file() {
        let (faq, _) = run(&[(
            F,
            "## One?\n\nA[^a].\n\n## Two?\n\nB[^b].\n\n[^a]: First.\n[^b]: Second.\n",
        )]);
        assert!(
            faq.blocks[1].answer_html.contains(">2</a>"),
            "{}",
            faq.blocks[1].answer_html
        );
        assert!(faq.blocks[0].answer_html.contains("href=\"#faq1-fn-a\""));
    }

    #[test]
    fn noncharacters_in_the_text_do_not_confuse_the_cutting() {
        let (faq, messages) =
            run(&[(F, "## Odd \u{FDD0}0o\u{FDD0}?\n\nA &#xFDD0;0q&#xFDD0; b.\n")]);
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(faq.blocks[0].question, "Odd \u{FDD0}0o\u{FDD0}?");
        assert_eq!(
            faq.blocks[0].answer_html,
            "<p>A \u{FDD0}0q\u{FDD0} b.</p>\n"
        );
    }

    #[test]
    fn html_of_a_block_is_answer_and_detail() {
        let (faq, _) = run(&[(F, "## Q?\n\nShort </script> & more.\n\nDetail.\n")]);
        assert_eq!(
            faq.blocks[0].html(),
            "<p>Short &lt;/script&gt; &amp; more.</p>\n<p>Detail.</p>"
        );
    }
}
