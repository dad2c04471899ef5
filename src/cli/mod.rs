//! Subcommand dispatch for `xsc-offload`.
use std::process::ExitCode;

const USAGE: &str = "usage: xsc-offload <command> [options]

commands:
  help         this text
";

/// Runs one subcommand given the arguments after the program name.
pub fn run(args: &[String]) -> ExitCode {
    match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xsc-offload: unknown command '{other}'\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
