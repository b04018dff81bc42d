//! site.toml → [`Config`]: defaults, validation and the band list.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use toml::de::DeValue;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::events::EventSource;
use crate::score::signals::PeriodKind;
use crate::score::{Band, Bands};
use crate::toml_doc::{Reader, TomlSource, get};

pub const CONFIG_FILE: &str = "site.toml";
const DEFAULT_EVENTS: &str = "content/events.csv";

#[derive(Debug, Clone)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// Without a trailing slash; only used for absolute URLs in the sitemap,
    /// canonical links and Open Graph tags.
    pub base_url: Option<String>,
    pub language: String,
    pub theme: String,
    pub output_dir: PathBuf,
    /// Empty when the site has no events.
    pub events: Vec<EventSource>,
    pub response_window_days: u32,
    pub trend_period: PeriodKind,
    pub trend_window: usize,
    pub as_of: Option<Date>,
    pub index_scorecards: bool,
    pub allow_html: bool,
    pub bands: Bands,
    pub extra: serde_json::Value,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Partner handoff scorecard".into(),
            description: "How complete our partner handoffs are, and what sellers do with them."
                .into(),
            base_url: None,
            language: "en".into(),
            theme: "default".into(),
            output_dir: PathBuf::from("public"),
            events: Vec::new(),
            response_window_days: 5,
            trend_period: PeriodKind::Month,
            trend_window: 6,
            as_of: None,
            index_scorecards: false,
            allow_html: false,
            bands: Bands::default_bands(),
            extra: serde_json::Value::Object(Default::default()),
        }
    }
}

const KEYS: &[&str] = &[
    "title",
    "description",
    "base_url",
    "language",
    "theme",
    "output_dir",
    "events",
    "response_window_days",
    "trend_period",
    "trend_window",
    "as_of",
    "index_scorecards",
    "markdown",
    "bands",
    "extra",
];

impl Config {
    /// Reads `root/site.toml`; a missing file is an error because it is how
    /// we know `root` is a site at all.
    pub fn load(root: &Path) -> Result<Config, Diagnostics> {
        let path = root.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Diagnostic::error(format!(
                    "no {CONFIG_FILE} in {}",
                    root.display()
                ))
                .with_hint("run trustcard in a site folder, pass --root DIR, or create one with `trustcard init DIR`")
                .into());
            }
            Err(error) => {
                return Err(
                    Diagnostic::error(format!("cannot read {CONFIG_FILE}: {error}"))
                        .in_file(CONFIG_FILE)
                        .into(),
                );
            }
        };
        let (config, diagnostics) = Config::parse_file(root, &text);
        match config {
            Some(config) if !diagnostics.has_errors() => Ok(config),
            _ => Err(diagnostics),
        }
    }

    /// Like [`Config::load`] but keeps going after errors: the config as far
    /// as it could be read (defaults for the rest) and every diagnostic, so
    /// content can still be checked in the same run.
    pub fn load_lenient(root: &Path) -> (Config, Diagnostics) {
        match std::fs::read_to_string(root.join(CONFIG_FILE)) {
            Ok(text) => {
                let (config, diagnostics) = Config::parse_file(root, &text);
                (config.unwrap_or_default(), diagnostics)
            }
            Err(_) => match Config::load(root) {
                Ok(config) => (config, Diagnostics::new()),
                Err(diagnostics) => (Config::default(), diagnostics),
            },
        }
    }

    fn parse_file(root: &Path, text: &str) -> (Option<Config>, Diagnostics) {
        let default_events_exists = root.join(DEFAULT_EVENTS).is_file();
        let mut diagnostics = Diagnostics::new();
        let config = Config::parse(text, default_events_exists, &mut diagnostics);
        (config, diagnostics)
    }

    /// Parses site.toml text; pure apart from knowing whether the default
    /// events file exists.
    pub fn parse(
        text: &str,
        default_events_exists: bool,
        diagnostics: &mut Diagnostics,
    ) -> Option<Config> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let source = TomlSource::new(CONFIG_FILE, text, 0);
        let table = source.parse(text, diagnostics)?;
        let _ = source.reject_unknown_keys(&table, KEYS, " in site.toml", diagnostics);

        let mut config = Config::default();
        let mut reader = Reader {
            source: &source,
            diagnostics,
        };
        if let Some((title, _)) = reader.string(&table, "title") {
            config.title = title;
        }
        if let Some((description, _)) = reader.string(&table, "description") {
            config.description = description;
        }
        if let Some((language, _)) = reader.string(&table, "language") {
            config.language = language;
        }
        if let Some((base_url, span)) = reader.string(&table, "base_url") {
            match normalise_base_url(&base_url) {
                Some(url) => config.base_url = Some(url),
                None => reader.diagnostics.push(
                    source
                        .error(
                            &span,
                            format!("`base_url` is not an http(s) URL: `{base_url}`"),
                        )
                        .with_hint("write it like `https://scorecards.example.internal/partners`"),
                ),
            }
        }
        if let Some((theme, span)) = reader.string(&table, "theme") {
            if theme.is_empty() || theme.contains(['/', '\\']) || theme.starts_with('.') {
                reader.diagnostics.push(
                    source
                        .error(
                            &span,
                            format!("`theme` must be a folder name, found `{theme}`"),
                        )
                        .with_hint("themes live in themes/<name>/; \"default\" is built in"),
                );
            } else {
                config.theme = theme;
            }
        }
        if let Some((dir, span)) = reader.string(&table, "output_dir") {
            if dir.trim().is_empty() {
                reader.diagnostics.push(
                    source
                        .error(&span, "`output_dir` must not be empty")
                        .with_hint("for example `output_dir = \"public\"`"),
                );
            } else {
                config.output_dir = PathBuf::from(dir);
            }
        }
        if let Some((days, _)) = reader.count(&table, "response_window_days") {
            config.response_window_days = days;
        }
        if let Some((period, span)) = reader.string(&table, "trend_period") {
            match period.as_str() {
                "week" => config.trend_period = PeriodKind::Week,
                "month" => config.trend_period = PeriodKind::Month,
                "quarter" => config.trend_period = PeriodKind::Quarter,
                other => {
                    let mut diagnostic = source.error(
                        &span,
                        format!("`trend_period` must be \"week\", \"month\" or \"quarter\", found \"{other}\""),
                    );
                    if let Some(s) =
                        crate::diagnostics::did_you_mean(other, ["week", "month", "quarter"])
                    {
                        diagnostic = diagnostic.with_hint(format!("did you mean \"{s}\"?"));
                    }
                    reader.diagnostics.push(diagnostic);
                }
            }
        }
        if let Some((window, span)) = reader.count(&table, "trend_window") {
            if window < 2 {
                reader.diagnostics.push(
                    source
                        .error(
                            &span,
                            format!("`trend_window` must be at least 2, found {window}"),
                        )
                        .with_hint("a direction needs at least two periods to compare"),
                );
            } else {
                config.trend_window = window as usize;
            }
        }
        config.as_of = reader.date(&table, "as_of");
        if let Some(flag) = reader.boolean(&table, "index_scorecards") {
            config.index_scorecards = flag;
        }
        if let Some(markdown) = reader.table(&table, "markdown") {
            source.reject_unknown_keys(
                markdown,
                &["allow_html"],
                " in [markdown]",
                reader.diagnostics,
            );
            if let Some(flag) = reader.boolean(markdown, "allow_html") {
                config.allow_html = flag;
            }
        }
        if let Some(extra) = reader.table(&table, "extra") {
            config.extra = crate::toml_doc::to_json(&DeValue::Table(extra.clone()));
        }
        config.events = read_event_sources(&mut reader, &table, default_events_exists);
        if let Some(bands) = read_bands(&mut reader, &table) {
            config.bands = bands;
        }
        Some(config)
    }
}

fn normalise_base_url(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return None;
    }
    Some(url.trim_end_matches('/').to_string())
}

fn read_event_sources(
    reader: &mut Reader<'_, '_>,
    table: &toml::de::DeTable<'_>,
    default_exists: bool,
) -> Vec<EventSource> {
    let Some((_, value)) = get(table, "events") else {
        return if default_exists {
            vec![EventSource {
                pattern: DEFAULT_EVENTS.into(),
                line: None,
            }]
        } else {
            Vec::new()
        };
    };
    let source = reader.source;
    let line_of = |span: &std::ops::Range<usize>| Some(source.position(span).line);
    let mut sources = Vec::new();
    let bad = |span: &std::ops::Range<usize>, diagnostics: &mut Diagnostics| {
        diagnostics.push(
            source
                .error(span, "`events` must be a path or a list of paths and globs")
                .with_hint(
                    "for example `events = \"content/events.csv\"` or `events = [\"data/*.csv\"]`",
                ),
        );
    };
    match value.get_ref() {
        DeValue::String(path) => sources.push(EventSource {
            pattern: path.to_string(),
            line: line_of(&value.span()),
        }),
        DeValue::Array(items) => {
            for item in items.iter() {
                match item.get_ref() {
                    DeValue::String(path) => sources.push(EventSource {
                        pattern: path.to_string(),
                        line: line_of(&item.span()),
                    }),
                    _ => bad(&item.span(), reader.diagnostics),
                }
            }
        }
        _ => bad(&value.span(), reader.diagnostics),
    }
    for event_source in &sources {
        let pattern = &event_source.pattern;
        if Path::new(pattern).is_absolute() || pattern.split(['/', '\\']).any(|part| part == "..") {
            reader.diagnostics.push(
                Diagnostic::error(format!("`events` path `{pattern}` is outside the site"))
                    .in_file(CONFIG_FILE)
                    .at_line(event_source.line.unwrap_or(1))
                    .with_hint(
                        "name a path relative to the site folder, such as content/events.csv",
                    ),
            );
        }
    }
    sources
}

fn read_bands(reader: &mut Reader<'_, '_>, table: &toml::de::DeTable<'_>) -> Option<Bands> {
    let (key_span, value) = get(table, "bands")?;
    let source = reader.source;
    let DeValue::Array(items) = value.get_ref() else {
        reader.diagnostics.push(
            source
                .error(&value.span(), "`bands` must be a list of [[bands]] tables")
                .with_hint("write each band as a [[bands]] table with name, min and summary"),
        );
        return None;
    };
    let errors_before = reader.diagnostics.errors().count();
    let mut bands: Vec<(Band, std::ops::Range<usize>)> = Vec::new();
    for item in items.iter() {
        let DeValue::Table(band) = item.get_ref() else {
            reader.diagnostics.push(source.error(
                &item.span(),
                "each band must be a table with name, min and summary",
            ));
            continue;
        };
        source.reject_unknown_keys(
            band,
            &["name", "min", "summary"],
            " in [[bands]]",
            reader.diagnostics,
        );
        let name = reader.string(band, "name");
        let min = reader.count(band, "min");
        let summary = reader.string(band, "summary");
        for (key, present) in [("name", name.is_some()), ("min", min.is_some())] {
            if !present && get(band, key).is_none() {
                reader.diagnostics.push(
                    source
                        .error(&item.span(), format!("band is missing `{key}`"))
                        .with_hint("each [[bands]] table needs name, min and summary"),
                );
            }
        }
        if let (Some((name, name_span)), Some((min, _))) = (name, min) {
            if name.trim().is_empty() {
                reader.diagnostics.push(
                    source
                        .error(&name_span, "band `name` must not be empty")
                        .with_hint("the name is shown on every scorecard in the band"),
                );
                continue;
            }
            bands.push((
                Band {
                    slug: slug::slugify(&name),
                    name,
                    min,
                    summary: summary.map(|(s, _)| s).unwrap_or_default(),
                },
                item.span(),
            ));
        }
    }
    if reader.diagnostics.errors().count() > errors_before {
        return None;
    }
    if bands.is_empty() {
        reader.diagnostics.push(
            source
                .error(&key_span, "`bands` is empty")
                .with_hint("list at least one band, and give the lowest `min = 0`"),
        );
        return None;
    }
    let mut ok = true;
    for (i, (band, span)) in bands.iter().enumerate() {
        for (other, _) in &bands[..i] {
            if other.min == band.min {
                reader.diagnostics.push(source.error(
                    span,
                    format!(
                        "bands `{}` and `{}` both have min = {}",
                        other.name, band.name, band.min
                    ),
                ));
                ok = false;
            }
            if other.slug == band.slug {
                reader.diagnostics.push(
                    source
                        .error(
                            span,
                            format!(
                                "bands `{}` and `{}` would share the page /bands/{}/",
                                other.name, band.name, band.slug
                            ),
                        )
                        .with_hint("give every band a distinct name"),
                );
                ok = false;
            }
        }
        if band.slug.is_empty() {
            reader.diagnostics.push(source.error(
                span,
                format!(
                    "band name `{}` has no letters or digits for its URL",
                    band.name
                ),
            ));
            ok = false;
        }
    }
    if !bands.iter().any(|(band, _)| band.min == 0) {
        let lowest = bands.iter().map(|(b, _)| b.min).min().unwrap_or(0);
        reader.diagnostics.push(
            source
                .error(
                    &key_span,
                    format!("the lowest band has min = {lowest}; it must be 0"),
                )
                .with_hint("every score needs a band: give the lowest band `min = 0`"),
        );
        ok = false;
    }
    ok.then(|| Bands::new(bands.into_iter().map(|(band, _)| band).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<Config>, Vec<String>) {
        let mut diagnostics = Diagnostics::new();
        let config = Config::parse(text, false, &mut diagnostics);
        (config, diagnostics.sorted().messages())
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let (config, messages) = parse("");
        let config = config.unwrap();
        assert!(messages.is_empty());
        assert_eq!(config.response_window_days, 5);
        assert_eq!(config.trend_window, 6);
        assert_eq!(config.trend_period, PeriodKind::Month);
        assert_eq!(config.bands.len(), 3);
        assert!(config.events.is_empty());
        assert!(!config.allow_html);
    }

    #[test]
    fn unknown_keys_get_a_suggestion_and_their_line() {
        let (_, messages) = parse("title = \"x\"\ntrend_windw = 4\n");
        assert_eq!(
            messages,
            [
                "site.toml:2:1: error: unknown key `trend_windw` in site.toml\n  hint: did you mean `trend_window`?"
            ]
        );
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let (_, messages) = parse(
            "trend_window = 1\ntrend_period = \"moth\"\nresponse_window_days = -2\nbase_url = \"ftp://x\"\n",
        );
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(
            messages[0].starts_with("site.toml:1:16: error: `trend_window` must be at least 2")
        );
        assert!(messages[1].contains("did you mean \"month\"?"));
        assert!(
            messages[2].starts_with(
                "site.toml:3:24: error: `response_window_days` must be a whole number"
            )
        );
        assert!(messages[3].starts_with("site.toml:4:12: error: `base_url` is not an http(s) URL"));
    }

    #[test]
    fn bands_need_a_zero_floor() {
        let (_, messages) = parse("[[bands]]\nname = \"A\"\nmin = 5\nsummary = \"\"\n");
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].contains("the lowest band has min = 5; it must be 0"),
            "{messages:?}"
        );
    }

    #[test]
    fn custom_bands_are_sorted_highest_first() {
        let (config, messages) = parse(
            "[[bands]]\nname = \"Low\"\nmin = 0\nsummary = \"l\"\n[[bands]]\nname = \"High\"\nmin = 12\nsummary = \"h\"\n",
        );
        assert!(messages.is_empty(), "{messages:?}");
        let names: Vec<_> = config
            .unwrap()
            .bands
            .iter()
            .map(|b| b.name.clone())
            .collect();
        assert_eq!(names, ["High", "Low"]);
    }

    #[test]
    fn events_accepts_a_path_or_a_list() {
        let (config, _) = parse("events = [\"a.csv\", \"data/*.csv\"]\n");
        let events = config.unwrap().events;
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].pattern, "data/*.csv");
        assert_eq!(events[1].line, Some(1));
        let (_, messages) = parse("events = \"../secret.csv\"\n");
        assert!(messages[0].contains("outside the site"), "{messages:?}");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let (config, messages) = parse("title = \"unterminated\n");
        assert!(config.is_none());
        assert!(messages[0].starts_with("site.toml:1:"), "{messages:?}");
        assert!(messages[0].contains("invalid TOML"));
    }

    #[test]
    fn base_url_loses_its_trailing_slash() {
        let (config, _) = parse("base_url = \"https://x.example/sub/\"\n");
        assert_eq!(
            config.unwrap().base_url.as_deref(),
            Some("https://x.example/sub")
        );
    }
}
