//! The SVG figure of `model_update.csv`: each adaptation's excess loss on the base it was found on beside the
//! same prompt or adapter moved onto the base pretrained with another seed, in and out of distribution. Drawn
//! from the rows alone, with the aggregation of the report's model-update table ([`transplants`]).

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::aggregate::Aggregate;
use crate::atomic::write_atomically;
use crate::error::ReportError;
use crate::figures::{
    draw_legend, legend_width, message_panel, panel_chart, render, Drawn, LegendEntry, Swatch, BAR_LEGEND, FONT,
    PALETTE, PANEL, TITLE_HEIGHT,
};
use crate::model_update::ModelUpdateRow;
use crate::search_figures::error_bars;
use crate::transplant::{transplants, Transplant};
use crate::vocabulary::EvalBase;
use crate::vocabulary::Method;

/// Pixels of panel width per configuration beyond a fixed 120 for the y axis and margins, so that method names
/// on the x axis do not run into each other; a panel is never narrower than [`PANEL`].
const SLOT_WIDTH: u32 = 90;

/// Each bar's width in x units, where configurations are 1 apart; the pair of bars leaves a 0.04 gap between
/// them and 0.24 between configurations.
const BAR_WIDTH: f64 = 0.36;

/// The model-update picture: two panels side by side, the ID excess (left) and the OOD excess (right; per seed
/// the mean over that seed's OOD sources), in bits per token. In each, one pair of bars per configuration
/// (method + params, in order of first appearance): the excess on the base the adaptation was found on
/// (pretrained with `found_on_seed`) and on the base pretrained with `other_seed`, each the mean across seeds
/// with its 95% CI as a whisker, aggregated exactly as in
/// [`model_update_markdown`](crate::model_update_markdown) (Student-t across seeds; with one seed the
/// within-seed CI). The y axis runs from min(0, the lowest whisker) to the highest whisker (or 0) with 6%
/// headroom, so every bar starts at the zero line.
///
/// The x axis names configurations by method only (`base` for `none`): params would make labels too long.
/// When several configurations share a method, they are numbered in order of appearance (`lora #1`,
/// `lora #2`) and the legend strip on the right lists each one's params.
///
/// A panel without a finite value (no OOD rows, say) is still drawn, with its title and a line saying which
/// rows are missing, so the figure's layout does not depend on the data. Non-finite means are left out and
/// non-finite CIs drawn without a whisker. Errors, writing nothing, if neither panel has a finite value.
pub fn model_update_svg(
    rows: &[ModelUpdateRow],
    found_on_seed: u64,
    other_seed: u64,
    path: &Path,
) -> Result<(), ReportError> {
    let transplants = transplants(rows);
    let panels = [
        Panel::new("in distribution", "ID", &transplants, Transplant::id),
        Panel::new("out of distribution, mean over OOD sources", "OOD", &transplants, Transplant::ood),
    ];
    if panels.iter().all(|panel| panel.y_range.is_none()) {
        return Err(ReportError::NoData { what: "no finite excess in model_update.csv" });
    }
    let labels = configuration_labels(&transplants);
    let legend = legend(&transplants, &labels, found_on_seed, other_seed);
    let panel_width = PANEL.0.max(120 + SLOT_WIDTH * transplants.len() as u32);
    let size = (2 * panel_width + legend_width(&legend), PANEL.1 + TITLE_HEIGHT);
    let svg = render(path, size, |root| {
        let root = root.titled("Model update: adaptations moved to a base pretrained with another seed", (FONT, 24))?;
        let (grid, legend_area) = root.split_horizontally(2 * panel_width);
        for (area, panel) in grid.split_evenly((1, 2)).iter().zip(&panels) {
            draw_panel(area, panel, &labels)?;
        }
        draw_legend(&legend_area, &legend, BAR_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

/// One panel: per configuration the finite excess on the base it was found on and on the other base.
struct Panel {
    title: &'static str,
    /// `ID` or `OOD`, for the line an empty panel shows.
    role: &'static str,
    bars: Vec<[Option<Aggregate>; 2]>,
    /// `None` when no bar has a finite mean.
    y_range: Option<Range<f64>>,
}

impl Panel {
    fn new(
        title: &'static str,
        role: &'static str,
        transplants: &[Transplant],
        excess: fn(&Transplant, EvalBase) -> Option<Aggregate>,
    ) -> Self {
        let finite = |value: Option<Aggregate>| value.filter(|value| value.mean.is_finite());
        let bars: Vec<[Option<Aggregate>; 2]> = transplants
            .iter()
            .map(|transplant| [EvalBase::FoundOn, EvalBase::Other].map(|base| finite(excess(transplant, base))))
            .collect();
        let y_range = bar_range(bars.iter().flatten().flatten());
        Self { title, role, bars, y_range }
    }
}

/// From min(0, the lowest whisker) to max(0, the highest whisker), widened by 6% of the span at each end away
/// from 0 (10⁻³ when the span is 0), so bars start at the frame or at a visible zero line; `None` when there
/// is no value.
fn bar_range<'a>(values: impl IntoIterator<Item = &'a Aggregate>) -> Option<Range<f64>> {
    let mut values = values.into_iter().peekable();
    values.peek()?;
    let (low, high) = values.flat_map(whisker).fold((0.0_f64, 0.0_f64), |(low, high), y| (low.min(y), high.max(y)));
    let pad = if high > low { 0.06 * (high - low) } else { 1e-3 };
    Some(if low < 0.0 { low - pad } else { 0.0 }..if high > 0.0 || low == 0.0 { high + pad } else { 0.0 })
}

/// The ends of `value`'s CI whisker, or its mean alone when the CI is not finite.
fn whisker(value: &Aggregate) -> Vec<f64> {
    if value.ci95.is_finite() {
        vec![value.mean - value.ci95, value.mean + value.ci95]
    } else {
        vec![value.mean]
    }
}

fn draw_panel(area: &DrawingArea<SVGBackend, Shift>, panel: &Panel, labels: &[String]) -> Drawn {
    let Some(y_range) = panel.y_range.clone() else {
        return message_panel(area, panel.title, &format!("no {} rows in model_update.csv", panel.role));
    };
    let x_range = -0.5..labels.len() as f64 - 0.5;
    let mut chart = panel_chart(area, panel.title, x_range, y_range)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc("excess loss, bits/token")
        // At most one label per configuration: plotters then steps by 1 from 0 (the range spans n units), so
        // every tick is a configuration's whole position.
        .x_labels(labels.len())
        .x_label_formatter(&|&x| configuration_at(labels, x))
        .label_style((FONT, 15))
        .draw()?;
    chart.draw_series(LineSeries::new([(-0.5, 0.0), (labels.len() as f64 - 0.5, 0.0)], BLACK.stroke_width(1)))?;
    for (side, color) in [(-1.0, PALETTE[0]), (1.0, PALETTE[1])] {
        let which = usize::from(side > 0.0);
        let drawn: Vec<(f64, Aggregate)> = panel
            .bars
            .iter()
            .enumerate()
            .filter_map(|(index, pair)| Some((index as f64 + side * (0.02 + BAR_WIDTH / 2.0), pair[which]?)))
            .collect();
        let half = BAR_WIDTH / 2.0;
        chart.draw_series(
            drawn.iter().map(|&(x, value)| Rectangle::new([(x - half, 0.0), (x + half, value.mean)], color.filled())),
        )?;
        let whiskers: Vec<(f64, f64, f64)> = drawn
            .iter()
            .filter(|(_, value)| value.ci95.is_finite())
            .map(|&(x, value)| (x, value.mean - value.ci95, value.mean + value.ci95))
            .collect();
        error_bars(&mut chart, &whiskers, BLACK)?;
    }
    Ok(())
}

/// The label of the configuration drawn at `x`, or none between configurations.
fn configuration_at(labels: &[String], x: f64) -> String {
    let index = x.round();
    let whole = (x - index).abs() < 1e-6 && index >= 0.0;
    whole.then(|| labels.get(index as usize)).flatten().cloned().unwrap_or_default()
}

/// The x-axis label of each configuration: its method, `base` for `none`, numbered `#1`, `#2`, … in order of
/// appearance when several configurations share it.
fn configuration_labels(transplants: &[Transplant]) -> Vec<String> {
    let name = |transplant: &Transplant| {
        if transplant.method == Method::None {
            "base".to_string()
        } else {
            transplant.method.to_string()
        }
    };
    let names: Vec<String> = transplants.iter().map(name).collect();
    names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            if names.iter().filter(|other| *other == name).count() == 1 {
                return name.clone();
            }
            let number = names[..=index].iter().filter(|other| *other == name).count();
            format!("{name} #{number}")
        })
        .collect()
}

/// The two bases with their seeds, the whisker, then the params of every numbered configuration.
fn legend(transplants: &[Transplant], labels: &[String], found_on_seed: u64, other_seed: u64) -> Vec<LegendEntry> {
    let mut entries = vec![
        LegendEntry::new(&format!("found on (seed {found_on_seed})"), PALETTE[0], Swatch::Square),
        LegendEntry::new(&format!("other base (seed {other_seed})"), PALETTE[1], Swatch::Square),
        LegendEntry::new("95% CI across seeds", BLACK, Swatch::Whisker),
    ];
    for (transplant, label) in transplants.iter().zip(labels) {
        if label.contains(" #") {
            let params = if transplant.params.is_empty() { "no params" } else { transplant.params.as_str() };
            entries.push(LegendEntry::note(&format!("{label}: {params}")));
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{model_update_row, read_svg};

    /// The base (`none`, ID only), `hard_prompt` over seeds 1 and 2 with OOD source `a`, and `lora` with
    /// params `r=4` and `r=8` (seed 1, ID only).
    fn rows() -> Vec<ModelUpdateRow> {
        let mut rows = vec![
            model_update_row("none", 1, "task", EvalBase::FoundOn, 0.01),
            model_update_row("none", 1, "task", EvalBase::Other, 0.02),
        ];
        for seed in [1, 2] {
            for (source, found, other) in [("task", 0.03, 0.09), ("a", 0.1, 0.2)] {
                rows.push(model_update_row("hard_prompt", seed, source, EvalBase::FoundOn, found));
                rows.push(model_update_row("hard_prompt", seed, source, EvalBase::Other, other));
            }
        }
        for r in ["r=4", "r=8"] {
            for (base, excess) in [(EvalBase::FoundOn, 0.02), (EvalBase::Other, 0.05)] {
                let mut row = model_update_row("lora", 1, "task", base, excess);
                row.params = r.to_string();
                rows.push(row);
            }
        }
        rows
    }

    fn text(svg: &str, label: &str) -> bool {
        svg.contains(&format!(">\n{label}\n</text>"))
    }

    #[test]
    fn the_figure_pairs_both_bases_for_every_configuration_in_both_panels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figures").join("model_update.svg");
        model_update_svg(&rows(), 3, 7, &path).unwrap();
        let svg = read_svg(&path);
        for label in ["found on (seed 3)", "other base (seed 7)", "95% CI across seeds"] {
            assert!(text(&svg, label), "legend entry {label}");
        }
        for label in ["base", "hard_prompt", "lora #1", "lora #2"] {
            assert!(text(&svg, label), "configuration label {label}");
        }
        assert!(text(&svg, "lora #1: r=4") && text(&svg, "lora #2: r=8"), "the numbered configurations' params");
        for title in ["in distribution", "out of distribution, mean over OOD sources"] {
            assert!(text(&svg, title), "panel {title}");
        }
        assert!(text(&svg, "Model update: adaptations moved to a base pretrained with another seed"));
        assert!(text(&svg, "excess loss, bits/token"));
        // Bars of the found-on colour: 4 configurations in ID + hard_prompt in OOD + the legend's square.
        assert_eq!(svg.matches(r##"fill="#0072B2""##).count(), 6, "one found-on bar per configuration and panel");
        assert_eq!(svg.matches(r##"fill="#D55E00""##).count(), 6, "one other-base bar per configuration and panel");
    }

    #[test]
    fn a_model_update_figure_without_data_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model_update.svg");
        assert!(matches!(model_update_svg(&[], 0, 1, &path), Err(ReportError::NoData { .. })));
        let mut unmeasured = rows();
        unmeasured.iter_mut().for_each(|row| row.excess_bits = f64::NAN);
        assert!(matches!(model_update_svg(&unmeasured, 0, 1, &path), Err(ReportError::NoData { .. })));
        assert!(!path.exists());
    }

    #[test]
    fn id_rows_alone_draw_an_ood_panel_that_says_it_has_no_data() {
        let rows: Vec<ModelUpdateRow> = rows().into_iter().filter(|row| row.role == crate::Role::Id).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model_update.svg");
        model_update_svg(&rows, 3, 7, &path).unwrap();
        let svg = read_svg(&path);
        assert!(text(&svg, "no OOD rows in model_update.csv"), "the empty OOD panel says why");
        assert!(text(&svg, "out of distribution, mean over OOD sources"), "the empty panel keeps its title");
        assert!(!text(&svg, "no ID rows in model_update.csv"));
        // ID bars only: 4 configurations + the legend's square
        assert_eq!(svg.matches(r##"fill="#0072B2""##).count(), 5);
    }

    #[test]
    fn shared_method_names_are_numbered_and_none_is_the_base() {
        let labels = configuration_labels(&transplants(&rows()));
        assert_eq!(labels, ["base", "hard_prompt", "lora #1", "lora #2"]);
    }

    #[test]
    fn the_y_axis_reaches_zero_and_every_whisker() {
        let value = |mean, ci95| Aggregate { mean, ci95, n: 2 };
        // whiskers 0.08..0.12 and 0.18..0.22: from 0 to 0.22 + 0.06·0.22 = 0.2332
        let range = bar_range(&[value(0.1, 0.02), value(0.2, 0.02)]).unwrap();
        assert_eq!(range.start, 0.0);
        assert!((range.end - 0.2332).abs() < 1e-12, "{range:?}");
        // whiskers −0.15..−0.05 and 0.05..0.15, span 0.3: ±(0.15 + 0.018)
        let range = bar_range(&[value(-0.1, 0.05), value(0.1, 0.05)]).unwrap();
        assert!((range.start + 0.168).abs() < 1e-12 && (range.end - 0.168).abs() < 1e-12, "{range:?}");
        // all below 0: the top is the zero line; an unknown CI counts the mean alone
        let range = bar_range(&[value(-0.1, f64::NAN)]).unwrap();
        assert!((range.start + 0.106).abs() < 1e-12 && range.end == 0.0, "{range:?}");
        assert_eq!(bar_range(&[] as &[Aggregate]), None);
    }
}
