//! Capacity charts for parameter sweeps: one line per configuration, a 95% confidence band
//! across seeds, and the saturation knee marked.
//!
//! Band: mean ± t(0.975, n−1)·s/√n over the seeds at each x (Student t; no band with one
//! seed). Knee: the first x, in ascending order, where the mean p99 latency exceeds
//! `knee_factor` × the mean p99 at the lowest x of that configuration, or the mean completion
//! rate falls below `min_completion_rate`. See `docs/analysis.md`.

use crate::error::{AnalysisError, Result};
use crate::stats::mean_ci95;
use crate::style::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// Configuration label (one line per label).
    pub config: String,
    /// Offered load or population (the swept variable).
    pub x: f64,
    /// Seed of this run.
    pub seed: u64,
    /// Median protocol latency, ms; `+inf` when the median run failed.
    pub p50_latency_ms: f64,
    /// 99th-percentile protocol latency, ms; `+inf` when more than 1% of runs failed.
    pub p99_latency_ms: f64,
    /// Completed / attempted protocol runs, in [0, 1].
    pub completion_rate: f64,
}

/// Options of [`draw_capacity_charts_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityOptions {
    /// X-axis description, with unit (e.g. `Offered load (requests/s)`).
    pub x_label: String,
    /// Knee when mean p99 > this factor × the lowest-x mean p99.
    pub knee_factor: f64,
    /// Knee when mean completion rate < this.
    pub min_completion_rate: f64,
    /// The protocol the rows measure, named in every chart title (empty: not named).
    pub protocol: String,
    /// How the latency rows were measured, stated on the latency charts (in particular
    /// how failures enter them).
    pub latency_basis: String,
}

/// The default [`CapacityOptions::latency_basis`]: drmsim's sweep rows.
pub const LATENCY_BASIS_ALL_OUTCOMES: &str = "every run counts: failures and timeouts rank \
     above all successes; ▲ on the top edge = the percentile is a failed run";

impl Default for CapacityOptions {
    fn default() -> Self {
        CapacityOptions {
            x_label: "Offered load or population".to_string(),
            knee_factor: 3.0,
            min_completion_rate: 0.99,
            protocol: String::new(),
            latency_basis: LATENCY_BASIS_ALL_OUTCOMES.to_string(),
        }
    }
}

/// Mean and 95% half-width of one metric at one x.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean over seeds.
    pub mean: f64,
    /// Half-width of the 95% t-interval (0 with one seed).
    pub ci95: f64,
    /// Smallest value over seeds.
    pub min: f64,
    /// Largest value over seeds.
    pub max: f64,
}

/// Aggregate of all seeds of one configuration at one x.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityPoint {
    /// Swept value.
    pub x: f64,
    /// Seeds aggregated.
    pub seeds: usize,
    /// Median latency, ms.
    pub p50_latency_ms: Estimate,
    /// p99 latency, ms.
    pub p99_latency_ms: Estimate,
    /// Completion rate.
    pub completion_rate: Estimate,
}

/// One configuration's curve and knee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityCurve {
    /// Configuration label.
    pub config: String,
    /// Points in ascending x.
    pub points: Vec<CapacityPoint>,
    /// Saturation knee, if reached within the sweep.
    pub knee_x: Option<f64>,
}

/// What [`draw_capacity_charts`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityReport {
    /// Curves (also written to `capacity.json`).
    pub curves: Vec<CapacityCurve>,
    /// Chart files: p99, p50, completion rate.
    pub charts: Vec<ChartFiles>,
    /// The `capacity.json` file.
    pub json: PathBuf,
}

/// Aggregates rows into per-configuration curves with knees (no drawing).
pub fn capacity_curves(rows: &[SweepRow], opts: &CapacityOptions) -> Result<Vec<CapacityCurve>> {
    if rows.is_empty() {
        return Err(AnalysisError::InvalidSweep("no rows".into()));
    }
    for r in rows {
        let finite = [r.x, r.completion_rate];
        // Latencies may be +inf: a percentile that falls on a failed run.
        let lat = [r.p50_latency_ms, r.p99_latency_ms];
        if finite.iter().any(|v| !v.is_finite())
            || lat.iter().any(|v| v.is_nan() || *v == f64::NEG_INFINITY)
        {
            return Err(AnalysisError::InvalidSweep(format!(
                "non-finite value in row config={} x={} seed={}",
                r.config, r.x, r.seed
            )));
        }
    }
    let mut by_config: BTreeMap<&str, Vec<&SweepRow>> = BTreeMap::new();
    for r in rows {
        by_config.entry(&r.config).or_default().push(r);
    }
    let mut curves = Vec::new();
    for (config, mut rs) in by_config {
        rs.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.seed.cmp(&b.seed)));
        let mut points: Vec<CapacityPoint> = Vec::new();
        for group in rs.chunk_by(|a, b| a.x == b.x) {
            let est = |f: fn(&SweepRow) -> f64| {
                let xs: Vec<f64> = group.iter().map(|r| f(r)).collect();
                // One failed seed makes the mean failed (+inf) too; no band then.
                let (mean, ci95) = if xs.iter().any(|x| x.is_infinite()) {
                    (f64::INFINITY, 0.0)
                } else {
                    mean_ci95(&xs)
                };
                Estimate {
                    mean,
                    ci95,
                    min: xs.iter().copied().fold(f64::INFINITY, f64::min),
                    max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                }
            };
            points.push(CapacityPoint {
                x: group[0].x,
                seeds: group.len(),
                p50_latency_ms: est(|r| r.p50_latency_ms),
                p99_latency_ms: est(|r| r.p99_latency_ms),
                completion_rate: est(|r| r.completion_rate),
            });
        }
        let base = points[0].p99_latency_ms.mean;
        let knee_x = points
            .iter()
            .find(|p| {
                p.p99_latency_ms.mean > opts.knee_factor * base
                    || p.completion_rate.mean < opts.min_completion_rate
            })
            .map(|p| p.x);
        curves.push(CapacityCurve {
            config: config.to_string(),
            points,
            knee_x,
        });
    }
    Ok(curves)
}

/// Draws the capacity charts with default options into `out_dir`.
pub fn draw_capacity_charts(rows: &[SweepRow], out_dir: &Path) -> Result<CapacityReport> {
    draw_capacity_charts_with(rows, out_dir, &CapacityOptions::default())
}

/// Draws `capacity_p99`, `capacity_p50` and `capacity_completion` (SVG + PNG) and writes
/// `capacity.json` into `out_dir`.
pub fn draw_capacity_charts_with(
    rows: &[SweepRow],
    out_dir: &Path,
    opts: &CapacityOptions,
) -> Result<CapacityReport> {
    let curves = capacity_curves(rows, opts)?;
    std::fs::create_dir_all(out_dir).map_err(|e| AnalysisError::io(out_dir, e))?;
    let json = out_dir.join("capacity.json");
    let text = serde_json::to_vec_pretty(&curves).map_err(|e| AnalysisError::Json {
        path: json.clone(),
        source: e,
    })?;
    std::fs::write(&json, text).map_err(|e| AnalysisError::io(&json, e))?;
    let named = |what: &str| {
        if opts.protocol.is_empty() {
            format!("{what} vs {}", opts.x_label)
        } else {
            format!("{}: {what} vs {}", opts.protocol, opts.x_label)
        }
    };
    let metric =
        |title: String, y_desc: &'static str, pick: fn(&CapacityPoint) -> Estimate, pct: bool| {
            CapacityChart {
                curves: &curves,
                opts,
                title,
                y_desc,
                pick,
                pct,
            }
        };
    let charts = vec![
        render(
            &metric(
                named("p99 latency"),
                "p99 latency (ms)",
                |p| p.p99_latency_ms,
                false,
            ),
            out_dir,
            "capacity_p99",
        )?,
        render(
            &metric(
                named("median latency"),
                "p50 latency (ms)",
                |p| p.p50_latency_ms,
                false,
            ),
            out_dir,
            "capacity_p50",
        )?,
        render(
            &metric(
                named("completion rate"),
                "Completion rate (%)",
                |p| p.completion_rate,
                true,
            ),
            out_dir,
            "capacity_completion",
        )?,
    ];
    Ok(CapacityReport {
        curves,
        charts,
        json,
    })
}

struct CapacityChart<'a> {
    curves: &'a [CapacityCurve],
    opts: &'a CapacityOptions,
    title: String,
    y_desc: &'static str,
    pick: fn(&CapacityPoint) -> Estimate,
    pct: bool,
}

/// Width of the legend panel right of the plot, px.
const LEGEND_W: u32 = 330;
/// Height of the title and subtitle block, px.
const HEADER_H: u32 = 96;

impl CapacityChart<'_> {
    /// "n = 2 seeds per point" (or the range when points differ).
    fn seeds_note(&self) -> String {
        let ns = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.seeds));
        let lo = ns.clone().min().unwrap_or(0);
        let hi = ns.max().unwrap_or(0);
        let n = if lo == hi {
            format!("n = {lo} seed{} per point", if lo == 1 { "" } else { "s" })
        } else {
            format!("n = {lo}–{hi} seeds per point")
        };
        if hi <= 1 {
            format!("{n} (no band: one seed)")
        } else {
            format!("{n}; band = 95% t-interval of the mean over seeds")
        }
    }

    /// Title and two subtitle lines, centred in `area`.
    fn header<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> ChartResult<DB> {
        let (w, _) = area.dim_in_pixel();
        let centre = |y: i32| (w as i32 / 2, y);
        let grey = RGBColor(70, 70, 70);
        area.draw(&Text::new(
            self.title.clone(),
            centre(10),
            font(TITLE_PX)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let first = if self.pct {
            format!(
                "completed / started runs; dotted line: {}% threshold",
                self.opts.min_completion_rate * 100.0
            )
        } else {
            self.opts.latency_basis.clone()
        };
        area.draw(&Text::new(
            first,
            centre(46),
            font(LABEL_PX)
                .color(&grey)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        area.draw(&Text::new(
            format!("{}; dashed vertical = saturation knee", self.seeds_note()),
            centre(70),
            font(LABEL_PX)
                .color(&grey)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        Ok(())
    }

    /// The legend in its own panel: one entry per configuration with its knee, so no
    /// label is ever drawn over a series.
    fn legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> ChartResult<DB> {
        let x0 = 12;
        let mut y = 24;
        area.draw(&Text::new(
            "configuration",
            (x0, y),
            font(LABEL_PX)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += 28;
        for (i, c) in self.curves.iter().enumerate() {
            let col = color(i);
            area.draw(&PathElement::new(
                vec![(x0, y), (x0 + 26, y)],
                col.stroke_width(3),
            ))?;
            area.draw(&Circle::new((x0 + 13, y), 4, col.filled()))?;
            area.draw(&Text::new(
                c.config.clone(),
                (x0 + 34, y),
                font(LABEL_PX)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            let knee = match c.knee_x {
                Some(k) => format!("knee at {}", crate::charts::tick(&k)),
                None => "no knee in range".to_string(),
            };
            area.draw(&Text::new(
                knee,
                (x0 + 34, y + 20),
                font(LABEL_PX - 2)
                    .color(&RGBColor(90, 90, 90))
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            y += 48;
        }
        Ok(())
    }
}

impl Chart for CapacityChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> ChartResult<DB> {
        let (w, _) = root.dim_in_pixel();
        let (header, body) = root.split_vertically(HEADER_H);
        self.header(&header)?;
        let (plot, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));
        self.legend(&legend)?;
        let root = &plot;
        let scale = if self.pct { 100.0 } else { 1.0 };
        let pts = || self.curves.iter().flat_map(|c| c.points.iter());
        let x_lo = pts().map(|p| p.x).fold(f64::INFINITY, f64::min);
        let x_hi = pts().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max);
        let (x_lo, x_hi) = if x_hi > x_lo {
            let pad = (x_hi - x_lo) * 0.04;
            (x_lo - pad, x_hi + pad)
        } else {
            (x_lo - 1.0, x_hi + 1.0)
        };
        let y_hi = pts()
            .map(|p| {
                let e = (self.pick)(p);
                let top = (e.mean + e.ci95).max(e.max) * scale;
                if top.is_finite() {
                    top
                } else if e.min.is_finite() {
                    e.min * scale
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max);
        let y_hi = if self.pct {
            105.0
        } else if y_hi > 0.0 {
            y_hi * 1.1
        } else {
            1.0
        };
        let y_lo = if self.pct {
            let lo = pts()
                .map(|p| {
                    let e = (self.pick)(p);
                    (e.mean - e.ci95).min(e.min) * scale
                })
                .fold(100.0, f64::min);
            (lo - 5.0).clamp(0.0, 95.0)
        } else {
            0.0
        };
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .x_label_area_size(70)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .x_desc(self.opts.x_label.as_str())
            .y_desc(self.y_desc)
            .axis_desc_style(font(AXIS_PX))
            .label_style(font(LABEL_PX))
            .light_line_style(GRID_LIGHT)
            .bold_line_style(GRID_BOLD)
            .x_label_formatter(&crate::charts::tick)
            .y_label_formatter(&crate::charts::tick)
            .draw()?;
        if self.pct {
            let thr = self.opts.min_completion_rate * 100.0;
            chart.draw_series(DashedLineSeries::new(
                vec![(x_lo, thr), (x_hi, thr)],
                2,
                5,
                BLACK.mix(0.5).stroke_width(1),
            ))?;
        }
        for (i, c) in self.curves.iter().enumerate() {
            let col = color(i);
            let est: Vec<(f64, Estimate)> =
                c.points.iter().map(|p| (p.x, (self.pick)(p))).collect();
            // Runs of consecutive finite points get a band and a line; a failed point
            // (+inf) is a triangle on the top edge, joined by a dotted riser.
            for seg in est.split(|(_, e)| !e.mean.is_finite()) {
                if seg.iter().any(|(_, e)| e.ci95 > 0.0) {
                    let mut poly: Vec<(f64, f64)> = seg
                        .iter()
                        .map(|(x, e)| (*x, band(e, self.pct, y_hi).1))
                        .collect();
                    poly.extend(
                        seg.iter()
                            .rev()
                            .map(|(x, e)| (*x, band(e, self.pct, y_hi).0)),
                    );
                    chart
                        .draw_series(std::iter::once(Polygon::new(poly, col.mix(0.15).filled())))?;
                }
                let line: Vec<(f64, f64)> = seg.iter().map(|(x, e)| (*x, e.mean * scale)).collect();
                chart.draw_series(LineSeries::new(line.clone(), col.stroke_width(2)))?;
                chart.draw_series(line.iter().map(|&p| Circle::new(p, 4, col.filled())))?;
            }
            for (i, (x, e)) in est.iter().enumerate() {
                if e.mean.is_finite() {
                    continue;
                }
                if let Some((px, pe)) = i.checked_sub(1).map(|j| est[j]) {
                    if pe.mean.is_finite() {
                        chart.draw_series(DashedLineSeries::new(
                            vec![(px, pe.mean * scale), (*x, y_hi)],
                            3,
                            4,
                            col.stroke_width(2),
                        ))?;
                    }
                }
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    (*x, y_hi),
                    9,
                    col.filled(),
                )))?;
            }
            let line: Vec<(f64, f64)> = est
                .iter()
                .map(|(x, e)| (*x, (e.mean * scale).min(y_hi)))
                .collect();
            if let Some(kx) = c.knee_x {
                chart.draw_series(DashedLineSeries::new(
                    vec![(kx, y_lo), (kx, y_hi)],
                    6,
                    5,
                    col.mix(0.7).stroke_width(2),
                ))?;
                let ky = line.iter().find(|p| p.0 == kx).map(|p| p.1).unwrap_or(y_lo);
                chart.draw_series(std::iter::once(Cross::new(
                    (kx, ky),
                    9,
                    col.stroke_width(3),
                )))?;
            }
        }
        Ok(())
    }
}
/// The band of `e` in chart units, (low, high): mean ± ci95, never below 0 nor above the
/// plot; a rate's band never above 100 % (the t-interval of a mean near 1 can pass 1, a
/// completion rate cannot).
fn band(e: &Estimate, pct: bool, y_hi: f64) -> (f64, f64) {
    let scale = if pct { 100.0 } else { 1.0 };
    let ceiling = if pct { 100.0f64.min(y_hi) } else { y_hi };
    let lo = ((e.mean - e.ci95).max(0.0) * scale).min(ceiling);
    let hi = ((e.mean + e.ci95) * scale).min(ceiling);
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_band_stays_within_0_and_100_percent() {
        let e = Estimate {
            mean: 0.995,
            ci95: 0.04,
            min: 0.99,
            max: 1.0,
        };
        assert_eq!(band(&e, true, 105.0), (95.5, 100.0));
        let low = Estimate {
            mean: 0.02,
            ci95: 0.05,
            min: 0.0,
            max: 0.04,
        };
        assert_eq!(band(&low, true, 105.0).0, 0.0);
        // Latency (ms): only the plot's top clips it.
        let lat = Estimate {
            mean: 100.0,
            ci95: 30.0,
            min: 80.0,
            max: 120.0,
        };
        assert_eq!(band(&lat, false, 1000.0), (70.0, 130.0));
        assert_eq!(band(&lat, false, 110.0), (70.0, 110.0));
    }
}
