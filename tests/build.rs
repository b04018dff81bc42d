//! Building fixture sites end to end and checking what came out, parsed as
//! HTML and JSON rather than grepped.

mod common;

use common::*;
use serde_json::Value;
use trustcard::score::Component;

#[test]
fn scorecard_page_shows_components_total_band_fixes_and_body() {
    let site = copy_site(&fixture("basic"));
    let out = build(site.path(), &[]);
    let page = html(&out, "handoffs/acme-datadog/index.html");

    let rows = select(&page, "table.components tr[data-component]");
    let keys: Vec<_> = rows
        .iter()
        .map(|r| r.value().attr("data-component").unwrap_or_default())
        .collect();
    let expected: Vec<_> = Component::ALL.iter().map(|c| c.key()).collect();
    assert_eq!(keys, expected);
    let grades: Vec<_> = rows
        .iter()
        .map(|r| r.value().attr("data-grade").unwrap_or_default())
        .collect();
    assert_eq!(
        grades,
        [
            "strong", "weak", "strong", "weak", "missing", "strong", "strong", "missing", "weak"
        ]
    );
    // Grades are readable without colour.
    assert!(
        text(&rows[4]).to_lowercase().contains("missing"),
        "{}",
        text(&rows[4])
    );
    assert!(text(&rows[4]).contains("No date agreed yet."));

    let total = select(&page, ".total");
    assert_eq!(total[0].value().attr("data-score"), Some("11"));
    assert!(text(&total[0]).contains("11 / 18"));
    let band = select(&page, ".band");
    assert_eq!(band[0].value().attr("data-band"), Some("needs-work"));

    let fixes: Vec<_> = select(&page, "ol.fixes li")
        .iter()
        .map(|li| li.value().attr("data-fix").unwrap_or_default().to_string())
        .collect();
    assert_eq!(fixes, ["renegotiate_rule", "rebuild_packet"]);

    let timeline: Vec<_> = select(&page, "ol.timeline li")
        .iter()
        .map(|li| li.value().attr("data-kind").unwrap_or_default().to_string())
        .collect();
    assert_eq!(timeline, ["accepted", "acted"]);

    // Front matter and body HTML are escaped, never interpreted.
    assert_eq!(select(&page, "h1").len(), 1);
    assert!(text(&select(&page, "h1")[0]).contains("Acme × Datadog: <teardown> & more"));
    assert!(select(&page, ".brief-body b").is_empty());
    assert!(text(&select(&page, ".brief-body")[0]).contains("<b>renewing</b>"));
    assert_eq!(select(&page, ".brief-body table").len(), 1);
    assert_eq!(select(&page, ".brief-body h2#why-now").len(), 1);
}

#[test]
fn scorecard_json_matches_the_pinned_shape() {
    let site = copy_site(&fixture("basic"));
    let out = build(site.path(), &[]);
    let json: Value = serde_json::from_str(&read(&out, "data/scorecard.json")).expect("valid JSON");
    assert_eq!(json["as_of"], "2026-10-07");
    assert_eq!(json["period"], "month");
    assert_eq!(
        json["bands"][0],
        serde_json::json!({"name": "Ready", "min": 15})
    );
    let ids = handoff_field(&json, "id");
    // Drafts never count; date ascending.
    assert_eq!(ids, ["acme-datadog", "zoe-deal", "globex", "initech"]);
    let acme = &json["handoffs"][0];
    assert_eq!(acme["score"], 11);
    assert_eq!(acme["band"], "Needs work");
    assert_eq!(acme["grades"]["partner_offer"], "missing");
    assert_eq!(
        acme["fixes"],
        serde_json::json!(["renegotiate_rule", "rebuild_packet"])
    );
    assert_eq!(acme["url"], "handoffs/acme-datadog/");
    assert_eq!(acme["owner"], "Priya Shah");
    assert_eq!(json["handoffs"][1]["owner"], Value::Null);
    // Last three: initech (10-05, 17), globex (10-01, 0), zoe (09-10, 18).
    assert_eq!(
        json["current"]["handoffs"],
        serde_json::json!(["initech", "globex", "zoe-deal"])
    );
    assert_eq!(
        json["current"]["score"],
        serde_json::json!((17.0 + 0.0 + 18.0) / 3.0)
    );
    assert_eq!(json["current"]["band"], "Needs work");
}

#[test]
fn every_page_kind_is_built_with_relative_links() {
    let site = copy_site(&fixture("basic"));
    let out = build(site.path(), &[]);
    for path in [
        "index.html",
        "handoffs/index.html",
        "handoffs/zoe-deal/index.html",
        "bands/index.html",
        "bands/ready/index.html",
        "bands/needs-work/index.html",
        "bands/not-ready/index.html",
        "trends/index.html",
        "trends/mean_score/index.html",
        "partners/index.html",
        "partners/datadog/index.html",
        "sellers/zoe-adams/index.html",
        "review/index.html",
        "faq/index.html",
        "404.html",
        "robots.txt",
        "llms.txt",
        "data/scorecard.json",
        "static-extra.txt",
    ] {
        assert!(out.join(path).is_file(), "missing {path}");
    }
    assert!(
        !out.join("sitemap.xml").exists(),
        "no sitemap without base_url"
    );
    assert!(
        !out.join("handoffs/wip/index.html").exists(),
        "drafts need --drafts"
    );

    for path in [
        "index.html",
        "handoffs/acme-datadog/index.html",
        "sellers/zoe-adams/index.html",
    ] {
        let page = html(&out, path);
        for link in select(&page, "a[href], link[href], script[src]") {
            let target = link
                .value()
                .attr("href")
                .or(link.value().attr("src"))
                .unwrap_or_default();
            assert!(
                !target.starts_with('/') && !target.contains("://"),
                "{path}: non-relative link {target}"
            );
            // Every internal link resolves to a file in the output.
            let target = target.split(['#', '?']).next().unwrap_or_default();
            if target.is_empty() {
                continue;
            }
            let base = std::path::Path::new(path).parent().unwrap();
            let mut resolved = out.join(base).join(target);
            if target.ends_with('/') || target == "." || target == "./" {
                resolved = resolved.join("index.html");
            }
            assert!(resolved.exists(), "{path}: broken link {target}");
        }
    }
}

#[test]
fn noindex_everywhere_but_the_faq_unless_configured() {
    let site = copy_site(&fixture("basic"));
    let out = build(
        site.path(),
        &["--base-url", "https://intranet.example/scorecards/"],
    );
    let robots = |path: &str| {
        let page = html(&out, path);
        select(&page, "meta[name=robots]")
            .iter()
            .map(|m| m.value().attr("content").unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(robots("index.html"), ["noindex"]);
    assert_eq!(robots("handoffs/globex/index.html"), ["noindex"]);
    assert!(robots("faq/index.html").is_empty());
    let sitemap = read(&out, "sitemap.xml");
    assert!(
        sitemap.contains("<loc>https://intranet.example/scorecards/faq/</loc>"),
        "{sitemap}"
    );
    assert!(!sitemap.contains("handoffs/"), "{sitemap}");
    assert!(
        read(&out, "robots.txt")
            .contains("Sitemap: https://intranet.example/scorecards/sitemap.xml")
    );
    let page = html(&out, "handoffs/globex/index.html");
    let canonical = select(&page, "link[rel=canonical]");
    assert_eq!(
        canonical[0].value().attr("href"),
        Some("https://intranet.example/scorecards/handoffs/globex/")
    );
}

#[test]
fn explicit_index_links_work_from_the_file_system() {
    let site = copy_site(&fixture("basic"));
    let out = build(site.path(), &["--explicit-index"]);
    let page = html(&out, "handoffs/index.html");
    let links: Vec<_> = select(&page, "table.handoffs a")
        .iter()
        .map(|a| a.value().attr("href").unwrap_or_default().to_string())
        .collect();
    assert!(
        links.contains(&"../handoffs/globex/index.html".to_string()),
        "{links:?}"
    );
    for link in select(&page, "a[href]") {
        let href = link.value().attr("href").unwrap_or_default();
        if !href.starts_with('#') && !href.contains("://") {
            assert!(
                href.split('#').next().unwrap().ends_with(".html")
                    || href.ends_with(".json")
                    || href.ends_with(".txt"),
                "{href}"
            );
        }
    }
}

#[test]
fn drafts_render_only_with_the_flag_and_never_count() {
    let site = copy_site(&fixture("basic"));
    let without = build(site.path(), &[]);
    let json_without = read(&without, "data/scorecard.json");
    let with = build(site.path(), &["--drafts"]);
    let page = html(&with, "handoffs/wip/index.html");
    assert!(text(&select(&page, "main")[0]).contains("Draft"));
    assert_eq!(read(&with, "data/scorecard.json"), json_without);
    // The next plain build removes the draft page it no longer makes.
    let again = build(site.path(), &[]);
    assert!(!again.join("handoffs/wip").exists());
}

#[test]
fn builds_are_byte_identical() {
    let site = copy_site(&fixture("basic"));
    let first = snapshot(&build(site.path(), &[]));
    let second_site = copy_site(&fixture("basic"));
    let second = snapshot(&build(second_site.path(), &[]));
    assert_eq!(first.len(), second.len());
    for ((path_a, bytes_a), (path_b, bytes_b)) in first.iter().zip(&second) {
        assert_eq!(path_a, path_b);
        assert!(bytes_a == bytes_b, "{path_a} differs between builds");
    }
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let site = copy_site(&fixture("basic"));
    let out = build(site.path(), &[]);
    let before = snapshot(&out);
    let brief = site.path().join("content/handoffs/globex.md");
    let text = std::fs::read_to_string(&brief)
        .unwrap()
        .replace("\"missing\"", "\"nope\"");
    std::fs::write(&brief, text).unwrap();
    std::fs::write(
        site.path().join("content/handoffs/new.md"),
        "+++\ntitle = \"x\"\n",
    )
    .unwrap();
    let output = trustcard(site.path(), &["build", "--output", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("content/handoffs/globex.md:11:18: error: grade `nope`"),
        "{message}"
    );
    assert!(
        message.contains(
            "content/handoffs/new.md:1:1: error: front matter opened with `+++` is never closed"
        ),
        "{message}"
    );
    assert_eq!(snapshot(&out), before);
}

#[test]
fn output_folders_that_would_hurt_the_site_are_refused() {
    let site = copy_site(&fixture("basic"));
    for bad in [".", "content", "content/out", ".."] {
        let target = site.path().join(bad);
        let output = trustcard(
            site.path(),
            &["build", "--output", target.to_str().unwrap()],
        );
        assert_eq!(output.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&output).contains("refusing to build into"),
            "{bad}: {}",
            stderr(&output)
        );
    }
    let mine = site.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    let output = trustcard(site.path(), &["build", "--output", mine.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not written by trustcard"));
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn rebuilding_writes_only_what_changed() {
    let site = copy_site(&fixture("basic"));
    build(site.path(), &[]);
    let output = trustcard(site.path(), &["build"]);
    assert!(output.status.success());
    let summary = stderr(&output);
    assert!(summary.contains("(0 written, "), "{summary}");
}

#[test]
fn site_templates_override_the_theme_file_by_file() {
    let site = copy_site(&fixture("basic"));
    std::fs::create_dir_all(site.path().join("templates")).unwrap();
    std::fs::write(
        site.path().join("templates/404.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>Custom gone</h1>{% endblock %}",
    )
    .unwrap();
    let out = build(site.path(), &[]);
    let page = html(&out, "404.html");
    assert_eq!(text(&select(&page, "h1")[0]), "Custom gone");
    // The rest still comes from the built-in theme.
    assert_eq!(select(&html(&out, "index.html"), "h1").len(), 1);
}

#[test]
fn a_theme_base_template_is_what_every_page_extends() {
    let site = copy_site(&fixture("basic"));
    let config = site.path().join("site.toml");
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("theme = \"mine\"\n{toml}")).unwrap();
    let theme = site.path().join("themes/mine/templates");
    std::fs::create_dir_all(&theme).unwrap();
    std::fs::create_dir_all(site.path().join("templates")).unwrap();
    // A base of its own: it must still define every block the built-in
    // pages fill (`head`, `content`).
    std::fs::write(
        theme.join("base.html"),
        "<!DOCTYPE html><title>{{ page.title }}</title>{% block head %}{% endblock head %}\
         <main class=\"mine\">{% block content %}{% endblock content %}</main>",
    )
    .unwrap();
    let gone = |who: &str| {
        format!(
            "{{% extends \"base.html\" %}}{{% block content %}}<h1>{who} gone</h1>{{% endblock content %}}"
        )
    };
    std::fs::write(theme.join("404.html"), gone("Theme")).unwrap();
    // The site's templates/ wins over the theme's.
    std::fs::write(site.path().join("templates/404.html"), gone("Site")).unwrap();
    let out = build(site.path(), &[]);
    for page in [
        "index.html",
        "handoffs/acme-datadog/index.html",
        "faq/index.html",
    ] {
        let document = html(&out, page);
        assert_eq!(select(&document, "main.mine").len(), 1, "{page}");
        assert!(select(&document, "header.site-header").is_empty(), "{page}");
    }
    let not_found = html(&out, "404.html");
    assert_eq!(text(&select(&not_found, "main.mine h1")[0]), "Site gone");
}

#[test]
fn custom_bands_are_honoured() {
    let site = copy_site(&fixture("basic"));
    let config = site.path().join("site.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[bands]]\nname = \"Gold\"\nmin = 18\nsummary = \"Perfect.\"\n\n[[bands]]\nname = \"Rest\"\nmin = 0\nsummary = \"Everything else.\"\n");
    std::fs::write(&config, text).unwrap();
    let out = build(site.path(), &[]);
    let json: Value = serde_json::from_str(&read(&out, "data/scorecard.json")).unwrap();
    assert_eq!(
        json["bands"],
        serde_json::json!([{"name": "Gold", "min": 18}, {"name": "Rest", "min": 0}])
    );
    let bands = handoff_field(&json, "band");
    assert_eq!(bands, ["Rest", "Gold", "Rest", "Rest"]);
    assert!(out.join("bands/gold/index.html").is_file());
    assert!(!out.join("bands/ready").exists());
}
