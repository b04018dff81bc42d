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

use rustc_hash::FxHashMap;

use super::data;

#[derive(Debug, Default)]
pub struct Memo {
    pub(super) items: ItemStore,
    pub(super) entries: data::Entries,
    /// How many items the build handing this memo over hashed to look
    /// for them in the memo (see [`Stable`]).
    pub(super) hashed: usize,
}

impl Memo {
    /// Adds what a later build made, over what it replaces. Parts for
    /// handoffs since removed stay, a few kilobytes each.
    pub fn add(&mut self, newer: Memo) {
        self.items.add(newer.items);
        self.entries.add(newer.entries);
    }

    /// Handoff-table items made by the build that made this memo, over
    /// all page depths.
    pub fn items(&self) -> usize {
        self.items
            .by_root
            .iter()
            .flat_map(|items| items.by_id.values())
            .filter(|(_, item)| item.origin == Origin::Made)
            .count()
    }

    /// How many handoff-table items the build that made this memo hashed
    /// to find them in earlier builds' memo, or to keep them.
    pub fn hashed(&self) -> usize {
        self.hashed
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
    /// The rendered row, as a Tera string: every list item holding it
    /// shares its text rather than copying it.
    pub row: tera::Value,
    /// The handoff's template values with its `row`, as lists give them
    /// to Tera (a map behind an `Arc`, so sharing it copies nothing);
    /// `None` for a handoff of a list given to the templates as plain
    /// values (the home page's), which needs only its row.
    pub value: Option<tera::Value>,
    /// How this build came by it.
    pub origin: Origin,
    /// When the sink numbers its builds (see [`Stable`]): the last build
    /// that made it or found it by its key, and what the row keys started
    /// from then.
    pub made: Option<Made>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// Made by this build.
    Made,
    /// Taken from the memo by its key: it is this build's item, which the
    /// memo is told (with this build's number), so that later builds take
    /// it without its key again. Otherwise, after a build that moved every
    /// card (computed the model), no item made before it would be taken
    /// unhashed again. (An item known current is taken as it is, and
    /// the memo keeps it as it was.)
    Keyed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Made {
    pub build: u64,
    pub base: u64,
}

/// What a sink that numbers its builds (the dev server's) knows of the
/// handoffs' summaries, so that a list takes its items from the memo
/// without hashing them: on a 10,000-brief site, hashing every summary
/// of the handoff list to find its item was a fifth of a title edit's
/// rebuild, to learn that 9,999 of them had not changed.
#[derive(Debug, Clone, Copy)]
pub struct Stable<'a> {
    /// This build's number; a later build is numbered higher.
    pub build: u64,
    /// Per card (position in [`Model::cards`](crate::model::Model::cards)),
    /// the number of a build since which everything its summary is made
    /// from (the card, its brief's handoff, the config) has been the same
    /// in every build: an item made for it by that build or a later one,
    /// from the same templates and binary, is this build's item.
    pub since: &'a [u64],
}

/// Items per `root`, by handoff id and by card position.
#[derive(Debug, Default)]
pub(super) struct ItemStore {
    pub by_root: Vec<Items>,
}

/// The items of the lists at one depth.
#[derive(Debug, Default)]
pub(super) struct Items {
    pub root: String,
    /// By handoff id, for items found by their keys, with the card's
    /// position in the build that made or found them.
    pub by_id: FxHashMap<String, (usize, Item)>,
    /// The same items by that position, filled in as builds are added:
    /// the slot a list reads without hashing (see
    /// [`ItemStore::current`]). Positions move only when the model is
    /// computed afresh, and then every card's `since` is that build,
    /// later than every item in here.
    pub by_position: Vec<Option<Item>>,
}

impl ItemStore {
    /// The item for handoff `id` at `root`, if it was made from inputs
    /// hashing to `key`.
    pub fn get(&self, root: &str, id: &str, key: u64) -> Option<&Item> {
        self.root(root)?
            .by_id
            .get(id)
            .map(|(_, item)| item)
            .filter(|item| item.key == Some(key))
    }

    /// The item for the card at `position` in a list at `root` if it is
    /// known to be current without its key: made (or found by its key) by
    /// build `since` or later, so for the card now at `position`, with row
    /// keys starting from `base` (the same templates and binary), and
    /// holding its template values. A slot, not a hash lookup: on a
    /// 10,000-row list, looking items up by id cost a cache miss or two
    /// each.
    pub fn current(items: &Items, position: usize, since: u64, base: u64) -> Option<&Item> {
        items.by_position.get(position)?.as_ref().filter(|item| {
            item.value.is_some()
                && item
                    .made
                    .is_some_and(|made| made.base == base && made.build >= since)
        })
    }

    /// The items at `root`.
    pub fn root(&self, root: &str) -> Option<&Items> {
        self.by_root.iter().find(|items| items.root == root)
    }

    fn add(&mut self, newer: ItemStore) {
        for items in newer.by_root {
            let at = match self.by_root.iter().position(|mine| mine.root == items.root) {
                Some(at) => at,
                None => {
                    self.by_root.push(Items {
                        root: items.root.clone(),
                        ..Items::default()
                    });
                    self.by_root.len() - 1
                }
            };
            let mine = &mut self.by_root[at];
            for (id, (position, item)) in items.by_id {
                if mine.by_position.len() <= position {
                    mine.by_position.resize_with(position + 1, || None);
                }
                mine.by_position[position] = Some(item.clone());
                mine.by_id.insert(id, (position, item));
            }
        }
    }
}
