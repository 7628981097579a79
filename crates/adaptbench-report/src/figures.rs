//! SVG figures drawn from the tidy rows alone (one figure per function), so they can be redrawn without
//! re-running anything. Text is left to the SVG viewer's `sans-serif`: no font files are needed to draw.

use std::ops::Range;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::aggregate::{configurations, ood_sources, AlphaPoint, Configuration};
use crate::atomic::write_atomically;
use crate::error::ReportError;
use crate::metrics::MetricRow;
use crate::pretrain::PretrainRow;
use crate::vocabulary::Method;

/// Okabe & Ito's colour-blind-safe palette without black (kept for the α markers) and yellow (too pale on
/// white); where configurations are not one per method, those beyond six reuse colours in order.
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// The base (`none`) in figures that compare methods: a reference, not a competitor for a colour.
pub(crate) const BASE_GREY: RGBColor = RGBColor(128, 128, 128);

/// The colour of `method` in every figure that compares methods, so one method looks the same across
/// figures: the base [`BASE_GREY`], the adapted methods [`PALETTE`] in [`Method::ALL`] order, then black
/// (`soft_prompt`) and [`WINE`] (`reft`), so that no two methods share a colour.
pub(crate) fn method_colour(method: Method) -> RGBColor {
    let beyond_palette = [BLACK, WINE];
    match Method::ALL.iter().position(|&other| other == method) {
        Some(0) | None => BASE_GREY,
        Some(index) if index <= PALETTE.len() => PALETTE[index - 1],
        Some(index) => beyond_palette[(index - 1 - PALETTE.len()) % beyond_palette.len()],
    }
}

/// Paul Tol's wine, dark enough on white and apart from every colour of [`PALETTE`].
const WINE: RGBColor = RGBColor(136, 34, 85);

pub(crate) const FONT: &str = "sans-serif";

/// Size of one panel in pixels; figures lay panels side by side under a title strip.
pub(crate) const PANEL: (u32, u32) = (560, 460);
pub(crate) const TITLE_HEIGHT: u32 = 40;

/// What plotters returns when drawing to an [`SVGBackend`].
pub(crate) type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// A chart with f64 axes on an SVG drawing area.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The WiSE-FT picture: ID excess (x) against OOD excess (y), bits per token, seed means. One panel per OOD
/// source, plus one for the mean over OOD sources when there are several; in each, one line per
/// configuration through its α grid with a dot at every α, a black cross at α = 0 (the base, shared by every
/// method) and a triangle at α = 1 (the adapted model). A configuration with a single α (the base, a method
/// without a sweep) is one larger dot. Errors if no configuration has both an ID and an OOD evaluation.
pub fn interpolation_svg(rows: &[MetricRow], path: &Path) -> Result<(), ReportError> {
    let configurations = configurations(rows);
    let panels = interpolation_panels(&configurations);
    let x_range =
        padded(panels.iter().flat_map(|panel| panel.curves.iter().flat_map(|curve| &curve.points)).map(|p| p.x))
            .ok_or(ReportError::NoData { what: "no finite ID and OOD excess to plot (metrics rows with role ood)" })?;
    let legend = interpolation_legend(&panels);
    // A grid of at most three panels per row, so a long OOD suite does not make an unreadably wide figure, and
    // the legend in a strip of its own on the right, so it never hides a curve.
    let columns = panels.len().min(3);
    let grid_rows = panels.len().div_ceil(columns);
    let grid_width = PANEL.0 * columns as u32;
    let size = (grid_width + legend_width(&legend), PANEL.1 * grid_rows as u32 + TITLE_HEIGHT);
    let svg = render(path, size, |root| {
        let root =
            root.titled("Fine-tune, then interpolate with the base (WiSE-FT): ID vs OOD excess across α", (FONT, 24))?;
        let (grid, legend_area) = root.split_horizontally(grid_width);
        for (area, panel) in grid.split_evenly((grid_rows, columns)).iter().zip(&panels) {
            draw_interpolation_panel(area, panel, x_range.clone())?;
        }
        draw_legend(&legend_area, &legend, PANEL_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

/// One panel of [`interpolation_svg`]: the y axis is the excess on one OOD source (or their mean).
struct Panel {
    title: String,
    curves: Vec<Curve>,
    y_range: Range<f64>,
}

/// One configuration's path through its α grid in one panel.
struct Curve {
    label: String,
    color: RGBColor,
    points: Vec<SweepPoint>,
}

#[derive(Clone, Copy)]
struct SweepPoint {
    alpha: f64,
    x: f64,
    y: f64,
}

/// The panels: each OOD source in order of first appearance, then their mean when there are several. Points
/// with a non-finite coordinate are left out; a panel without any point is dropped.
fn interpolation_panels(configurations: &[Configuration]) -> Vec<Panel> {
    let sources = ood_sources(configurations);
    let mut panels: Vec<Panel> = sources
        .iter()
        .filter_map(|source| {
            let excess = |point: &AlphaPoint| {
                point.ood.iter().find(|summary| summary.eval_source == *source).map(|summary| summary.excess.mean)
            };
            panel(format!("OOD source: {source}"), configurations, excess)
        })
        .collect();
    if sources.len() > 1 {
        let mean = |point: &AlphaPoint| point.ood_excess.map(|ood| ood.mean);
        panels.extend(panel(format!("mean over the {} OOD sources", sources.len()), configurations, mean));
    }
    panels
}

fn panel(
    title: String,
    configurations: &[Configuration],
    ood_excess: impl Fn(&AlphaPoint) -> Option<f64>,
) -> Option<Panel> {
    // One configuration per method: each in its method's colour, as in every other figure; several candidates of
    // a method: the configurations in turn.
    let methods: std::collections::BTreeSet<Method> = configurations.iter().map(|c| c.method).collect();
    let one_per_method = methods.len() == configurations.len();
    let curves: Vec<Curve> = configurations
        .iter()
        .enumerate()
        .map(|(i, configuration)| Curve {
            label: configuration.label(),
            color: if one_per_method { method_colour(configuration.method) } else { PALETTE[i % PALETTE.len()] },
            points: configuration
                .points
                .iter()
                .filter_map(|point| {
                    Some(SweepPoint { alpha: point.alpha, x: point.id.excess.mean, y: ood_excess(point)? })
                })
                .filter(|p| p.x.is_finite() && p.y.is_finite())
                .collect(),
        })
        .filter(|curve| !curve.points.is_empty())
        .collect();
    let y_range = padded(curves.iter().flat_map(|curve| &curve.points).map(|p| p.y))?;
    Some(Panel { title, curves, y_range })
}

fn draw_interpolation_panel(area: &DrawingArea<SVGBackend, Shift>, panel: &Panel, x_range: Range<f64>) -> Drawn {
    let mut chart = panel_chart(area, &panel.title, x_range, panel.y_range.clone())?;
    chart
        .configure_mesh()
        .x_desc("ID excess loss (bits/token)")
        .y_desc("OOD excess loss (bits/token)")
        .label_style((FONT, 15))
        .draw()?;
    for curve in &panel.curves {
        let (color, xy) = (curve.color, curve.points.iter().map(|p| (p.x, p.y)));
        let marker_size = if curve.points.len() > 1 { 3 } else { 6 };
        chart.draw_series(LineSeries::new(xy.clone(), color.stroke_width(2)))?;
        chart.draw_series(xy.map(|p| Circle::new(p, marker_size, color.filled())))?;
    }
    // The α markers go on top of every line.
    for curve in &panel.curves {
        for point in &curve.points {
            let xy = (point.x, point.y);
            if point.alpha == 0.0 {
                chart.plotting_area().draw(&Cross::new(xy, 7, BLACK.stroke_width(2)))?;
            } else if point.alpha == 1.0 {
                chart.plotting_area().draw(&TriangleMarker::new(xy, 8, curve.color.filled()))?;
            }
        }
    }
    Ok(())
}

/// The legend of [`interpolation_svg`]: every configuration drawn in some panel (a line for an α sweep, a
/// dot for a single α), then the α markers in use.
fn interpolation_legend(panels: &[Panel]) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = Vec::new();
    for curve in panels.iter().flat_map(|panel| &panel.curves) {
        if !entries.iter().any(|entry| entry.label == curve.label) {
            let (stroke, marker) =
                if curve.points.len() > 1 { (Some(Stroke::Solid), None) } else { (None, Some(Marker::Circle)) };
            entries.push(LegendEntry::series(&curve.label, curve.color, stroke, marker));
        }
    }
    let alphas = || panels.iter().flat_map(|panel| &panel.curves).flat_map(|curve| &curve.points).map(|p| p.alpha);
    if alphas().any(|alpha| alpha == 0.0) {
        entries.push(LegendEntry::series("α = 0 (base)", BLACK, None, Some(Marker::Cross)));
    }
    if alphas().any(|alpha| alpha == 1.0) {
        entries.push(LegendEntry::series("α = 1 (adapted)", BLACK, None, Some(Marker::Triangle)));
    }
    entries
}

/// How a series' line is drawn, in its chart and in its legend row.
#[derive(Clone, Copy)]
pub(crate) enum Stroke {
    Solid,
    /// 8-pixel dashes.
    Dashed,
    /// 2-pixel dots.
    Dotted,
}

/// A series' marker at each point, and in its legend row.
#[derive(Clone, Copy)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Cross,
}

/// What a legend row shows left of its label, in the row's colour.
#[derive(Clone, Copy)]
pub(crate) enum Swatch {
    /// A series: its stroke across the swatch column, its marker at the centre (either may be absent).
    Series { stroke: Option<Stroke>, marker: Option<Marker> },
    /// A filled square: a bar, a heat-map cell.
    Square,
    /// A translucent band behind a line: a mean and its 95% CI.
    Band,
    /// A vertical whisker with caps: a 95% CI.
    Whisker,
    /// Nothing: the label is a note, flush left, after a blank row.
    Note,
}

/// One row of a legend strip; series figures also draw their curves from it ([`draw_series`]), so a curve
/// and its legend row cannot disagree.
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub swatch: Swatch,
}

impl LegendEntry {
    pub(crate) fn new(label: &str, color: RGBColor, swatch: Swatch) -> Self {
        Self { label: label.to_string(), color, swatch }
    }

    pub(crate) fn series(label: &str, color: RGBColor, stroke: Option<Stroke>, marker: Option<Marker>) -> Self {
        Self::new(label, color, Swatch::Series { stroke, marker })
    }

    pub(crate) fn note(label: &str) -> Self {
        Self::new(label, BLACK, Swatch::Note)
    }
}

/// Where a legend strip puts its rows, 24 px apart, 12 px from the strip's left edge. Each figure keeps the
/// pixel positions it was first drawn with, so redrawn figures compare byte for byte.
#[derive(Clone, Copy)]
pub(crate) struct LegendLayout {
    /// y of the first row, pixels below the top of the strip (about the top of the plotting area).
    pub top: i32,
    /// Width of the swatch column: lines span it, markers and squares sit at its centre.
    pub swatch: i32,
    /// x of a label, from the swatch column's left edge.
    pub label: i32,
    /// Radius of circles and crosses.
    pub radius: i32,
}

/// The interpolation figure's legend, level with its captioned panels.
pub(crate) const PANEL_LEGEND: LegendLayout = LegendLayout { top: 60, swatch: 24, label: 34, radius: 5 };
/// The single-chart figures (prompt search, grids).
pub(crate) const CHART_LEGEND: LegendLayout = LegendLayout { top: 40, swatch: 28, label: 38, radius: 4 };
/// The model-update bars.
pub(crate) const BAR_LEGEND: LegendLayout = LegendLayout { top: 40, swatch: 28, label: 34, radius: 4 };

/// Pixels for the legend strip: the swatches, then the longest label at about 8 px a character.
pub(crate) fn legend_width(entries: &[LegendEntry]) -> u32 {
    let longest = entries.iter().map(|entry| entry.label.chars().count()).max().unwrap_or(0);
    60 + 8 * longest as u32
}

/// The legend in its own strip, so it never hides a curve: one row per entry, its swatch then its label.
pub(crate) fn draw_legend(
    area: &DrawingArea<SVGBackend, Shift>,
    entries: &[LegendEntry],
    layout: LegendLayout,
) -> Drawn {
    let text = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = layout.top;
    let mut previous: Option<Swatch> = None;
    for entry in entries {
        let note = matches!(entry.swatch, Swatch::Note);
        if note && previous.is_some_and(|swatch| !matches!(swatch, Swatch::Note)) {
            y += 24;
        }
        let x = 12;
        let (centre, line) = ((x + layout.swatch / 2, y), entry.color.stroke_width(2));
        let segment = vec![(x, y), (x + layout.swatch, y)];
        match entry.swatch {
            Swatch::Series { stroke, marker } => {
                match stroke {
                    Some(Stroke::Solid) => area.draw(&PathElement::new(segment, line))?,
                    Some(Stroke::Dashed) => area.draw(&DashedPathElement::new(segment, 8, 4, line))?,
                    Some(Stroke::Dotted) => area.draw(&DashedPathElement::new(segment, 2, 4, line))?,
                    None => {}
                }
                match marker {
                    Some(Marker::Circle) => area.draw(&Circle::new(centre, layout.radius, entry.color.filled()))?,
                    Some(Marker::Triangle) => area.draw(&TriangleMarker::new(centre, 6, entry.color.filled()))?,
                    Some(Marker::Cross) => area.draw(&Cross::new(centre, layout.radius, line))?,
                    None => {}
                }
            }
            Swatch::Square => {
                let (cx, cy) = centre;
                area.draw(&Rectangle::new([(cx - 8, cy - 7), (cx + 8, cy + 7)], entry.color.filled()))?;
            }
            Swatch::Band => {
                let (cx, cy) = centre;
                let half = layout.swatch / 2;
                area.draw(&Rectangle::new([(cx - half, cy - 7), (cx + half, cy + 7)], entry.color.mix(0.2).filled()))?;
                area.draw(&PathElement::new(segment, line))?;
            }
            Swatch::Whisker => {
                let ((cx, cy), style) = (centre, entry.color.stroke_width(1));
                area.draw(&PathElement::new(vec![(cx, cy - 8), (cx, cy + 8)], style))?;
                for end in [cy - 8, cy + 8] {
                    area.draw(&PathElement::new(vec![(cx - 4, end), (cx + 4, end)], style))?;
                }
            }
            Swatch::Note => {}
        }
        let left = if note { x } else { x + layout.label };
        area.draw(&Text::new(entry.label.as_str(), (left, y), text.clone()))?;
        previous = Some(entry.swatch);
        y += 24;
    }
    Ok(())
}

/// `points` joined by a [`Swatch::Series`] entry's stroke, with its marker of `size` pixels at each; other
/// swatches draw nothing here (their figures draw bars and bands themselves).
pub(crate) fn draw_series<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    entry: &LegendEntry,
    size: i32,
) -> Drawn
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let Swatch::Series { stroke, marker } = entry.swatch else { return Ok(()) };
    let (color, line) = (entry.color, entry.color.stroke_width(2));
    let xy = points.iter().copied();
    match stroke {
        Some(Stroke::Solid) => chart.draw_series(LineSeries::new(xy, line)).map(drop)?,
        Some(Stroke::Dashed) => chart.draw_series(DashedLineSeries::new(xy, 8, 4, line)).map(drop)?,
        Some(Stroke::Dotted) => chart.draw_series(DashedLineSeries::new(xy, 2, 4, line)).map(drop)?,
        None => {}
    }
    let xy = points.iter().copied();
    match marker {
        Some(Marker::Circle) => chart.draw_series(xy.map(|p| Circle::new(p, size, color.filled()))).map(drop)?,
        Some(Marker::Triangle) => {
            chart.draw_series(xy.map(|p| TriangleMarker::new(p, size + 1, color.filled()))).map(drop)?
        }
        Some(Marker::Cross) => chart.draw_series(xy.map(|p| Cross::new(p, size, line))).map(drop)?,
        None => {}
    }
    Ok(())
}

/// The pretraining curve: held-out and training loss against step with the exact Bayes loss of the held-out
/// sequences as a dashed line (left), and the held-out excess loss = held-out − Bayes against step with
/// the floor 0 dashed (right); bits per token. Non-finite values are left out; errors if nothing is left.
pub fn pretrain_svg(points: &[PretrainRow], path: &Path) -> Result<(), ReportError> {
    let no_data = ReportError::NoData { what: "no finite points in pretrain.csv" };
    let steps = padded(points.iter().map(|p| p.step as f64)).ok_or(no_data)?;
    let losses = points.iter().flat_map(|p| [p.train_loss_bits, p.eval_loss_bits, p.bayes_loss_bits]);
    let loss_range = padded(losses).ok_or(ReportError::NoData { what: "no finite losses in pretrain.csv" })?;
    // The floor 0 is always in view, so the excess is read against it.
    let excess_range = padded(points.iter().map(|p| p.excess_bits).chain([0.0])).expect("0 is finite");
    let series = |value: fn(&PretrainRow) -> f64| -> Vec<(f64, f64)> {
        points.iter().map(|p| (p.step as f64, value(p))).filter(|(_, y)| y.is_finite()).collect()
    };
    let svg = render(path, (2 * PANEL.0, PANEL.1 + TITLE_HEIGHT), |root| {
        let root = root.titled("Pretraining against the exact Bayes floor", (FONT, 24))?;
        let panels = root.split_evenly((1, 2));
        let mut chart =
            line_chart(&panels[0], "held-out and training loss", steps.clone(), loss_range, "loss (bits/token)")?;
        for (label, color, points) in [
            ("training loss (mean since the previous point)", PALETTE[0], series(|p| p.train_loss_bits)),
            ("held-out loss", PALETTE[1], series(|p| p.eval_loss_bits)),
        ] {
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], color.stroke_width(2)));
        }
        chart
            .draw_series(DashedLineSeries::new(series(|p| p.bayes_loss_bits), 6, 4, BLACK.stroke_width(1)))?
            .label("Bayes-optimal loss (held-out)")
            .legend(|(x, y)| DashedPathElement::new(vec![(x - 8, y), (x + 8, y)], 4, 2, BLACK.stroke_width(1)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 15))
            .draw()?;

        let mut chart =
            line_chart(&panels[1], "held-out excess loss", steps.clone(), excess_range, "excess loss (bits/token)")?;
        let excess = series(|p| p.excess_bits);
        chart.draw_series(LineSeries::new(excess.iter().copied(), PALETTE[1].stroke_width(2)))?;
        chart.draw_series(excess.iter().map(|&p| Circle::new(p, 3, PALETTE[1].filled())))?;
        chart.draw_series(DashedLineSeries::new(
            [(steps.start, 0.0), (steps.end, 0.0)],
            6,
            4,
            BLACK.stroke_width(1),
        ))?;
        Ok(())
    })?;
    write_atomically(path, svg.as_bytes())
}

/// A captioned panel's chart over `x_range` × `y_range`, with room for axis labels; the caller draws the mesh.
pub(crate) fn panel_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    x_range: Range<f64>,
    y_range: Range<f64>,
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    ChartBuilder::on(area)
        .caption(caption, (FONT, 19))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range, y_range)
}

/// A panel without data: its caption, and in its middle why it is empty, so that a figure's layout does not
/// depend on which data it has.
pub(crate) fn message_panel(area: &DrawingArea<SVGBackend, Shift>, caption: &str, message: &str) -> Drawn {
    // The same 12-pixel margin as a drawn panel, so captions in one row sit at one height.
    let inner = area.margin(12, 12, 12, 12).titled(caption, (FONT, 19))?;
    let (width, height) = inner.dim_in_pixel();
    let text = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    inner.draw(&Text::new(message, (width as i32 / 2, height as i32 / 2), text))
}

/// A chart with `step` on x and `y_label` on y, its mesh drawn.
fn line_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    x_range: Range<f64>,
    y_range: Range<f64>,
    y_label: &str,
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    let mut chart = panel_chart(area, caption, x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc(y_label)
        .x_label_formatter(&|step| format!("{step:.0}"))
        .label_style((FONT, 15))
        .draw()?;
    Ok(chart)
}

/// Renders a figure of `size` pixels into an SVG string on a white background; `path` names the figure in
/// errors.
pub(crate) fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Drawn,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
            .map_err(|error| ReportError::Plot { path: path.to_path_buf(), message: error.to_string() })?;
    }
    Ok(svg)
}

/// The range of the finite `values` widened by 6% of their span on each side so markers are not cut at the
/// frame (by 10% of the value, or 10⁻³ at 0, when all are equal); `None` when no value is finite.
pub(crate) fn padded(values: impl IntoIterator<Item = f64>) -> Option<Range<f64>> {
    let (low, high) = values.into_iter().filter(|value| value.is_finite()).fold(
        None,
        |range: Option<(f64, f64)>, value| match range {
            None => Some((value, value)),
            Some((low, high)) => Some((low.min(value), high.max(value))),
        },
    )?;
    let pad = if high > low { 0.06 * (high - low) } else { (0.1 * high.abs()).max(1e-3) };
    Some(low - pad..high + pad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{read_svg, row, scenario};

    #[test]
    fn the_interpolation_figure_has_a_panel_per_source_and_every_configuration_in_the_legend() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figures").join("interpolation.svg");
        interpolation_svg(&scenario(0.05, 0.001), &path).unwrap();
        let svg = read_svg(&path);
        for label in ["base", "full", "head", "lora (r=4)", "α = 0 (base)", "α = 1 (adapted)"] {
            assert!(svg.contains(&format!("\n{label}\n</text>")), "legend entry {label}");
        }
        for panel in ["OOD source: pretrain", "OOD source: shifted", "mean over the 2 OOD sources"] {
            assert!(svg.contains(panel), "panel {panel}");
        }
        assert!(svg.contains("ID excess loss (bits/token)") && svg.contains("OOD excess loss (bits/token)"));
    }

    #[test]
    fn a_long_ood_suite_wraps_into_rows_of_three_panels() {
        // 4 sources + their mean = 5 panels: 2 rows of 3 columns of 560 × 460, under a 40 px title
        let rows: Vec<MetricRow> = (0..=10)
            .flat_map(|step| {
                let alpha = step as f64 / 10.0;
                ["task", "a", "b", "c", "d"].map(|source| row("full", 1, alpha, source, (1.0 - alpha) * 0.3))
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("interpolation.svg");
        interpolation_svg(&rows, &path).unwrap();
        let svg = read_svg(&path);
        // legend strip: 60 + 8·len("α = 1 (adapted)") = 60 + 8·15 = 180 px
        assert!(svg.starts_with(r#"<svg width="1860" height="960""#), "{}", &svg[..80]);
        assert!(svg.contains("mean over the 4 OOD sources"));
    }

    #[test]
    fn a_figure_without_data_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figure.svg");
        assert!(matches!(interpolation_svg(&[], &path), Err(ReportError::NoData { .. })));
        assert!(matches!(pretrain_svg(&[], &path), Err(ReportError::NoData { .. })));
        assert!(!path.exists());
    }

    #[test]
    fn the_pretraining_figure_skips_non_finite_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pretrain.svg");
        let point = |step, eval_loss_bits: f64| PretrainRow {
            step,
            train_loss_bits: eval_loss_bits + 0.01,
            eval_loss_bits,
            bayes_loss_bits: 0.8,
            excess_bits: eval_loss_bits - 0.8,
        };
        let mut points = vec![point(250, 0.85), point(500, 0.82), point(750, 0.81)];
        points[0].train_loss_bits = f64::NAN;
        pretrain_svg(&points, &path).unwrap();
        let svg = read_svg(&path);
        for text in ["held-out loss", "Bayes-optimal loss (held-out)", "excess loss (bits/token)", "step"] {
            assert!(svg.contains(text), "{text}");
        }
    }

    #[test]
    fn padding_widens_the_range_and_survives_a_single_value() {
        // span 1 → 0.06 on each side; a single 0 → ±10⁻³
        assert_eq!(padded([1.0, 2.0, f64::NAN]), Some(0.94..2.06));
        assert_eq!(padded([0.0]), Some(-1e-3..1e-3));
        assert_eq!(padded([f64::INFINITY]), None);
    }
}
