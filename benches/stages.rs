//! Micro-benchmarks of the hot stages, on a synthetic site generated once:
//! `cargo bench` (or `cargo bench -- csv` for one group). Built only by
//! `cargo bench` and `cargo test --benches`, never by a plain `cargo test`.
//!
//! divan rather than criterion: it needs a handful of small crates where
//! criterion needs dozens (plotters, its own rayon and serde stack), which
//! matters because every dev-dependency is compiled for `cargo test` too.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use trustcard::content::Brief;
use trustcard::content::markdown::{self, MarkdownOptions};
use trustcard::diagnostics::Diagnostics;
use trustcard::events::{self, Names};
use trustcard::model::{Model, ModelOptions};
use trustcard::render::theme::Theme;
use trustcard::render::{self, RenderOptions};
use trustcard::score::signals::{self, Settings};
use trustcard::site::{self, Site};

fn main() {
    divan::main();
}

/// A 1,000-brief site with 100,000 events, generated on first use and
/// loaded once.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    brief_text: String,
    site: Site,
    model: Model,
    theme: Theme,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("site");
        trustcard::synth::generate(&root, 1_000, 100_000, 1).expect("synthetic site");
        let brief_text = std::fs::read_to_string(root.join("content/handoffs/handoff-000001.md"))
            .expect("a brief");
        let site = Site::load(&root).expect("site loads");
        let model = Model::compute(&site, &ModelOptions::default());
        let theme = Theme::load(&root, "default").expect("theme loads");
        Fixture {
            _dir: dir,
            root,
            brief_text,
            site,
            model,
            theme,
        }
    })
}

fn path(root: &Path, relative: &str) -> PathBuf {
    root.join(relative)
}

/// Splitting and checking one brief's front matter (its body renders later).
#[divan::bench]
fn front_matter(bencher: divan::Bencher) {
    let text = &fixture().brief_text;
    bencher.bench(|| {
        let mut diagnostics = Diagnostics::new();
        Brief::parse(
            "content/handoffs/handoff-000001.md",
            "handoff-000001",
            divan::black_box(text),
            MarkdownOptions::default(),
            &mut diagnostics,
        )
    });
}

/// Rendering one brief's body, nine sections of prose and lists.
#[divan::bench]
fn markdown_body(bencher: divan::Bencher) {
    let brief = &fixture().site.briefs[1];
    bencher.bench(|| markdown::render(divan::black_box(&brief.body), brief.markdown, "body-"));
}

/// Reading, validating and interning 100,000 events.
#[divan::bench(sample_count = 20)]
fn csv_100k_events(bencher: divan::Bencher) {
    let fixture = fixture();
    let lookup = site::handoff_lookup(&fixture.site.briefs);
    let sources = fixture.site.config.events.clone();
    assert!(path(&fixture.root, "content/events.csv").is_file());
    bencher.bench(|| {
        let mut diagnostics = Diagnostics::new();
        events::read_events(
            &fixture.root,
            &sources,
            &lookup,
            Names::default(),
            &mut diagnostics,
        )
    });
}

/// The site-wide signals over 1,000 handoffs and 100,000 events.
#[divan::bench(sample_count = 20)]
fn signals_site(bencher: divan::Bencher) {
    let fixture = fixture();
    let site = &fixture.site;
    let handoffs: Vec<(u32, &trustcard::score::Handoff)> = site
        .briefs
        .iter()
        .enumerate()
        .map(|(i, brief)| (i as u32, &brief.handoff))
        .collect();
    let settings = Settings {
        as_of: fixture.model.as_of.expect("the site has data"),
        period: site.config.trend_period,
        trend_window: site.config.trend_window,
        default_window_days: site.config.response_window_days,
    };
    bencher.bench(|| {
        signals::compute(
            &handoffs,
            &site.events.events,
            &site.events.names,
            &settings,
        )
    });
}

/// Everything computed from a loaded site: cards, bands, rollups, signals.
#[divan::bench(sample_count = 20)]
fn model(bencher: divan::Bencher) {
    let site = &fixture().site;
    bencher.bench(|| Model::compute(site, &ModelOptions::default()));
}

/// One scorecard page through Tera: summary, components, a timeline of
/// about 45 events and the brief's body.
#[divan::bench]
fn render_scorecard(bencher: divan::Bencher) {
    let fixture = fixture();
    let card = &fixture.model.cards[fixture.model.cards.len() / 2];
    let options = RenderOptions::default();
    bencher.bench(|| {
        render::render_scorecard(
            &fixture.site,
            &fixture.model,
            &fixture.theme,
            &options,
            card,
        )
    });
}
