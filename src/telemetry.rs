//! Logging: `tracing` with the `RUST_LOG` filter, to stderr.

/// Installs the global subscriber once; later calls (tests starting many apps) are no-ops.
pub fn init(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
