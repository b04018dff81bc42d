//! Handoff-table rows are rendered once per handoff and reused; these
//! check that the shortcut shows exactly what rendering each row in place
//! shows, and that `handoff_row.html` can be overridden.

mod common;

use common::*;

const DEFAULT_COMPONENTS: &str = include_str!("../themes/default/templates/components.html");

#[test]
fn reused_rows_match_rows_rendered_in_place() {
    let reused = copy_site(&fixture("basic"));
    let reused_out = build(reused.path(), &[]);

    // The same components, without the shortcut: every row rendered where it is.
    let in_place = copy_site(&fixture("basic"));
    let templates = in_place.path().join("templates");
    std::fs::create_dir_all(&templates).expect("templates folder");
    let components = DEFAULT_COMPONENTS.replace("h.row is defined", "false");
    assert_ne!(components, DEFAULT_COMPONENTS);
    std::fs::write(templates.join("components.html"), components).expect("components.html");
    let in_place_out = build(in_place.path(), &[]);

    for page in [
        "index.html",
        "handoffs/index.html",
        "bands/needs-work/index.html",
    ] {
        assert_eq!(read(&reused_out, page), read(&in_place_out, page), "{page}");
    }
}

#[test]
fn handoff_row_template_can_be_overridden() {
    let site = copy_site(&fixture("basic"));
    let templates = site.path().join("templates");
    std::fs::create_dir_all(&templates).expect("templates folder");
    std::fs::write(
        templates.join("handoff_row.html"),
        r#"<tr class="mine" data-id="{{ h.id }}"><td>{{ root }}{{ h.url }}</td></tr>"#,
    )
    .expect("handoff_row.html");
    let out = build(site.path(), &[]);
    let page = html(&out, "handoffs/index.html");
    let rows = select(&page, "table.handoffs tbody tr");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.value().attr("class") == Some("mine")));
    assert!(
        text(&rows[0]).starts_with("../handoffs/"),
        "{}",
        text(&rows[0])
    );
}

/// A row template sees a handoff's values the same way on every list: on
/// the home page (made from the page's values) and on the handoff, band
/// and rollup lists (made from the handoff's summary), every key in the
/// same sorted order with the same value.
#[test]
fn row_templates_see_the_same_values_on_every_list() {
    let site = copy_site(&fixture("basic"));
    let templates = site.path().join("templates");
    std::fs::create_dir_all(&templates).expect("templates folder");
    std::fs::write(
        templates.join("handoff_row.html"),
        r#"<tr data-id="{{ h.id }}"><td>{% for k, v in h %}{{ k }}={{ v }};{% endfor %}</td></tr>"#,
    )
    .expect("handoff_row.html");
    let out = build(site.path(), &[]);
    let rows = |page: &str| -> Vec<(String, String)> {
        let page = html(&out, page);
        select(&page, "table.handoffs tbody tr")
            .iter()
            .map(|row| {
                let id = row.value().attr("data-id").unwrap_or_default().to_string();
                (id, text(row))
            })
            .collect()
    };
    let home = rows("index.html");
    assert!(!home.is_empty());
    let (id, row) = &home[0];
    assert!(row.starts_with("account="), "{row}");
    let keys: Vec<&str> = row
        .split(';')
        .filter_map(|pair| pair.split_once('=').map(|(key, _)| key))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    let listed = rows("handoffs/index.html");
    let same = listed
        .iter()
        .find(|(other, _)| other == id)
        .expect("listed");
    assert_eq!(&same.1, row);
}
