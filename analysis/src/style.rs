//! Shared chart style: the bundled DejaVu Sans font, palette, sizes and the two-backend
//! (SVG + PNG) rendering helper.

use crate::error::{AnalysisError, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Family name the bundled font is registered under. It doubles as the SVG `font-family`
/// value, so SVG viewers without DejaVu Sans fall back to any sans-serif face.
pub const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

static FONT_TTF: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the bundled font with plotters (idempotent), under [`FONT_FAMILY`] and
/// `sans-serif`. Plotters is built without
/// font-kit, so without this every text element fails with `FontUnavailable`.
pub fn register_fonts() {
    REGISTER.call_once(|| {
        // The bytes are a known-good TTF compiled into the binary; failure is impossible
        // short of a corrupted build, and then charts report a typed FontUnavailable error.
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_TTF);
        // Also serve the generic family, so other plotters users in the same process
        // (criterion's report plots) find a font instead of failing with FontUnavailable.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_TTF);
    });
}

/// The bundled font at `size` px.
pub fn font(size: u32) -> FontDesc<'static> {
    FontDesc::new(
        FontFamily::Name(FONT_FAMILY),
        f64::from(size),
        FontStyle::Normal,
    )
}

/// Chart canvas size in pixels.
pub const CHART_SIZE: (u32, u32) = (1200, 720);
/// Title size, px.
pub const TITLE_PX: u32 = 26;
/// Axis-description size, px.
pub const AXIS_PX: u32 = 19;
/// Tick-label and legend size, px.
pub const LABEL_PX: u32 = 16;

/// Tableau-10 palette: distinguishable, print-friendly.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Light grid colour.
pub const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
/// Major grid colour.
pub const GRID_BOLD: RGBColor = RGBColor(205, 205, 205);

/// Result of drawing onto one backend.
pub type ChartResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can be drawn onto any plotters backend.
pub trait Chart {
    /// Draws the whole chart onto `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> ChartResult<DB>;
}

/// The SVG and PNG files of one chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFiles {
    /// The SVG file.
    pub svg: PathBuf,
    /// The PNG file.
    pub png: PathBuf,
}

/// Draws `chart` to `out_dir/stem.svg` and `out_dir/stem.png`.
pub fn render(chart: &impl Chart, out_dir: &Path, stem: &str) -> Result<ChartFiles> {
    register_fonts();
    std::fs::create_dir_all(out_dir).map_err(|e| AnalysisError::io(out_dir, e))?;
    let svg = out_dir.join(format!("{stem}.svg"));
    let png = out_dir.join(format!("{stem}.png"));
    {
        let root = SVGBackend::new(&svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| AnalysisError::chart(stem, e))?;
        chart
            .draw(&root)
            .map_err(|e| AnalysisError::chart(stem, e))?;
        root.present().map_err(|e| AnalysisError::chart(stem, e))?;
    }
    {
        let root = BitMapBackend::new(&png, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| AnalysisError::chart(stem, e))?;
        chart
            .draw(&root)
            .map_err(|e| AnalysisError::chart(stem, e))?;
        root.present().map_err(|e| AnalysisError::chart(stem, e))?;
    }
    Ok(ChartFiles { svg, png })
}

/// Draws a title and a centred "no data" message (charts never fail on empty input).
pub fn draw_no_data<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    message: &str,
) -> ChartResult<DB> {
    let area = root.titled(title, font(TITLE_PX))?;
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        message.to_string(),
        (w as i32 / 2 - 120, h as i32 / 2),
        font(AXIS_PX).color(&RGBColor(110, 110, 110)),
    ))?;
    Ok(())
}

/// A time axis unit chosen for readability: (divisor from ns, unit label).
pub fn time_unit(span_ns: u64) -> (f64, &'static str) {
    if span_ns < 2_000_000 {
        (1e3, "µs")
    } else if span_ns < 2_000_000_000 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// Formats a nanosecond duration with a readable unit.
pub fn fmt_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}
