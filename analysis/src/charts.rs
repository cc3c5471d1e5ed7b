//! Run charts: throughput and completions over time, latency CDF per protocol, server
//! utilisation and queue length, failure-status breakdown.

use crate::collect::TraceAnalysis;
use crate::error::Result;
use crate::metrics::Metrics;
use crate::style::*;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Most points drawn per CDF line (ranks are subsampled evenly; the maximum is always kept).
const CDF_POINTS: usize = 600;
/// Most bars in the failure chart (the largest counts are kept).
const MAX_FAILURE_BARS: usize = 20;

/// Stem names of the run charts, in report order.
pub const RUN_CHARTS: [&str; 4] = ["throughput", "latency_cdf", "servers", "failures"];

/// Draws every run chart into `out_dir` (SVG + PNG each).
pub fn draw_run_charts(a: &TraceAnalysis, out_dir: &Path) -> Result<Vec<ChartFiles>> {
    Ok(vec![
        render(&ThroughputChart(&a.metrics), out_dir, RUN_CHARTS[0])?,
        render(&LatencyCdfChart(a), out_dir, RUN_CHARTS[1])?,
        render(&ServerChart(&a.metrics), out_dir, RUN_CHARTS[2])?,
        render(&FailureChart(&a.metrics), out_dir, RUN_CHARTS[3])?,
    ])
}

fn scenario_suffix(m: &Metrics) -> String {
    match &m.run.scenario {
        Some(s) => format!(" — {s}"),
        None => String::new(),
    }
}

/// Most points per time-series line: metrics buckets are merged in groups for drawing so
/// lines stay readable (1000 one-millisecond buckets of a sparse run are mostly noise).
const MAX_DRAWN_BUCKETS: usize = 120;

/// How many metrics buckets are merged into one drawn bucket.
fn group_size(m: &Metrics) -> usize {
    m.throughput.buckets.div_ceil(MAX_DRAWN_BUCKETS).max(1)
}

/// Drawn-bucket mid times (display units) and effective widths (s).
fn bucket_axis(m: &Metrics, div: f64) -> (Vec<f64>, Vec<f64>) {
    let g = group_size(m) as u64;
    let w = m.throughput.bucket_ns.saturating_mul(g);
    let end = m.run.duration_ns;
    let n = m.throughput.buckets.div_ceil(g as usize);
    (0..n)
        .map(|i| {
            let start = (i as u64).saturating_mul(w);
            let eff = end.saturating_sub(start).min(w);
            let eff = if eff == 0 { w } else { eff };
            ((start as f64 + eff as f64 / 2.0) / div, eff as f64 / 1e9)
        })
        .unzip()
}

/// Sums groups of `g` values.
fn sum_groups(v: &[u64], g: usize) -> Vec<f64> {
    v.chunks(g).map(|c| c.iter().sum::<u64>() as f64).collect()
}

/// Averages groups of `g` values (the last group may be shorter).
fn mean_groups(v: &[f64], g: usize) -> Vec<f64> {
    v.chunks(g)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect()
}

/// Tick label without a spurious `.0` on whole numbers.
pub(crate) fn tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

fn nice_max(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v * 1.08
    } else {
        1.0
    }
}

fn style_mesh<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
) -> ChartResult<DB>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(font(AXIS_PX))
        .label_style(font(LABEL_PX))
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
}

fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> ChartResult<DB> {
    chart
        .configure_series_labels()
        .position(pos)
        .label_font(font(LABEL_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

/// Throughput (completions/s per bucket) and cumulative completions per protocol.
struct ThroughputChart<'a>(&'a Metrics);

impl Chart for ThroughputChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> ChartResult<DB> {
        let m = self.0;
        let title = format!("Throughput and completions over time{}", scenario_suffix(m));
        if m.throughput
            .completions
            .values()
            .all(|v| v.iter().all(|&c| c == 0))
        {
            return draw_no_data(
                root,
                &title,
                "No successful protocol outcomes in this trace",
            );
        }
        let root = root.titled(&title, font(TITLE_PX))?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
        let (div, unit) = time_unit(m.run.duration_ns);
        let (xs, widths_s) = bucket_axis(m, div);
        let x_max = nice_max(m.run.duration_ns as f64 / div);
        let x_desc = format!("Virtual time ({unit})");

        let rates: Vec<(&String, Vec<f64>)> = m
            .throughput
            .completions
            .iter()
            .map(|(p, c)| {
                let sums = sum_groups(c, group_size(m));
                (p, sums.iter().zip(&widths_s).map(|(c, w)| c / w).collect())
            })
            .collect();
        let y_max = nice_max(
            rates
                .iter()
                .flat_map(|(_, r)| r.iter().copied())
                .fold(0.0, f64::max),
        );
        let mut chart = ChartBuilder::on(&top)
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .caption("Throughput per bucket", font(AXIS_PX))
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        style_mesh(&mut chart, &x_desc, "Completions / s")?;
        for (i, (p, r)) in rates.iter().enumerate() {
            let c = color(i);
            chart
                .draw_series(LineSeries::new(
                    xs.iter().copied().zip(r.iter().copied()),
                    c.stroke_width(2),
                ))?
                .label(p.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;

        let cumul: Vec<(&String, Vec<f64>)> = m
            .throughput
            .completions
            .iter()
            .map(|(p, c)| {
                let mut s = 0.0;
                let sums = sum_groups(c, group_size(m));
                (
                    p,
                    sums.iter()
                        .map(|&x| {
                            s += x;
                            s
                        })
                        .collect(),
                )
            })
            .collect();
        let c_max = nice_max(
            cumul
                .iter()
                .filter_map(|(_, v)| v.last().copied())
                .fold(0.0, f64::max),
        );
        let ends: Vec<f64> = xs
            .iter()
            .zip(&widths_s)
            .map(|(x, w)| x + w * 1e9 / div / 2.0)
            .collect();
        let mut chart = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .caption("Cumulative completions", font(AXIS_PX))
            .build_cartesian_2d(0.0..x_max, 0.0..c_max)?;
        style_mesh(&mut chart, &x_desc, "Completions")?;
        for (i, (p, v)) in cumul.iter().enumerate() {
            let c = color(i);
            let pts =
                std::iter::once((0.0, 0.0)).chain(ends.iter().copied().zip(v.iter().copied()));
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
                .label(p.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

/// Empirical CDF of successful-outcome latency per protocol, log-scaled latency axis.
struct LatencyCdfChart<'a>(&'a TraceAnalysis);

impl Chart for LatencyCdfChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> ChartResult<DB> {
        let a = self.0;
        let title = format!("Protocol latency CDF{}", scenario_suffix(&a.metrics));
        let series: Vec<(&String, &Vec<u64>)> = a
            .latencies_by_protocol
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if series.is_empty() {
            return draw_no_data(
                root,
                &title,
                "No successful protocol outcomes in this trace",
            );
        }
        // Latencies in ms, floored at 1 µs so the log axis is defined.
        let to_ms = |ns: u64| (ns as f64 / 1e6).max(1e-3);
        let lo = series
            .iter()
            .map(|(_, v)| to_ms(v[0]))
            .fold(f64::INFINITY, f64::min);
        let hi = series
            .iter()
            .map(|(_, v)| to_ms(v[v.len() - 1]))
            .fold(0.0, f64::max);
        // Log axis only when latencies span two decades; otherwise linear reads better.
        let log = hi / lo >= 100.0;
        let builder = |root| {
            let mut b = ChartBuilder::on(root);
            b.margin(16)
                .caption(&title, font(TITLE_PX))
                .x_label_area_size(56)
                .y_label_area_size(80);
            b
        };
        if log {
            let mut chart =
                builder(root).build_cartesian_2d((lo / 1.2..hi * 1.2).log_scale(), 0.0..1.0)?;
            draw_cdf_series(
                &mut chart,
                &series,
                "Latency, first request to outcome (ms, log scale)",
            )
        } else {
            let mut chart = builder(root).build_cartesian_2d(0.0..hi * 1.05, 0.0..1.0)?;
            draw_cdf_series(
                &mut chart,
                &series,
                "Latency, first request to outcome (ms)",
            )
        }
    }
}

fn draw_cdf_series<'a, DB: DrawingBackend + 'a, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>,
    series: &[(&String, &Vec<u64>)],
    x_desc: &str,
) -> ChartResult<DB>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let to_ms = |ns: u64| (ns as f64 / 1e6).max(1e-3);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("Fraction of successful outcomes ≤ latency")
        .axis_desc_style(font(AXIS_PX))
        .label_style(font(LABEL_PX))
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .x_labels(16)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    {
        for (i, (p, v)) in series.iter().enumerate() {
            let n = v.len();
            let step = n.div_ceil(CDF_POINTS).max(1);
            let mut pts: Vec<(f64, f64)> = (0..n)
                .step_by(step)
                .map(|k| (to_ms(v[k]), (k + 1) as f64 / n as f64))
                .collect();
            pts.push((to_ms(v[n - 1]), 1.0));
            let c = color(i);
            let p99 = crate::stats::percentile_sorted(v, 99.0).unwrap_or(0);
            let label = format!("{p} (n={n}, p99 {})", fmt_ns(p99 as f64));
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
        }
    }
    draw_legend(chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

/// Utilisation and queue length per server kind over time.
struct ServerChart<'a>(&'a Metrics);

impl Chart for ServerChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> ChartResult<DB> {
        let m = self.0;
        let title = format!("Server utilisation and queue length{}", scenario_suffix(m));
        if m.servers.by_kind.is_empty() {
            return draw_no_data(
                root,
                &title,
                "No server queueing or service records in this trace",
            );
        }
        let root = root.titled(&title, font(TITLE_PX))?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
        let (div, unit) = time_unit(m.run.duration_ns);
        let (xs, _) = bucket_axis(m, div);
        let x_max = nice_max(m.run.duration_ns as f64 / div);
        let x_desc = format!("Virtual time ({unit})");

        let mut chart = ChartBuilder::on(&top)
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .caption("Utilisation (busy workers / capacity)", font(AXIS_PX))
            .build_cartesian_2d(0.0..x_max, 0.0..105.0)?;
        style_mesh(&mut chart, &x_desc, "Utilisation (%)")?;
        for (i, (k, s)) in m.servers.by_kind.iter().enumerate() {
            let c = color(i);
            let g = group_size(m);
            let pts = xs.iter().copied().zip(
                mean_groups(&s.utilisation, g)
                    .into_iter()
                    .map(|u| u * 100.0),
            );
            let label = format!(
                "{k} ({} servers, {} workers)",
                s.servers, s.capacity_workers
            );
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;

        let q_max = nice_max(
            m.servers
                .by_kind
                .values()
                .flat_map(|s| s.queue_len_max.iter().map(|&q| f64::from(q)))
                .fold(0.0, f64::max),
        );
        let mut chart = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .caption(
                "Queue length (solid: time-weighted mean, dashed: max)",
                font(AXIS_PX),
            )
            .build_cartesian_2d(0.0..x_max, 0.0..q_max)?;
        style_mesh(&mut chart, &x_desc, "Queued requests")?;
        for (i, (k, s)) in m.servers.by_kind.iter().enumerate() {
            let c = color(i);
            chart
                .draw_series(LineSeries::new(
                    xs.iter()
                        .copied()
                        .zip(mean_groups(&s.queue_len_mean, group_size(m))),
                    c.stroke_width(2),
                ))?
                .label(format!("{k} mean"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
            chart.draw_series(DashedLineSeries::new(
                xs.iter().copied().zip(
                    s.queue_len_max
                        .chunks(group_size(m))
                        .map(|c| f64::from(c.iter().copied().max().unwrap_or(0))),
                ),
                6,
                4,
                c.mix(0.7).stroke_width(1),
            ))?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

/// Horizontal bars: non-success outcomes per (protocol, status), largest first.
struct FailureChart<'a>(&'a Metrics);

impl Chart for FailureChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> ChartResult<DB> {
        let m = self.0;
        let title = format!("Failed outcomes by status{}", scenario_suffix(m));
        let mut bars: Vec<(String, u64, usize)> = Vec::new();
        for (pi, (p, pm)) in m.protocols.iter().enumerate() {
            for (s, &n) in &pm.failures_by_status {
                bars.push((format!("{p}: {s}"), n, pi));
            }
        }
        if bars.is_empty() {
            return draw_no_data(root, &title, "No failed protocol outcomes in this trace");
        }
        bars.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        bars.truncate(MAX_FAILURE_BARS);
        let n = bars.len();
        let x_max = nice_max(bars[0].1 as f64) * 1.1;
        let label_w = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(10) as u32 * 9 + 20;
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .caption(&title, font(TITLE_PX))
            .x_label_area_size(56)
            .y_label_area_size(label_w.clamp(120, 520))
            .build_cartesian_2d(0.0..x_max, 0.0..n as f64)?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("Outcomes (count)")
            .x_label_formatter(&tick)
            .axis_desc_style(font(AXIS_PX))
            .label_style(font(LABEL_PX))
            .light_line_style(GRID_LIGHT)
            .bold_line_style(GRID_BOLD)
            .draw()?;
        // Bar i occupies [n-1-i+0.15, n-1-i+0.85] so the largest is on top.
        for (i, (_, count, pi)) in bars.iter().enumerate() {
            let y0 = (n - 1 - i) as f64 + 0.15;
            let c = color(*pi);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y0), (*count as f64, y0 + 0.7)],
                c.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!(" {count}"),
                (*count as f64, y0 + 0.5),
                font(LABEL_PX)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
        // Category labels to the left of the plotting area.
        let plot = chart.plotting_area();
        let (px, _) = plot.get_pixel_range();
        for (i, label) in labels.iter().enumerate() {
            let y = (n - 1 - i) as f64 + 0.5;
            let (_, py) = chart.backend_coord(&(0.0, y));
            root.draw(&Text::new(
                label.clone(),
                (px.start - 8, py),
                font(LABEL_PX)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}
