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
    pub date: String,
    pub date_long: String,
    pub account: &'a str,
    pub partner: &'a str,
    pub seller: &'a str,
    pub owner: Option<&'a str>,
    pub score: u32,
    pub band: &'a str,
    pub band_slug: &'a str,
    pub url: String,
    pub partner_url: String,
    pub seller_url: String,
    pub draft: bool,
    pub fixes: Vec<&'static str>,
    pub due: Option<bool>,
    pub response_days: Option<i64>,
    pub responded_in_window: Option<bool>,
    pub acted: Option<bool>,
    pub window_days: u32,
}

pub fn summary<'a>(site: &'a Site, card: &Card) -> HandoffSummary<'a> {
    let brief = &site.briefs[card.brief];
    let handoff = &brief.handoff;
    let band = site.config.bands.get(card.band);
    let activity = card.activity;
    HandoffSummary {
        id: &handoff.id,
        title: &handoff.title,
        date: handoff.date.map(|d| d.to_string()).unwrap_or_default(),
        date_long: handoff.date.map(format::long_date).unwrap_or_default(),
        account: &handoff.account,
        partner: &handoff.partner,
        seller: &handoff.seller,
        owner: handoff.owner.as_deref(),
        score: card.score,
        band: &band.name,
        band_slug: &band.slug,
        url: format!("handoffs/{}/", handoff.id),
        partner_url: format!("partners/{}/", card.partner_slug),
        seller_url: format!("sellers/{}/", card.seller_slug),
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

pub fn summaries<'a>(site: &'a Site, model: &Model, cards: &[usize]) -> Vec<HandoffSummary<'a>> {
    cards
        .iter()
        .map(|&i| summary(site, &model.cards[i]))
        .collect()
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

pub fn timeline(model: &Model, names: &Names, card: &Card, site: &Site) -> Vec<Value> {
    let handoff = &site.briefs[card.brief].handoff;
    let start = handoff.date;
    card.events
        .iter()
        .map(|&i| {
            let event: &Event = &site.events.events[model.events[i] as usize];
            let days = start.map(|s| i64::from((event.date - s).get_days()));
            let window = card.activity.map(|a| a.window_days).unwrap_or(0);
            let seller = names.resolve(event.seller);
            let label = match event.kind {
                EventKind::Accepted | EventKind::Declined => {
                    let verb = if event.kind == EventKind::Accepted {
                        "Accepted"
                    } else {
                        "Declined"
                    };
                    match days {
                        Some(d) => format!(
                            "{verb} by {seller} after {d} day{} (window: {window} day{})",
                            if d == 1 { "" } else { "s" },
                            if window == 1 { "" } else { "s" }
                        ),
                        None => format!("{verb} by {seller}"),
                    }
                }
                EventKind::Acted => format!("{seller} took the next action"),
                _ => event_label(event, names),
            };
            let in_window = match event.kind {
                EventKind::Accepted | EventKind::Declined => days.map(|d| d <= i64::from(window)),
                _ => None,
            };
            json!({
                "date": event.date.to_string(),
                "date_long": format::long_date(event.date),
                "kind": event.kind.key(),
                "label": label,
                "in_window": in_window,
                "note": event.note.as_deref(),
            })
        })
        .collect()
}

pub fn event_label(event: &Event, names: &Names) -> String {
    let seller = names.resolve(event.seller);
    let account = event
        .account
        .map(|a| names.resolve(a))
        .unwrap_or("an account");
    let partner = event
        .partner
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
                "value": current.score,
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

pub fn rollup(site: &Site, model: &Model, rollup: &Rollup, kind: &str) -> Value {
    let latest_cards: Vec<usize> = rollup.cards.iter().rev().copied().collect();
    json!({
        "kind": kind,
        "name": rollup.name,
        "slug": rollup.slug,
        "url": format!("{kind}s/{}/", rollup.slug),
        "count": rollup.cards.len(),
        "current": current(rollup.current.as_ref(), &site.config.bands),
        "handoffs": summaries(site, model, &latest_cards),
        "signals": signal_rows(&rollup.signals, &Field::ALL),
        "verdict": verdict(&rollup.signals),
    })
}
