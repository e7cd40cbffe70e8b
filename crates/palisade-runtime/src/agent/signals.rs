//! SIGTERM/SIGINT to a shutdown flag without a signal handler: the signals are blocked in the calling
//! thread (inherited by every thread started after) and one thread waits for them with `sigwait`.

use nix::sys::signal::{SigSet, Signal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Call before starting other threads. The flag turns true on the first SIGTERM or SIGINT.
pub fn shutdown_flag() -> std::io::Result<Arc<AtomicBool>> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block().map_err(std::io::Error::from)?;
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Ok(sig) = set.wait() {
            tracing::info!("{sig}: shutting down");
        }
        f.store(true, Ordering::SeqCst);
    })?;
    Ok(flag)
}
