//! Serialisable views of the model: what templates see.
//!
//! Every URL here is relative to the site root without a leading slash
//! ("handoffs/acme/"); templates prefix `root` so links work at any depth.

use serde::Serialize;
use serde_json::{Value, json};

use super::chart;
use super::format;
use crate::events::{About, Event, EventKind, Names};
use crate::model::{Card, Model, Rollup};
use crate::score::signals::{Field, Signals};
use crate::score::{Bands, Component};
use crate::site::Site;

#[derive(Serialize)]
pub struct HandoffSummary<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub date: format::MaybeIsoDate,
    pub date_long: format::MaybeLongDate,
    pub account: &'a str,
    pub partner: &'a str,
    pub seller: &'a str,
    pub owner: Option<&'a str>,
    pub score: u32,
    pub band: &'a str,
    pub band_slug: &'a str,
    pub url: format::FolderUrl<'a>,
    pub partner_url: format::FolderUrl<'a>,
    pub seller_url: format::FolderUrl<'a>,
    pub draft: bool,
    pub fixes: Vec<&'static str>,
    pub due: Option<bool>,
    pub response_days: Option<i64>,
    pub responded_in_window: Option<bool>,
    pub acted: Option<bool>,
    pub window_days: u32,
}

/// A handoff's summary as lists give it to templates: its fields in the
/// order of their names, as a summary serialised through JSON has them
/// (templates can iterate the map), with its rendered row among them when
/// given. Written in that order, it converts for Tera straight into one
/// map of the right size; converting the summary, sorting its keys and
/// adding the row rebuilt the map, hashing every key again, three times.
pub struct ListItem<'s, 'a> {
    pub summary: &'s HandoffSummary<'a>,
    pub row: Option<&'s tera::Value>,
}

impl Serialize for ListItem<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let s = self.summary;
        let mut map =
            serializer.serialize_struct("HandoffSummary", 21 + usize::from(self.row.is_some()))?;
        map.serialize_field("account", s.account)?;
        map.serialize_field("acted", &s.acted)?;
        map.serialize_field("band", s.band)?;
        map.serialize_field("band_slug", s.band_slug)?;
        map.serialize_field("date", &s.date)?;
        map.serialize_field("date_long", &s.date_long)?;
        map.serialize_field("draft", &s.draft)?;
        map.serialize_field("due", &s.due)?;
        map.serialize_field("fixes", &s.fixes)?;
        map.serialize_field("id", s.id)?;
        map.serialize_field("owner", &s.owner)?;
        map.serialize_field("partner", s.partner)?;
        map.serialize_field("partner_url", &s.partner_url)?;
        map.serialize_field("responded_in_window", &s.responded_in_window)?;
        map.serialize_field("response_days", &s.response_days)?;
        if let Some(row) = self.row {
            map.serialize_field("row", row)?;
        }
        map.serialize_field("score", &s.score)?;
        map.serialize_field("seller", s.seller)?;
        map.serialize_field("seller_url", &s.seller_url)?;
        map.serialize_field("title", s.title)?;
        map.serialize_field("url", &s.url)?;
        map.serialize_field("window_days", &s.window_days)?;
        map.end()
    }
}

pub fn summary<'a>(site: &'a Site, card: &'a Card) -> HandoffSummary<'a> {
    let brief = &site.briefs[card.brief];
    let handoff = &brief.handoff;
    let band = site.config.bands.get(card.band);
    let activity = card.activity;
    HandoffSummary {
        id: &handoff.id,
        title: &handoff.title,
        date: format::MaybeIsoDate(handoff.date),
        date_long: format::MaybeLongDate(handoff.date),
        account: &handoff.account,
        partner: &handoff.partner,
        seller: &handoff.seller,
        owner: handoff.owner.as_deref(),
        score: card.score,
        band: &band.name,
        band_slug: &band.slug,
        url: format::FolderUrl {
            section: "handoffs",
            slug: &handoff.id,
        },
        partner_url: format::FolderUrl {
            section: "partners",
            slug: &card.partner_slug,
        },
        seller_url: format::FolderUrl {
            section: "sellers",
            slug: &card.seller_slug,
        },
        draft: handoff.draft,
        fixes: card.fixes.iter().map(|f| f.key()).collect(),
        due: activity.map(|a| a.due),
        response_days: activity.and_then(|a| a.response_days),
        responded_in_window: activity.map(|a| a.responded_in_window),
        acted: activity.map(|a| a.acted),
        window_days: activity.map(|a| a.window_days).unwrap_or(
            handoff
                .respond_within_days
                .unwrap_or(site.config.response_window_days),
        ),
    }
}

pub fn summaries<'a>(site: &'a Site, model: &'a Model, cards: &[usize]) -> Vec<HandoffSummary<'a>> {
    cards
        .iter()
        .map(|&i| summary(site, &model.cards[i]))
        .collect()
}

/// The handoffs a page lists in a table, by position in [`Model::cards`]:
/// serialised as their summaries, made one at a time as they are written,
/// so a list whose items the dev server takes from its memo makes none.
pub struct Listed<'a> {
    site: &'a Site,
    model: &'a Model,
    pub cards: Vec<usize>,
}

impl<'a> Listed<'a> {
    pub fn new(site: &'a Site, model: &'a Model, cards: Vec<usize>) -> Listed<'a> {
        Listed { site, model, cards }
    }

    /// The summary of the card at `position`.
    pub fn summary(&self, position: usize) -> HandoffSummary<'a> {
        summary(self.site, &self.model.cards[position])
    }

    /// The handoff id of the card at `position`.
    pub fn id(&self, position: usize) -> &'a str {
        &self.site.briefs[self.model.cards[position].brief]
            .handoff
            .id
    }

    /// The cards, leaving none: the page without its list.
    pub fn take(&mut self) -> Listed<'a> {
        Listed {
            cards: std::mem::take(&mut self.cards),
            ..*self
        }
    }
}

impl Serialize for Listed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.cards.iter().map(|&position| self.summary(position)))
    }
}

/// Components weakest first, for the meeting view.
pub fn components(site: &Site, card: &Card) -> Vec<Value> {
    let brief = &site.briefs[card.brief];
    Component::ALL
        .iter()
        .map(|&component| {
            let grade = brief.handoff.grades.get(component);
            json!({
                "key": component.key(),
                "name": component.display_name(),
                "question": component.question(),
                "grade": grade.key(),
                "points": grade.points(),
                "note": brief.notes[component.index()],
            })
        })
        .collect()
}

pub fn fixes(card: &Card) -> Vec<Value> {
    card.fixes
        .iter()
        .map(|fix| json!({"key": fix.key(), "title": fix.title(), "advice": fix.advice()}))
        .collect()
}

/// One entry of a scorecard's timeline.
#[derive(Serialize)]
pub struct TimelineEntry<'a> {
    pub date: format::IsoDate,
    pub date_long: format::LongDate,
    pub kind: &'static str,
    pub label: TimelineLabel<'a>,
    pub in_window: Option<bool>,
    pub note: Option<&'a str>,
}

/// What a timeline entry says happened, written out when serialised.
pub struct TimelineLabel<'a> {
    event: &'a Event,
    names: &'a Names,
    /// Days from the handoff to the event, when the handoff has a date.
    days: Option<i64>,
    window: u32,
}

impl std::fmt::Display for TimelineLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let event = self.event;
        let seller = self.names.resolve(event.seller);
        let window = self.window;
        match event.kind {
            EventKind::Accepted | EventKind::Declined => {
                let verb = if event.kind == EventKind::Accepted {
                    "Accepted"
                } else {
                    "Declined"
                };
                match self.days {
                    Some(d) => write!(
                        f,
                        "{verb} by {seller} after {d} day{} (window: {window} day{})",
                        if d == 1 { "" } else { "s" },
                        if window == 1 { "" } else { "s" }
                    ),
                    None => write!(f, "{verb} by {seller}"),
                }
            }
            EventKind::Acted => write!(f, "{seller} took the next action"),
            _ => f.write_str(&event_label(event, self.names)),
        }
    }
}

impl Serialize for TimelineLabel<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        format::display(serializer, self)
    }
}

pub fn timeline<'a>(
    model: &Model,
    names: &'a Names,
    card: &Card,
    site: &'a Site,
) -> Vec<TimelineEntry<'a>> {
    let handoff = &site.briefs[card.brief].handoff;
    let start = handoff.date;
    let window = card.activity.map(|a| a.window_days).unwrap_or(0);
    card.events
        .iter()
        .map(|&i| {
            let event: &Event = &site.events.events[model.events[i] as usize];
            let days = start.map(|s| i64::from((event.date - s).get_days()));
            let in_window = match event.kind {
                EventKind::Accepted | EventKind::Declined => days.map(|d| d <= i64::from(window)),
                _ => None,
            };
            TimelineEntry {
                date: format::IsoDate(event.date),
                date_long: format::LongDate(event.date),
                kind: event.kind.key(),
                label: TimelineLabel {
                    event,
                    names,
                    days,
                    window,
                },
                in_window,
                note: site.events.note(event),
            }
        })
        .collect()
}

/// One graded component, as a scorecard lists them.
#[derive(Serialize)]
pub struct ComponentView<'a> {
    pub key: &'static str,
    pub name: &'static str,
    pub question: &'static str,
    pub grade: &'static str,
    pub points: u32,
    pub note: Option<&'a str>,
    /// Which component and grade, for sharing the converted values of
    /// components without notes.
    #[serde(skip)]
    pub component: Component,
    #[serde(skip)]
    pub graded: crate::score::Grade,
}

pub fn component_views<'a>(site: &'a Site, card: &Card) -> Vec<ComponentView<'a>> {
    let brief = &site.briefs[card.brief];
    Component::ALL
        .iter()
        .map(|&component| {
            let grade = brief.handoff.grades.get(component);
            ComponentView {
                key: component.key(),
                name: component.display_name(),
                question: component.question(),
                grade: grade.key(),
                points: grade.points(),
                note: brief.notes[component.index()].as_deref(),
                component,
                graded: grade,
            }
        })
        .collect()
}

#[derive(Serialize)]
pub struct FixView {
    pub key: &'static str,
    pub title: &'static str,
    pub advice: &'static str,
    /// Which fix, for sharing its converted values.
    #[serde(skip)]
    pub fix: crate::score::Fix,
}

/// Everything a scorecard page shows beyond the site-wide values.
#[derive(Serialize)]
pub struct Scorecard<'a> {
    pub handoff: HandoffSummary<'a>,
    pub band_summary: &'a str,
    pub components: Vec<ComponentView<'a>>,
    pub fixes: Vec<FixView>,
    pub timeline: Vec<TimelineEntry<'a>>,
    pub body: Body<'a>,
    pub extra: &'a Value,
}

/// A brief's body: its Markdown until the page is known to need
/// rendering (render keys hash the Markdown), then its HTML.
pub enum Body<'a> {
    Markdown(&'a crate::content::Brief),
    Html(String),
}

impl Body<'_> {
    /// The HTML, rendering the Markdown if that was not done yet.
    pub fn into_html(self) -> String {
        match self {
            Body::Markdown(brief) => brief.body_html(),
            Body::Html(html) => html,
        }
    }
}

impl Serialize for Body<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Markdown(brief) => serializer.serialize_newtype_variant(
                "Body",
                0,
                "markdown",
                &(&brief.body, brief.markdown.allow_html),
            ),
            Body::Html(html) => serializer.serialize_str(html),
        }
    }
}

pub fn scorecard<'a>(site: &'a Site, model: &Model, card: &'a Card) -> Scorecard<'a> {
    let brief = &site.briefs[card.brief];
    Scorecard {
        handoff: summary(site, card),
        band_summary: &site.config.bands.get(card.band).summary,
        components: component_views(site, card),
        fixes: card
            .fixes
            .iter()
            .map(|fix| FixView {
                key: fix.key(),
                title: fix.title(),
                advice: fix.advice(),
                fix: *fix,
            })
            .collect(),
        timeline: timeline(model, &site.events.names, card, site),
        body: Body::Markdown(brief),
        extra: &brief.extra,
    }
}

pub fn event_label(event: &Event, names: &Names) -> String {
    let seller = names.resolve(event.seller);
    let account = event
        .account()
        .map(|a| names.resolve(a))
        .unwrap_or("an account");
    let partner = event
        .partner()
        .map(|p| names.resolve(p))
        .unwrap_or("a partner");
    match event.kind {
        EventKind::Accepted => format!("{seller} accepted the handoff"),
        EventKind::Declined => format!("{seller} declined the handoff"),
        EventKind::Acted => format!("{seller} took the next action"),
        EventKind::RequestedHelp => format!("{seller} asked for partner help on {account}"),
        EventKind::PipelineMention => {
            let room = if event.partner_team_present == Some(false) {
                "without partner marketing in the room"
            } else {
                "with partner marketing present"
            };
            format!("{seller} raised partner influence on {account} in a pipeline review, {room}")
        }
        EventKind::PartnerMeeting => format!("{seller} met {partner}"),
        EventKind::Disagreement => {
            let about = match event.about {
                Some(About::Account) => "which account",
                Some(About::Partner) => "which partner",
                Some(About::Value) | None => "whether handoffs are worth reading",
            };
            format!("{seller} disagreed about {about}")
        }
    }
}

pub fn current(model_current: Option<&crate::score::Current>, bands: &Bands) -> Value {
    match model_current {
        None => Value::Null,
        Some(current) => {
            let band = bands.get(current.band);
            json!({
                "score": format::score(current.score),
                "value": format::RawNumber(current.score),
                "band": band.name,
                "band_slug": band.slug,
                "band_summary": band.summary,
                "count": current.handoffs.len(),
            })
        }
    }
}

/// One entry per field: label, latest value, direction, tone, sparkline.
pub fn signal_rows(signals: &Signals, fields: &[Field]) -> Vec<Value> {
    fields
        .iter()
        .map(|&field| {
            let text = format::field_text(field);
            let direction = signals
                .directions
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, d)| *d)
                .unwrap_or(crate::score::signals::Direction::Unknown);
            let values: Vec<Option<f64>> = signals.periods.iter().map(|p| field.value(p)).collect();
            let latest = signals
                .periods
                .iter()
                .rev()
                .find_map(|p| field.value(p).map(|v| (p.period.clone(), v)));
            json!({
                "key": field.key(),
                "title": text.title,
                "short": text.short,
                "explanation": text.explanation,
                "direction": format::direction_key(direction),
                "direction_words": format::direction_words(direction),
                "tone": format::direction_tone(field, direction),
                "latest": latest.as_ref().map(|(_, v)| format::value(field, Some(*v))),
                "latest_period": latest.map(|(p, _)| p),
                "sparkline": chart::sparkline(&values, text.is_share),
                "url": format!("trends/{}/", field.key()),
            })
        })
        .collect()
}

pub fn verdict(signals: &Signals) -> Value {
    json!({
        "key": format::verdict_key(signals.verdict),
        "sentence": format::verdict_sentence(signals.verdict),
    })
}

/// A partner's or seller's page.
#[derive(Serialize)]
pub struct RollupView<'a> {
    pub kind: &'static str,
    pub name: &'a str,
    pub slug: &'a str,
    pub url: String,
    pub count: usize,
    pub current: Value,
    pub handoffs: Listed<'a>,
    pub signals: Vec<Value>,
    pub verdict: Value,
}

pub fn rollup<'a>(
    site: &'a Site,
    model: &'a Model,
    rollup: &'a Rollup,
    kind: &'static str,
) -> RollupView<'a> {
    let latest_cards: Vec<usize> = rollup.cards.iter().rev().copied().collect();
    RollupView {
        kind,
        name: &rollup.name,
        slug: &rollup.slug,
        url: format!("{kind}s/{}/", rollup.slug),
        count: rollup.cards.len(),
        current: current(rollup.current.as_ref(), &site.config.bands),
        handoffs: Listed::new(site, model, latest_cards),
        signals: signal_rows(&rollup.signals, &Field::ALL),
        verdict: verdict(&rollup.signals),
    }
}
