//! Answer blocks: level-2 questions in content/faq.md or content/faq/*.md.
//!
//! TODO(helper): implement per SPEC section 4.

use std::path::Path;

use super::markdown::MarkdownOptions;
use crate::diagnostics::Diagnostics;

/// One question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerBlock {
    /// The slug of the question, unique on the FAQ page.
    pub id: String,
    /// Plain text of the heading.
    pub question: String,
    /// Rendered inline HTML of the heading.
    pub question_html: String,
    /// Rendered HTML of the first paragraph: the short answer.
    pub answer_html: String,
    /// Plain text of the short answer.
    pub answer_text: String,
    /// Rendered HTML of everything after the short answer.
    pub detail_html: String,
    /// The block's Markdown source, for /faq/<id>.md.
    pub markdown: String,
    pub file: String,
    pub line: usize,
}

/// One FAQ file in display order, rendered whole, with its blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaqSection {
    pub title: Option<String>,
    pub file: String,
    /// The whole file rendered, with answer blocks wrapped for the page.
    pub html: String,
    /// Indices into [`Faq::blocks`].
    pub blocks: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faq {
    pub sections: Vec<FaqSection>,
    pub blocks: Vec<AnswerBlock>,
}

impl Faq {
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.sections.is_empty()
    }
}

pub fn load(root: &Path, options: MarkdownOptions, diagnostics: &mut Diagnostics) -> Faq {
    let _ = (root, options, diagnostics);
    Faq::default()
}
