//! Subcommand dispatch for `xsc-offload`.
use std::process::ExitCode;

mod parse;

const USAGE: &str = "usage: xsc-offload <command> [options]

commands:
  help         this text
  parse        read OVS dump-flows / dump-conntrack / action text and print
               it in OVS's canonical form (see `xsc-offload parse --help`)
";

/// Runs one subcommand given the arguments after the program name.
pub fn run(args: &[String]) -> ExitCode {
    match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("parse") => parse::run(&args[1..]),
        Some(other) => {
            eprintln!("xsc-offload: unknown command '{other}'\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
