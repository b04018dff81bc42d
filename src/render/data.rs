//! Machine-readable outputs: /data/scorecard.json, robots.txt, sitemap.xml,
//! llms.txt, and the FAQ's template data.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::content::faq::Faq;
use crate::model::Model;
use crate::output::Output;
use crate::score::Component;
use crate::score::signals::{Direction, PeriodKind, PeriodStats, Verdict};
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

pub fn scorecard_json(site: &Site, model: &Model) -> String {
    let bands = &site.config.bands;
    let handoffs = model
        .cards
        .iter()
        .map(|card| {
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
                band: &bands.get(card.band).name,
                fixes: card.fixes.iter().map(|f| f.key()).collect(),
                due: activity.due,
                response_days: activity.response_days,
                responded_in_window: activity.responded_in_window,
                acted: activity.acted,
                url: format!("handoffs/{}/", handoff.id),
            }
        })
        .collect();
    let current = model.current.as_ref().map(|current| CurrentJson {
        score: current.score,
        band: &bands.get(current.band).name,
        handoffs: current
            .handoffs
            .iter()
            .map(|&i| site.briefs[model.cards[i].brief].handoff.id.as_str())
            .collect(),
    });
    let scorecard = Scorecard {
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
    };
    let mut json = serde_json::to_string_pretty(&scorecard).unwrap_or_else(|_| "{}".into());
    json.push('\n');
    json
}

/// What faq.html sees.
pub fn faq_value(faq: &Faq) -> Value {
    let blocks: Vec<Value> = faq
        .blocks
        .iter()
        .map(|b| {
            json!({
                "id": b.id, "question": b.question, "question_html": b.question_html,
                "answer_html": b.answer_html, "detail_html": b.detail_html,
            })
        })
        .collect();
    let sections: Vec<Value> = faq
        .sections
        .iter()
        .map(|s| json!({"title": s.title, "html": s.html}))
        .collect();
    json!({"blocks": blocks, "sections": sections, "json_ld": faq_json_ld(faq)})
}

/// The FAQPage JSON-LD, with every `<` escaped so no text can end the
/// script element early.
pub fn faq_json_ld(faq: &Faq) -> String {
    let entities: Vec<Value> = faq
        .blocks
        .iter()
        .map(|b| {
            json!({
                "@type": "Question",
                "name": b.question,
                "acceptedAnswer": {"@type": "Answer", "text": b.answer_html},
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
    let mut text = format!("# {}\n\n> {}\n\n", config.title, config.description);
    text.push_str("## Pages\n\n");
    for (path, title) in [
        ("", "Home: current score, verdict and signals"),
        ("handoffs/", "Every handoff with its score and band"),
        ("trends/", "Trends of the handoff score and seller signals"),
        ("faq/", "Questions and answers"),
        ("data/scorecard.json", "All computed figures as JSON"),
    ] {
        text.push_str(&format!("- [{title}]({path})\n"));
    }
    if !site.faq.blocks.is_empty() {
        text.push_str("\n## Questions\n\n");
        for block in &site.faq.blocks {
            text.push_str(&format!(
                "- [{}](faq/#{}): {}\n",
                block.question, block.id, block.answer_text
            ));
        }
    }
    text
}

pub fn add_data_files(site: &Site, model: &Model, indexable: &[String], output: &mut Output) {
    output.insert(
        "data/scorecard.json".into(),
        scorecard_json(site, model).into_bytes(),
    );
    output.insert("robots.txt".into(), robots_txt(site).into_bytes());
    output.insert("llms.txt".into(), llms_txt(site).into_bytes());
    if let Some(base) = &site.config.base_url {
        output.insert(
            "sitemap.xml".into(),
            sitemap_xml(base, indexable).into_bytes(),
        );
    }
}
