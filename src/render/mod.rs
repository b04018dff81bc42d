//! Model → every output file, in memory. Nothing is written here, so a
//! failed render leaves the previous site untouched.

pub mod chart;
pub mod data;
pub mod format;
pub mod theme;
pub mod views;

use rayon::prelude::*;
use serde_json::{Value, json};
use tera::Context;

use crate::diagnostics::{Diagnostic, Diagnostics, Failure};
use crate::model::Model;
use crate::output::Output;
use crate::score::signals::Field;
use crate::site::Site;
use theme::Theme;

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Links end in `index.html`, for browsing the output from disk.
    pub explicit_index: bool,
    /// Extra HTML before `</body>` (the dev server's reload script).
    pub inject: Option<String>,
}

/// One HTML page to render.
struct Page<'a> {
    /// Output path relative to the output folder, e.g. `handoffs/x/index.html`.
    path: String,
    template: &'static str,
    title: String,
    description: String,
    /// Whether search engines may index it.
    indexable: bool,
    data: PageData<'a>,
}

/// Page data, built when the page renders: a 10,000-brief site would
/// otherwise hold every scorecard's JSON in memory at once.
enum PageData<'a> {
    Ready(Value),
    Scorecard(&'a crate::model::Card),
}

impl<'a> Page<'a> {
    fn new(
        path: String,
        template: &'static str,
        title: String,
        description: String,
        data: Value,
    ) -> Page<'a> {
        Page {
            path,
            template,
            title,
            description,
            indexable: false,
            data: PageData::Ready(data),
        }
    }

    /// The page's URL path relative to the root: `handoffs/x/` or `404.html`.
    fn url(&self) -> &str {
        self.path.strip_suffix("index.html").unwrap_or(&self.path)
    }
}

fn relative_root(path: &str) -> String {
    let depth = path.matches('/').count();
    if depth == 0 {
        "./".to_string()
    } else {
        "../".repeat(depth)
    }
}

/// The site-wide values every template sees.
fn site_value(site: &Site, model: &Model, theme: &Theme) -> Value {
    let config = &site.config;
    let bands: Vec<Value> = config
        .bands
        .iter()
        .map(|b| json!({"name": b.name, "slug": b.slug, "min": b.min, "summary": b.summary, "url": format!("bands/{}/", b.slug)}))
        .collect();
    let trends: Vec<Value> = Field::ALL
        .iter()
        .map(|f| json!({"key": f.key(), "title": format::field_text(*f).title, "url": format!("trends/{}/", f.key())}))
        .collect();
    json!({
        "title": config.title,
        "description": config.description,
        "language": config.language,
        "base_url": config.base_url,
        "as_of": model.as_of.map(|d| d.to_string()),
        "as_of_long": model.as_of.map(format::long_date),
        "period": config.trend_period,
        "trend_window": config.trend_window,
        "bands": bands,
        "trends": trends,
        "extra": config.extra,
        "has_faq": !site.faq.blocks.is_empty(),
        "has_drafts": !model.drafts.is_empty(),
        "handoff_count": model.cards.len(),
        "partner_count": model.partners.len(),
        "seller_count": model.sellers.len(),
        "asset_version": theme.asset_version(),
        "version": env!("CARGO_PKG_VERSION"),
    })
}

fn pages<'a>(site: &'a Site, model: &'a Model) -> Vec<Page<'a>> {
    let config = &site.config;
    let bands = &config.bands;
    let mut pages = Vec::new();
    let all: Vec<usize> = (0..model.cards.len()).collect();
    let latest: Vec<usize> = all.iter().rev().take(10).copied().collect();

    pages.push(Page::new(
        "index.html".into(),
        "home.html",
        config.title.clone(),
        config.description.clone(),
        json!({
            "intro": site.home_intro,
            "current": views::current(model.current.as_ref(), bands),
            "current_handoffs": model.current.as_ref().map(|c| views::summaries(site, model, &c.handoffs)),
            "verdict": views::verdict(&model.signals),
            "score_trend": views::signal_rows(&model.signals, &[Field::MeanScore]),
            "signals": views::signal_rows(&model.signals, &Field::SIGNALS),
            "latest": views::summaries(site, model, &latest),
        }),
    ));

    let newest_first: Vec<usize> = all.iter().rev().copied().collect();
    pages.push(Page::new(
        "handoffs/index.html".into(),
        "handoffs.html",
        "All handoffs".into(),
        format!("Every partner handoff sent to sales, with its score out of 18 and its band ({} in all).", model.cards.len()),
        json!({
            "intro": site.handoffs_intro,
            "handoffs": views::summaries(site, model, &newest_first),
            "partners": model.partners.iter().map(|r| &r.name).collect::<Vec<_>>(),
            "sellers": model.sellers.iter().map(|r| &r.name).collect::<Vec<_>>(),
        }),
    ));

    for card in model.cards.iter().chain(&model.drafts) {
        let brief = &site.briefs[card.brief];
        let band = bands.get(card.band);
        pages.push(Page::new(
            format!("handoffs/{}/index.html", brief.handoff.id),
            "handoff.html",
            brief.handoff.title.clone(),
            format!(
                "Handoff scorecard: {} × {}, {} of 18, {}.",
                brief.handoff.account, brief.handoff.partner, card.score, band.name
            ),
            Value::Null,
        ));
        if let Some(page) = pages.last_mut() {
            page.data = PageData::Scorecard(card);
        }
    }

    let band_list: Vec<Value> = model
        .bands
        .iter()
        .map(|summary| {
            let band = bands.get(summary.band);
            json!({
                "name": band.name, "slug": band.slug, "min": band.min, "summary": band.summary,
                "url": format!("bands/{}/", band.slug),
                "count": summary.cards.len(),
                "share": if model.cards.is_empty() { None } else { Some(format::share(summary.cards.len() as f64 / model.cards.len() as f64)) },
            })
        })
        .collect();
    pages.push(Page::new(
        "bands/index.html".into(),
        "bands.html",
        "Bands".into(),
        "What each score band means, and how many handoffs fall in it.".into(),
        json!({"bands": band_list}),
    ));
    for (i, summary) in model.bands.iter().enumerate() {
        let band = bands.get(summary.band);
        let components: Vec<Value> = crate::score::Component::ALL
            .iter()
            .zip(&summary.shares)
            .map(|(component, shares)| {
                json!({
                    "key": component.key(),
                    "name": component.display_name(),
                    "shares": shares.map(|s| json!({
                        "strong": format::share(s[0]), "weak": format::share(s[1]), "missing": format::share(s[2]),
                        "strong_value": s[0], "weak_value": s[1], "missing_value": s[2],
                    })),
                })
            })
            .collect();
        let newest: Vec<usize> = summary.cards.iter().rev().copied().collect();
        pages.push(Page::new(
            format!("bands/{}/index.html", band.slug),
            "band.html",
            format!("{} handoffs", band.name),
            format!("Handoffs in the {} band, and how their components were graded.", band.name),
            json!({"band": band_list[i], "handoffs": views::summaries(site, model, &newest), "components": components}),
        ));
    }

    let periods: Vec<&str> = model
        .signals
        .periods
        .iter()
        .map(|p| p.period.as_str())
        .collect();
    let period_labels: Vec<String> = periods.iter().map(|p| p.to_string()).collect();
    let mut trend_rows = Vec::new();
    for field in Field::ALL {
        let text = format::field_text(field);
        let values: Vec<Option<f64>> = model
            .signals
            .periods
            .iter()
            .map(|p| field.value(p))
            .collect();
        let row = &views::signal_rows(&model.signals, &[field])[0];
        let description = format!(
            "{} per {}, {}.",
            text.title,
            match config.trend_period {
                crate::score::signals::PeriodKind::Week => "week",
                crate::score::signals::PeriodKind::Month => "month",
                crate::score::signals::PeriodKind::Quarter => "quarter",
            },
            row["direction_words"].as_str().unwrap_or_default()
        );
        let chart = chart::line_chart(&chart::Series {
            id: &format!("chart-{}", field.key()),
            title: text.title,
            description: &description,
            labels: &period_labels,
            values: &values,
            is_share: text.is_share,
        });
        let table: Vec<Value> = model
            .signals
            .periods
            .iter()
            .map(|p| json!({"period": p.period, "value": format::value(field, field.value(p)), "handoffs": p.handoffs}))
            .collect();
        let mut trend = row.clone();
        if let Value::Object(map) = &mut trend {
            map.insert("chart".into(), Value::String(chart));
            map.insert("table".into(), Value::Array(table));
            map.insert(
                "higher_is_better".into(),
                Value::Bool(field.higher_is_better()),
            );
        }
        trend_rows.push(trend);
    }
    pages.push(Page::new(
        "trends/index.html".into(),
        "trends.html",
        "Trends".into(),
        "The handoff score and the six seller-behaviour signals over time, with their directions.".into(),
        json!({"verdict": views::verdict(&model.signals), "trends": trend_rows, "periods": periods}),
    ));
    for (field, trend) in Field::ALL.iter().zip(&trend_rows) {
        pages.push(Page::new(
            format!("trends/{}/index.html", field.key()),
            "trend.html",
            format::field_text(*field).title.to_string(),
            format!(
                "{} over time. {}",
                format::field_text(*field).title,
                format::field_text(*field).explanation
            ),
            json!({"trend": trend}),
        ));
    }

    for (kind, rollups) in [("partner", &model.partners), ("seller", &model.sellers)] {
        let list: Vec<Value> = rollups
            .iter()
            .map(|r| {
                json!({
                    "name": r.name, "url": format!("{kind}s/{}/", r.slug), "count": r.cards.len(),
                    "current": views::current(r.current.as_ref(), bands),
                    "verdict": views::verdict(&r.signals),
                })
            })
            .collect();
        let (title, description) = if kind == "partner" {
            (
                "Partners",
                "Every partner with handoffs, and the current score of each.",
            )
        } else {
            (
                "Sellers",
                "Every seller who received handoffs, and the current score of each.",
            )
        };
        pages.push(Page::new(
            format!("{kind}s/index.html"),
            "rollups.html",
            title.into(),
            description.into(),
            json!({"kind": kind, "rollups": list}),
        ));
        for rollup in rollups.iter() {
            pages.push(Page::new(
                format!("{kind}s/{}/index.html", rollup.slug),
                "rollup.html",
                rollup.name.clone(),
                format!(
                    "{} handoffs for {}: the current score, every handoff and the seller signals.",
                    rollup.cards.len(),
                    rollup.name
                ),
                json!({"rollup": views::rollup(site, model, rollup, kind)}),
            ));
        }
    }

    let review_cards: Vec<Value> = all
        .iter()
        .rev()
        .take(12)
        .map(|&i| {
            let card = &model.cards[i];
            let mut components = views::components(site, card);
            components.sort_by_key(|c| c["points"].as_u64().unwrap_or(0));
            let weakest: Vec<Value> = components
                .into_iter()
                .filter(|c| c["points"].as_u64() != Some(2))
                .take(3)
                .collect();
            json!({
                "handoff": views::summary(site, card),
                "band_summary": bands.get(card.band).summary,
                "weakest": weakest,
                "fix": views::fixes(card).into_iter().next(),
            })
        })
        .collect();
    pages.push(Page::new(
        "review/index.html".into(),
        "review.html",
        "Meeting review".into(),
        "The most recent handoffs, one per screen, for reviewing in a sales meeting.".into(),
        json!({"cards": review_cards}),
    ));

    let mut faq = Page::new(
        "faq/index.html".into(),
        "faq.html",
        "Questions and answers".into(),
        format!(
            "Short answers to the questions partner and sales leaders ask about {}.",
            config.title
        ),
        data::faq_value(&site.faq),
    );
    faq.indexable = true;
    pages.push(faq);

    pages.push(Page::new(
        "404.html".into(),
        "404.html",
        "Page not found".into(),
        "This page does not exist.".into(),
        json!({}),
    ));

    if config.index_scorecards {
        for page in &mut pages {
            page.indexable = page.path != "404.html";
        }
    }
    pages
}

pub fn render_site(
    site: &Site,
    model: &Model,
    theme: &Theme,
    options: &RenderOptions,
) -> Result<Output, Failure> {
    let site_data = site_value(site, model, theme);
    let pages = pages(site, model);
    let indexable: Vec<String> = pages
        .iter()
        .filter(|page| page.indexable)
        .map(|page| page.url().to_string())
        .collect();
    let base_url = site.config.base_url.as_deref();

    let rendered: Vec<Result<(String, Vec<u8>), Diagnostic>> = pages
        .par_iter()
        .map(|page| {
            let mut context = Context::new();
            let root = if page.path == "404.html" {
                // A 404 page is served from any depth, so only an absolute
                // base makes its links work everywhere.
                base_url.map_or_else(|| "./".to_string(), |b| format!("{b}/"))
            } else {
                relative_root(&page.path)
            };
            context.insert("site", &site_data);
            context.insert("root", &root);
            context.insert(
                "index",
                if options.explicit_index {
                    "index.html"
                } else {
                    ""
                },
            );
            context.insert(
                "page",
                &json!({
                    "path": page.url(),
                    "template": page.template,
                    "title": page.title,
                    "description": page.description,
                    "noindex": !page.indexable,
                    "canonical": base_url.map(|b| format!("{b}/{}", page.url())),
                }),
            );
            match &page.data {
                PageData::Ready(Value::Object(map)) => {
                    for (key, value) in map {
                        context.insert(key.as_str(), value);
                    }
                }
                PageData::Ready(_) => {}
                PageData::Scorecard(card) => {
                    let brief = &site.briefs[card.brief];
                    context.insert("handoff", &views::summary(site, card));
                    context.insert("band_summary", &site.config.bands.get(card.band).summary);
                    context.insert("components", &views::components(site, card));
                    context.insert("fixes", &views::fixes(card));
                    context.insert(
                        "timeline",
                        &views::timeline(model, &site.events.names, card, site),
                    );
                    context.insert("body", &brief.body_html);
                    context.insert("extra", &brief.extra);
                }
            }
            let render_started = std::time::Instant::now();
            let rendered = theme.tera.render(page.template, &context);
            if std::env::var_os("TRUSTCARD_PAGE_TIMINGS").is_some() {
                eprintln!(
                    "page {} {} us",
                    page.path,
                    render_started.elapsed().as_micros()
                );
            }
            let mut html = rendered.map_err(|error| {
                Diagnostic::error(format!(
                    "cannot render {} with template `{}`: {}",
                    page.url(),
                    page.template,
                    theme::error_chain(&error)
                ))
                .in_file(theme.template_source(page.template))
            })?;
            if let Some(inject) = &options.inject {
                match html.rfind("</body>") {
                    Some(at) => html.insert_str(at, inject),
                    None => html.push_str(inject),
                }
            }
            Ok((page.path.clone(), html.into_bytes()))
        })
        .collect();

    let mut diagnostics = Diagnostics::new();
    let mut output = Output::default();
    for result in rendered {
        match result {
            Ok((path, bytes)) => output.insert(path, bytes),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    if diagnostics.has_errors() {
        return Err(Failure(diagnostics.sorted()));
    }
    for (path, bytes) in &theme.static_files {
        output.insert(path.clone(), bytes.clone());
    }
    data::add_data_files(site, model, &indexable, &mut output);
    Ok(output)
}
