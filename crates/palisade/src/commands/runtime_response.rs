//! `palisade runtime agent --response FILE | --response-bundle BUNDLE`: the response rules the agent runs
//! on its own alerts (crate `palisade-runtime`, module `response`). The rules are loaded as `network
//! inspect` and `network respond` load them (`ResponseSourceArgs`).

use crate::commands::inspect::ResponseSourceArgs;
use anyhow::Result;
use clap::Args;
use palisade_runtime::response::{Responder, ResponseConfig};
use std::path::PathBuf;

/// Response options of `runtime agent`.
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "Response")]
pub struct AgentResponseArgs {
    #[command(flatten)]
    pub source: ResponseSourceArgs,
    /// Where the response rules' captures write their pcap files [default: <cache dir>/pcap].
    #[arg(long = "capture-dir", value_name = "DIR")]
    pub capture_dir: Option<PathBuf>,
}

impl AgentResponseArgs {
    /// The responder, when response rules were given.
    pub fn responder(&self) -> Result<Option<Responder>> {
        let Some(rules) = self.source.load()? else { return Ok(None) };
        let capture_dir =
            self.capture_dir.clone().unwrap_or_else(|| palisade_core::default_cache_dir().join("pcap"));
        let r = Responder::new(ResponseConfig { rules, capture_dir: capture_dir.clone() });
        eprintln!(
            "palisade: response: {} rules on every alert (captures to {})",
            r.rule_count(),
            capture_dir.display()
        );
        Ok(Some(r))
    }
}
