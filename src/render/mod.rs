//! Model → every output file, in memory. Nothing is written here, so a
//! failed render leaves the previous site untouched.

pub mod chart;
pub mod data;
pub mod format;
pub mod key;
pub mod memo;
pub mod theme;
pub mod views;

use std::hash::Hasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tera::Context;
use xxhash_rust::xxh3::Xxh3;

use crate::diagnostics::{Diagnostic, Diagnostics, Failure};
use crate::leftovers::Leftovers;
use crate::model::Model;
use crate::output::{Output, Publisher};
use crate::score::signals::Field;
use crate::site::Site;
use key::KeyWriter;
pub use memo::Memo;
pub use memo::Stable;
use memo::{Item, ItemStore, Items, Made, Origin};
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
    /// Empty for a scorecard, whose title and description are made only
    /// if it renders (see [`scorecard_text`]): 10,000 of them carried over
    /// by a dev-server rebuild would each be formatted for nothing.
    title: String,
    description: String,
    /// Whether search engines may index it.
    indexable: bool,
    data: PageData<'a>,
    /// The model's cards (indices into `model.cards`) whose briefs a band
    /// or rollup page lists: all it reads of the briefs (see [`reads`]).
    cards: Option<&'a [usize]>,
    /// A band page's band (index into the bands and `model.bands`).
    band: Option<usize>,
    /// How many handoffs it lists in a table: the longest lists render
    /// first (see [`heaviest_first`]).
    rows: usize,
}

/// Page data. The big ones are built when the page renders, in parallel,
/// and dropped right after: a 10,000-brief site would otherwise hold every
/// scorecard's values at once.
enum PageData<'a> {
    Ready(Value),
    Scorecard(&'a crate::model::Card),
    Lazy(Box<dyn Fn() -> Data<'a> + Send + Sync + 'a>),
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
            cards: None,
            band: None,
            rows: 0,
        }
    }

    /// A page whose values are made only if it renders: a dev-server
    /// rebuild carries most pages over, and making their values (charts,
    /// one row per partner) would be for nothing.
    fn lazy(
        path: String,
        template: &'static str,
        title: String,
        description: String,
        data: impl Fn() -> Data<'a> + Send + Sync + 'a,
    ) -> Page<'a> {
        Page {
            data: PageData::Lazy(Box::new(data)),
            ..Page::new(path, template, title, description, Value::Null)
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

fn scorecard_page<'a>(site: &'a Site, card: &'a crate::model::Card) -> Page<'a> {
    let id = &site.briefs[card.brief].handoff.id;
    Page {
        path: ["handoffs/", id, "/index.html"].concat(),
        template: "handoff.html",
        title: String::new(),
        description: String::new(),
        indexable: false,
        data: PageData::Scorecard(card),
        cards: None,
        band: None,
        rows: 0,
    }
}

/// A scorecard page's title and description.
fn scorecard_text(site: &Site, card: &crate::model::Card) -> (String, String) {
    let handoff = &site.briefs[card.brief].handoff;
    let band = site.config.bands.get(card.band);
    (
        handoff.title.clone(),
        format!(
            "Handoff scorecard: {} × {}, {} of 18, {}.",
            handoff.account, handoff.partner, card.score, band.name
        ),
    )
}

/// Every field's trend as the trends pages show it: its signal row with
/// its chart and its table.
fn trend_values(site: &Site, model: &Model) -> Vec<Value> {
    let periods = &model.signals.periods;
    let labels: Vec<String> = periods.iter().map(|p| p.period.clone()).collect();
    Field::ALL
        .iter()
        .map(|&field| {
            let text = format::field_text(field);
            let values: Vec<Option<f64>> = periods.iter().map(|p| field.value(p)).collect();
            let row = &views::signal_rows(&model.signals, &[field])[0];
            let description = format!(
                "{} per {}, {}.",
                text.title,
                site.config.trend_period.word(),
                row["direction_words"].as_str().unwrap_or_default()
            );
            let chart = chart::line_chart(&chart::Series {
                id: &format!("chart-{}", field.key()),
                title: text.title,
                description: &description,
                labels: &labels,
                values: &values,
                is_share: text.is_share,
            });
            let table: Vec<Value> = periods
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
            trend
        })
        .collect()
}

fn pages<'a>(site: &'a Site, model: &'a Model) -> Vec<Page<'a>> {
    let config = &site.config;
    let bands = &config.bands;
    let rollups = model.partners.len() + model.sellers.len();
    let mut pages = Vec::with_capacity(model.cards.len() + model.drafts.len() + rollups + 32);
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
        Value::Null,
    ));
    if let Some(page) = pages.last_mut() {
        page.rows = model.cards.len();
        page.data = PageData::Lazy(Box::new(move || {
            Data::Handoffs(HandoffsPage {
                intro: site.handoffs_intro.as_deref(),
                handoffs: views::Listed::new(site, model, newest_first.clone()),
                partners: model.partners.iter().map(|r| r.name.as_str()).collect(),
                sellers: model.sellers.iter().map(|r| r.name.as_str()).collect(),
            })
        }));
    }

    for card in model.cards.iter().chain(&model.drafts) {
        pages.push(scorecard_page(site, card));
    }

    // A band as the bands page and its own page show it.
    let band_value = move |summary: &crate::model::BandSummary| {
        let band = bands.get(summary.band);
        json!({
            "name": band.name, "slug": band.slug, "min": band.min, "summary": band.summary,
            "url": format!("bands/{}/", band.slug),
            "count": summary.cards.len(),
            "share": if model.cards.is_empty() { None } else { Some(format::share(summary.cards.len() as f64 / model.cards.len() as f64)) },
        })
    };
    pages.push(Page::lazy(
        "bands/index.html".into(),
        "bands.html",
        "Bands".into(),
        "What each score band means, and how many handoffs fall in it.".into(),
        move || {
            let list: Vec<Value> = model.bands.iter().map(band_value).collect();
            Data::Value(json!({ "bands": list }))
        },
    ));
    for summary in &model.bands {
        let band = bands.get(summary.band);
        let newest: Vec<usize> = summary.cards.iter().rev().copied().collect();
        let mut page = Page::lazy(
            format!("bands/{}/index.html", band.slug),
            "band.html",
            format!("{} handoffs", band.name),
            format!(
                "Handoffs in the {} band, and how their components were graded.",
                band.name
            ),
            move || {
                let components: Vec<Value> = crate::score::Component::ALL
                    .iter()
                    .zip(&summary.shares)
                    .map(|(component, shares)| {
                        json!({
                            "key": component.key(),
                            "name": component.display_name(),
                            "shares": shares.map(|s| json!({
                                "strong": format::share(s[0]), "weak": format::share(s[1]), "missing": format::share(s[2]),
                                "strong_value": format::RawNumber(s[0]), "weak_value": format::RawNumber(s[1]), "missing_value": format::RawNumber(s[2]),
                            })),
                        })
                    })
                    .collect();
                Data::Band(BandPage {
                    band: band_value(summary),
                    handoffs: views::Listed::new(site, model, newest.clone()),
                    components,
                })
            },
        );
        page.cards = Some(&summary.cards);
        page.band = Some(summary.band);
        page.rows = summary.cards.len();
        pages.push(page);
    }

    // Every field's trend (its chart, its table), which the trends page
    // and each field's page show, made once by whichever renders first.
    let trends: Arc<OnceLock<Vec<Value>>> = Arc::default();
    let trend_rows = move || -> Vec<Value> { trend_values(site, model) };
    {
        let trends = Arc::clone(&trends);
        pages.push(Page::lazy(
            "trends/index.html".into(),
            "trends.html",
            "Trends".into(),
            "The handoff score and the six seller-behaviour signals over time, with their directions.".into(),
            move || {
                let periods: Vec<&str> = model
                    .signals
                    .periods
                    .iter()
                    .map(|p| p.period.as_str())
                    .collect();
                Data::Value(json!({
                    "verdict": views::verdict(&model.signals),
                    "trends": trends.get_or_init(trend_rows),
                    "periods": periods,
                }))
            },
        ));
    }
    for (i, field) in Field::ALL.iter().enumerate() {
        let trends = Arc::clone(&trends);
        pages.push(Page::lazy(
            format!("trends/{}/index.html", field.key()),
            "trend.html",
            format::field_text(*field).title.to_string(),
            format!(
                "{} over time. {}",
                format::field_text(*field).title,
                format::field_text(*field).explanation
            ),
            move || Data::Value(json!({ "trend": trends.get_or_init(trend_rows).get(i) })),
        ));
    }

    for (kind, rollups) in [("partner", &model.partners), ("seller", &model.sellers)] {
        let list = move || -> Vec<Value> {
            rollups
                .iter()
                .map(|r| {
                    json!({
                        "name": r.name, "url": format!("{kind}s/{}/", r.slug), "count": r.cards.len(),
                        "current": views::current(r.current.as_ref(), bands),
                        "verdict": views::verdict(&r.signals),
                    })
                })
                .collect()
        };
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
        pages.push(Page::lazy(
            format!("{kind}s/index.html"),
            "rollups.html",
            title.into(),
            description.into(),
            move || Data::Value(json!({"kind": kind, "rollups": list()})),
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
                Value::Null,
            ));
            if let Some(page) = pages.last_mut() {
                page.cards = Some(&rollup.cards);
                page.rows = rollup.cards.len();
                page.data = PageData::Lazy(Box::new(move || {
                    Data::Rollup(RollupPage {
                        rollup: views::rollup(site, model, rollup, kind),
                    })
                }));
            }
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

/// What a page reads beyond the config and the site-wide values (both in
/// the base key), for a sink deciding whether it can carry the page over
/// without computing its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads<'a> {
    /// The model alone, nothing of the briefs.
    Model,
    /// A band's page: the model's summary of the band `band` (an index
    /// into the bands and `model.bands`), which lists `cards` (indices
    /// into `model.cards`), and those cards and their briefs'
    /// [`Handoff`](crate::score::Handoff)s (no brief's notes, body or
    /// extra).
    Band { band: usize, cards: &'a [usize] },
    /// A partner's or seller's page: its rollup, which lists these cards
    /// and is computed from them, their briefs' handoffs and the event
    /// log, and those cards and handoffs.
    Rollup(&'a [usize]),
    /// The model, the handoff of every card's brief (drafts and briefs
    /// dated after the as-of date have no card) and `content/_index.md`.
    ModelAndHomeIntro,
    /// The model, the handoff of every card's brief and
    /// `content/handoffs/_index.md`.
    ModelAndHandoffsIntro,
    /// The brief at this index in the site's list, whole, its card and the
    /// events its card lists.
    Scorecard(usize),
}

/// What `page` reads, by the template `pages` gives it; `None` for pages
/// that read more (the review page shows notes, the FAQ page the FAQ) or
/// are too cheap to bother: their keys are always computed. A page added
/// to `pages` under one of these templates must read no more than this
/// says.
fn reads<'a>(page: &Page<'a>) -> Option<Reads<'a>> {
    match (&page.data, page.template) {
        (PageData::Scorecard(card), _) => Some(Reads::Scorecard(card.brief)),
        (_, "home.html") => Some(Reads::ModelAndHomeIntro),
        (_, "handoffs.html") => Some(Reads::ModelAndHandoffsIntro),
        (_, "band.html") => Some(Reads::Band {
            band: page.band?,
            cards: page.cards?,
        }),
        (_, "rollup.html") => page.cards.map(Reads::Rollup),
        (_, "bands.html" | "rollups.html" | "trends.html" | "trend.html") => Some(Reads::Model),
        _ => None,
    }
}

/// Where rendered files go: kept in memory as an [`Output`] (the dev
/// server, `check`), or handed to a [`Publisher`] as they come (`build`).
pub trait Sink: Sync {
    /// Whether render keys are worth computing: only a sink that can skip
    /// pages needs them.
    fn wants_keys(&self) -> bool {
        false
    }

    /// Whether the page at `path`, whose inputs hash to `key`, is already
    /// published and need not be rendered.
    fn reuse(&self, _path: &str, _key: u64) -> bool {
        false
    }

    /// Whether the page at `path`, which reads `reads`, is already
    /// published and need not even have its key computed: only a sink
    /// that knows everything the page reads is unchanged since pages
    /// sharing the base key `base` were published can say so (the dev
    /// server's). On a 10,000-brief site, computing the keys of the
    /// scorecards and of the pages listing every handoff is most of a
    /// rebuild.
    fn carry_over(&self, _path: &str, _reads: Reads<'_>, _base: u64) -> bool {
        false
    }

    /// Whether a page reading `reads` that [`Sink::carry_over`] did not
    /// take is worth keying. A sink that can tell by what pages read that
    /// this one's inputs changed, and will tell again by the same means
    /// in the next build whether they did, says no: the page is rendered
    /// without a key (for the handoff list of a 10,000-brief site, that
    /// is 10,000 handoffs not hashed), and carried over without one.
    fn wants_key(&self, _reads: Reads<'_>) -> bool {
        true
    }

    /// What earlier builds made of parts of pages and files, for this one
    /// to take instead of making them again (see [`Memo`]).
    fn memo(&self) -> Option<&Memo> {
        None
    }

    /// Whether [`Sink::keep_memo`] keeps anything: if not, nothing is
    /// hashed or held for later builds.
    fn keeps_memo(&self) -> bool {
        false
    }

    /// The parts this build made, for [`Sink::memo`] in later builds.
    fn keep_memo(&self, _memo: Memo) {}

    /// For a sink that numbers its builds and knows which handoffs'
    /// summaries stayed the same across them: which memo items are
    /// current without hashing (see [`Stable`]).
    fn stable(&self) -> Option<Stable<'_>> {
        None
    }

    /// Whether the data files (`data/scorecard.json`, `llms.txt`, the FAQ's
    /// Markdown, the sitemap…) of the last build are still right; when it
    /// says so they are not generated, and the sink itself takes the last
    /// build's (after every other file, as a data file wins over a theme's
    /// file of the same name).
    fn reuse_data_files(&self) -> bool {
        false
    }

    /// About how many bytes the page at `path` will take: its last
    /// version's size, if the sink has it.
    fn size_hint(&self, path: &str) -> Option<usize> {
        self.previous_file(path).map(<[u8]>::len)
    }

    /// The file at `path` as the last build the sink kept made it, if it
    /// keeps builds.
    fn previous_file(&self, _path: &str) -> Option<&[u8]> {
        None
    }

    /// An empty buffer for a file of about `size` bytes. A sink that keeps
    /// builds in memory can hand back the memory of a page it no longer
    /// needs: megabytes taken fresh from the system cost a page fault per
    /// 4 KiB written (see `ReusingSink::buffer`).
    fn buffer(&self, size: usize) -> Vec<u8> {
        Vec::with_capacity(size)
    }

    /// One generated data file (see [`Sink::reuse_data_files`]).
    fn put_data_file(&self, path: String, bytes: Vec<u8>) -> Result<(), Failure> {
        self.put(path, bytes, None)
    }

    /// One rendered file, with its render key when it has one.
    fn put(&self, path: String, bytes: Vec<u8>, key: Option<u64>) -> Result<(), Failure>;
}

impl Sink for Publisher {
    fn wants_keys(&self) -> bool {
        true
    }

    fn reuse(&self, path: &str, key: u64) -> bool {
        Publisher::reuse(self, path, key)
    }

    fn put(&self, path: String, bytes: Vec<u8>, key: Option<u64>) -> Result<(), Failure> {
        Publisher::put(self, path, bytes, key)
    }
}

struct MemorySink(Mutex<Output>);

impl Sink for MemorySink {
    fn put(&self, path: String, bytes: Vec<u8>, _key: Option<u64>) -> Result<(), Failure> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(path, bytes);
        Ok(())
    }
}

/// What a render produced, for the build summary.
#[derive(Debug, Default)]
pub struct RenderSummary {
    pub files: usize,
    /// HTML files among them.
    pub pages: usize,
    /// The list rows made for this build, when no later build keeps them.
    pub leftovers: Leftovers,
}

/// Renders every file into memory.
pub fn render_site(
    site: &Site,
    model: &Model,
    theme: &Theme,
    options: &RenderOptions,
) -> Result<Output, Failure> {
    let sink = MemorySink(Mutex::new(Output::default()));
    render_into(site, model, theme, options, &sink)?;
    Ok(sink
        .0
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// Bump when rendering changes in a way the template inputs do not show,
/// so pages published by an older build are rendered again.
const RENDER_KEY_VERSION: u64 = 1;

/// The part of every page's render key that all pages share: the templates,
/// the options, the site-wide values and the binary itself (a rebuilt
/// trustcard may render the same inputs differently). `None` when pages must
/// always be rendered: the binary cannot be stamped.
fn base_key(theme: &Theme, options: &RenderOptions, site_data: &Value) -> Option<u64> {
    let mut hasher = code_key(theme)?;
    hasher.write_u8(u8::from(options.explicit_index));
    match &options.inject {
        Some(inject) => {
            hasher.write_u8(1);
            hasher.write(inject.as_bytes());
        }
        None => hasher.write_u8(0),
    }
    let mut site = KeyWriter::default();
    site.add(site_data).ok()?;
    hasher.write_u64(site.finish(0));
    Some(hasher.finish())
}

/// What every rendered file depends on besides its values: the render key
/// version, the binary and the templates; `None` as for [`base_key`].
fn code_key(theme: &Theme) -> Option<Xxh3> {
    let mut hasher = Xxh3::new();
    hasher.write_u64(RENDER_KEY_VERSION);
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    let (size, modified) = crate::output::binary_stamp()?;
    hasher.write_u64(size);
    hasher.write_u128(modified);
    hasher.write_u64(theme.templates_key);
    Some(hasher)
}

/// What `page` holds in every template.
#[derive(Serialize)]
struct PageMeta<'a> {
    path: &'a str,
    template: &'a str,
    title: &'a str,
    description: &'a str,
    noindex: bool,
    canonical: Option<String>,
}

/// A page's own template values, before they become Tera's.
#[derive(Serialize)]
#[serde(untagged)]
enum Data<'a> {
    Value(Value),
    Scorecard(Box<views::Scorecard<'a>>),
    Handoffs(HandoffsPage<'a>),
    Band(BandPage<'a>),
    Rollup(RollupPage<'a>),
}

#[derive(Serialize)]
struct HandoffsPage<'a> {
    intro: Option<&'a str>,
    handoffs: views::Listed<'a>,
    partners: Vec<&'a str>,
    sellers: Vec<&'a str>,
}

#[derive(Serialize)]
struct BandPage<'a> {
    band: Value,
    handoffs: views::Listed<'a>,
    components: Vec<Value>,
}

#[derive(Serialize)]
struct RollupPage<'a> {
    rollup: views::RollupView<'a>,
}

/// The values of a page listing handoffs in a table: as serialising the
/// page and filling in its rows would make them, but each handoff's values
/// are an item that lists at the same depth share and later builds take
/// from the memo (see [`RowCache::item`]), so a list of 10,000 handoffs
/// costs 10,000 hashes rather than 10,000 rows and conversions.
fn list_context(
    data: Data<'_>,
    cache: &RowCache<'_>,
    theme: &Theme,
    root: &str,
    index: &str,
) -> Result<Context, Failure> {
    let tera_error = |error: tera::Error| Failure::from(Diagnostic::error(error.to_string()));
    let depth = Depth {
        rows: cache.rows_for(root),
        kept: cache.kept(root),
        root,
        index,
        share: cache.shared.iter().any(|shared| shared == root),
    };
    let items = |list: &views::Listed<'_>| -> Result<tera::Value, Failure> {
        let items = list
            .cards
            .par_iter()
            .with_min_len(256)
            .map(|&position| cache.item(theme, &depth, list, position))
            .collect::<Result<Vec<_>, Failure>>()?;
        Ok(tera::Value::from(items))
    };
    // A page whose top level holds the list: the rest of it serialised,
    // then the items.
    let with_items = |page: serde_json::Result<Value>, list: &views::Listed<'_>| {
        let values = object(page);
        let mut context = Context::from_serialize(&values).map_err(tera_error)?;
        context.insert_value("handoffs", items(list)?);
        Ok::<Context, Failure>(context)
    };
    // Everything but the list is serialised as before; a map's keys are
    // in sorted order there, as a serialised map's are.
    Ok(match data {
        Data::Handoffs(mut page) => {
            let list = page.handoffs.take();
            with_items(serde_json::to_value(page), &list)?
        }
        Data::Band(mut page) => {
            let list = page.handoffs.take();
            with_items(serde_json::to_value(page), &list)?
        }
        Data::Rollup(mut page) => {
            let list = page.rollup.handoffs.take();
            let values = object(serde_json::to_value(&page.rollup));
            let mut rollup = to_tera(&values)?.into_map().unwrap_or_default();
            rollup.insert("handoffs".into(), items(&list)?);
            rollup.sort_keys();
            let mut context = Context::new();
            context.insert_value("rollup", tera::Value::from(rollup));
            context
        }
        other => {
            Context::from_serialize(&object(serde_json::to_value(other))).map_err(tera_error)?
        }
    })
}

fn object(value: serde_json::Result<Value>) -> Map<String, Value> {
    match value {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Handoff-table rows rendered once and reused by every list showing the
/// handoff: on a 10k site each handoff appears in the handoff list, its
/// band, its partner and its seller, and a Tera row costs as much as a
/// small page. A row depends on the handoff, `root` and `index` only, which
/// are all in the render key, so rows are filled in after the key check.
/// Items by card position, each made (or taken from the memo) by whichever
/// page needs it first; pages at the same depth share them, template
/// values included.
type Rows = Arc<[OnceLock<Item>]>;

/// What the items of lists at one depth are made with.
struct Depth<'a, 'b> {
    rows: Rows,
    /// The memo's items at this depth.
    kept: Option<&'a Items>,
    root: &'b str,
    index: &'b str,
    /// Whether other lists at this depth will take the items' values
    /// (see [`RowCache::shared`]).
    share: bool,
}

struct RowCache<'a> {
    site: &'a Site,
    model: &'a Model,
    /// Handoff id → position in [`Model::cards`], made when first needed:
    /// only values given as they are (the home page's) name handoffs by
    /// id rather than position.
    positions: OnceLock<FxHashMap<&'a str, usize>>,
    /// Rows per `root` (pages at the same depth share them).
    by_root: Mutex<Vec<(String, Rows)>>,
    /// What every row key starts from (see [`code_key`]); `None` when
    /// nothing is kept for later builds (or the binary cannot be stamped).
    base: Option<u64>,
    /// Whether items hold their template values for later builds (and so
    /// also for other pages at their depth); if not, only items at a
    /// depth in [`RowCache::shared`] hold them, for this build.
    keep: bool,
    /// The depths (`root`s) at which more than one page lists handoffs in
    /// a table, whose items hold their values for this build even when
    /// not kept: on a 10,000-brief site each handoff is in its band's,
    /// its partner's and its seller's list, all at `../../`, and
    /// converting it once rather than three times cuts 3% of a cold
    /// build's instructions, for 10-15 MB more at the peak. The handoff
    /// list, alone at its depth, holds none: holding its 10,000 values
    /// too grew the peak for nothing.
    shared: Vec<String>,
    /// Items of earlier builds.
    previous: Option<&'a ItemStore>,
    /// Which of those are current without their keys.
    stable: Option<Stable<'a>>,
    /// Items whose keys were computed, for [`Memo::hashed`].
    hashed: AtomicUsize,
}

impl<'a> RowCache<'a> {
    /// `None` when no template reads `h.row`, as in a theme that lays out
    /// its own table.
    fn new(
        site: &'a Site,
        model: &'a Model,
        theme: &Theme,
        previous: Option<&'a ItemStore>,
        stable: Option<Stable<'a>>,
        keep: bool,
    ) -> Option<RowCache<'a>> {
        if !theme.uses_rows {
            return None;
        }
        let base = code_key(theme).filter(|_| keep).map(|mut hasher| {
            hasher.write(ROW_TEMPLATE.as_bytes());
            hasher.finish()
        });
        Some(RowCache {
            site,
            model,
            positions: OnceLock::new(),
            by_root: Mutex::new(Vec::new()),
            base,
            keep,
            shared: Vec::new(),
            previous,
            stable,
            hashed: AtomicUsize::new(0),
        })
    }

    /// What items made now are marked with, for later builds to take them
    /// without hashing (see [`Stable`]).
    /// The handoff id of the card at `position`.
    fn id(&self, position: usize) -> &'a str {
        &self.site.briefs[self.model.cards[position].brief]
            .handoff
            .id
    }

    fn positions(&self) -> &FxHashMap<&'a str, usize> {
        self.positions.get_or_init(|| {
            (0..self.model.cards.len())
                .map(|position| (self.id(position), position))
                .collect()
        })
    }

    fn made(&self) -> Option<Made> {
        Some(Made {
            build: self.stable?.build,
            base: self.base?,
        })
    }

    /// Finds the depths at which more than one of `pages` lists handoffs
    /// (see [`RowCache::shared`]).
    fn share_depths(&mut self, pages: &[Page<'_>]) {
        let mut lists: Vec<String> = pages
            .iter()
            .filter(|page| page.rows > 0)
            .map(|page| relative_root(&page.path))
            .collect();
        lists.sort_unstable();
        self.shared = lists
            .chunk_by(|a, b| a == b)
            .filter(|same| same.len() > 1)
            .map(|same| same[0].clone())
            .collect();
    }

    /// The memo's items for lists at `root`.
    fn kept(&self, root: &str) -> Option<&'a Items> {
        self.previous?.root(root)
    }

    /// The memo's item (of `kept`) for the card at `position` in a list,
    /// if it is known current without its key.
    fn current(&self, kept: Option<&'a Items>, position: usize) -> Option<&'a Item> {
        let since = *self.stable?.since.get(position)?;
        ItemStore::current(kept?, position, since, self.base?)
    }

    fn rows_for(&self, root: &str) -> Rows {
        let mut by_root = self
            .by_root
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, rows)) = by_root.iter().find(|(r, _)| r == root) {
            return Arc::clone(rows);
        }
        let rows: Rows = (0..self.model.cards.len())
            .map(|_| OnceLock::new())
            .collect();
        by_root.push((root.to_string(), Arc::clone(&rows)));
        rows
    }

    /// A hash of what a row template sees, `values` being the handoff's
    /// values or what they are made from; `kind` tells the two apart.
    fn key(&self, root: &str, index: &str, kind: &str, values: &impl Serialize) -> Option<u64> {
        let base = self.base?;
        self.hashed.fetch_add(1, Ordering::Relaxed);
        let mut writer = KeyWriter::with_capacity(1 << 10);
        writer.add(&(root, index, kind, values)).ok()?;
        Some(writer.finish(base))
    }

    /// Adds `row` to every handoff of the lists the default theme shows
    /// as tables, in values given as they are (the home page's).
    fn fill(
        &self,
        theme: &Theme,
        values: &mut Map<String, Value>,
        root: &str,
        index: &str,
    ) -> Result<(), Failure> {
        let mut rows = None;
        for (key, value) in values.iter_mut() {
            let list = match key.as_str() {
                "handoffs" | "latest" | "current_handoffs" => value,
                "rollup" => match value.get_mut("handoffs") {
                    Some(list) => list,
                    None => continue,
                },
                _ => continue,
            };
            let Value::Array(list) = list else { continue };
            let rows = rows.get_or_insert_with(|| self.rows_for(root));
            for item in list {
                let Value::Object(handoff) = item else {
                    continue;
                };
                let Some(&position) = handoff
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| self.positions().get(id))
                else {
                    continue;
                };
                let row = match rows[position].get() {
                    Some(item) => item.row.as_str().unwrap_or_default().to_string(),
                    None => {
                        let key = self.key(root, index, "values", handoff);
                        let id = handoff.get("id").and_then(Value::as_str);
                        let kept = key
                            .zip(id)
                            .and_then(|(key, id)| self.previous?.get(root, id, key));
                        let item = match kept {
                            Some(kept) => Item {
                                origin: Origin::Keyed,
                                made: self.made(),
                                ..kept.clone()
                            },
                            None => Item {
                                key,
                                row: render_row(theme, to_tera(handoff)?, root, index)?.into(),
                                value: None,
                                origin: Origin::Made,
                                made: self.made(),
                            },
                        };
                        let row = item.row.as_str().unwrap_or_default().to_string();
                        // Another thread may have rendered it meanwhile;
                        // the bytes are the same either way.
                        let _ = rows[position].set(item);
                        row
                    }
                };
                handoff.insert("row".into(), Value::String(row));
            }
        }
        Ok(())
    }

    /// The template values of the handoff at `position` in `list`, with
    /// its row, for a list at `root`: this build's if a page at the same
    /// depth made them; else the memo's, if known current (then neither
    /// its summary is made nor its key computed) or made from the same
    /// summary; else made now (serialised, as the home page's, then
    /// converted).
    fn item(
        &self,
        theme: &Theme,
        depth: &Depth<'a, '_>,
        list: &views::Listed<'_>,
        position: usize,
    ) -> Result<tera::Value, Failure> {
        let Depth {
            ref rows,
            kept,
            root,
            index,
            share,
        } = *depth;
        let slot = rows.get(position);
        if let Some(made) = slot.and_then(OnceLock::get) {
            return match &made.value {
                Some(value) => Ok(value.clone()),
                None => list_value(&list.summary(position), Some(&made.row)),
            };
        }
        // Not put in this build's slot: another page at this depth finds
        // it in the memo as fast, and the memo has it already.
        if let Some(value) = self
            .current(kept, position)
            .and_then(|current| current.value.as_ref())
        {
            return Ok(value.clone());
        }
        let id = list.id(position);
        let summary = list.summary(position);
        let key = self.key(root, index, "summary", &summary);
        let kept = key.and_then(|key| self.previous?.get(root, id, key));
        let (item, value) = match kept.and_then(|kept| Some((kept, kept.value.clone()?))) {
            Some((kept, value)) => {
                let item = Item {
                    origin: Origin::Keyed,
                    made: self.made(),
                    ..kept.clone()
                };
                (item, value)
            }
            None => {
                // Converted for Tera once: the row template and the
                // lists share the value.
                let handoff = list_value(&summary, None)?;
                let row = tera::Value::from(render_row(theme, handoff, root, index)?);
                let value = list_value(&summary, Some(&row))?;
                let item = Item {
                    key,
                    row,
                    value: (self.keep || share).then(|| value.clone()),
                    origin: Origin::Made,
                    made: self.made(),
                };
                (item, value)
            }
        };
        if let Some(slot) = slot {
            // Another thread may have made it meanwhile, the same.
            let _ = slot.set(item);
        }
        Ok(value)
    }

    /// The keyed items this build made or found by their keys, for later
    /// builds, and how many items it hashed.
    fn into_store(self) -> (ItemStore, usize) {
        let (site, model) = (self.site, self.model);
        let id = |position: usize| site.briefs[model.cards[position].brief].handoff.id.as_str();
        let by_root = self
            .by_root
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .into_iter()
            .map(|(root, rows)| {
                let by_id = rows
                    .iter()
                    .enumerate()
                    .filter_map(|(position, item)| {
                        let item = item.get().filter(|item| item.key.is_some())?;
                        Some((id(position).to_string(), (position, item.clone())))
                    })
                    .collect();
                Items {
                    root,
                    by_id,
                    by_position: Vec::new(),
                }
            })
            .collect();
        (ItemStore { by_root }, self.hashed.into_inner())
    }
}

/// The pages' failures, each render error once: a mistake in a template
/// fails every page it renders, and ten thousand copies of one message
/// (`cannot render <page> with template …`) would bury any other. The
/// first page it failed is named, with how many more it failed.
fn same_error_once(failures: impl Iterator<Item = Failure>) -> Vec<Diagnostic> {
    let mut found: Vec<(Diagnostic, usize)> = Vec::new();
    // Where an error is (file, line, column) and what it says past the page.
    type Place = (Option<String>, Option<usize>, Option<usize>, String);
    let mut first: FxHashMap<Place, usize> = FxHashMap::default();
    for diagnostic in failures.flat_map(|Failure(found)| found.into_vec()) {
        let Some((_, error)) = diagnostic.message.split_once(" with template ") else {
            found.push((diagnostic, 0));
            continue;
        };
        let place = (
            diagnostic.file.clone(),
            diagnostic.line,
            diagnostic.column,
            error.to_string(),
        );
        match first.get(&place) {
            Some(&at) => found[at].1 += 1,
            None => {
                first.insert(place, found.len());
                found.push((diagnostic, 0));
            }
        }
    }
    found
        .into_iter()
        .map(|(mut diagnostic, more)| {
            if more > 0 {
                let pages = if more == 1 { "page" } else { "pages" };
                diagnostic
                    .message
                    .push_str(&format!(" (and on {more} more {pages})"));
            }
            diagnostic
        })
        .collect()
}

const ROW_TEMPLATE: &str = "handoff_row.html";

/// A handoff's values as lists give them to templates (with its `row`)
/// or the row template sees them (without), converted for Tera straight
/// from its summary rather than through JSON: the same values, but a map
/// whose keys are the summary's field names, not 22 strings allocated per
/// handoff. Every row of a 10,000-row list looks up `row` in its map
/// twice, and a key compared there is then in the binary's data, hot in
/// the cache, rather than in a string of its own somewhere.
fn list_value(
    summary: &views::HandoffSummary<'_>,
    row: Option<&tera::Value>,
) -> Result<tera::Value, Failure> {
    to_tera(&views::ListItem { summary, row })
}

fn render_row(theme: &Theme, h: tera::Value, root: &str, index: &str) -> Result<String, Failure> {
    let mut context = Context::new();
    context.insert_value("h", h);
    context.insert_value("root", root.into());
    context.insert_value("index", index.into());
    theme.tera.render(ROW_TEMPLATE, &context).map_err(|error| {
        theme
            .render_error(
                &format!("cannot render a handoff row with template `{ROW_TEMPLATE}`"),
                ROW_TEMPLATE,
                &error,
            )
            .into()
    })
}

/// What rendering one page needs, shared by all pages.
struct PageRenderer<'a> {
    site: &'a Site,
    model: &'a Model,
    theme: &'a Theme,
    options: &'a RenderOptions,
    /// `site`, converted once: every page shares it rather than a copy.
    site_data: tera::Value,
    base_key: Option<u64>,
    rows: Option<RowCache<'a>>,
    statics: Statics,
    page_timings: bool,
}

impl<'a> PageRenderer<'a> {
    fn new(
        site: &'a Site,
        model: &'a Model,
        theme: &'a Theme,
        options: &'a RenderOptions,
        sink: &'a dyn Sink,
    ) -> Result<PageRenderer<'a>, Failure> {
        let site_data = site_value(site, model, theme);
        let base_key = if sink.wants_keys() {
            base_key(theme, options, &site_data)
        } else {
            None
        };
        let site_data = to_tera(&site_data)?;
        Ok(PageRenderer {
            site,
            model,
            theme,
            options,
            site_data,
            base_key,
            rows: RowCache::new(
                site,
                model,
                theme,
                sink.memo().map(|memo| &memo.items),
                sink.stable(),
                sink.keeps_memo(),
            ),
            statics: Statics::default(),
            page_timings: std::env::var_os("TRUSTCARD_PAGE_TIMINGS").is_some(),
        })
    }

    /// Renders one page into `sink`, unless the sink already has it.
    fn render(&self, page: Page<'a>, sink: &dyn Sink) -> Result<(), Failure> {
        let PageRenderer {
            site,
            model,
            theme,
            options,
            ref site_data,
            base_key,
            ref rows,
            ref statics,
            page_timings,
        } = *self;
        let mut keyed = base_key;
        if let Some(base) = base_key
            && let Some(reads) = reads(&page)
        {
            if sink.carry_over(&page.path, reads, base) {
                return Ok(());
            }
            if !sink.wants_key(reads) {
                keyed = None;
            }
        }
        let base_url = site.config.base_url.as_deref();

        let url = page.url().to_string();
        let (title, description) = match page.data {
            PageData::Scorecard(card) => scorecard_text(site, card),
            _ => (page.title, page.description),
        };
        let root = if page.path == "404.html" {
            // A 404 page is served from any depth, so only an absolute
            // base makes its links work everywhere.
            base_url.map_or_else(|| "./".to_string(), |b| format!("{b}/"))
        } else {
            relative_root(&page.path)
        };
        let meta = PageMeta {
            path: &url,
            template: page.template,
            title: &title,
            description: &description,
            noindex: !page.indexable,
            canonical: base_url.map(|b| format!("{b}/{url}")),
        };
        let index = if options.explicit_index {
            "index.html"
        } else {
            ""
        };
        let data = match page.data {
            PageData::Ready(value) => Data::Value(value),
            PageData::Lazy(build) => build(),
            PageData::Scorecard(card) => {
                Data::Scorecard(Box::new(views::scorecard(site, model, card)))
            }
        };
        let key = keyed.and_then(|base| {
            let mut writer = KeyWriter::with_capacity(32 << 10);
            writer.add(&(&meta, &root, index, &data)).ok()?;
            Some(writer.finish(base))
        });
        if let Some(key) = key
            && sink.reuse(&page.path, key)
        {
            return Ok(());
        }
        let tera_error = |error: tera::Error| Failure::from(Diagnostic::error(error.to_string()));
        let mut context = match (data, rows) {
            // A scorecard lists no handoffs, so it needs no rows: its view
            // goes into Tera's values directly rather than through JSON.
            (Data::Scorecard(view), _) => scorecard_context(*view, statics)?,
            (data @ (Data::Handoffs(_) | Data::Band(_) | Data::Rollup(_)), Some(rows)) => {
                list_context(data, rows, theme, &root, index)?
            }
            (data, rows) => {
                let mut values = match data {
                    Data::Value(Value::Object(map)) => map,
                    Data::Value(_) => Map::new(),
                    other => object(serde_json::to_value(other)),
                };
                if let Some(rows) = rows {
                    rows.fill(theme, &mut values, &root, index)?;
                }
                Context::from_serialize(&values).map_err(tera_error)?
            }
        };
        context.insert_value("root", root.into());
        context.insert_value("index", index.into());
        let page_value = tera::Value::try_from_serializable(&meta).map_err(tera_error)?;
        context.insert_value("page", page_value);
        context.insert_value("site", site_data.clone());
        let render_started = std::time::Instant::now();
        // Rendered straight into bytes of about the right size: Tera's
        // `render` starts at 2 KB, grows a 26 KB scorecard four times and
        // then checks the whole page is UTF-8, which it cannot fail to be.
        // A list of 10,000 handoffs (megabytes) is sized by its last
        // version, if the sink has one, rather than copied at every
        // doubling.
        let size = sink
            .size_hint(&page.path)
            .map_or(32 << 10, |size| size + size / 16 + (4 << 10));
        let mut html = sink.buffer(size);
        let rendered = theme.tera.render_to(page.template, &context, &mut html);
        if page_timings {
            eprintln!(
                "page {} {} us",
                page.path,
                render_started.elapsed().as_micros()
            );
        }
        rendered.map_err(|error| {
            theme.render_error(
                // The home page's URL is empty.
                &format!(
                    "cannot render {} with template `{}`",
                    if url.is_empty() { "index.html" } else { &url },
                    page.template
                ),
                page.template,
                &error,
            )
        })?;
        if let Some(inject) = &options.inject {
            let at = html
                .windows(7)
                .rposition(|w| w == b"</body>")
                .unwrap_or(html.len());
            html.splice(at..at, inject.bytes());
        }
        sink.put(page.path, html, key)
    }
}

/// Template values that are the same on many scorecards, converted for
/// Tera once and shared (each is a map behind an `Arc`): a component
/// without a note is its name, question and grade, one of 27, and a fix
/// is one of three. 10,000 scorecards converted 90,000 components and
/// their long questions one by one.
#[derive(Default)]
struct Statics {
    /// By component index, then by grade (in declaration order).
    components: [[OnceLock<tera::Value>; 3]; 9],
    /// By fix, in declaration order.
    fixes: [OnceLock<tera::Value>; 3],
}

fn to_tera(value: &(impl Serialize + ?Sized)) -> Result<tera::Value, Failure> {
    tera::Value::try_from_serializable(value)
        .map_err(|error| Failure::from(Diagnostic::error(error.to_string())))
}

/// Takes the value in `slot`, made by `make` if no page has yet.
fn shared(
    slot: Option<&OnceLock<tera::Value>>,
    make: impl FnOnce() -> Result<tera::Value, Failure>,
) -> Result<tera::Value, Failure> {
    let Some(slot) = slot else { return make() };
    if let Some(value) = slot.get() {
        return Ok(value.clone());
    }
    let value = make()?;
    // Another thread may have made it meanwhile, the same.
    Ok(slot.get_or_init(|| value).clone())
}

/// A scorecard's template values: what `Context::from_serialize` makes of
/// the view, its Markdown body rendered, but field by field, so the
/// context's keys are not copied into strings of their own and shared
/// values are taken from `statics`.
fn scorecard_context(view: views::Scorecard<'_>, statics: &Statics) -> Result<Context, Failure> {
    let views::Scorecard {
        handoff,
        band_summary,
        components,
        fixes,
        timeline,
        body,
        extra,
    } = view;
    let components = components
        .iter()
        .map(|component| {
            let slot = statics
                .components
                .get(component.component.index())
                .and_then(|grades| grades.get(component.graded as usize))
                .filter(|_| component.note.is_none());
            shared(slot, || to_tera(component))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let fixes = fixes
        .iter()
        .map(|view| shared(statics.fixes.get(view.fix as usize), || to_tera(view)))
        .collect::<Result<Vec<_>, Failure>>()?;
    let mut context = Context::new();
    context.insert_value("handoff", to_tera(&handoff)?);
    context.insert_value("band_summary", band_summary.into());
    context.insert_value("components", components.into());
    context.insert_value("fixes", fixes.into());
    context.insert_value("timeline", to_tera(&timeline)?);
    context.insert_value("body", body.into_html().into());
    context.insert_value("extra", to_tera(extra)?);
    Ok(context)
}

/// Renders one scorecard page to HTML, for benchmarks.
pub fn render_scorecard(
    site: &Site,
    model: &Model,
    theme: &Theme,
    options: &RenderOptions,
    card: &crate::model::Card,
) -> Result<Vec<u8>, Failure> {
    let sink = MemorySink(Mutex::new(Output::default()));
    let renderer = PageRenderer::new(site, model, theme, options, &sink)?;
    let page = scorecard_page(site, card);
    let path = page.path.clone();
    renderer.render(page, &sink)?;
    let output = sink
        .0
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(output.get(&path).map(<[u8]>::to_vec).unwrap_or_default())
}

/// Pages with their places in `pages`, the longest lists first. Rendered
/// in page order, the handoff list and the partner and seller pages came
/// last, after 10,000 scorecards, and one thread finished them while the
/// other had nothing left to take. Only the pages listing handoffs are
/// moved; the rest (the scorecards) stay where they are, in page order.
fn heaviest_first(
    mut pages: Vec<Page<'_>>,
) -> impl IndexedParallelIterator<Item = (usize, Page<'_>)> {
    let rows = |page: &Page| page.rows;
    let (lists, rest): (Vec<usize>, Vec<usize>) =
        (0..pages.len()).partition(|&at| rows(&pages[at]) > 0);
    let mut lists: Vec<(usize, Page)> = lists
        .into_iter()
        .zip(pages.extract_if(.., |page| rows(page) > 0))
        .collect();
    lists.sort_by_key(|(_, page)| std::cmp::Reverse(rows(page)));
    lists
        .into_par_iter()
        .chain(rest.into_par_iter().zip(pages.into_par_iter()))
}

/// Renders every page and file into `sink`. Pages render in parallel and go
/// to the sink as they are done; a page the sink already has (same render
/// key) is not rendered at all. Every template error is reported, together.
pub fn render_into(
    site: &Site,
    model: &Model,
    theme: &Theme,
    options: &RenderOptions,
    sink: &dyn Sink,
) -> Result<RenderSummary, Failure> {
    let laps = crate::site::Laps::new();
    let pages = pages(site, model);
    let indexable: Vec<String> = pages
        .iter()
        .filter(|page| page.indexable)
        .map(|page| page.url().to_string())
        .collect();
    let mut summary = RenderSummary {
        files: pages.len(),
        pages: pages.iter().filter(|p| p.path.ends_with(".html")).count(),
        leftovers: Leftovers::default(),
    };

    let mut renderer = PageRenderer::new(site, model, theme, options, sink)?;
    if let Some(rows) = &mut renderer.rows {
        rows.share_depths(&pages);
    }
    laps.lap("render: pages listed");
    // The data files are made alongside the pages: on a big site the
    // handoff list is one long page, which would leave a thread idle.
    let (failures, (data, entries)) = rayon::join(
        || -> Vec<Failure> {
            let mut failures: Vec<(usize, Failure)> = heaviest_first(pages)
                .filter_map(|(at, page)| Some((at, renderer.render(page, sink).err()?)))
                .collect();
            // Back in page order, so the first page a template error
            // names does not depend on scheduling.
            failures.sort_unstable_by_key(|&(at, _)| at);
            failures.into_iter().map(|(_, failure)| failure).collect()
        },
        || {
            let mut data = Output::default();
            let mut entries = data::Entries::default();
            if !sink.reuse_data_files() {
                let previous = sink.memo().map(|memo| &memo.entries);
                let last = data::Last {
                    json: sink.previous_file(data::SCORECARD_JSON),
                    stable: sink.stable(),
                    buffer: &|size| sink.buffer(size),
                };
                entries = data::add_data_files(
                    site,
                    model,
                    &indexable,
                    previous,
                    sink.keeps_memo(),
                    &last,
                    &mut data,
                );
            }
            (data, entries)
        },
    );
    laps.lap("render: pages and data files");

    let mut diagnostics = Diagnostics::new();
    for diagnostic in same_error_once(failures.into_iter()) {
        diagnostics.push(diagnostic);
    }
    if diagnostics.has_errors() {
        return Err(Failure(diagnostics.sorted()));
    }
    if sink.keeps_memo() {
        let (items, hashed) = renderer.rows.map(RowCache::into_store).unwrap_or_default();
        sink.keep_memo(Memo {
            items,
            entries,
            hashed,
        });
    } else if let Some(rows) = renderer.rows {
        summary.leftovers.keep(rows.by_root);
    }
    let mut extra = Output::default();
    for (path, bytes) in &theme.static_files {
        // A data file wins over a theme's file of the same name.
        if data.get(path).is_none() {
            extra.insert(path.clone(), bytes.clone());
        }
    }
    summary.files += extra.len() + data.len();
    summary.pages += extra.page_count() + data.page_count();
    for (path, bytes) in extra.into_files() {
        sink.put(path, bytes, None)?;
    }
    for (path, bytes) in data.into_files() {
        sink.put_data_file(path, bytes)?;
    }
    laps.lap("render: done");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelOptions;

    /// A scorecard's title and description are made only when it renders,
    /// not when its page is listed.
    #[test]
    fn scorecards_render_with_their_title_and_description() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let site = Site::load(&fixture).expect("fixture loads");
        let model = Model::compute(&site, &ModelOptions::default());
        let theme = Theme::load(&fixture, "default").expect("theme loads");
        let card = model.cards.last().expect("a card");
        let handoff = &site.briefs[card.brief].handoff;
        let html = render_scorecard(&site, &model, &theme, &RenderOptions::default(), card)
            .expect("renders");
        let html = String::from_utf8(html).expect("utf-8");
        let escape = |text: &str| text.replace('&', "&amp;").replace('"', "&quot;");
        let band = &site.config.bands.get(card.band).name;
        let description = format!(
            "Handoff scorecard: {} × {}, {} of 18, {}.",
            handoff.account, handoff.partner, card.score, band
        );
        assert!(
            html.contains(&format!("<title>{} · ", escape(&handoff.title))),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "<meta name=\"description\" content=\"{}\">",
                escape(&description)
            )),
            "{html}"
        );
    }

    /// A scorecard's values, made field by field with shared components
    /// and fixes, are what serialising its view makes, twice over (the
    /// second time from the shared values).
    #[test]
    fn scorecard_values_are_the_serialised_view() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let site = Site::load(&fixture).expect("fixture loads");
        let model = Model::compute(&site, &ModelOptions::default());
        let as_text = |value: Option<&tera::Value>| serde_json::to_string(&value).expect("json");
        let statics = Statics::default();
        let (mut notes, mut fixes) = (0, 0);
        for _ in 0..2 {
            for card in model.cards.iter().chain(&model.drafts) {
                let mut view = views::scorecard(&site, &model, card);
                notes += view.components.iter().filter(|c| c.note.is_some()).count();
                fixes += view.fixes.len();
                let body = std::mem::replace(&mut view.body, views::Body::Html(String::new()));
                view.body = views::Body::Html(body.into_html());
                let serialised = Context::from_serialize(&view).expect("context");
                let keys = serde_json::to_value(&view).expect("json");
                let keys = keys.as_object().expect("a map");
                let direct = scorecard_context(view, &statics).expect("context");
                assert_eq!(keys.len(), 7);
                for key in keys.keys() {
                    assert_eq!(
                        as_text(direct.get(key)),
                        as_text(serialised.get(key)),
                        "{key}"
                    );
                }
            }
        }
        assert!(notes > 0 && fixes > 0, "{notes} {fixes}");
    }

    /// What the row template sees of a handoff is its summary as JSON
    /// gives it, keys in order and no `row`.
    #[test]
    fn row_values_are_the_summary_in_key_order() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let site = Site::load(&fixture).expect("fixture loads");
        let model = Model::compute(&site, &ModelOptions::default());
        assert!(!model.cards.is_empty());
        for card in &model.cards {
            let summary = views::summary(&site, card);
            let direct = list_value(&summary, None).expect("value");
            let json = serde_json::to_value(&summary).expect("json");
            assert!(json.get("row").is_none());
            assert_eq!(
                serde_json::to_string(&direct).expect("json"),
                serde_json::to_string(&json).expect("json")
            );
        }
    }

    /// A list page's values made from kept items are what serialising the
    /// page and filling in its rows makes (as the home page's are), down
    /// to the order of every map's keys, which templates can iterate.
    #[test]
    fn list_values_are_the_serialised_pages_with_rows() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
        let site = Site::load(&fixture).expect("fixture loads");
        let model = Model::compute(&site, &ModelOptions::default());
        let theme = Theme::load(&fixture, "default").expect("theme loads");
        let as_text = |value: Option<&tera::Value>| serde_json::to_string(&value).expect("json");
        let mut lists = 0;
        for page in pages(&site, &model) {
            let PageData::Lazy(build) = &page.data else {
                continue;
            };
            let root = relative_root(&page.path);
            // A build has one `index`, which its rows share.
            for index in ["", "index.html"] {
                let rows = RowCache::new(&site, &model, &theme, None, None, true)
                    .expect("the theme uses rows");
                let mut values = object(serde_json::to_value(build()));
                rows.fill(&theme, &mut values, &root, index).expect("rows");
                let serialised = Context::from_serialize(&values).expect("context");
                let listed = list_context(build(), &rows, &theme, &root, index).expect("context");
                for key in values.keys() {
                    assert_eq!(
                        as_text(listed.get(key)),
                        as_text(serialised.get(key)),
                        "{} {key}",
                        page.path
                    );
                }
            }
            lists += 1;
        }
        assert!(lists > 3, "{lists}");
    }
}
