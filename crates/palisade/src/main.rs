//! `palisade`: command-line parsing and wiring. The work happens in the library crates.

mod catalog;
mod cli;
mod db;
mod gate;
mod pipeline;
mod ui;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    ui::init_logging(cli.global.debug, cli.global.quiet);
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("palisade: error: {e:#}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
