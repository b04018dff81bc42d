//! trustcard: a static site generator for partner-handoff scorecards.
//!
//! A build is one pass, in one direction, over owned data:
//! site.toml → [`config::Config`]; content → briefs, events and answer
//! blocks; those → [`score`]; everything → [`render`] → [`output`].

pub mod cli;
pub mod cmd;
pub mod config;
pub mod content;
pub mod diagnostics;
pub mod events;
pub mod leftovers;
pub mod model;
pub mod output;
pub mod render;
pub mod score;
pub mod serve;
pub mod site;
pub mod synth;
pub mod toml_doc;
