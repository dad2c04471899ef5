//! The Environment Abstraction Layer: one `rte_eal_init` per process.

use std::ffi::{c_char, c_int, CString};
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::error::last_errno;
use super::LIVE;
use crate::device::DeviceError;
use crate::ffi;

const NEVER: u8 = 0;
const RUNNING: u8 = 1;
const USED: u8 = 2;
/// EAL was initialised by someone else in the process (OVS-DPDK) and
/// [`Eal::attach`] found it: this crate never initialises nor cleans it up.
const EXTERNAL: u8 = 3;

/// Whether this process has called `rte_eal_init`. DPDK refuses a second
/// call even after `rte_eal_cleanup`, so the state only moves forward.
static STATE: AtomicU8 = AtomicU8::new(NEVER);

/// The arguments for a hugepage-free EAL with no PCI scan and no shared
/// config file, as tests and software-only tools use it. Add `--vdev=...`
/// for the ports wanted.
pub const NO_HUGE_ARGS: &[&str] = &[
    "xsc",
    "-l",
    "0",
    "--no-huge",
    "-m",
    "128",
    "--no-shconf",
    "--no-pci",
    "--no-telemetry",
    "--log-level=*:error",
];

/// An initialised EAL. Cloning shares it; `rte_eal_cleanup` runs when the
/// last clone, and every port, mempool and flow made through it, is gone.
///
/// Wraps `rte_eal_init`/`rte_eal_cleanup`. `Send + Sync`: EAL's control
/// functions may be called from any thread once initialised.
#[derive(Clone)]
pub struct Eal {
    inner: Arc<EalInner>,
}

struct EalInner {
    /// Whether this crate called `rte_eal_init` (and so calls
    /// `rte_eal_cleanup` at the end); false for [`Eal::attach`].
    owned: bool,
    /// The argument strings handed to `rte_eal_init`, kept alive until
    /// cleanup because EAL may keep pointers into them.
    _args: Vec<CString>,
    _argv: Vec<*mut c_char>,
}

// Safety: EalInner only owns the argument buffers; EAL itself is
// process-global and thread-safe for the calls this crate makes.
unsafe impl Send for EalInner {}
// Safety: as above; nothing in EalInner is mutated after construction.
unsafe impl Sync for EalInner {}

impl Eal {
    /// Calls `rte_eal_init` with `args` (the first is the program name, as in
    /// `argv[0]`). Exactly once per process: any later call, whether the first
    /// succeeded, failed or was cleaned up, returns
    /// [`DeviceError::EalAlreadyInitialized`].
    ///
    /// `rte_eal_init` pins the calling thread to the main lcore's CPU set.
    pub fn init<S: AsRef<str>>(args: &[S]) -> Result<Self, DeviceError> {
        let mut args_c = Vec::with_capacity(args.len());
        for a in args {
            let a = a.as_ref();
            args_c.push(CString::new(a).map_err(|_| DeviceError::InvalidArgument {
                what: format!("EAL argument {a:?} contains a NUL byte"),
            })?);
        }
        if args_c.is_empty() {
            return Err(DeviceError::InvalidArgument {
                what: "EAL needs at least argv[0]".into(),
            });
        }
        if STATE
            .compare_exchange(NEVER, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(DeviceError::EalAlreadyInitialized);
        }
        let mut argv: Vec<*mut c_char> = args_c.iter().map(|a| a.as_ptr() as *mut c_char).collect();
        argv.push(std::ptr::null_mut());
        let argc = c_int::try_from(args_c.len()).map_err(|_| DeviceError::InvalidArgument {
            what: "too many EAL arguments".into(),
        })?;
        // Safety: argv holds argc valid NUL-terminated strings followed by
        // NULL, kept alive in EalInner for the whole life of EAL. STATE
        // guarantees this is the only call in the process.
        let rc = unsafe { ffi::rte_eal_init(argc, argv.as_mut_ptr()) };
        if rc < 0 {
            STATE.store(USED, Ordering::Release);
            return Err(DeviceError::EalInit {
                errno: last_errno(),
            });
        }
        LIVE.eal.fetch_add(1, Ordering::Relaxed);
        Ok(Self {
            inner: Arc::new(EalInner {
                owned: true,
                _args: args_c,
                _argv: argv,
            }),
        })
    }

    /// The EAL the host process initialised, for a library loaded into a
    /// program that owns DPDK (an OVS-DPDK offload provider): no
    /// `rte_eal_init`, and no `rte_eal_cleanup` when the last handle goes.
    /// Ports taken through it should be [`Port::attach`](super::Port::attach)ed,
    /// so that they are not closed either.
    ///
    /// Fails with [`DeviceError::EalNotAttachable`] when EAL is not running
    /// (`rte_lcore_count()` is 0 until `rte_eal_init` succeeds), or when
    /// this crate initialised it through [`Eal::init`] (use that handle: an
    /// attached one would not keep it alive). After an attach,
    /// [`Eal::init`] fails with [`DeviceError::EalAlreadyInitialized`].
    pub fn attach() -> Result<Self, DeviceError> {
        let state = STATE.load(Ordering::Acquire);
        if state == RUNNING || state == USED {
            return Err(DeviceError::EalNotAttachable {
                why: "this process initialised EAL through Eal::init: use that Eal",
            });
        }
        // Safety: reads a counter in EAL's static configuration; valid
        // before and after rte_eal_init.
        if unsafe { ffi::rte_lcore_count() } == 0 {
            return Err(DeviceError::EalNotAttachable {
                why: "rte_eal_init has not been called in this process (the host must initialise DPDK first)",
            });
        }
        // NEVER → EXTERNAL; a concurrent attach may have done it already.
        let _ = STATE.compare_exchange(NEVER, EXTERNAL, Ordering::AcqRel, Ordering::Acquire);
        if STATE.load(Ordering::Acquire) != EXTERNAL {
            return Err(DeviceError::EalNotAttachable {
                why: "this process initialised EAL through Eal::init: use that Eal",
            });
        }
        Ok(Self {
            inner: Arc::new(EalInner {
                owned: false,
                _args: Vec::new(),
                _argv: Vec::new(),
            }),
        })
    }

    /// Whether this handle came from [`Eal::attach`] (EAL belongs to the
    /// host process).
    pub fn is_attached(&self) -> bool {
        !self.inner.owned
    }

    /// Whether `rte_eal_init` has been called in this process.
    pub fn was_initialized() -> bool {
        STATE.load(Ordering::Acquire) != NEVER
    }

    /// The network PMDs this process's DPDK has registered — built in, or
    /// loaded at start-up from DPDK's plugin directory or with `-d` — by the
    /// name of their log type (`pmd.net.<name>[.<part>]`), sorted: e.g.
    /// `["af_packet", "null", "ring", "tap", "xsc"]`. A shared DPDK (as
    /// Debian ships it) loads every PMD of its plugin directory; DPDK 25.03
    /// and newer with the metaScale PMD installed list `xsc`.
    pub fn net_pmds(&self) -> Result<Vec<String>, DeviceError> {
        let mut buf: *mut libc::c_char = std::ptr::null_mut();
        let mut len: libc::size_t = 0;
        // Safety: open_memstream keeps the two out-pointers, which live
        // until fclose below.
        let stream = unsafe { libc::open_memstream(&mut buf, &mut len) };
        if stream.is_null() {
            return Err(DeviceError::call("open_memstream", None, -last_os_errno()));
        }
        // Safety: a valid, open stream (DPDK's FILE is libc's) and an empty
        // NUL-terminated line prefix.
        unsafe { ffi::rte_log_list_types(stream.cast(), c"".as_ptr()) };
        // Safety: the stream is open; closing it publishes buf and len.
        let rc = unsafe { libc::fclose(stream) };
        let close_errno = if rc != 0 { last_os_errno() } else { 0 };
        let text = if buf.is_null() {
            String::new()
        } else {
            // Safety: after fclose, buf holds len bytes malloc'd by libc,
            // which we own and free once copied.
            let bytes = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) };
            let text = String::from_utf8_lossy(bytes).into_owned();
            // Safety: buf came from open_memstream's malloc and is not used again.
            unsafe { libc::free(buf.cast()) };
            text
        };
        if rc != 0 {
            return Err(DeviceError::call("fclose", None, -close_errno));
        }
        let mut pmds: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pmd.net."))
            .filter_map(|rest| rest.split('.').next())
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect();
        pmds.sort();
        pmds.dedup();
        Ok(pmds)
    }

    /// Probes a device by its devargs string (`net_ring0`, `net_tap0,iface=x`)
    /// after start-up, as `--vdev` would have at init. Wraps `rte_dev_probe`.
    /// The ports it creates are found with [`super::Port::by_name`].
    pub fn probe(&self, devargs: &str) -> Result<(), DeviceError> {
        let c = CString::new(devargs).map_err(|_| DeviceError::InvalidArgument {
            what: format!("devargs {devargs:?} contain a NUL byte"),
        })?;
        // Safety: c is a valid C string for the duration of the call.
        let rc = unsafe { ffi::rte_dev_probe(c.as_ptr()) };
        if rc < 0 {
            return Err(DeviceError::call("rte_dev_probe", None, rc));
        }
        Ok(())
    }
}

impl Drop for EalInner {
    fn drop(&mut self) {
        if !self.owned {
            // EAL belongs to the host process.
            return;
        }
        // Safety: every port, mempool and flow holds an Eal clone, so none is
        // left when the last EalInner goes; no DPDK call follows.
        unsafe { ffi::rte_eal_cleanup() };
        LIVE.eal.fetch_sub(1, Ordering::Relaxed);
        STATE.store(USED, Ordering::Release);
    }
}

impl fmt::Debug for Eal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Eal")
            .field("attached", &!self.inner.owned)
            .field("args", &self.inner._args)
            .finish()
    }
}

/// This thread's errno, positive.
fn last_os_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}
