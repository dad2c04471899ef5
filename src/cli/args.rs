//! The argument groups the subcommands share, each defined once and
//! flattened into the commands that take it (`#[command(flatten)]`): the
//! input dump, the device profile, the port map and the EAL arguments.
//!
//! Values that can be checked without touching the file system are checked
//! by clap (a bad `--profile`, a malformed inline `--port-map`, unbalanced
//! quotes in `--eal`: usage errors, exit status 2); files are read when the
//! command runs (a missing file: exit status 1, naming the file).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use xsc_dp::dpdk::NO_HUGE_ARGS;
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::PortMap;

/// The dump a command reads: a file, or `-` (the default) for standard
/// input.
#[derive(Debug, Clone, Args)]
pub(crate) struct InputArgs {
    /// The dump to read (`-` for standard input)
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: String,
}

impl InputArgs {
    /// The name to report (`<stdin>` for `-`) and the whole text.
    pub fn read(&self) -> Result<(String, String), String> {
        read_input(&self.input)
    }
}

/// Reads FILE, or standard input for `-`. Bytes that are not UTF-8 are
/// replaced (a dump is ASCII; a stray byte is then reported by the parser
/// at its line and column).
pub(crate) fn read_input(file: &str) -> Result<(String, String), String> {
    use std::io::Read;
    if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: {e}"))?;
        return Ok((
            "<stdin>".into(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    std::fs::read(file)
        .map(|b| (file.to_owned(), String::from_utf8_lossy(&b).into_owned()))
        .map_err(|e| format!("{file}: {e}"))
}

/// The device profile rules are translated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Profile {
    /// Our model of the metaScale NIC
    Metascale,
    /// A device that takes what rte_flow can express (mirrors, async API)
    Generic,
}

impl Profile {
    /// The profile's data.
    pub fn device_profile(self) -> DeviceProfile {
        match self {
            Self::Metascale => DeviceProfile::metascale(),
            Self::Generic => DeviceProfile::generic(),
        }
    }
}

/// `--profile NAME`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ProfileArgs {
    /// The device profile
    #[arg(long, value_enum, value_name = "NAME", default_value_t = Profile::Metascale)]
    pub profile: Profile,
}

/// OVS datapath port -> DPDK port: inline (`--port-map`) or from a file
/// (`--port-map-file`), never guessed from whether a file of that name
/// exists.
#[derive(Debug, Clone, Args)]
pub(crate) struct PortMapArgs {
    /// OVS datapath port -> DPDK port, inline: `N=PORT,NAME=PORT,N=virtual:V`
    /// (default: OVS port N is DPDK port N; ports given by name need the map)
    #[arg(
        long,
        value_name = "MAP",
        value_parser = parse_port_map,
        conflicts_with = "port_map_file"
    )]
    pub port_map: Option<PortMap>,
    /// The port map from FILE: one `N=PORT` entry per line or comma
    /// separated, `#` comments
    #[arg(long, value_name = "FILE")]
    pub port_map_file: Option<PathBuf>,
}

fn parse_port_map(text: &str) -> Result<PortMap, String> {
    PortMap::parse(text, true).map_err(|e| e.to_string())
}

impl PortMapArgs {
    /// The map: inline, read from its file, or the identity.
    pub fn port_map(&self) -> Result<PortMap, String> {
        if let Some(map) = &self.port_map {
            return Ok(map.clone());
        }
        let Some(path) = &self.port_map_file else {
            return Ok(PortMap::identity());
        };
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("--port-map-file {shown}: {e}"))?;
        PortMap::parse(&text, true).map_err(|e| format!("--port-map-file {shown}: {e}"))
    }
}

/// `--eal "ARGS"`: DPDK EAL arguments, split as a shell splits words.
#[derive(Debug, Clone, Args)]
pub(crate) struct EalArgs {
    /// DPDK EAL arguments, split as the shell would (quotes and
    /// backslashes work) [default: no hugepages, no PCI, one net_null port]
    #[arg(long, value_name = "ARGS", value_parser = parse_eal, allow_hyphen_values = true)]
    pub eal: Option<EalWords>,
}

/// The words of `--eal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EalWords(pub Vec<String>);

fn parse_eal(text: &str) -> Result<EalWords, String> {
    shell_words::split(text)
        .map(EalWords)
        .map_err(|e| format!("{e} (quote as a shell would)"))
}

impl EalArgs {
    /// The EAL's argv, program name first: `--eal`'s words, or by default
    /// no hugepages and one `net_null` port.
    pub fn argv(&self) -> Vec<String> {
        match &self.eal {
            Some(EalWords(words)) => std::iter::once("xsc-offload".to_owned())
                .chain(words.iter().cloned())
                .collect(),
            None => NO_HUGE_ARGS
                .iter()
                .copied()
                .chain(["--vdev=net_null0"])
                .map(str::to_string)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eal_words_follow_shell_quoting() {
        let words = parse_eal(r#"-a 0000:b3:00.0,representor=vf[0-9] --file-prefix "ovs x" -l\ 0"#)
            .expect("valid");
        assert_eq!(
            words.0,
            [
                "-a",
                "0000:b3:00.0,representor=vf[0-9]",
                "--file-prefix",
                "ovs x",
                "-l 0"
            ]
        );
        let err = parse_eal("--vdev 'net_null0").unwrap_err();
        assert!(err.contains("quote"), "{err}");
        let argv = EalArgs { eal: Some(words) }.argv();
        assert_eq!(argv[0], "xsc-offload");
        assert_eq!(argv.len(), 6);
        assert_eq!(
            EalArgs { eal: None }.argv().last().unwrap(),
            "--vdev=net_null0"
        );
    }

    #[test]
    fn a_missing_port_map_file_is_an_error_not_an_inline_map() {
        let args = PortMapArgs {
            port_map: None,
            port_map_file: Some(PathBuf::from("/nonexistent/1=2")),
        };
        let err = args.port_map().unwrap_err();
        assert!(
            err.starts_with("--port-map-file /nonexistent/1=2: "),
            "{err}"
        );
        assert!(parse_port_map("15=x").is_err());
        assert!(parse_port_map("15=3,8=4").is_ok());
    }
}
