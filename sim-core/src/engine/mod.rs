//! The discrete-event engine: virtual clock, event queue, seeded RNG streams, actors and
//! the server CPU model.

pub mod rng;
pub mod time;

pub use rng::SimRng;
pub use time::SimTime;
