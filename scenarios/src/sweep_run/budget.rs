//! The resource estimate of a sweep, checked before any point runs: every point must fit
//! as `drmsim run` demands of a single run (`crate::budget::admit`), and parallel runs
//! share the machine's memory, so the worker count is capped by the largest estimate.

use super::point_id::PointNaming;
use super::SweepError;
use crate::loader::SweepPoints;

/// Checks the estimate of every configuration of the sweep (the first seed of each: the
/// seed does not enter the estimate) and returns the largest memory estimate, bytes.
/// Without `force`, the first point over a limit stops the sweep with
/// [`SweepError::TooLarge`] before anything is written.
pub fn precheck(
    points: &SweepPoints,
    seeds: u64,
    naming: &PointNaming,
    memory_limit_bytes: f64,
    force: bool,
) -> Result<f64, SweepError> {
    let mut largest = 0.0f64;
    let step = usize::try_from(seeds.max(1)).unwrap_or(usize::MAX);
    for index in (0..points.total()).step_by(step) {
        let point = points.point(index)?;
        let memory = match crate::budget::admit(&point.scenario, memory_limit_bytes) {
            Ok(e) => e.memory_bytes,
            Err(r) if force => r.estimate.memory_bytes,
            Err(r) => {
                let values: Vec<&toml::Value> = point.overrides.iter().map(|(_, v)| v).collect();
                return Err(SweepError::TooLarge {
                    point_id: naming.id(&values, point.scenario.scenario.seed),
                    refusal: Box::new(r),
                });
            }
        };
        largest = largest.max(memory);
    }
    Ok(largest)
}

/// The workers that fit in memory side by side: `asked`, or fewer when `asked` runs of the
/// largest estimate exceed `memory_limit_bytes` (at least one), with a note saying why.
pub fn cap_workers(
    asked: usize,
    largest_bytes: f64,
    memory_limit_bytes: f64,
) -> (usize, Option<String>) {
    if largest_bytes.is_nan() || largest_bytes <= 0.0 || asked <= 1 {
        return (asked, None);
    }
    let fit = (memory_limit_bytes / largest_bytes).floor();
    let fit = if fit.is_finite() && fit >= 1.0 {
        (fit as usize).min(asked)
    } else {
        1
    };
    if fit >= asked {
        return (asked, None);
    }
    let gib = |b: f64| b / f64::from(1u32 << 30);
    (
        fit,
        Some(format!(
            "{fit} of {asked} worker(s): the largest point's estimate is ~{:.1} GiB and this \
             machine has {:.1} GiB, so only {fit} run(s) fit side by side",
            gib(largest_bytes),
            gib(memory_limit_bytes)
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_runs_are_capped_by_memory() {
        let gib = f64::from(1u32 << 30);
        assert_eq!(cap_workers(8, 1.0 * gib, 16.0 * gib), (8, None));
        let (w, note) = cap_workers(8, 3.0 * gib, 16.0 * gib);
        assert_eq!(w, 5);
        assert!(note.unwrap().starts_with("5 of 8 worker(s)"));
        assert_eq!(cap_workers(8, 40.0 * gib, 16.0 * gib).0, 1);
        assert_eq!(cap_workers(1, 40.0 * gib, 16.0 * gib), (1, None));
    }
}
