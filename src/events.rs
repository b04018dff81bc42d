//! Seller events: the CSV log of what sellers did with handoffs.
//!
//! Event logs grow to millions of rows, so a file is streamed in blocks of
//! bounded size, cut at line ends and parsed in parallel, with column
//! positions looked up once per file and names interned to 4-byte ids;
//! names new to a block are merged in file order, so ids come out as a
//! single pass would give them, and memory is the parsed events (28 bytes
//! each) plus a few blocks. Every bad row is reported with the file's own
//! line number, so a user fixes all typos in one run.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::io::Read;
use std::path::{Path, PathBuf};

use hashbrown::HashTable;
use jiff::civil::Date;
use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Diagnostics, did_you_mean, display_path};

pub mod store;
pub mod unchecked;

/// An interned seller, account or partner name.
pub type NameId = u32;

/// Interns names so millions of events hold 4-byte ids, not strings.
///
/// The names sit end to end in one string, so interning one costs no
/// allocation of its own; each name's hash is kept, so growing the table
/// and merging a block's names into the site's never hash a name twice.
/// Fx hashing: names come from the site's own files, so there is no
/// adversary to guard against.
#[derive(Debug, Default, Clone)]
pub struct Names {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<usize>,
    hashes: Vec<u64>,
    table: HashTable<Slot>,
}

/// A name's entry in the table: its id, and where its bytes sit in `text`.
/// A lookup in the site's hundreds of thousands of names is cache misses
/// more than anything: with the place of the bytes at hand, a match reads
/// the entry and the bytes and not `ends` too, and most entries that only
/// share the hash's tag are told apart by length without reading any
/// bytes.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: NameId,
    start: u32,
    /// [`FAR`] when the name ends beyond what `u32` can say.
    len: u32,
}

/// The `len` of a [`Slot`] whose name is found through `ends` instead.
const FAR: u32 = u32::MAX;

impl Slot {
    fn new(id: NameId, span: std::ops::Range<usize>) -> Slot {
        if span.end < FAR as usize {
            Slot {
                id,
                start: span.start as u32,
                len: span.len() as u32,
            }
        } else {
            Slot {
                id,
                start: 0,
                len: FAR,
            }
        }
    }
}

impl Names {
    fn hash(name: &str) -> u64 {
        rustc_hash::FxBuildHasher.hash_one(name)
    }

    pub fn intern(&mut self, name: &str) -> NameId {
        self.intern_hashed(Self::hash(name), name)
    }

    fn intern_hashed(&mut self, hash: u64, name: &str) -> NameId {
        let Names {
            text,
            ends,
            hashes,
            table,
        } = self;
        let entry = table.entry(
            hash,
            |&slot| slot_is(text, ends, slot, name.as_bytes()),
            |slot| hashes[slot.id as usize],
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => found.get().id,
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let id = ends.len() as NameId;
                let start = text.len();
                text.push_str(name);
                ends.push(text.len());
                hashes.push(hash);
                vacant.insert(Slot::new(id, start..text.len()));
                id
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<NameId> {
        self.get_hashed(Self::hash(name), name)
    }

    fn get_hashed(&self, hash: u64, name: &str) -> Option<NameId> {
        self.table
            .find(hash, |&slot| {
                slot_is(&self.text, &self.ends, slot, name.as_bytes())
            })
            .map(|slot| slot.id)
    }

    /// Where a name sits in `text`. Comparing its bytes skips the
    /// character-boundary checks of slicing a `str`, which lookups felt.
    fn span(&self, id: NameId) -> std::ops::Range<usize> {
        span(&self.ends, id)
    }

    pub fn resolve(&self, id: NameId) -> &str {
        &self.text[self.span(id)]
    }

    /// Makes room for `names` more names of `bytes` bytes in all, and
    /// for half as many in the table (see where it is called).
    fn reserve(&mut self, names: usize, bytes: usize) {
        self.text.reserve(bytes);
        self.ends.reserve(names);
        self.hashes.reserve(names);
        let hashes = &self.hashes;
        self.table
            .reserve(names / 2, |slot| hashes[slot.id as usize]);
    }

    /// Forgets every name, keeping the room they took.
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.hashes.clear();
        self.table.clear();
    }

    /// How many distinct names were interned; ids run from 0 to `len() - 1`.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Where name `id` sits in a text whose names end at `ends`.
fn span(ends: &[usize], id: NameId) -> std::ops::Range<usize> {
    let id = id as usize;
    let start = match id {
        0 => 0,
        _ => ends[id - 1],
    };
    start..ends[id]
}

/// Whether `slot` holds `name`.
fn slot_is(text: &str, ends: &[usize], slot: Slot, name: &[u8]) -> bool {
    let span = if slot.len == FAR {
        span(ends, slot.id)
    } else if slot.len as usize == name.len() {
        let start = slot.start as usize;
        start..start + name.len()
    } else {
        return false;
    };
    &text.as_bytes()[span] == name
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Accepted,
    Declined,
    Acted,
    RequestedHelp,
    PipelineMention,
    PartnerMeeting,
    Disagreement,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::Accepted,
        EventKind::Declined,
        EventKind::Acted,
        EventKind::RequestedHelp,
        EventKind::PipelineMention,
        EventKind::PartnerMeeting,
        EventKind::Disagreement,
    ];

    /// The value of the `event` column.
    pub fn key(self) -> &'static str {
        match self {
            EventKind::Accepted => "accepted",
            EventKind::Declined => "declined",
            EventKind::Acted => "acted",
            EventKind::RequestedHelp => "requested_help",
            EventKind::PipelineMention => "pipeline_mention",
            EventKind::PartnerMeeting => "partner_meeting",
            EventKind::Disagreement => "disagreement",
        }
    }

    pub fn parse(key: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The columns this kind of event must have a value in, beyond the
    /// date, event and seller every row needs.
    fn needs(self) -> &'static [Column] {
        match self {
            EventKind::Accepted | EventKind::Declined | EventKind::Acted => &[Column::Handoff],
            EventKind::RequestedHelp => &[Column::Account],
            EventKind::PipelineMention => &[Column::Account, Column::PartnerTeamPresent],
            EventKind::PartnerMeeting => &[Column::Partner],
            EventKind::Disagreement => &[Column::About],
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum About {
    Account,
    Partner,
    Value,
}

impl About {
    pub const ALL: [About; 3] = [About::Account, About::Partner, About::Value];

    pub fn key(self) -> &'static str {
        match self {
            About::Account => "account",
            About::Partner => "partner",
            About::Value => "value",
        }
    }

    pub fn parse(key: &str) -> Option<About> {
        About::ALL.into_iter().find(|about| about.key() == key)
    }
}

/// One row of an events file, in 28 bytes: millions are held at once, so
/// optional ids use `u32::MAX` for none and the rare note lives in the
/// log's note list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub date: Date,
    pub kind: EventKind,
    pub about: Option<About>,
    pub partner_team_present: Option<bool>,
    pub seller: NameId,
    handoff: u32,
    account: NameId,
    partner: NameId,
    note: u32,
}

/// The `u32` held for "none".
const NONE: u32 = u32::MAX;

fn some(value: u32) -> Option<u32> {
    (value != NONE).then_some(value)
}

impl Event {
    /// An event with no handoff, account, partner, about or note.
    pub fn new(date: Date, kind: EventKind, seller: NameId) -> Event {
        Event {
            date,
            kind,
            about: None,
            partner_team_present: None,
            seller,
            handoff: NONE,
            account: NONE,
            partner: NONE,
            note: NONE,
        }
    }

    /// Index of the brief in the site's brief list.
    pub fn handoff(&self) -> Option<u32> {
        some(self.handoff)
    }

    pub fn account(&self) -> Option<NameId> {
        some(self.account)
    }

    pub fn partner(&self) -> Option<NameId> {
        some(self.partner)
    }

    pub fn with_handoff(self, handoff: Option<u32>) -> Event {
        Event {
            handoff: handoff.unwrap_or(NONE),
            ..self
        }
    }

    pub fn with_account(self, account: Option<NameId>) -> Event {
        Event {
            account: account.unwrap_or(NONE),
            ..self
        }
    }

    pub fn with_partner(self, partner: Option<NameId>) -> Event {
        Event {
            partner: partner.unwrap_or(NONE),
            ..self
        }
    }
}

/// Where to read events from: one entry per path or glob in site.toml.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSource {
    pub pattern: String,
    /// Line of the pattern in site.toml, or `None` for the default path.
    pub line: Option<usize>,
}

/// What event validation needs to know about a brief.
#[derive(Debug, Clone, Copy)]
pub struct HandoffRef {
    pub index: u32,
    pub date: Option<Date>,
    pub draft: bool,
}

/// All events read, and the names they use.
#[derive(Debug, Default)]
pub struct EventLog {
    pub events: Vec<Event>,
    pub names: Names,
    /// Notes of the events that have one, in file order.
    notes: Vec<Box<str>>,
}

impl EventLog {
    pub fn new(events: Vec<Event>, names: Names) -> EventLog {
        EventLog {
            events,
            names,
            notes: Vec::new(),
        }
    }

    pub fn note(&self, event: &Event) -> Option<&str> {
        self.notes.get(event.note as usize).map(|note| &**note)
    }
}

/// Reads every source; `sources` empty means the site has no events.
///
/// Files are read in pattern order, the files of one glob sorted by path; a
/// file matched by several patterns is read once. Every row is validated
/// against every brief (drafts included) and all valid events are returned,
/// including those naming a draft and those after as_of: leaving those out
/// is the caller's job, since as_of may itself come from the events.
/// Invalid rows are reported to `diagnostics` and left out.
pub fn read_events<S: BuildHasher + Sync>(
    root: &Path,
    sources: &[EventSource],
    handoffs: &HashMap<&str, HandoffRef, S>,
    names: Names,
    diagnostics: &mut Diagnostics,
) -> EventLog {
    let mut later = Names::default();
    read_events_in_blocks(
        root,
        sources,
        Handoffs::Check(handoffs),
        (names, &mut later),
        diagnostics,
        Blocks::new(),
    )
}

/// How rows' handoff ids are checked.
enum Handoffs<'a, 'h, S> {
    /// Against the briefs, as each row is read.
    Check(&'a HashMap<&'h str, HandoffRef, S>),
    /// Once the briefs are known (see [`unchecked`]): until then each id is
    /// interned like a name, into names of its own, and an event's
    /// `handoff` is its id there.
    Later,
}

impl<S> Clone for Handoffs<'_, '_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Handoffs<'_, '_, S> {}

/// The files [`read_events`] would read, in order, without reading them:
/// what a cached event log is checked against. Problems with the patterns
/// are left for `read_events` to report.
pub fn source_files(root: &Path, sources: &[EventSource]) -> Vec<PathBuf> {
    let mut ignored = Diagnostics::new();
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    for source in sources {
        for path in expand(root, source, &mut ignored) {
            if seen.insert(path.clone()) {
                files.push(path);
            }
        }
    }
    files
}

/// Reads every source into a log starting with `names`, and with
/// [`Handoffs::Later`] its rows' handoff ids into `later`.
fn read_events_in_blocks<S: BuildHasher + Sync>(
    root: &Path,
    sources: &[EventSource],
    handoffs: Handoffs<S>,
    (names, later): (Names, &mut Names),
    diagnostics: &mut Diagnostics,
    blocks: Blocks,
) -> EventLog {
    let mut log = EventLog::new(Vec::new(), names);
    let mut seen = HashSet::new();
    for source in sources {
        for path in expand(root, source, diagnostics) {
            if seen.insert(path.clone()) {
                let into = (&mut log, &mut *later);
                read_file(root, &path, handoffs, into, diagnostics, blocks);
            }
        }
    }
    log
}

/// The files one source names, sorted; reports a pattern that names none.
fn expand(root: &Path, source: &EventSource, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
    let report = |diagnostics: &mut Diagnostics, diagnostic: Diagnostic| {
        let mut diagnostic = diagnostic.in_file("site.toml");
        diagnostic.line = source.line;
        diagnostics.push(diagnostic);
    };
    let pattern = source.pattern.as_str();
    let mut files = Vec::new();
    if !pattern.contains(['*', '?', '[']) {
        let path = root.join(pattern);
        if path.is_file() {
            files.push(path);
        }
    } else {
        // The site folder's own name may hold glob characters; only the
        // user's pattern is a pattern.
        let base = glob::Pattern::escape(&root.to_string_lossy());
        let full = Path::new(&base).join(pattern);
        let full = full.to_string_lossy();
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            // Like a shell: `*.csv` leaves out hidden files such as editor
            // lock files.
            require_literal_leading_dot: true,
        };
        match glob::glob_with(&full, options) {
            Ok(paths) => {
                for entry in paths {
                    match entry {
                        Ok(path) if path.is_file() => files.push(path),
                        Ok(_) => {}
                        Err(err) => report(
                            diagnostics,
                            Diagnostic::error(format!(
                                "events: cannot read `{}`: {}",
                                display_path(root, err.path()),
                                err.error()
                            )),
                        ),
                    }
                }
            }
            Err(err) => {
                report(
                    diagnostics,
                    Diagnostic::error(format!("events: bad glob `{pattern}`: {}", err.msg)),
                );
                return files;
            }
        }
        files.sort();
    }
    if files.is_empty() && source.line.is_some() {
        report(
            diagnostics,
            Diagnostic::error(format!("events: `{pattern}` matches no file")).with_hint(
                "paths and globs in `events` are relative to the folder holding site.toml",
            ),
        );
    }
    files
}

/// The columns trustcard knows, in the order the spec lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Date,
    Event,
    Seller,
    Handoff,
    Account,
    Partner,
    About,
    PartnerTeamPresent,
    Note,
}

impl Column {
    const ALL: [Column; 9] = [
        Column::Date,
        Column::Event,
        Column::Seller,
        Column::Handoff,
        Column::Account,
        Column::Partner,
        Column::About,
        Column::PartnerTeamPresent,
        Column::Note,
    ];

    const REQUIRED: [Column; 3] = [Column::Date, Column::Event, Column::Seller];

    fn name(self) -> &'static str {
        match self {
            Column::Date => "date",
            Column::Event => "event",
            Column::Seller => "seller",
            Column::Handoff => "handoff",
            Column::Account => "account",
            Column::Partner => "partner",
            Column::About => "about",
            Column::PartnerTeamPresent => "partner_team_present",
            Column::Note => "note",
        }
    }

    /// "a `handoff`", "an `account`".
    fn with_article(self) -> String {
        let name = self.name();
        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} `{name}`")
    }
}

/// One record as csv_core leaves it: the fields' bytes end to end, and
/// where each field ends. The bytes may outlive the reader's borrow (see
/// [`Records::line`]), the ends never do.
#[derive(Clone, Copy)]
struct Row<'r, 'e> {
    bytes: &'r [u8],
    ends: &'e [usize],
    /// Whether `bytes` is the line itself, commas included, each field
    /// starting one byte after the previous one's end.
    commas: bool,
    /// `bytes` as text, when they are known to be UTF-8 already.
    text: Option<&'r str>,
}

impl<'r> Row<'r, '_> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn range(&self, index: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(index)?;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] + usize::from(self.commas),
        };
        Some(start..end)
    }

    fn get(&self, index: usize) -> Option<&'r [u8]> {
        self.bytes.get(self.range(index)?)
    }

    fn iter(&self) -> impl Iterator<Item = &'r [u8]> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// Whether every field is empty or ASCII whitespace: the record's bytes
    /// are its fields' bytes (and commas), so this stops at the first
    /// letter or digit.
    fn is_blank(&self) -> bool {
        self.bytes
            .iter()
            .all(|&b| b.is_ascii_whitespace() || (self.commas && b == b','))
    }
}

/// Pushes where each comma of `line` is, in order. Eight bytes at a time:
/// `memchr_iter` pays a call per comma, some ten a row, which was a fifth
/// of the instructions of reading events.
fn push_commas(line: &[u8], ends: &mut Vec<usize>) {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const LOW7: u64 = u64::from_le_bytes([0x7f; 8]);
    let mut at = 0;
    while let Some(chunk) = line[at..].first_chunk::<8>() {
        let x = u64::from_le_bytes(*chunk) ^ (ONES * u64::from(b','));
        // 0x80 in each byte of `x` that is zero, and only there: no byte
        // carries into the next.
        let mut found = !(((x & LOW7) + LOW7) | x | LOW7);
        while found != 0 {
            ends.push(at + (found.trailing_zeros() / 8) as usize);
            found &= found - 1;
        }
        at += 8;
    }
    for (i, &byte) in line[at..].iter().enumerate() {
        if byte == b',' {
            ends.push(at + i);
        }
    }
}

/// What reading a record gave.
enum Next {
    /// A whole record, starting on this line (counted from 1 at the start
    /// of the bytes).
    Record(usize),
    /// The bytes ran out inside a record (or among blank lines) that may go
    /// on in bytes not read yet.
    Unfinished,
    /// The bytes end the file and every record in them was read.
    End,
}

/// The records of some bytes of an events file, read with csv_core so that
/// the end of the last whole record is known exactly: csv::Reader cannot
/// tell a record cut short by the end of its input from a finished one.
///
/// Only `\n` ends a record, so that every record's line can be worked out
/// (see `Next::Record`); the `\r` of CRLF is trimmed with the rest of the
/// whitespace. Blank lines are skipped by csv_core, and rows are checked for
/// length by hand so that a whitespace-only line is skipped too rather than
/// reported as ragged.
///
/// A line with no quote in it is one record whose fields are its
/// comma-separated parts, exactly as csv_core would read it, so such lines
/// (nearly all of a real log) are split with memchr instead: csv_core
/// spends some 15 instructions a byte, half the cost of reading events.
struct Records<'b> {
    core: csv_core::Reader,
    bytes: &'b [u8],
    /// The longest start of `bytes` that is UTF-8, if checked: lines in it
    /// need no check of their own.
    text: &'b str,
    /// Whether `bytes` run to the end of the file, so a last record without
    /// a line end is whole.
    at_eof: bool,
    /// Bytes consumed.
    pos: usize,
    /// The line `pos` is on, counted from 1; csv_core's count is set from
    /// it before each record it reads.
    line: u64,
    fields: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    /// The last record, when it was a line without quotes split by hand.
    split_line: Option<std::ops::Range<usize>>,
    split_ends: Vec<usize>,
    /// Where the last whole record ended, and the line count there.
    record_end: usize,
    lines_at_record_end: u64,
    /// Whether the bytes ran out between records: nothing of a record had
    /// been read past the last line end.
    between_records: bool,
}

impl<'b> Records<'b> {
    fn new(bytes: &'b [u8], at_eof: bool, file_start: bool) -> Self {
        let mut core = csv_core::ReaderBuilder::new()
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build();
        // csv_core drops a UTF-8 BOM at the start of its first input, but
        // only the file's own first bytes may have one, and a BOM that is
        // all of an input looks to it like the end of the file: skip it
        // here, and make csv_core's first read one that consumes nothing.
        let _ = core.read_record(b"x", &mut [], &mut []);
        let bom = if file_start && bytes.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        Records {
            core,
            bytes,
            text: "",
            at_eof,
            pos: bom,
            line: 1,
            fields: vec![0; 1024],
            ends: vec![0; Column::ALL.len() + 1],
            len: 0,
            split_line: None,
            split_ends: Vec::with_capacity(Column::ALL.len() + 1),
            record_end: 0,
            lines_at_record_end: 1,
            between_records: true,
        }
    }

    /// Checks the bytes for UTF-8 once, which for a block of lines costs a
    /// fraction of checking each line.
    fn check_text(mut self) -> Self {
        self.text = match std::str::from_utf8(self.bytes) {
            Ok(text) => text,
            Err(error) => {
                std::str::from_utf8(&self.bytes[..error.valid_up_to()]).unwrap_or_default()
            }
        };
        self
    }

    fn next(&mut self) -> Next {
        self.split_line = None;
        loop {
            let rest = &self.bytes[self.pos..];
            // The line's end, unless a quote comes first: then csv_core
            // reads the record.
            let newline = match memchr::memchr2(b'\n', b'"', rest) {
                Some(at) if rest[at] == b'"' => break,
                newline => newline,
            };
            let end = match newline {
                Some(end) => end,
                None if self.at_eof && !rest.is_empty() => rest.len(),
                // An unfinished line, or nothing left: csv_core says which.
                None => break,
            };
            let line = &rest[..end];
            let start_line = self.line;
            let start = self.pos;
            self.pos += end + usize::from(newline.is_some());
            self.line += u64::from(newline.is_some());
            if line.is_empty() {
                // A blank line, which csv_core skips too.
                continue;
            }
            self.split_ends.clear();
            push_commas(line, &mut self.split_ends);
            self.split_ends.push(line.len());
            self.split_line = Some(start..start + end);
            self.record_end = self.pos;
            self.lines_at_record_end = self.line;
            return Next::Record(usize::try_from(start_line).unwrap_or(usize::MAX));
        }
        self.core.set_line(self.line);
        let (mut out, mut nends) = (0, 0);
        loop {
            let input = &self.bytes[self.pos..];
            let flushing = input.is_empty();
            if flushing && !self.at_eof {
                self.between_records = out == 0 && nends == 0;
                return Next::Unfinished;
            }
            let (result, read, wrote, ended) =
                self.core
                    .read_record(input, &mut self.fields[out..], &mut self.ends[nends..]);
            self.pos += read;
            self.line = self.core.line();
            out += wrote;
            nends += ended;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    let len = self.fields.len() * 2;
                    self.fields.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::Record => {
                    self.len = nends;
                    self.record_end = self.pos;
                    let lines = self.core.line();
                    self.lines_at_record_end = lines;
                    // csv_core counts every line end it consumes: blank
                    // lines before the record, those inside its quoted
                    // fields and the one ending it (a record at the end of
                    // the file may have none).
                    let bytes = &self.fields[..out];
                    let inner = if bytes.contains(&b'\n') {
                        bytes.iter().filter(|&&b| b == b'\n').count() as u64
                    } else {
                        0
                    };
                    let line = lines.saturating_sub(inner + u64::from(!flushing)).max(1);
                    return Next::Record(usize::try_from(line).unwrap_or(usize::MAX));
                }
                csv_core::ReadRecordResult::End => return Next::End,
            }
        }
    }

    fn row(&self) -> Row<'_, '_> {
        if let Some(row) = self.line() {
            return row;
        }
        let ends = &self.ends[..self.len];
        Row {
            bytes: &self.fields[..ends.last().copied().unwrap_or(0)],
            ends,
            commas: false,
            text: None,
        }
    }

    /// The last record, when it is a line of the bytes split by hand: then
    /// its fields are the bytes' own and outlive the reader's next record.
    fn line(&self) -> Option<Row<'b, '_>> {
        let line = self.split_line.clone()?;
        Some(Row {
            bytes: &self.bytes[line.clone()],
            ends: &self.split_ends,
            commas: true,
            text: self.text.get(line),
        })
    }
}

/// How an events file is read: `bytes` per block, and up to `per_step`
/// blocks parsed in parallel while the next ones are read.
#[derive(Debug, Clone, Copy)]
struct Blocks {
    bytes: usize,
    per_step: usize,
}

impl Blocks {
    /// Blocks big enough that per-block set-up and the merge are noise
    /// (a block is some 15,000 rows), small enough that the few buffers a
    /// step needs stay small: every fresh page costs a fault and zeroing,
    /// which showed up as much as parsing in profiles. Two per thread even
    /// out their speeds.
    fn new() -> Blocks {
        Blocks {
            bytes: 1 << 20,
            per_step: 2 * rayon::current_num_threads().max(1),
        }
    }
}

/// Ids of names a block met that the site's names did not have yet carry
/// this bit and index the block's own names, until the block is merged.
const LOCAL: NameId = 1 << 31;

/// Reads one events file into `log`.
///
/// The file is read a step of blocks at a time. A step's bytes are cut at
/// line ends and the pieces parsed in parallel against the names known
/// before the step; a piece that turns out to end inside a quoted field
/// (its last line end was not a record's end) is kept up to its last whole
/// record and the pieces after it are read again in the next step, as is
/// the tail after the last whole record. Memory is the events plus two or
/// three steps of bytes, however long the file.
fn read_file<S: BuildHasher + Sync>(
    root: &Path,
    path: &Path,
    handoffs: Handoffs<S>,
    (log, later): (&mut EventLog, &mut Names),
    diagnostics: &mut Diagnostics,
    blocks: Blocks,
) {
    let file_name = display_path(root, path);
    let mut input = match std::fs::File::open(path) {
        Ok(input) => input,
        Err(err) => {
            diagnostics.push(Diagnostic::error(format!("cannot open: {err}")).in_file(file_name));
            return;
        }
    };
    let read_error = |err: std::io::Error, diagnostics: &mut Diagnostics| {
        diagnostics
            .push(Diagnostic::error(format!("cannot read: {err}")).in_file(file_name.clone()));
    };
    let file_len = input.metadata().map_or(0, |metadata| metadata.len());
    let step_bytes = blocks.bytes.max(1).saturating_mul(blocks.per_step.max(1));
    let mut buf = Vec::new();
    let mut eof = false;

    // The header: the first record that is not blank, read again from the
    // start with more bytes until it is whole.
    let (header_line, width, columns, body_start, body_line) = loop {
        let mut records = Records::new(&buf, eof, true);
        let found = loop {
            match records.next() {
                Next::Record(_) if records.row().is_blank() => {}
                Next::Record(line) => break Some(line),
                Next::Unfinished => break None,
                Next::End => {
                    diagnostics.push(
                        Diagnostic::error("no header row")
                            .in_file(file_name.clone())
                            .at_line(1)
                            .with_hint(
                                "the first line names the columns, e.g. `date,event,seller,handoff`",
                            ),
                    );
                    return;
                }
            }
        };
        if let Some(line) = found {
            let header = records.row();
            let Some(columns) = columns(header, &file_name, line, diagnostics) else {
                return;
            };
            let lines = usize::try_from(records.lines_at_record_end).unwrap_or(usize::MAX);
            break (line, header.len(), columns, records.record_end, lines);
        }
        match fill(&mut input, &mut buf, step_bytes) {
            Ok(at_end) => eof = at_end,
            Err(err) => return read_error(err, diagnostics),
        }
    };
    buf.drain(..body_start);
    let file = FileState {
        name: &file_name,
        columns,
        width,
    };

    let first_event = log.events.len();
    let (first_names, first_text) = (log.names.len(), log.names.text.len());
    let mut reserved = false;
    // The file's line that `buf` starts on.
    let mut line = body_line;
    let mut missing = [0u8; Column::ALL.len()];
    let mut incoming = Vec::new();
    let mut ids = Vec::new();
    // Pieces' event lists and names, kept from step to step: freed, they
    // would go back to the system and come back as fresh pages.
    let mut spare: Vec<Scratch> = Vec::new();
    // Set after a step that read no whole record: the next parses its bytes
    // in one piece, with more bytes if need be.
    let mut one_piece = false;
    loop {
        if eof && buf.is_empty() {
            break;
        }
        let at_eof = eof;
        let pieces = cut(&buf, if one_piece { 1 } else { blocks.per_step });
        let last = pieces.len() - 1;
        let mut scratch: Vec<Scratch> = (0..pieces.len())
            .map(|_| spare.pop().unwrap_or_default())
            .collect();
        // Reading the next step overlaps parsing this one, unless the
        // bytes in hand already make two steps (a long carried-over tail):
        // that bounds the buffer at three steps.
        let read_now = !eof && buf.len() < 2 * step_bytes;
        let known = Known {
            names: &log.names,
            handoffs: later,
        };
        let (parsed, read) = rayon::join(
            || {
                pieces
                    .par_iter()
                    .zip(scratch.par_drain(..))
                    .enumerate()
                    .map(|(i, (range, scratch))| {
                        let piece = Piece {
                            bytes: &buf[range.clone()],
                            at_eof: at_eof && i == last,
                            file_start: false,
                        };
                        read_piece(&file, handoffs, known, piece, scratch)
                    })
                    .collect::<Vec<Parsed>>()
            },
            || {
                if read_now {
                    fill(&mut input, &mut incoming, step_bytes)
                } else {
                    Ok(eof)
                }
            },
        );
        drop(scratch);

        // Keep pieces up to the first that did not end between records.
        let mut consumed = 0;
        for (i, mut part) in parsed.into_iter().enumerate() {
            let whole = part.ended || (i < last && part.between_records);
            let (used, newlines) = if whole {
                (pieces[i].len(), part.lines)
            } else {
                (part.record_end, part.lines_at_record_end)
            };
            for mut diagnostic in std::mem::take(&mut part.diagnostics).into_vec() {
                diagnostic.line = diagnostic.line.map(|at| at + line - 1);
                diagnostics.push(diagnostic);
            }
            for (all, found) in missing.iter_mut().zip(part.missing) {
                *all |= found;
            }
            merge((log, later), &mut part, &mut ids);
            spare.push(Scratch {
                events: part.events,
                names: part.names,
                handoffs: part.handoffs,
            });
            consumed += used;
            line += newlines;
            if !whole {
                break;
            }
        }
        if !reserved && consumed > 0 && file_len > 0 {
            // One reservation from the first step's events per byte keeps
            // the list from being copied as it grows; pages reserved but
            // never written cost nothing.
            reserved = true;
            let expected = |so_far: usize| {
                let per_byte = so_far as f64 / consumed as f64;
                ((file_len as f64 * per_byte * 1.05) as usize).saturating_sub(so_far)
            };
            log.events.reserve(expected(log.events.len() - first_event));
            // The names too: grown by doubling, they were copied again and
            // again into fresh memory in the serial merge (4 % of a cold
            // build). Names repeat, so this guesses high, which costs
            // address space and never memory, except for the table, whose
            // entries land anywhere in it: that is reserved for half.
            let names = expected(log.names.len() - first_names);
            let text = expected(log.names.text.len() - first_text);
            log.names.reserve(names, text);
        }
        buf.drain(..consumed);
        match read {
            Ok(at_end) => eof = at_end,
            Err(err) => {
                read_error(err, diagnostics);
                break;
            }
        }
        if read_now {
            buf.extend_from_slice(&incoming);
            incoming.clear();
        }
        if at_eof && buf.is_empty() {
            break;
        }
        one_piece = consumed == 0;
        if one_piece && !read_now && !eof {
            // A record longer than the bytes in hand.
            match fill(&mut input, &mut buf, step_bytes) {
                Ok(at_end) => eof = at_end,
                Err(err) => {
                    read_error(err, diagnostics);
                    break;
                }
            }
        }
    }

    for column in Column::ALL {
        let kinds = missing[column as usize];
        if kinds == 0 {
            continue;
        }
        let kinds: Vec<String> = EventKind::ALL
            .into_iter()
            .filter(|kind| kinds & kind.bit() != 0)
            .map(|kind| format!("`{}`", kind.key()))
            .collect();
        diagnostics.push(file.error(
            header_line,
            format!(
                "missing column `{}` (needed by {} events)",
                column.name(),
                join_and(&kinds)
            ),
        ));
    }
}

/// Appends up to `want` bytes of `input` to `buf`; true at the end of the file.
fn fill(input: &mut std::fs::File, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    buf.reserve(want);
    let read = input.take(want as u64).read_to_end(buf)?;
    Ok(read < want)
}

/// Cuts `bytes` into up to `pieces` ranges, every one but the last ending
/// just after a `\n`.
fn cut(bytes: &[u8], pieces: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::with_capacity(pieces);
    let mut start = 0;
    for i in 1..pieces {
        let from = (bytes.len() * i / pieces).max(start);
        match bytes[from..].iter().position(|&b| b == b'\n') {
            Some(newline) if from + newline + 1 < bytes.len() => {
                ranges.push(start..from + newline + 1);
                start = from + newline + 1;
            }
            _ => break,
        }
    }
    ranges.push(start..bytes.len());
    ranges
}

/// Moves a piece's events into `log`, giving the names it met first their
/// ids in the site's names, in the order a single pass would, and its notes
/// their places in the log's notes.
fn merge((log, later): (&mut EventLog, &mut Names), part: &mut Parsed, ids: &mut Vec<NameId>) {
    let new = &part.names;
    ids.clear();
    ids.extend((0..new.len()).map(|id| {
        log.names
            .intern_hashed(new.hashes[id], new.resolve(id as NameId))
    }));
    part.names.clear();
    // Only with `Handoffs::Later`: handoff ids as names.
    let new = &part.handoffs;
    let handoffs: Vec<NameId> = (0..new.len())
        .map(|id| later.intern_hashed(new.hashes[id], new.resolve(id as NameId)))
        .collect();
    part.handoffs.clear();
    let notes = log.notes.len() as u32;
    let shift_notes = notes > 0 && !part.notes.is_empty();
    log.notes.append(&mut part.notes);
    // The copy runs on both cores: the other one is idle while a step
    // merges, and the copy is where the log's pages are first touched,
    // which in a VM costs more than the copy itself.
    if ids.is_empty() && handoffs.is_empty() && !shift_notes {
        log.events.par_extend(part.events.par_iter().copied());
    } else {
        let global = |ids: &[NameId], id: NameId| {
            if id & LOCAL == 0 || id == NONE {
                id
            } else {
                ids[(id & !LOCAL) as usize]
            }
        };
        log.events
            .par_extend(part.events.par_iter().map(|&event| Event {
                seller: global(ids, event.seller),
                handoff: global(&handoffs, event.handoff),
                account: global(ids, event.account),
                partner: global(ids, event.partner),
                note: if event.note == NONE {
                    NONE
                } else {
                    event.note + notes
                },
                ..event
            }));
    }
    part.events.clear();
}

/// Bytes of an events file to parse in one go.
struct Piece<'b> {
    bytes: &'b [u8],
    /// Whether the bytes run to the end of the file.
    at_eof: bool,
    /// Whether the bytes start the file (and so may start with a BOM).
    file_start: bool,
}

/// What one piece of an events file held.
struct Parsed {
    events: Vec<Event>,
    /// Names the site's names did not have; ids with the `LOCAL` bit are
    /// into these.
    names: Names,
    /// The same for handoff ids read for [`Handoffs::Later`].
    handoffs: Names,
    /// Notes of the piece's events, which index them from 0.
    notes: Vec<Box<str>>,
    /// Lines counted from 1 at the start of the piece.
    diagnostics: Diagnostics,
    /// Kinds (as bits) seen needing each missing column.
    missing: [u8; Column::ALL.len()],
    /// Where the last whole record ended, and the line ends before it.
    record_end: usize,
    lines_at_record_end: usize,
    /// Whether the piece ended between records, and its line ends (quoted
    /// ones included).
    between_records: bool,
    lines: usize,
    /// Whether the piece ended the file and was read to its end.
    ended: bool,
}

/// A piece's event list and new names, empty, with room from earlier pieces.
#[derive(Default)]
struct Scratch {
    events: Vec<Event>,
    names: Names,
    handoffs: Names,
}

/// The names, and handoff ids read for [`Handoffs::Later`], known before a
/// step: read-only while its pieces are read in parallel.
#[derive(Clone, Copy)]
struct Known<'a> {
    names: &'a Names,
    handoffs: &'a Names,
}

fn read_piece<S: BuildHasher + Sync>(
    file: &FileState,
    handoffs: Handoffs<S>,
    known: Known,
    piece: Piece,
    Scratch {
        mut events,
        names: new,
        handoffs: new_handoffs,
    }: Scratch,
) -> Parsed {
    // Rows are rarely under 32 bytes, so this never grows.
    events.reserve(piece.bytes.len() / 32);
    let mut rows = RowReader {
        handoffs,
        sorted_ids: None,
        suggestions: HashMap::new(),
        known,
        names: new,
        handoff_names: new_handoffs,
        sellers: Recent::default(),
        partners: Recent::default(),
        notes: Vec::new(),
        events,
        pending: Vec::with_capacity(BATCH),
        missing: [0; Column::ALL.len()],
    };
    let mut diagnostics = Diagnostics::new();
    let mut records = Records::new(piece.bytes, piece.at_eof, piece.file_start).check_text();
    let mut ended = false;
    loop {
        let line = match records.next() {
            Next::Record(line) => line,
            Next::Unfinished => break,
            Next::End => {
                ended = true;
                break;
            }
        };
        let row = records.row();
        if row.is_blank() {
            continue;
        }
        if row.len() != file.width {
            diagnostics.push(
                file.error(
                    line,
                    format!(
                        "row has {} fields but the header has {}",
                        row.len(),
                        file.width
                    ),
                )
                .with_hint("quote a field that contains a comma: \"Acme, Inc.\""),
            );
            continue;
        }
        match records.line() {
            Some(row) => {
                if let Some(parts) = rows.read_row(row, line, file, &mut diagnostics) {
                    rows.defer(parts);
                }
            }
            // Its names live in the reader's buffer, which the next record
            // overwrites.
            None => {
                if let Some(parts) = rows.read_row(row, line, file, &mut diagnostics) {
                    rows.resolve();
                    rows.push_now(parts);
                }
            }
        }
    }
    rows.resolve();
    let newlines = |lines: u64| usize::try_from(lines.saturating_sub(1)).unwrap_or(usize::MAX);
    Parsed {
        events: rows.events,
        names: rows.names,
        handoffs: rows.handoff_names,
        notes: rows.notes,
        diagnostics,
        missing: rows.missing,
        record_end: records.record_end,
        lines_at_record_end: newlines(records.lines_at_record_end),
        between_records: records.between_records,
        lines: newlines(records.line),
        ended,
    }
}

/// `str::trim`, skipping the work for the usual field that starts and ends
/// with a printable ASCII character.
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        // Most rows leave most columns empty.
        (None, _) => text,
        _ => text.trim(),
    }
}

/// Strict `YYYY-MM-DD`: jiff alone would also take other ISO 8601 forms.
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i32> {
        b.get(range)?.iter().try_fold(0i32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i16::try_from(digits(0..4)?).ok()?;
    let month = i8::try_from(digits(5..7)?).ok()?;
    let day = i8::try_from(digits(8..10)?).ok()?;
    Date::new(year, month, day).ok()
}

/// Maps each known column to its field index, reporting unknown,
/// unnamed, duplicate and missing required columns. `None` when a column
/// every row needs is missing: then no row can be valid, and one error
/// says so better than one per row.
fn columns(
    header: Row,
    file_name: &str,
    line: usize,
    diagnostics: &mut Diagnostics,
) -> Option<[Option<usize>; Column::ALL.len()]> {
    let mut columns = [None; Column::ALL.len()];
    let report = |diagnostics: &mut Diagnostics, diagnostic: Diagnostic| {
        diagnostics.push(diagnostic.in_file(file_name).at_line(line));
    };
    for (index, raw) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(raw);
        let name = name.trim().trim_start_matches('\u{feff}').trim();
        if name.is_empty() {
            report(
                diagnostics,
                Diagnostic::warning(format!(
                    "column {} has no name; its values are ignored",
                    index + 1
                )),
            );
            continue;
        }
        match Column::ALL.into_iter().find(|column| column.name() == name) {
            Some(column) if columns[column as usize].is_some() => report(
                diagnostics,
                Diagnostic::error(format!("duplicate column `{name}`")),
            ),
            Some(column) => columns[column as usize] = Some(index),
            None => {
                let mut warning = Diagnostic::warning(format!("unknown column `{name}`"));
                if let Some(close) = did_you_mean(name, Column::ALL.map(Column::name)) {
                    warning = warning.with_hint(format!("did you mean `{close}`?"));
                }
                report(diagnostics, warning);
            }
        }
    }
    let mut complete = true;
    for column in Column::REQUIRED {
        if columns[column as usize].is_none() {
            complete = false;
            report(
                diagnostics,
                Diagnostic::error(format!("missing column `{}`", column.name()))
                    .with_hint("the header row needs date, event and seller columns"),
            );
        }
    }
    complete.then_some(columns)
}

/// The message of an event naming no brief: also how the site's loader
/// recognises the ones that only echo a brief that failed to parse.
pub fn unknown_handoff(id: &str) -> String {
    format!("unknown handoff `{id}`")
}

struct RowReader<'a, 'h, 'p, S> {
    handoffs: Handoffs<'a, 'h, S>,
    /// Brief ids in a fixed order, so suggestions do not depend on hashing;
    /// built on the first unknown handoff only.
    sorted_ids: Option<Vec<&'h str>>,
    /// Suggestions per unknown id, so a million rows naming the same typo
    /// cost one search.
    suggestions: HashMap<Box<str>, Option<String>>,
    known: Known<'a>,
    /// Names first met in this piece: see `LOCAL`.
    names: Names,
    /// Handoff ids first met in this piece, for [`Handoffs::Later`].
    handoff_names: Names,
    sellers: Recent,
    partners: Recent,
    notes: Vec<Box<str>>,
    events: Vec<Event>,
    /// Events read whose names are still to intern: see [`RowReader::resolve`].
    pending: Vec<Pending<'p>>,
    /// Kinds (as bits) seen needing each missing column.
    missing: [u8; Column::ALL.len()],
}

/// A valid row's event and the names it still needs ids for.
struct Parts<'t> {
    event: Event,
    seller: &'t str,
    account: &'t str,
    partner: &'t str,
}

/// An event in `RowReader::events` whose names are still to intern.
struct Pending<'p> {
    at: usize,
    seller: &'p str,
    account: &'p str,
    partner: &'p str,
    hash: u64,
    /// The account's id among the names known before the piece.
    known: Option<NameId>,
}

impl<'p> Pending<'p> {
    /// The event at `at`, its account not yet looked up.
    fn new(at: usize, parts: &Parts<'p>) -> Pending<'p> {
        Pending {
            at,
            seller: parts.seller,
            account: parts.account,
            partner: parts.partner,
            hash: 0,
            known: None,
        }
    }
}

/// Rows whose names [`RowReader::resolve`] interns at once.
const BATCH: usize = 32;

impl<'p, S: BuildHasher> RowReader<'_, '_, 'p, S> {
    fn intern_hashed(&mut self, hash: u64, name: &str) -> NameId {
        match self.known.names.get_hashed(hash, name) {
            Some(id) => id,
            None => self.names.intern_hashed(hash, name) | LOCAL,
        }
    }

    fn intern_handoff(&mut self, id: &str) -> NameId {
        let hash = Names::hash(id);
        match self.known.handoffs.get_hashed(hash, id) {
            Some(id) => id,
            None => self.handoff_names.intern_hashed(hash, id) | LOCAL,
        }
    }

    /// [`RowReader::intern_hashed`] for a column of few names, through its
    /// [`Recent`] names: the same id, without the big table's cache misses.
    fn intern_recent(&mut self, column: Column, name: &str) -> NameId {
        let hash = Names::hash(name);
        let recent = match column {
            Column::Partner => &self.partners,
            _ => &self.sellers,
        };
        if let Some(index) = recent.names.get_hashed(hash, name) {
            return recent.ids[index as usize];
        }
        let id = self.intern_hashed(hash, name);
        let recent = match column {
            Column::Partner => &mut self.partners,
            _ => &mut self.sellers,
        };
        if recent.ids.len() < RECENT {
            recent.names.intern_hashed(hash, name);
            recent.ids.push(id);
        }
        id
    }

    /// Checks a row: its event, with its names for [`RowReader::defer`]
    /// to intern, if it is valid; its problems reported if not.
    fn read_row<'t>(
        &mut self,
        record: Row<'t, '_>,
        line: usize,
        file: &FileState,
        diagnostics: &mut Diagnostics,
    ) -> Option<Parts<'t>> {
        let mut fields = [""; Column::ALL.len()];
        // One check of the whole row; only a row that fails it is checked
        // field by field, to name the column (ignored columns may hold
        // anything). Fields end at ASCII commas, so slicing the checked
        // text at their ranges always lands on character boundaries.
        let whole = record
            .text
            .or_else(|| std::str::from_utf8(record.bytes).ok());
        for column in Column::ALL {
            let Some(index) = file.columns[column as usize] else {
                continue;
            };
            let checked = whole.and_then(|text| text.get(record.range(index)?));
            let raw = record.get(index).unwrap_or_default();
            match checked.map_or_else(|| std::str::from_utf8(raw), Ok) {
                Ok(text) => fields[column as usize] = trim(text),
                Err(_) => {
                    diagnostics
                        .push(file.error(line, format!("`{}` is not valid UTF-8", column.name())));
                    return None;
                }
            }
        }
        let field = |column: Column| fields[column as usize];
        // Allocates only for bad rows.
        let mut errors: Vec<Diagnostic> = Vec::new();
        let mut column_missing = false;
        let mut error = |diagnostic: Diagnostic| errors.push(diagnostic);

        let date = match field(Column::Date) {
            "" => {
                error(
                    Diagnostic::error("row needs a `date`")
                        .with_hint("write the day it happened as YYYY-MM-DD"),
                );
                None
            }
            text => {
                let date = parse_date(text);
                if date.is_none() {
                    error(
                        Diagnostic::error(format!("bad date `{text}`: expected YYYY-MM-DD"))
                            .with_hint(
                                "use a real calendar date with four-digit year, like 2026-10-02",
                            ),
                    );
                }
                date
            }
        };
        let kind = match field(Column::Event) {
            "" => {
                error(Diagnostic::error("row needs an `event`").with_hint(format!(
                    "events are {}",
                    join_and(&EventKind::ALL.map(|k| format!("`{}`", k.key())))
                )));
                None
            }
            text => {
                let kind = EventKind::parse(text);
                if kind.is_none() {
                    let hint = match did_you_mean(text, EventKind::ALL.map(EventKind::key)) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!(
                            "events are {}",
                            join_and(&EventKind::ALL.map(|k| format!("`{}`", k.key())))
                        ),
                    };
                    error(Diagnostic::error(format!("unknown event `{text}`")).with_hint(hint));
                }
                kind
            }
        };
        if field(Column::Seller).is_empty() {
            error(
                Diagnostic::error("row needs a `seller`")
                    .with_hint("name the seller exactly as the briefs do"),
            );
        }

        if let Some(kind) = kind {
            for &column in kind.needs() {
                if file.columns[column as usize].is_none() {
                    // Reported once per file, after the last row.
                    self.missing[column as usize] |= kind.bit();
                    column_missing = true;
                } else if field(column).is_empty() {
                    error(
                        Diagnostic::error(format!(
                            "`{}` event needs {}",
                            kind.key(),
                            column.with_article()
                        ))
                        .with_hint(format!("fill the `{}` column on this row", column.name())),
                    );
                }
            }
        }

        let handoff = match (field(Column::Handoff), self.handoffs) {
            ("", _) => None,
            (id, Handoffs::Later) => Some(self.intern_handoff(id)),
            (id, Handoffs::Check(handoffs)) => match handoffs.get(id) {
                Some(handoff) => {
                    if let (Some(date), Some(handoff_date)) = (date, handoff.date)
                        && date < handoff_date
                    {
                        error(
                            Diagnostic::error(format!(
                                "event dated {date} is before handoff `{id}` ({handoff_date})"
                            ))
                            .with_hint("a seller cannot answer a handoff before it lands: check the date or the id"),
                        );
                    }
                    Some(handoff.index)
                }
                None => {
                    let mut diagnostic = Diagnostic::error(unknown_handoff(id));
                    diagnostic = match self.suggest_handoff(id) {
                        Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
                        None => diagnostic.with_hint(
                            "use the id of a brief: its file name as a slug, or its `id` key",
                        ),
                    };
                    error(diagnostic);
                    None
                }
            },
        };
        let partner_team_present = match field(Column::PartnerTeamPresent) {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            text => {
                error(
                    Diagnostic::error(format!(
                        "bad partner_team_present `{text}`: expected `yes` or `no`"
                    ))
                    .with_hint("was anyone from partner marketing in the review? write yes or no"),
                );
                None
            }
        };
        let about = match field(Column::About) {
            "" => None,
            text => {
                let about = About::parse(text);
                if about.is_none() {
                    let mut diagnostic = Diagnostic::error(format!(
                        "bad about `{text}`: expected `account`, `partner` or `value`"
                    ));
                    diagnostic = match did_you_mean(text, About::ALL.map(About::key)) {
                        Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
                        None => diagnostic.with_hint(
                            "`value` is for disagreements about whether handoffs are worth reading",
                        ),
                    };
                    error(diagnostic);
                }
                about
            }
        };

        if !errors.is_empty() {
            for diagnostic in errors {
                diagnostics.push(diagnostic.in_file(file.name).at_line(line));
            }
            return None;
        }
        let (false, Some(date), Some(kind)) = (column_missing, date, kind) else {
            return None;
        };
        let note = match field(Column::Note) {
            "" => NONE,
            text => {
                self.notes.push(text.into());
                self.notes.len() as u32 - 1
            }
        };
        let event = Event {
            date,
            kind,
            about,
            partner_team_present,
            seller: NONE,
            handoff: handoff.unwrap_or(NONE),
            account: NONE,
            partner: NONE,
            note,
        };
        Some(Parts {
            event,
            seller: field(Column::Seller),
            account: field(Column::Account),
            partner: field(Column::Partner),
        })
    }

    /// Keeps an event whose names are the piece's own bytes, to intern them
    /// with those of the next rows.
    fn defer(&mut self, parts: Parts<'p>) {
        self.pending.push(Pending::new(self.events.len(), &parts));
        self.events.push(parts.event);
        if self.pending.len() >= BATCH {
            self.resolve();
        }
    }

    /// Interns the pending events' names. Finding an account among the
    /// site's names (hundreds of thousands of them) is a few cache misses
    /// and little work: looked up one row at a time, each waited for its
    /// misses; looked up a batch at a time, the lookups are independent of
    /// each other and the processor overlaps their misses. Only those
    /// lookups are batched: names new to the piece are interned in row
    /// order, seller, account then partner, so ids come out as they always
    /// have.
    fn resolve(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        for row in &mut pending {
            self.look_up_account(row);
        }
        for row in pending.drain(..) {
            let [seller, account, partner] = self.ids(&row);
            let event = &mut self.events[row.at];
            event.seller = seller;
            event.account = account;
            event.partner = partner;
        }
        self.pending = pending;
    }

    /// Pushes an event with its names interned, after any pending ones.
    fn push_now(&mut self, parts: Parts) {
        let mut row = Pending::new(self.events.len(), &parts);
        self.look_up_account(&mut row);
        let [seller, account, partner] = self.ids(&row);
        self.events.push(Event {
            seller,
            account,
            partner,
            ..parts.event
        });
    }

    /// Finds `row`'s account among the names known before the piece.
    fn look_up_account(&self, row: &mut Pending) {
        if !row.account.is_empty() {
            row.hash = Names::hash(row.account);
            row.known = self.known.names.get_hashed(row.hash, row.account);
        }
    }

    /// The ids of `row`'s seller, account and partner, interned in this
    /// order so ids come out as they always have.
    fn ids(&mut self, row: &Pending) -> [NameId; 3] {
        let seller = self.intern_recent(Column::Seller, row.seller);
        let account = match (row.account, row.known) {
            ("", _) => NONE,
            (_, Some(id)) => id,
            (name, None) => self.names.intern_hashed(row.hash, name) | LOCAL,
        };
        let partner = match row.partner {
            "" => NONE,
            name => self.intern_recent(Column::Partner, name),
        };
        [seller, account, partner]
    }

    fn suggest_handoff(&mut self, id: &str) -> Option<String> {
        if let Some(suggestion) = self.suggestions.get(id) {
            return suggestion.clone();
        }
        let Handoffs::Check(handoffs) = self.handoffs else {
            return None;
        };
        let ids = self.sorted_ids.get_or_insert_with(|| {
            let mut ids: Vec<&str> = handoffs.keys().copied().collect();
            ids.sort_unstable();
            ids
        });
        let suggestion = did_you_mean(id, ids.iter().copied()).map(str::to_string);
        self.suggestions.insert(id.into(), suggestion.clone());
        suggestion
    }
}

/// Names a [`Recent`] holds at most.
const RECENT: usize = 1024;

/// The first names one column met in a piece, with their ids. A log's
/// sellers and partners are a few hundred names, on most rows; finding them
/// in the table that also holds every account (hundreds of thousands) was
/// a tenth of a cold build's samples, mostly cache misses, where a table of
/// a few hundred names stays in cache. A column of more names than that
/// gains nothing and loses little: the names beyond them are looked up in
/// the big table as before.
#[derive(Default)]
struct Recent {
    /// Index `i` here is `ids[i]` in the log's or the piece's names.
    names: Names,
    ids: Vec<NameId>,
}

/// What every piece of a file needs to know.
struct FileState<'a> {
    name: &'a str,
    columns: [Option<usize>; Column::ALL.len()],
    /// Fields in the header row.
    width: usize,
}

impl FileState<'_> {
    fn error(&self, line: usize, message: String) -> Diagnostic {
        Diagnostic::error(message).in_file(self.name).at_line(line)
    }
}

/// "`a`", "`a` and `b`", "`a`, `b` and `c`".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DEFAULT: &str = "content/events.csv";

    /// Three briefs, one a draft; the events tests of `unchecked` share them.
    pub(super) fn handoffs() -> HashMap<&'static str, HandoffRef> {
        let brief = |index, date: Option<&str>, draft| HandoffRef {
            index,
            date: date.map(|d| d.parse().unwrap()),
            draft,
        };
        HashMap::from([
            ("acme-oct", brief(0, Some("2026-02-03"), false)),
            ("beta-nov", brief(1, Some("2026-03-01"), false)),
            ("draft-one", brief(2, None, true)),
        ])
    }

    /// Writes `files` under a fresh site folder and reads `sources` from it.
    fn read(files: &[(&str, &str)], sources: &[(&str, Option<usize>)]) -> (EventLog, Vec<String>) {
        let site = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = site.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let sources: Vec<EventSource> = sources
            .iter()
            .map(|&(pattern, line)| EventSource {
                pattern: pattern.into(),
                line,
            })
            .collect();
        let mut diagnostics = Diagnostics::new();
        let log = read_events(
            site.path(),
            &sources,
            &handoffs(),
            Names::default(),
            &mut diagnostics,
        );
        let messages = diagnostics.iter().map(ToString::to_string).collect();
        (log, messages)
    }

    fn read_csv(text: &str) -> (EventLog, Vec<String>) {
        read(&[(DEFAULT, text)], &[(DEFAULT, None)])
    }

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn names_get_ids_in_row_order_whatever_the_batching() {
        // Accounts are looked up a batch of rows at a time; new names must
        // still get ids row by row, seller, account then partner, across
        // batches and around quoted rows, which are interned at once.
        let mut text = String::from("date,event,seller,handoff,account,partner,note\n");
        let mut rows: Vec<[String; 3]> = Vec::new();
        for i in 0..3 * BATCH + 5 {
            let seller = format!("S{}", i % 7);
            let (account, partner) = match i % 4 {
                0 => (format!("A{i}"), String::new()),
                1 => (format!("S{}", (i + 3) % 7), format!("A{}", i / 2)),
                2 => (format!("A{}", i / 3), format!("P{}", i % 5)),
                _ => ("X".to_string(), format!("A{}", i + 1)),
            };
            let note = if i % 9 == 4 { "\"a, b\"" } else { "" };
            text.push_str(&format!(
                "2026-02-05,requested_help,{seller},,{account},{partner},{note}\n"
            ));
            rows.push([seller, account, partner]);
        }
        let mut expected: Vec<&str> = Vec::new();
        for name in rows.iter().flatten() {
            if !name.is_empty() && !expected.contains(&name.as_str()) {
                expected.push(name);
            }
        }
        let (log, messages) = read_csv(&text);
        assert!(messages.is_empty(), "{messages:?}");
        let names: Vec<&str> = (0..log.names.len() as NameId)
            .map(|id| log.names.resolve(id))
            .collect();
        assert_eq!(names, expected);
        for (event, [seller, account, partner]) in log.events.iter().zip(&rows) {
            assert_eq!(log.names.resolve(event.seller), seller);
            assert_eq!(
                event.account().map(|id| log.names.resolve(id)),
                Some(&**account)
            );
            let partner = Some(&**partner).filter(|partner| !partner.is_empty());
            assert_eq!(event.partner().map(|id| log.names.resolve(id)), partner);
        }
    }

    #[test]
    fn bom_crlf_quotes_and_whitespace() {
        let (log, messages) = read_csv(
            "\u{feff}date, event ,seller,handoff,note\r\n\
             2026-02-04,accepted,\"Lee, Ana\",acme-oct,\"said \"\"yes\"\"\r\nthen left\"\r\n  \
             2026-02-05 , acted ,  Bo ,acme-oct,  \r\n\
             2026-13-01,acted,Bo,acme-oct,\r\n",
        );
        assert_eq!(
            messages,
            [
                "content/events.csv:5: error: bad date `2026-13-01`: expected YYYY-MM-DD\n  hint: use a real calendar date with four-digit year, like 2026-10-02"
            ]
        );
        let [first, second] = log.events.as_slice() else {
            panic!("two events expected, got {:?}", log.events);
        };
        assert_eq!(first.date, d("2026-02-04"));
        assert_eq!(first.kind, EventKind::Accepted);
        assert_eq!(log.names.resolve(first.seller), "Lee, Ana");
        assert_eq!(first.handoff(), Some(0));
        assert_eq!(log.note(first), Some("said \"yes\"\r\nthen left"));
        assert_eq!(second.kind, EventKind::Acted);
        assert_eq!(log.names.resolve(second.seller), "Bo");
        assert_eq!(log.note(second), None);
    }

    #[test]
    fn blank_lines_keep_line_numbers_true() {
        let (log, messages) =
            read_csv("\ndate,event,seller\n\n2026-02-04,bogus,S\n\r\n   \n2026-02-04,acepted,S");
        assert_eq!(
            messages,
            [
                "content/events.csv:4: error: unknown event `bogus`\n  hint: events are \
                 `accepted`, `declined`, `acted`, `requested_help`, `pipeline_mention`, \
                 `partner_meeting` and `disagreement`",
                "content/events.csv:7: error: unknown event `acepted`\n  hint: did you mean `accepted`?",
            ]
        );
        assert!(log.events.is_empty());
    }

    #[test]
    fn every_kind_with_its_columns() {
        let (log, messages) = read_csv(
            "date,event,seller,handoff,account,partner,about,partner_team_present,note\n\
             2026-02-04,accepted,S,acme-oct,,,,,\n\
             2026-02-05,declined,S,beta-nov,,,,,\n\
             2026-02-06,acted,S,draft-one,,,,,\n\
             2026-02-07,requested_help,S,,Acme,,,,\n\
             2026-02-08,pipeline_mention,S,,Acme,,,no,\n\
             2026-02-09,partner_meeting,T,,,Datadog,,,first call\n\
             2026-02-10,disagreement,T,acme-oct,Acme,Datadog,value,yes,\n",
        );
        assert_eq!(
            messages,
            [
                "content/events.csv:3: error: event dated 2026-02-05 is before handoff `beta-nov` (2026-03-01)\n  hint: a seller cannot answer a handoff before it lands: check the date or the id"
            ]
        );
        let names = &log.names;
        let kinds: Vec<EventKind> = log.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::Accepted,
                // An event on a draft is valid; leaving it out is the caller's job.
                EventKind::Acted,
                EventKind::RequestedHelp,
                EventKind::PipelineMention,
                EventKind::PartnerMeeting,
                EventKind::Disagreement,
            ]
        );
        let [accepted, acted, help, mention, meeting, disagreement] = log.events.as_slice() else {
            panic!("six events expected");
        };
        assert_eq!(accepted.handoff(), Some(0));
        assert_eq!(acted.handoff(), Some(2));
        assert_eq!(help.account().map(|id| names.resolve(id)), Some("Acme"));
        assert_eq!(help.partner(), None);
        assert_eq!(mention.partner_team_present, Some(false));
        assert_eq!(
            meeting.partner().map(|id| names.resolve(id)),
            Some("Datadog")
        );
        assert_eq!(log.note(meeting), Some("first call"));
        assert_eq!(names.resolve(meeting.seller), "T");
        // Optional columns on other kinds are still read.
        assert_eq!(disagreement.about, Some(About::Value));
        assert_eq!(disagreement.partner_team_present, Some(true));
        assert_eq!(disagreement.handoff(), Some(0));
        assert_eq!(disagreement.account(), help.account());
    }

    #[test]
    fn every_bad_row_is_reported() {
        let (log, messages) = read_csv(
            "event,date,seller,handoff,account,partner,about,partner_team_present\n\
             accepted,2026-02-04,S,acme-ot,,,,\n\
             accepted,2026-02-04,S,zzz,,,,\n\
             accepted,2026-01-01,S,acme-oct,,,,\n\
             pipeline_mention,2026-02-04,S,,Acme,,,maybe\n\
             disagreement,2026-02-04,S,,,,acount,\n\
             disagreement,2026-02-04,S,,,,price,\n\
             accepted,2026-02-04,S,,,,,\n\
             requested_help,2026-02-04,S,,,,,\n\
             pipeline_mention,2026-02-04,S,,,,,\n\
             partner_meeting,2026-02-04,S,,,,,\n\
             disagreement,2026-02-04,S,,,,,\n\
             ,,,,,,,\n\
             acted,2026-02-04,S,acme-oct\n\
             acted,2026-02-04,,acme-oct,,,,\n\
             acted,02/04/2026,S,acme-oct,,,,\n\
             acted,2026-02-04,S,acme-oct,,,,\n",
        );
        let expected = [
            "content/events.csv:2: error: unknown handoff `acme-ot`\n  hint: did you mean `acme-oct`?",
            "content/events.csv:3: error: unknown handoff `zzz`\n  hint: use the id of a brief: its file name as a slug, or its `id` key",
            "content/events.csv:4: error: event dated 2026-01-01 is before handoff `acme-oct` (2026-02-03)\n  hint: a seller cannot answer a handoff before it lands: check the date or the id",
            "content/events.csv:5: error: bad partner_team_present `maybe`: expected `yes` or `no`\n  hint: was anyone from partner marketing in the review? write yes or no",
            "content/events.csv:6: error: bad about `acount`: expected `account`, `partner` or `value`\n  hint: did you mean `account`?",
            "content/events.csv:7: error: bad about `price`: expected `account`, `partner` or `value`\n  hint: `value` is for disagreements about whether handoffs are worth reading",
            "content/events.csv:8: error: `accepted` event needs a `handoff`\n  hint: fill the `handoff` column on this row",
            "content/events.csv:9: error: `requested_help` event needs an `account`\n  hint: fill the `account` column on this row",
            "content/events.csv:10: error: `pipeline_mention` event needs an `account`\n  hint: fill the `account` column on this row",
            "content/events.csv:10: error: `pipeline_mention` event needs a `partner_team_present`\n  hint: fill the `partner_team_present` column on this row",
            "content/events.csv:11: error: `partner_meeting` event needs a `partner`\n  hint: fill the `partner` column on this row",
            "content/events.csv:12: error: `disagreement` event needs an `about`\n  hint: fill the `about` column on this row",
            "content/events.csv:14: error: row has 4 fields but the header has 8\n  hint: quote a field that contains a comma: \"Acme, Inc.\"",
            "content/events.csv:15: error: row needs a `seller`\n  hint: name the seller exactly as the briefs do",
            "content/events.csv:16: error: bad date `02/04/2026`: expected YYYY-MM-DD\n  hint: use a real calendar date with four-digit year, like 2026-10-02",
        ];
        assert_eq!(messages, expected);
        assert_eq!(log.events.len(), 1);
    }

    #[test]
    fn a_missing_column_is_reported_once() {
        let (log, messages) = read_csv(
            "date,event,seller\n\
             2026-02-04,accepted,S\n\
             2026-02-04,acted,S\n\
             2026-02-05,accepted,S\n\
             2026-02-05,partner_meeting,S\n\
             2026-02-05,requested_help,S\n\
             2026-02-05,disagreement,S\n\
             2026-02-05,pipeline_mention,S\n",
        );
        assert_eq!(
            messages,
            [
                "content/events.csv:1: error: missing column `handoff` (needed by `accepted` and `acted` events)",
                "content/events.csv:1: error: missing column `account` (needed by `requested_help` and `pipeline_mention` events)",
                "content/events.csv:1: error: missing column `partner` (needed by `partner_meeting` events)",
                "content/events.csv:1: error: missing column `about` (needed by `disagreement` events)",
                "content/events.csv:1: error: missing column `partner_team_present` (needed by `pipeline_mention` events)",
            ]
        );
        assert!(log.events.is_empty());
    }

    #[test]
    fn a_missing_required_column_stops_the_file() {
        let (log, messages) =
            read_csv("date,seller,handoff\n2026-02-04,S,acme-oct\nnot,even,valid,csv\n");
        assert_eq!(
            messages,
            [
                "content/events.csv:1: error: missing column `event`\n  hint: the header row needs date, event and seller columns"
            ]
        );
        assert!(log.events.is_empty());
    }

    #[test]
    fn unknown_and_duplicate_columns() {
        let (log, messages) = read_csv(
            "date,event,seller,handof,colour,,date\n2026-02-04,partner_meeting,S,x,red,,2026-02-05\n",
        );
        assert_eq!(
            messages,
            [
                "content/events.csv:1: warning: unknown column `handof`\n  hint: did you mean `handoff`?",
                "content/events.csv:1: warning: unknown column `colour`",
                "content/events.csv:1: warning: column 6 has no name; its values are ignored",
                "content/events.csv:1: error: duplicate column `date`",
                "content/events.csv:1: error: missing column `partner` (needed by `partner_meeting` events)",
            ]
        );
        assert!(log.events.is_empty());
    }

    #[test]
    fn an_empty_file_has_no_header() {
        let (_, messages) = read_csv("\n\n");
        assert_eq!(
            messages,
            [
                "content/events.csv:1: error: no header row\n  hint: the first line names the \
              columns, e.g. `date,event,seller,handoff`"
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_reported_on_its_row() {
        let site = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(site.path().join("content")).unwrap();
        std::fs::write(
            site.path().join(DEFAULT),
            b"date,event,seller,partner\n2026-02-04,partner_meeting,S\xff,P\n2026-02-04,partner_meeting,S,P\n",
        )
        .unwrap();
        let mut diagnostics = Diagnostics::new();
        let log = read_events(
            site.path(),
            &[EventSource {
                pattern: DEFAULT.into(),
                line: None,
            }],
            &handoffs(),
            Names::default(),
            &mut diagnostics,
        );
        let messages: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            ["content/events.csv:2: error: `seller` is not valid UTF-8"]
        );
        assert_eq!(log.events.len(), 1);
    }

    #[test]
    fn globs_are_sorted_and_each_file_read_once() {
        let header = "date,event,seller,partner\n";
        let (log, messages) = read(
            &[
                (
                    "data/b.csv",
                    &format!("{header}2026-02-02,partner_meeting,B,P\n"),
                ),
                (
                    "data/a.csv",
                    &format!("{header}2026-02-01,partner_meeting,A,P\nbad\n"),
                ),
                (
                    "data/.hidden.csv",
                    &format!("{header}2026-02-03,partner_meeting,H,P\n"),
                ),
                ("data/notes.txt", "not csv"),
            ],
            &[("data/*.csv", Some(3)), ("data/a.csv", Some(4))],
        );
        assert_eq!(
            messages,
            [
                "data/a.csv:3: error: row has 1 fields but the header has 4\n  hint: quote a field that contains a comma: \"Acme, Inc.\""
            ]
        );
        let sellers: Vec<&str> = log
            .events
            .iter()
            .map(|e| log.names.resolve(e.seller))
            .collect();
        assert_eq!(sellers, ["A", "B"]);
    }

    #[test]
    fn a_named_source_must_match_a_file() {
        let (log, messages) = read(&[], &[("data/*.csv", Some(4)), ("events.csv", Some(5))]);
        assert_eq!(
            messages,
            [
                "site.toml:4: error: events: `data/*.csv` matches no file\n  hint: paths and \
                 globs in `events` are relative to the folder holding site.toml",
                "site.toml:5: error: events: `events.csv` matches no file\n  hint: paths and \
                 globs in `events` are relative to the folder holding site.toml",
            ]
        );
        assert!(log.events.is_empty());
        // The default path, not named in site.toml, may be absent.
        let (_, messages) = read(&[], &[(DEFAULT, None)]);
        assert!(messages.is_empty());
        let (_, messages) = read(&[], &[("data/[.csv", Some(2))]);
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].starts_with("site.toml:2: error: events: bad glob `data/[.csv`"),
            "{messages:?}"
        );
    }

    /// Reads `text` as the default events file in blocks of `bytes`, a
    /// few per step; "Lee" is a site name known before the file.
    /// Events, their notes, the names and the messages.
    /// A log's events, notes, names and messages, to compare reads by.
    pub(super) type ReadBack = (Vec<Event>, Vec<Option<String>>, Vec<String>, Vec<String>);

    /// A site whose only events file is `content/events.csv` holding
    /// `text`, and the sources naming it.
    pub(super) fn events_site(text: &[u8]) -> (tempfile::TempDir, [EventSource; 1]) {
        let site = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(site.path().join("content")).unwrap();
        std::fs::write(site.path().join(DEFAULT), text).unwrap();
        let sources = [EventSource {
            pattern: DEFAULT.into(),
            line: None,
        }];
        (site, sources)
    }

    pub(super) fn read_back(log: EventLog, diagnostics: Diagnostics) -> ReadBack {
        let names: Vec<String> = (0..log.names.len() as NameId)
            .map(|id| log.names.resolve(id).to_string())
            .collect();
        let notes = log
            .events
            .iter()
            .map(|event| log.note(event).map(str::to_string))
            .collect();
        (log.events, notes, names, diagnostics.sorted().messages())
    }

    fn read_blocks(text: &[u8], blocks: Option<Blocks>) -> ReadBack {
        let (site, sources) = events_site(text);
        let mut diagnostics = Diagnostics::new();
        let mut names = Names::default();
        names.intern("Lee");
        let log = read_events_in_blocks(
            site.path(),
            &sources,
            Handoffs::Check(&handoffs()),
            (names, &mut Names::default()),
            &mut diagnostics,
            blocks.unwrap_or_else(Blocks::new),
        );
        read_back(log, diagnostics)
    }

    /// Every block size from 1 to 200 bytes, with one and three blocks
    /// per step, reads `text` exactly as one block does.
    fn assert_blocks_read_like_one(text: &[u8]) -> ReadBack {
        let whole = read_blocks(text, None);
        for bytes in 1..200 {
            for per_step in [1, 3] {
                assert_eq!(
                    read_blocks(text, Some(Blocks { bytes, per_step })),
                    whole,
                    "blocks of {bytes} bytes, {per_step} per step"
                );
            }
        }
        whole
    }

    #[test]
    fn blocks_read_exactly_like_one_pass() {
        // Quoted notes with newlines and commas, blank lines, bad rows and
        // names first seen late: cut into blocks of every small size, the
        // events, their name ids and every message stay the same.
        let mut text = String::from("\ndate,event,seller,handoff,partner,note\n");
        for i in 0..60 {
            let line = match i % 7 {
                0 => format!(
                    "2026-02-{:02},accepted,S{},acme-oct,,\"line one\nline, two\"\n",
                    i % 28 + 4,
                    i % 5
                ),
                1 => "\n  \n".to_string(),
                2 => format!("2026-02-05,partner_meeting,T{i},,P{},plain\n", i % 3),
                3 => "2026-02-05,bogus,S,,,\n".to_string(),
                4 => "2026-02-05,acted,S,acme-oct\n".to_string(),
                5 => format!(
                    "2026-02-06,acted,S{},acme-oct,,\"\"\"quoted\"\"\n\"\n",
                    i % 4
                ),
                _ => "2026-02-07,declined,Lee,beta-nov,,\n".to_string(),
            };
            text.push_str(&line);
        }
        let whole = assert_blocks_read_like_one(text.as_bytes());
        assert!(whole.0.len() > 20 && whole.3.len() > 20, "{whole:?}");
    }

    #[test]
    fn block_edges_keep_records_lines_and_bom() {
        // A BOM and CRLF line ends, a quoted CRLF inside a note, a bad row
        // late in the file and a last row without a line end: whatever the
        // block edges split (a record, a quoted newline, a CRLF pair, the
        // BOM), the result is the single read's.
        let text = "\u{feff}date,event,seller,partner,note\r\n\
                    2026-02-04,partner_meeting,Ana,P,\"first\r\nsecond\"\r\n\
                    \r\n\
                    2026-02-05,partner_meeting,Bo,Q,\r\n\
                    2026-02-06,partner_mting,Bo,Q,\r\n\
                    2026-02-07,partner_meeting,Lee,P,\"a,b\"";
        let (events, notes, names, messages) = assert_blocks_read_like_one(text.as_bytes());
        assert_eq!(
            messages,
            [
                "content/events.csv:6: error: unknown event `partner_mting`\n  hint: did you mean `partner_meeting`?"
            ]
        );
        assert_eq!(names, ["Lee", "Ana", "P", "Bo", "Q"]);
        let notes: Vec<Option<&str>> = notes.iter().map(Option::as_deref).collect();
        assert_eq!(notes, [Some("first\r\nsecond"), None, Some("a,b")]);
        let sellers: Vec<NameId> = events.iter().map(|e| e.seller).collect();
        assert_eq!(sellers, [1, 3, 0]);
    }

    #[test]
    fn a_record_longer_than_a_step_is_read_whole() {
        let note = format!("{}y", "x\n".repeat(300));
        let text = format!(
            "date,event,seller,partner,note\n2026-02-04,partner_meeting,A,P,\"{note}\"\n2026-02-04,bogus,A,P,\n"
        );
        let (events, notes, _, messages) = assert_blocks_read_like_one(text.as_bytes());
        assert_eq!(events.len(), 1);
        assert_eq!(notes, [Some(note)]);
        assert_eq!(
            messages,
            [
                "content/events.csv:303: error: unknown event `bogus`\n  hint: events are `accepted`, `declined`, `acted`, `requested_help`, `pipeline_mention`, `partner_meeting` and `disagreement`"
            ]
        );
    }

    #[test]
    fn a_bom_is_only_dropped_at_the_start_of_the_file() {
        // A row starting with U+FEFF keeps it, wherever a block starts.
        let text = "date,event,seller,partner\n2026-02-04,partner_meeting,A,P\n\u{feff}2026-02-04,partner_meeting,A,P\n";
        let (events, _, _, messages) = assert_blocks_read_like_one(text.as_bytes());
        assert_eq!(events.len(), 1);
        assert_eq!(
            messages,
            [
                "content/events.csv:3: error: bad date `\u{feff}2026-02-04`: expected YYYY-MM-DD\n  hint: use a real calendar date with four-digit year, like 2026-10-02"
            ]
        );
        // Only whitespace, or nothing at all, holds no header.
        for empty in ["", "\n", "\r\n  \r\n"] {
            let (_, _, _, messages) = assert_blocks_read_like_one(empty.as_bytes());
            assert_eq!(messages.len(), 1, "{empty:?}");
            assert!(
                messages[0].contains(":1: error: no header row"),
                "{messages:?}"
            );
        }
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("2026-02-28"), Some(d("2026-02-28")));
        assert_eq!(parse_date("2024-02-29"), Some(d("2024-02-29")));
        for bad in [
            "2026-02-30",
            "2026-2-01",
            "20260201",
            "2026-02-01T00:00",
            "2026/02/01",
            "+2026-02-1",
            "２026-02-01",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn lines_without_quotes_read_like_csv_core() {
        // Commas-only and whitespace lines are blank; a quote inside a field
        // is a plain character (csv_core reads that line); a ragged row is
        // reported on its own line among lines split by hand.
        let text = "date,event,seller,partner\n,,,\n \t, ,\r\n2026-02-04,partner_meeting,A\"b,P\n2026-02-04,partner_meeting,A,P,extra\n2026-02-05,partner_meeting,C,\"P\"\n";
        let (events, _, names, messages) = assert_blocks_read_like_one(text.as_bytes());
        assert_eq!(events.len(), 2);
        assert_eq!(names, ["Lee", "A\"b", "P", "C"]);
        assert_eq!(
            messages,
            [
                "content/events.csv:5: error: row has 5 fields but the header has 4\n  hint: quote a field that contains a comma: \"Acme, Inc.\""
            ]
        );
    }

    #[test]
    fn events_stay_small() {
        // Millions are held at once: 56 bytes with `Option`s and a boxed note.
        assert_eq!(std::mem::size_of::<Event>(), 28);
    }

    #[test]
    fn name_ids_are_given_in_first_seen_order() {
        // Names shared across columns, and more sellers than a `Recent`
        // holds: ids are those of interning each valid row's seller,
        // account and partner in turn, after the names known before.
        let mut text = String::from("date,event,seller,account,partner\n");
        let mut rows = Vec::new();
        for i in 0..3000 {
            let seller = format!("S{}", (i * 7) % (RECENT + 300));
            let account = format!("P{}", i % 13);
            let partner = format!("S{}", i % 11);
            let kind = if i % 3 == 0 {
                "bogus"
            } else {
                "partner_meeting"
            };
            text.push_str(&format!("2026-02-05,{kind},{seller},{account},{partner}\n"));
            if kind != "bogus" {
                rows.push([seller, account, partner]);
            }
        }
        let (events, _, names, _) = read_blocks(text.as_bytes(), None);
        let mut expected = Names::default();
        expected.intern("Lee");
        let ids: Vec<[NameId; 3]> = rows
            .iter()
            .map(|row| row.each_ref().map(|name| expected.intern(name)))
            .collect();
        let read: Vec<[NameId; 3]> = events
            .iter()
            .map(|event| [event.seller, event.account, event.partner])
            .collect();
        assert_eq!(read, ids);
        let expected: Vec<String> = (0..expected.len() as NameId)
            .map(|id| expected.resolve(id).to_string())
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn text_checked_a_block_at_a_time_reads_like_one_pass() {
        // Characters of two to four bytes, which block edges may cut, and a
        // row that is not UTF-8 among rows that are.
        let mut text = b"date,event,seller,partner\n".to_vec();
        for i in 0..12 {
            let seller = ["Zo\u{eb}", "\u{141}ukasz", "\u{65e5}\u{672c}", "\u{1f600}"][i % 4];
            text.extend_from_slice(
                format!("2026-02-04,partner_meeting,{seller},P{i}\n").as_bytes(),
            );
            if i == 5 {
                text.extend_from_slice(b"2026-02-04,partner_meeting,S\xe6,P\n");
            }
        }
        let (events, _, names, messages) = assert_blocks_read_like_one(&text);
        assert_eq!(events.len(), 12);
        assert!(names.contains(&"\u{1f600}".to_string()), "{names:?}");
        assert_eq!(
            messages,
            ["content/events.csv:8: error: `seller` is not valid UTF-8"]
        );
    }

    #[test]
    fn commas_are_found_like_memchr_finds_them() {
        let mut text = Vec::new();
        for i in 0..300u32 {
            // Commas, and bytes one off a comma or with its bits shifted.
            text.push(match i % 7 {
                0 | 3 => b',',
                1 => b',' + 1,
                2 => b',' - 1,
                4 => b',' | 0x80,
                5 => 0,
                _ => b'a',
            });
        }
        for start in 0..9 {
            for end in start..text.len() {
                let line = &text[start..end];
                let mut found = Vec::new();
                push_commas(line, &mut found);
                let expected: Vec<usize> = memchr::memchr_iter(b',', line).collect();
                assert_eq!(found, expected, "{start}..{end}");
            }
        }
    }

    #[test]
    fn names_intern_once() {
        let mut names = Names::default();
        assert!(names.is_empty());
        let a = names.intern("A");
        assert_eq!(names.intern("A"), a);
        assert_ne!(names.intern("a"), a);
        assert_eq!(names.len(), 2);
        assert_eq!(names.get("A"), Some(a));
        assert_eq!(names.get("B"), None);
    }
}
