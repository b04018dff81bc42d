//! Differential test: random sites are built by the real binary and every
//! figure in `public/data/scorecard.json` is compared with a naive reference
//! implementation of SPEC section 6 (tests/oracle/reference.rs), plus a few
//! hand-worked sites whose expected values are derived in the comments.
//!
//! On a mismatch the site folder is kept and its path printed, so a failure
//! reproduces with `trustcard --root <dir> build --output <dir>/public`.
//! `ORACLE_SEEDS=n` changes the number of random sites (default 150, about
//! 40 s of CPU in debug), `ORACLE_FIRST_SEED=n` where they start, and
//! `ORACLE_SEED=n` runs just one.

mod common;
#[path = "oracle/reference.rs"]
mod reference;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use jiff::civil::Date;
use reference::{Brief, COMPONENTS, Event, PeriodKind, Settings};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Random numbers (xorshift64*), no dependencies.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut rng = Rng((seed ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1);
        for _ in 0..4 {
            rng.next();
        }
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// 0..n
    fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        self.next() % n
    }

    /// lo..=hi
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// true with probability percent/100
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days))
        .expect("date in range")
}

fn d(text: &str) -> Date {
    text.parse().expect("test date")
}

// ---------------------------------------------------------------------------
// A site: what the reference sees, plus how it is written to disk.

#[derive(Clone, Debug)]
struct Site {
    briefs: Vec<Brief>,
    /// Path of each brief under content/handoffs, and whether it sets `id`.
    files: Vec<(String, bool)>,
    events: Vec<Event>,
    notes: Vec<String>,
    response_window_days: i64,
    trend_period: PeriodKind,
    trend_window: usize,
    config_as_of: Option<Date>,
    cli_as_of: Option<Date>,
    /// Custom `[[bands]]` (name, min) in site.toml order; None: the defaults.
    bands: Option<Vec<(String, i64)>>,
    /// Build with `--drafts`, which must not change scorecard.json.
    drafts_flag: bool,
    /// Build twice and compare every output byte.
    check_determinism: bool,
    csv: CsvStyle,
}

#[derive(Clone, Debug)]
struct CsvStyle {
    /// None: no events.csv at all.
    columns: Option<Vec<&'static str>>,
    /// Percent of fields written with surrounding spaces.
    padding: u64,
    crlf: bool,
    /// A UTF-8 byte order mark, as spreadsheet exports write.
    bom: bool,
    /// Some(k): the rows from k on go to a second file, content/more/b.csv,
    /// and site.toml lists both with `events = [path, glob]`.
    split: Option<usize>,
}

impl Site {
    fn new(trend_period: PeriodKind, trend_window: usize, response_window_days: i64) -> Site {
        Site {
            briefs: Vec::new(),
            files: Vec::new(),
            events: Vec::new(),
            notes: Vec::new(),
            response_window_days,
            trend_period,
            trend_window,
            config_as_of: None,
            cli_as_of: None,
            bands: None,
            drafts_flag: false,
            check_determinism: false,
            csv: CsvStyle {
                columns: Some(ALL_COLUMNS.to_vec()),
                padding: 0,
                crlf: false,
                bom: false,
                split: None,
            },
        }
    }

    fn settings(&self) -> Settings {
        Settings {
            response_window_days: self.response_window_days,
            trend_period: self.trend_period,
            trend_window: self.trend_window,
            as_of: self.cli_as_of.or(self.config_as_of),
            bands: self.bands.clone().unwrap_or_else(Settings::default_bands),
        }
    }

    fn add_brief(&mut self, brief: Brief) {
        self.files.push((format!("{}.md", brief.id), false));
        self.briefs.push(brief);
    }

    fn event(&mut self, event: Event) {
        self.events.push(event);
        self.notes.push(String::new());
    }
}

const ALL_COLUMNS: [&str; 9] = [
    "date",
    "event",
    "seller",
    "handoff",
    "account",
    "partner",
    "about",
    "partner_team_present",
    "note",
];

/// Grades from a compact string: S strong, W weak, M missing.
fn grades(spec: &str) -> [&'static str; 9] {
    assert_eq!(spec.len(), 9, "{spec}");
    let mut out = ["missing"; 9];
    for (i, c) in spec.chars().enumerate() {
        out[i] = match c {
            'S' => "strong",
            'W' => "weak",
            'M' => "missing",
            other => panic!("grade letter {other}"),
        };
    }
    out
}

fn brief(id: &str, date: &str, seller: &str, account: &str, grade_spec: &str) -> Brief {
    Brief {
        id: id.to_string(),
        title: format!("Handoff {id}"),
        date: Some(d(date)),
        draft: false,
        account: account.to_string(),
        partner: "Datadog".to_string(),
        seller: seller.to_string(),
        owner: Some("Priya Shah".to_string()),
        grades: grades(grade_spec),
        respond_within_days: None,
    }
}

fn ev(date: &str, kind: &'static str, seller: &str) -> Event {
    Event {
        date: d(date),
        kind,
        seller: seller.to_string(),
        handoff: None,
        account: None,
        partner: None,
        about: None,
        partner_team_present: None,
    }
}

fn on(mut event: Event, handoff: &str) -> Event {
    event.handoff = Some(handoff.to_string());
    event
}

fn with_account(mut event: Event, account: &str) -> Event {
    event.account = Some(account.to_string());
    event
}

fn with_partner(mut event: Event, partner: &str) -> Event {
    event.partner = Some(partner.to_string());
    event
}

fn with_about(mut event: Event, about: &'static str) -> Event {
    event.about = Some(about);
    event
}

fn mention(date: &str, seller: &str, account: &str, present: bool) -> Event {
    let mut event = with_account(ev(date, "pipeline_mention", seller), account);
    event.partner_team_present = Some(present);
    event
}

// ---------------------------------------------------------------------------
// Writing a site folder.

fn toml_str(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn write_site(site: &Site, root: &Path, rng: &mut Rng) {
    let mut config = String::from("title = \"Oracle site\"\n");
    writeln!(
        config,
        "response_window_days = {}",
        site.response_window_days
    )
    .expect("fmt");
    writeln!(config, "trend_period = \"{}\"", site.trend_period.name()).expect("fmt");
    writeln!(config, "trend_window = {}", site.trend_window).expect("fmt");
    if let Some(as_of) = site.config_as_of {
        writeln!(config, "as_of = {as_of}").expect("fmt");
    }
    if site.csv.split.is_some() {
        config.push_str("events = [\"content/events.csv\", \"content/more/*.csv\"]\n");
    }
    for (name, min) in site.bands.iter().flatten() {
        writeln!(
            config,
            "\n[[bands]]\nname = {}\nmin = {min}",
            toml_str(name)
        )
        .expect("fmt");
        writeln!(config, "summary = \"What to do with {name}.\"").expect("fmt");
    }
    std::fs::write(root.join("site.toml"), config).expect("write site.toml");

    let handoffs = root.join("content/handoffs");
    std::fs::create_dir_all(&handoffs).expect("mkdir");
    for (brief, (path, explicit_id)) in site.briefs.iter().zip(&site.files) {
        let mut text = String::new();
        if rng.chance(5) {
            text.push('\u{feff}');
        }
        text.push_str("+++\n");
        writeln!(text, "title = {}", toml_str(&brief.title)).expect("fmt");
        if let Some(date) = brief.date {
            writeln!(text, "date = {date}").expect("fmt");
        }
        writeln!(text, "account = {}", toml_str(&brief.account)).expect("fmt");
        writeln!(text, "partner = {}", toml_str(&brief.partner)).expect("fmt");
        writeln!(text, "seller = {}", toml_str(&brief.seller)).expect("fmt");
        if let Some(owner) = &brief.owner {
            writeln!(text, "owner = {}", toml_str(owner)).expect("fmt");
        }
        if *explicit_id {
            writeln!(text, "id = {}", toml_str(&brief.id)).expect("fmt");
        }
        if brief.draft {
            text.push_str("draft = true\n");
        } else if rng.chance(10) {
            text.push_str("draft = false\n");
        }
        if let Some(w) = brief.respond_within_days {
            writeln!(text, "respond_within_days = {w}").expect("fmt");
        }
        text.push_str("\n[grades]\n");
        for (component, grade) in COMPONENTS.iter().zip(brief.grades) {
            writeln!(text, "{component} = \"{grade}\"").expect("fmt");
        }
        text.push_str("+++\nBody of the brief.\n");
        let file = handoffs.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        if rng.chance(10) {
            text = text.replace('\n', "\r\n");
        }
        std::fs::write(file, text).expect("write brief");
    }

    let Some(columns) = &site.csv.columns else {
        return;
    };
    let newline = if site.csv.crlf { "\r\n" } else { "\n" };
    let header = format!("{}{newline}", columns.join(","));
    let mut csv = if site.csv.bom {
        format!("\u{feff}{header}")
    } else {
        header.clone()
    };
    for (row, (event, note)) in site.events.iter().zip(&site.notes).enumerate() {
        if site.csv.split == Some(row) {
            std::fs::write(root.join("content/events.csv"), &csv).expect("write events.csv");
            std::fs::create_dir_all(root.join("content/more")).expect("mkdir");
            csv = header.clone();
        }
        let fields: Vec<String> = columns
            .iter()
            .map(|column| {
                let value = match *column {
                    "date" => event.date.to_string(),
                    "event" => event.kind.to_string(),
                    "seller" => event.seller.clone(),
                    "handoff" => event.handoff.clone().unwrap_or_default(),
                    "account" => event.account.clone().unwrap_or_default(),
                    "partner" => event.partner.clone().unwrap_or_default(),
                    "about" => event.about.unwrap_or_default().to_string(),
                    "partner_team_present" => match event.partner_team_present {
                        Some(true) => "yes".to_string(),
                        Some(false) => "no".to_string(),
                        None => String::new(),
                    },
                    "note" => note.clone(),
                    // An unknown column: a warning, no effect.
                    "source" => "crm".to_string(),
                    other => panic!("column {other}"),
                };
                let value = if !value.is_empty() && rng.chance(site.csv.padding) {
                    format!("  {value} ")
                } else {
                    value
                };
                csv_field(&value)
            })
            .collect();
        csv.push_str(&fields.join(","));
        csv.push_str(newline);
    }
    match site.csv.split {
        Some(k) if k < site.events.len() => {
            std::fs::write(root.join("content/more/b.csv"), csv).expect("write b.csv");
        }
        Some(_) => {
            std::fs::write(root.join("content/events.csv"), csv).expect("write events.csv");
            std::fs::create_dir_all(root.join("content/more")).expect("mkdir");
            std::fs::write(root.join("content/more/b.csv"), header).expect("write b.csv");
        }
        None => std::fs::write(root.join("content/events.csv"), csv).expect("write events.csv"),
    }
}

// ---------------------------------------------------------------------------
// The random site generator.

/// A file stem whose slug is `id` (SPEC section 2: transliterate to ASCII,
/// lowercase, every other run of characters becomes one hyphen): `a-b-3`
/// may become `Ä B__3` or `(a) b.3`.
fn fancy_stem(id: &str, rng: &mut Rng) -> String {
    let mut stem = String::new();
    if rng.chance(20) {
        stem.push_str(rng.pick::<&str>(&["(", "¡", "  ", "#"]));
    }
    for c in id.chars() {
        let piece = match c {
            '-' => rng
                .pick(&[" ", "_", " - ", "--", ".", "!", " & ", "—", "  "])
                .to_string(),
            'a' => rng.pick(&["a", "A", "á", "Ä"]).to_string(),
            'e' => rng.pick(&["e", "E", "é", "ë"]).to_string(),
            'o' => rng.pick(&["o", "O", "ö"]).to_string(),
            'u' => rng.pick(&["u", "ü", "U"]).to_string(),
            c if rng.chance(30) => c.to_ascii_uppercase().to_string(),
            c => c.to_string(),
        };
        stem.push_str(&piece);
    }
    if rng.chance(20) {
        stem.push_str(rng.pick::<&str>(&[")", "!", " ", "?"]));
    }
    stem
}

const SELLERS: [&str; 7] = [
    "Jordan Lee",
    "Sam Roe",
    "Zoë Adams",
    "Ana Díaz",
    "Kim Park",
    "kim park",
    "Lee Wong",
];
const ACCOUNTS: [&str; 8] = [
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Zoë GmbH",
    "acme corp",
    "Stark, Inc.",
];
const PARTNERS: [&str; 4] = ["Datadog", "Snowflake", "AWS", "Okta"];
const ID_WORDS: [&str; 14] = [
    "a", "ab", "a-b", "a1", "b", "0a", "acme", "globex", "initech", "q3", "renewal", "zoe",
    "hooli", "x",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Empty,
    OnlyDrafts,
    EventsOnly,
    AsOfBeforeAll,
    Normal,
}

fn generate(seed: u64) -> (Site, Rng) {
    let mut rng = Rng::new(seed);
    let mode = match seed % 16 {
        0 => Mode::Empty,
        1 => Mode::OnlyDrafts,
        2 => Mode::EventsOnly,
        3 => Mode::AsOfBeforeAll,
        _ => Mode::Normal,
    };
    let period = *rng.pick(&[PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter]);
    let window = if rng.chance(10) { 0 } else { rng.range(1, 7) };
    let mut site = Site::new(period, rng.range(2, 8) as usize, window);

    // The span of the data: sometimes across a year end, sometimes over a
    // 53-week ISO year (2020, 2026).
    let start = match rng.below(4) {
        0 => Date::new(
            *rng.pick(&[2020i16, 2025, 2026]),
            12,
            rng.range(1, 31) as i8,
        )
        .expect("date"),
        1 => add_days(d("2026-12-20"), rng.range(0, 14)),
        _ => Date::new(
            rng.range(2023, 2027) as i16,
            rng.range(1, 12) as i8,
            rng.range(1, 28) as i8,
        )
        .expect("date"),
    };
    let span = match rng.below(3) {
        0 => rng.range(0, 45),
        1 => rng.range(30, 180),
        _ => rng.range(120, 430),
    };
    // Sometimes a hole in the middle, so there are empty periods.
    let gap = if span > 60 && rng.chance(50) {
        let length = rng.range(20, span / 2);
        let from = rng.range(1, span - length);
        Some((from, length))
    } else {
        None
    };
    let random_date = |rng: &mut Rng| -> Date {
        match gap {
            Some((from, length)) => {
                let offset = rng.range(0, span - length);
                add_days(
                    start,
                    if offset >= from {
                        offset + length
                    } else {
                        offset
                    },
                )
            }
            None => add_days(start, rng.range(0, span)),
        }
    };

    let sellers: Vec<&str> = SELLERS[..rng.range(1, SELLERS.len() as i64) as usize].to_vec();
    let accounts: Vec<&str> = ACCOUNTS[..rng.range(1, ACCOUNTS.len() as i64) as usize].to_vec();
    let partners: Vec<&str> = PARTNERS[..rng.range(1, PARTNERS.len() as i64) as usize].to_vec();

    // Briefs.
    let brief_count = match mode {
        Mode::Empty | Mode::EventsOnly => 0,
        _ => rng.range(0, 40),
    };
    let mut ids: Vec<String> = Vec::new();
    for i in 0..brief_count {
        let id = loop {
            let word = *rng.pick(&ID_WORDS);
            let id = if rng.chance(40) {
                word.to_string()
            } else {
                format!("{word}-{}", rng.below(30))
            };
            if !ids.contains(&id) {
                break id;
            }
        };
        ids.push(id.clone());
        let draft = mode == Mode::OnlyDrafts || rng.chance(12);
        let date = if draft && rng.chance(50) {
            None
        } else if !site.briefs.is_empty() && rng.chance(25) {
            // Ties on one date, ordered by id.
            let other: &Brief = rng.pick(&site.briefs);
            Some(other.date.unwrap_or_else(|| random_date(&mut rng)))
        } else {
            Some(random_date(&mut rng))
        };
        let level = rng.below(4);
        let mut g = ["missing"; 9];
        for slot in &mut g {
            let roll = rng.below(10);
            *slot = match level {
                0 => ["strong", "weak", "missing"][(roll % 3) as usize],
                1 if roll < 6 => "strong",
                1 if roll < 9 => "weak",
                2 if roll < 9 => "strong",
                2 => "weak",
                3 => "strong",
                _ => "missing",
            };
        }
        let account = (*rng.pick(&accounts)).to_string();
        let partner = (*rng.pick(&partners)).to_string();
        let seller = (*rng.pick(&sellers)).to_string();
        let brief = Brief {
            title: format!("{account} × {partner}: \"handoff\" {i}"),
            id: id.clone(),
            date,
            draft,
            account,
            partner,
            seller,
            owner: if rng.chance(70) {
                Some("Priya Shah".to_string())
            } else {
                None
            },
            grades: g,
            respond_within_days: if rng.chance(25) {
                Some(rng.range(0, 10))
            } else {
                None
            },
        };
        let file = match rng.below(10) {
            0 | 1 => (format!("brief-file-{i}.md"), true),
            2 => (format!("team/{id}.md"), false),
            3 => (format!("team/q{i}/{}.md", fancy_stem(&id, &mut rng)), false),
            _ => (format!("{id}.md"), false),
        };
        site.briefs.push(brief);
        site.files.push(file);
    }

    // Events.
    let event_count = match mode {
        Mode::Empty => 0,
        _ => match rng.below(4) {
            0 => rng.range(0, 10),
            1 | 2 => rng.range(10, 120),
            _ => rng.range(100, 300),
        },
    };
    let end = add_days(start, span);
    for _ in 0..event_count {
        let roll = rng.below(100);
        let handoff_kind = match roll {
            0..15 => Some("accepted"),
            15..22 => Some("declined"),
            22..32 => Some("acted"),
            _ => None,
        };
        let mut event = ev("2000-01-01", "acted", sellers[0]);
        event.date = if rng.chance(8) {
            add_days(end, rng.range(1, 60))
        } else {
            random_date(&mut rng)
        };
        event.seller = (*rng.pick(&sellers)).to_string();
        if let (Some(kind), false) = (handoff_kind, site.briefs.is_empty()) {
            let target = rng.pick(&site.briefs).clone();
            event.kind = kind;
            event.handoff = Some(target.id.clone());
            if let Some(date) = target.date {
                let delay = if rng.chance(85) {
                    rng.range(0, 12)
                } else {
                    rng.range(0, 150)
                };
                event.date = add_days(date, delay);
            }
            if rng.chance(85) {
                event.seller = target.seller.clone();
            }
        } else {
            match roll % 4 {
                0 => {
                    event.kind = "requested_help";
                    if !site.briefs.is_empty() && rng.chance(60) {
                        // Same seller and account as a handoff, before or after it.
                        let target = rng.pick(&site.briefs).clone();
                        event.account = Some(target.account.clone());
                        if rng.chance(80) {
                            event.seller = target.seller.clone();
                        }
                        if let (Some(date), true) = (target.date, rng.chance(50)) {
                            event.date = add_days(date, rng.range(-3, 3));
                        }
                    } else {
                        event.account = Some((*rng.pick(&accounts)).to_string());
                    }
                    if rng.chance(30) {
                        event.partner = Some((*rng.pick(&partners)).to_string());
                    }
                }
                1 => {
                    event.kind = "pipeline_mention";
                    event.account = Some((*rng.pick(&accounts)).to_string());
                    event.partner_team_present = Some(rng.chance(50));
                    if rng.chance(60) {
                        event.partner = Some((*rng.pick(&partners)).to_string());
                    }
                }
                2 => {
                    event.kind = "partner_meeting";
                    event.partner = Some((*rng.pick(&partners)).to_string());
                    if rng.chance(30) {
                        event.account = Some((*rng.pick(&accounts)).to_string());
                    }
                    // Repeats on the same day, with the same or another partner.
                    if let Some(last) = site.events.last()
                        && last.kind == "partner_meeting"
                        && rng.chance(40)
                    {
                        event.seller = last.seller.clone();
                        event.date = last.date;
                    }
                }
                _ => {
                    event.kind = "disagreement";
                    event.about = Some(*rng.pick(&["account", "partner", "value"]));
                    if rng.chance(30) {
                        event.account = Some((*rng.pick(&accounts)).to_string());
                    }
                }
            }
        }
        // Any event may name a handoff (a draft one takes it out with the
        // draft); it is then dated on or after the handoff.
        if event.handoff.is_none() && !site.briefs.is_empty() && rng.chance(8) {
            let target = rng.pick(&site.briefs).clone();
            if let Some(date) = target.date
                && event.date < date
            {
                event.date = add_days(date, rng.range(0, 10));
            }
            event.handoff = Some(target.id);
        }
        let note = match rng.below(6) {
            0 => "met, twice".to_string(),
            1 => "said \"later\"".to_string(),
            2 => "two\nlines".to_string(),
            _ => String::new(),
        };
        site.events.push(event);
        site.notes.push(note);
    }
    // Rows in date order or shuffled: "earliest" must not mean "first row".
    // (Notes carry no meaning, so they need not follow their rows.)
    if rng.chance(50) {
        site.events.sort_by_key(|e| e.date);
    } else {
        rng.shuffle(&mut site.events);
    }

    // as_of.
    match mode {
        Mode::AsOfBeforeAll => {
            let before = add_days(start, -rng.range(1, 60));
            if rng.chance(50) {
                site.config_as_of = Some(before);
            } else {
                site.cli_as_of = Some(before);
                if rng.chance(50) {
                    site.config_as_of = Some(add_days(end, 10));
                }
            }
        }
        _ => {
            if rng.chance(30) {
                site.config_as_of = Some(add_days(start, rng.range(-30, span + 60)));
            }
            if rng.chance(15) {
                site.cli_as_of = Some(add_days(start, rng.range(0, span + 20)));
            }
        }
    }

    // Custom bands, in any order, and sometimes --drafts.
    if rng.chance(25) {
        let mut mins = vec![0i64];
        for _ in 0..rng.range(1, 4) {
            let min = rng.range(1, 20);
            if !mins.contains(&min) {
                mins.push(min);
            }
        }
        rng.shuffle(&mut mins);
        let names = ["Gold", "Silver", "Bronze", "Tin", "Lead"];
        site.bands = Some(
            mins.iter()
                .enumerate()
                .map(|(i, min)| (names[i].to_string(), *min))
                .collect(),
        );
    }
    site.drafts_flag = rng.chance(15);
    site.check_determinism = seed % 10 == 5;

    // How events.csv is written.
    let mut columns: Vec<&'static str> = ALL_COLUMNS
        .iter()
        .copied()
        .filter(|column| {
            let used = site.events.iter().any(|e| match *column {
                "handoff" => e.handoff.is_some(),
                "account" => e.account.is_some(),
                "partner" => e.partner.is_some(),
                "about" => e.about.is_some(),
                "partner_team_present" => e.partner_team_present.is_some(),
                "note" => false,
                _ => true,
            }) || ["date", "event", "seller"].contains(column);
            used || rng.chance(70)
        })
        .collect();
    if rng.chance(10) {
        columns.push("source");
    }
    if rng.chance(30) {
        rng.shuffle(&mut columns);
    }
    let columns = if site.events.is_empty() && rng.chance(50) {
        None
    } else {
        Some(columns)
    };
    let split = columns.is_some() && rng.chance(15);
    site.csv = CsvStyle {
        columns,
        padding: if rng.chance(20) { 10 } else { 0 },
        crlf: rng.chance(20),
        bom: rng.chance(10),
        split: if split {
            Some(rng.range(0, site.events.len() as i64) as usize)
        } else {
            None
        },
    };
    (site, rng)
}

// ---------------------------------------------------------------------------
// Running the binary and comparing.

fn run_build(site: &Site, root: &Path, output_dir: &str) -> Result<Value, String> {
    let out = root.join(output_dir);
    let mut command = Command::new(env!("CARGO_BIN_EXE_trustcard"));
    command
        .arg("--root")
        .arg(root)
        .arg("build")
        .arg("--output")
        .arg(&out);
    if let Some(as_of) = site.cli_as_of {
        command.arg("--as-of").arg(as_of.to_string());
    }
    if site.drafts_flag {
        command.arg("--drafts");
    }
    let output = command
        .output()
        .map_err(|e| format!("run trustcard: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "build failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = std::fs::read_to_string(out.join("data/scorecard.json"))
        .map_err(|e| format!("read scorecard.json: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("parse scorecard.json: {e}"))
}

fn close(expected: f64, actual: f64) -> bool {
    expected == actual || (expected - actual).abs() <= 1e-9 * expected.abs().max(actual.abs())
}

fn element_name(path: &str, index: usize, value: &Value) -> String {
    for key in ["id", "period", "name"] {
        if let Some(Value::String(s)) = value.get(key) {
            return format!("{path}[{index}]({key}={s})");
        }
    }
    format!("{path}[{index}]")
}

/// Every difference between `expected` and `actual`, as "path: expected
/// X, actual Y" lines.
fn compare(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().expect("f64"), a.as_f64().expect("f64"));
            if !close(e, a) {
                out.push(format!("{path}: expected {e:?}, actual {a:?}"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                match a.get(key) {
                    Some(other) => compare(&format!("{path}.{key}"), value, other, out),
                    None => out.push(format!("{path}.{key}: missing (expected {value})")),
                }
            }
            for key in a.keys() {
                if !e.contains_key(key) {
                    out.push(format!("{path}.{key}: unexpected key (actual {})", a[key]));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                let names = |items: &Vec<Value>| -> Vec<String> {
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| element_name("", i, v))
                        .collect()
                };
                out.push(format!(
                    "{path}: expected {} elements {:?}, actual {} elements {:?}",
                    e.len(),
                    names(e),
                    a.len(),
                    names(a)
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(&element_name(path, i, ev), ev, av, out);
            }
        }
        _ => {
            if expected != actual {
                out.push(format!("{path}: expected {expected}, actual {actual}"));
            }
        }
    }
}

/// SPEC 6: the current score is computed "the same for each partner and
/// each seller on their rollup pages". The pages show it rounded, so the
/// displayed number must be within 0.05 of the exact mean, and the band
/// must be the band of the exact mean.
fn check_rollups(public: &Path, expected: &Value, settings: &Settings, diffs: &mut Vec<String>) {
    let handoffs = expected["handoffs"].as_array().expect("handoffs");
    for (section, key) in [("sellers", "seller"), ("partners", "partner")] {
        // name → (displayed score text, band text), from every rollup page.
        let mut pages: Vec<(String, String, String)> = Vec::new();
        let Ok(entries) = std::fs::read_dir(public.join(section)) else {
            if !handoffs.is_empty() {
                diffs.push(format!("rollups: no {section}/ folder"));
            }
            continue;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path().join("index.html");
            if !path.is_file() {
                continue;
            }
            let document = scraper::Html::parse_document(
                &std::fs::read_to_string(&path).expect("read rollup"),
            );
            let first_text = |selector: &str| {
                common::select(&document, selector)
                    .first()
                    .map(common::text)
                    .unwrap_or_default()
            };
            pages.push((
                first_text("h1"),
                first_text(".current-score .score-num"),
                first_text(".current-score .band-chip"),
            ));
        }
        let mut names: Vec<&str> = handoffs
            .iter()
            .map(|h| h[key].as_str().expect("name"))
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let mut mine: Vec<&Value> = handoffs.iter().filter(|h| h[key] == name).collect();
            // date descending, then id ascending
            mine.sort_by(|a, b| {
                b["date"]
                    .as_str()
                    .cmp(&a["date"].as_str())
                    .then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
            });
            mine.truncate(3);
            let mean = mine
                .iter()
                .map(|h| h["score"].as_f64().expect("score"))
                .sum::<f64>()
                / mine.len() as f64;
            let band = reference::band_for(&settings.bands, mean);
            let found: Vec<&(String, String, String)> =
                pages.iter().filter(|p| p.0 == name).collect();
            let [(_, score, band_text)] = found.as_slice() else {
                diffs.push(format!(
                    "rollups: {} {section} pages titled {name:?}",
                    found.len()
                ));
                continue;
            };
            let shown: Option<f64> = score.parse().ok();
            if shown.is_none_or(|shown| (shown - mean).abs() > 0.05 + 1e-9) {
                diffs.push(format!(
                    "{section}/{name}: current score expected {mean} (rounded), shown {score:?}"
                ));
            }
            if *band_text != band {
                diffs.push(format!(
                    "{section}/{name}: current band expected {band:?}, shown {band_text:?}"
                ));
            }
        }
    }
}

struct Outcome {
    expected: Value,
    actual: Value,
    diffs: Vec<String>,
}

/// Writes `site`, builds it, compares with the reference. On any difference
/// (or a failed build) the folder is kept and the error names it.
fn check_site(label: &str, site: &Site, rng: &mut Rng) -> Result<Outcome, String> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("oracle-{label}-"))
        .tempdir()
        .expect("temp dir");
    write_site(site, dir.path(), rng);
    let expected = reference::scorecard(&site.briefs, &site.events, &site.settings());
    let actual = match run_build(site, dir.path(), "public") {
        Ok(actual) => actual,
        Err(e) => {
            let kept = dir.keep();
            return Err(format!("{label}: {e}\n  site kept at {}", kept.display()));
        }
    };
    let mut diffs = Vec::new();
    check_rollups(
        &dir.path().join("public"),
        &expected,
        &site.settings(),
        &mut diffs,
    );
    // SPEC 7: the same input gives byte-identical output. Checked on some
    // sites only, to keep the test fast.
    if site.check_determinism {
        match run_build(site, dir.path(), "public-again") {
            Err(e) => diffs.push(format!("second build: {e}")),
            Ok(_) => {
                let first = common::snapshot(&dir.path().join("public"));
                let second = common::snapshot(&dir.path().join("public-again"));
                let names =
                    |s: &[(String, Vec<u8>)]| s.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
                if names(&first) != names(&second) {
                    diffs
                        .push("determinism: the two builds wrote different file lists".to_string());
                }
                for ((name, a), (_, b)) in first.iter().zip(&second) {
                    if a != b {
                        diffs.push(format!("determinism: {name} differs between two builds"));
                    }
                }
            }
        }
    }
    compare("$", &expected, &actual, &mut diffs);
    if !diffs.is_empty() {
        let kept = dir.keep();
        let mut as_of = site
            .cli_as_of
            .map(|a| format!(" --as-of {a}"))
            .unwrap_or_default();
        if site.drafts_flag {
            as_of.push_str(" --drafts");
        }
        diffs.insert(
            0,
            format!(
                "site kept at {0} (rerun: trustcard --root {0} build --output {0}/public{as_of})",
                kept.display()
            ),
        );
    }
    Ok(Outcome {
        expected,
        actual,
        diffs,
    })
}

fn report(label: &str, diffs: &[String]) -> String {
    let mut text = format!(
        "== {label}: {} difference(s)\n",
        diffs.len().saturating_sub(1)
    );
    for line in diffs.iter().take(40) {
        writeln!(text, "  {line}").expect("fmt");
    }
    if diffs.len() > 40 {
        writeln!(text, "  … {} more", diffs.len() - 40).expect("fmt");
    }
    text
}

#[test]
fn random_sites_match_the_reference() {
    let seeds: Vec<u64> = match std::env::var("ORACLE_SEED") {
        Ok(seed) => vec![seed.parse().expect("ORACLE_SEED is a number")],
        Err(_) => {
            let count = std::env::var("ORACLE_SEEDS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(150u64);
            let first = std::env::var("ORACLE_FIRST_SEED")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0u64);
            (first..first + count).collect()
        }
    };
    let failures: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .map_or(4, |n| n * 2)
        .min(16);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().expect("lock");
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(&seed) = seeds.get(index) else {
                        break;
                    };
                    let (site, mut rng) = generate(seed);
                    let label = format!("seed {seed}");
                    let text = match check_site(&format!("seed{seed}"), &site, &mut rng) {
                        Err(e) => Some(format!("== {label}: {e}\n")),
                        Ok(outcome) if !outcome.diffs.is_empty() => {
                            Some(report(&label, &outcome.diffs))
                        }
                        Ok(_) => None,
                    };
                    if let Some(text) = text {
                        failures.lock().expect("lock").push((seed, text));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("lock");
    failures.sort_by_key(|f| f.0);
    let mut text = String::new();
    for (_, failure) in failures.iter().take(15) {
        text.push_str(failure);
    }
    assert!(
        failures.is_empty(),
        "{} of {} random sites differ from the reference (seeds {:?}):\n{text}",
        failures.len(),
        seeds.len(),
        failures.iter().map(|f| f.0).collect::<Vec<_>>()
    );
}

/// The generator really produces the situations the oracle is meant to
/// exercise, so a generator change cannot quietly hollow the test out.
#[test]
fn generator_covers_the_interesting_cases() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let (site, _) = generate(seed);
        let settings = site.settings();
        let expected = reference::scorecard(&site.briefs, &site.events, &settings);
        seen.insert(format!("period {}", settings.trend_period.name()));
        if expected["as_of"].is_null() {
            seen.insert("no data".to_string());
        }
        if site.briefs.is_empty() && !site.events.is_empty() {
            seen.insert("events without briefs".to_string());
        }
        if !site.briefs.is_empty() && site.briefs.iter().all(|b| b.draft) {
            seen.insert("only drafts".to_string());
        }
        if site.cli_as_of.is_some() {
            seen.insert("cli as_of".to_string());
        }
        if site.config_as_of.is_some() {
            seen.insert("config as_of".to_string());
        }
        if site.bands.is_some() {
            seen.insert("custom bands".to_string());
        }
        if site.drafts_flag && site.briefs.iter().any(|b| b.draft) {
            seen.insert("--drafts with drafts".to_string());
        }
        let periods = expected["periods"].as_array().expect("periods");
        if periods.is_empty() && !expected["as_of"].is_null() {
            seen.insert("as_of before all data".to_string());
        }
        for p in periods {
            let label = p["period"].as_str().expect("label");
            if label.ends_with("-W53") {
                seen.insert("week 53".to_string());
            }
            if p["handoffs"] == 0 && p["unprompted_mentions"] == 0 {
                seen.insert("empty period".to_string());
            }
            if let Some(m) = p["median_response_days"].as_f64()
                && m.fract() != 0.0
            {
                seen.insert("half median".to_string());
            }
        }
        for h in expected["handoffs"].as_array().expect("handoffs") {
            if h["due"] == false {
                seen.insert("not yet due".to_string());
            }
            if h["responded_in_window"] == true && h["due"] == false {
                seen.insert("responded before due".to_string());
            }
        }
        for verdict in ["building", "burning", "mixed", "unknown"] {
            if expected["verdict"] == verdict {
                seen.insert(format!("verdict {verdict}"));
            }
        }
        for (_, direction) in expected["directions"].as_object().expect("directions") {
            seen.insert(format!("direction {}", direction.as_str().expect("str")));
        }
        let drafts: Vec<&str> = site
            .briefs
            .iter()
            .filter(|b| b.draft)
            .map(|b| b.id.as_str())
            .collect();
        if site
            .events
            .iter()
            .any(|e| e.handoff.as_deref().is_some_and(|h| drafts.contains(&h)))
        {
            seen.insert("events on drafts".to_string());
        }
    }
    for wanted in [
        "period week",
        "period month",
        "period quarter",
        "no data",
        "events without briefs",
        "only drafts",
        "cli as_of",
        "config as_of",
        "custom bands",
        "--drafts with drafts",
        "as_of before all data",
        "week 53",
        "empty period",
        "half median",
        "not yet due",
        "responded before due",
        "verdict building",
        "verdict burning",
        "verdict mixed",
        "verdict unknown",
        "direction up",
        "direction down",
        "direction flat",
        "direction unknown",
        "events on drafts",
    ] {
        assert!(
            seen.contains(wanted),
            "no random site has {wanted}: {seen:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Hand-worked sites. Each is compared in full with the reference, and the
// figures worked out by hand below are asserted on both the reference and
// the real output, so a wrong reference cannot hide a wrong binary.

fn build_hand(label: &str, site: &Site) -> Outcome {
    let mut rng = Rng::new(0);
    let outcome = check_site(label, site, &mut rng).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        outcome.diffs.is_empty(),
        "{}",
        report(label, &outcome.diffs)
    );
    outcome
}

/// Asserts a hand-computed value on the reference and on the binary.
fn assert_hand(outcome: &Outcome, pointer: &str, want: Value) {
    for (who, json) in [
        ("reference", &outcome.expected),
        ("trustcard", &outcome.actual),
    ] {
        let got = json.pointer(pointer).unwrap_or(&Value::Null);
        let same = match (got, &want) {
            (Value::Number(g), Value::Number(w)) => {
                close(w.as_f64().expect("f64"), g.as_f64().expect("f64"))
            }
            _ => *got == want,
        };
        assert!(same, "{who} {pointer}: want {want}, got {got}");
    }
}

fn labels(outcome: &Outcome) -> Vec<String> {
    outcome.actual["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .map(|p| p["period"].as_str().expect("label").to_string())
        .collect()
}

#[test]
fn hand_iso_weeks_across_the_new_year() {
    // 2025-12-28 is a Sunday: ISO week 2025-W52. 2025-12-29 is the Monday of
    // 2026-W01 (the week holding 2026-01-01, a Thursday), and 2026-01-04,
    // a Sunday, ends it.
    let mut site = Site::new(PeriodKind::Week, 3, 5);
    site.add_brief(brief("sun", "2025-12-28", "A", "Acme", "SSSSSSSSS")); // 18
    site.add_brief(brief("mon", "2025-12-29", "A", "Acme", "SSSSSSSSW")); // 17
    site.add_brief(brief("end", "2026-01-04", "A", "Acme", "SSSSSMMMS")); // 12
    let outcome = build_hand("iso-weeks", &site);
    assert_eq!(labels(&outcome), ["2025-W52", "2026-W01"]);
    // as_of defaults to the latest date, 2026-01-04.
    assert_hand(&outcome, "/as_of", "2026-01-04".into());
    assert_hand(&outcome, "/periods/0/handoffs", 1.into());
    assert_hand(&outcome, "/periods/1/handoffs", 2.into());
    // W01 mean = (17 + 12) / 2 = 14.5, W52 = 18: mean_score goes down.
    assert_hand(&outcome, "/periods/1/mean_score", 14.5.into());
    assert_hand(&outcome, "/directions/mean_score", "down".into());
    // Due: 12-28 + 5 = 01-02 ≤ 01-04 and 12-29 + 5 = 01-03 ≤ 01-04; 01-04 is
    // not. No events, so both due handoffs missed the window: 0 and 0, flat.
    assert_hand(&outcome, "/handoffs/2/due", false.into());
    assert_hand(&outcome, "/periods/0/responded_in_window", 0.into());
    assert_hand(&outcome, "/periods/1/responded_in_window", 0.into());
    assert_hand(&outcome, "/directions/responded_in_window", "flat".into());
    assert_hand(
        &outcome,
        "/directions/repeat_meeting_rate",
        "unknown".into(),
    );
    // mean down but no signal down: mixed.
    assert_hand(&outcome, "/verdict", "mixed".into());
    // current: 12 + 17 + 18 = 47 / 3 = 15.67, Ready.
    assert_hand(&outcome, "/current/score", (47.0 / 3.0).into());
    assert_hand(&outcome, "/current/band", "Ready".into());
    assert_hand(
        &outcome,
        "/current/handoffs",
        serde_json::json!(["end", "mon", "sun"]),
    );
    // 12: fixes: acceptance_criteria missing, next_action/owner missing.
    assert_hand(
        &outcome,
        "/handoffs/2/fixes",
        serde_json::json!(["renegotiate_rule", "shrink_ask"]),
    );
    assert_hand(&outcome, "/handoffs/2/band", "Needs work".into());
}

#[test]
fn hand_iso_week_53() {
    // 2026 starts on a Thursday, so it has 53 ISO weeks: 2026-12-31
    // (Thursday) and 2027-01-03 (Sunday) are 2026-W53; 2027-01-04 is 2027-W01.
    // as_of = 2027-01-10 (config) is a Sunday, still 2027-W01.
    let mut site = Site::new(PeriodKind::Week, 2, 5);
    site.config_as_of = Some(d("2027-01-10"));
    site.add_brief(brief("thu", "2026-12-31", "A", "Acme", "SSSSSSSSS"));
    site.add_brief(brief("sun", "2027-01-03", "A", "Acme", "SSSSSSSSS"));
    site.add_brief(brief("mon", "2027-01-04", "A", "Acme", "SSSSSSSSS"));
    site.event(on(ev("2027-01-11", "accepted", "A"), "mon")); // after as_of
    let outcome = build_hand("week-53", &site);
    assert_eq!(labels(&outcome), ["2026-W53", "2027-W01"]);
    assert_hand(&outcome, "/periods/0/handoffs", 2.into());
    // The accept on 01-11 is after as_of, so left out.
    assert_hand(&outcome, "/handoffs/2/response_days", Value::Null);
    // 01-04 + 5 = 01-09 ≤ 01-10: due, not responded.
    assert_hand(&outcome, "/handoffs/2/due", true.into());
    assert_hand(&outcome, "/periods/1/responded_in_window", 0.into());
    assert_hand(&outcome, "/handoffs/2/fixes", serde_json::json!([]));
}

#[test]
fn hand_quarter_boundary_even_median_and_not_yet_due() {
    // Quarters, window 2, response window 5, as_of 2026-10-03 from site.toml.
    let mut site = Site::new(PeriodKind::Quarter, 2, 5);
    site.config_as_of = Some(d("2026-10-03"));
    site.add_brief(brief("q3d", "2026-07-01", "A", "Acme", "SSSSMMMMS")); // 10
    site.add_brief(brief("q3c", "2026-08-01", "A", "Acme", "SSSSSSMMS")); // 14
    site.add_brief(brief("q3b", "2026-09-28", "A", "Acme", "SSSSSSSWW")); // 16
    site.add_brief(brief("q3a", "2026-09-30", "A", "Acme", "SSSSSSSSS")); // 18
    site.add_brief(brief("q4a", "2026-10-01", "A", "Acme", "SSSSMMMMW")); // 9
    site.add_brief(brief("late", "2026-10-04", "A", "Acme", "SSSSSSSSS")); // after as_of
    // Responses: q3d 6 days (07-07), q3c earliest of decline 08-06 (5) and
    // accept 08-09 (8) = 5, q3b same day = 0, q3a 10-02 = 2 (counted in Q3,
    // the handoff's period, though the event is in Q4). q4a's accept is on
    // 10-05, after as_of, so left out.
    site.event(on(ev("2026-07-07", "accepted", "A"), "q3d"));
    site.event(on(ev("2026-08-09", "accepted", "A"), "q3c"));
    site.event(on(ev("2026-08-06", "declined", "A"), "q3c"));
    site.event(on(ev("2026-09-28", "accepted", "A"), "q3b"));
    site.event(on(ev("2026-10-02", "accepted", "A"), "q3a"));
    site.event(on(ev("2026-10-05", "accepted", "A"), "q4a"));
    site.event(on(ev("2026-07-20", "acted", "A"), "q3d"));
    site.event(on(ev("2026-07-21", "acted", "A"), "q3d"));
    site.event(mention("2026-09-30", "A", "Acme", false));
    site.event(mention("2026-10-01", "A", "Acme", false));
    site.event(mention("2026-10-01", "B", "Acme", true));
    let outcome = build_hand("quarters", &site);
    assert_eq!(labels(&outcome), ["2026-Q3", "2026-Q4"]);
    assert_eq!(outcome.actual["handoffs"].as_array().expect("arr").len(), 5);
    // Q3 responses 0, 2, 5, 6: median (2 + 5) / 2 = 3.5.
    assert_hand(&outcome, "/periods/0/median_response_days", 3.5.into());
    // Due on 10-03: q3d, q3c, q3b (09-28 + 5 = 10-03, equal counts); q3a
    // (10-05) and q4a are not yet due.
    assert_hand(&outcome, "/handoffs/3/id", "q3a".into());
    assert_hand(&outcome, "/handoffs/3/due", false.into());
    assert_hand(&outcome, "/handoffs/3/response_days", 2.into());
    assert_hand(&outcome, "/handoffs/3/responded_in_window", true.into());
    assert_hand(&outcome, "/handoffs/2/due", true.into());
    // In window among due: q3b (0 ≤ 5) yes, q3c (5 ≤ 5) yes, q3d (6) no.
    assert_hand(
        &outcome,
        "/periods/0/responded_in_window",
        (2.0 / 3.0).into(),
    );
    // Acted among due: q3d only (two acted events count once).
    assert_hand(&outcome, "/periods/0/acted_share", (1.0 / 3.0).into());
    assert_hand(&outcome, "/periods/0/mean_score", 14.5.into());
    assert_hand(&outcome, "/periods/1/mean_score", 9.into());
    assert_hand(&outcome, "/periods/1/responded_in_window", Value::Null);
    assert_hand(&outcome, "/periods/1/acted_share", Value::Null);
    assert_hand(&outcome, "/periods/1/median_response_days", Value::Null);
    assert_hand(&outcome, "/periods/0/unprompted_mentions", 1.into());
    assert_hand(&outcome, "/periods/1/unprompted_mentions", 1.into());
    assert_hand(&outcome, "/directions/mean_score", "down".into());
    assert_hand(&outcome, "/directions/unprompted_mentions", "flat".into());
    assert_hand(&outcome, "/directions/acted_share", "unknown".into());
    assert_hand(&outcome, "/verdict", "mixed".into());
    // current: q4a 9, q3a 18, q3b 16 = 43 / 3 = 14.33: Needs work.
    assert_hand(&outcome, "/current/score", (43.0 / 3.0).into());
    assert_hand(&outcome, "/current/band", "Needs work".into());
    assert_hand(
        &outcome,
        "/current/handoffs",
        serde_json::json!(["q4a", "q3a", "q3b"]),
    );
}

#[test]
fn hand_gap_period_keeps_its_spacing() {
    // Months, window 4. Scores: Dec 0, Jan 10, Feb 16, Mar none, Apr 11.
    // The window is Jan..Apr, x = 0, 1, 3 (Mar is null but keeps its slot):
    // mean x = 4/3, mean y = 37/3; Σ(dx·dy) = (-4/3)(-7/3) + (-1/3)(11/3) +
    // (5/3)(-4/3) = (28 - 11 - 20)/9 = -1/3 < 0: down. Packing the gap
    // (x = 0, 1, 2) would give +1: up; including Dec would give up too.
    let mut site = Site::new(PeriodKind::Month, 4, 5);
    site.add_brief(brief("dec", "2025-12-15", "A", "Acme", "MMMMMMMMM"));
    site.add_brief(brief("jan", "2026-01-15", "A", "Acme", "SSSSSMMMM"));
    site.add_brief(brief("feb", "2026-02-15", "A", "Acme", "SSSSSSSSM"));
    site.add_brief(brief("apr", "2026-04-15", "A", "Acme", "SSSSSWMMM"));
    let outcome = build_hand("gap", &site);
    assert_eq!(
        labels(&outcome),
        ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    );
    assert_hand(&outcome, "/periods/3/handoffs", 0.into());
    assert_hand(&outcome, "/periods/3/mean_score", Value::Null);
    assert_hand(&outcome, "/periods/3/responded_in_window", Value::Null);
    assert_hand(&outcome, "/periods/3/median_response_days", Value::Null);
    assert_hand(&outcome, "/periods/3/acted_share", Value::Null);
    assert_hand(&outcome, "/periods/3/unprompted_requests", 0.into());
    assert_hand(&outcome, "/periods/3/repeat_meeting_rate", Value::Null);
    assert_hand(
        &outcome,
        "/periods/3/healthy_disagreement_share",
        Value::Null,
    );
    assert_hand(&outcome, "/periods/4/mean_score", 11.into());
    assert_hand(&outcome, "/directions/mean_score", "down".into());
    // Apr is not yet due (04-15 + 5 > as_of 04-15); Jan, Feb are due with
    // 0 responded: responded_in_window Jan 0, Feb 0, Mar null, Apr null.
    assert_hand(&outcome, "/periods/4/responded_in_window", Value::Null);
    assert_hand(&outcome, "/directions/responded_in_window", "flat".into());
    assert_hand(&outcome, "/verdict", "mixed".into());
}

#[test]
fn hand_unprompted_requests_meetings_and_disagreements() {
    // Months; as_of = latest date, 2026-04-02.
    let mut site = Site::new(PeriodKind::Month, 3, 5);
    site.add_brief(brief("h1", "2026-03-10", "A", "Acme", "SSSSSSSSS"));
    let mut draft = brief("d1", "2026-03-01", "A", "Globex", "SSSSSSSSS");
    draft.draft = true;
    site.add_brief(draft);
    // March requests: A/Acme 03-09 (before h1: unprompted), A/Acme 03-10
    // (h1 is on or before: prompted), B/Acme 03-12 (other seller:
    // unprompted), A/Globex 03-15 (only a draft: unprompted) = 3.
    site.event(with_account(
        ev("2026-03-09", "requested_help", "A"),
        "Acme",
    ));
    site.event(with_account(
        ev("2026-03-10", "requested_help", "A"),
        "Acme",
    ));
    site.event(with_account(
        ev("2026-03-12", "requested_help", "B"),
        "Acme",
    ));
    site.event(with_account(
        ev("2026-03-15", "requested_help", "A"),
        "Globex",
    ));
    site.event(on(ev("2026-03-02", "accepted", "A"), "d1")); // left out with d1
    // Meetings: A 02-05; B twice on 03-03; C 03-20; A again 04-02.
    // Feb: {A:1} → 0/1. Mar: {A:1, B:2, C:1} → 1/3. Apr: {A:2, B:2, C:1} → 2/3.
    site.event(with_partner(ev("2026-02-05", "partner_meeting", "A"), "X"));
    site.event(with_partner(ev("2026-03-03", "partner_meeting", "B"), "X"));
    site.event(with_partner(ev("2026-03-03", "partner_meeting", "B"), "Y"));
    site.event(with_partner(ev("2026-03-20", "partner_meeting", "C"), "X"));
    site.event(with_partner(ev("2026-04-02", "partner_meeting", "A"), "Y"));
    // Disagreements: Feb value → 0; Mar account, partner, value, value → 0.5.
    site.event(with_about(ev("2026-02-07", "disagreement", "A"), "value"));
    site.event(with_about(ev("2026-03-07", "disagreement", "A"), "account"));
    site.event(with_about(ev("2026-03-08", "disagreement", "B"), "partner"));
    site.event(with_about(ev("2026-03-09", "disagreement", "B"), "value"));
    site.event(with_about(ev("2026-03-09", "disagreement", "C"), "value"));
    let outcome = build_hand("requests", &site);
    assert_eq!(labels(&outcome), ["2026-02", "2026-03", "2026-04"]);
    assert_hand(&outcome, "/as_of", "2026-04-02".into());
    assert_hand(&outcome, "/periods/1/unprompted_requests", 3.into());
    assert_hand(&outcome, "/periods/0/repeat_meeting_rate", 0.into());
    assert_hand(
        &outcome,
        "/periods/1/repeat_meeting_rate",
        (1.0 / 3.0).into(),
    );
    assert_hand(
        &outcome,
        "/periods/2/repeat_meeting_rate",
        (2.0 / 3.0).into(),
    );
    assert_hand(&outcome, "/directions/repeat_meeting_rate", "up".into());
    assert_hand(&outcome, "/periods/0/healthy_disagreement_share", 0.into());
    assert_hand(
        &outcome,
        "/periods/1/healthy_disagreement_share",
        0.5.into(),
    );
    assert_hand(
        &outcome,
        "/periods/2/healthy_disagreement_share",
        Value::Null,
    );
    assert_hand(
        &outcome,
        "/directions/healthy_disagreement_share",
        "up".into(),
    );
    // One handoff only: mean_score unknown, so the verdict is unknown.
    assert_hand(&outcome, "/directions/mean_score", "unknown".into());
    assert_hand(&outcome, "/verdict", "unknown".into());
    assert_hand(&outcome, "/handoffs/0/response_days", Value::Null);
}

#[test]
fn hand_empty_sites() {
    // No briefs, no events: no as_of, nothing.
    let mut site = Site::new(PeriodKind::Month, 3, 5);
    site.csv.columns = None;
    let outcome = build_hand("empty", &site);
    assert_hand(&outcome, "/as_of", Value::Null);
    assert_hand(&outcome, "/periods", serde_json::json!([]));
    assert_hand(&outcome, "/current", Value::Null);
    assert_hand(&outcome, "/verdict", "unknown".into());

    // Only a draft (and an event on it): the same.
    let mut draft = brief("wip", "2026-03-01", "A", "Acme", "SSSSSSSSS");
    draft.draft = true;
    site.add_brief(draft);
    site.csv.columns = Some(ALL_COLUMNS.to_vec());
    site.event(on(ev("2026-03-02", "accepted", "A"), "wip"));
    let outcome = build_hand("only-draft", &site);
    assert_hand(&outcome, "/as_of", Value::Null);
    assert_hand(&outcome, "/handoffs", serde_json::json!([]));

    // Events but no briefs: periods from the events, no current.
    let mut site = Site::new(PeriodKind::Month, 3, 5);
    site.event(mention("2026-01-31", "A", "Acme", false));
    site.event(mention("2026-03-01", "A", "Acme", false));
    site.event(mention("2026-03-02", "A", "Acme", false));
    let outcome = build_hand("events-only", &site);
    assert_eq!(labels(&outcome), ["2026-01", "2026-02", "2026-03"]);
    assert_hand(&outcome, "/current", Value::Null);
    assert_hand(&outcome, "/periods/1/unprompted_mentions", 0.into());
    // 1, 0, 2 at x = 0, 1, 2: slope (2 - 1) / 2 = 0.5: up.
    assert_hand(&outcome, "/directions/unprompted_mentions", "up".into());
    assert_hand(&outcome, "/directions/mean_score", "unknown".into());
    assert_hand(&outcome, "/verdict", "unknown".into());
}

#[test]
fn hand_as_of_before_all_data() {
    // --as-of before everything: as_of is that date, everything is left
    // out, so there are no handoffs and no periods.
    let mut site = Site::new(PeriodKind::Month, 3, 5);
    site.add_brief(brief("h1", "2026-03-10", "A", "Acme", "SSSSSSSSS"));
    site.event(mention("2026-03-01", "A", "Acme", false));
    site.cli_as_of = Some(d("2026-02-01"));
    let outcome = build_hand("as-of-before", &site);
    assert_hand(&outcome, "/as_of", "2026-02-01".into());
    assert_hand(&outcome, "/handoffs", serde_json::json!([]));
    assert_hand(&outcome, "/current", Value::Null);
    assert_hand(&outcome, "/periods", serde_json::json!([]));

    // --as-of wins over site.toml; a later as_of adds empty periods.
    site.config_as_of = Some(d("2026-01-01"));
    site.cli_as_of = Some(d("2026-05-02"));
    let outcome = build_hand("as-of-after", &site);
    assert_eq!(labels(&outcome), ["2026-03", "2026-04", "2026-05"]);
    // 03-10 + 5 ≤ 05-02: due, never responded.
    assert_hand(&outcome, "/handoffs/0/due", true.into());
    assert_hand(&outcome, "/periods/0/responded_in_window", 0.into());
}
