//! A measurement hook into the event loop, for benchmarks that need to know when within a
//! frame something happened (which session event completed the model's picture, and when the
//! frame showing it was drawn). The loop runs without one; then it takes no time stamps.

use std::time::Instant;

use crate::app::App;
use crate::ssh::SessionId;

/// Told about the loop's steps as they happen, on the loop's own thread (what it does there
/// is loop time: keep it short).
pub trait LoopProbe {
    /// A session event of `id`, taken off the engine's channel at `received`, has just been
    /// given to the model (`App::update` returned; `app` is the model after it). Its effects
    /// are carried out after the batch it came in.
    fn event_applied(&mut self, _app: &App, _id: SessionId, _received: Instant) {}

    /// A frame's draw call has just returned; `app` is the model it was drawn from.
    fn drawn(&mut self, _app: &App) {}
}
