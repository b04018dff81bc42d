//! The domain: scores, bands, fixes, the "last three" current score, and the
//! seller-behaviour signals over time.
//!
//! Nothing here knows about files, Markdown or HTML; it takes handoffs and
//! events that were already read and validated, and returns numbers.

mod bands;
mod grades;
pub mod signals;

pub use bands::{Band, Bands};
pub use grades::{Component, Grade, Grades};

use jiff::civil::Date;
use serde::Serialize;

/// What scoring needs to know about one brief.
#[derive(Debug, Clone, PartialEq)]
pub struct Handoff {
    pub id: String,
    pub title: String,
    /// Only drafts may lack a date.
    pub date: Option<Date>,
    pub account: String,
    pub partner: String,
    pub seller: String,
    pub owner: Option<String>,
    pub draft: bool,
    /// `respond_within_days` from the brief, if it set one.
    pub respond_within_days: Option<u32>,
    pub grades: Grades,
}

impl Handoff {
    pub fn score(&self) -> u32 {
        self.grades.score()
    }
}

/// The remedies, in the order a scorecard lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fix {
    RenegotiateRule,
    RebuildPacket,
    ShrinkAsk,
}

impl Fix {
    pub fn key(self) -> &'static str {
        match self {
            Fix::RenegotiateRule => "renegotiate_rule",
            Fix::RebuildPacket => "rebuild_packet",
            Fix::ShrinkAsk => "shrink_ask",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Fix::RenegotiateRule => "Renegotiate the rule",
            Fix::RebuildPacket => "Rebuild the packet",
            Fix::ShrinkAsk => "Shrink the ask",
        }
    }

    pub fn advice(self) -> &'static str {
        match self {
            Fix::RenegotiateRule => {
                "Acceptance criteria are missing. Agree with sales leadership what accepting \
                 means and how many days a seller has to answer, before the next handoff goes out. \
                 That is a conversation with leaders, not a template change."
            }
            Fix::RebuildPacket => {
                "The research is thin: account logic, partner context, the introduction path, \
                 the buyer's problem or the offer is not yet strong. Go back to sources and fill \
                 the gaps; louder enthusiasm will not close them."
            }
            Fix::ShrinkAsk => {
                "The ask is not crisp. Cut it to one move a seller can make this week, run by \
                 one named person."
            }
        }
    }
}

const PACKET: [Component; 5] = [
    Component::TargetAccount,
    Component::PartnerContext,
    Component::RelationshipPath,
    Component::BuyerProblem,
    Component::PartnerOffer,
];

pub fn fixes(grades: &Grades) -> Vec<Fix> {
    let below_strong = |c: Component| grades.get(c) != Grade::Strong;
    let mut fixes = Vec::new();
    if grades.get(Component::AcceptanceCriteria) == Grade::Missing {
        fixes.push(Fix::RenegotiateRule);
    }
    if PACKET.into_iter().any(below_strong) {
        fixes.push(Fix::RebuildPacket);
    }
    if [Component::NextAction, Component::Owner]
        .into_iter()
        .any(below_strong)
    {
        fixes.push(Fix::ShrinkAsk);
    }
    fixes
}

/// "Grade the last three, not the best one."
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub score: f64,
    /// Index into the bands.
    pub band: usize,
    /// Indices of the handoffs averaged, most recent first.
    pub handoffs: Vec<usize>,
}

/// The mean score of the (up to) three most recent of `handoffs` (by date
/// descending, then id ascending), or `None` when there are none.
///
/// `handoffs` yields `(index, handoff)` pairs of sent handoffs; the indices
/// come back in [`Current::handoffs`].
pub fn current<'a>(
    handoffs: impl IntoIterator<Item = (usize, &'a Handoff)>,
    bands: &Bands,
) -> Option<Current> {
    let mut recent: Vec<(usize, &Handoff)> = handoffs.into_iter().collect();
    recent.sort_by(|(_, a), (_, b)| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    recent.truncate(3);
    if recent.is_empty() {
        return None;
    }
    let total: u32 = recent.iter().map(|(_, h)| h.score()).sum();
    let score = f64::from(total) / recent.len() as f64;
    Some(Current {
        score,
        band: bands.index_for(score),
        handoffs: recent.into_iter().map(|(i, _)| i).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades(list: &str) -> Grades {
        let mut out = [Grade::Missing; 9];
        for (slot, ch) in out.iter_mut().zip(list.chars()) {
            *slot = match ch {
                's' => Grade::Strong,
                'w' => Grade::Weak,
                _ => Grade::Missing,
            };
        }
        Grades(out)
    }

    fn handoff(id: &str, date: &str, grade_list: &str) -> Handoff {
        Handoff {
            id: id.into(),
            title: id.into(),
            date: Some(date.parse().unwrap()),
            account: "A".into(),
            partner: "P".into(),
            seller: "S".into(),
            owner: None,
            draft: false,
            respond_within_days: None,
            grades: grades(grade_list),
        }
    }

    #[test]
    fn fixes_follow_the_pinned_order() {
        assert_eq!(fixes(&grades("sssssssss")), vec![]);
        assert_eq!(
            fixes(&grades("mmmmmmmmm")),
            vec![Fix::RenegotiateRule, Fix::RebuildPacket, Fix::ShrinkAsk]
        );
        // Weak acceptance criteria is not missing: no rule renegotiation.
        assert_eq!(fixes(&grades("ssssssswm")), vec![]);
        assert_eq!(fixes(&grades("sssswssss")), vec![Fix::RebuildPacket]);
        assert_eq!(fixes(&grades("ssssssmss")), vec![Fix::ShrinkAsk]);
        assert_eq!(fixes(&grades("sssssssms")), vec![Fix::RenegotiateRule]);
    }

    #[test]
    fn current_is_the_mean_of_the_last_three_with_id_tiebreak() {
        let bands = Bands::default_bands();
        let list = [
            handoff("old-best", "2026-01-01", "sssssssss"),
            handoff("b", "2026-03-01", "wwwwwwwww"),
            handoff("a", "2026-03-01", "mmmmmmmmm"),
            handoff("c", "2026-02-01", "sssssssss"),
            handoff("z", "2026-02-01", "mmmmmmmmm"),
        ];
        let current = current(list.iter().enumerate(), &bands).unwrap();
        // a (0) and b (9) on 03-01, then c (18) beats z on id.
        assert_eq!(current.handoffs, vec![2, 1, 3]);
        assert_eq!(current.score, 9.0);
        assert_eq!(bands.get(current.band).name, "Not ready");
    }

    #[test]
    fn current_with_fewer_than_three_or_none() {
        let bands = Bands::default_bands();
        assert_eq!(current(std::iter::empty(), &bands), None);
        let one = [handoff("a", "2026-03-01", "sssssssws")];
        let current = current(one.iter().enumerate(), &bands).unwrap();
        assert_eq!(current.score, 17.0);
        assert_eq!(current.handoffs, vec![0]);
    }
}
