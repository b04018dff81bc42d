//! Events read before the briefs are: the checks of a row's handoff (that
//! a brief has its id, and that the event is not dated before it) wait
//! until the briefs are in, so a cold load reads the events while the
//! briefs load rather than after.
//!
//! Only a clean log can be finished that way. A row that fails a handoff
//! check, or any error at all (a row with one may have had another for its
//! handoff, reported on the same line), sends the caller back to
//! [`read_events`](super::read_events), whose messages are the ones users
//! see: a site with errors pays for a second read, a clean one for none.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::Path;

use rayon::prelude::*;

use super::{
    Blocks, EventLog, EventSource, HandoffRef, Handoffs, NONE, NameId, Names, Slot,
    read_events_in_blocks, span,
};
use crate::diagnostics::Diagnostics;

/// Events read with every check but the handoff's.
pub struct Unchecked {
    /// Names as the rows met them, with no names before theirs, and each
    /// event's `handoff` an id in `handoffs`.
    log: EventLog,
    handoffs: Names,
    diagnostics: Diagnostics,
}

/// Reads every source as [`read_events`](super::read_events) does, but for
/// the handoff checks, which [`Unchecked::check`] makes.
pub fn read(root: &Path, sources: &[EventSource]) -> Unchecked {
    read_in_blocks(root, sources, Blocks::new())
}

fn read_in_blocks(root: &Path, sources: &[EventSource], blocks: Blocks) -> Unchecked {
    let mut handoffs = Names::default();
    let mut diagnostics = Diagnostics::new();
    let log = read_events_in_blocks::<rustc_hash::FxBuildHasher>(
        root,
        sources,
        Handoffs::Later,
        (Names::default(), &mut handoffs),
        &mut diagnostics,
        blocks,
    );
    Unchecked {
        log,
        handoffs,
        diagnostics,
    }
}

impl Unchecked {
    /// The log and the diagnostics that [`read_events`](super::read_events)
    /// gives for the same `handoffs` and `names` (the names known before
    /// the rows'), or `None` when only it can tell: see the module's notes.
    pub fn check<S: BuildHasher>(
        self,
        handoffs: &HashMap<&str, HandoffRef, S>,
        names: Names,
    ) -> Option<(EventLog, Diagnostics)> {
        let Unchecked {
            mut log,
            handoffs: ids,
            diagnostics,
        } = self;
        if diagnostics.has_errors() {
            return None;
        }
        let briefs: Vec<Option<HandoffRef>> = (0..ids.len() as NameId)
            .map(|id| handoffs.get(ids.resolve(id)).copied())
            .collect();
        let (names, renamed) = prepend(names, std::mem::take(&mut log.names));
        let rename = |id: NameId| match id {
            NONE => NONE,
            id => renamed[id as usize],
        };
        // On both cores: this pass over every event is the one part of a
        // cold load that waits for the briefs and the events both, and
        // alone it left a core idle for ~20 ms on 1M events.
        log.events
            .par_iter_mut()
            .with_min_len(1 << 16)
            .try_for_each(|event| {
                if event.handoff != NONE {
                    let brief = briefs[event.handoff as usize]?;
                    if brief.date.is_some_and(|date| event.date < date) {
                        return None;
                    }
                    event.handoff = brief.index;
                }
                event.seller = rename(event.seller);
                event.account = rename(event.account);
                event.partner = rename(event.partner);
                Some(())
            })?;
        log.names = names;
        Some((log, diagnostics))
    }
}

/// `known` (the briefs' names) followed by those of `new` it does not
/// hold, in their order, as interning them one by one gives; and where each
/// of `new`'s names went. Made from `new`'s own table, whose entries only
/// change ids: re-interning the 10k site's 264,000 names one by one took
/// 25 ms, all of it after the briefs and the events are in.
fn prepend(known: Names, new: Names) -> (Names, Vec<NameId>) {
    let before = known.len();
    // Few names are the briefs', so they are looked up in the big table,
    // not the other way round.
    let mut moved = vec![NONE; new.len()];
    for id in 0..before as NameId {
        if let Some(at) = new.get_hashed(known.hashes[id as usize], known.resolve(id)) {
            moved[at as usize] = id;
        }
    }
    let mut next = before as NameId;
    for id in &mut moved {
        if *id == NONE {
            *id = next;
            next += 1;
        }
    }
    let Names {
        mut text,
        mut ends,
        mut hashes,
        table: _,
    } = known;
    text.reserve(new.text.len());
    ends.reserve(new.len());
    hashes.reserve(new.len());
    for (id, &to) in moved.iter().enumerate() {
        if to as usize >= before {
            text.push_str(new.resolve(id as NameId));
            ends.push(text.len());
            hashes.push(new.hashes[id]);
        }
    }
    // Entries say where their names sit, which has changed too.
    let mut table = new.table;
    table.retain(|slot| {
        let to = moved[slot.id as usize];
        *slot = Slot::new(to, span(&ends, to));
        to as usize >= before
    });
    let hasher = |slot: &Slot| hashes[slot.id as usize];
    table.reserve(before, hasher);
    for (id, &hash) in hashes[..before].iter().enumerate() {
        let id = id as NameId;
        table.insert_unique(hash, Slot::new(id, span(&ends, id)), hasher);
    }
    let names = Names {
        text,
        ends,
        hashes,
        table,
    };
    (names, moved)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::events::read_events;
    use crate::events::tests::{ReadBack, events_site, handoffs, read_back};

    fn known() -> Names {
        let mut names = Names::default();
        names.intern("Lee");
        names.intern("Acme");
        names
    }

    /// What `read_events` gives for `text`, and what reading it unchecked
    /// and checking gives, in blocks of `blocks` if any.
    fn both(text: &str, blocks: Option<Blocks>) -> (ReadBack, Option<ReadBack>) {
        let (site, sources) = events_site(text.as_bytes());
        let mut diagnostics = Diagnostics::new();
        let log = read_events(
            site.path(),
            &sources,
            &handoffs(),
            known(),
            &mut diagnostics,
        );
        let unchecked = read_in_blocks(site.path(), &sources, blocks.unwrap_or_else(Blocks::new));
        let checked = unchecked
            .check(&handoffs(), known())
            .map(|(log, diagnostics)| read_back(log, diagnostics));
        (read_back(log, diagnostics), checked)
    }

    #[test]
    fn a_clean_log_comes_out_as_read_with_the_briefs() {
        // Names the briefs know and new ones, in every column, notes, an
        // ignored column (a warning), handoffs named again and again.
        let mut text = String::from("date,event,seller,handoff,account,partner,extra,note\n");
        for i in 0..40 {
            let row = match i % 5 {
                0 => format!(
                    "2026-02-{:02},accepted,S{},acme-oct,,,x,\n",
                    i % 20 + 4,
                    i % 3
                ),
                1 => format!("2026-03-0{},acted,Lee,beta-nov,,,,\"a, note\"\n", i % 9 + 1),
                2 => format!("2026-01-01,requested_help,S{},,A{},,,\n", i % 4, i % 6),
                3 => format!("2026-01-02,partner_meeting,Acme,draft-one,,P{},,\n", i % 2),
                _ => "2026-01-03,requested_help,P1,,Acme,,,\n".to_string(),
            };
            text.push_str(&row);
        }
        let (expected, checked) = both(&text, None);
        assert!(
            expected.0.len() == 40 && expected.3.len() == 1,
            "{expected:?}"
        );
        assert_eq!(checked.as_ref(), Some(&expected));
        for bytes in [1, 7, 40, 100] {
            for per_step in [1, 3] {
                let (_, checked) = both(&text, Some(Blocks { bytes, per_step }));
                assert_eq!(checked.as_ref(), Some(&expected), "{bytes} bytes");
            }
        }
    }

    #[test]
    fn what_takes_the_briefs_to_tell_is_left_to_read_events() {
        let header = "date,event,seller,handoff\n";
        for row in [
            // Not a brief.
            "2026-02-04,accepted,Lee,acme-oc\n",
            // Before its brief.
            "2026-02-02,accepted,Lee,acme-oct\n",
            // An error: with an unknown handoff it would have a second.
            "2026-02-31,accepted,Lee,nope\n",
            "2026-02-31,accepted,Lee,acme-oct\n",
        ] {
            let text = format!("{header}2026-02-05,acted,Bo,acme-oct\n{row}");
            let (expected, checked) = both(&text, None);
            assert!(!expected.3.is_empty(), "{row}");
            assert_eq!(checked, None, "{row}");
        }
    }
}
