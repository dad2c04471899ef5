//! [`OvsSandbox`]: a private Open vSwitch for tests, with the userspace
//! (`dummy`) datapath and dummy ports whose traffic goes to pcap files.
//!
//! `start` creates a fresh temp dir, a database in it (`ovsdb-tool create`),
//! and runs `ovsdb-server` and `ovs-vswitchd --enable-dummy=override
//! --disable-system` as children of the test process (no `--detach`), with
//! pidfiles, unixctl sockets, logs and the database all inside that dir.
//!
//! Invariants:
//! - Nothing talks to a system OVS: every command gets `OVS_RUNDIR`,
//!   `OVS_DBDIR`, `OVS_LOGDIR` and `OVS_SYSCONFDIR` pointing into the sandbox
//!   *and* an explicit socket (`--db=unix:…`, `--target=…`, `unix:…/BR.mgmt`).
//! - Every wait is bounded: the OVS tools get `--timeout`, readiness polls
//!   give up after [`READY_TIMEOUT`].
//! - `Drop` (also while unwinding from a panic) sends SIGTERM, then SIGKILL
//!   after [`EXIT_GRACE`], reaps both daemons, and removes the temp dir.
//!   The daemons also get `PR_SET_PDEATHSIG(SIGKILL)`, so a test binary
//!   killed outright does not leave them running. Because that signal fires
//!   when the *thread* that spawned them exits, keep a sandbox inside the
//!   test (thread) that started it.
//!
//! Where OVS lives: `XSC_OVS_BINDIR` (only that dir) if set, else `PATH`
//! plus `/usr/sbin`, `/usr/local/sbin`, `/usr/local/bin`; the schema from
//! `XSC_OVS_SCHEMA`, else `/usr/share/openvswitch/vswitch.ovsschema` or the
//! `/usr/local` one. A missing program or schema is
//! [`HarnessError::NotInstalled`], which [`OvsSandbox::start_or_skip`] turns
//! into a loud skip — or a failure when `CI` is set.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use xsc_test_support::pcap::{self, PcapError};

/// How long a daemon may take to answer on its socket after being spawned.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a daemon gets to exit after SIGTERM before SIGKILL.
pub const EXIT_GRACE: Duration = Duration::from_secs(3);
/// `--timeout` given to every `ovs-vsctl`/`ovs-ofctl`/`ovs-appctl` call.
pub const COMMAND_TIMEOUT_S: u32 = 10;
/// Poll period of the readiness waits.
const POLL: Duration = Duration::from_millis(20);

/// The datapath port number the dummy datapath gives a bridge's own
/// (internal) port: `actions:…,100` in a megaflow is the bridge port.
pub const DUMMY_BRIDGE_DP_PORT: u32 = 100;

const PROGRAMS: [&str; 6] = [
    "ovsdb-tool",
    "ovsdb-server",
    "ovs-vswitchd",
    "ovs-vsctl",
    "ovs-ofctl",
    "ovs-appctl",
];
const SCHEMA_PATHS: [&str; 2] = [
    "/usr/share/openvswitch/vswitch.ovsschema",
    "/usr/local/share/openvswitch/vswitch.ovsschema",
];
const EXTRA_BIN_DIRS: [&str; 3] = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"];

/// Everything that can go wrong driving OVS. `Debug` prints the same text
/// as `Display`, so a test returning `Result<(), HarnessError>` fails with a
/// readable message.
#[non_exhaustive]
pub enum HarnessError {
    /// An OVS program or the vswitch schema is not installed.
    NotInstalled {
        what: String,
        searched: Vec<PathBuf>,
    },
    /// A file operation in the sandbox failed.
    Io { path: PathBuf, source: io::Error },
    /// A program could not be started.
    Spawn { program: PathBuf, source: io::Error },
    /// A command ran and failed.
    Command {
        command: String,
        status: ExitStatus,
        stderr: String,
    },
    /// A daemon exited while it should be running.
    DaemonExited {
        daemon: &'static str,
        status: ExitStatus,
        log_tail: String,
    },
    /// A daemon did not answer within the time given.
    Timeout {
        what: String,
        waited: Duration,
        log_tail: String,
    },
    /// A port's pcap file is malformed.
    Pcap { path: PathBuf, source: PcapError },
    /// The caller asked for something the sandbox does not know.
    Usage(String),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled { what, searched } => {
                write!(
                    f,
                    "Open vSwitch is not installed: {what} not found (searched "
                )?;
                for (i, p) in searched.iter().enumerate() {
                    write!(f, "{}{}", if i == 0 { "" } else { ", " }, p.display())?;
                }
                write!(f, ")")
            }
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Spawn { program, source } => {
                write!(f, "cannot run {}: {source}", program.display())
            }
            Self::Command {
                command,
                status,
                stderr,
            } => {
                write!(f, "`{command}` failed ({status}): {}", stderr.trim_end())
            }
            Self::DaemonExited {
                daemon,
                status,
                log_tail,
            } => {
                write!(f, "{daemon} exited ({status}); end of its log:\n{log_tail}")
            }
            Self::Timeout {
                what,
                waited,
                log_tail,
            } => {
                write!(
                    f,
                    "{what} did not happen within {waited:?}; end of the log:\n{log_tail}"
                )
            }
            Self::Pcap { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Usage(msg) => f.write_str(msg),
        }
    }
}

impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for HarnessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } | Self::Spawn { source, .. } => Some(source),
            Self::Pcap { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl HarnessError {
    fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Where the OVS programs and schema are.
#[derive(Debug, Clone)]
pub struct OvsInstall {
    bins: [PathBuf; 6],
    schema: PathBuf,
}

impl OvsInstall {
    /// Finds OVS as the module doc says.
    pub fn locate() -> Result<OvsInstall, HarnessError> {
        let dirs: Vec<PathBuf> = match std::env::var_os("XSC_OVS_BINDIR") {
            Some(dir) => vec![PathBuf::from(dir)],
            None => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .chain(EXTRA_BIN_DIRS.iter().map(PathBuf::from))
                .collect(),
        };
        let schemas: Vec<PathBuf> = match std::env::var_os("XSC_OVS_SCHEMA") {
            Some(path) => vec![PathBuf::from(path)],
            None => SCHEMA_PATHS.iter().map(PathBuf::from).collect(),
        };
        Self::locate_in(&dirs, &schemas)
    }

    /// Finds the programs in `dirs` (first hit wins) and the first existing
    /// schema of `schemas`.
    pub fn locate_in(dirs: &[PathBuf], schemas: &[PathBuf]) -> Result<OvsInstall, HarnessError> {
        let find = |name: &str| {
            dirs.iter()
                .map(|d| d.join(name))
                .find(|p| is_executable(p))
                .ok_or_else(|| HarnessError::NotInstalled {
                    what: name.to_owned(),
                    searched: dirs.to_vec(),
                })
        };
        let bins = [
            find(PROGRAMS[0])?,
            find(PROGRAMS[1])?,
            find(PROGRAMS[2])?,
            find(PROGRAMS[3])?,
            find(PROGRAMS[4])?,
            find(PROGRAMS[5])?,
        ];
        let schema = schemas
            .iter()
            .find(|p| p.is_file())
            .cloned()
            .ok_or_else(|| HarnessError::NotInstalled {
                what: "vswitch.ovsschema".to_owned(),
                searched: schemas.to_vec(),
            })?;
        Ok(OvsInstall { bins, schema })
    }

    fn bin(&self, name: &str) -> &Path {
        let i = PROGRAMS
            .iter()
            .position(|p| *p == name)
            .expect("one of PROGRAMS");
        &self.bins[i]
    }

    /// `ovs-vswitchd --version`, first line (e.g. `ovs-vswitchd (Open
    /// vSwitch) 3.1.0`).
    pub fn version(&self) -> Result<String, HarnessError> {
        let out = run(
            Command::new(self.bin("ovs-vswitchd")).arg("--version"),
            None,
        )?;
        Ok(out.lines().next().unwrap_or_default().to_owned())
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// What a test should do when OVS is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissingOvs {
    /// Print this banner to stderr and return (local runs).
    Skip(String),
    /// Fail with this message (CI must run the real-OVS tests).
    Fail(String),
}

/// Decides skip or fail for a test that could not find OVS. `ci` is the
/// value of the `CI` environment variable: set to anything but ``, `0` or
/// `false`, a missing OVS is a failure.
pub fn on_missing_ovs(test: &str, err: &HarnessError, ci: Option<&OsStr>) -> MissingOvs {
    let in_ci = ci.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"));
    if in_ci {
        MissingOvs::Fail(format!(
            "{test}: {err}. CI is set, so the real-OVS tests must run: install openvswitch-switch \
             (scripts/setup), and for the provider's tests build the patched OVS (scripts/build-ovs)"
        ))
    } else {
        let bar = "=".repeat(78);
        MissingOvs::Skip(format!(
            "{bar}\nSKIPPED {test}: {err}.\nTo run it: Debian's openvswitch-switch (scripts/setup) for the OVS \
             oracle tests, scripts/build-ovs for the provider's (target/ovs), or XSC_OVS_BINDIR.\n{bar}"
        ))
    }
}

/// A dummy port's pcap files.
#[derive(Debug, Clone)]
struct PortPcaps {
    name: String,
    tx: PathBuf,
    rx: PathBuf,
}

/// A running private OVS. See the module doc.
#[derive(Debug)]
pub struct OvsSandbox {
    install: OvsInstall,
    dir: PathBuf,
    ovsdb_server: Option<Child>,
    ovs_vswitchd: Option<Child>,
    ports: Vec<PortPcaps>,
}

static SANDBOX_COUNTER: AtomicU32 = AtomicU32::new(0);

impl OvsSandbox {
    /// Starts a sandbox with the OVS found by [`OvsInstall::locate`].
    pub fn start() -> Result<OvsSandbox, HarnessError> {
        Self::start_with(OvsInstall::locate()?)
    }

    /// [`start`](Self::start), or `None` after printing a skip banner when
    /// OVS is not installed; panics when `CI` is set and OVS is missing, or
    /// on any other error.
    pub fn start_or_skip(test: &str) -> Option<OvsSandbox> {
        // Straight to fd 2, not `eprintln!`: libtest captures the latter
        // for passing tests, and a skip must be seen.
        Self::start_or_skip_with(
            test,
            OvsInstall::locate(),
            std::env::var_os("CI").as_deref(),
            &mut io::stderr(),
        )
    }

    /// [`start_or_skip`](Self::start_or_skip) with the install lookup, the
    /// `CI` value and where the skip banner goes given, so the policy itself
    /// can be tested.
    pub fn start_or_skip_with(
        test: &str,
        install: Result<OvsInstall, HarnessError>,
        ci: Option<&OsStr>,
        banner_out: &mut dyn io::Write,
    ) -> Option<OvsSandbox> {
        match install.and_then(Self::start_with) {
            Ok(sandbox) => Some(sandbox),
            Err(err @ HarnessError::NotInstalled { .. }) => match on_missing_ovs(test, &err, ci) {
                MissingOvs::Skip(banner) => {
                    let _ = banner_out.write_all(format!("{banner}\n").as_bytes());
                    None
                }
                MissingOvs::Fail(msg) => panic!("{msg}"),
            },
            Err(err) => panic!("{test}: cannot start the OVS sandbox: {err}"),
        }
    }

    /// Starts `ovsdb-server` and `ovs-vswitchd` from `install` in a new temp
    /// dir and waits until both answer.
    pub fn start_with(install: OvsInstall) -> Result<OvsSandbox, HarnessError> {
        let n = SANDBOX_COUNTER.fetch_add(1, Ordering::Relaxed);
        // Short: unix socket paths are limited to 108 bytes.
        let dir = std::env::temp_dir().join(format!("xsc-ovs-{}-{n}", std::process::id()));
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(HarnessError::io(&dir, e)),
        }
        fs::create_dir_all(&dir).map_err(|e| HarnessError::io(&dir, e))?;
        // From here on, Drop cleans up whatever was started.
        let mut sandbox = OvsSandbox {
            install,
            dir,
            ovsdb_server: None,
            ovs_vswitchd: None,
            ports: Vec::new(),
        };
        sandbox.boot()?;
        Ok(sandbox)
    }

    fn boot(&mut self) -> Result<(), HarnessError> {
        let db = self.path("conf.db");
        let mut create = self.command("ovsdb-tool");
        create.arg("create").arg(&db).arg(&self.install.schema);
        run(&mut create, None)?;

        let mut server = self.command("ovsdb-server");
        server
            .arg(&db)
            .arg(format!("--remote=punix:{}", self.path("db.sock").display()))
            .arg(format!(
                "--pidfile={}",
                self.path("ovsdb-server.pid").display()
            ))
            .arg(format!(
                "--unixctl={}",
                self.path("ovsdb-server.ctl").display()
            ))
            .arg(format!(
                "--log-file={}",
                self.path("ovsdb-server.log").display()
            ))
            .arg("-vconsole:off");
        self.ovsdb_server = Some(self.spawn_daemon(server, "ovsdb-server")?);
        self.wait_ready("ovsdb-server", "ovsdb-server.log", |s| {
            s.path("db.sock").exists() && s.vsctl_raw(&["--no-wait", "show"]).is_ok()
        })?;

        // Stable dumps: flows idle for less than 10 minutes stay; one
        // handler and one revalidator keep the footprint small.
        self.vsctl_raw(&[
            "--no-wait",
            "--",
            "init",
            "--",
            "set",
            "Open_vSwitch",
            ".",
            "other_config:max-idle=600000",
            "other_config:n-handler-threads=1",
            "other_config:n-revalidator-threads=1",
        ])?;

        let mut vswitchd = self.command("ovs-vswitchd");
        vswitchd
            .arg(format!("unix:{}", self.path("db.sock").display()))
            .arg("--enable-dummy=override")
            .arg("--disable-system")
            .arg(format!(
                "--pidfile={}",
                self.path("ovs-vswitchd.pid").display()
            ))
            .arg(format!(
                "--unixctl={}",
                self.path("ovs-vswitchd.ctl").display()
            ))
            .arg(format!(
                "--log-file={}",
                self.path("ovs-vswitchd.log").display()
            ))
            .arg("-vconsole:off");
        self.ovs_vswitchd = Some(self.spawn_daemon(vswitchd, "ovs-vswitchd")?);
        self.wait_ready("ovs-vswitchd", "ovs-vswitchd.log", |s| {
            s.path("ovs-vswitchd.ctl").exists() && s.appctl(&["version"]).is_ok()
        })?;
        // ovs-vsctl (without --no-wait) now returns once vswitchd applied
        // each change.
        Ok(())
    }

    /// The sandbox's directory (database, sockets, logs, pcaps).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path inside the sandbox's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The pids of the daemons this sandbox started: `[ovsdb-server,
    /// ovs-vswitchd]`.
    pub fn pids(&self) -> Vec<u32> {
        [&self.ovsdb_server, &self.ovs_vswitchd]
            .into_iter()
            .flatten()
            .map(Child::id)
            .collect()
    }

    /// `ovs-vsctl ARGS` against this sandbox's database, waiting for
    /// `ovs-vswitchd` to apply the change. Returns stdout.
    pub fn vsctl(&self, args: &[&str]) -> Result<String, HarnessError> {
        self.vsctl_raw(args)
    }

    fn vsctl_raw(&self, args: &[&str]) -> Result<String, HarnessError> {
        let mut cmd = self.command("ovs-vsctl");
        cmd.arg(format!("--db=unix:{}", self.path("db.sock").display()))
            .arg(format!("--timeout={COMMAND_TIMEOUT_S}"))
            .args(args);
        run(&mut cmd, None)
    }

    /// `ovs-ofctl ARGS`. A bridge is named by its management socket,
    /// [`mgmt`](Self::mgmt). Returns stdout.
    pub fn ofctl(&self, args: &[&str]) -> Result<String, HarnessError> {
        self.ofctl_stdin(args, None)
    }

    fn ofctl_stdin(&self, args: &[&str], stdin: Option<&str>) -> Result<String, HarnessError> {
        let mut cmd = self.command("ovs-ofctl");
        cmd.arg(format!("--timeout={COMMAND_TIMEOUT_S}")).args(args);
        run(&mut cmd, stdin)
    }

    /// The OpenFlow target of `bridge` for `ovs-ofctl`: `unix:DIR/BR.mgmt`.
    pub fn mgmt(&self, bridge: &str) -> String {
        format!("unix:{}", self.path(&format!("{bridge}.mgmt")).display())
    }

    /// `ovs-appctl ARGS` sent to this sandbox's `ovs-vswitchd`. Returns
    /// stdout.
    pub fn appctl(&self, args: &[&str]) -> Result<String, HarnessError> {
        let mut cmd = self.command("ovs-appctl");
        cmd.arg(format!(
            "--target={}",
            self.path("ovs-vswitchd.ctl").display()
        ))
        .arg(format!("--timeout={COMMAND_TIMEOUT_S}"))
        .args(args);
        run(&mut cmd, None)
    }

    /// Adds bridge `name` on the userspace datapath (`datapath_type=dummy`),
    /// `fail-mode=secure` (no flows until the test adds them: no NORMAL
    /// learning switch behind its back), OpenFlow 1.0 and 1.3 enabled.
    pub fn add_bridge(&self, name: &str) -> Result<(), HarnessError> {
        self.vsctl(&[
            "--",
            "add-br",
            name,
            "--",
            "set",
            "Bridge",
            name,
            "datapath_type=dummy",
            "fail-mode=secure",
            "protocols=OpenFlow10,OpenFlow13",
        ])
        .map(drop)
    }

    /// Adds a `type=dummy` port `name` with OpenFlow port number `ofport`.
    /// What OVS transmits on it goes to `DIR/NAME-tx.pcap`
    /// ([`sent_packets`](Self::sent_packets)), what it receives to
    /// `DIR/NAME-rx.pcap` ([`received_packets`](Self::received_packets)).
    pub fn add_port(&mut self, bridge: &str, name: &str, ofport: u16) -> Result<(), HarnessError> {
        if self.ports.iter().any(|p| p.name == name) {
            return Err(HarnessError::Usage(format!(
                "port {name} was already added"
            )));
        }
        let tx = self.path(&format!("{name}-tx.pcap"));
        let rx = self.path(&format!("{name}-rx.pcap"));
        let ofport_request = format!("ofport_request={ofport}");
        let tx_opt = format!("options:tx_pcap={}", tx.display());
        let rx_opt = format!("options:rxq_pcap={}", rx.display());
        self.vsctl(&[
            "--",
            "add-port",
            bridge,
            name,
            "--",
            "set",
            "Interface",
            name,
            "type=dummy",
            &ofport_request,
            &tx_opt,
            &rx_opt,
        ])?;
        self.ports.push(PortPcaps {
            name: name.to_owned(),
            tx,
            rx,
        });
        Ok(())
    }

    /// Adds the flows in `text` (one per line, `#` comments allowed) with
    /// `ovs-ofctl -O OpenFlow13 add-flows BR -`.
    pub fn add_flows(&self, bridge: &str, text: &str) -> Result<(), HarnessError> {
        let target = self.mgmt(bridge);
        self.ofctl_stdin(&["-O", "OpenFlow13", "add-flows", &target, "-"], Some(text))
            .map(drop)
    }

    /// Queues `packet` (a frame's bytes) on dummy port `port`'s receive queue
    /// with `netdev-dummy/receive`. OVS processes it in its main loop before
    /// it answers the next command, so a following dump sees its effects.
    pub fn receive(&self, port: &str, packet: &[u8]) -> Result<(), HarnessError> {
        self.receive_text(port, &super::packet::to_hex(packet))
    }

    /// `netdev-dummy/receive PORT TEXT`: TEXT is either hex bytes or an ODP
    /// flow (`in_port(1),eth(...),...`) OVS composes a packet from.
    pub fn receive_text(&self, port: &str, text: &str) -> Result<(), HarnessError> {
        self.appctl(&["netdev-dummy/receive", port, text]).map(drop)
    }

    /// `dpctl/dump-flows` (`verbose`: `-m`, with ufids and all masks),
    /// exactly as OVS prints it, including its `flow-dump from …` header.
    pub fn dump_flows(&self, verbose: bool) -> Result<String, HarnessError> {
        if verbose {
            self.appctl(&["dpctl/dump-flows", "-m"])
        } else {
            self.appctl(&["dpctl/dump-flows"])
        }
    }

    /// `dpctl/dump-conntrack`, exactly as OVS prints it.
    pub fn dump_conntrack(&self) -> Result<String, HarnessError> {
        self.appctl(&["dpctl/dump-conntrack"])
    }

    /// `dpctl/del-flows` then `dpctl/flush-conntrack`: forget megaflows and
    /// connections, keep the OpenFlow tables.
    pub fn flush_datapath(&self) -> Result<(), HarnessError> {
        self.appctl(&["dpctl/del-flows"])?;
        self.appctl(&["dpctl/flush-conntrack"]).map(drop)
    }

    /// `revalidator/wait`: returns after a full revalidation round.
    pub fn wait(&self) -> Result<(), HarnessError> {
        self.appctl(&["revalidator/wait"]).map(drop)
    }

    /// `revalidator/purge`: deletes every megaflow.
    pub fn revalidate_purge(&self) -> Result<(), HarnessError> {
        self.appctl(&["revalidator/purge"]).map(drop)
    }

    /// `time/stop`: freezes OVS's clock, so `used:` ages and conntrack
    /// timeouts only move with [`warp`](Self::warp).
    pub fn stop_time(&self) -> Result<(), HarnessError> {
        self.appctl(&["time/stop"]).map(drop)
    }

    /// `time/warp MS`: advances the (stopped) clock by `ms` milliseconds.
    pub fn warp(&self, ms: u64) -> Result<(), HarnessError> {
        self.appctl(&["time/warp", &ms.to_string()]).map(drop)
    }

    /// The frames OVS transmitted on `port` so far, oldest first.
    pub fn sent_packets(&self, port: &str) -> Result<Vec<Vec<u8>>, HarnessError> {
        read_pcap(&self.port(port)?.tx)
    }

    /// The frames `port` received so far (what [`receive`](Self::receive)
    /// queued), oldest first.
    pub fn received_packets(&self, port: &str) -> Result<Vec<Vec<u8>>, HarnessError> {
        read_pcap(&self.port(port)?.rx)
    }

    /// The path of `port`'s tx pcap file.
    pub fn tx_pcap_path(&self, port: &str) -> Result<PathBuf, HarnessError> {
        Ok(self.port(port)?.tx.clone())
    }

    fn port(&self, name: &str) -> Result<&PortPcaps, HarnessError> {
        self.ports.iter().find(|p| p.name == name).ok_or_else(|| {
            HarnessError::Usage(format!("no dummy port {name} was added with add_port"))
        })
    }

    /// The last `max_lines` lines of the `ovs-vswitchd` log.
    pub fn vswitchd_log_tail(&self, max_lines: usize) -> String {
        log_tail(&self.path("ovs-vswitchd.log"), max_lines)
    }

    /// A command for OVS program `name` with the sandbox's environment.
    fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.install.bin(name));
        for var in ["OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"] {
            cmd.env(var, &self.dir);
        }
        // Keep a caller's settings from pointing a tool elsewhere.
        cmd.env_remove("OVS_DB").env_remove("OVS_CTL_TIMEOUT");
        cmd
    }

    fn spawn_daemon(&self, mut cmd: Command, daemon: &'static str) -> Result<Child, HarnessError> {
        let out_path = self.path(&format!("{daemon}.out"));
        let out = fs::File::create(&out_path).map_err(|e| HarnessError::io(&out_path, e))?;
        let err = out
            .try_clone()
            .map_err(|e| HarnessError::io(&out_path, e))?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        // Safety: the closure runs in the forked child before exec and only
        // calls prctl(2), which is async-signal-safe; it touches no memory
        // of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let program = PathBuf::from(cmd.get_program());
        cmd.spawn()
            .map_err(|source| HarnessError::Spawn { program, source })
    }

    fn daemon(&mut self, daemon: &str) -> Option<&mut Child> {
        match daemon {
            "ovsdb-server" => self.ovsdb_server.as_mut(),
            "ovs-vswitchd" => self.ovs_vswitchd.as_mut(),
            _ => None,
        }
    }

    /// Polls `ready` until it holds, the daemon exits, or
    /// [`READY_TIMEOUT`] passes.
    fn wait_ready(
        &mut self,
        daemon: &'static str,
        log: &str,
        ready: impl Fn(&OvsSandbox) -> bool,
    ) -> Result<(), HarnessError> {
        let start = Instant::now();
        loop {
            if let Some(child) = self.daemon(daemon) {
                if let Ok(Some(status)) = child.try_wait() {
                    let log_tail = log_tail(&self.path(log), 20)
                        + &log_tail(&self.path(&format!("{daemon}.out")), 20);
                    return Err(HarnessError::DaemonExited {
                        daemon,
                        status,
                        log_tail,
                    });
                }
            }
            if ready(self) {
                return Ok(());
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(HarnessError::Timeout {
                    what: format!("{daemon} answering on its socket"),
                    waited: READY_TIMEOUT,
                    log_tail: log_tail(&self.path(log), 20),
                });
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for OvsSandbox {
    fn drop(&mut self) {
        // vswitchd first: it is a client of the database.
        for child in [self.ovs_vswitchd.take(), self.ovsdb_server.take()]
            .into_iter()
            .flatten()
        {
            stop_child(child);
        }
        if std::env::var_os("XSC_OVS_KEEP").is_some() {
            eprintln!("XSC_OVS_KEEP is set: leaving {}", self.dir.display());
        } else if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!(
                "warning: cannot remove OVS sandbox {}: {e}",
                self.dir.display()
            );
        }
    }
}

/// SIGTERM, wait up to [`EXIT_GRACE`], then SIGKILL; always reaps.
fn stop_child(mut child: Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = libc::pid_t::try_from(child.id()).expect("pids fit in pid_t");
    // Safety: `pid` is our own child, not yet reaped (try_wait said it is
    // running), so the pid cannot have been reused by another process.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + EXIT_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(POLL);
    }
    // Child::kill sends SIGKILL; wait reaps.
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `cmd` to completion (the OVS tools bound themselves with
/// `--timeout`), feeding `stdin`; stdout on success.
fn run(cmd: &mut Command, stdin: Option<&str>) -> Result<String, HarnessError> {
    let described = describe(cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let program = PathBuf::from(cmd.get_program());
    let mut child = cmd.spawn().map_err(|source| HarnessError::Spawn {
        program: program.clone(),
        source,
    })?;
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin was piped");
        // A tool that exits early closes the pipe; its stderr says why.
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|source| HarnessError::Spawn { program, source })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(HarnessError::Command {
            command: described,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

fn describe(cmd: &Command) -> String {
    let name = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or(cmd.get_program())
        .to_string_lossy()
        .into_owned();
    let args: Vec<OsString> = cmd.get_args().map(OsStr::to_owned).collect();
    let mut s = name;
    for a in args {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn read_pcap(path: &Path) -> Result<Vec<Vec<u8>>, HarnessError> {
    let bytes = fs::read(path).map_err(|e| HarnessError::io(path, e))?;
    pcap::parse_packets(&bytes).map_err(|source| HarnessError::Pcap {
        path: path.to_owned(),
        source,
    })
}

fn log_tail(path: &Path, max_lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let mut tail = lines[lines.len().saturating_sub(max_lines)..].join("\n");
            tail.push('\n');
            tail
        }
        Err(e) => format!("({}: {e})\n", path.display()),
    }
}
