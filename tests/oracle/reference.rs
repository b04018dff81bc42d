//! A deliberately naive reference implementation of SPEC section 6
//! (scoring and signals) and the computed parts of `/data/scorecard.json`
//! (section 7), written from the spec text alone. It favours obviousness
//! over speed: every set is found by scanning everything again, periods are
//! found by walking the calendar one day at a time.

use jiff::civil::Date;
use serde_json::{Value, json};

/// The nine components, in spec order.
pub const COMPONENTS: [&str; 9] = [
    "target_account",
    "partner_context",
    "relationship_path",
    "buyer_problem",
    "partner_offer",
    "next_action",
    "owner",
    "acceptance_criteria",
    "proof",
];

/// The default bands (highest first, as site.toml lists them).
pub const DEFAULT_BANDS: [(&str, i64); 3] = [("Ready", 15), ("Needs work", 10), ("Not ready", 0)];

/// The eight per-period fields that get a direction, in spec order.
pub const DIRECTION_FIELDS: [&str; 8] = [
    "mean_score",
    "responded_in_window",
    "median_response_days",
    "acted_share",
    "unprompted_requests",
    "unprompted_mentions",
    "repeat_meeting_rate",
    "healthy_disagreement_share",
];

/// The six behaviour signals.
pub const BEHAVIOUR_SIGNALS: [&str; 6] = [
    "responded_in_window",
    "acted_share",
    "unprompted_requests",
    "unprompted_mentions",
    "repeat_meeting_rate",
    "healthy_disagreement_share",
];

#[derive(Clone, Debug)]
pub struct Brief {
    pub id: String,
    pub title: String,
    pub date: Option<Date>,
    pub draft: bool,
    pub account: String,
    pub partner: String,
    pub seller: String,
    pub owner: Option<String>,
    /// "strong" | "weak" | "missing", in `COMPONENTS` order.
    pub grades: [&'static str; 9],
    pub respond_within_days: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Event {
    pub date: Date,
    /// accepted, declined, acted, requested_help, pipeline_mention,
    /// partner_meeting, disagreement
    pub kind: &'static str,
    pub seller: String,
    pub handoff: Option<String>,
    pub account: Option<String>,
    pub partner: Option<String>,
    pub about: Option<&'static str>,
    pub partner_team_present: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
}

impl PeriodKind {
    pub fn name(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub response_window_days: i64,
    pub trend_period: PeriodKind,
    pub trend_window: usize,
    /// The effective override: `--as-of` if given, else site.toml `as_of`.
    pub as_of: Option<Date>,
    /// (name, min) in site.toml order; `DEFAULT_BANDS` when site.toml has none.
    pub bands: Vec<(String, i64)>,
}

impl Settings {
    pub fn default_bands() -> Vec<(String, i64)> {
        DEFAULT_BANDS
            .iter()
            .map(|(name, min)| (name.to_string(), *min))
            .collect()
    }
}

/// The label of the period containing `date`.
pub fn period_label(kind: PeriodKind, date: Date) -> String {
    match kind {
        PeriodKind::Week => {
            let week = date.iso_week_date();
            format!("{:04}-W{:02}", week.year(), week.week())
        }
        PeriodKind::Month => format!("{:04}-{:02}", date.year(), date.month()),
        PeriodKind::Quarter => format!("{:04}-Q{}", date.year(), (date.month() - 1) / 3 + 1),
    }
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    // Count by walking, the dumbest thing that can possibly work, and
    // cross-check with jiff so a wrong walk cannot go unnoticed.
    let span = from.until(to).expect("date difference");
    let jiff_days = i64::from(span.get_days());
    let mut walked = 0i64;
    let mut day = from.min(to);
    while day < from.max(to) {
        day = day.tomorrow().expect("tomorrow");
        walked += 1;
    }
    let walked = if to < from { -walked } else { walked };
    assert_eq!(walked, jiff_days, "days between {from} and {to}");
    walked
}

fn points(grade: &str) -> i64 {
    match grade {
        "strong" => 2,
        "weak" => 1,
        "missing" => 0,
        other => panic!("bad grade {other}"),
    }
}

pub fn score(brief: &Brief) -> i64 {
    brief.grades.iter().map(|g| points(g)).sum()
}

/// The band with the highest `min` ≤ value.
pub fn band_for(bands: &[(String, i64)], value: f64) -> String {
    let mut best: Option<&(String, i64)> = None;
    for band in bands {
        if (band.1 as f64) <= value && best.is_none_or(|b| band.1 > b.1) {
            best = Some(band);
        }
    }
    best.expect("a band with min 0").0.clone()
}

pub fn fixes(brief: &Brief) -> Vec<&'static str> {
    let grade = |name: &str| {
        let index = COMPONENTS
            .iter()
            .position(|c| *c == name)
            .expect("component");
        brief.grades[index]
    };
    let mut out = Vec::new();
    if grade("acceptance_criteria") == "missing" {
        out.push("renegotiate_rule");
    }
    if [
        "target_account",
        "partner_context",
        "relationship_path",
        "buyer_problem",
        "partner_offer",
    ]
    .iter()
    .any(|c| grade(c) != "strong")
    {
        out.push("rebuild_packet");
    }
    if ["next_action", "owner"]
        .iter()
        .any(|c| grade(c) != "strong")
    {
        out.push("shrink_ask");
    }
    out
}

fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let n = sorted.len();
    if n % 2 == 1 {
        Some(sorted[n / 2])
    } else {
        Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0)
    }
}

fn share(numerator: usize, denominator: usize) -> Option<f64> {
    if denominator == 0 {
        None
    } else {
        Some(numerator as f64 / denominator as f64)
    }
}

fn num(value: Option<f64>) -> Value {
    match value {
        Some(v) => json!(v),
        None => Value::Null,
    }
}

/// Least-squares slope with the centred formula; `None` with fewer than
/// two points.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let mut top = 0.0;
    let mut bottom = 0.0;
    for (x, y) in points {
        top += (x - mean_x) * (y - mean_y);
        bottom += (x - mean_x) * (x - mean_x);
    }
    Some(top / bottom)
}

pub fn direction(values: &[Option<f64>]) -> &'static str {
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(x, y)| y.map(|y| (x as f64, y)))
        .collect();
    match slope(&points) {
        None => "unknown",
        Some(s) if s > 1e-9 => "up",
        Some(s) if s < -1e-9 => "down",
        Some(_) => "flat",
    }
}

struct Handoff<'a> {
    brief: &'a Brief,
    date: Date,
    score: i64,
    due: bool,
    response_days: Option<i64>,
    responded_in_window: bool,
    acted: bool,
}

/// Computes every scorecard.json field of sections 6 and 7 that does not
/// come from the FAQ, for a site with the default bands and no FAQ.
pub fn scorecard(briefs: &[Brief], events: &[Event], settings: &Settings) -> Value {
    // Sent handoffs and the events left after drafts are removed.
    let draft_ids: Vec<&str> = briefs
        .iter()
        .filter(|b| b.draft)
        .map(|b| b.id.as_str())
        .collect();
    let sent_all: Vec<&Brief> = briefs.iter().filter(|b| !b.draft).collect();
    let events_all: Vec<&Event> = events
        .iter()
        .filter(|e| match &e.handoff {
            Some(h) => !draft_ids.contains(&h.as_str()),
            None => true,
        })
        .collect();

    // as_of.
    let mut as_of = settings.as_of;
    if as_of.is_none() {
        for b in &sent_all {
            let d = b.date.expect("sent brief has a date");
            if as_of.is_none_or(|a| d > a) {
                as_of = Some(d);
            }
        }
        for e in &events_all {
            if as_of.is_none_or(|a| e.date > a) {
                as_of = Some(e.date);
            }
        }
    }
    let Some(as_of) = as_of else {
        let mut directions = serde_json::Map::new();
        for field in DIRECTION_FIELDS {
            directions.insert(field.to_string(), json!("unknown"));
        }
        return json!({
            "as_of": null,
            "period": settings.trend_period.name(),
            "bands": bands_json(&settings.bands),
            "handoffs": [],
            "current": null,
            "periods": [],
            "directions": directions,
            "verdict": "unknown",
            "faq": [],
        });
    };

    // Leave out everything dated after as_of.
    let sent: Vec<&Brief> = sent_all
        .into_iter()
        .filter(|b| b.date.expect("date") <= as_of)
        .collect();
    let events: Vec<&Event> = events_all.into_iter().filter(|e| e.date <= as_of).collect();

    // Per handoff.
    let mut handoffs: Vec<Handoff> = Vec::new();
    for brief in &sent {
        let date = brief.date.expect("date");
        let window = brief
            .respond_within_days
            .unwrap_or(settings.response_window_days);
        let due = days_between(date, as_of) >= window;
        let mut response_days: Option<i64> = None;
        let mut acted = false;
        for e in &events {
            if e.handoff.as_deref() != Some(brief.id.as_str()) {
                continue;
            }
            if e.kind == "accepted" || e.kind == "declined" {
                let d = days_between(date, e.date);
                if response_days.is_none_or(|r| d < r) {
                    response_days = Some(d);
                }
            }
            if e.kind == "acted" {
                acted = true;
            }
        }
        handoffs.push(Handoff {
            brief,
            date,
            score: score(brief),
            due,
            response_days,
            responded_in_window: response_days.is_some_and(|d| d <= window),
            acted,
        });
    }
    // Date ascending, then id.
    handoffs.sort_by(|a, b| {
        a.date
            .cmp(&b.date)
            .then_with(|| a.brief.id.cmp(&b.brief.id))
    });

    let handoffs_json: Vec<Value> = handoffs
        .iter()
        .map(|h| {
            let mut grades = serde_json::Map::new();
            for (i, c) in COMPONENTS.iter().enumerate() {
                grades.insert(c.to_string(), json!(h.brief.grades[i]));
            }
            json!({
                "id": h.brief.id,
                "title": h.brief.title,
                "date": h.date.to_string(),
                "account": h.brief.account,
                "partner": h.brief.partner,
                "seller": h.brief.seller,
                "owner": h.brief.owner,
                "grades": grades,
                "score": h.score,
                "band": band_for(&settings.bands, h.score as f64),
                "fixes": fixes(h.brief),
                "due": h.due,
                "response_days": h.response_days,
                "responded_in_window": h.responded_in_window,
                "acted": h.acted,
                "url": format!("handoffs/{}/", h.brief.id),
            })
        })
        .collect();

    // Current: up to three most recent, date descending then id ascending.
    let mut recent: Vec<&Handoff> = handoffs.iter().collect();
    recent.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| a.brief.id.cmp(&b.brief.id))
    });
    recent.truncate(3);
    let current = if recent.is_empty() {
        Value::Null
    } else {
        let scores: Vec<f64> = recent.iter().map(|h| h.score as f64).collect();
        let value = mean(&scores).expect("non-empty");
        json!({
            "score": value,
            "band": band_for(&settings.bands, value),
            "handoffs": recent.iter().map(|h| h.brief.id.clone()).collect::<Vec<_>>(),
        })
    };

    // Periods: walk every day from the earliest date to as_of.
    let mut earliest: Option<Date> = None;
    for d in handoffs
        .iter()
        .map(|h| h.date)
        .chain(events.iter().map(|e| e.date))
    {
        if earliest.is_none_or(|e| d < e) {
            earliest = Some(d);
        }
    }
    // (label, last day walked in it — never after as_of, which is all the
    // meeting cut-off needs because later events are gone anyway)
    let mut labels: Vec<(String, Date)> = Vec::new();
    if let Some(start) = earliest {
        let mut day = start;
        loop {
            let label = period_label(settings.trend_period, day);
            match labels.last_mut() {
                Some((last, last_day)) if *last == label => *last_day = day,
                _ => labels.push((label, day)),
            }
            if day >= as_of {
                break;
            }
            day = day.tomorrow().expect("tomorrow");
        }
    }

    let kind = settings.trend_period;
    let in_period = |label: &str, d: Date| period_label(kind, d) == label;
    let mut periods_json = Vec::new();
    let mut series: Vec<Vec<Option<f64>>> = vec![Vec::new(); DIRECTION_FIELDS.len()];
    for (label, last_day) in &labels {
        let hs: Vec<&Handoff> = handoffs
            .iter()
            .filter(|h| in_period(label, h.date))
            .collect();
        let scores: Vec<f64> = hs.iter().map(|h| h.score as f64).collect();
        let mean_score = mean(&scores);
        let due: Vec<&&Handoff> = hs.iter().filter(|h| h.due).collect();
        let responded_in_window = share(
            due.iter().filter(|h| h.responded_in_window).count(),
            due.len(),
        );
        let responses: Vec<f64> = hs
            .iter()
            .filter_map(|h| h.response_days.map(|d| d as f64))
            .collect();
        let median_response_days = median(&responses);
        let acted_share = share(due.iter().filter(|h| h.acted).count(), due.len());

        let period_events: Vec<&&Event> =
            events.iter().filter(|e| in_period(label, e.date)).collect();
        let unprompted_requests = period_events
            .iter()
            .filter(|e| e.kind == "requested_help")
            .filter(|e| {
                let account = e.account.as_deref().expect("requested_help has an account");
                !handoffs.iter().any(|h| {
                    h.brief.seller == e.seller && h.brief.account == account && h.date <= e.date
                })
            })
            .count();
        let unprompted_mentions = period_events
            .iter()
            .filter(|e| e.kind == "pipeline_mention" && e.partner_team_present == Some(false))
            .count();

        let mut sellers: Vec<&str> = Vec::new();
        for e in &events {
            if e.kind == "partner_meeting"
                && e.date <= *last_day
                && !sellers.contains(&e.seller.as_str())
            {
                sellers.push(e.seller.as_str());
            }
        }
        let repeaters = sellers
            .iter()
            .filter(|s| {
                events
                    .iter()
                    .filter(|e| {
                        e.kind == "partner_meeting" && e.date <= *last_day && e.seller == **s
                    })
                    .count()
                    >= 2
            })
            .count();
        let repeat_meeting_rate = share(repeaters, sellers.len());

        let disagreements: Vec<&&&Event> = period_events
            .iter()
            .filter(|e| e.kind == "disagreement")
            .collect();
        let healthy = disagreements
            .iter()
            .filter(|e| matches!(e.about, Some("account") | Some("partner")))
            .count();
        let healthy_disagreement_share = share(healthy, disagreements.len());

        let values = [
            mean_score,
            responded_in_window,
            median_response_days,
            acted_share,
            Some(unprompted_requests as f64),
            Some(unprompted_mentions as f64),
            repeat_meeting_rate,
            healthy_disagreement_share,
        ];
        for (i, v) in values.iter().enumerate() {
            series[i].push(*v);
        }
        periods_json.push(json!({
            "period": label,
            "handoffs": hs.len(),
            "mean_score": num(mean_score),
            "responded_in_window": num(responded_in_window),
            "median_response_days": num(median_response_days),
            "acted_share": num(acted_share),
            "unprompted_requests": unprompted_requests,
            "unprompted_mentions": unprompted_mentions,
            "repeat_meeting_rate": num(repeat_meeting_rate),
            "healthy_disagreement_share": num(healthy_disagreement_share),
        }));
    }

    // Directions over the last trend_window periods (the last period is
    // always as_of's).
    let mut directions = serde_json::Map::new();
    let mut direction_of = std::collections::BTreeMap::new();
    for (i, field) in DIRECTION_FIELDS.iter().enumerate() {
        let all = &series[i];
        let start = all.len().saturating_sub(settings.trend_window);
        let d = direction(&all[start..]);
        directions.insert(field.to_string(), json!(d));
        direction_of.insert(*field, d);
    }
    let ups = BEHAVIOUR_SIGNALS
        .iter()
        .filter(|s| direction_of[*s] == "up")
        .count();
    let downs = BEHAVIOUR_SIGNALS
        .iter()
        .filter(|s| direction_of[*s] == "down")
        .count();
    let verdict = match direction_of["mean_score"] {
        "up" if ups > downs => "building",
        "down" if downs > ups => "burning",
        "unknown" => "unknown",
        _ => "mixed",
    };

    json!({
        "as_of": as_of.to_string(),
        "period": settings.trend_period.name(),
        "bands": bands_json(&settings.bands),
        "handoffs": handoffs_json,
        "current": current,
        "periods": periods_json,
        "directions": directions,
        "verdict": verdict,
        "faq": [],
    })
}

/// The spec does not pin the order of `bands`; trustcard lists them
/// highest `min` first (the order of the defaults), which is what is
/// expected here whatever order site.toml uses.
fn bands_json(bands: &[(String, i64)]) -> Value {
    let mut bands = bands.to_vec();
    bands.sort_by_key(|b| std::cmp::Reverse(b.1));
    Value::Array(
        bands
            .iter()
            .map(|(name, min)| json!({"name": name, "min": min}))
            .collect(),
    )
}
