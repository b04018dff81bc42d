//! Inline SVG line charts: no JavaScript, no fonts, readable by screen
//! readers through `<title>` and `<desc>`, with gaps where a period has no
//! value.

use std::fmt::Write;

pub struct Series<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// Period labels as the model has them ("2026-04"); the axis shows
    /// them as the pages do ("Apr 2026").
    pub labels: &'a [String],
    pub values: &'a [Option<f64>],
    /// Shares are drawn on a fixed 0–100 % axis.
    pub is_share: bool,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number with at most one decimal, as axis labels show it.
pub fn short_number(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

fn axis_max(series: &Series<'_>) -> f64 {
    if series.is_share {
        return 1.0;
    }
    let max = series
        .values
        .iter()
        .flatten()
        .copied()
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return 1.0;
    }
    // A round ceiling so the grid lines land on readable numbers.
    let magnitude = 10f64.powf(max.log10().floor());
    let steps = [1.0, 2.0, 2.5, 5.0, 10.0];
    steps
        .iter()
        .map(|s| s * magnitude)
        .find(|candidate| *candidate >= max)
        .unwrap_or(max)
}

/// Splits values into runs of consecutive non-null points.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => current.push((i, *v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn polyline(
    svg: &mut String,
    run: &[(usize, f64)],
    x: impl Fn(usize) -> f64,
    y: impl Fn(f64) -> f64,
) {
    svg.push_str("<polyline points=\"");
    for (n, (i, v)) in run.iter().enumerate() {
        let gap = if n == 0 { "" } else { " " };
        let _ = write!(svg, "{gap}{:.1},{:.1}", x(*i), y(*v));
    }
    svg.push_str("\"/>");
}

pub fn line_chart(series: &Series<'_>) -> String {
    let n = series.values.len().max(1);
    let max = axis_max(series);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - (v / max).clamp(0.0, 1.0));
    let format_tick = |v: f64| {
        if series.is_share {
            format!("{}%", short_number(v * 100.0))
        } else {
            short_number(v)
        }
    };

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" preserveAspectRatio=\"xMidYMid meet\">\
<title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{desc}</desc>",
        id = series.id,
        title = escape(series.title),
        desc = escape(series.description),
    );
    svg.push_str("<g class=\"grid\">");
    for step in 0..=4 {
        let value = max * f64::from(step) / 4.0;
        let py = y(value);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            format_tick(value)
        );
    }
    svg.push_str("</g><g class=\"labels\">");
    // Label at most ~8 periods so week charts stay legible.
    let every = n.div_ceil(8).max(1);
    for (i, label) in series.labels.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x(i),
                HEIGHT - BOTTOM + 18.0,
                escape(&super::format::period(label))
            );
        }
    }
    svg.push_str("</g><g class=\"series\">");
    for run in runs(series.values) {
        if run.len() > 1 {
            polyline(&mut svg, &run, x, y);
        }
        for (i, v) in run {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"/>",
                x(i),
                y(v)
            );
        }
    }
    svg.push_str("</g></svg>");
    svg
}

/// A small trend line for the home page; decorative, because the value and
/// direction are stated in text beside it.
pub fn sparkline(values: &[Option<f64>], is_share: bool) -> String {
    const W: f64 = 120.0;
    const H: f64 = 32.0;
    let n = values.len();
    let max = if is_share {
        1.0
    } else {
        values
            .iter()
            .flatten()
            .copied()
            .fold(0.0_f64, f64::max)
            .max(1e-9)
    };
    let x = |i: usize| {
        if n <= 1 {
            W / 2.0
        } else {
            2.0 + (W - 4.0) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| 2.0 + (H - 4.0) * (1.0 - (v / max).clamp(0.0, 1.0));
    let mut svg = format!(
        "<svg class=\"sparkline\" viewBox=\"0 0 {W} {H}\" aria-hidden=\"true\" focusable=\"false\">"
    );
    for run in runs(values) {
        if run.len() > 1 {
            polyline(&mut svg, &run, x, y);
        } else if let Some((i, v)) = run.first() {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\"/>",
                x(*i),
                y(*v)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_the_line() {
        let labels: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let values = [Some(1.0), Some(2.0), None, Some(4.0)];
        let svg = line_chart(&Series {
            id: "t",
            title: "T & <x>",
            description: "d",
            labels: &labels,
            values: &values,
            is_share: false,
        });
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("<title id=\"t-title\">T &amp; &lt;x&gt;</title>"));
    }

    #[test]
    fn axis_labels_read_like_the_pages() {
        let svg = |labels: &[&str]| {
            let labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
            let values = vec![Some(1.0); labels.len()];
            line_chart(&Series {
                id: "t",
                title: "t",
                description: "d",
                labels: &labels,
                values: &values,
                is_share: false,
            })
        };
        let months = svg(&["2026-03", "2026-04"]);
        assert!(months.contains(">Mar 2026</text>"), "{months}");
        assert!(months.contains(">Apr 2026</text>"), "{months}");
        assert!(!months.contains("2026-0"), "{months}");
        assert!(svg(&["2026-Q1", "2026-Q2"]).contains(">Q2 2026</text>"));
        assert!(svg(&["2026-W13", "2026-W14"]).contains(">2026-W14</text>"));
    }

    #[test]
    fn axis_ceiling_is_round() {
        let labels = vec![String::new()];
        let series = |values: &[Option<f64>]| {
            axis_max(&Series {
                id: "",
                title: "",
                description: "",
                labels: &labels,
                values,
                is_share: false,
            })
        };
        assert_eq!(series(&[Some(13.0)]), 20.0);
        assert_eq!(series(&[Some(17.4)]), 20.0);
        assert_eq!(series(&[Some(3.0)]), 5.0);
        assert_eq!(series(&[None]), 1.0);
    }
}
