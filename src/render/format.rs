//! Numbers, dates and words as the pages show them. JSON keeps the raw
//! values; only display rounds.

use jiff::civil::Date;

use crate::score::signals::{Direction, Field, Verdict};

pub fn score(value: f64) -> String {
    super::chart::short_number(value)
}

pub fn share(value: f64) -> String {
    format!("{}%", (value * 100.0).round() as i64)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A trend period as the theme's `period` component shows it: "2026-04" is
/// "Apr 2026", "2026-Q2" is "Q2 2026"; ISO weeks ("2026-W14") have no
/// shorter common form and stay as they are, as does anything unexpected.
pub fn period(label: &str) -> String {
    let Some((year, part)) = label.split_once('-') else {
        return label.to_string();
    };
    let digits = part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    let month = part
        .parse::<usize>()
        .ok()
        .and_then(|month| month.checked_sub(1))
        .and_then(|month| MONTHS.get(month));
    match month {
        Some(month) if digits => format!("{month} {year}"),
        _ if matches!(part.as_bytes(), [b'Q', b'1'..=b'4']) => format!("{part} {year}"),
        _ => label.to_string(),
    }
}

/// Serialises `value`'s text as a string, formatted on the stack when it
/// fits: Tera's `collect_str` formats into a `String` of its own, then
/// copies it, and a scorecard's timeline has hundreds of dates and labels.
pub fn display<S: serde::Serializer>(
    serializer: S,
    value: &(impl std::fmt::Display + ?Sized),
) -> Result<S::Ok, S::Error> {
    use std::fmt::Write as _;
    let mut text = StackText {
        bytes: [0; 256],
        len: 0,
    };
    match write!(text, "{value}") {
        Ok(()) => match std::str::from_utf8(&text.bytes[..text.len]) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => serializer.collect_str(value),
        },
        // Too long for the stack.
        Err(_) => serializer.collect_str(value),
    }
}

struct StackText {
    bytes: [u8; 256],
    len: usize,
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let end = self.len + text.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

pub fn long_date(date: Date) -> String {
    LongDate(date).to_string()
}

/// "2 Oct 2026", written where it is needed: a scorecard's timeline has
/// dozens, and hashing a page's inputs should not allocate them.
#[derive(Debug, Clone, Copy)]
pub struct LongDate(pub Date);

impl std::fmt::Display for LongDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let date = self.0;
        let month = MONTHS[(date.month() - 1) as usize];
        write!(f, "{} {month} {}", date.day(), date.year())
    }
}

impl serde::Serialize for LongDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        display(serializer, self)
    }
}

/// A date that may be missing, serialised as [`IsoDate`] or `""`.
#[derive(Debug, Clone, Copy)]
pub struct MaybeIsoDate(pub Option<Date>);

impl serde::Serialize for MaybeIsoDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(date) => display(serializer, &date),
            None => serializer.serialize_str(""),
        }
    }
}

/// A date that may be missing, serialised as [`LongDate`] or `""`.
#[derive(Debug, Clone, Copy)]
pub struct MaybeLongDate(pub Option<Date>);

impl serde::Serialize for MaybeLongDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(date) => display(serializer, &LongDate(date)),
            None => serializer.serialize_str(""),
        }
    }
}

/// A site-relative folder URL, `{section}/{slug}/`, serialised as text.
#[derive(Debug, Clone, Copy)]
pub struct FolderUrl<'a> {
    pub section: &'static str,
    pub slug: &'a str,
}

impl serde::Serialize for FolderUrl<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        display(serializer, &format_args!("{}/{}/", self.section, self.slug))
    }
}

/// A raw number for templates (a `data-sort` attribute), serialised as an
/// integer when it is whole: Tera prints a whole `f64` with its `.0`
/// ("16.0"), while pages have always shown "16".
#[derive(Debug, Clone, Copy)]
pub struct RawNumber(pub f64);

impl serde::Serialize for RawNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Within ±2^53 every whole f64 is exactly an i64.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if self.0.fract() == 0.0 && self.0.abs() <= EXACT {
            serializer.serialize_i64(self.0 as i64)
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

/// "2026-10-02", serialised as text like [`LongDate`].
#[derive(Debug, Clone, Copy)]
pub struct IsoDate(pub Date);

impl serde::Serialize for IsoDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        display(serializer, &self.0)
    }
}

pub struct FieldText {
    pub title: &'static str,
    pub short: &'static str,
    pub explanation: &'static str,
    pub is_share: bool,
}

pub fn field_text(field: Field) -> FieldText {
    let (title, short, explanation, is_share) = match field {
        Field::MeanScore => (
            "Mean handoff score",
            "Handoff score",
            "The average score, out of 18, of the handoffs sent in each period: what partner marketing sends.",
            false,
        ),
        Field::RespondedInWindow => (
            "Answered within the window",
            "Answered in time",
            "Of the handoffs whose response window has closed, the share a seller accepted or declined in time. Silence counts against.",
            true,
        ),
        Field::MedianResponseDays => (
            "Median days to answer",
            "Days to answer",
            "The median number of days from a handoff landing to the seller accepting or declining it. Lower is better.",
            false,
        ),
        Field::ActedShare => (
            "Handoffs acted on",
            "Acted on",
            "Of the handoffs whose window has closed, the share where the seller took the next action.",
            true,
        ),
        Field::UnpromptedRequests => (
            "Unprompted requests for partner help",
            "Unprompted requests",
            "Times a seller asked for partner help on an account nobody had handed them.",
            false,
        ),
        Field::UnpromptedMentions => (
            "Partner influence raised without us",
            "Unprompted mentions",
            "Pipeline or forecast reviews where sellers raised partner influence with no partner marketer in the room.",
            false,
        ),
        Field::RepeatMeetingRate => (
            "Sellers back for a second partner meeting",
            "Repeat meetings",
            "Of the sellers who have taken a partner meeting so far, the share who took at least two.",
            true,
        ),
        Field::HealthyDisagreementShare => (
            "Disagreements about which, not whether",
            "Healthy disagreements",
            "Of the disagreements with sales, the share about which account or partner rather than whether handoffs are worth reading.",
            true,
        ),
    };
    FieldText {
        title,
        short,
        explanation,
        is_share,
    }
}

pub fn value(field: Field, value: Option<f64>) -> String {
    match value {
        None => "–".to_string(),
        Some(v) if field_text(field).is_share => share(v),
        Some(v) => score(v),
    }
}

pub fn direction_key(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "up",
        Direction::Down => "down",
        Direction::Flat => "flat",
        Direction::Unknown => "unknown",
    }
}

/// "good", "bad" or "neutral": how the site colours a direction.
pub fn direction_tone(field: Field, direction: Direction) -> &'static str {
    match (direction, field.higher_is_better()) {
        (Direction::Up, true) | (Direction::Down, false) => "good",
        (Direction::Down, true) | (Direction::Up, false) => "bad",
        _ => "neutral",
    }
}

pub fn direction_words(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "trending up",
        Direction::Down => "trending down",
        Direction::Flat => "holding flat",
        Direction::Unknown => "not enough data for a trend",
    }
}

pub fn verdict_key(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Building => "building",
        Verdict::Burning => "burning",
        Verdict::Mixed => "mixed",
        Verdict::Unknown => "unknown",
    }
}

pub fn verdict_sentence(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Building => {
            "Trust is building: the handoff score and seller behaviour are both trending up."
        }
        Verdict::Burning => {
            "Trust is burning: the handoff score and seller behaviour are both trending down."
        }
        Verdict::Mixed => {
            "Mixed signals: the handoff score and seller behaviour are not moving up together yet."
        }
        Verdict::Unknown => "Too little history to call a trend yet.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_rounding() {
        assert_eq!(score(11.666), "11.7");
        assert_eq!(score(12.0), "12");
        assert_eq!(share(0.666), "67%");
        assert_eq!(long_date(jiff::civil::date(2026, 10, 2)), "2 Oct 2026");
        assert_eq!(value(Field::ActedShare, None), "–");
    }

    #[test]
    fn periods_read_like_the_theme_shows_them() {
        assert_eq!(period("2026-04"), "Apr 2026");
        assert_eq!(period("2026-12"), "Dec 2026");
        assert_eq!(period("2026-Q2"), "Q2 2026");
        assert_eq!(period("2026-W14"), "2026-W14");
        for odd in [
            "2026-00", "2026-13", "2026-4", "2026-+4", "2026-Q5", "2026", "",
        ] {
            assert_eq!(period(odd), odd);
        }
    }
}
