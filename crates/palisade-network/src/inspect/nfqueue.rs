//! The kernel side: packets from an NFQUEUE queue (crate `nfq`, netlink), a verdict for each.
//!
//! Install the queue with `iptables … -j NFQUEUE --queue-num N --queue-bypass` (`nft queue` is not
//! available on the target kernels): with `--queue-bypass` the kernel accepts packets while no inspector
//! is bound, so a crashed or stopped inspector fails open. The queue is also set to fail open when full
//! (`NFQA_CFG_F_FAIL_OPEN`), so a slow inspector adds latency up to the queue length, then lets packets
//! pass rather than dropping them. Needs CAP_NET_ADMIN in the network namespace of the queue.

use super::{Event, Inspector};
use std::time::Instant;

/// Packets the kernel holds for the inspector before failing open.
pub const QUEUE_LEN: u32 = 4096;

/// Bind queue `num` and judge its packets until an unrecoverable error; `events` gets every packet's
/// events after its verdict was sent (so alert delivery never delays traffic).
pub fn run(num: u16, inspector: &mut Inspector, mut events: impl FnMut(&[Event])) -> Result<(), String> {
    let mut queue = nfq::Queue::open().map_err(|e| format!("NFQUEUE: open netlink socket: {e}"))?;
    queue.bind(num).map_err(|e| format!("NFQUEUE: bind queue {num}: {e} (root or CAP_NET_ADMIN needed)"))?;
    queue.set_fail_open(num, true).map_err(|e| format!("NFQUEUE: queue {num}: fail-open: {e}"))?;
    queue.set_queue_max_len(num, QUEUE_LEN).map_err(|e| format!("NFQUEUE: queue {num}: length: {e}"))?;
    let mut errors = 0u32;
    loop {
        let mut msg = match queue.recv() {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                errors += 1;
                if errors > 100 {
                    return Err(format!("NFQUEUE: queue {num}: receive: {e}"));
                }
                continue;
            }
        };
        errors = 0;
        let decision = inspector.handle(msg.get_payload(), Instant::now());
        msg.set_verdict(if decision.drop { nfq::Verdict::Drop } else { nfq::Verdict::Accept });
        queue.verdict(msg).map_err(|e| format!("NFQUEUE: queue {num}: verdict: {e}"))?;
        if !decision.events.is_empty() {
            events(&decision.events);
        }
    }
}
