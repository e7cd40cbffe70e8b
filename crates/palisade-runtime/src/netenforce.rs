//! Carries a container's [`NetworkPolicy`] (the decider's answer) out with the firewall of
//! `palisade_network`: nftables in the container's network namespace, entered by its pid.
//!
//! [`Mode::Discover`] installs nothing (learning allows everything and the sensor sees every connection),
//! [`Mode::Monitor`] and [`Mode::Protect`] install the rules in that mode; no policy removes the firewall.
//! Called when the agent first sees a container and whenever its policy changes; the rules go away with
//! the namespace when the pod ends, or with [`release`].

use crate::verdict::{Mode, NetworkPolicy};
use palisade_network::firewall::{self, Applied, FirewallMode};
use palisade_network::netns::Netns;
use palisade_network::nft::NftError;

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// Rules in place, in this mode.
    Firewall { mode: FirewallMode, applied: Applied },
    /// No firewall (discover mode, or no policy); `removed` when one had to be taken away.
    Nothing { removed: bool },
}

/// Install `policy` for the container whose (host) pid is `pid`.
pub fn install(pid: u32, policy: Option<&NetworkPolicy>) -> Result<Installed, NftError> {
    let ns = Netns::Pid(pid);
    let mode = match policy.map(|p| p.mode) {
        Some(Mode::Monitor) => FirewallMode::Monitor,
        Some(Mode::Protect) => FirewallMode::Protect,
        Some(Mode::Discover) | None => return Ok(Installed::Nothing { removed: firewall::remove(&ns)? }),
    };
    let rules = policy.map(|p| p.rules.as_slice()).unwrap_or_default();
    Ok(Installed::Firewall { mode, applied: firewall::apply(&ns, rules, mode)? })
}

/// Remove whatever firewall the container of `pid` has; `false` when it had none.
pub fn release(pid: u32) -> Result<bool, NftError> {
    firewall::remove(&Netns::Pid(pid))
}
