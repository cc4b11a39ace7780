//! Charts as inline SVG: no script, no external asset, readable without colour (every chart is
//! shown beside a table of its numbers) and scaled by the page (`viewBox`, no fixed size).

use std::fmt::Write;

use crate::{decimal_comma, Chart, ChartKind};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;
/// Colours a person with the common colour-vision deficiencies can still tell apart (Okabe–Ito).
const PALETTE: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#000000",
];

/// The chart as an `<svg>` element, titled with its caption for screen readers.
pub fn render(chart: &Chart) -> String {
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{caption}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11"><title>{caption}</title>"#,
        caption = escape(&chart.caption)
    );
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let (top, step) = nice_scale(max);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y = |value: f64| TOP + plot_height * (1.0 - value / top);

    // Value axis: gridlines at each step, labelled.
    let mut tick = 0.0;
    while tick <= top + step / 2.0 {
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{lx}" y="{ty:.1}" text-anchor="end">{label}</text>"##,
            x2 = WIDTH - RIGHT,
            y = y(tick),
            lx = LEFT - 6.0,
            ty = y(tick) + 4.0,
            label = short_number(tick)
        );
        tick += step;
    }
    let _ = write!(
        out,
        r#"<text x="12" y="{cy}" transform="rotate(-90 12 {cy})" text-anchor="middle">{unit}</text>"#,
        cy = TOP + plot_height / 2.0,
        unit = escape(&chart.unit)
    );

    let categories = chart.categories.len().max(1);
    let band = plot_width / categories as f64;
    // Label at most about 12 categories so that the labels never overlap.
    let label_every = categories.div_ceil(12);
    for (i, category) in chart.categories.iter().enumerate() {
        if i % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{ly}" text-anchor="middle">{label}</text>"#,
                x = LEFT + band * (i as f64 + 0.5),
                ly = HEIGHT - BOTTOM + 16.0,
                label = escape(category)
            );
        }
    }

    match chart.kind {
        ChartKind::Bars => {
            let series = chart.series.len().max(1) as f64;
            let bar = band * 0.8 / series;
            for (s, serie) in chart.series.iter().enumerate() {
                let colour = PALETTE[s % PALETTE.len()];
                for (i, value) in serie.values.iter().enumerate().take(categories) {
                    let value = if value.is_finite() {
                        value.max(0.0)
                    } else {
                        0.0
                    };
                    let x = LEFT + band * i as f64 + band * 0.1 + bar * s as f64;
                    let _ = write!(
                        out,
                        r#"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}"><title>{name} – {category}: {shown}</title></rect>"#,
                        top = y(value),
                        w = bar.max(1.0),
                        h = (TOP + plot_height - y(value)).max(0.0),
                        name = escape(&serie.name),
                        category = escape(&chart.categories[i]),
                        shown = decimal_comma(value, decimals_of(value))
                    );
                }
            }
        }
        ChartKind::Lines => {
            for (s, serie) in chart.series.iter().enumerate() {
                let colour = PALETTE[s % PALETTE.len()];
                let points: Vec<String> = serie
                    .values
                    .iter()
                    .enumerate()
                    .take(categories)
                    .filter(|(_, v)| v.is_finite())
                    .map(|(i, v)| format!("{:.1},{:.1}", LEFT + band * (i as f64 + 0.5), y(*v)))
                    .collect();
                let _ = write!(
                    out,
                    r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"><title>{name}</title></polyline>"#,
                    points = points.join(" "),
                    name = escape(&serie.name)
                );
            }
        }
    }

    // The legend, under the category labels.
    let mut x = LEFT;
    for (s, serie) in chart.series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{ly}" width="10" height="10" fill="{colour}"/><text x="{tx:.1}" y="{ty}">{name}</text>"#,
            ly = HEIGHT - 18.0,
            tx = x + 14.0,
            ty = HEIGHT - 9.0,
            name = escape(&serie.name)
        );
        x += 24.0 + 6.5 * serie.name.chars().count() as f64;
    }
    out.push_str("</svg>");
    out
}

/// The chart as horizontal bars, whatever its kind: one row per category, labelled on the left
/// in full (agency codes, service names), for rankings whose labels do not fit under vertical
/// bars. The height grows with the categories.
pub fn render_horizontal(chart: &Chart) -> String {
    const LABEL: f64 = 250.0;
    const ROW: f64 = 22.0;
    let categories = chart.categories.len().max(1);
    let series = chart.series.len().max(1) as f64;
    let plot_height = ROW * categories as f64;
    let height = TOP + plot_height + BOTTOM;
    let plot_width = WIDTH - LABEL - RIGHT;
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{caption}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11"><title>{caption}</title>"#,
        caption = escape(&chart.caption)
    );
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let (top, step) = nice_scale(max);
    let x = |value: f64| LABEL + plot_width * value / top;
    let mut tick = 0.0;
    while tick <= top + step / 2.0 {
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2:.1}" stroke="#ddd"/><text x="{x:.1}" y="{ty:.1}" text-anchor="middle">{label}</text>"##,
            x = x(tick),
            y2 = TOP + plot_height,
            ty = TOP + plot_height + 14.0,
            label = short_number(tick)
        );
        tick += step;
    }
    let _ = write!(
        out,
        r#"<text x="{cx:.1}" y="{ty:.1}" text-anchor="middle">{unit}</text>"#,
        cx = LABEL + plot_width / 2.0,
        ty = TOP + plot_height + 30.0,
        unit = escape(&chart.unit)
    );
    let bar = ROW * 0.8 / series;
    for (i, category) in chart.categories.iter().enumerate() {
        let row_top = TOP + ROW * i as f64;
        let label: String = if category.chars().count() > 40 {
            category.chars().take(39).chain(['…']).collect()
        } else {
            category.clone()
        };
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{ty:.1}" text-anchor="end">{label}<title>{full}</title></text>"#,
            lx = LABEL - 6.0,
            ty = row_top + ROW / 2.0 + 4.0,
            label = escape(&label),
            full = escape(category)
        );
        for (s, serie) in chart.series.iter().enumerate() {
            let value = serie.values.get(i).copied().unwrap_or(0.0);
            let value = if value.is_finite() {
                value.max(0.0)
            } else {
                0.0
            };
            let _ = write!(
                out,
                r#"<rect x="{LABEL}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}"><title>{name} – {category}: {shown}</title></rect>"#,
                y = row_top + ROW * 0.1 + bar * s as f64,
                w = (x(value) - LABEL).max(0.0),
                h = bar.max(1.0),
                colour = PALETTE[s % PALETTE.len()],
                name = escape(&serie.name),
                category = escape(category),
                shown = decimal_comma(value, decimals_of(value))
            );
        }
    }
    let mut lx = LABEL;
    for (s, serie) in chart.series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="{ly:.1}" width="10" height="10" fill="{colour}"/><text x="{tx:.1}" y="{ty:.1}">{name}</text>"#,
            ly = height - 18.0,
            colour = PALETTE[s % PALETTE.len()],
            tx = lx + 14.0,
            ty = height - 9.0,
            name = escape(&serie.name)
        );
        lx += 24.0 + 6.5 * serie.name.chars().count() as f64;
    }
    out.push_str("</svg>");
    out
}

/// The top of the value axis and its step: 1, 2 or 5 times a power of ten, four or five steps.
pub fn nice_scale(max: f64) -> (f64, f64) {
    if !(max.is_finite() && max > 0.0) {
        return (1.0, 0.25);
    }
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

/// An axis label: "1,5 tr" (triệu), "12 N" (nghìn), "0,25".
fn short_number(value: f64) -> String {
    if value >= 1e6 {
        format!(
            "{} tr",
            decimal_comma(value / 1e6, decimals_of(value / 1e6))
        )
    } else if value >= 1e4 {
        format!("{} N", decimal_comma(value / 1e3, decimals_of(value / 1e3)))
    } else {
        decimal_comma(value, decimals_of(value))
    }
}

fn decimals_of(value: f64) -> u8 {
    if value.fract().abs() < 1e-9 {
        0
    } else if (value * 10.0).fract().abs() < 1e-9 {
        1
    } else {
        2
    }
}

/// Text for SVG content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Series;

    fn chart(kind: ChartKind) -> Chart {
        Chart {
            kind,
            caption: "Lượt trao đổi <theo ngày>".into(),
            unit: "lượt".into(),
            categories: vec!["01/11".into(), "02/11".into(), "03/11".into()],
            series: vec![
                Series {
                    name: "Sở Tư pháp".into(),
                    values: vec![10.0, 0.0, 25.0],
                },
                Series {
                    name: "Công an".into(),
                    values: vec![3.0, f64::NAN, 7.0],
                },
            ],
        }
    }

    #[test]
    fn bars_draw_one_rectangle_per_value_scaled_to_the_axis() {
        let svg = render(&chart(ChartKind::Bars));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // 6 bars, 2 legend swatches.
        assert_eq!(svg.matches("<rect").count(), 8);
        assert!(svg.contains("<title>Lượt trao đổi &lt;theo ngày&gt;</title>"));
        assert!(svg.contains("Sở Tư pháp – 03/11: 25"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn lines_skip_missing_values() {
        let svg = render(&chart(ChartKind::Lines));
        assert_eq!(svg.matches("<polyline").count(), 2);
        let second = svg.split("<polyline").nth(2).unwrap();
        let points = second
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split(' ').count(), 2);
    }

    #[test]
    fn horizontal_bars_label_every_category_in_full() {
        let mut c = chart(ChartKind::Bars);
        c.categories[2] = "000.00.05.H35/ho-tich/khai-sinh/v1 — Tra cứu khai sinh điện tử".into();
        let svg = render_horizontal(&c);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // 6 bars, 2 legend swatches; each category labelled, the long one shortened with its
        // full text as a tooltip.
        assert_eq!(svg.matches("<rect").count(), 8);
        assert!(svg.contains(">01/11<") && svg.contains(">02/11<"));
        assert!(svg.contains("…<title>000.00.05.H35/ho-tich/khai-sinh/v1 — Tra cứu"));
        // The longest bar (25) ends at the scale's top (30) times the plot's width.
        let width = (WIDTH - 250.0 - RIGHT) * 25.0 / 30.0;
        assert!(svg.contains(&format!("width=\"{width:.1}\"")), "{svg}");
        // Taller with more categories.
        c.categories.extend((0..20).map(|i| format!("c{i}")));
        assert!(render_horizontal(&c).contains(&format!(
            "viewBox=\"0 0 {WIDTH} {}\"",
            TOP + 22.0 * 23.0 + BOTTOM
        )));
    }

    #[test]
    fn the_scale_ends_on_a_round_step_above_the_largest_value() {
        assert_eq!(nice_scale(25.0), (30.0, 10.0));
        assert_eq!(nice_scale(1.0), (1.0, 0.5));
        assert_eq!(nice_scale(0.0), (1.0, 0.25));
        assert_eq!(nice_scale(9_870_000.0), (10_000_000.0, 5_000_000.0));
        let (top, step) = nice_scale(123_456.0);
        assert!(top >= 123_456.0 && (top / step) <= 5.0);
    }
}
