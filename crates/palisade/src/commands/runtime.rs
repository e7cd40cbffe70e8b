//! `palisade runtime …`: the node agent's command family (crate `palisade-runtime`). Each part keeps its
//! options and code in its own module: `runtime_agent` (agent, record).

use crate::commands::runtime_agent::{AgentArgs, RecordArgs, run_agent, run_record};
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum RuntimeCommand {
    /// The node agent: watch every process, file and connection of the node (eBPF, else the proc
    /// connector), attribute them to containers and pods; `/metrics` and `/healthz`. Needs root (CAP_BPF,
    /// CAP_PERFMON, CAP_SYS_ADMIN for tracefs; see docs/runtime.md). Stops on SIGTERM or SIGINT.
    Agent(AgentArgs),
    /// Record events as JSON lines (the replay format) until SIGTERM/SIGINT or --duration.
    Record(RecordArgs),
}

pub fn run(command: RuntimeCommand) -> Result<ExitCode> {
    match command {
        RuntimeCommand::Agent(args) => run_agent(args),
        RuntimeCommand::Record(args) => run_record(args),
    }
}
