//! A model brought up to date after an edit that changed only grades.
//!
//! Grades feed a card's score, band and fixes, the band summaries, the
//! current scores and each mean-score series (with its direction and the
//! verdict); nothing else in the model reads them. Which handoffs count,
//! their order, slugs, activity, timelines, rollup membership and every
//! other signal come from dates, names, windows and events. So after such
//! an edit the serve session redoes only the parts grades feed, for the
//! site and for the rollups holding a regraded card, in O(handoffs) with
//! no pass over the events: on a 10,000-brief site with a million events
//! that is a few milliseconds where [`Model::compute`] takes ~200.

use super::{Card, Model, band_summaries, current_of, grade, handoffs_of, signal_settings};
use crate::score::{Current, signals};
use crate::site::Site;

/// Brings `model`, computed by [`Model::compute`] with the same options
/// from a site that differed from `site` only in the grades of the briefs
/// at `briefs` (same config and event log; every other field of every
/// brief the same, see [`super::input_change`]), up to date with `site`:
/// afterwards it equals what `Model::compute` gives on `site`.
///
/// Returns the positions in [`Model::cards`] of the regraded cards; when
/// there are none (the briefs are drafts, or dated after as_of), nothing
/// but draft cards changed.
pub fn regrade(model: &mut Model, site: &Site, briefs: &[usize]) -> Vec<usize> {
    let bands = &site.config.bands;
    let mut regraded = vec![false; site.briefs.len()];
    for &brief in briefs {
        if let Some(slot) = regraded.get_mut(brief) {
            *slot = true;
        }
    }
    let regrade_card = |card: &mut Card| {
        let changed = regraded.get(card.brief) == Some(&true);
        if changed {
            grade(card, &site.briefs[card.brief].handoff, bands);
        }
        changed
    };
    for card in &mut model.drafts {
        regrade_card(card);
    }
    let changed: Vec<bool> = model.cards.iter_mut().map(regrade_card).collect();
    let positions: Vec<usize> = (0..changed.len()).filter(|&i| changed[i]).collect();
    if positions.is_empty() {
        return positions;
    }

    let cards = &model.cards;
    let is_changed = |i: &usize| changed.get(*i) == Some(&true);
    // The handoffs a current score averages are the latest by date, which
    // grades do not move: only their mean is redone, and only when it
    // takes in a regraded one.
    let rescore_current = |current: &mut Option<Current>| {
        if let Some(now) = current
            && now.handoffs.iter().any(is_changed)
        {
            *current = current_of(site, cards, now.handoffs.iter().copied(), bands);
        }
    };
    rescore_current(&mut model.current);
    model.bands = band_summaries(site, cards, bands);
    // Cards mean a date on or before as_of, so there are settings.
    let Some(settings) = signal_settings(&site.config, model.as_of) else {
        return positions;
    };
    let all: Vec<usize> = (0..cards.len()).collect();
    signals::rescore(
        &mut model.signals,
        &handoffs_of(site, cards, &all),
        &settings,
    );
    for rollup in model.partners.iter_mut().chain(&mut model.sellers) {
        if rollup.cards.iter().any(is_changed) {
            rescore_current(&mut rollup.current);
            let handoffs = handoffs_of(site, cards, &rollup.cards);
            signals::rescore(&mut rollup.signals, &handoffs, &settings);
        }
    }
    positions
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::model::ModelOptions;
    use crate::score::{Component, Grade};

    /// The example site at the repository root: 31 briefs, a draft and
    /// an event log.
    fn example() -> Site {
        Site::load(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the example site loads")
    }

    /// `site` with the grades of the briefs at `briefs` set by `change`.
    fn regraded(site: &Site, briefs: &[usize], change: impl Fn(&mut [Grade; 9])) -> Site {
        let mut briefs_now = site.briefs.clone();
        for &brief in briefs {
            let mut edited = (*site.briefs[brief]).clone();
            change(&mut edited.handoff.grades.0);
            briefs_now[brief] = Arc::new(edited);
        }
        Site {
            root: site.root.clone(),
            config: site.config.clone(),
            briefs: briefs_now,
            home_intro: site.home_intro.clone(),
            handoffs_intro: site.handoffs_intro.clone(),
            events: Arc::clone(&site.events),
            faq: site.faq.clone(),
            warnings: Default::default(),
            events_file: None,
        }
    }

    /// Regrades the model of `before` to `after` and checks it is the
    /// model computed from `after`; returns the regraded positions.
    fn check(before: &Site, after: &Site, briefs: &[usize], options: &ModelOptions) -> Vec<usize> {
        let mut model = Model::compute(before, options);
        let fresh = Model::compute(after, options);
        let positions = regrade(&mut model, after, briefs);
        assert_eq!(model, fresh, "briefs {briefs:?}");
        positions
    }

    #[test]
    fn one_brief_regraded_is_the_model_computed_again() {
        let site = example();
        let options = ModelOptions::default();
        let model = Model::compute(&site, &options);
        for brief in 0..site.briefs.len() {
            for grade in Grade::ALL {
                let after = regraded(&site, &[brief], |g| g[Component::Proof.index()] = grade);
                let positions = check(&site, &after, &[brief], &options);
                let position = model.cards.iter().position(|c| c.brief == brief);
                assert_eq!(positions, Vec::from_iter(position));
            }
        }
    }

    #[test]
    fn many_briefs_moving_bands_is_the_model_computed_again() {
        let site = example();
        let options = ModelOptions::default();
        let all: Vec<usize> = (0..site.briefs.len()).collect();
        let top = regraded(&site, &all, |g| *g = [Grade::Strong; 9]);
        let bottom = regraded(&site, &all, |g| *g = [Grade::Missing; 9]);
        let before = Model::compute(&site, &options);
        let after = Model::compute(&top, &options);
        // Every band changes, and so do the site's and rollups' verdicts.
        assert!(before.bands.iter().zip(&after.bands).all(|(a, b)| a != b));
        check(&site, &top, &all, &options);
        check(&top, &bottom, &all, &options);
        let some: Vec<usize> = all.iter().copied().step_by(3).collect();
        let mixed = regraded(&top, &some, |g| g[..4].fill(Grade::Weak));
        check(&top, &mixed, &some, &options);
    }

    #[test]
    fn drafts_and_briefs_after_as_of_regraded() {
        let site = example();
        let draft = site
            .briefs
            .iter()
            .position(|b| b.handoff.draft)
            .expect("the example has a draft");
        let after = regraded(&site, &[draft], |g| *g = [Grade::Strong; 9]);
        let with_drafts = ModelOptions {
            include_drafts: true,
            ..ModelOptions::default()
        };
        assert_eq!(
            check(&site, &after, &[draft], &with_drafts),
            Vec::<usize>::new()
        );
        assert_eq!(
            check(&site, &after, &[draft], &ModelOptions::default()),
            Vec::<usize>::new()
        );

        // Early enough that some sent briefs have no card yet.
        let as_of = ModelOptions {
            as_of: Some(jiff::civil::date(2026, 6, 1)),
            include_drafts: true,
        };
        let model = Model::compute(&site, &as_of);
        let (late, early): (Vec<usize>, Vec<usize>) = (0..site.briefs.len())
            .filter(|&b| !site.briefs[b].handoff.draft)
            .partition(|&b| model.cards.iter().all(|c| c.brief != b));
        assert!(!late.is_empty() && !early.is_empty());
        let briefs = [late[0], early[0], draft];
        let after = regraded(&site, &briefs, |g| *g = [Grade::Weak; 9]);
        assert_eq!(check(&site, &after, &briefs, &as_of).len(), 1);
    }
}
