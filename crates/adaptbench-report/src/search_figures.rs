//! SVG figures of a prompt search (`adaptbench search`), drawn from `landscape.csv`, `reliability.csv` and
//! `efficiency.csv` alone, one figure per function: the landscape's flat step near rank 1, the reliability of
//! picking the best prompt on D_N, and loss against prompt length (DESIGN.md §6, after arXiv 2502.10760).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::atomic::write_atomically;
use crate::efficiency::EfficiencyRow;
use crate::error::ReportError;
use crate::figures::{
    draw_legend, draw_series, legend_width, padded, render, Drawn, LegendEntry, Marker, Stroke, CHART_LEGEND, FONT,
    PALETTE, TITLE_HEIGHT,
};
use crate::landscape::{empirical_best, LandscapeRow};
use crate::reliability::ReliabilityRow;
use crate::task_length::TaskLengthRow;
use crate::tidy::{group_by_key, sorted_distinct};
use crate::vocabulary::{Predictor, PromptKind};

/// KL values below this (exact zeros at the optimum, reference-sample noise below the floor) are drawn at it,
/// so the log axis can show them; the axis label says so.
pub const KL_FLOOR_BITS: f64 = 1e-6;

/// Above this many prompts per predictor the landscape draws the line alone, without a dot per prompt, which
/// would only blur the line and bloat the SVG (L_max = 10 has 2047 prompts).
const MAX_LANDSCAPE_DOTS: usize = 512;

/// Pixel size of the chart of a figure, without the title strip above and the legend strip on its right.
const CHART: (u32, u32) = (760, 540);

/// The prompt landscape (arXiv 2502.10760, Fig. 2): each prompt's KL to the task, max(`kl_bits`, 10⁻⁶) bits
/// per token (y, log scale), against its rank by reference loss (x, log scale), one line per predictor in
/// order of rank, with a dot per prompt when there are at most 512. The best prompt of each predictor is
/// labelled with its string (`ε` for the empty prompt) and the empirical best on D_N (argmin of
/// `empirical_loss_bits`) is marked with a triangle at its reference rank. Rows with a non-finite KL or rank 0
/// are left out; errors if none is left.
pub fn landscape_svg(rows: &[LandscapeRow], path: &Path) -> Result<(), ReportError> {
    let usable = rows.iter().filter(|row| row.kl_bits.is_finite() && row.rank >= 1);
    let mut curves = group_by_key(usable, |row| row.predictor);
    if curves.is_empty() {
        return Err(ReportError::NoData { what: "no landscape rows with a finite KL and a rank" });
    }
    for (_, rows) in &mut curves {
        rows.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.loss_bits.total_cmp(&b.loss_bits)));
    }
    let kl = |row: &LandscapeRow| row.kl_bits.max(KL_FLOOR_BITS);
    let all = || curves.iter().flat_map(|(_, rows)| rows.iter().copied());
    let max_rank = all().map(|row| row.rank).max().unwrap_or(1) as f64;
    let (low, high) = all().map(kl).fold((f64::INFINITY, 0.0_f64), |(low, high), y| (low.min(y), high.max(y)));
    let colored: Vec<(&Predictor, &Vec<&LandscapeRow>, RGBColor)> =
        curves.iter().zip(PALETTE.iter().cycle()).map(|((predictor, rows), &color)| (predictor, rows, color)).collect();
    let mut entries: Vec<LegendEntry> = colored
        .iter()
        .map(|&(predictor, _, color)| LegendEntry::series(predictor.as_str(), color, Some(Stroke::Solid), None))
        .collect();
    let marked = colored.iter().any(|(_, rows, _)| empirical_best(rows.iter().copied()).is_some());
    if marked {
        entries.push(LegendEntry::series("empirical best on D_N", BLACK, None, Some(Marker::Triangle)));
    }
    let svg = render(path, figure_size(&entries), |root| {
        let root =
            root.titled("Prompt landscape: KL to the task against rank, every prompt up to L_max", (FONT, 24))?;
        let (area, legend_area) = root.split_horizontally(CHART.0);
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d((0.8..1.25 * max_rank).log_scale(), (0.5 * low..2.0 * high).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("rank by reference loss (1 = best)")
            .y_desc("KL to the task, bits/token (below 1e-6 drawn at 1e-6)")
            .x_label_formatter(&|rank| format!("{rank:.0}"))
            .y_label_formatter(&|kl| format!("{kl:.0e}"))
            .label_style((FONT, 15))
            .draw()?;
        for &(_, rows, color) in &colored {
            let points: Vec<(f64, f64)> = rows.iter().map(|row| (row.rank as f64, kl(row))).collect();
            let marker = (rows.len() <= MAX_LANDSCAPE_DOTS).then_some(Marker::Circle);
            draw_series(&mut chart, &points, &LegendEntry::series("", color, Some(Stroke::Solid), marker), 2)?;
        }
        for &(_, rows, color) in &colored {
            if let Some(row) = empirical_best(rows.iter().copied()) {
                chart.plotting_area().draw(&TriangleMarker::new((row.rank as f64, kl(row)), 8, color.filled()))?;
            }
        }
        // The best prompt's string, right of the rank-1 end of each line; one line of text per predictor so
        // that two labels at the same height do not overlap.
        let text = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Left, VPos::Bottom));
        for (index, &(predictor, rows, color)) in colored.iter().enumerate() {
            let best = rows[0];
            let label = format!("{predictor} best: {} (KL {})", prompt_label(&best.prompt), kl_text(best.kl_bits));
            let anchor = EmptyElement::at((best.rank as f64, kl(best)));
            let offset = (8, -6 - 18 * index as i32);
            chart.plotting_area().draw(&(anchor + Text::new(label, offset, text.clone().color(&color))))?;
        }
        draw_legend(&legend_area, &entries, CHART_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

/// Reliability (arXiv 2502.10760, Fig. 3): the proportion of draws of D_N whose empirical best prompt is
/// reference-optimal (y, 0 to 1) against N = |D_N| (x, log₂ scale, ticks at the N measured), one line per
/// (predictor, L_max), with the 95% Wilson interval ([`ReliabilityRow::interval`]) as an error bar. Series are
/// nudged apart by at most ±0.1 octave so that their bars do not hide each other. Rows with N = 0 or a
/// non-finite proportion are left out; errors if none is left.
pub fn reliability_svg(rows: &[ReliabilityRow], path: &Path) -> Result<(), ReportError> {
    let usable = rows.iter().filter(|row| row.n > 0 && row.proportion_correct.is_finite());
    let curves: Vec<ProportionCurve> = group_by_key(usable, |row| (row.predictor, row.l_max))
        .into_iter()
        .map(|((predictor, l_max), rows)| ProportionCurve {
            label: format!("{predictor}, L_max = {l_max}"),
            points: rows.iter().map(|row| (row.n, row.proportion_correct, row.interval())).collect(),
        })
        .collect();
    if curves.is_empty() {
        return Err(ReportError::NoData { what: "no reliability rows with N > 0 and a finite proportion" });
    }
    proportion_svg(
        &curves,
        "Reliability: is the best prompt on D_N reference-optimal?",
        "N = |D_N|, task sequences (log₂ scale)",
        path,
    )
}

/// Reliability against the task length (arXiv 2502.10760, §4): the proportion of draws whose empirical best
/// prompt is reference-optimal *at that T* (y) against T (x, log₂ scale, ticks at the T measured), one line per
/// (predictor, N), at the longest L_max of the rows, with 95% Wilson intervals; drawn as [`reliability_svg`]
/// draws N. Rows with T = 0 or a non-finite proportion are left out; errors if none is left.
pub fn task_length_svg(rows: &[TaskLengthRow], path: &Path) -> Result<(), ReportError> {
    let longest = rows.iter().map(|row| row.l_max).max().unwrap_or(0);
    let usable = rows.iter().filter(|row| row.l_max == longest && row.task_len > 0 && row.proportion_correct.is_finite());
    let curves: Vec<ProportionCurve> = group_by_key(usable, |row| (row.predictor, row.n))
        .into_iter()
        .map(|((predictor, n), rows)| ProportionCurve {
            label: format!("{predictor}, N = {n}"),
            points: rows.iter().map(|row| (row.task_len, row.proportion_correct, row.interval())).collect(),
        })
        .collect();
    if curves.is_empty() {
        return Err(ReportError::NoData { what: "no task-length rows with T > 0 and a finite proportion" });
    }
    proportion_svg(
        &curves,
        &format!("Reliability against the task length T (L_max = {longest})"),
        "T, task tokens per sequence (log₂ scale)",
        path,
    )
}

/// One line of a proportion figure: `(x, proportion, 95% interval)` per point.
struct ProportionCurve {
    label: String,
    points: Vec<(usize, f64, (f64, f64))>,
}

/// Proportions (y, 0 to 1) with interval bars against a positive count (x, log₂ scale, ticks at the values
/// present), one coloured line per curve, nudged apart by at most ±0.1 octave so that bars do not hide each
/// other.
fn proportion_svg(curves: &[ProportionCurve], title: &str, x_desc: &str, path: &Path) -> Result<(), ReportError> {
    let xs = sorted_distinct(curves.iter().flat_map(|curve| curve.points.iter().map(|point| point.0)));
    let (first, last) = (xs[0] as f64, xs[xs.len() - 1] as f64);
    let ticks: Vec<f64> = xs.iter().map(|&x| x as f64).collect();
    let entries: Vec<LegendEntry> = curves
        .iter()
        .zip(PALETTE.iter().cycle())
        .map(|(curve, &color)| LegendEntry::series(&curve.label, color, Some(Stroke::Solid), Some(Marker::Circle)))
        .collect();
    let svg = render(path, figure_size(&entries), |root| {
        let root = root.titled(title, (FONT, 24))?;
        let (area, legend_area) = root.split_horizontally(CHART.0);
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d((first / 1.5..last * 1.5).log_scale().base(2.0).with_key_points(ticks), -0.03..1.03)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("proportion of draws correct (95% Wilson interval)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style((FONT, 15))
            .draw()?;
        let count = curves.len() as f64;
        for (index, (curve, entry)) in curves.iter().zip(&entries).enumerate() {
            let nudge = 2f64.powf(0.2 * (index as f64 - 0.5 * (count - 1.0)) / count.max(2.0));
            let mut points = curve.points.clone();
            points.sort_by_key(|point| point.0);
            let line: Vec<(f64, f64)> = points.iter().map(|&(x, y, _)| (x as f64 * nudge, y)).collect();
            draw_series(&mut chart, &line, entry, 3)?;
            let bars: Vec<(f64, f64, f64)> = points.iter().map(|&(x, _, (low, high))| (x as f64 * nudge, low, high)).collect();
            error_bars(&mut chart, &bars, entry.color)?;
        }
        draw_legend(&legend_area, &entries, CHART_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

/// Prompt efficiency (arXiv 2502.10760, Fig. 4): reference loss in bits per task token (y) against prompt
/// length (x), one line per (predictor, kind): the colour is the predictor, optimal prompts a solid line with
/// dots, typical (task samples) dashed with triangles, random dotted with crosses; `loss_bits ± ci95` as an
/// error bar wherever ci95 is positive and finite. Series are nudged apart by at most ±0.15 token so that
/// their bars do not hide each other. Rows with a non-finite loss are left out; errors if none is left.
pub fn efficiency_svg(rows: &[EfficiencyRow], path: &Path) -> Result<(), ReportError> {
    let usable = rows.iter().filter(|row| row.loss_bits.is_finite());
    let mut curves = group_by_key(usable, |row| (row.predictor, row.kind));
    if curves.is_empty() {
        return Err(ReportError::NoData { what: "no efficiency rows with a finite loss" });
    }
    for (_, rows) in &mut curves {
        rows.sort_by_key(|row| row.length);
    }
    let predictors: Vec<Predictor> =
        group_by_key(curves.iter(), |((predictor, _), _)| *predictor).into_iter().map(|(p, _)| p).collect();
    let entries: Vec<LegendEntry> = curves
        .iter()
        .map(|((predictor, kind), _)| {
            let which = predictors.iter().position(|p| p == predictor).unwrap_or(0);
            let (stroke, marker) = match kind {
                PromptKind::Optimal => (Stroke::Solid, Marker::Circle),
                PromptKind::Typical => (Stroke::Dashed, Marker::Triangle),
                PromptKind::Random => (Stroke::Dotted, Marker::Cross),
            };
            LegendEntry::series(
                &format!("{predictor}, {kind}"),
                PALETTE[which % PALETTE.len()],
                Some(stroke),
                Some(marker),
            )
        })
        .collect();
    let bar = |row: &EfficiencyRow| (row.ci95.is_finite() && row.ci95 > 0.0).then_some(row.ci95);
    let all = || curves.iter().flat_map(|(_, rows)| rows.iter().copied());
    let extremes = all().flat_map(|row| {
        let ci = bar(row).unwrap_or(0.0);
        [row.loss_bits - ci, row.loss_bits + ci]
    });
    let y_range = padded(extremes).expect("every row kept has a finite loss");
    let (first, last) = all().fold((usize::MAX, 0), |(first, last), row| (first.min(row.length), last.max(row.length)));
    let (first, last) = (first as f64, last as f64);
    let svg = render(path, figure_size(&entries), |root| {
        let root = root.titled("Prompt efficiency: loss against prompt length", (FONT, 24))?;
        let (area, legend_area) = root.split_horizontally(CHART.0);
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(first - 0.5..last + 0.5, y_range)?;
        chart
            .configure_mesh()
            .x_desc("prompt length (tokens)")
            .y_desc("reference loss (bits/token), ± 95% CI")
            // At most one label per token of the range: plotters then steps by 1, 2 or 5 tokens, never by a
            // fraction, so every tick is a whole length.
            .x_labels((last - first) as usize + 2)
            .x_label_formatter(&|length| format!("{length:.0}"))
            .label_style((FONT, 15))
            .draw()?;
        let count = curves.len() as f64;
        for (index, ((_, rows), entry)) in curves.iter().zip(&entries).enumerate() {
            let nudge = 0.3 * (index as f64 - 0.5 * (count - 1.0)) / count.max(2.0);
            let points: Vec<(f64, f64)> = rows.iter().map(|row| (row.length as f64 + nudge, row.loss_bits)).collect();
            draw_series(&mut chart, &points, entry, 4)?;
            let bars: Vec<(f64, f64, f64)> =
                rows.iter().zip(&points).filter_map(|(row, &(x, y))| bar(row).map(|ci| (x, y - ci, y + ci))).collect();
            error_bars(&mut chart, &bars, entry.color)?;
        }
        draw_legend(&legend_area, &entries, CHART_LEGEND)
    })?;
    write_atomically(path, svg.as_bytes())
}

/// The chart plus a legend strip on its right ([`legend_width`]), under the title strip, so that the legend
/// never hides a curve.
fn figure_size(entries: &[LegendEntry]) -> (u32, u32) {
    (CHART.0 + legend_width(entries), CHART.1 + TITLE_HEIGHT)
}

/// Vertical error bars from `low` to `high` at each `x` of `bars` = [(x, low, high)], with 8-pixel caps.
pub(crate) fn error_bars<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    bars: &[(f64, f64, f64)],
    color: RGBColor,
) -> Drawn
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = color.stroke_width(1);
    chart.draw_series(bars.iter().map(|&(x, low, high)| PathElement::new(vec![(x, low), (x, high)], style)))?;
    let caps = bars.iter().flat_map(|&(x, low, high)| [(x, low), (x, high)]);
    chart.draw_series(caps.map(|end| EmptyElement::at(end) + PathElement::new(vec![(-4, 0), (4, 0)], style)))?;
    Ok(())
}

/// A prompt as shown in figures and tables: its bits, or `ε` for the empty prompt.
pub(crate) fn prompt_label(prompt: &str) -> &str {
    if prompt.is_empty() {
        "ε"
    } else {
        prompt
    }
}

/// A KL or other small non-negative number of bits: 4 decimals from 10⁻³ up (and for 0), else 2 significant
/// digits in scientific notation (`3.2e-5`), so the near-optimal prompts of the flat step stay distinguishable;
/// `—` when not finite.
pub(crate) fn kl_text(bits: f64) -> String {
    if !bits.is_finite() {
        "—".to_string()
    } else if bits == 0.0 || bits.abs() >= 1e-3 {
        format!("{bits:.4}")
    } else {
        format!("{bits:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{efficiency, landscape, read_svg, reliability};

    #[test]
    fn the_landscape_has_a_line_per_predictor_and_labels_each_best_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figures").join("landscape.svg");
        landscape_svg(&landscape(), &path).unwrap();
        let svg = read_svg(&path);
        for label in ["bayes", "neural", "empirical best on D_N"] {
            assert!(svg.contains(&format!("\n{label}\n</text>")), "legend entry {label}");
        }
        // bayes: `11` with KL 0.4 − 0.4 = 0 (drawn at the floor); neural: ε with KL 0.45 − 0.4 = 0.05
        assert!(svg.contains("bayes best: 11 (KL 0.0000)"), "the best bayes prompt is labelled");
        assert!(svg.contains("neural best: ε (KL 0.0500)"), "the empty prompt is labelled ε");
        assert!(svg.contains("below 1e-6 drawn at 1e-6"), "the axis says where KL is clamped");
    }

    #[test]
    fn a_landscape_of_thousands_of_prompts_draws_lines_without_dots() {
        // L_max = 10: 2047 prompts, KL growing with rank
        let rows: Vec<LandscapeRow> = (1..=2047)
            .map(|rank| crate::testing::landscape_row("bayes", "0", 0.4 + 1e-4 * rank as f64, rank))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("landscape.svg");
        landscape_svg(&rows, &path).unwrap();
        let svg = read_svg(&path);
        assert!(svg.matches("<circle").count() < 10, "no dot per prompt above {MAX_LANDSCAPE_DOTS} prompts");
        assert!(svg.contains(">\n1000\n</text>"), "a log-scale rank axis ticks at 1000");
    }

    #[test]
    fn the_reliability_figure_has_a_line_per_predictor_and_l_max() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reliability.svg");
        reliability_svg(&reliability(), &path).unwrap();
        let svg = read_svg(&path);
        for label in ["bayes, L_max = 2", "bayes, L_max = 4", "neural, L_max = 2", "neural, L_max = 4"] {
            assert!(svg.contains(&format!("\n{label}\n</text>")), "legend entry {label}");
        }
        for tick in ["4", "16", "64"] {
            assert!(svg.contains(&format!(">\n{tick}\n</text>")), "N tick {tick}");
        }
    }

    #[test]
    fn the_task_length_figure_has_a_line_per_predictor_and_n_at_the_longest_l_max() {
        let row = |predictor: &str, task_len: usize, l_max: usize, n: usize| TaskLengthRow {
            predictor: predictor.parse().unwrap(),
            task_len,
            l_max,
            n,
            draws: 10,
            proportion_correct: 0.5,
            ..Default::default()
        };
        let rows: Vec<TaskLengthRow> = ["bayes", "neural"]
            .into_iter()
            .flat_map(|p| [5, 20, 59].into_iter().flat_map(move |t| [(1, 4), (3, 4), (3, 64)].map(|(l, n)| row(p, t, l, n))))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("task_length.svg");
        task_length_svg(&rows, &path).unwrap();
        let svg = read_svg(&path);
        for label in ["bayes, N = 4", "bayes, N = 64", "neural, N = 4", "neural, N = 64"] {
            assert!(svg.contains(&format!("\n{label}\n</text>")), "legend entry {label}");
        }
        assert_eq!(svg.matches(", N = ").count(), 4, "one line per (predictor, N), L_max = 1 left out");
        assert!(svg.contains("L_max = 3") && svg.contains(">\n59\n</text>"), "title and T ticks");
        assert!(matches!(task_length_svg(&[], &path), Err(ReportError::NoData { .. })));
    }

    #[test]
    fn the_efficiency_figure_has_a_line_per_predictor_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("efficiency.svg");
        efficiency_svg(&efficiency(), &path).unwrap();
        let svg = read_svg(&path);
        for predictor in ["bayes", "neural"] {
            for kind in PromptKind::ALL {
                let label = format!("{predictor}, {kind}");
                assert!(svg.contains(&format!("\n{label}\n</text>")), "legend entry {label}");
            }
        }
        assert!(svg.contains("prompt length (tokens)"));
    }

    #[test]
    fn a_figure_without_data_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figure.svg");
        assert!(matches!(landscape_svg(&[], &path), Err(ReportError::NoData { .. })));
        assert!(matches!(reliability_svg(&[], &path), Err(ReportError::NoData { .. })));
        assert!(matches!(efficiency_svg(&[], &path), Err(ReportError::NoData { .. })));
        let mut unranked = landscape();
        unranked.iter_mut().for_each(|row| row.kl_bits = f64::NAN);
        assert!(matches!(landscape_svg(&unranked, &path), Err(ReportError::NoData { .. })));
        assert!(!path.exists());
    }

    #[test]
    fn kl_prints_small_values_in_scientific_notation() {
        assert_eq!(kl_text(0.05), "0.0500");
        assert_eq!(kl_text(0.0), "0.0000");
        assert_eq!(kl_text(3.2e-5), "3.2e-5");
        assert_eq!(kl_text(f64::NAN), "—");
        assert_eq!(prompt_label(""), "ε");
        assert_eq!(prompt_label("0110"), "0110");
    }
}
