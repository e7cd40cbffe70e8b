//! `palisade`: command-line parsing and wiring. The work happens in the library crates.

mod cli;
mod commands;
mod gate;
mod memory;
mod pipeline;
mod render;
mod settings;
mod ui;

use cli::Command;
use commands::EXIT_ERROR;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = settings::parse();
    ui::init_logging(cli.global.debug, cli.global.quiet);
    memory::init(cli.global.memory_limit);
    let global = cli.global;
    pipeline::install_sbom_matcher(global.db_path(None));
    let result = match cli.command {
        Command::Scan { target } => commands::scan::run(*target, &global),
        Command::Sbom(args) => commands::sbom::run(*args, &global),
        Command::Convert(args) => commands::convert::run(args, &global),
        Command::Db { command } => commands::db::run(command, &global),
        Command::Secrets { command } => commands::catalog::secrets(command),
        Command::Checks { command } => commands::catalog::checks(command),
        Command::Policy { command } => commands::policy::run(command),
        Command::Admission { command } => commands::admission::run(command, &global),
        Command::Rbac { command } => commands::rbac::run(command),
        Command::Compliance { command } => commands::compliance::run(command),
        Command::Report(args) => commands::report::run(*args),
        Command::Signing(command) => commands::signing::run(command),
        Command::Profile { command } => commands::profile::run(command),
        Command::Runtime { command } => commands::runtime::run(command),
        Command::Network { command } => commands::network::run(command),
        Command::Registry { command } => commands::registry::run(command, &global),
        Command::Rescan(args) => commands::registry::rescan(args, &global),
        Command::Watch(args) => commands::watch::run(*args, &global),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("palisade: error: {}", ui::error_chain(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
