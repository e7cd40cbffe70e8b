//! The container firewall: a workload's L3/L4 allow rules enforced with nftables in its network namespace.
//!
//! - [`compile`]: [`NetRule`]s → one nftables ruleset (monitor or protect);
//! - [`status`]: what the installed ruleset counted: per rule, outside the policy, per flow;
//! - [`probe`]: which mechanisms a container's kernel and cgroup offer;
//! - [`cgroup_bpf`]: the egress rules as cgroup `connect4`/`connect6` BPF on the container's cgroup v2
//!   directory (the alternative mechanism: egress only, before any packet leaves).
//!
//! [`apply`] replaces the ruleset atomically (applying twice is the same as once), [`remove`] deletes it;
//! the rules stay in the namespace until removed or the namespace goes away with the container.

pub mod cgroup_bpf;
pub mod compile;
pub mod probe;
pub mod status;

use crate::netns::Netns;
use crate::nft::{self, NftError};
use crate::rules::NetRule;
use serde::{Deserialize, Serialize};

/// What happens to a flow no rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FirewallMode {
    /// Counted and recorded as a violation, let through.
    #[default]
    Monitor,
    /// Counted, recorded and refused.
    Protect,
}

impl FirewallMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FirewallMode::Monitor => "monitor",
            FirewallMode::Protect => "protect",
        }
    }
}

/// A firewall policy file: the mode (optional; the command line may set it) and the allow rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FirewallMode>,
    #[serde(default)]
    pub rules: Vec<NetRule>,
}

/// What [`apply`] installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Allow rules installed.
    pub installed: usize,
    /// Rules left out, with why.
    pub skipped: Vec<String>,
    /// Warnings about the rest (e.g. conntrack accounting could not be turned on).
    pub notes: Vec<String>,
}

/// Install (or replace) the firewall of `ns` with the default options: no per-flow set, conntrack
/// accounting on for bytes per flow.
pub fn apply(ns: &Netns, rules: &[NetRule], mode: FirewallMode) -> Result<Applied, NftError> {
    apply_with(ns, rules, mode, compile::Options::default())
}

/// Install (or replace) the firewall of `ns` with `options`.
pub fn apply_with(
    ns: &Netns,
    rules: &[NetRule],
    mode: FirewallMode,
    options: compile::Options,
) -> Result<Applied, NftError> {
    let compiled = compile::compile_with(rules, mode, options);
    let mut notes = Vec::new();
    if !options.flow_counters
        && let Err(e) = crate::conntrack::enable_accounting(ns)
    {
        notes.push(format!("no bytes per flow: conntrack accounting could not be turned on: {e}"));
    }
    nft::apply(ns, &compiled.script)?;
    Ok(Applied { installed: rules.len() - compiled.skipped.len(), skipped: compiled.skipped, notes })
}

/// Remove the firewall of `ns`; `false` when there was none.
pub fn remove(ns: &Netns) -> Result<bool, NftError> {
    if nft::list_table(ns, compile::TABLE)?.is_none() {
        return Ok(false);
    }
    nft::apply(ns, &nft::delete_table_script(compile::TABLE))?;
    Ok(true)
}

/// The counters of the firewall of `ns`, or `None` when it has none. A firewall without the per-flow
/// set (`flow_counters: false`) gets its bytes and packets per flow from conntrack accounting
/// ([`crate::conntrack`]); a conntrack table that cannot be read leaves the flows empty, with a note.
pub fn status(ns: &Netns) -> Result<Option<status::Status>, NftError> {
    let Some(table) = nft::list_table(ns, compile::TABLE)? else { return Ok(None) };
    let mut status = status::Status::from_table(&table);
    if !nft::has_set(&table, "flows4") {
        match crate::conntrack::flows(ns) {
            Ok(t) => {
                status.flows = t.flows;
                status.flows_from = Some(t.source);
                status.notes.extend(t.errors);
            }
            Err(e) => status.notes.push(format!("no bytes per flow: {e}")),
        }
        if crate::conntrack::accounting(ns).is_ok_and(|on| !on) {
            status.notes.push("conntrack accounting is off in this namespace: flows count 0 bytes".into());
        }
    }
    Ok(Some(status))
}
