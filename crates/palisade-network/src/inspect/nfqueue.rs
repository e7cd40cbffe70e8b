//! The kernel side: packets from an NFQUEUE queue (crate `nfq`, netlink), a verdict for each.
//!
//! Install the queue with `iptables … -j NFQUEUE --queue-num N --queue-bypass` (`nft queue` is not
//! available on the target kernels): with `--queue-bypass` the kernel accepts packets while no inspector
//! is bound, so a crashed or stopped inspector fails open. The queue is also set to fail open when full
//! (`NFQA_CFG_F_FAIL_OPEN`), so a slow inspector adds latency up to the queue length, then lets packets
//! pass rather than dropping them. Needs CAP_NET_ADMIN in the network namespace of the queue.

use super::{Decision, Event, Inspector};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Packets the kernel holds for the inspector before failing open.
pub const QUEUE_LEN: u32 = 4096;

/// Bind queue `num` and judge its packets until an unrecoverable error; `events` gets every packet's
/// events after its verdict was sent (so alert delivery never delays traffic).
pub fn run(num: u16, inspector: &mut Inspector, mut events: impl FnMut(&[Event])) -> Result<(), String> {
    let never = AtomicBool::new(false);
    Bound::bind(num, true)?.serve(inspector, &never, |d| {
        if !d.events.is_empty() {
            events(&d.events);
        }
    })
}

/// A queue bound in the network namespace of the thread that bound it (the netlink socket stays in that
/// namespace wherever it is used afterwards).
pub struct Bound {
    queue: nfq::Queue,
    num: u16,
}

impl Bound {
    /// Bind queue `num`; `fail_open`: the kernel accepts what does not fit in the queue (else it drops).
    pub fn bind(num: u16, fail_open: bool) -> Result<Bound, String> {
        let mut queue = nfq::Queue::open().map_err(|e| format!("NFQUEUE: open netlink socket: {e}"))?;
        queue
            .bind(num)
            .map_err(|e| format!("NFQUEUE: bind queue {num}: {e} (root or CAP_NET_ADMIN needed)"))?;
        queue.set_fail_open(num, fail_open).map_err(|e| format!("NFQUEUE: queue {num}: fail-open: {e}"))?;
        queue.set_queue_max_len(num, QUEUE_LEN).map_err(|e| format!("NFQUEUE: queue {num}: length: {e}"))?;
        Ok(Bound { queue, num })
    }

    /// Judge packets until an unrecoverable error, or until `stop` is set and the next packet came (it is
    /// judged first; whoever stops sends one to wake the queue). `decided` gets every packet's decision
    /// after its verdict was sent. Unbinds on the way out.
    pub fn serve(
        mut self,
        inspector: &mut Inspector,
        stop: &AtomicBool,
        mut decided: impl FnMut(&Decision),
    ) -> Result<(), String> {
        let num = self.num;
        let mut errors = 0u32;
        let result = loop {
            if stop.load(Ordering::Relaxed) {
                break Ok(());
            }
            let mut msg = match self.queue.recv() {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    errors += 1;
                    if errors > 100 {
                        break Err(format!("NFQUEUE: queue {num}: receive: {e}"));
                    }
                    continue;
                }
            };
            errors = 0;
            let decision = inspector.handle(msg.get_payload(), Instant::now());
            msg.set_verdict(if decision.drop { nfq::Verdict::Drop } else { nfq::Verdict::Accept });
            if let Err(e) = self.queue.verdict(msg) {
                break Err(format!("NFQUEUE: queue {num}: verdict: {e}"));
            }
            decided(&decision);
        };
        let _ = self.queue.unbind(num);
        result
    }
}
