//! SVG figures of a grid (`[sweep]`), drawn from `choices.csv` and `points.csv` alone, one figure per
//! function: how each method's excess at its held-out choice moves along one swept key
//! ([`learning_curves_svg`]), which method wins where ([`method_map_svg`]), and the ID–OOD trade-off at each
//! grid point ([`pareto_svg`]). A method has the same colour in all three ([`method_colour`]).

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::aggregate::Aggregate;
use crate::atomic::write_atomically;
use crate::error::ReportError;
use crate::figures::{
    draw_legend, draw_series, legend_width, message_panel, method_colour, padded, panel_chart, render, Drawn,
    LegendEntry, Marker, Stroke, Swatch, BASE_GREY, CHART_LEGEND, FONT, PANEL, TITLE_HEIGHT,
};
use crate::point::PointRow;
use crate::recommend::{MethodSummary, Recommendation, Tie};
use crate::search_figures::error_bars;
use crate::tidy::group_by_key;
use crate::vocabulary::Method;

/// Pixels of the strip above a row of learning-curve panels that names the row's swept values.
const ROW_TITLE: u32 = 28;

/// Which excess a learning-curve column shows: ID, or OOD when the grid has OOD sources.
type Excess = fn(&MethodSummary) -> Option<Aggregate>;

/// A method map's cells, `[row][column]`: the recommendation there, if any.
type Cells<'a> = Vec<Vec<Option<&'a Recommendation>>>;

/// A method at its (ID, OOD) excess in a Pareto panel.
type Dot<'a> = (&'a MethodSummary, f64, f64);

/// Extra pixels for the legend strip: [`legend_width`]'s 8 px a character runs short for labels of wide
/// glyphs (`mean ± 95% CI`).
const LEGEND_SLACK: u32 = 24;

/// Pixel height of a method-map cell: the winner's name, and under it the tied methods.
const CELL_HEIGHT: i32 = 56;

/// Learning curves: each method's evaluation excess at its held-out choice (mean ± 95% CI across seeds, as a
/// translucent band) against the swept key `x_key` (log scale, ticks at the values swept), ID (left) and
/// OOD (right, mean over the OOD sources), bits per token. One row of panels per combination of the other
/// swept keys' values, titled with them; the base is the dashed grey `base` line. A panel without a finite
/// value says so instead. Errors if `x_key` is not swept or one of its values is not a positive number, and
/// if nothing finite is left to draw.
pub fn learning_curves_svg(
    summaries: &[MethodSummary],
    points: &[PointRow],
    x_key: &str,
    path: &Path,
) -> Result<(), ReportError> {
    let grid = Grid::new(points);
    let xs = grid.positive_numbers(x_key)?;
    let x_of = |point: u64| xs.iter().find(|(p, _)| *p == point).map(|&(_, x)| x);
    let others: Vec<&str> = grid.keys.iter().copied().filter(|key| *key != x_key).collect();
    let placed = summaries.iter().filter(|summary| x_of(summary.point).is_some());
    let rows: Vec<(String, Vec<&MethodSummary>)> = group_by_key(placed, |summary| grid.label(summary.point, &others));
    let columns: [(&str, Excess); 2] =
        [("ID excess (bits/token)", |summary| Some(summary.id)), ("OOD excess (bits/token)", |summary| summary.ood)];
    let panels: Vec<(String, Vec<CurvePanel>)> = rows
        .iter()
        .map(|(label, members)| {
            let panels =
                columns.iter().map(|&(caption, value)| CurvePanel::new(caption, members, &x_of, value)).collect();
            (label.clone(), panels)
        })
        .collect();
    if panels.iter().flat_map(|(_, row)| row).all(|panel| panel.y_range.is_none()) {
        return Err(ReportError::NoData { what: "no finite excess at a swept point (choices.csv, points.csv)" });
    }
    let drawn = panels.iter().flat_map(|(_, row)| row).flat_map(|panel| &panel.curves).map(|(method, _)| *method);
    let methods = methods_in(drawn);
    let mut ticks: Vec<f64> = xs.iter().map(|&(_, x)| x).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    // Less than a factor 1.4 beyond the extremes: the end markers clear the frame on a log axis.
    let x_range = ticks[0] / 1.4..ticks[ticks.len() - 1] * 1.4;
    let mut legend: Vec<LegendEntry> = methods.iter().map(|&method| method_entry(method)).collect();
    legend.push(LegendEntry::new("mean ± 95% CI", BASE_GREY, Swatch::Band));
    let row_title = if others.is_empty() { 0 } else { ROW_TITLE };
    let grid_width = 2 * PANEL.0;
    let size =
        (grid_width + legend_width(&legend) + LEGEND_SLACK, (PANEL.1 + row_title) * panels.len() as u32 + TITLE_HEIGHT);
    let svg = render(path, size, |root| {
        let title = format!("Learning curves: excess at the held-out choice against {x_key}");
        let root = root.titled(&title, (FONT, 24))?;
        let (area, legend_area) = root.split_horizontally(grid_width);
        for (row_area, (label, row)) in area.split_evenly((panels.len(), 1)).iter().zip(&panels) {
            let row_area = if others.is_empty() { row_area.clone() } else { row_area.titled(label, (FONT, 18))? };
            for (panel_area, panel) in row_area.split_evenly((1, 2)).iter().zip(row) {
                draw_curve_panel(panel_area, panel, x_key, x_range.clone(), &ticks)?;
            }
        }
        draw_legend(&legend_area, &legend, CHART_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

/// One learning-curve panel: per method its finite (x, excess) in increasing x.
struct CurvePanel {
    caption: &'static str,
    curves: Vec<(Method, Vec<(f64, Aggregate)>)>,
    /// Over every mean and every finite CI end; `None` when no value is finite.
    y_range: Option<Range<f64>>,
}

impl CurvePanel {
    fn new(
        caption: &'static str,
        members: &[&MethodSummary],
        x_of: &impl Fn(u64) -> Option<f64>,
        value: Excess,
    ) -> Self {
        let curves: Vec<(Method, Vec<(f64, Aggregate)>)> = methods_in(members.iter().map(|summary| summary.method))
            .into_iter()
            .map(|method| {
                let mut points: Vec<(f64, Aggregate)> = members
                    .iter()
                    .filter(|summary| summary.method == method)
                    .filter_map(|summary| Some((x_of(summary.point)?, value(summary)?)))
                    .filter(|(_, value)| value.mean.is_finite())
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                (method, points)
            })
            .filter(|(_, points)| !points.is_empty())
            .collect();
        let ends = curves.iter().flat_map(|(_, points)| points).flat_map(|(_, value)| interval(value));
        Self { caption, y_range: padded(ends), curves }
    }
}

/// The ends of `value`'s 95% CI, or its mean alone when the CI is not finite.
fn interval(value: &Aggregate) -> Vec<f64> {
    if value.ci95.is_finite() {
        vec![value.mean - value.ci95, value.mean + value.ci95]
    } else {
        vec![value.mean]
    }
}

fn draw_curve_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &CurvePanel,
    x_key: &str,
    x_range: Range<f64>,
    ticks: &[f64],
) -> Drawn {
    let Some(y_range) = panel.y_range.clone() else {
        return message_panel(area, panel.caption, "no finite values in choices.csv");
    };
    let mut chart = ChartBuilder::on(area)
        .caption(panel.caption, (FONT, 19))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range.log_scale().with_key_points(ticks.to_vec()), y_range)?;
    chart
        .configure_mesh()
        .x_desc(format!("{x_key} (log scale)"))
        .y_desc("excess loss (bits/token)")
        .x_label_formatter(&|x| format!("{x}"))
        .label_style((FONT, 15))
        .draw()?;
    // Every band first, so that no band hides another method's line.
    for (method, points) in &panel.curves {
        let color = method_colour(*method);
        let band: Vec<(f64, f64, f64)> = points
            .iter()
            .filter(|(_, value)| value.ci95.is_finite())
            .map(|&(x, value)| (x, value.mean - value.ci95, value.mean + value.ci95))
            .collect();
        if band.len() >= 2 {
            let lower = band.iter().map(|&(x, low, _)| (x, low));
            let outline: Vec<(f64, f64)> = lower.chain(band.iter().rev().map(|&(x, _, high)| (x, high))).collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.2).filled())))?;
        } else {
            // A band needs two x values: a lone point shows its CI as a whisker.
            error_bars(&mut chart, &band, color)?;
        }
    }
    for (method, points) in &panel.curves {
        let xy: Vec<(f64, f64)> = points.iter().map(|&(x, value)| (x, value.mean)).collect();
        draw_series(&mut chart, &xy, &method_entry(*method), 3)?;
    }
    Ok(())
}

/// The method map: one cell per (value of `x_key`, value of `y_key`), columns and rows in order of first
/// appearance in `points`, filled with the colour of the method whose held-out choice has the lowest
/// evaluation objective there and named in it. Where the runner-up is statistically tied with the winner
/// ([`Tie::Tied`]) the cell is paler and hatched and lists every tied method after `≈`, so a reader does not
/// take a coin flip for a finding. One map per combination of the other swept keys' values, titled with them.
/// A config without `[sweep]` is one cell. Errors if a grid does not sweep `x_key` and `y_key` (distinct),
/// or if there is no recommendation.
pub fn method_map_svg(
    recommendations: &[Recommendation],
    points: &[PointRow],
    x_key: &str,
    y_key: &str,
    path: &Path,
) -> Result<(), ReportError> {
    if recommendations.is_empty() {
        return Err(ReportError::NoData { what: "no recommendation to map (choices.csv)" });
    }
    let grid = Grid::new(points);
    if !grid.keys.is_empty() {
        grid.require(x_key)?;
        grid.require(y_key)?;
        if x_key == y_key {
            return Err(ReportError::SweptKey {
                key: x_key.to_string(),
                message: "is both the x and the y key".into(),
            });
        }
    }
    let columns = grid.distinct(x_key);
    let rows = grid.distinct(y_key);
    let others: Vec<&str> = grid.keys.iter().copied().filter(|key| *key != x_key && *key != y_key).collect();
    let maps: Vec<(String, Vec<&Recommendation>)> =
        group_by_key(recommendations.iter(), |recommendation| grid.label(recommendation.point, &others));
    // cells[row][column]: the first recommendation at that place, if any.
    let maps: Vec<(String, Cells)> = maps
        .into_iter()
        .map(|(title, members)| {
            let cell = |row: Option<&str>, column: Option<&str>| {
                members.iter().copied().find(|recommendation| {
                    grid.value(recommendation.point, y_key) == row && grid.value(recommendation.point, x_key) == column
                })
            };
            let cells = rows.iter().map(|&row| columns.iter().map(|&column| cell(row, column)).collect()).collect();
            (title, cells)
        })
        .collect();
    let drawn = || maps.iter().flat_map(|(_, cells)| cells.iter().flatten().flatten());
    let winners = methods_in(drawn().map(|recommendation| recommendation.winner().method));
    let texts = drawn().flat_map(|recommendation| cell_text(recommendation));
    let column_labels: Vec<String> = columns.iter().map(|value| short_value(value.unwrap_or("—"))).collect();
    let row_labels: Vec<String> = rows.iter().map(|value| short_value(value.unwrap_or("—"))).collect();
    let widest = |texts: &mut dyn Iterator<Item = String>| texts.map(|text| text.chars().count()).max().unwrap_or(0);
    let cell_width = (8 * widest(&mut texts.chain(column_labels.iter().cloned())) as i32 + 24).max(120);
    let corner = grid.short_key(y_key).to_string();
    let header_width = (8 * widest(&mut row_labels.iter().cloned().chain([corner.clone()])) as i32 + 24).max(80);
    let titled = !others.is_empty();
    let map_height = if titled { 30 } else { 0 } + 48 + CELL_HEIGHT * rows.len() as i32 + 16;
    let map_width = header_width + cell_width * columns.len() as i32 + 32;
    let mut legend: Vec<LegendEntry> = winners
        .iter()
        .map(|&method| LegendEntry::new(method_name(method), cell_fill(method, false), Swatch::Square))
        .collect();
    for note in [
        "hatched and paler: the winner is tied;",
        "≈ lists the methods tied with it",
        "(paired 95% CI of the gap holds 0)",
    ] {
        legend.push(LegendEntry::note(note));
    }
    if drawn().count() < maps.len() * rows.len() * columns.len() {
        legend.push(LegendEntry::note("—: no recommendation here"));
    }
    let width = map_width.max(760) as u32;
    let size =
        (width + legend_width(&legend) + LEGEND_SLACK, TITLE_HEIGHT + (map_height as u32) * maps.len() as u32 + 16);
    let svg = render(path, size, |root| {
        let root = root.titled("Method map: the lowest evaluation objective at each grid point", (FONT, 24))?;
        let (area, legend_area) = root.split_horizontally(width);
        let headers = MapHeaders {
            x_key: grid.short_key(x_key),
            corner: &corner,
            columns: &column_labels,
            rows: &row_labels,
            header_width,
            cell_width,
        };
        for (index, (title, cells)) in maps.iter().enumerate() {
            let top = 8 + map_height * index as i32;
            draw_map(&area, (16, top), titled.then_some(title.as_str()), &headers, cells)?;
        }
        draw_legend(&legend_area, &legend, CHART_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

/// What every map of a method-map figure shares: its header texts and column widths, in pixels.
struct MapHeaders<'a> {
    x_key: &'a str,
    /// The y key, in the corner above the row labels.
    corner: &'a str,
    columns: &'a [String],
    rows: &'a [String],
    header_width: i32,
    cell_width: i32,
}

/// The winner's name, then `≈` and every tied method when the winner is tied.
fn cell_text(recommendation: &Recommendation) -> Vec<String> {
    let mut lines = vec![method_name(recommendation.winner().method).to_string()];
    if recommendation.tie == Tie::Tied {
        let tied: Vec<&str> = recommendation.tied.iter().map(|&method| method_name(method)).collect();
        lines.push(format!("≈ {}", tied.join(", ")));
    }
    lines
}

/// A cell's fill: the method's colour mixed with white, paler when tied, opaque so the legend square and the
/// cell are the same colour.
fn cell_fill(method: Method, tied: bool) -> RGBColor {
    let RGBColor(r, g, b) = method_colour(method);
    let strength = if tied { 0.25 } else { 0.55 };
    let tint = |channel: u8| (255.0 - strength * (255.0 - channel as f64)).round() as u8;
    RGBColor(tint(r), tint(g), tint(b))
}

fn draw_map(
    area: &DrawingArea<SVGBackend, Shift>,
    (left, mut top): (i32, i32),
    title: Option<&str>,
    headers: &MapHeaders,
    cells: &[Vec<Option<&Recommendation>>],
) -> Drawn {
    let centred = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    if let Some(title) = title {
        let style = TextStyle::from((FONT, 17).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(title, (left, top + 12), style))?;
        top += 30;
    }
    let (header, cell) = (headers.header_width, headers.cell_width);
    let body_left = left + header;
    let body_centre = body_left + cell * headers.columns.len() as i32 / 2;
    area.draw(&Text::new(headers.x_key, (body_centre, top + 12), centred.clone()))?;
    area.draw(&Text::new(headers.corner, (left + header / 2, top + 36), centred.clone()))?;
    for (index, label) in headers.columns.iter().enumerate() {
        area.draw(&Text::new(label.as_str(), (body_left + cell * index as i32 + cell / 2, top + 36), centred.clone()))?;
    }
    let body_top = top + 48;
    for (row, (label, cells)) in headers.rows.iter().zip(cells).enumerate() {
        let y0 = body_top + CELL_HEIGHT * row as i32;
        area.draw(&Text::new(label.as_str(), (left + header / 2, y0 + CELL_HEIGHT / 2), centred.clone()))?;
        for (column, recommendation) in cells.iter().enumerate() {
            let x0 = body_left + cell * column as i32;
            draw_cell(area, (x0, y0, x0 + cell, y0 + CELL_HEIGHT), *recommendation)?;
        }
    }
    Ok(())
}

/// One cell of the method map, in pixels `(x0, y0, x1, y1)`; a white border keeps neighbours apart.
fn draw_cell(
    area: &DrawingArea<SVGBackend, Shift>,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    recommendation: Option<&Recommendation>,
) -> Drawn {
    let centre = ((x0 + x1) / 2, (y0 + y1) / 2);
    let text = |size: u32| TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    let Some(recommendation) = recommendation else {
        area.draw(&Rectangle::new([(x0, y0), (x1, y1)], RGBColor(235, 235, 235).filled()))?;
        area.draw(&Rectangle::new([(x0, y0), (x1, y1)], WHITE.stroke_width(2)))?;
        return area.draw(&Text::new("—", centre, text(15)));
    };
    let method = recommendation.winner().method;
    let tied = recommendation.tie == Tie::Tied;
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], cell_fill(method, tied).filled()))?;
    if tied {
        // Diagonals x + y = c every 10 px, clipped to the cell.
        let style = cell_fill(method, false).stroke_width(1);
        for c in ((x0 + y0 + 10)..(x1 + y1)).step_by(10) {
            let (start, end) = ((c - y1).max(x0), (c - y0).min(x1));
            if start < end {
                area.draw(&PathElement::new(vec![(start, c - start), (end, c - end)], style))?;
            }
        }
    }
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], WHITE.stroke_width(2)))?;
    let lines = cell_text(recommendation);
    if let [name, tie] = lines.as_slice() {
        area.draw(&Text::new(name.as_str(), (centre.0, centre.1 - 9), text(15)))?;
        area.draw(&Text::new(tie.as_str(), (centre.0, centre.1 + 11), text(13)))?;
    } else {
        area.draw(&Text::new(lines[0].as_str(), centre, text(15)))?;
    }
    Ok(())
}

/// The ID–OOD trade-off: one panel per grid point (titled with its swept values), each method at its
/// held-out choice as a dot at (ID excess, OOD excess), seed means in bits per token, labelled with its
/// name and cost (`P=` trainable parameters, or `K=` prompt tokens for a prompt method, and the adaptation
/// seconds). The Pareto-optimal
/// methods (no other at most as high on both and lower on one) are ringed and joined by a black line in
/// increasing ID excess. Methods without a finite OOD excess are left out, then points without a method;
/// errors if none is left.
pub fn pareto_svg(summaries: &[MethodSummary], points: &[PointRow], path: &Path) -> Result<(), ReportError> {
    let grid = Grid::new(points);
    let panels: Vec<(String, Vec<Dot>)> = group_by_key(summaries.iter(), |summary| summary.point)
        .into_iter()
        .map(|(point, members)| {
            let title = if grid.keys.is_empty() { format!("point {point}") } else { grid.label(point, &grid.keys) };
            let dots = members
                .into_iter()
                .filter_map(|summary| Some((summary, summary.id.mean, summary.ood?.mean)))
                .filter(|(_, x, y)| x.is_finite() && y.is_finite())
                .collect();
            (title, dots)
        })
        .filter(|(_, dots): &(String, Vec<_>)| !dots.is_empty())
        .collect();
    if panels.is_empty() {
        return Err(ReportError::NoData { what: "no method with a finite ID and OOD excess (choices.csv)" });
    }
    let methods = methods_in(panels.iter().flat_map(|(_, dots)| dots).map(|(summary, _, _)| summary.method));
    let mut legend: Vec<LegendEntry> = methods
        .iter()
        .map(|&method| LegendEntry::series(method_name(method), method_colour(method), None, Some(Marker::Circle)))
        .collect();
    legend.push(LegendEntry::series("Pareto front: none lower on both", BLACK, Some(Stroke::Solid), None));
    // At most three panels a row, as in the interpolation figure.
    let columns = panels.len().min(3);
    let grid_rows = panels.len().div_ceil(columns);
    let grid_width = PANEL.0 * columns as u32;
    let size = (grid_width + legend_width(&legend) + LEGEND_SLACK, PANEL.1 * grid_rows as u32 + TITLE_HEIGHT);
    let svg = render(path, size, |root| {
        let root = root.titled("ID against OOD excess at each method's held-out choice", (FONT, 24))?;
        let (area, legend_area) = root.split_horizontally(grid_width);
        for (panel_area, (title, dots)) in area.split_evenly((grid_rows, columns)).iter().zip(&panels) {
            draw_pareto_panel(panel_area, title, dots)?;
        }
        draw_legend(&legend_area, &legend, CHART_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

fn draw_pareto_panel(area: &DrawingArea<SVGBackend, Shift>, title: &str, dots: &[Dot]) -> Drawn {
    let xy: Vec<(f64, f64)> = dots.iter().map(|&(_, x, y)| (x, y)).collect();
    let x_range = padded(xy.iter().map(|p| p.0)).expect("every dot is finite");
    let y_range = padded(xy.iter().map(|p| p.1)).expect("every dot is finite");
    let middle = 0.5 * (x_range.start + x_range.end);
    let mut chart = panel_chart(area, title, x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("ID excess (bits/token)")
        .y_desc("OOD excess (bits/token)")
        .label_style((FONT, 15))
        .draw()?;
    let optimal = pareto_optimal(&xy);
    let mut front: Vec<(f64, f64)> = xy.iter().zip(&optimal).filter(|(_, &on)| on).map(|(&p, _)| p).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart.draw_series(LineSeries::new(front.iter().copied(), BLACK.stroke_width(1)))?;
    for (&(summary, x, y), &on) in dots.iter().zip(&optimal) {
        chart.plotting_area().draw(&Circle::new((x, y), 5, method_colour(summary.method).filled()))?;
        if on {
            chart.plotting_area().draw(&Circle::new((x, y), 8, BLACK.stroke_width(1)))?;
        }
        // Labels point inwards, so that those at the right edge stay in the panel.
        let (anchor, dx) = if x > middle { (HPos::Right, -10) } else { (HPos::Left, 10) };
        let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(anchor, VPos::Bottom));
        let label = format!("{} {}", method_name(summary.method), cost(summary));
        chart.plotting_area().draw(&(EmptyElement::at((x, y)) + Text::new(label, (dx, -4), style)))?;
    }
    Ok(())
}

/// For each of `points` (ID, OOD), whether no other point is at most as high on both and lower on one.
fn pareto_optimal(points: &[(f64, f64)]) -> Vec<bool> {
    let dominates = |a: (f64, f64), b: (f64, f64)| a.0 <= b.0 && a.1 <= b.1 && (a.0 < b.0 || a.1 < b.1);
    points.iter().map(|&point| !points.iter().any(|&other| dominates(other, point))).collect()
}

/// What a method's choice costs: prompt tokens for a prompt method, else trainable parameters; then its
/// adaptation seconds (mean over seeds).
fn cost(summary: &MethodSummary) -> String {
    let size = if summary.method.is_prompt() {
        format!("K={} tokens", summary.prompt_tokens)
    } else {
        format!("P={}", summary.trainable_params)
    };
    format!("{size}, {:.1} s", summary.adapt_seconds)
}

/// `base` for the base (`none`), else the method's name.
fn method_name(method: Method) -> &'static str {
    if method == Method::None {
        "base"
    } else {
        method.as_str()
    }
}

/// A method's curve and legend row: the base a dashed grey reference, every other method solid in its colour.
fn method_entry(method: Method) -> LegendEntry {
    let stroke = if method == Method::None { Stroke::Dashed } else { Stroke::Solid };
    LegendEntry::series(method_name(method), method_colour(method), Some(stroke), Some(Marker::Circle))
}

/// The distinct `methods` in [`Method::ALL`] order, so legends list them alike in every figure.
fn methods_in(methods: impl Iterator<Item = Method>) -> Vec<Method> {
    let present: Vec<Method> = methods.collect();
    Method::ALL.iter().copied().filter(|method| present.contains(method)).collect()
}

/// The swept values of a grid, as `points.csv` has them.
struct Grid<'a> {
    /// Swept keys in order of first appearance.
    keys: Vec<&'a str>,
    rows: &'a [PointRow],
}

impl<'a> Grid<'a> {
    fn new(rows: &'a [PointRow]) -> Self {
        let mut keys: Vec<&str> = Vec::new();
        for row in rows {
            if !keys.contains(&row.key.as_str()) {
                keys.push(&row.key);
            }
        }
        Self { keys, rows }
    }

    /// `point`'s value of `key`; `None` where `key` is not swept.
    fn value(&self, point: u64, key: &str) -> Option<&'a str> {
        self.rows.iter().find(|row| row.point == point && row.key == key).map(|row| row.value.as_str())
    }

    /// The distinct values of `key` in order of first appearance; a single `None` where it is not swept.
    fn distinct(&self, key: &str) -> Vec<Option<&'a str>> {
        let mut values: Vec<Option<&str>> = Vec::new();
        for row in self.rows.iter().filter(|row| row.key == key) {
            if !values.contains(&Some(row.value.as_str())) {
                values.push(Some(&row.value));
            }
        }
        if values.is_empty() {
            values.push(None);
        }
        values
    }

    fn require(&self, key: &str) -> Result<(), ReportError> {
        if self.keys.contains(&key) {
            return Ok(());
        }
        let message = if self.keys.is_empty() {
            "not swept: the config has no [sweep]".to_string()
        } else {
            format!("not swept (the swept keys are {})", self.keys.join(", "))
        };
        Err(ReportError::SweptKey { key: key.to_string(), message })
    }

    /// Each point's value of `key` as a positive number, for a log-scale axis (TOML's `1_000` included).
    fn positive_numbers(&self, key: &str) -> Result<Vec<(u64, f64)>, ReportError> {
        self.require(key)?;
        self.rows
            .iter()
            .filter(|row| row.key == key)
            .map(|row| {
                let number = row.value.trim().replace('_', "").parse::<f64>().ok();
                number.filter(|x| x.is_finite() && *x > 0.0).map(|x| (row.point, x)).ok_or_else(|| {
                    ReportError::SweptKey {
                        key: key.to_string(),
                        message: format!(
                            "`{}` at point {} is not a positive number, so it cannot be a log-scale axis",
                            row.value, row.point
                        ),
                    }
                })
            })
            .collect()
    }

    /// `point`'s values of `keys` as `key=value` ([`Grid::short_key`], [`short_value`]) joined by `, `.
    fn label(&self, point: u64, keys: &[&str]) -> String {
        let pair =
            |key: &&str| format!("{}={}", self.short_key(key), short_value(self.value(point, key).unwrap_or("—")));
        keys.iter().map(pair).collect::<Vec<_>>().join(", ")
    }

    /// The last dotted segment of `key` (`task.sequences` → `sequences`), or all of it when another swept key
    /// ends the same way.
    fn short_key<'k>(&self, key: &'k str) -> &'k str {
        let last = |key: &'k str| key.rsplit('.').next().unwrap_or(key);
        let shared = self.keys.iter().any(|other| *other != key && other.rsplit('.').next() == Some(last(key)));
        if shared {
            key
        } else {
            last(key)
        }
    }
}

/// A TOML inline value made compact for a title: no quotes, no spaces around `=` or inside braces and
/// brackets (`{ kind = "bern", p = 0.7 }` → `{kind=bern, p=0.7}`), cut to 40 characters.
fn short_value(value: &str) -> String {
    let compact = value.replace('"', "").replace(" = ", "=").replace("{ ", "{").replace(" }", "}");
    let compact = compact.replace("[ ", "[").replace(" ]", "]");
    if compact.chars().count() <= 40 {
        compact
    } else {
        compact.chars().take(39).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::{method_summaries, recommend};
    use crate::selection::ChoiceRow;
    use crate::testing::read_svg;

    const BERN: &str = r#"{ kind = "bern", p = 0.7 }"#;
    const MARKOV: &str = r#"{ kind = "markov", order = 2 }"#;

    fn point_row(point: u64, key: &str, value: &str) -> PointRow {
        PointRow { point, key: key.to_string(), value: value.to_string() }
    }

    /// task.sequences ∈ {16, 256} × task.source ∈ {bern, markov}: points 0 (16, bern), 1 (256, bern),
    /// 2 (16, markov), 3 (256, markov).
    fn grid() -> Vec<PointRow> {
        (0..4)
            .flat_map(|point| {
                let sequences = if point % 2 == 0 { "16" } else { "256" };
                let source = if point < 2 { BERN } else { MARKOV };
                [point_row(point, "task.sequences", sequences), point_row(point, "task.source", source)]
            })
            .collect()
    }

    fn choice(point: u64, method: Method, seed: u64, id: f64, ood: f64) -> ChoiceRow {
        ChoiceRow {
            point,
            method,
            seed,
            params: String::new(),
            id_excess_bits: id,
            ood_excess_bits: ood,
            objective: id + ood,
            id_excess_ci95: 0.01,
            ood_excess_ci95: 0.01,
            trainable_params: match method {
                Method::Full => 1000,
                Method::Lora => 64,
                _ => 0,
            },
            prompt_tokens: if method == Method::HardPrompt { 8 } else { 0 },
            adapt_seconds: if method == Method::Full { 2.5 + seed as f64 } else { 0.5 },
            ..Default::default()
        }
    }

    /// Seeds 1 and 2 at every point of [`grid`]. Objectives (ID + OOD): base 0.32; full 0.25 at 16
    /// sequences, 0.2 at 256; lora 0.17 and 0.11 with seed noise ±0.005, so it wins every point, clearly
    /// (paired gaps to full 0.075 and 0.085: 0.08 − 12.706·0.0071/√2 = 0.016 > 0); hard_prompt 0.4, except
    /// at point 3 where it is 0.111 ∓ 0.01, against lora's 0.11 ± 0.005: paired gaps −0.014 and 0.016, mean
    /// 0.001 − 12.706·0.0212/√2 < 0, tied.
    /// head has NaN excess at point 1, to be left out.
    fn choices() -> Vec<ChoiceRow> {
        let mut rows = Vec::new();
        for point in 0..4 {
            let many = point % 2 == 1;
            for (seed, noise) in [(1, 1.0), (2, -1.0)] {
                rows.push(choice(point, Method::None, seed, 0.3, 0.02));
                rows.push(choice(point, Method::Full, seed, if many { 0.05 } else { 0.1 }, 0.15));
                let lora_id = if many { 0.06 } else { 0.12 } + 0.005 * noise;
                rows.push(choice(point, Method::Lora, seed, lora_id, 0.05));
                let prompt = if point == 3 { (0.071 - 0.01 * noise, 0.04) } else { (0.3, 0.1) };
                rows.push(choice(point, Method::HardPrompt, seed, prompt.0, prompt.1));
                if point == 1 {
                    rows.push(choice(point, Method::Head, seed, f64::NAN, f64::NAN));
                }
            }
        }
        rows
    }

    fn text(svg: &str, label: &str) -> bool {
        svg.contains(&format!(">\n{label}\n</text>"))
    }

    #[test]
    fn learning_curves_have_a_row_per_source_and_a_line_per_method() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figures").join("learning_curves.svg");
        learning_curves_svg(&method_summaries(&choices()), &grid(), "task.sequences", &path).unwrap();
        let svg = read_svg(&path);
        for label in ["base", "full", "lora", "hard_prompt", "mean ± 95% CI"] {
            assert!(text(&svg, label), "legend entry {label}");
        }
        assert!(!text(&svg, "head"), "head, with no finite point, has no legend entry");
        for label in ["source={kind=bern, p=0.7}", "source={kind=markov, order=2}"] {
            assert!(text(&svg, label), "row title {label}");
        }
        assert_eq!(svg.matches(">\nID excess (bits/token)\n</text>").count(), 2, "an ID panel per row");
        assert_eq!(svg.matches(">\nOOD excess (bits/token)\n</text>").count(), 2, "an OOD panel per row");
        assert!(text(&svg, "16") && text(&svg, "256"), "ticks at the swept values");
        assert!(text(&svg, "task.sequences (log scale)"));
    }

    #[test]
    fn learning_curves_without_ood_say_so_in_the_ood_column() {
        let mut rows = choices();
        rows.iter_mut().for_each(|row| row.ood_excess_bits = f64::NAN);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("learning_curves.svg");
        learning_curves_svg(&method_summaries(&rows), &grid(), "task.sequences", &path).unwrap();
        let svg = read_svg(&path);
        assert_eq!(svg.matches(">\nno finite values in choices.csv\n</text>").count(), 2);
    }

    #[test]
    fn learning_curves_need_a_swept_positive_number_on_x() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("learning_curves.svg");
        let summaries = method_summaries(&choices());
        let error = learning_curves_svg(&summaries, &grid(), "task.source", &path).unwrap_err();
        assert!(matches!(&error, ReportError::SweptKey { key, .. } if key == "task.source"), "{error}");
        assert!(error.to_string().contains("not a positive number"), "{error}");
        let error = learning_curves_svg(&summaries, &grid(), "adapt.lr", &path).unwrap_err();
        assert!(error.to_string().contains("the swept keys are task.sequences, task.source"), "{error}");
        assert!(matches!(
            learning_curves_svg(&summaries, &[], "task.sequences", &path),
            Err(ReportError::SweptKey { .. })
        ));
        assert!(!path.exists());
    }

    #[test]
    fn the_method_map_names_each_cells_winner_and_marks_the_tie() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("method_map.svg");
        let recommendations = recommend(&method_summaries(&choices()));
        assert_eq!(recommendations[3].tie, Tie::Tied, "the fixture's point 3 is a tie");
        method_map_svg(&recommendations, &grid(), "task.sequences", "task.source", &path).unwrap();
        let svg = read_svg(&path);
        // lora wins all four cells and is the one legend square.
        assert_eq!(svg.matches(">\nlora\n</text>").count(), 5, "four cells and the legend");
        assert!(text(&svg, "≈ lora, hard_prompt"), "the tied cell lists the tied methods");
        assert!(text(&svg, "hatched and paler: the winner is tied;"), "the legend explains the mark");
        for label in ["sequences", "source", "16", "256", "{kind=bern, p=0.7}", "{kind=markov, order=2}"] {
            assert!(text(&svg, label), "header {label}");
        }
        assert!(!text(&svg, "—"), "every cell has a recommendation");
    }

    #[test]
    fn the_method_map_draws_one_map_per_value_of_the_other_keys() {
        let mut points = grid();
        for point in 0..4 {
            points.push(point_row(point, "adapt.steps", if point < 2 { "100" } else { "200" }));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("method_map.svg");
        let recommendations = recommend(&method_summaries(&choices()));
        method_map_svg(&recommendations, &points, "task.sequences", "task.source", &path).unwrap();
        let svg = read_svg(&path);
        assert!(text(&svg, "steps=100") && text(&svg, "steps=200"), "a titled map per steps value");
        // Each map has both source rows but only one holds recommendations: two empty cells per map.
        assert_eq!(svg.matches(">\n—\n</text>").count(), 4);
        assert!(text(&svg, "—: no recommendation here"));
        let error = method_map_svg(&recommendations, &points, "task.sequences", "task.sequences", &path).unwrap_err();
        assert!(matches!(error, ReportError::SweptKey { .. }));
        assert!(matches!(method_map_svg(&[], &points, "a", "b", &path), Err(ReportError::NoData { .. })));
    }

    #[test]
    fn the_pareto_figure_labels_each_method_with_its_cost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pareto.svg");
        pareto_svg(&method_summaries(&choices()), &grid(), &path).unwrap();
        let svg = read_svg(&path);
        // full took 3.5 s and 4.5 s with seeds 1 and 2: the label shows their mean.
        for label in ["base P=0, 0.5 s", "full P=1000, 4.0 s", "lora P=64, 0.5 s", "hard_prompt K=8 tokens, 0.5 s"] {
            assert!(text(&svg, label), "marker label {label}");
        }
        assert!(!text(&svg, "head P=0, 0.5 s"), "head's NaN excess is left out");
        assert!(text(&svg, "sequences=256, source={kind=markov, order=2}"), "a panel per point");
        assert!(text(&svg, "Pareto front: none lower on both"));
    }

    #[test]
    fn a_config_without_a_sweep_draws_one_cell_and_one_panel() {
        let rows: Vec<ChoiceRow> = choices().into_iter().filter(|row| row.point == 0).collect();
        let summaries = method_summaries(&rows);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("method_map.svg");
        method_map_svg(&recommend(&summaries), &[], "task.sequences", "task.source", &path).unwrap();
        assert_eq!(read_svg(&path).matches(">\nlora\n</text>").count(), 2, "one cell and the legend");
        let path = dir.path().join("pareto.svg");
        pareto_svg(&summaries, &[], &path).unwrap();
        assert!(text(&read_svg(&path), "point 0"));
    }

    #[test]
    fn pareto_optimal_points_are_those_no_other_beats_on_both() {
        // (0.1, 0.3) and (0.3, 0.1) trade off; (0.3, 0.3) is beaten by both; (0.1, 0.4) by (0.1, 0.3), lower
        // on OOD at the same ID.
        let points = [(0.1, 0.3), (0.3, 0.1), (0.3, 0.3), (0.1, 0.4)];
        assert_eq!(pareto_optimal(&points), [true, true, false, false]);
        assert_eq!(pareto_optimal(&[(0.2, 0.2), (0.2, 0.2)]), [true, true], "equal points do not beat each other");
    }

    #[test]
    fn short_labels_drop_quotes_and_shared_prefixes() {
        assert_eq!(short_value(BERN), "{kind=bern, p=0.7}");
        assert_eq!(short_value("[ 1, 2 ]"), "[1, 2]");
        assert_eq!(short_value(&"x".repeat(50)).chars().count(), 40);
        let rows =
            [point_row(0, "task.seed", "1"), point_row(0, "adapt.seed", "2"), point_row(0, "task.sequences", "4")];
        let grid = Grid::new(&rows);
        assert_eq!(grid.label(0, &grid.keys), "task.seed=1, adapt.seed=2, sequences=4");
    }
}
