//! Quick manual check of bare-engine speed (the real figure comes from criterion).
fn main() {
    let mut sim = sim_core::engine::bench::engine_workload(10_000, 42);
    let t = std::time::Instant::now();
    let n = sim_core::engine::bench::run_engine_workload(&mut sim, 10_000_000);
    let s = t.elapsed().as_secs_f64();
    println!(
        "{n} events in {s:.3}s = {:.2} M events/s",
        n as f64 / s / 1e6
    );
}
