//! Reading the site's content: briefs, intro pages and answer blocks.

pub mod brief;
pub mod faq;
pub mod front_matter;
pub mod markdown;

pub use brief::Brief;
