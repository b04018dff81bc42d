//! Machine-readable outputs: /data/scorecard.json, robots.txt, sitemap.xml,
//! llms.txt, and the FAQ's template data.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::{Value, json};

use super::memo::Stable;
use crate::content::Brief;
use crate::content::faq::Faq;
use crate::model::{Card, Model};
use crate::output::Output;
use crate::score::signals::{Activity, Direction, PeriodKind, PeriodStats, Verdict};
use crate::score::{Component, Fix};
use crate::site::Site;

#[derive(Serialize)]
struct Scorecard<'a> {
    as_of: Option<String>,
    period: PeriodKind,
    bands: Vec<BandJson<'a>>,
    handoffs: Vec<HandoffJson<'a>>,
    current: Option<CurrentJson<'a>>,
    periods: &'a [PeriodStats],
    directions: BTreeMap<&'static str, Direction>,
    verdict: Verdict,
    faq: Vec<FaqJson<'a>>,
}

#[derive(Serialize)]
struct BandJson<'a> {
    name: &'a str,
    min: u32,
}

/// One handoff in `data/scorecard.json`. Everything here comes from what
/// [`EntryInputs`] holds, which decides when an entry is written again: a
/// field read from anywhere else must be added there.
#[derive(Serialize)]
struct HandoffJson<'a> {
    id: &'a str,
    title: &'a str,
    date: Option<String>,
    account: &'a str,
    partner: &'a str,
    seller: &'a str,
    owner: Option<&'a str>,
    grades: BTreeMap<&'static str, &'static str>,
    score: u32,
    band: &'a str,
    fixes: Vec<&'static str>,
    due: bool,
    response_days: Option<i64>,
    responded_in_window: bool,
    acted: bool,
    url: String,
}

#[derive(Serialize)]
struct CurrentJson<'a> {
    score: f64,
    band: &'a str,
    handoffs: Vec<&'a str>,
}

#[derive(Serialize)]
struct FaqJson<'a> {
    id: &'a str,
    question: &'a str,
    answer: &'a str,
}

/// Each handoff's entry in `data/scorecard.json`, as written there, kept
/// from one build for the next (the dev server's) by handoff id with what
/// it was written from: a rebuild writes again only the entries whose
/// inputs changed (a title edit: one of 10,000), and copies the rest.
#[derive(Debug, Default)]
pub struct Entries {
    by_id: FxHashMap<String, Entry>,
    /// Whether the build these come from wrote `data/scorecard.json`
    /// (rather than taking the last one over), and where it put every
    /// entry, when it numbered its builds.
    wrote: bool,
    layout: Option<Layout>,
}

/// Where each handoff's entry is in a `data/scorecard.json` a build
/// wrote: the next build copies the entries of handoffs unchanged since
/// (see [`Stable`]) from that file in runs, megabytes at a time, instead
/// of looking up 10,000 kept entries one by one.
#[derive(Debug)]
struct Layout {
    /// The number of the build that wrote it.
    build: u64,
    /// The file's length, to tell it is the file it describes.
    len: usize,
    /// Per card (position in [`Model::cards`]), the byte range of its
    /// entry.
    spans: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct Entry {
    inputs: EntryInputs,
    text: Arc<str>,
}

/// All that a handoff's entry shows ([`HandoffJson`]): the brief's
/// handoff, the card's score, band, fixes and activity, and the band's
/// name.
#[derive(Debug, Clone)]
struct EntryInputs {
    brief: Arc<Brief>,
    score: u32,
    band: String,
    fixes: Vec<Fix>,
    activity: Option<Activity>,
}

impl EntryInputs {
    fn same(&self, brief: &Arc<Brief>, card: &Card, band: &str) -> bool {
        (Arc::ptr_eq(&self.brief, brief) || self.brief.handoff == brief.handoff)
            && self.score == card.score
            && self.band == band
            && self.fixes == card.fixes
            && self.activity == card.activity
    }
}

impl Entries {
    /// Adds what a later build wrote, over what it replaces.
    pub fn add(&mut self, newer: Entries) {
        self.by_id.extend(newer.by_id);
        if newer.wrote {
            self.layout = newer.layout;
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Where the scorecard data is written, relative to the site root.
pub const SCORECARD_JSON: &str = "data/scorecard.json";

/// Where the handoffs' entries go in the document, written with none.
const HANDOFFS_SLOT: &[u8] = b"\n  \"handoffs\": []";

/// One handoff's entry, as [`scorecard_json`] shows it.
fn handoff_json<'a>(site: &'a Site, card: &Card) -> HandoffJson<'a> {
    let handoff = &site.briefs[card.brief].handoff;
    let activity = card.activity.unwrap_or_default();
    HandoffJson {
        id: &handoff.id,
        title: &handoff.title,
        date: handoff.date.map(|d| d.to_string()),
        account: &handoff.account,
        partner: &handoff.partner,
        seller: &handoff.seller,
        owner: handoff.owner.as_deref(),
        grades: Component::ALL
            .iter()
            .map(|c| (c.key(), handoff.grades.get(*c).key()))
            .collect(),
        score: card.score,
        band: &site.config.bands.get(card.band).name,
        fixes: card.fixes.iter().map(|f| f.key()).collect(),
        due: activity.due,
        response_days: activity.response_days,
        responded_in_window: activity.responded_in_window,
        acted: activity.acted,
        url: format!("handoffs/{}/", handoff.id),
    }
}

/// `data/scorecard.json`, taking unchanged entries from `previous`; with
/// the entries written again, for later builds, when `keep` says.
pub fn scorecard_json(
    site: &Site,
    model: &Model,
    previous: Option<&Entries>,
    keep: bool,
) -> (Vec<u8>, Entries) {
    let last = Last {
        json: None,
        stable: None,
        buffer: &Vec::with_capacity,
    };
    scorecard_json_into(site, model, previous, keep, &last)
}

/// What a build knows of the `data/scorecard.json` before it.
pub struct Last<'a> {
    /// The last one written, if the builds are numbered.
    pub json: Option<&'a [u8]>,
    pub stable: Option<Stable<'a>>,
    /// Gives a buffer for a file of a size (see `Sink::buffer`).
    pub buffer: &'a (dyn Fn(usize) -> Vec<u8> + Sync),
}

/// [`scorecard_json`], copying the entries of handoffs unchanged since the
/// `last` one was written from it (see [`Layout`]).
fn scorecard_json_into(
    site: &Site,
    model: &Model,
    previous: Option<&Entries>,
    keep: bool,
    last: &Last<'_>,
) -> (Vec<u8>, Entries) {
    let bands = &site.config.bands;
    let count = model.cards.len();
    // The last file and where its entries are, if it describes these
    // cards: then an entry whose card has not changed since it was
    // written is the same bytes.
    let reusable = match (
        previous.and_then(|p| p.layout.as_ref()),
        last.stable,
        last.json,
    ) {
        (Some(layout), Some(stable), Some(json))
            if layout.len == json.len()
                && layout.spans.len() == count
                && stable.since.len() == count =>
        {
            Some((layout, stable, json))
        }
        _ => None,
    };
    let old_span = |position: usize| {
        let (layout, stable, _) = reusable?;
        (stable.since[position] <= layout.build).then(|| layout.spans[position])
    };
    // Each entry as `to_writer_pretty` writes it inside the list, two
    // levels down: every line break followed by four more spaces (a JSON
    // string holds no raw line break, so each one is between tokens).
    let entries: Vec<Option<(Arc<str>, Option<Entry>)>> = model
        .cards
        .par_iter()
        .enumerate()
        .map(|(position, card)| {
            if old_span(position).is_some() {
                return None;
            }
            let brief = &site.briefs[card.brief];
            let band = &bands.get(card.band).name;
            let kept = previous
                .and_then(|previous| previous.by_id.get(brief.handoff.id.as_str()))
                .filter(|entry| entry.inputs.same(brief, card, band));
            if let Some(entry) = kept {
                return Some((Arc::clone(&entry.text), None));
            }
            let json = serde_json::to_string_pretty(&handoff_json(site, card))
                .unwrap_or_else(|_| "{}".into());
            let text: Arc<str> = json.replace('\n', "\n    ").into();
            let entry = keep.then(|| Entry {
                inputs: EntryInputs {
                    brief: Arc::clone(brief),
                    score: card.score,
                    band: band.clone(),
                    fixes: card.fixes.clone(),
                    activity: card.activity,
                },
                text: Arc::clone(&text),
            });
            Some((text, entry))
        })
        .collect();
    let mut rest = Vec::with_capacity(64 << 10);
    if serde_json::to_writer_pretty(&mut rest, &scorecard(site, model, Vec::new())).is_err() {
        rest = b"{}".to_vec();
    }
    rest.push(b'\n');
    let slot = rest
        .windows(HANDOFFS_SLOT.len())
        .position(|window| window == HANDOFFS_SLOT)
        .filter(|_| !entries.is_empty());
    let mut spans = Vec::new();
    let json = match slot {
        Some(at) => {
            // Sized up front: the 9 MB of a 10,000-brief site are written
            // once instead of being copied at every doubling.
            let (head, tail) = rest.split_at(at + HANDOFFS_SLOT.len() - 1);
            let size: usize = (0..count)
                .map(|position| match (&entries[position], old_span(position)) {
                    (Some((text, _)), _) => text.len() + 6,
                    (None, Some((start, end))) => end - start + 6,
                    (None, None) => 0,
                })
                .sum();
            let mut json = (last.buffer)(head.len() + size + 4 + tail.len());
            json.extend_from_slice(head);
            spans.reserve(count);
            let mut position = 0;
            while position < count {
                json.extend_from_slice(if position == 0 { b"\n    " } else { b",\n    " });
                match (&entries[position], reusable) {
                    (Some((text, _)), _) => {
                        spans.push((json.len(), json.len() + text.len()));
                        json.extend_from_slice(text.as_bytes());
                        position += 1;
                    }
                    // A run of unchanged entries, copied with the
                    // separators between them, which are the same.
                    (None, Some((layout, _, old))) => {
                        let first = position;
                        while position < count && entries[position].is_none() {
                            position += 1;
                        }
                        let (start, _) = layout.spans[first];
                        let (_, end) = layout.spans[position - 1];
                        let shift = |at: usize| at - start + json.len();
                        spans.extend(
                            layout.spans[first..position]
                                .iter()
                                .map(|&(from, to)| (shift(from), shift(to))),
                        );
                        json.extend_from_slice(&old[start..end]);
                    }
                    (None, None) => position += 1,
                }
            }
            json.extend_from_slice(b"\n  ");
            json.extend_from_slice(tail);
            json
        }
        None => rest,
    };
    let layout = match (keep, last.stable) {
        (true, Some(stable)) if spans.len() == count && count > 0 => Some(Layout {
            build: stable.build,
            len: json.len(),
            spans,
        }),
        _ => None,
    };
    let by_id = entries
        .into_iter()
        .flatten()
        .filter_map(|(_, entry)| entry.map(|entry| (entry.inputs.brief.handoff.id.clone(), entry)))
        .collect();
    (
        json,
        Entries {
            by_id,
            wrote: true,
            layout,
        },
    )
}

/// The document `data/scorecard.json` holds, with `handoffs` for its list.
fn scorecard<'a>(
    site: &'a Site,
    model: &'a Model,
    handoffs: Vec<HandoffJson<'a>>,
) -> Scorecard<'a> {
    let bands = &site.config.bands;
    let current = model.current.as_ref().map(|current| CurrentJson {
        score: current.score,
        band: &bands.get(current.band).name,
        handoffs: current
            .handoffs
            .iter()
            .map(|&i| site.briefs[model.cards[i].brief].handoff.id.as_str())
            .collect(),
    });
    Scorecard {
        as_of: model.as_of.map(|d| d.to_string()),
        period: site.config.trend_period,
        bands: bands
            .iter()
            .map(|b| BandJson {
                name: &b.name,
                min: b.min,
            })
            .collect(),
        handoffs,
        current,
        periods: &model.signals.periods,
        directions: model
            .signals
            .directions
            .iter()
            .map(|(field, direction)| (field.key(), *direction))
            .collect(),
        verdict: model.signals.verdict,
        faq: site
            .faq
            .blocks
            .iter()
            .map(|block| FaqJson {
                id: &block.id,
                question: &block.question,
                answer: &block.answer_text,
            })
            .collect(),
    }
}

/// What faq.html sees.
pub fn faq_value(faq: &Faq) -> Value {
    let blocks: Vec<Value> = faq
        .blocks
        .iter()
        .map(|b| {
            json!({
                "id": b.id, "question": b.question, "question_html": b.question_html,
                "answer_html": b.answer_html, "answer_text": b.answer_text,
                "detail_html": b.detail_html, "markdown_url": faq_markdown_path(&b.id),
            })
        })
        .collect();
    let sections: Vec<Value> = faq
        .sections
        .iter()
        .map(|s| {
            let ids: Vec<&str> = s
                .blocks
                .iter()
                .filter_map(|&i| faq.blocks.get(i).map(|b| b.id.as_str()))
                .collect();
            json!({"title": s.title, "file": s.file, "html": s.html, "blocks": ids})
        })
        .collect();
    let json_ld = if faq.blocks.is_empty() {
        String::new()
    } else {
        faq_json_ld(faq)
    };
    json!({"blocks": blocks, "sections": sections, "json_ld": json_ld})
}

/// The FAQPage JSON-LD, with every `<` escaped so no text can end the
/// script element early. Each answer's `text` is the block's HTML below
/// its question, exactly what the page shows there.
pub fn faq_json_ld(faq: &Faq) -> String {
    let entities: Vec<Value> = faq
        .blocks
        .iter()
        .map(|b| {
            json!({
                "@type": "Question",
                "name": b.question,
                "acceptedAnswer": {"@type": "Answer", "text": b.html()},
            })
        })
        .collect();
    let value = json!({
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": entities,
    });
    serde_json::to_string(&value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

/// Where a block's Markdown is written, relative to the site root.
pub fn faq_markdown_path(id: &str) -> String {
    format!("faq/{id}.md")
}

/// The whole FAQ as one Markdown document, at the page's URL plus
/// `index.html.md` as the llms.txt proposal suggests.
pub const FAQ_PAGE_MARKDOWN: &str = "faq/index.html.md";

fn faq_page_markdown(site: &Site) -> String {
    let mut text = String::from("# Questions and answers\n");
    for section in &site.faq.sections {
        if !section.markdown.is_empty() {
            text.push('\n');
            text.push_str(&section.markdown);
            text.push('\n');
        }
    }
    text
}

/// Escapes the characters that would end or break a Markdown link text.
fn markdown_link_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn robots_txt(site: &Site) -> String {
    let mut text = String::from("User-agent: *\nAllow: /\n");
    if let Some(base) = &site.config.base_url {
        text.push_str(&format!("\nSitemap: {base}/sitemap.xml\n"));
    }
    text
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn sitemap_xml(base: &str, indexable: &[String]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut urls: Vec<&String> = indexable.iter().collect();
    urls.sort();
    for url in urls {
        xml.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            xml_escape(&format!("{base}/{url}"))
        ));
    }
    xml.push_str("</urlset>\n");
    xml
}

fn llms_txt(site: &Site) -> String {
    let config = &site.config;
    let link = |path: &str| match &config.base_url {
        Some(base) => format!("{base}/{path}"),
        None if path.is_empty() => "./".to_string(),
        None => path.to_string(),
    };
    let one_line = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text = format!(
        "# {}\n\n> {}\n\n",
        one_line(&config.title),
        one_line(&config.description)
    );
    text.push_str(
        "A scorecard of partner handoffs to sales: each handoff graded on nine components \
         (0–18 points) and placed in a band, with seller-behaviour signals that show whether \
         sales trusts the handoffs.\n\n",
    );
    text.push_str("## Pages\n\n");
    let mut pages = vec![
        ("", "Home", "current score, band, verdict and signals"),
        (
            "handoffs/",
            "Handoffs",
            "every handoff with its score and band",
        ),
        (
            "trends/",
            "Trends",
            "the handoff score and seller signals over time",
        ),
    ];
    if !site.faq.is_empty() {
        pages.push((
            "faq/",
            "Questions and answers",
            "answer blocks, also as Markdown",
        ));
    }
    for (path, title, about) in pages {
        text.push_str(&format!("- [{title}]({}): {about}\n", link(path)));
    }

    let mut current_heading: Option<&str> = None;
    for section in &site.faq.sections {
        if section.blocks.is_empty() {
            continue;
        }
        let heading = section.title.as_deref().unwrap_or("FAQ");
        if current_heading != Some(heading) {
            text.push_str(&format!("\n## {}\n\n", one_line(heading)));
            current_heading = Some(heading);
        }
        for block in section
            .blocks
            .iter()
            .filter_map(|&i| site.faq.blocks.get(i))
        {
            text.push_str(&format!(
                "- [{}]({})",
                markdown_link_text(&block.question),
                link(&faq_markdown_path(&block.id))
            ));
            if !block.answer_text.is_empty() {
                text.push_str(&format!(": {}", one_line(&block.answer_text)));
            }
            text.push('\n');
        }
    }

    text.push_str("\n## Optional\n\n");
    if !site.faq.sections.is_empty() {
        text.push_str(&format!(
            "- [The whole FAQ as Markdown]({})\n",
            link(FAQ_PAGE_MARKDOWN)
        ));
    }
    text.push_str(&format!(
        "- [Scorecard data]({}): every computed figure as JSON\n",
        link("data/scorecard.json")
    ));
    text
}

/// Every data file into `output`; with the handoffs' entries written in
/// `data/scorecard.json`, for later builds when `keep` says (see
/// [`Entries`]), and from the `last` one when it can (see `Layout`).
pub fn add_data_files(
    site: &Site,
    model: &Model,
    indexable: &[String],
    previous: Option<&Entries>,
    keep: bool,
    last: &Last<'_>,
    output: &mut Output,
) -> Entries {
    let (json, entries) = scorecard_json_into(site, model, previous, keep, last);
    output.insert(SCORECARD_JSON.into(), json);
    output.insert("robots.txt".into(), robots_txt(site).into_bytes());
    output.insert("llms.txt".into(), llms_txt(site).into_bytes());
    for block in &site.faq.blocks {
        output.insert(
            faq_markdown_path(&block.id),
            block.to_markdown().into_bytes(),
        );
    }
    if !site.faq.sections.is_empty() {
        output.insert(
            FAQ_PAGE_MARKDOWN.into(),
            faq_page_markdown(site).into_bytes(),
        );
    }
    if let Some(base) = &site.config.base_url {
        output.insert(
            "sitemap.xml".into(),
            sitemap_xml(base, indexable).into_bytes(),
        );
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelOptions;

    /// The document written whole, as it was before entries were kept.
    fn written_whole(site: &Site, model: &Model) -> Vec<u8> {
        let handoffs = model
            .cards
            .iter()
            .map(|card| handoff_json(site, card))
            .collect();
        let mut json = serde_json::to_vec_pretty(&scorecard(site, model, handoffs)).expect("json");
        json.push(b'\n');
        json
    }

    #[test]
    fn scorecard_json_from_entries_is_the_document_written_whole() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let mut site = Site::load(&fixture).expect("fixture loads");
        let model = Model::compute(&site, &ModelOptions::default());
        assert!(model.cards.len() > 1);
        let (json, entries) = scorecard_json(&site, &model, None, true);
        assert_eq!(
            String::from_utf8_lossy(&json),
            String::from_utf8_lossy(&written_whole(&site, &model))
        );
        assert_eq!(entries.len(), model.cards.len());

        // Nothing changed: every entry is the kept one.
        let (again, none) = scorecard_json(&site, &model, Some(&entries), true);
        assert_eq!(again, json);
        assert!(none.is_empty());

        // One title: one entry written again, the same document as whole.
        let brief = model.cards[0].brief;
        let mut edited = (*site.briefs[brief]).clone();
        edited.handoff.title.push_str(" \"quoted\"\nand broken");
        site.briefs[brief] = Arc::new(edited);
        let (changed, written) = scorecard_json(&site, &model, Some(&entries), true);
        assert_eq!(written.len(), 1);
        assert_ne!(changed, json);
        assert_eq!(changed, written_whole(&site, &model));

        // No handoffs at all.
        let empty = Model::compute(
            &site,
            &ModelOptions {
                as_of: jiff::civil::Date::new(2000, 1, 1).ok(),
                ..ModelOptions::default()
            },
        );
        assert!(empty.cards.is_empty());
        assert_eq!(
            scorecard_json(&site, &empty, None, true).0,
            written_whole(&site, &empty)
        );
    }

    /// With numbered builds, entries of handoffs unchanged since the last
    /// file are copied from it in runs; the others are written again, and
    /// the document is the one written whole.
    #[test]
    fn unchanged_entries_are_copied_from_the_last_file() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let mut site = Site::load(&fixture).expect("fixture loads");
        let model = Model::compute(&site, &ModelOptions::default());
        let count = model.cards.len();
        assert!(count > 2);
        let since = vec![1; count];
        let first = Last {
            json: None,
            stable: Some(Stable {
                build: 1,
                since: &since,
            }),
            buffer: &Vec::with_capacity,
        };
        let (json, mut entries) = scorecard_json_into(&site, &model, None, true, &first);
        assert_eq!(json, written_whole(&site, &model));
        assert_eq!(entries.len(), count);

        // The middle card's title changes in build 2.
        let position = count / 2;
        let brief = model.cards[position].brief;
        let mut edited = (*site.briefs[brief]).clone();
        edited.handoff.title.push_str(", longer \"now\"");
        site.briefs[brief] = Arc::new(edited);
        let mut since = since.clone();
        since[position] = 2;
        let second = Last {
            json: Some(&json),
            stable: Some(Stable {
                build: 2,
                since: &since,
            }),
            buffer: &Vec::with_capacity,
        };
        let (again, written) = scorecard_json_into(&site, &model, Some(&entries), true, &second);
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&written_whole(&site, &model))
        );
        assert_eq!(written.len(), 1);

        // Build 3 copies from build 2's file, by build 2's layout.
        entries.add(written);
        let third = Last {
            json: Some(&again),
            stable: Some(Stable {
                build: 3,
                since: &since,
            }),
            buffer: &Vec::with_capacity,
        };
        let (third_json, none) = scorecard_json_into(&site, &model, Some(&entries), true, &third);
        assert_eq!(third_json, again);
        assert!(none.is_empty());
    }
}
