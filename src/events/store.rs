//! An [`EventLog`] as bytes, so a build can keep the parsed events for the
//! next one: parsing a large events file is most of a rebuild that changed
//! one brief.
//!
//! Layout, little-endian: magic, format version, the trustcard version,
//! the caller's validity key, the counts, the events as fixed-size
//! records, the names, the notes, and an xxh3 of everything before it.
//! Reading checks all of it and returns `None` on any mismatch, so a
//! damaged or foreign file only costs a parse.

use jiff::civil::Date;
use xxhash_rust::xxh3::Xxh3;

use super::{About, Event, EventKind, EventLog, NONE, Names};

const MAGIC: &[u8; 8] = b"TCEVLOG\0";
/// Bumped whenever the layout or the meaning of a field changes.
const FORMAT: u32 = 1;
const RECORD: usize = 28;

/// Writes the bytes of `log`, valid for `key`, to `out` a chunk at a time:
/// a build writes them to a file, and holding all of them (35 MB for a
/// million events) would cost as many fresh pages.
pub fn write(log: &EventLog, key: &[u8], out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut out = Chunks {
        buf: Vec::with_capacity(CHUNK + RECORD),
        sum: Xxh3::new(),
        out,
    };
    let names = log.names.len();
    out.put(MAGIC)?;
    out.put(&FORMAT.to_le_bytes())?;
    out.put_bytes(env!("CARGO_PKG_VERSION").as_bytes())?;
    out.put_bytes(key)?;
    out.put(&(log.events.len() as u64).to_le_bytes())?;
    out.put(&(names as u64).to_le_bytes())?;
    out.put(&(log.notes.len() as u64).to_le_bytes())?;
    for event in &log.events {
        out.put(&record(event))?;
    }
    for id in 0..names as u32 {
        out.put_bytes(log.names.resolve(id).as_bytes())?;
    }
    for note in &log.notes {
        out.put_bytes(note.as_bytes())?;
    }
    out.finish()
}

fn record(event: &Event) -> [u8; RECORD] {
    let mut record = [0; RECORD];
    record[0..2].copy_from_slice(&event.date.year().to_le_bytes());
    record[2] = event.date.month() as u8;
    record[3] = event.date.day() as u8;
    record[4] = event.kind as u8;
    record[5] = match event.about {
        None => 0,
        Some(About::Account) => 1,
        Some(About::Partner) => 2,
        Some(About::Value) => 3,
    };
    record[6] = match event.partner_team_present {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    };
    let values = [
        event.seller,
        event.handoff,
        event.account,
        event.partner,
        event.note,
    ];
    for (at, value) in (8..).step_by(4).zip(values) {
        record[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }
    record
}

/// Bytes [`write`] gathers before hashing and writing them.
const CHUNK: usize = 256 << 10;

/// The output of [`write`]: bytes are hashed and written a chunk at a time,
/// then the hash of them all is written.
struct Chunks<'w, W> {
    buf: Vec<u8>,
    sum: Xxh3,
    out: &'w mut W,
}

impl<W: std::io::Write> Chunks<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.buf.len() + bytes.len() > CHUNK {
            self.flush()?;
        }
        if bytes.len() > CHUNK {
            self.sum.update(bytes);
            return self.out.write_all(bytes);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn put_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.put(&(bytes.len() as u64).to_le_bytes())?;
        self.put(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.sum.update(&self.buf);
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.flush()?;
        self.out.write_all(&self.sum.digest().to_le_bytes())
    }
}

/// A log decoded before the briefs it was made against are known (a
/// rebuild decodes its copy while the briefs load): it serves only once
/// [`Stored::made_for`] says so.
pub struct Stored {
    key: Vec<u8>,
    /// One past the largest brief index an event names.
    briefs: usize,
    log: EventLog,
}

impl Stored {
    /// The log, if it was made for `key` and every event points at a
    /// brief below `briefs`.
    pub fn made_for(self, key: &[u8], briefs: usize) -> Option<EventLog> {
        (self.key == key && self.briefs <= briefs).then_some(self.log)
    }
}

/// The log in `bytes` if they are whole, from this version of trustcard,
/// made for a key `accept` takes, and every event points at a name and a
/// note that exist.
pub fn decode_if(bytes: &[u8], accept: impl FnOnce(&[u8]) -> bool) -> Option<Stored> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if xxhash_rust::xxh3::xxh3_64(body).to_le_bytes() != sum {
        return None;
    }
    let mut reader = Reader { rest: body };
    if reader.take(MAGIC.len())? != MAGIC
        || reader.u32()? != FORMAT
        || reader.bytes()? != env!("CARGO_PKG_VERSION").as_bytes()
    {
        return None;
    }
    let key = reader.bytes()?;
    if !accept(key) {
        return None;
    }
    let key = key.to_vec();
    let events = usize::try_from(reader.u64()?).ok()?;
    let names = usize::try_from(reader.u64()?).ok()?;
    let notes = usize::try_from(reader.u64()?).ok()?;
    let records = reader.take(events.checked_mul(RECORD)?)?;
    let mut interned = Names::default();
    for id in 0..names {
        let name = std::str::from_utf8(reader.bytes()?).ok()?;
        // A duplicate would shift every later id.
        if interned.intern(name) as usize != id {
            return None;
        }
    }
    let mut note_list = Vec::with_capacity(notes.min(reader.rest.len()));
    for _ in 0..notes {
        note_list.push(Box::from(std::str::from_utf8(reader.bytes()?).ok()?));
    }
    if !reader.rest.is_empty() {
        return None;
    }
    let within = |value: u32, len: usize| (value as usize) < len;
    let optional = |value: u32, len: usize| value == NONE || within(value, len);
    let mut list = Vec::with_capacity(events);
    let mut briefs = 0;
    for record in records.chunks_exact(RECORD) {
        let u32_at = |at: usize| {
            let mut word = [0; 4];
            word.copy_from_slice(&record[at..at + 4]);
            u32::from_le_bytes(word)
        };
        let year = i16::from_le_bytes([record[0], record[1]]);
        let date = Date::new(year, record[2] as i8, record[3] as i8).ok()?;
        let kind = *EventKind::ALL.get(record[4] as usize)?;
        let about = match record[5] {
            0 => None,
            1 => Some(About::Account),
            2 => Some(About::Partner),
            3 => Some(About::Value),
            _ => return None,
        };
        let partner_team_present = match record[6] {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return None,
        };
        let [seller, handoff, account, partner, note] = [8, 12, 16, 20, 24].map(u32_at);
        if record[7] != 0
            || !within(seller, names)
            || !optional(account, names)
            || !optional(partner, names)
            || !optional(note, notes)
        {
            return None;
        }
        if handoff != NONE {
            briefs = briefs.max(handoff as usize + 1);
        }
        list.push(Event {
            date,
            kind,
            about,
            partner_team_present,
            seller,
            handoff,
            account,
            partner,
            note,
        });
    }
    Some(Stored {
        key,
        briefs,
        log: EventLog {
            events: list,
            names: interned,
            notes: note_list,
        },
    })
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u64()?).ok()?;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EventLog {
        let mut names = Names::default();
        let ann = names.intern("Ann");
        let acme = names.intern("Acme");
        let date = Date::new(2024, 3, 9).expect("date");
        let mut first = Event::new(date, EventKind::Accepted, ann).with_handoff(Some(1));
        first.note = 0;
        let mut second = Event::new(date, EventKind::PipelineMention, ann).with_account(Some(acme));
        second.partner_team_present = Some(true);
        second.about = Some(About::Value);
        EventLog {
            events: vec![first, second],
            names,
            notes: vec![Box::from("a note")],
        }
    }

    /// The log in `bytes` if they are whole, from this version of
    /// trustcard, made for `key`, and every event points at a brief below
    /// `briefs`, a name and a note that exist: both halves of a load's check.
    fn decode(bytes: &[u8], key: &[u8], briefs: usize) -> Option<EventLog> {
        decode_if(bytes, |stored| stored == key)?.made_for(key, briefs)
    }

    fn encode(log: &EventLog, key: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        write(log, key, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_log_larger_than_a_chunk_round_trips() {
        // Records across many chunks, and a note longer than one.
        let mut log = sample();
        let first = log.events[0];
        log.events = vec![first; 3 * CHUNK / RECORD + 7];
        log.notes = vec![Box::from("n".repeat(CHUNK + 3))];
        let bytes = encode(&log, b"key");
        let back = decode(&bytes, b"key", 2).expect("decodes");
        assert_eq!(back.events, log.events);
        assert_eq!(back.notes, log.notes);
    }

    #[test]
    fn round_trips_and_rejects_anything_else() {
        let log = sample();
        let bytes = encode(&log, b"key");
        let back = decode(&bytes, b"key", 2).expect("decodes");
        assert_eq!(back.events, log.events);
        assert_eq!(back.names.resolve(1), "Acme");
        assert_eq!(back.note(&back.events[0]), Some("a note"));
        assert!(decode(&bytes, b"other", 2).is_none());
        // The first event names brief 1.
        assert!(decode(&bytes, b"key", 1).is_none());
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len], b"key", 2).is_none(), "{len}");
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            assert!(decode(&damaged, b"key", 2).is_none(), "{at}");
        }
    }
}
