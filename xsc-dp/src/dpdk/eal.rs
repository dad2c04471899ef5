//! The Environment Abstraction Layer: one `rte_eal_init` per process.

use std::ffi::{c_char, c_int, CString};
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::error::{last_errno, DpdkError};
use super::LIVE;
use crate::ffi;

const NEVER: u8 = 0;
const RUNNING: u8 = 1;
const USED: u8 = 2;

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
    /// [`DpdkError::EalAlreadyInitialized`].
    ///
    /// `rte_eal_init` pins the calling thread to the main lcore's CPU set.
    pub fn init<S: AsRef<str>>(args: &[S]) -> Result<Self, DpdkError> {
        let mut args_c = Vec::with_capacity(args.len());
        for a in args {
            let a = a.as_ref();
            args_c.push(CString::new(a).map_err(|_| DpdkError::InvalidArgument {
                what: format!("EAL argument {a:?} contains a NUL byte"),
            })?);
        }
        if args_c.is_empty() {
            return Err(DpdkError::InvalidArgument {
                what: "EAL needs at least argv[0]".into(),
            });
        }
        if STATE
            .compare_exchange(NEVER, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(DpdkError::EalAlreadyInitialized);
        }
        let mut argv: Vec<*mut c_char> = args_c.iter().map(|a| a.as_ptr() as *mut c_char).collect();
        argv.push(std::ptr::null_mut());
        let argc = c_int::try_from(args_c.len()).map_err(|_| DpdkError::InvalidArgument {
            what: "too many EAL arguments".into(),
        })?;
        // Safety: argv holds argc valid NUL-terminated strings followed by
        // NULL, kept alive in EalInner for the whole life of EAL. STATE
        // guarantees this is the only call in the process.
        let rc = unsafe { ffi::rte_eal_init(argc, argv.as_mut_ptr()) };
        if rc < 0 {
            STATE.store(USED, Ordering::Release);
            return Err(DpdkError::EalInit {
                errno: last_errno(),
            });
        }
        LIVE.eal.fetch_add(1, Ordering::Relaxed);
        Ok(Self {
            inner: Arc::new(EalInner {
                _args: args_c,
                _argv: argv,
            }),
        })
    }

    /// Whether `rte_eal_init` has been called in this process.
    pub fn was_initialized() -> bool {
        STATE.load(Ordering::Acquire) != NEVER
    }

    /// Probes a device by its devargs string (`net_ring0`, `net_tap0,iface=x`)
    /// after start-up, as `--vdev` would have at init. Wraps `rte_dev_probe`.
    /// The ports it creates are found with [`super::Port::by_name`].
    pub fn probe(&self, devargs: &str) -> Result<(), DpdkError> {
        let c = CString::new(devargs).map_err(|_| DpdkError::InvalidArgument {
            what: format!("devargs {devargs:?} contain a NUL byte"),
        })?;
        // Safety: c is a valid C string for the duration of the call.
        let rc = unsafe { ffi::rte_dev_probe(c.as_ptr()) };
        if rc < 0 {
            return Err(DpdkError::call("rte_dev_probe", None, rc));
        }
        Ok(())
    }
}

impl Drop for EalInner {
    fn drop(&mut self) {
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
            .field("args", &self.inner._args)
            .finish()
    }
}
