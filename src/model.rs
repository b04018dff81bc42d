//! Everything computed from a loaded site, ready to render: which handoffs
//! count, their scores and activity, the current score, bands, rollups and
//! the signals over time.

mod regrade;

pub use regrade::regrade;

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use jiff::civil::Date;

use crate::config::Config;
use crate::events::{Event, EventKind, NameId, Names};
use crate::score::signals::{self, Settings, Signals};
use crate::score::{self, Bands, Current, Fix, Grade};
use crate::site::Site;

#[derive(Debug, Clone, Copy, Default)]
pub struct ModelOptions {
    pub as_of: Option<Date>,
    pub include_drafts: bool,
}

/// One handoff as the site shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Index into [`Site::briefs`].
    pub brief: usize,
    pub score: u32,
    /// Index into the config's bands.
    pub band: usize,
    pub fixes: Vec<Fix>,
    /// `None` for drafts, which have no activity.
    pub activity: Option<signals::Activity>,
    /// Indices into [`Model::events`] about this handoff, by date.
    pub events: Vec<usize>,
    pub partner_slug: String,
    pub seller_slug: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    pub name: String,
    pub slug: String,
    /// Indices into [`Model::cards`], date ascending.
    pub cards: Vec<usize>,
    pub current: Option<Current>,
    pub signals: Signals,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BandSummary {
    pub band: usize,
    /// Indices into [`Model::cards`].
    pub cards: Vec<usize>,
    /// Per component, the share of the band's handoffs graded strong, weak
    /// and missing; `None` when the band is empty.
    pub shares: Vec<Option<[f64; 3]>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub as_of: Option<Date>,
    /// Sent handoffs on or before as_of, date ascending then id.
    pub cards: Vec<Card>,
    /// Draft scorecards, only with `--drafts`.
    pub drafts: Vec<Card>,
    /// `Current::handoffs` holds indices into `cards`.
    pub current: Option<Current>,
    /// Indices into the site's events of those that count: no drafts,
    /// nothing after as_of; date order.
    pub events: Vec<u32>,
    pub signals: Signals,
    pub bands: Vec<BandSummary>,
    pub partners: Vec<Rollup>,
    pub sellers: Vec<Rollup>,
}

/// as_of: the override, else the latest date among sent handoffs and the
/// events that remain once drafts are removed.
fn as_of(site: &Site, drafts: &[bool], options: &ModelOptions) -> Option<Date> {
    if let Some(date) = options.as_of.or(site.config.as_of) {
        return Some(date);
    }
    let handoffs = site
        .briefs
        .iter()
        .filter(|b| !b.handoff.draft)
        .filter_map(|b| b.handoff.date);
    let events = site
        .events
        .events
        .par_iter()
        .filter(|e| !names_draft(drafts, e))
        .map(|e| e.date)
        .max();
    handoffs.max().max(events)
}

/// Per brief, whether it is a draft: a table of its own, because every
/// event is checked against it and the briefs themselves are too large to
/// stay in the cache.
fn draft_briefs(site: &Site) -> Vec<bool> {
    site.briefs.iter().map(|b| b.handoff.draft).collect()
}

fn names_draft(drafts: &[bool], event: &Event) -> bool {
    event
        .handoff()
        .is_some_and(|index| drafts.get(index as usize).copied().unwrap_or(false))
}

/// Assigns URL slugs to names in sorted order; a later name whose slug is
/// taken gets `-2`, `-3`, … so distinct names never share a page.
pub fn assign_slugs<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, String> {
    let sorted: std::collections::BTreeSet<&str> = names.into_iter().collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut slugs = BTreeMap::new();
    for name in sorted {
        let mut base = slug::slugify(name);
        if base.is_empty() {
            base = "unnamed".into();
        }
        let mut candidate = base.clone();
        let mut n = 2;
        while used.contains(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        used.insert(candidate.clone());
        slugs.insert(name, candidate);
    }
    slugs
}

/// How [`Model::compute`] sees a handoff change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputChange {
    /// Only what pages show and the model does not read: the title, the
    /// owner.
    None,
    /// The grades, and nothing else the model reads: [`regrade`] can
    /// bring the model up to date.
    Grades,
    /// Anything else: its place, events or rollups may move.
    Other,
}

/// Whether [`Model::compute`] sees the two handoffs as the same.
pub fn same_model_inputs(a: &score::Handoff, b: &score::Handoff) -> bool {
    input_change(a, b) == InputChange::None
}

/// What changed from `a` to `b` for [`Model::compute`], which reads every
/// field but the title and the owner. The fields are listed whole, so a
/// new one cannot be forgotten here.
pub fn input_change(a: &score::Handoff, b: &score::Handoff) -> InputChange {
    let score::Handoff {
        id,
        title: _,
        date,
        account,
        partner,
        seller,
        owner: _,
        draft,
        respond_within_days,
        grades,
    } = a;
    let placed = *id == b.id
        && *date == b.date
        && *account == b.account
        && *partner == b.partner
        && *seller == b.seller
        && *draft == b.draft
        && *respond_within_days == b.respond_within_days;
    match (placed, *grades == b.grades) {
        (false, _) => InputChange::Other,
        (true, false) => InputChange::Grades,
        (true, true) => InputChange::None,
    }
}

/// What a card's brief's grades decide of it: its score, band and fixes.
fn grade(card: &mut Card, handoff: &score::Handoff, bands: &Bands) {
    card.score = handoff.score();
    card.band = bands.index_for(f64::from(card.score));
    card.fixes = score::fixes(&handoff.grades);
}

/// How signals are computed on a site whose data ends at `as_of`; `None`
/// without data.
fn signal_settings(config: &Config, as_of: Option<Date>) -> Option<Settings> {
    as_of.map(|as_of| Settings {
        as_of,
        period: config.trend_period,
        trend_window: config.trend_window,
        default_window_days: config.response_window_days,
    })
}

/// The handoffs of `members` (indices into `cards`), with their brief
/// indices, as signals take them.
fn handoffs_of<'a>(
    site: &'a Site,
    cards: &[Card],
    members: &[usize],
) -> Vec<(u32, &'a score::Handoff)> {
    members
        .iter()
        .map(|&i| (cards[i].brief as u32, &site.briefs[cards[i].brief].handoff))
        .collect()
}

/// The current score of `members` (indices into `cards`).
fn current_of(
    site: &Site,
    cards: &[Card],
    members: impl Iterator<Item = usize>,
    bands: &Bands,
) -> Option<Current> {
    score::current(
        members.map(|i| (i, &site.briefs[cards[i].brief].handoff)),
        bands,
    )
}

/// Per band, its cards and how their components were graded: one pass
/// over the cards, each brief's grades read once.
fn band_summaries(site: &Site, cards: &[Card], bands: &Bands) -> Vec<BandSummary> {
    const COMPONENTS: usize = score::Component::ALL.len();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); bands.len()];
    let mut counts = vec![[[0usize; 3]; COMPONENTS]; bands.len()];
    for (i, card) in cards.iter().enumerate() {
        let (Some(band), Some(counts)) = (members.get_mut(card.band), counts.get_mut(card.band))
        else {
            continue;
        };
        band.push(i);
        let grades = &site.briefs[card.brief].handoff.grades;
        for (component, counts) in score::Component::ALL.iter().zip(counts) {
            let grade = grades.get(*component);
            let slot = Grade::ALL.iter().position(|g| *g == grade).unwrap_or(2);
            counts[slot] += 1;
        }
    }
    members
        .into_iter()
        .zip(counts)
        .enumerate()
        .map(|(band, (members, counts))| {
            let total = members.len() as f64;
            let shares = counts
                .iter()
                .map(|counts| (!members.is_empty()).then(|| counts.map(|c| c as f64 / total)))
                .collect();
            BandSummary {
                band,
                cards: members,
                shares,
            }
        })
        .collect()
}

impl Model {
    pub fn compute(site: &Site, options: &ModelOptions) -> Model {
        let laps = crate::site::Laps::new();
        let config = &site.config;
        let bands = &config.bands;
        let drafts = draft_briefs(site);
        let as_of = as_of(site, &drafts, options);
        let in_range = |date: Option<Date>| match (date, as_of) {
            (Some(date), Some(as_of)) => date <= as_of,
            _ => false,
        };

        let mut sent: Vec<usize> = (0..site.briefs.len())
            .filter(|&i| {
                let h = &site.briefs[i].handoff;
                !h.draft && in_range(h.date)
            })
            .collect();
        sent.sort_by(|&a, &b| {
            let (a, b) = (&site.briefs[a].handoff, &site.briefs[b].handoff);
            a.date.cmp(&b.date).then_with(|| a.id.cmp(&b.id))
        });

        let all_events = &site.events.events;
        let mut event_ids: Vec<u32> = (0..all_events.len() as u32)
            .into_par_iter()
            .filter(|&i| {
                let e = &all_events[i as usize];
                !names_draft(&drafts, e) && as_of.is_some_and(|as_of| e.date <= as_of)
            })
            .collect();
        event_ids.sort_by_key(|&i| all_events[i as usize].date);
        let events: Vec<&Event> = event_ids.iter().map(|&i| &all_events[i as usize]).collect();

        laps.lap("model: events in date order");
        let partner_slugs = assign_slugs(site.briefs.iter().map(|b| b.handoff.partner.as_str()));
        let seller_slugs = assign_slugs(site.briefs.iter().map(|b| b.handoff.seller.as_str()));

        let settings = signal_settings(config, as_of);
        let names = &site.events.names;

        let sent_handoffs: Vec<(u32, &score::Handoff)> = sent
            .iter()
            .map(|&i| (i as u32, &site.briefs[i].handoff))
            .collect();
        // The site's signals, the timelines and the events grouped by rollup
        // each take a pass over every event: side by side, they overlap.
        let (site_signals, (mut events_by_brief, (by_seller, by_partner))) = rayon::join(
            || signals_of(settings.as_ref(), &sent_handoffs, &events, names),
            || {
                rayon::join(
                    || timelines(site, &sent, &events),
                    || {
                        rayon::join(
                            || events_by_seller(site, &events),
                            || events_by_partner(site, &events),
                        )
                    },
                )
            },
        );
        laps.lap("model: site signals, timelines, rollup events");

        let make_card = |brief: usize, activity: Option<signals::Activity>, events: Vec<usize>| {
            let handoff = &site.briefs[brief].handoff;
            let mut card = Card {
                brief,
                score: 0,
                band: 0,
                fixes: Vec::new(),
                activity,
                events,
                partner_slug: partner_slugs
                    .get(handoff.partner.as_str())
                    .cloned()
                    .unwrap_or_default(),
                seller_slug: seller_slugs
                    .get(handoff.seller.as_str())
                    .cloned()
                    .unwrap_or_default(),
            };
            grade(&mut card, handoff, bands);
            card
        };
        let cards: Vec<Card> = sent
            .iter()
            .enumerate()
            .map(|(position, &brief)| {
                let events = std::mem::take(&mut events_by_brief[brief]);
                make_card(brief, site_signals.activity.get(position).copied(), events)
            })
            .collect();
        let drafts: Vec<Card> = if options.include_drafts {
            (0..site.briefs.len())
                .filter(|&i| site.briefs[i].handoff.draft)
                .map(|brief| make_card(brief, None, Vec::new()))
                .collect()
        } else {
            Vec::new()
        };

        let current = current_of(site, &cards, 0..cards.len(), bands);
        let band_summaries = band_summaries(site, &cards, bands);

        laps.lap("model: cards");
        // Rollups are independent of each other: computed in parallel.
        let rollups = |key: fn(&score::Handoff) -> &str,
                       slugs: &BTreeMap<&str, String>,
                       grouped: &Grouped| {
            let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, card) in cards.iter().enumerate() {
                groups
                    .entry(key(&site.briefs[card.brief].handoff))
                    .or_default()
                    .push(i);
            }
            let groups: Vec<(&str, Vec<usize>)> = groups.into_iter().collect();
            groups
                .into_par_iter()
                .map(|(name, members)| {
                    let handoffs = handoffs_of(site, &cards, &members);
                    let own_events = names.get(name).map_or(&[][..], |id| grouped.events(id));
                    Rollup {
                        name: name.to_string(),
                        slug: slugs.get(name).cloned().unwrap_or_default(),
                        current: current_of(site, &cards, members.iter().copied(), bands),
                        signals: signals_of(settings.as_ref(), &handoffs, own_events, names),
                        cards: members,
                    }
                })
                .collect::<Vec<_>>()
        };
        let (partners, sellers) = rayon::join(
            || rollups(|h| h.partner.as_str(), &partner_slugs, &by_partner),
            || rollups(|h| h.seller.as_str(), &seller_slugs, &by_seller),
        );
        laps.lap("model: rollups");

        Model {
            as_of,
            cards,
            drafts,
            current,
            events: event_ids,
            signals: site_signals,
            bands: band_summaries,
            partners,
            sellers,
        }
    }
}

/// Per brief, its scorecard's timeline (indices into `events`): the
/// events naming the handoff, and the seller's partner meetings on the
/// same account from its date on. `sent` are the briefs with cards.
fn timelines(site: &Site, sent: &[usize], events: &[&Event]) -> Vec<Vec<usize>> {
    let names = &site.events.names;
    let mut by_seller_account: FxHashMap<(u32, u32), Vec<u32>> = FxHashMap::default();
    for &brief in sent {
        let handoff = &site.briefs[brief].handoff;
        if let (Some(seller), Some(account)) =
            (names.get(&handoff.seller), names.get(&handoff.account))
        {
            by_seller_account
                .entry((seller, account))
                .or_default()
                .push(brief as u32);
        }
    }
    let mut events_by_brief: Vec<Vec<usize>> = vec![Vec::new(); site.briefs.len()];
    for (index, event) in events.iter().enumerate() {
        if let Some(brief) = event.handoff() {
            events_by_brief[brief as usize].push(index);
        } else if event.kind == EventKind::PartnerMeeting
            && let Some(account) = event.account()
            && let Some(briefs) = by_seller_account.get(&(event.seller, account))
        {
            for &brief in briefs {
                if site.briefs[brief as usize]
                    .handoff
                    .date
                    .is_some_and(|date| date <= event.date)
                {
                    events_by_brief[brief as usize].push(index);
                }
            }
        }
    }
    events_by_brief
}

/// The signals of `handoffs` and `events`, or none at all for a site with
/// no data (no as_of).
fn signals_of<E: Borrow<Event>>(
    settings: Option<&Settings>,
    handoffs: &[(u32, &score::Handoff)],
    events: &[E],
    names: &Names,
) -> Signals {
    match settings {
        Some(settings) => signals::compute(handoffs, events, names, settings),
        None => signals::compute_empty(handoffs.len()),
    }
}

/// Events that count, under the name id of a seller or a partner that
/// heads a rollup. Copies, not references: a rollup's events lie scattered
/// through the whole log and its signals read them three times, so reading
/// them in place waited on a cache miss per event (~60 ms of CPU on 10k
/// briefs and 1M events), more than copying them costs.
struct Grouped {
    /// Name id → index into `groups`; `u32::MAX` for a name that heads no
    /// rollup. Dense: a hash lookup per event was most of the grouping's
    /// time, and one table per site is as long as the names, no more.
    slot: Vec<u32>,
    groups: Vec<Vec<Event>>,
}

impl Grouped {
    /// `events` under each of `heads` that `keys` names them by, in their
    /// order. Counted first, so each group is allocated once at its size.
    fn new<K>(
        names: &Names,
        heads: impl Iterator<Item = NameId>,
        events: &[&Event],
        keys: K,
    ) -> Grouped
    where
        K: Fn(&Event) -> [Option<NameId>; 2],
    {
        let mut slot = vec![u32::MAX; names.len()];
        let mut count = 0u32;
        for head in heads {
            if let Some(free) = slot
                .get_mut(head as usize)
                .filter(|free| **free == u32::MAX)
            {
                *free = count;
                count += 1;
            }
        }
        let slot_of = |id: NameId| slot.get(id as usize).copied().filter(|&at| at != u32::MAX);
        let mut sizes = vec![0usize; count as usize];
        for event in events {
            for at in keys(event).into_iter().flatten().filter_map(slot_of) {
                sizes[at as usize] += 1;
            }
        }
        let mut groups: Vec<Vec<Event>> = sizes.into_iter().map(Vec::with_capacity).collect();
        for &&event in events {
            for at in keys(&event).into_iter().flatten().filter_map(slot_of) {
                groups[at as usize].push(event);
            }
        }
        Grouped { slot, groups }
    }

    fn events(&self, id: NameId) -> &[Event] {
        self.slot
            .get(id as usize)
            .and_then(|&at| self.groups.get(at as usize))
            .map_or(&[], Vec::as_slice)
    }
}

/// `events` under their seller, for the sellers of `site`'s briefs.
fn events_by_seller(site: &Site, events: &[&Event]) -> Grouped {
    let names = &site.events.names;
    let heads = site
        .briefs
        .iter()
        .filter_map(|b| names.get(&b.handoff.seller));
    Grouped::new(names, heads, events, |event| [Some(event.seller), None])
}

/// `events` under their partner, by name or through their handoff (under
/// both when the two differ), for the partners of `site`'s briefs.
fn events_by_partner(site: &Site, events: &[&Event]) -> Grouped {
    let names = &site.events.names;
    let brief_partner: Vec<Option<NameId>> = site
        .briefs
        .iter()
        .map(|b| names.get(&b.handoff.partner))
        .collect();
    let heads = brief_partner.iter().flatten().copied();
    Grouped::new(names, heads, events, |event| {
        let via_handoff = event.handoff().and_then(|b| brief_partner[b as usize]);
        let by_name = event.partner();
        match (by_name, via_handoff) {
            (Some(a), Some(b)) if a != b => [Some(a), Some(b)],
            _ => [by_name.or(via_handoff), None],
        }
    })
}

/// Kinds of event that belong on a handoff's timeline.
pub fn is_timeline_event(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Accepted | EventKind::Declined | EventKind::Acted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_slugs_get_numbered_in_sorted_order() {
        let slugs = assign_slugs(["Zoë", "Zoe", "zoe", "Other"]);
        assert_eq!(slugs["Other"], "other");
        assert_eq!(slugs["Zoe"], "zoe");
        // Byte order: "Zoe" < "Zoë" < "zoe".
        assert_eq!(slugs["Zoë"], "zoe-2");
        assert_eq!(slugs["zoe"], "zoe-3");
    }

    #[test]
    fn titles_and_owners_are_not_model_inputs() {
        let handoff = score::Handoff {
            id: "a".into(),
            title: "A".into(),
            date: Some(jiff::civil::date(2026, 5, 1)),
            account: "Acct".into(),
            partner: "Partner".into(),
            seller: "Seller".into(),
            owner: None,
            draft: false,
            respond_within_days: None,
            grades: score::Grades([Grade::Weak; 9]),
        };
        let with = |change: fn(&mut score::Handoff)| {
            let mut changed = handoff.clone();
            change(&mut changed);
            same_model_inputs(&handoff, &changed)
        };
        assert!(with(|h| h.title = "B".into()));
        assert!(with(|h| h.owner = Some("O".into())));
        assert!(!with(|h| h.id = "b".into()));
        assert!(!with(|h| h.date = None));
        assert!(!with(|h| h.account = "B".into()));
        assert!(!with(|h| h.partner = "B".into()));
        assert!(!with(|h| h.seller = "B".into()));
        assert!(!with(|h| h.draft = true));
        assert!(!with(|h| h.respond_within_days = Some(3)));
        assert!(!with(|h| h.grades.0[8] = Grade::Strong));
        let change = |change: fn(&mut score::Handoff)| {
            let mut changed = handoff.clone();
            change(&mut changed);
            input_change(&handoff, &changed)
        };
        assert_eq!(change(|h| h.title = "B".into()), InputChange::None);
        assert_eq!(
            change(|h| h.grades.0[8] = Grade::Strong),
            InputChange::Grades
        );
        assert_eq!(
            change(|h| {
                h.grades.0[8] = Grade::Strong;
                h.date = None;
            }),
            InputChange::Other
        );
        assert_eq!(change(|h| h.seller = "B".into()), InputChange::Other);
    }
}
