//! A mock server on a thread (and current_thread runtime) of its own, as a separate machine
//! would be: for benchmarks and tests of the event loop, where the loop under measurement
//! must be the only thing on its thread.

use anyhow::{Context, Result};
use tokio::sync::oneshot;

use super::{MockOptions, MockServer, ReceivedInput, host_name};
use crate::ssh::Target;

/// What the server's thread reports once it listens.
type Ready = (Vec<Target>, std::sync::Arc<super::server::Shared>);

/// Stops the server and joins its thread when dropped.
pub struct MockThread {
    targets: Vec<Target>,
    shared: std::sync::Arc<super::server::Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockThread {
    /// Starts the server and waits until it listens.
    pub fn start(opts: MockOptions) -> Result<MockThread> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Ready>>();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.into()));
                    return;
                }
            };
            runtime.block_on(async move {
                let server = match MockServer::start(opts).await {
                    Ok(server) => server,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let targets = (0..server.hosts().len())
                    .filter_map(|i| server.practice_target(i, host_name(i)))
                    .collect();
                let _ = ready_tx.send(Ok((targets, server.shared.clone())));
                let _ = stop_rx.await;
                server.stop();
            });
        });
        let (targets, shared) = ready_rx
            .recv()
            .context("the mock server's thread ended before it listened")??;
        Ok(MockThread {
            targets,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// A practice session target per host (`mock-01`, …), logging in as the first user.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// What each channel received so far (see [`MockServer::received`]).
    pub fn received(&self) -> Vec<ReceivedInput> {
        self.shared.received()
    }

    /// How many connections the server has accepted (see [`super::MockServer::connections`]).
    pub fn connections(&self) -> usize {
        self.shared
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for MockThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
