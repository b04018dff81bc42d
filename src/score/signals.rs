//! Seller-behaviour signals per period, their directions and the verdict.
//!
//! The formulas are pinned (SPEC section 6) and checked figure by figure
//! against another implementation, so each one is written the way the spec
//! words it. Event logs run to millions of rows: everything is bucketed by
//! period index in one pass, no per-period rescans.

use rustc_hash::FxHashMap;

use jiff::civil::Date;
use serde::Serialize;

use super::Handoff;
use std::borrow::Borrow;

use crate::events::{About, Event, EventKind, NameId, Names};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
}

impl PeriodKind {
    /// The value of `trend_period` in site.toml.
    pub fn word(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
    Flat,
    Unknown,
}

impl Direction {
    /// The word scorecard.json uses.
    pub fn word(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Flat => "flat",
            Direction::Unknown => "unknown",
        }
    }

    /// Whether the move is good news for `field`: `None` when flat or
    /// unknown. Only wording and colour depend on this, never the verdict.
    pub fn is_improvement(self, field: Field) -> Option<bool> {
        match self {
            Direction::Up => Some(field.higher_is_better()),
            Direction::Down => Some(!field.higher_is_better()),
            Direction::Flat | Direction::Unknown => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Building,
    Burning,
    Mixed,
    Unknown,
}

impl Verdict {
    /// The word scorecard.json uses.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Building => "building",
            Verdict::Burning => "burning",
            Verdict::Mixed => "mixed",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The per-period fields, in the order pages list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    MeanScore,
    RespondedInWindow,
    MedianResponseDays,
    ActedShare,
    UnpromptedRequests,
    UnpromptedMentions,
    RepeatMeetingRate,
    HealthyDisagreementShare,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::MeanScore,
        Field::RespondedInWindow,
        Field::MedianResponseDays,
        Field::ActedShare,
        Field::UnpromptedRequests,
        Field::UnpromptedMentions,
        Field::RepeatMeetingRate,
        Field::HealthyDisagreementShare,
    ];

    /// The six behaviour signals that decide the verdict with mean_score.
    pub const SIGNALS: [Field; 6] = [
        Field::RespondedInWindow,
        Field::ActedShare,
        Field::UnpromptedRequests,
        Field::UnpromptedMentions,
        Field::RepeatMeetingRate,
        Field::HealthyDisagreementShare,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Field::MeanScore => "mean_score",
            Field::RespondedInWindow => "responded_in_window",
            Field::MedianResponseDays => "median_response_days",
            Field::ActedShare => "acted_share",
            Field::UnpromptedRequests => "unprompted_requests",
            Field::UnpromptedMentions => "unprompted_mentions",
            Field::RepeatMeetingRate => "repeat_meeting_rate",
            Field::HealthyDisagreementShare => "healthy_disagreement_share",
        }
    }

    /// Lower median response days is better; every other field, higher.
    pub fn higher_is_better(self) -> bool {
        self != Field::MedianResponseDays
    }

    pub fn value(self, stats: &PeriodStats) -> Option<f64> {
        match self {
            Field::MeanScore => stats.mean_score,
            Field::RespondedInWindow => stats.responded_in_window,
            Field::MedianResponseDays => stats.median_response_days,
            Field::ActedShare => stats.acted_share,
            Field::UnpromptedRequests => Some(stats.unprompted_requests as f64),
            Field::UnpromptedMentions => Some(stats.unprompted_mentions as f64),
            Field::RepeatMeetingRate => stats.repeat_meeting_rate,
            Field::HealthyDisagreementShare => stats.healthy_disagreement_share,
        }
    }
}

/// What sellers did with one handoff.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Activity {
    pub due: bool,
    pub response_days: Option<i64>,
    pub responded_in_window: bool,
    pub acted: bool,
    /// The window used: the brief's own or the site default.
    pub window_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodStats {
    /// "2026-10", "2026-W41" or "2026-Q4".
    pub period: String,
    #[serde(skip)]
    pub first_day: Date,
    #[serde(skip)]
    pub last_day: Date,
    pub handoffs: u64,
    pub mean_score: Option<f64>,
    pub responded_in_window: Option<f64>,
    pub median_response_days: Option<f64>,
    pub acted_share: Option<f64>,
    pub unprompted_requests: u64,
    pub unprompted_mentions: u64,
    pub repeat_meeting_rate: Option<f64>,
    pub healthy_disagreement_share: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub as_of: Date,
    pub period: PeriodKind,
    pub trend_window: usize,
    pub default_window_days: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// One per handoff passed in, same order.
    pub activity: Vec<Activity>,
    pub periods: Vec<PeriodStats>,
    /// One per [`Field::ALL`], same order.
    pub directions: Vec<(Field, Direction)>,
    pub verdict: Verdict,
}

/// Days since 1970-01-01 (negative before), so date differences and ISO
/// weeks are plain integer arithmetic over millions of events.
pub fn day_number(date: Date) -> i64 {
    // Howard Hinnant's days_from_civil, with years starting in March so the
    // leap day falls at the end.
    let month = i64::from(date.month());
    let year = i64::from(date.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + i64::from(date.day()) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`day_number`], saturating at jiff's date range.
pub fn date_from_day_number(days: i64) -> Date {
    let days = days.clamp(day_number(Date::MIN), day_number(Date::MAX));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    civil(year, month, day)
}

/// A date from parts known to be valid; saturates instead of panicking.
fn civil(year: i64, month: i64, day: i64) -> Date {
    let parts = (i16::try_from(year), i8::try_from(month), i8::try_from(day));
    match parts {
        (Ok(year), Ok(month), Ok(day)) => Date::new(year, month, day).unwrap_or(Date::MAX),
        _ if year < 0 => Date::MIN,
        _ => Date::MAX,
    }
}

/// 1970-01-01 was a Thursday: shifting by 3 puts every Monday at a
/// multiple of 7.
const MONDAY_SHIFT: i64 = 3;

/// A period as one integer, consecutive periods being consecutive numbers.
pub fn period_index(kind: PeriodKind, date: Date) -> i64 {
    let year = i64::from(date.year());
    let month0 = i64::from(date.month()) - 1;
    match kind {
        PeriodKind::Week => (day_number(date) + MONDAY_SHIFT).div_euclid(7),
        PeriodKind::Month => year * 12 + month0,
        PeriodKind::Quarter => year * 4 + month0 / 3,
    }
}

/// The first and last day of the period with this index.
pub fn period_bounds(kind: PeriodKind, index: i64) -> (Date, Date) {
    match kind {
        PeriodKind::Week => {
            let monday = index * 7 - MONDAY_SHIFT;
            (
                date_from_day_number(monday),
                date_from_day_number(monday + 6),
            )
        }
        PeriodKind::Month => {
            let first = civil(index.div_euclid(12), index.rem_euclid(12) + 1, 1);
            (first, first.last_of_month())
        }
        PeriodKind::Quarter => {
            let (year, quarter) = (index.div_euclid(4), index.rem_euclid(4));
            let first = civil(year, quarter * 3 + 1, 1);
            let last = civil(year, quarter * 3 + 3, 1).last_of_month();
            (first, last)
        }
    }
}

/// "2026-10", "2026-Q4" or the ISO week "2026-W01" (ISO week-numbering
/// year, so 2025-12-29 is in 2026-W01 and 2027-01-01 in 2026-W53).
pub fn period_label(kind: PeriodKind, date: Date) -> String {
    match kind {
        PeriodKind::Week => {
            let week = date.iso_week_date();
            format!("{:04}-W{:02}", week.year(), week.week())
        }
        PeriodKind::Month => format!("{:04}-{:02}", date.year(), date.month()),
        PeriodKind::Quarter => {
            format!("{:04}-Q{}", date.year(), (date.month() - 1) / 3 + 1)
        }
    }
}

/// Running totals of one period while events are bucketed.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    handoffs: u64,
    score_sum: u64,
    due: u64,
    due_responded: u64,
    due_acted: u64,
    unprompted_requests: u64,
    unprompted_mentions: u64,
    disagreements: u64,
    healthy_disagreements: u64,
    /// Sellers whose first / second partner meeting falls in the period.
    first_meetings: u64,
    second_meetings: u64,
}

/// `part / whole`, or `None` when the set divided by is empty.
fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// `handoffs` are the sent handoffs on or before as_of (with their brief
/// indices, which events refer to); `events` are already free of drafts and
/// of anything after as_of.
///
/// Anything dated after as_of that slips through anyway is ignored, so the
/// result never reaches past as_of's period.
pub fn compute<E: Borrow<Event>>(
    handoffs: &[(u32, &Handoff)],
    events: &[E],
    names: &Names,
    settings: &Settings,
) -> Signals {
    let as_of = day_number(settings.as_of);
    let activity = activity(handoffs, events, as_of, settings.default_window_days);
    let periods = periods(handoffs, events, &activity, names, settings);
    let directions: Vec<(Field, Direction)> = Field::ALL
        .into_iter()
        .map(|field| {
            (
                field,
                trend(&periods, settings.trend_window, |p| field.value(p)),
            )
        })
        .collect();
    let verdict = verdict(&directions);
    Signals {
        activity,
        periods,
        directions,
        verdict,
    }
}

/// The signals of a site with no data at all (no as_of): `count` default
/// activities, no periods, every direction and the verdict unknown.
pub fn compute_empty(count: usize) -> Signals {
    Signals {
        activity: vec![Activity::default(); count],
        periods: Vec::new(),
        directions: Field::ALL
            .into_iter()
            .map(|field| (field, Direction::Unknown))
            .collect(),
        verdict: Verdict::Unknown,
    }
}

fn activity<E: Borrow<Event>>(
    handoffs: &[(u32, &Handoff)],
    events: &[E],
    as_of: i64,
    default_window_days: u32,
) -> Vec<Activity> {
    // Brief index → position in `handoffs`. Briefs are few and events many,
    // so a dense table beats hashing on every event; but a rollup holds a
    // sliver of the briefs, and a table as long as all of them, once per
    // rollup, would grow with briefs × rollups: those hash.
    let size = handoffs
        .iter()
        .map(|&(index, _)| index as usize + 1)
        .max()
        .unwrap_or(0);
    let dense = handoffs.len() >= size / 4;
    let mut table = vec![usize::MAX; if dense { size } else { 0 }];
    let mut map: FxHashMap<u32, usize> = FxHashMap::default();
    for (at, &(index, _)) in handoffs.iter().enumerate() {
        if dense {
            table[index as usize] = at;
        } else {
            map.insert(index, at);
        }
    }
    let position = |index: u32| -> Option<usize> {
        if dense {
            table
                .get(index as usize)
                .copied()
                .filter(|&at| at != usize::MAX)
        } else {
            map.get(&index).copied()
        }
    };
    let mut first_response: Vec<Option<i64>> = vec![None; handoffs.len()];
    let mut acted = vec![false; handoffs.len()];
    for event in events {
        let event: &Event = event.borrow();
        let Some(at) = event.handoff().and_then(position) else {
            continue;
        };
        let day = day_number(event.date);
        if day > as_of {
            continue;
        }
        match event.kind {
            EventKind::Accepted | EventKind::Declined => {
                let earliest = &mut first_response[at];
                *earliest = Some(earliest.map_or(day, |d| d.min(day)));
            }
            EventKind::Acted => acted[at] = true,
            _ => {}
        }
    }
    handoffs
        .iter()
        .zip(first_response)
        .zip(acted)
        .map(|((&(_, handoff), response), acted)| {
            let window_days = handoff.respond_within_days.unwrap_or(default_window_days);
            let Some(date) = handoff.date.map(day_number) else {
                // Only drafts lack a date, and drafts are not passed in.
                return Activity {
                    window_days,
                    ..Activity::default()
                };
            };
            let response_days = response.map(|day| day - date);
            Activity {
                due: date + i64::from(window_days) <= as_of,
                response_days,
                responded_in_window: response_days.is_some_and(|d| d <= i64::from(window_days)),
                acted,
                window_days,
            }
        })
        .collect()
}

fn periods<E: Borrow<Event>>(
    handoffs: &[(u32, &Handoff)],
    events: &[E],
    activity: &[Activity],
    names: &Names,
    settings: &Settings,
) -> Vec<PeriodStats> {
    let kind = settings.period;
    let last = period_index(kind, settings.as_of);
    let earliest = handoffs
        .iter()
        .filter_map(|(_, h)| h.date)
        .chain(events.iter().map(|e| e.borrow().date))
        .filter(|&date| date <= settings.as_of)
        .min();
    let Some(earliest) = earliest else {
        return Vec::new();
    };
    let first = period_index(kind, earliest);
    let count = usize::try_from(last - first + 1).unwrap_or(0);
    let slots = Slots { kind, first, count };
    let slot = |date: Date| slots.of(date);
    let mut tallies = vec![Tally::default(); count];

    let mut responses: Vec<(usize, i64)> = Vec::new();
    // (seller, account) → earliest day a sent handoff went to that seller
    // about that account: a request on or after it was prompted.
    let mut prompted_from: FxHashMap<(NameId, NameId), i64> = FxHashMap::default();
    for (&(_, handoff), activity) in handoffs.iter().zip(activity) {
        let Some(date) = handoff.date.filter(|&date| date <= settings.as_of) else {
            continue;
        };
        let Some(at) = slot(date) else { continue };
        let tally = &mut tallies[at];
        // The only place a score is read: [`rescore`] redoes this alone.
        tally.handoffs += 1;
        tally.score_sum += u64::from(handoff.score());
        if activity.due {
            tally.due += 1;
            tally.due_responded += u64::from(activity.responded_in_window);
            tally.due_acted += u64::from(activity.acted);
        }
        if let Some(days) = activity.response_days {
            responses.push((at, days));
        }
        if let (Some(seller), Some(account)) =
            (names.get(&handoff.seller), names.get(&handoff.account))
        {
            let day = day_number(date);
            prompted_from
                .entry((seller, account))
                .and_modify(|d| *d = (*d).min(day))
                .or_insert(day);
        }
    }

    // Per seller, the dates of their first and second partner meetings.
    // Hashed by seller id: ids run over every name, accounts included, and
    // a table that long per rollup would grow with names × rollups.
    let mut meetings: FxHashMap<NameId, [Option<Date>; 2]> = FxHashMap::default();
    for event in events {
        let event: &Event = event.borrow();
        if event.date > settings.as_of {
            continue;
        }
        let Some(at) = slot(event.date) else { continue };
        let tally = &mut tallies[at];
        match event.kind {
            EventKind::RequestedHelp => {
                let day = day_number(event.date);
                let prompted = event.account().is_some_and(|account| {
                    prompted_from
                        .get(&(event.seller, account))
                        .is_some_and(|&from| from <= day)
                });
                tally.unprompted_requests += u64::from(!prompted);
            }
            EventKind::PipelineMention => {
                tally.unprompted_mentions += u64::from(event.partner_team_present == Some(false));
            }
            EventKind::Disagreement => {
                tally.disagreements += 1;
                tally.healthy_disagreements +=
                    u64::from(matches!(event.about, Some(About::Account | About::Partner)));
            }
            EventKind::PartnerMeeting => {
                let [first, second] = meetings.entry(event.seller).or_insert([None; 2]);
                let date = Some(event.date);
                if first.is_none_or(|first| event.date < first) {
                    *second = *first;
                    *first = date;
                } else if second.is_none_or(|second| event.date < second) {
                    *second = date;
                }
            }
            EventKind::Accepted | EventKind::Declined | EventKind::Acted => {}
        }
    }
    for [first, second] in meetings.into_values() {
        if let Some(at) = first.and_then(slot) {
            tallies[at].first_meetings += 1;
        }
        if let Some(at) = second.and_then(slot) {
            tallies[at].second_meetings += 1;
        }
    }

    responses.sort_unstable();
    let mut responses = responses.as_slice();
    let (mut sellers_met, mut sellers_met_twice) = (0u64, 0u64);
    tallies
        .iter()
        .enumerate()
        .map(|(at, tally)| {
            let index = first + at as i64;
            let (first_day, last_day) = period_bounds(kind, index);
            let in_period = responses.partition_point(|&(p, _)| p == at);
            let median_response_days = median(&responses[..in_period]);
            responses = &responses[in_period..];
            // Meetings count from the start of the data up to the period's
            // last day, not only within the period.
            sellers_met += tally.first_meetings;
            sellers_met_twice += tally.second_meetings;
            PeriodStats {
                period: period_label(kind, first_day),
                first_day,
                last_day,
                handoffs: tally.handoffs,
                mean_score: ratio(tally.score_sum, tally.handoffs),
                responded_in_window: ratio(tally.due_responded, tally.due),
                median_response_days,
                acted_share: ratio(tally.due_acted, tally.due),
                unprompted_requests: tally.unprompted_requests,
                unprompted_mentions: tally.unprompted_mentions,
                repeat_meeting_rate: ratio(sellers_met_twice, sellers_met),
                healthy_disagreement_share: ratio(tally.healthy_disagreements, tally.disagreements),
            }
        })
        .collect()
}

/// Which of a run of `count` consecutive periods, the first numbered
/// `first`, a date falls in.
#[derive(Debug, Clone, Copy)]
struct Slots {
    kind: PeriodKind,
    first: i64,
    count: usize,
}

impl Slots {
    fn of(&self, date: Date) -> Option<usize> {
        let at = usize::try_from(period_index(self.kind, date) - self.first).ok()?;
        (at < self.count).then_some(at)
    }
}

/// Brings `signals`, computed by [`compute`] from these `handoffs` (same
/// briefs, dates and windows, same events, same settings) when some of
/// them had other grades, up to date with their grades now.
///
/// A score feeds only each period's mean score, and through it that
/// field's direction and the verdict; activity and every other field read
/// dates, windows and events. So this redoes those alone, in
/// O(handoffs + periods) and without the events, and the result is what
/// `compute` would give.
pub fn rescore(signals: &mut Signals, handoffs: &[(u32, &Handoff)], settings: &Settings) {
    let Some(first) = signals.periods.first() else {
        // No periods: no handoff on or before as_of, nothing scored.
        return;
    };
    let slots = Slots {
        kind: settings.period,
        first: period_index(settings.period, first.first_day),
        count: signals.periods.len(),
    };
    let mut tallies = vec![(0u64, 0u64); slots.count];
    for &(_, handoff) in handoffs {
        let Some(date) = handoff.date.filter(|&date| date <= settings.as_of) else {
            continue;
        };
        let Some(at) = slots.of(date) else { continue };
        let (count, sum) = &mut tallies[at];
        *count += 1;
        *sum += u64::from(handoff.score());
    }
    for (period, (count, sum)) in signals.periods.iter_mut().zip(tallies) {
        period.mean_score = ratio(sum, count);
    }
    let periods = &signals.periods;
    for (field, direction) in &mut signals.directions {
        if *field == Field::MeanScore {
            *direction = trend(periods, settings.trend_window, |p| field.value(p));
        }
    }
    signals.verdict = verdict(&signals.directions);
}

/// The median of sorted `(period, days)` pairs of one period.
fn median(sorted: &[(usize, i64)]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let middle = sorted[n / 2].1 as f64;
    Some(if n % 2 == 1 {
        middle
    } else {
        (sorted[n / 2 - 1].1 as f64 + middle) / 2.0
    })
}

/// The direction of one field over the last `window` periods.
pub fn trend(
    periods: &[PeriodStats],
    window: usize,
    value: impl Fn(&PeriodStats) -> Option<f64>,
) -> Direction {
    let start = periods.len().saturating_sub(window);
    let values: Vec<Option<f64>> = periods[start..].iter().map(value).collect();
    direction(&values)
}

/// The sign of the least-squares slope through the non-null values, each at
/// its position in `values` so that null periods keep their spacing.
pub fn direction(values: &[Option<f64>]) -> Direction {
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(x, y)| y.map(|y| (x as f64, y)))
        .collect();
    if points.len() < 2 {
        return Direction::Unknown;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for &(x, y) in &points {
        covariance += (x - mean_x) * (y - mean_y);
        variance += (x - mean_x) * (x - mean_x);
    }
    if variance == 0.0 {
        return Direction::Unknown;
    }
    let slope = covariance / variance;
    if slope > 1e-9 {
        Direction::Up
    } else if slope < -1e-9 {
        Direction::Down
    } else {
        Direction::Flat
    }
}

/// Building or burning needs the handoff score and the behaviour signals to
/// agree; anything else is mixed.
pub fn verdict(directions: &[(Field, Direction)]) -> Verdict {
    let of = |field: Field| {
        directions
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(Direction::Unknown, |&(_, d)| d)
    };
    let count = |wanted: Direction| {
        Field::SIGNALS
            .into_iter()
            .filter(|&field| of(field) == wanted)
            .count()
    };
    let (up, down) = (count(Direction::Up), count(Direction::Down));
    match of(Field::MeanScore) {
        Direction::Unknown => Verdict::Unknown,
        Direction::Up if up > down => Verdict::Building,
        Direction::Down if down > up => Verdict::Burning,
        _ => Verdict::Mixed,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::score::{Grade, Grades};

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    /// A handoff whose score is `score` (0–18).
    fn handoff(date: &str, score: u32, seller: &str, account: &str) -> Handoff {
        let mut grades = [Grade::Missing; 9];
        for (i, slot) in grades.iter_mut().enumerate() {
            let points = score.saturating_sub(2 * i as u32).min(2);
            *slot = [Grade::Missing, Grade::Weak, Grade::Strong][points as usize];
        }
        let handoff = Handoff {
            id: format!("{seller}-{account}-{date}"),
            title: String::new(),
            date: Some(d(date)),
            account: account.into(),
            partner: "P".into(),
            seller: seller.into(),
            owner: None,
            draft: false,
            respond_within_days: None,
            grades: Grades(grades),
        };
        assert_eq!(handoff.score(), score);
        handoff
    }

    fn event(date: &str, kind: EventKind, seller: NameId) -> Event {
        Event::new(d(date), kind, seller)
    }

    fn on(brief: u32, event: Event) -> Event {
        event.with_handoff(Some(brief))
    }

    fn settings(as_of: &str, period: PeriodKind) -> Settings {
        Settings {
            as_of: d(as_of),
            period,
            trend_window: 6,
            default_window_days: 5,
        }
    }

    fn indexed(handoffs: &[Handoff]) -> Vec<(u32, &Handoff)> {
        handoffs
            .iter()
            .enumerate()
            .map(|(i, h)| (i as u32, h))
            .collect()
    }

    fn labels(signals: &Signals) -> Vec<&str> {
        signals.periods.iter().map(|p| p.period.as_str()).collect()
    }

    #[test]
    fn day_numbers_match_jiff() {
        let epoch = d("1970-01-01");
        for date in [
            d("1970-01-01"),
            d("1969-12-31"),
            d("2000-02-29"),
            d("1900-03-01"),
            d("2026-10-31"),
            d("0000-01-01"),
            Date::MIN,
            Date::MAX,
        ] {
            let days = date.duration_since(epoch).as_secs().div_euclid(86_400);
            assert_eq!(day_number(date), days, "{date}");
            assert_eq!(date_from_day_number(days), date);
        }
        let mut date = d("1999-12-01");
        for _ in 0..1000 {
            let next = date.tomorrow().unwrap();
            assert_eq!(day_number(next), day_number(date) + 1);
            assert_eq!(date_from_day_number(day_number(next)), next);
            date = next;
        }
        assert_eq!(date_from_day_number(i64::MAX), Date::MAX);
        assert_eq!(date_from_day_number(i64::MIN), Date::MIN);
    }

    #[test]
    fn iso_week_labels_use_the_week_numbering_year() {
        let week = |date| period_label(PeriodKind::Week, d(date));
        assert_eq!(week("2025-12-29"), "2026-W01");
        assert_eq!(week("2026-01-04"), "2026-W01");
        assert_eq!(week("2026-01-05"), "2026-W02");
        assert_eq!(week("2027-01-01"), "2026-W53");
        assert_eq!(week("2027-01-03"), "2026-W53");
        assert_eq!(week("2027-01-04"), "2027-W01");
        assert_eq!(week("2021-01-03"), "2020-W53");

        let index = period_index(PeriodKind::Week, d("2027-01-01"));
        assert_eq!(
            period_bounds(PeriodKind::Week, index),
            (d("2026-12-28"), d("2027-01-03"))
        );
        assert_eq!(
            period_index(PeriodKind::Week, d("2026-12-28")),
            period_index(PeriodKind::Week, d("2027-01-03"))
        );
        assert_eq!(period_index(PeriodKind::Week, d("2027-01-04")), index + 1);
    }

    #[test]
    fn month_and_quarter_labels_and_bounds() {
        assert_eq!(period_label(PeriodKind::Month, d("2026-02-14")), "2026-02");
        assert_eq!(
            period_label(PeriodKind::Quarter, d("2026-03-31")),
            "2026-Q1"
        );
        assert_eq!(
            period_label(PeriodKind::Quarter, d("2026-04-01")),
            "2026-Q2"
        );
        assert_eq!(
            period_label(PeriodKind::Quarter, d("2026-12-31")),
            "2026-Q4"
        );
        let bounds = |kind, date| period_bounds(kind, period_index(kind, d(date)));
        assert_eq!(
            bounds(PeriodKind::Month, "2024-02-10"),
            (d("2024-02-01"), d("2024-02-29"))
        );
        assert_eq!(
            bounds(PeriodKind::Quarter, "2026-11-15"),
            (d("2026-10-01"), d("2026-12-31"))
        );
        assert_eq!(
            bounds(PeriodKind::Quarter, "2026-02-15"),
            (d("2026-01-01"), d("2026-03-31"))
        );
    }

    #[test]
    fn weekly_periods_cross_the_year_without_gaps() {
        let handoffs = [handoff("2025-12-24", 10, "S", "A")];
        let signals = compute(
            &indexed(&handoffs),
            &[] as &[Event],
            &Names::default(),
            &settings("2026-01-05", PeriodKind::Week),
        );
        assert_eq!(labels(&signals), ["2025-W52", "2026-W01", "2026-W02"]);
        assert_eq!(signals.periods[1].first_day, d("2025-12-29"));
        assert_eq!(signals.periods[1].last_day, d("2026-01-04"));
    }

    #[test]
    fn quarterly_periods_run_to_the_quarter_of_as_of() {
        let handoffs = [
            handoff("2025-12-31", 10, "S", "A"),
            handoff("2026-01-01", 14, "S", "A"),
        ];
        let signals = compute(
            &indexed(&handoffs),
            &[] as &[Event],
            &Names::default(),
            &settings("2026-04-01", PeriodKind::Quarter),
        );
        assert_eq!(labels(&signals), ["2025-Q4", "2026-Q1", "2026-Q2"]);
        let counts: Vec<u64> = signals.periods.iter().map(|p| p.handoffs).collect();
        assert_eq!(counts, [1, 1, 0]);
        assert_eq!(signals.periods[2].first_day, d("2026-04-01"));
        assert_eq!(signals.periods[2].last_day, d("2026-06-30"));
    }

    #[test]
    fn a_gap_month_is_a_period_of_nulls_and_zeros() {
        let mut names = Names::default();
        let s = names.intern("S");
        let handoffs = [
            handoff("2026-01-05", 10, "S", "A"),
            handoff("2026-03-02", 16, "S", "A"),
        ];
        let events = [
            on(0, event("2026-01-06", EventKind::Accepted, s)),
            event("2026-01-07", EventKind::PartnerMeeting, s),
        ];
        let signals = compute(
            &indexed(&handoffs),
            &events,
            &names,
            &settings("2026-03-31", PeriodKind::Month),
        );
        assert_eq!(labels(&signals), ["2026-01", "2026-02", "2026-03"]);
        let february = &signals.periods[1];
        assert_eq!(
            *february,
            PeriodStats {
                period: "2026-02".into(),
                first_day: d("2026-02-01"),
                last_day: d("2026-02-28"),
                handoffs: 0,
                mean_score: None,
                responded_in_window: None,
                median_response_days: None,
                acted_share: None,
                unprompted_requests: 0,
                unprompted_mentions: 0,
                // Meetings count from the start of the data: S met once.
                repeat_meeting_rate: Some(0.0),
                healthy_disagreement_share: None,
            }
        );
        assert_eq!(signals.periods[0].mean_score, Some(10.0));
        assert_eq!(signals.periods[2].mean_score, Some(16.0));
    }

    #[test]
    fn activity_uses_the_earliest_response_and_the_handoffs_own_window() {
        let mut names = Names::default();
        let s = names.intern("S");
        let mut quick = handoff("2026-01-10", 10, "S", "A");
        quick.respond_within_days = Some(2);
        let handoffs = [
            handoff("2026-01-01", 10, "S", "A"),
            quick,
            handoff("2026-01-20", 10, "S", "A"),
            handoff("2026-01-02", 10, "S", "A"),
        ];
        let events = [
            on(0, event("2026-01-07", EventKind::Declined, s)),
            on(0, event("2026-01-06", EventKind::Accepted, s)),
            on(0, event("2026-01-08", EventKind::Acted, s)),
            on(1, event("2026-01-13", EventKind::Accepted, s)),
            on(2, event("2026-01-21", EventKind::Accepted, s)),
            on(2, event("2026-01-21", EventKind::Acted, s)),
        ];
        let signals = compute(
            &indexed(&handoffs),
            &events,
            &names,
            &settings("2026-01-24", PeriodKind::Month),
        );
        assert_eq!(
            signals.activity,
            [
                Activity {
                    due: true,
                    response_days: Some(5),
                    responded_in_window: true,
                    acted: true,
                    window_days: 5,
                },
                Activity {
                    due: true,
                    response_days: Some(3),
                    responded_in_window: false,
                    acted: false,
                    window_days: 2,
                },
                // 01-20 + 5 days is after as_of: not due yet.
                Activity {
                    due: false,
                    response_days: Some(1),
                    responded_in_window: true,
                    acted: true,
                    window_days: 5,
                },
                Activity {
                    due: true,
                    response_days: None,
                    responded_in_window: false,
                    acted: false,
                    window_days: 5,
                },
            ]
        );
        let january = &signals.periods[0];
        // Shares divide by the three due handoffs; the median takes every
        // handoff with a response (1, 3, 5), due or not.
        assert_eq!(january.responded_in_window, Some(1.0 / 3.0));
        assert_eq!(january.acted_share, Some(1.0 / 3.0));
        assert_eq!(january.median_response_days, Some(3.0));
    }

    #[test]
    fn due_is_date_plus_window_on_or_before_as_of() {
        let handoffs = [handoff("2026-01-10", 10, "S", "A")];
        let due = |as_of| {
            compute(
                &indexed(&handoffs),
                &[] as &[Event],
                &Names::default(),
                &settings(as_of, PeriodKind::Month),
            )
            .activity[0]
                .due
        };
        assert!(!due("2026-01-14"));
        assert!(due("2026-01-15"));
    }

    #[test]
    fn even_medians_average_the_middle_two() {
        let mut names = Names::default();
        let s = names.intern("S");
        let handoffs = [
            handoff("2026-01-01", 10, "S", "A"),
            handoff("2026-01-01", 10, "S", "A"),
            handoff("2026-01-01", 10, "S", "A"),
            handoff("2026-01-01", 10, "S", "A"),
            handoff("2026-02-01", 10, "S", "A"),
            handoff("2026-02-01", 10, "S", "A"),
        ];
        let events = [
            on(0, event("2026-01-11", EventKind::Accepted, s)),
            on(1, event("2026-01-02", EventKind::Accepted, s)),
            on(2, event("2026-01-05", EventKind::Declined, s)),
            on(3, event("2026-01-03", EventKind::Accepted, s)),
            on(4, event("2026-02-02", EventKind::Accepted, s)),
            on(5, event("2026-02-03", EventKind::Accepted, s)),
        ];
        let signals = compute(
            &indexed(&handoffs),
            &events,
            &names,
            &settings("2026-02-28", PeriodKind::Month),
        );
        // January: 10, 1, 4, 2 → (2 + 4) / 2; February: 1, 2.
        assert_eq!(signals.periods[0].median_response_days, Some(3.0));
        assert_eq!(signals.periods[1].median_response_days, Some(1.5));
    }

    #[test]
    fn unprompted_requests_need_a_prior_handoff_to_the_same_seller() {
        let mut names = Names::default();
        let s1 = names.intern("S1");
        let s2 = names.intern("S2");
        let a = names.intern("A");
        let b = names.intern("B");
        let handoffs = [handoff("2026-01-10", 10, "S1", "A")];
        let request = |date, seller, account| {
            event(date, EventKind::RequestedHelp, seller).with_account(Some(account))
        };
        let events = [
            // Before the handoff went out: unprompted.
            request("2026-01-05", s1, a),
            // On the handoff's date: prompted.
            request("2026-01-10", s1, a),
            request("2026-01-20", s1, a),
            // The account was handed to someone else: unprompted.
            request("2026-01-12", s2, a),
            request("2026-01-12", s1, b),
        ];
        let signals = compute(
            &indexed(&handoffs),
            &events,
            &names,
            &settings("2026-01-31", PeriodKind::Month),
        );
        assert_eq!(signals.periods[0].unprompted_requests, 3);
    }

    #[test]
    fn handoff_names_unknown_to_events_prompt_nothing() {
        let mut names = Names::default();
        let s = names.intern("S");
        let a = names.intern("A");
        let handoffs = [handoff("2026-01-01", 10, "Nobody", "A")];
        let events = [event("2026-01-02", EventKind::RequestedHelp, s).with_account(Some(a))];
        let signals = compute(
            &indexed(&handoffs),
            &events,
            &names,
            &settings("2026-01-31", PeriodKind::Month),
        );
        assert_eq!(signals.periods[0].unprompted_requests, 1);
    }

    #[test]
    fn mentions_and_disagreements() {
        let mut names = Names::default();
        let s = names.intern("S");
        let mention = |present| {
            let mut mention = event("2026-01-02", EventKind::PipelineMention, s);
            mention.partner_team_present = Some(present);
            mention
        };
        let disagreement = |date, about| {
            let mut disagreement = event(date, EventKind::Disagreement, s);
            disagreement.about = Some(about);
            disagreement
        };
        let events = [
            mention(false),
            mention(true),
            mention(false),
            disagreement("2026-01-03", About::Account),
            disagreement("2026-01-04", About::Partner),
            disagreement("2026-01-05", About::Value),
            disagreement("2026-03-05", About::Value),
        ];
        let signals = compute(
            &[],
            &events,
            &names,
            &settings("2026-03-31", PeriodKind::Month),
        );
        let [jan, feb, mar] = signals.periods.as_slice() else {
            panic!("three periods expected");
        };
        assert_eq!(jan.unprompted_mentions, 2);
        assert_eq!(jan.healthy_disagreement_share, Some(2.0 / 3.0));
        assert_eq!(feb.healthy_disagreement_share, None);
        assert_eq!(mar.healthy_disagreement_share, Some(0.0));
        assert_eq!(jan.handoffs, 0);
        assert_eq!(jan.mean_score, None);
    }

    #[test]
    fn repeat_meetings_are_cumulative_per_seller() {
        let mut names = Names::default();
        let s1 = names.intern("S1");
        let s2 = names.intern("S2");
        let s3 = names.intern("S3");
        let meeting = |date, seller| event(date, EventKind::PartnerMeeting, seller);
        let events = [
            event("2025-12-20", EventKind::Acted, s1),
            meeting("2026-02-03", s1),
            meeting("2026-01-05", s1),
            meeting("2026-01-20", s2),
            meeting("2026-03-01", s3),
            meeting("2026-03-01", s3),
        ];
        let signals = compute(
            &[],
            &events,
            &names,
            &settings("2026-03-31", PeriodKind::Month),
        );
        let rates: Vec<Option<f64>> = signals
            .periods
            .iter()
            .map(|p| p.repeat_meeting_rate)
            .collect();
        assert_eq!(
            rates,
            [None, Some(0.0), Some(0.5), Some(2.0 / 3.0)],
            "{:?}",
            labels(&signals)
        );
    }

    #[test]
    fn periods_end_at_as_of_whatever_the_data() {
        let mut names = Names::default();
        let s = names.intern("S");
        let handoffs = [
            handoff("2026-01-10", 10, "S", "A"),
            handoff("2026-05-10", 10, "S", "A"),
        ];
        let events = [event("2026-04-01", EventKind::PartnerMeeting, s)];
        // The caller leaves out what is after as_of; what slips through is
        // ignored rather than widening the periods.
        let signals = compute(
            &indexed(&handoffs[..1]),
            &events,
            &names,
            &settings("2026-03-15", PeriodKind::Month),
        );
        assert_eq!(labels(&signals), ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(signals.periods[2].repeat_meeting_rate, None);

        let later = compute(
            &indexed(&handoffs[..1]),
            &[] as &[Event],
            &names,
            &settings("2026-06-01", PeriodKind::Month),
        );
        assert_eq!(later.periods.len(), 6);
        assert_eq!(later.periods[5].period, "2026-06");
    }

    #[test]
    fn no_data_means_no_periods_and_unknown_everything() {
        let signals = compute(
            &[],
            &[] as &[Event],
            &Names::default(),
            &settings("2026-03-15", PeriodKind::Week),
        );
        assert_eq!(signals, compute_empty(0));
        assert!(signals.periods.is_empty());
        assert_eq!(signals.verdict, Verdict::Unknown);
        assert!(
            signals
                .directions
                .iter()
                .all(|&(_, direction)| direction == Direction::Unknown)
        );
        assert_eq!(signals.directions.len(), 8);
    }

    #[test]
    fn directions_keep_gaps_spaced() {
        // At x = 0, 1, 5 the slope is down; squeezed to 0, 1, 2 it would
        // be up.
        let values = [Some(0.0), Some(5.0), None, None, None, Some(1.0)];
        assert_eq!(direction(&values), Direction::Down);
        assert_eq!(direction(&[Some(0.0), Some(5.0), Some(1.0)]), Direction::Up);
        assert_eq!(
            direction(&[Some(1.0), None, Some(2.0), Some(3.0)]),
            Direction::Up
        );
        assert_eq!(
            direction(&[Some(3.0), Some(1.0), Some(2.0)]),
            Direction::Down
        );
    }

    #[test]
    fn flat_and_unknown_directions() {
        assert_eq!(direction(&[Some(2.0), None, Some(2.0)]), Direction::Flat);
        assert_eq!(direction(&[Some(1.0), Some(1.0 + 1e-12)]), Direction::Flat);
        assert_eq!(direction(&[None, Some(1.0), None]), Direction::Unknown);
        assert_eq!(direction(&[]), Direction::Unknown);
    }

    #[test]
    fn trends_use_only_the_last_window_periods() {
        let handoffs = [
            handoff("2026-01-10", 18, "S", "A"),
            handoff("2026-02-10", 12, "S", "A"),
            handoff("2026-03-10", 6, "S", "A"),
            handoff("2026-04-10", 8, "S", "A"),
            handoff("2026-06-10", 9, "S", "A"),
        ];
        let mut settings = settings("2026-06-30", PeriodKind::Month);
        let mean = |settings: &Settings| {
            compute(
                &indexed(&handoffs),
                &[] as &[Event],
                &Names::default(),
                settings,
            )
            .directions[0]
        };
        settings.trend_window = 6;
        assert_eq!(mean(&settings), (Field::MeanScore, Direction::Down));
        // 6, 8, null, 9.
        settings.trend_window = 4;
        assert_eq!(mean(&settings), (Field::MeanScore, Direction::Up));
        // null, 9: one value.
        settings.trend_window = 2;
        assert_eq!(mean(&settings), (Field::MeanScore, Direction::Unknown));
    }

    fn with(mean: Direction, signals: [Direction; 6]) -> Vec<(Field, Direction)> {
        let mut directions = vec![
            (Field::MeanScore, mean),
            (Field::MedianResponseDays, Direction::Down),
        ];
        directions.extend(Field::SIGNALS.into_iter().zip(signals));
        directions
    }

    #[test]
    fn verdicts() {
        use Direction::{Down, Flat, Unknown, Up};
        assert_eq!(
            verdict(&with(Up, [Up, Up, Down, Flat, Unknown, Unknown])),
            Verdict::Building
        );
        assert_eq!(
            verdict(&with(Up, [Up, Down, Flat, Flat, Flat, Flat])),
            Verdict::Mixed
        );
        assert_eq!(
            verdict(&with(Up, [Down, Down, Up, Flat, Flat, Flat])),
            Verdict::Mixed
        );
        assert_eq!(
            verdict(&with(Down, [Down, Flat, Flat, Flat, Flat, Flat])),
            Verdict::Burning
        );
        assert_eq!(
            verdict(&with(Down, [Up, Up, Down, Flat, Flat, Flat])),
            Verdict::Mixed
        );
        assert_eq!(
            verdict(&with(Flat, [Up, Up, Up, Up, Up, Up])),
            Verdict::Mixed
        );
        assert_eq!(
            verdict(&with(Unknown, [Up, Up, Up, Up, Up, Up])),
            Verdict::Unknown
        );
        // Median response days is not a behaviour signal.
        assert_eq!(verdict(&with(Down, [Flat; 6])), Verdict::Mixed);
    }

    #[test]
    fn a_building_site_end_to_end() {
        let mut names = Names::default();
        let s = names.intern("S");
        let handoffs = [
            handoff("2026-01-05", 8, "S", "A"),
            handoff("2026-02-05", 12, "S", "A"),
            handoff("2026-03-05", 16, "S", "A"),
        ];
        let events = [
            on(1, event("2026-02-06", EventKind::Accepted, s)),
            on(2, event("2026-03-06", EventKind::Accepted, s)),
            on(2, event("2026-03-07", EventKind::Acted, s)),
        ];
        let signals = compute(
            &indexed(&handoffs),
            &events,
            &names,
            &settings("2026-03-31", PeriodKind::Month),
        );
        let direction = |field| {
            signals
                .directions
                .iter()
                .find(|(f, _)| *f == field)
                .map(|&(_, d)| d)
        };
        assert_eq!(direction(Field::MeanScore), Some(Direction::Up));
        assert_eq!(direction(Field::RespondedInWindow), Some(Direction::Up));
        assert_eq!(direction(Field::ActedShare), Some(Direction::Up));
        assert_eq!(direction(Field::MedianResponseDays), Some(Direction::Flat));
        assert_eq!(direction(Field::UnpromptedRequests), Some(Direction::Flat));
        assert_eq!(
            direction(Field::RepeatMeetingRate),
            Some(Direction::Unknown)
        );
        assert_eq!(signals.verdict, Verdict::Building);
        assert_eq!(
            signals
                .directions
                .iter()
                .map(|(f, _)| *f)
                .collect::<Vec<_>>(),
            Field::ALL
        );
    }

    #[test]
    fn direction_words_and_meaning() {
        assert_eq!(Direction::Up.word(), "up");
        assert_eq!(Verdict::Burning.word(), "burning");
        assert_eq!(PeriodKind::Quarter.word(), "quarter");
        assert_eq!(
            Direction::Up.is_improvement(Field::MedianResponseDays),
            Some(false)
        );
        assert_eq!(
            Direction::Down.is_improvement(Field::MedianResponseDays),
            Some(true)
        );
        assert_eq!(Direction::Flat.is_improvement(Field::ActedShare), None);
    }

    /// Handoffs over five months, events starting a month before the
    /// first (so the periods do too), one handoff after as_of.
    fn scored_site(scores: [u32; 7]) -> (Vec<Handoff>, Vec<Event>, Names) {
        let mut names = Names::default();
        let s = names.intern("S");
        let a = names.intern("A");
        let dates = [
            "2026-02-03",
            "2026-02-20",
            "2026-03-09",
            "2026-04-15",
            "2026-04-16",
            "2026-06-01",
            "2026-08-01",
        ];
        let handoffs = dates
            .iter()
            .zip(scores)
            .map(|(date, score)| handoff(date, score, "S", "A"))
            .collect();
        let events = vec![
            event("2026-01-02", EventKind::PartnerMeeting, s),
            on(0, event("2026-02-04", EventKind::Accepted, s)),
            on(2, event("2026-03-20", EventKind::Declined, s)),
            on(3, event("2026-04-16", EventKind::Acted, s)),
            event("2026-05-02", EventKind::RequestedHelp, s).with_account(Some(a)),
        ];
        (handoffs, events, names)
    }

    #[test]
    fn rescoring_gives_what_computing_again_gives() {
        let before = [18, 2, 9, 12, 0, 7, 5];
        let afters = [
            [18, 2, 9, 12, 0, 7, 5],
            [0, 2, 9, 12, 0, 17, 5],
            [18, 18, 18, 18, 18, 18, 0],
            [0, 0, 0, 0, 0, 0, 18],
            [3, 2, 9, 12, 11, 7, 5],
        ];
        for period in [PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter] {
            let settings = Settings {
                trend_window: 4,
                ..settings("2026-06-30", period)
            };
            let (old, events, names) = scored_site(before);
            let mut signals = compute(&indexed(&old), &events, &names, &settings);
            for after in afters {
                let (new, ..) = scored_site(after);
                let fresh = compute(&indexed(&new), &events, &names, &settings);
                rescore(&mut signals, &indexed(&new), &settings);
                assert_eq!(signals, fresh, "{period:?} {after:?}");
            }
        }
    }

    /// What [`rescore`] rests on: with other scores, only the mean score,
    /// its direction and the verdict can differ.
    #[test]
    fn scores_feed_only_the_mean_score() {
        let settings = settings("2026-06-30", PeriodKind::Month);
        let (low, events, names) = scored_site([0; 7]);
        let (high, ..) = scored_site([18, 18, 18, 18, 18, 17, 0]);
        let mut low = compute(&indexed(&low), &events, &names, &settings);
        let high = compute(&indexed(&high), &events, &names, &settings);
        assert_ne!(low, high);
        for (low, high) in low.periods.iter_mut().zip(&high.periods) {
            low.mean_score = high.mean_score;
        }
        for (low, high) in low.directions.iter_mut().zip(&high.directions) {
            if low.0 == Field::MeanScore {
                low.1 = high.1;
            }
        }
        low.verdict = high.verdict;
        assert_eq!(low, high);
    }
}
