//! Parts of pages and files that builds made, kept for later builds (the
//! dev server's): the handoffs' items in handoff tables (the template
//! values of a handoff with its rendered row) and their entries in
//! `data/scorecard.json`, each with what it was made from.
//!
//! On a 10,000-brief site a title edit changes one handoff, yet the
//! handoff list shows all 10,000, and its band, partner and seller pages
//! thousands more: making each item again (a summary serialised, a row
//! rendered through Tera, the values converted for Tera) was most of the
//! rebuild. A build takes every part whose inputs are the same from the
//! sink's [`Memo`] and hands the sink the parts it made; [`Memo::add`] puts
//! those in, so the memo holds the latest part of each kind per handoff.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::data;

#[derive(Debug, Default)]
pub struct Memo {
    pub(super) items: ItemStore,
    pub(super) entries: data::Entries,
}

impl Memo {
    /// Adds what a later build made, over what it replaces. Parts for
    /// handoffs since removed stay, a few kilobytes each.
    pub fn add(&mut self, newer: Memo) {
        self.items.add(newer.items);
        self.entries.add(newer.entries);
    }

    /// Handoff-table items kept, over all page depths.
    pub fn items(&self) -> usize {
        self.items.len()
    }

    /// `data/scorecard.json` entries kept.
    pub fn entries(&self) -> usize {
        self.entries.len()
    }
}

/// One handoff in the handoff tables of pages at one depth (`root`).
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// A hash of what the row template saw (the handoff, `root`, `index`)
    /// seeded with the templates and the binary; `None` when rows cannot
    /// be keyed, and then the item is never kept.
    pub key: Option<u64>,
    pub row: Arc<str>,
    /// The handoff's template values with its `row`, as lists give them
    /// to Tera (a map behind an `Arc`, so sharing it copies nothing);
    /// `None` for a handoff of a list given to the templates as plain
    /// values (the home page's), which needs only its row.
    pub value: Option<tera::Value>,
    /// Whether this build made it, rather than taking it from the memo.
    pub fresh: bool,
}

/// Items per `root` and handoff id.
#[derive(Debug, Default)]
pub(super) struct ItemStore {
    pub by_root: Vec<(String, FxHashMap<String, Item>)>,
}

impl ItemStore {
    pub fn len(&self) -> usize {
        self.by_root.iter().map(|(_, items)| items.len()).sum()
    }

    /// The item for handoff `id` at `root`, if it was made from inputs
    /// hashing to `key`.
    pub fn get(&self, root: &str, id: &str, key: u64) -> Option<&Item> {
        let (_, items) = self.by_root.iter().find(|(r, _)| r == root)?;
        items.get(id).filter(|item| item.key == Some(key))
    }

    fn add(&mut self, newer: ItemStore) {
        for (root, items) in newer.by_root {
            match self.by_root.iter_mut().find(|(r, _)| *r == root) {
                Some((_, mine)) => mine.extend(items),
                None => self.by_root.push((root, items)),
            }
        }
    }
}
