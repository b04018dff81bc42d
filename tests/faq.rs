//! The FAQ end to end: answer blocks on /faq/, the FAQPage JSON-LD checked
//! against the text a reader sees, llms.txt, per-block Markdown, and the
//! warnings and errors `check` reports.

mod common;

use common::*;
use scraper::{ElementRef, Html, Node};
use serde_json::Value;

const BLOCK_IDS: [&str; 7] = [
    "what-is-a-handoff",
    "why-is-inside-code-not-a-question",
    "is-setext-allowed-too",
    "what-about-quotes-ampersands",
    "is-em-inline-em-html-in-a-heading-escaped",
    "which-steps-come-first",
    "why-is-this-answer-so-long",
];

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of an answer block below its question: every child but the h2.
fn text_below_question(block: &ElementRef<'_>) -> String {
    let mut text = String::new();
    let mut skipped_heading = false;
    for child in block.children() {
        match child.value() {
            Node::Element(element) if element.name() == "h2" && !skipped_heading => {
                skipped_heading = true;
            }
            Node::Element(_) => {
                if let Some(element) = ElementRef::wrap(child) {
                    text.extend(element.text());
                }
            }
            Node::Text(t) => text.push_str(t),
            _ => {}
        }
    }
    normalise(&text)
}

fn fragment_text(html: &str) -> String {
    normalise(
        &Html::parse_fragment(html)
            .root_element()
            .text()
            .collect::<String>(),
    )
}

fn json_ld(page: &Html) -> (String, Value) {
    let scripts = select(page, "script[type=\"application/ld+json\"]");
    assert_eq!(scripts.len(), 1, "one JSON-LD script");
    let raw: String = scripts[0].text().collect();
    let value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("JSON-LD: {e}\n{raw}"));
    (raw, value)
}

#[test]
fn faq_page_shows_every_block_with_its_anchor_and_short_answer_first() {
    let site = copy_site(&fixture("faq"));
    let out = build(site.path(), &[]);
    let page = html(&out, "faq/index.html");

    let blocks = select(&page, "section.answer-block");
    let ids: Vec<_> = blocks
        .iter()
        .map(|b| b.value().attr("id").unwrap_or_default())
        .collect();
    assert_eq!(ids, BLOCK_IDS);

    for block in &blocks {
        let children: Vec<_> = block.children().filter_map(ElementRef::wrap).collect();
        assert_eq!(children[0].value().name(), "h2", "{}", block.html());
        assert!(
            children[0].value().attr("id").is_none(),
            "the section holds the anchor"
        );
    }
    // The short answer is the first thing under its question.
    let first = &blocks[0];
    let children: Vec<_> = first.children().filter_map(ElementRef::wrap).collect();
    assert_eq!(children[1].value().name(), "div");
    assert_eq!(children[1].value().attr("class"), Some("answer"));
    assert_eq!(
        text(&children[1]),
        "A handoff is a written brief that partner marketing sends to a seller about one account."
    );
    // A level-3 question inside a block is detail, not a block.
    assert_eq!(
        select(&page, "section.answer-block#what-is-a-handoff h3").len(),
        1
    );
    // A block that starts with a list has no short answer to mark up.
    assert!(select(&page, "#which-steps-come-first > .answer").is_empty());
    assert_eq!(select(&page, "#which-steps-come-first > ul").len(), 1);

    // Text outside blocks stays on the page; a `## x?` in code is code.
    let faq = text(&select(&page, ".faq")[0]);
    assert!(faq.contains("Text before any question stays on the page."));
    assert_eq!(select(&page, "h2#background").len(), 1);
    assert!(
        select(&page, "pre code")[0]
            .text()
            .collect::<String>()
            .contains("## Is this a question?")
    );

    // Underscore files, other extensions and subfolders are not read.
    assert!(!faq.contains("Ignored"), "{faq}");

    // Ids are unique on the page.
    let all_ids: Vec<_> = select(&page, "[id]")
        .iter()
        .map(|e| e.value().attr("id").unwrap_or_default().to_string())
        .collect();
    let mut unique = all_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all_ids.len(), "{all_ids:?}");

    // The FAQ page is indexable.
    assert!(select(&page, "meta[name=robots][content=noindex]").is_empty());
}

#[test]
fn json_ld_matches_the_visible_text_of_every_block() {
    let site = copy_site(&fixture("faq"));
    let out = build(site.path(), &[]);
    let page = html(&out, "faq/index.html");
    let (raw, json) = json_ld(&page);

    // No `<` at all, so nothing in an answer can close the script.
    assert!(!raw.contains('<'), "{raw}");
    assert!(raw.contains("\\u003cp>"), "{raw}");

    assert_eq!(json["@context"], "https://schema.org");
    assert_eq!(json["@type"], "FAQPage");
    let entities = json["mainEntity"].as_array().expect("mainEntity");
    let blocks = select(&page, "section.answer-block");
    assert_eq!(entities.len(), blocks.len());
    for (entity, block) in entities.iter().zip(&blocks) {
        assert_eq!(entity["@type"], "Question");
        assert_eq!(entity["acceptedAnswer"]["@type"], "Answer");
        let heading = &select_in(block, "h2")[0];
        let name = entity["name"].as_str().expect("name");
        assert_eq!(name, text(heading));
        let answer = entity["acceptedAnswer"]["text"].as_str().expect("text");
        assert_eq!(fragment_text(answer), text_below_question(block), "{name}");
        assert!(!answer.is_empty());
    }
}

fn select_in<'a>(element: &ElementRef<'a>, selector: &str) -> Vec<ElementRef<'a>> {
    let selector = scraper::Selector::parse(selector).expect("selector");
    element.select(&selector).collect()
}

#[test]
fn quotes_ampersands_script_tags_and_inline_html_stay_text() {
    let site = copy_site(&fixture("faq"));
    let out = build(site.path(), &[]);
    let page = html(&out, "faq/index.html");
    let (_, json) = json_ld(&page);
    let names: Vec<_> = json["mainEntity"]
        .as_array()
        .expect("mainEntity")
        .iter()
        .map(|e| e["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "What is a handoff?",
            "Why is ## inside code not a question?",
            "Is setext allowed too?",
            "What about \"quotes\" & ampersands?",
            "Is <em>inline</em> HTML in a heading escaped?",
            "Which steps come first?",
            "Why is this answer so long?",
        ]
    );
    let quotes = &json["mainEntity"][3]["acceptedAnswer"]["text"];
    assert!(quotes.as_str().unwrap_or_default().starts_with(
        "<p>They stay \"quotes\" &amp; ampersands, and a &lt;/script&gt; in an answer cannot end the script.</p>"
    ));

    // On the page the heading's HTML is text, not markup.
    let inline = &select(&page, "#is-em-inline-em-html-in-a-heading-escaped h2")[0];
    assert!(select_in(inline, "em").is_empty());
    assert_eq!(select_in(inline, "code").len(), 1);
    assert_eq!(
        text(inline),
        "Is <em>inline</em> HTML in a heading escaped?"
    );
    let quotes = &select(&page, "#what-about-quotes-ampersands .answer")[0];
    assert!(text(quotes).contains("a </script> in an answer"));
    assert!(select(&page, "#what-about-quotes-ampersands b").is_empty());
}

#[test]
fn llms_txt_lists_every_question_with_its_short_answer() {
    let site = copy_site(&fixture("faq"));
    let out = build(site.path(), &[]);
    let llms = read(&out, "llms.txt");
    let expected = "# FAQ fixture

> Answer blocks & escaping, for tests.

A scorecard of partner handoffs to sales: each handoff graded on nine components (0–18 points) and placed in a band, with seller-behaviour signals that show whether sales trusts the handoffs.

## Pages

- [Home](./): current score, band, verdict and signals
- [Handoffs](handoffs/): every handoff with its score and band
- [Trends](trends/): the handoff score and seller signals over time
- [Questions and answers](faq/): answer blocks, also as Markdown

## Handoff basics

- [What is a handoff?](faq/what-is-a-handoff.md): A handoff is a written brief that partner marketing sends to a seller about one account.
- [Why is ## inside code not a question?](faq/why-is-inside-code-not-a-question.md): Because the parser knows it is code:
- [Is setext allowed too?](faq/is-setext-allowed-too.md): Yes, an underlined heading counts like ##.

## FAQ

- [What about \"quotes\" & ampersands?](faq/what-about-quotes-ampersands.md): They stay \"quotes\" & ampersands, and a </script> in an answer cannot end the script.
- [Is <em>inline</em> HTML in a heading escaped?](faq/is-em-inline-em-html-in-a-heading-escaped.md): Yes: it shows as written, tags and all.

## Warnings

- [Which steps come first?](faq/which-steps-come-first.md)
- [Why is this answer so long?](faq/why-is-this-answer-so-long.md): This short answer keeps going well past the point where anyone could quote it whole, because it explains every single reason in one paragraph instead of leading with the answer and moving the background, the history, the caveats and all of the many exceptions into the paragraphs that follow it, which is what a good answer block should do every time it is written.

## Optional

- [The whole FAQ as Markdown](faq/index.html.md)
- [Scorecard data](data/scorecard.json): every computed figure as JSON
";
    assert_eq!(llms, expected);

    // With a base URL every link is absolute, under its subpath.
    let out = build(
        site.path(),
        &["--base-url", "https://intranet.example/scorecards/"],
    );
    let llms = read(&out, "llms.txt");
    assert!(
        llms.contains("- [Home](https://intranet.example/scorecards/): "),
        "{llms}"
    );
    assert!(
        llms.contains(
            "- [What is a handoff?](https://intranet.example/scorecards/faq/what-is-a-handoff.md): "
        ),
        "{llms}"
    );
    assert!(!llms.contains("](faq/"), "{llms}");
}

#[test]
fn every_block_is_reachable_as_markdown() {
    let site = copy_site(&fixture("faq"));
    let out = build(site.path(), &[]);
    for id in BLOCK_IDS {
        assert!(out.join(format!("faq/{id}.md")).is_file(), "faq/{id}.md");
    }
    assert_eq!(
        read(&out, "faq/what-is-a-handoff.md"),
        "# What is a handoff?\n\nA handoff is a written brief that partner marketing sends to a seller about one account.\n\nIt has nine parts, each graded.\n\n### Does the seller have to accept it?\n\nWithin the response window, yes or no.\n"
    );
    assert_eq!(
        read(&out, "faq/is-setext-allowed-too.md"),
        "# Is setext allowed too?\n\nYes, an underlined heading counts like `##`.\n"
    );
    assert_eq!(
        read(&out, "faq/is-em-inline-em-html-in-a-heading-escaped.md"),
        "# Is <em>inline</em> HTML in a `heading` escaped?\n\nYes: it shows as written, tags and all.\n"
    );
    let whole = read(&out, "faq/index.html.md");
    assert!(
        whole.starts_with("# Questions and answers\n\n# About these answers\n"),
        "{whole}"
    );
    assert!(!whole.contains("+++"), "{whole}");

    let scorecard: Value = serde_json::from_str(&read(&out, "data/scorecard.json")).expect("JSON");
    assert_eq!(
        scorecard["faq"][0],
        serde_json::json!({
            "id": "what-is-a-handoff",
            "question": "What is a handoff?",
            "answer": "A handoff is a written brief that partner marketing sends to a seller about one account.",
        })
    );
    assert_eq!(scorecard["faq"][5]["answer"], "");
}

#[test]
fn check_reports_faq_warnings_with_positions() {
    let site = copy_site(&fixture("faq"));
    let output = trustcard(site.path(), &["check", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(
        report["warnings"],
        serde_json::json!([
            {
                "file": "content/faq/03-warnings.md",
                "line": 5,
                "column": 1,
                "message": "the first thing under this question is not a paragraph, so there is no short answer to extract (hint: it starts with a list; put a one-paragraph answer right under the question)",
            },
            {
                "file": "content/faq/03-warnings.md",
                "line": 10,
                "column": 1,
                "message": "short answer has 64 words; keep it to 60 or fewer so it can be quoted whole (hint: move the rest into the paragraphs after it)",
            },
        ])
    );

    // build prints the same warnings and still succeeds.
    let build = trustcard(site.path(), &["build", "--output", "out"]);
    assert!(build.status.success(), "{}", stderr(&build));
    let printed = stderr(&build);
    assert!(
        printed.contains("content/faq/03-warnings.md:10:1: warning: short answer has 64 words"),
        "{printed}"
    );
}

#[test]
fn duplicate_and_empty_questions_fail_check_and_build() {
    let site = copy_site(&fixture("faq-invalid"));
    let output = trustcard(site.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    let errors: Vec<String> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}: {}",
                e["file"].as_str().unwrap_or_default(),
                e["line"],
                e["column"],
                e["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            "content/faq.md:8:1: the question \"What goes in a handoff?\" has no answer before the next level-2 heading (hint: write the short answer as a paragraph right under the question)",
            "content/faq/later.md:2:1: unknown key `wieght` in FAQ front matter (hint: did you mean `weight`?)",
            "content/faq/later.md:6:1: duplicate question \"How do we know SALES trusts us?\": also at content/faq.md:4 (hint: merge the two answers, or reword one question so they differ)",
            "content/faq/later.md:10:1: the question \"Nothing after me?\" has no answer before the end of the file (hint: write the short answer as a paragraph right under the question)",
        ]
    );

    let build = trustcard(site.path(), &["build", "--output", "out"]);
    assert_eq!(build.status.code(), Some(1));
    assert!(stderr(&build).contains(
        "content/faq.md:8:1: error: the question \"What goes in a handoff?\" has no answer before the next level-2 heading"
    ));
    assert!(!site.path().join("out").exists());
}

#[test]
fn a_single_faq_file_works_and_a_site_without_one_has_no_json_ld() {
    let site = copy_site(&fixture("basic"));
    let out = build(site.path(), &[]);
    let page = html(&out, "faq/index.html");
    assert!(select(&page, "script[type=\"application/ld+json\"]").is_empty());
    assert!(!out.join("faq/index.html.md").exists());
    assert!(!read(&out, "llms.txt").contains("faq/"));

    std::fs::write(
        site.path().join("content/faq.md"),
        "## Can one file hold the FAQ?\n\nYes, content/faq.md works on its own.\n",
    )
    .expect("write faq.md");
    let out = build(site.path(), &[]);
    let page = html(&out, "faq/index.html");
    assert_eq!(
        select(&page, "section.answer-block#can-one-file-hold-the-faq").len(),
        1
    );
    let (_, json) = json_ld(&page);
    assert_eq!(json["mainEntity"][0]["name"], "Can one file hold the FAQ?");
    assert_eq!(
        json["mainEntity"][0]["acceptedAnswer"]["text"],
        "<p>Yes, content/faq.md works on its own.</p>"
    );
    assert!(read(&out, "llms.txt").contains(
        "\n## FAQ\n\n- [Can one file hold the FAQ?](faq/can-one-file-hold-the-faq.md): Yes, content/faq.md works on its own.\n"
    ));
}

#[test]
fn allowed_html_closing_the_script_cannot_break_the_json_ld() {
    let site = copy_site(&fixture("faq"));
    let config = site.path().join("site.toml");
    let mut toml = std::fs::read_to_string(&config).expect("site.toml");
    toml.push_str("\n[markdown]\nallow_html = true\n");
    std::fs::write(&config, toml).expect("write site.toml");
    std::fs::write(
        site.path().join("content/faq/04-html.md"),
        "+++\nweight = 4\n+++\n## Can <b>HTML</b> end the \"script\"?\n\nNo: <span>even</span> a `</script>` or </script> stays inside.\n",
    )
    .expect("write faq file");
    let out = build(site.path(), &[]);
    let page = html(&out, "faq/index.html");
    let (raw, json) = json_ld(&page);
    assert!(!raw.contains('<'), "{raw}");
    let last = json["mainEntity"]
        .as_array()
        .and_then(|a| a.last())
        .expect("a question");
    assert_eq!(last["name"], "Can HTML end the \"script\"?");
    assert_eq!(
        last["acceptedAnswer"]["text"],
        "<p>No: <span>even</span> a <code>&lt;/script&gt;</code> or </script> stays inside.</p>"
    );
    let heading = &select(&page, "#can-html-end-the-script h2")[0];
    assert_eq!(select_in(heading, "b").len(), 1);
    assert_eq!(text(heading), "Can HTML end the \"script\"?");
}
