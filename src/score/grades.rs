//! The nine components of a handoff and the grades they get.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Strong,
    Weak,
    Missing,
}

impl Grade {
    pub const ALL: [Grade; 3] = [Grade::Strong, Grade::Weak, Grade::Missing];

    pub fn points(self) -> u32 {
        match self {
            Grade::Strong => 2,
            Grade::Weak => 1,
            Grade::Missing => 0,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Grade::Strong => "strong",
            Grade::Weak => "weak",
            Grade::Missing => "missing",
        }
    }

    pub fn parse(text: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|grade| grade.key() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    TargetAccount,
    PartnerContext,
    RelationshipPath,
    BuyerProblem,
    PartnerOffer,
    NextAction,
    Owner,
    AcceptanceCriteria,
    Proof,
}

impl Component {
    /// In the order every page and the JSON list them.
    pub const ALL: [Component; 9] = [
        Component::TargetAccount,
        Component::PartnerContext,
        Component::RelationshipPath,
        Component::BuyerProblem,
        Component::PartnerOffer,
        Component::NextAction,
        Component::Owner,
        Component::AcceptanceCriteria,
        Component::Proof,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Component::TargetAccount => "target_account",
            Component::PartnerContext => "partner_context",
            Component::RelationshipPath => "relationship_path",
            Component::BuyerProblem => "buyer_problem",
            Component::PartnerOffer => "partner_offer",
            Component::NextAction => "next_action",
            Component::Owner => "owner",
            Component::AcceptanceCriteria => "acceptance_criteria",
            Component::Proof => "proof",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Component::TargetAccount => "Target account logic",
            Component::PartnerContext => "Partner context",
            Component::RelationshipPath => "Relationship path",
            Component::BuyerProblem => "Buyer problem",
            Component::PartnerOffer => "Partner offer",
            Component::NextAction => "Next action",
            Component::Owner => "Owner",
            Component::AcceptanceCriteria => "Acceptance criteria",
            Component::Proof => "Proof",
        }
    }

    /// What a strong grade looks like, shown beside the grade on a scorecard.
    pub fn question(self) -> &'static str {
        match self {
            Component::TargetAccount => {
                "Why this account, why now, and which seller already owns it."
            }
            Component::PartnerContext => {
                "Who the partner is, what they sell, and why they fit this account."
            }
            Component::RelationshipPath => {
                "Who knows whom on each side, and how the introduction will happen."
            }
            Component::BuyerProblem => "The customer's problem, put the way the buyer puts it.",
            Component::PartnerOffer => {
                "What the partner has agreed to do in the next two weeks, with a date."
            }
            Component::NextAction => "The one move the seller is asked to make this week.",
            Component::Owner => "One named person who runs the next move and answers questions.",
            Component::AcceptanceCriteria => {
                "What accepting or declining means, and the window to answer in."
            }
            Component::Proof => "Evidence a seller can check in minutes without trusting us.",
        }
    }

    pub fn parse(key: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.key() == key)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One grade per component, in [`Component::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grades(pub [Grade; 9]);

impl Grades {
    pub fn get(&self, component: Component) -> Grade {
        self.0[component.index()]
    }

    pub fn score(&self) -> u32 {
        self.0.iter().map(|g| g.points()).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Component, Grade)> + '_ {
        Component::ALL.into_iter().map(|c| (c, self.get(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_two_per_strong_one_per_weak() {
        let mut grades = [Grade::Missing; 9];
        grades[0] = Grade::Strong;
        grades[1] = Grade::Weak;
        grades[8] = Grade::Strong;
        assert_eq!(Grades(grades).score(), 5);
        assert_eq!(Grades([Grade::Strong; 9]).score(), 18);
        assert_eq!(Grades([Grade::Missing; 9]).score(), 0);
    }

    #[test]
    fn component_keys_round_trip_in_order() {
        let keys: Vec<_> = Component::ALL.iter().map(|c| c.key()).collect();
        assert_eq!(
            keys,
            [
                "target_account",
                "partner_context",
                "relationship_path",
                "buyer_problem",
                "partner_offer",
                "next_action",
                "owner",
                "acceptance_criteria",
                "proof"
            ]
        );
        for c in Component::ALL {
            assert_eq!(Component::parse(c.key()), Some(c));
        }
    }
}
