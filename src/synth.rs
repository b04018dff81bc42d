//! A synthetic site generator for benchmarks: N realistic briefs, M seller
//! events and an FAQ, the same bytes for the same seed.

use std::io::{BufWriter, Write};
use std::path::Path;

use jiff::civil::Date;

use crate::diagnostics::{Diagnostic, Failure};
use crate::score::Component;

/// xorshift64*: tiny, fast and deterministic across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const ACCOUNT_WORDS: [&str; 24] = [
    "Halvorsen",
    "Brightwater",
    "Copperline",
    "Northgate",
    "Tidewater",
    "Kilbride",
    "Aldergrove",
    "Fairhaven",
    "Pinecrest",
    "Redfern",
    "Quayside",
    "Marlow",
    "Ostrander",
    "Sable",
    "Willowmere",
    "Granite",
    "Ember",
    "Larchmont",
    "Harrow",
    "Calder",
    "Rowan",
    "Ashby",
    "Thornbury",
    "Vale",
];
const ACCOUNT_KINDS: [&str; 12] = [
    "Logistics",
    "Health",
    "Bank",
    "Insurance",
    "Energy",
    "Retail",
    "Foods",
    "Water",
    "Mutual",
    "Freight",
    "Media",
    "Systems",
];
const PARTNERS: [&str; 12] = [
    "Snowline Data",
    "Kestrel Security",
    "Orbit Cloud",
    "Fieldstone Consulting",
    "Cobalt Cloud",
    "Lumen Security",
    "Meridian Analytics",
    "Harbor Integration",
    "Northstar AI",
    "Blue Ridge ERP",
    "Summit Networks",
    "Atlas Payments",
];
const FIRST: [&str; 16] = [
    "Jordan", "Tomás", "Sofia", "Hannah", "Dev", "Maya", "Alex", "Jamie", "Priya", "Marcus",
    "Elena", "Owen", "Zoë", "Ravi", "Ines", "Kofi",
];
const LAST: [&str; 16] = [
    "Lee",
    "Reyes",
    "Lindqvist",
    "Becker",
    "Patel",
    "Okafor",
    "Morgan",
    "Chen",
    "Shah",
    "Dunn",
    "Varga",
    "Clarke",
    "Adams",
    "Iyer",
    "Moreau",
    "Mensah",
];
const SENTENCES: [&str; 10] = [
    "The account's renewal falls in the next quarter and the budget owner has already asked for options.",
    "The partner ran a similar programme for two companies in the same industry last year.",
    "Our champion on the account introduced us to the operations lead at the partner's event in June.",
    "The buyer describes the problem as missed delivery windows, not as a data platform gap.",
    "The partner has agreed to run a half-day workshop with the account's architects before month end.",
    "The seller is asked to send one introduction email this week, copying the partner lead.",
    "Questions go to the partner-marketing owner named above, who answers within one working day.",
    "Accepting means booking the workshop; declining needs a one-line reason within the window.",
    "Two public case studies and the partner's certification page back every claim made here.",
    "A short table of the account's current tools and contract dates is included for context.",
];

fn sentence(rng: &mut Rng) -> &'static str {
    SENTENCES[rng.below(SENTENCES.len() as u64) as usize]
}

fn date_plus(start: Date, days: i64) -> Date {
    start
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(start)
}

/// Writes a site with `briefs` briefs and `events` events into `dir`.
pub fn generate(dir: &Path, briefs: usize, events: usize, seed: u64) -> Result<(), Failure> {
    let io = |path: &Path, e: std::io::Error| -> Failure {
        Diagnostic::error(format!("cannot write {}: {e}", path.display())).into()
    };
    let handoffs = dir.join("content/handoffs");
    std::fs::create_dir_all(&handoffs).map_err(|e| io(&handoffs, e))?;
    std::fs::create_dir_all(dir.join("content/faq")).map_err(|e| io(dir, e))?;
    let config = dir.join("site.toml");
    std::fs::write(
        &config,
        "title = \"Synthetic scorecard\"\ndescription = \"A generated site for benchmarks.\"\nevents = \"content/events.csv\"\ntrend_period = \"month\"\n",
    )
    .map_err(|e| io(&config, e))?;

    let mut rng = Rng(seed.max(1));
    let start = jiff::civil::date(2022, 1, 3);
    // Spread briefs over about three years.
    let span_days = 3 * 365;
    let sellers: Vec<String> = (0..(briefs / 40).clamp(6, 400))
        .map(|i| format!("{} {} {}", FIRST[i % 16], LAST[(i / 16) % 16], i / 256 + 1))
        .collect();
    let mut meta: Vec<(String, Date, String, String, &str)> = Vec::with_capacity(briefs);
    let grades = ["strong", "strong", "weak", "missing"];
    for i in 0..briefs {
        let account = format!(
            "{} {} {}",
            rng.pick(&ACCOUNT_WORDS),
            rng.pick(&ACCOUNT_KINDS),
            i % 997
        );
        let partner = *rng.pick(&PARTNERS);
        let seller = rng.pick(&sellers).clone();
        let date = date_plus(start, (i as i64 * span_days) / briefs.max(1) as i64);
        let id = format!("handoff-{i:06}");
        let mut text = format!(
            "+++\ntitle = \"{account} × {partner}: opportunity {i}\"\ndate = {date}\naccount = \"{account}\"\npartner = \"{partner}\"\nseller = \"{seller}\"\nowner = \"{} {}\"\n\n[grades]\n",
            rng.pick(&FIRST),
            rng.pick(&LAST)
        );
        for component in Component::ALL {
            text.push_str(&format!(
                "{} = \"{}\"\n",
                component.key(),
                rng.pick(&grades)
            ));
        }
        text.push_str(
            "\n[notes]\npartner_offer = \"The workshop date is agreed with the partner.\"\n+++\n",
        );
        for component in Component::ALL {
            text.push_str(&format!("\n## {}\n\n", component.display_name()));
            for _ in 0..4 {
                text.push_str(sentence(&mut rng));
                text.push(' ');
            }
            text.push_str("\n\n- ");
            text.push_str(sentence(&mut rng));
            text.push_str("\n- ");
            text.push_str(sentence(&mut rng));
            text.push('\n');
        }
        let path = handoffs.join(format!("{id}.md"));
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        meta.push((id, date, seller, account, partner));
    }

    let path = dir.join("content/events.csv");
    let file = std::fs::File::create(&path).map_err(|e| io(&path, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(b"date,event,seller,handoff,account,partner,about,partner_team_present,note\n")
        .map_err(|e| io(&path, e))?;
    let mut rows: Vec<(Date, String)> = Vec::with_capacity(events);
    // Events about a handoff, as a seller produces them: at most one answer
    // per handoff (most accept, some decline, some never answer), one or two
    // next actions after an acceptance, and a few meetings with the
    // handoff's partner on its account afterwards. Capped at `events`.
    for (id, date, seller, account, partner) in &meta {
        if rows.len() >= events {
            break;
        }
        let answer = rng.below(100);
        let answered = date_plus(*date, rng.below(13) as i64);
        if answer < 75 {
            rows.push((
                answered,
                format!("{answered},accepted,{seller},{id},,,,,\n"),
            ));
            for _ in 0..rng.below(3) {
                let when = date_plus(answered, rng.below(11) as i64);
                rows.push((when, format!("{when},acted,{seller},{id},,,,,\n")));
            }
        } else if answer < 85 {
            rows.push((
                answered,
                format!("{answered},declined,{seller},{id},,,,,\n"),
            ));
        }
        for _ in 0..rng.below(5) {
            let when = date_plus(*date, 1 + rng.below(60) as i64);
            rows.push((
                when,
                format!("{when},partner_meeting,{seller},,{account},{partner},,,\n"),
            ));
        }
    }
    rows.truncate(events);
    // The rest is account-level activity spread over all sellers.
    while rows.len() < events {
        let roll = rng.below(4);
        let when = date_plus(start, rng.below(span_days as u64 + 30) as i64);
        let seller = rng.pick(&sellers);
        let account = format!(
            "{} {} {}",
            rng.pick(&ACCOUNT_WORDS),
            rng.pick(&ACCOUNT_KINDS),
            rng.below(997)
        );
        let partner = rng.pick(&PARTNERS);
        let line = match roll {
            0 => format!("{when},requested_help,{seller},,{account},,,,\n"),
            1 => {
                let present = if rng.below(2) == 0 { "yes" } else { "no" };
                format!("{when},pipeline_mention,{seller},,{account},{partner},,{present},\n")
            }
            2 => format!("{when},partner_meeting,{seller},,{account},{partner},,,\n"),
            _ => {
                let about = rng.pick(&["account", "partner", "value"]);
                format!("{when},disagreement,{seller},,,,{about},,\n")
            }
        };
        rows.push((when, line));
    }
    rows.sort();
    for (_, line) in rows {
        out.write_all(line.as_bytes()).map_err(|e| io(&path, e))?;
    }
    out.flush().map_err(|e| io(&path, e))?;

    let faq = dir.join("content/faq/questions.md");
    let mut text = String::from("+++\ntitle = \"Questions\"\n+++\n");
    for i in 0..10 {
        text.push_str(&format!(
            "\n## Question number {i} about partner handoffs?\n\nA short answer that stays well under sixty words.\n\nSome detail.\n"
        ));
    }
    std::fs::write(&faq, text).map_err(|e| io(&faq, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("content/events.csv")).unwrap_or_default()
    }

    #[test]
    fn same_seed_same_bytes_and_realistic_answers() {
        let a = tempfile::tempdir().expect("temp dir");
        let b = tempfile::tempdir().expect("temp dir");
        generate(a.path(), 200, 5_000, 7).expect("generate");
        generate(b.path(), 200, 5_000, 7).expect("generate");
        let text = events(a.path());
        assert_eq!(text, events(b.path()));
        assert_eq!(text.lines().count(), 5_001);
        let mut answers: std::collections::HashMap<&str, usize> = Default::default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            if matches!(fields[1], "accepted" | "declined") {
                *answers.entry(fields[3]).or_default() += 1;
            }
        }
        assert!(answers.len() > 150, "most handoffs are answered");
        assert!(answers.values().all(|&n| n == 1), "one answer per handoff");
    }

    #[test]
    fn fewer_events_than_handoffs_need() {
        let dir = tempfile::tempdir().expect("temp dir");
        generate(dir.path(), 100, 50, 1).expect("generate");
        assert_eq!(events(dir.path()).lines().count(), 51);
    }
}
