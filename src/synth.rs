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
    let mut meta: Vec<(String, Date, String, String)> = Vec::with_capacity(briefs);
    let grades = ["strong", "strong", "weak", "missing"];
    for i in 0..briefs {
        let account = format!(
            "{} {} {}",
            rng.pick(&ACCOUNT_WORDS),
            rng.pick(&ACCOUNT_KINDS),
            i % 997
        );
        let partner = rng.pick(&PARTNERS).to_string();
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
        meta.push((id, date, seller, account));
    }

    let path = dir.join("content/events.csv");
    let file = std::fs::File::create(&path).map_err(|e| io(&path, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(b"date,event,seller,handoff,account,partner,about,partner_team_present,note\n")
        .map_err(|e| io(&path, e))?;
    let mut rows: Vec<(Date, String)> = Vec::with_capacity(events);
    for _ in 0..events {
        let roll = rng.below(100);
        let line = if !meta.is_empty() && roll < 45 {
            let (id, date, seller, _) = &meta[rng.below(meta.len() as u64) as usize];
            let when = date_plus(*date, rng.below(12) as i64);
            let kind = match rng.below(10) {
                0 => "declined",
                1..=5 => "accepted",
                _ => "acted",
            };
            (when, format!("{when},{kind},{seller},{id},,,,,\n"))
        } else {
            let when = date_plus(start, rng.below(span_days as u64 + 30) as i64);
            let seller = rng.pick(&sellers);
            let account = format!(
                "{} {} {}",
                rng.pick(&ACCOUNT_WORDS),
                rng.pick(&ACCOUNT_KINDS),
                rng.below(997)
            );
            let partner = rng.pick(&PARTNERS);
            match roll % 4 {
                0 => (
                    when,
                    format!("{when},requested_help,{seller},,{account},,,,\n"),
                ),
                1 => {
                    let present = if rng.below(2) == 0 { "yes" } else { "no" };
                    (
                        when,
                        format!(
                            "{when},pipeline_mention,{seller},,{account},{partner},,{present},\n"
                        ),
                    )
                }
                2 => (
                    when,
                    format!("{when},partner_meeting,{seller},,{account},{partner},,,\n"),
                ),
                _ => {
                    let about = rng.pick(&["account", "partner", "value"]);
                    (when, format!("{when},disagreement,{seller},,,,{about},,\n"))
                }
            }
        };
        rows.push(line);
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
