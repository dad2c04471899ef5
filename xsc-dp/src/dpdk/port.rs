//! Ethdev ports: info, queues, start/stop, packets.

use std::ffi::{CStr, CString};
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::mbuf::{Mbuf, Mempool};
use super::{Eal, LIVE};
use crate::device::DeviceError;
use crate::ffi;

/// Ports owned by a live [`Port`] value, so that one DPDK port is never
/// closed twice.
static OWNED: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// One ethdev port, owned: when the `Port` and every flow, template and
/// table made on it are gone, the port is stopped and closed
/// (`rte_eth_dev_stop`, `rte_eth_dev_close`), and a device this crate
/// hot-plugged is removed (`rte_dev_remove`).
///
/// Control operations (configure, start, stop, rx/tx) take `&mut self`:
/// DPDK's ethdev control and per-queue data functions are not thread-safe.
/// rte_flow operations take `&self`: ethdev serialises them per port unless
/// the driver declares them thread-safe.
pub struct Port {
    pub(crate) shared: Arc<PortShared>,
    started: bool,
    configured: bool,
}

/// What flows and templates keep alive: the port id, the EAL, and the lock
/// that orders handle destruction against `rte_flow_flush`.
pub(crate) struct PortShared {
    pub(crate) id: u16,
    /// Destroying a flow takes it shared; `flush` takes it exclusively and
    /// bumps the generation, so a handle made before a flush never destroys
    /// (freed) memory again.
    pub(crate) flow_generation: RwLock<u64>,
    pool: Mutex<Option<Mempool>>,
    /// Set for ports this crate probed with `Port::probe`: the device to
    /// remove after close.
    hotplugged: bool,
    /// Set for [`Port::attach`]: the host process owns the port, which is
    /// never stopped or closed here.
    attached: bool,
    /// Rings behind a [`Port::ring_pair`], freed after both ports closed.
    _rings: Option<Arc<RingLink>>,
    _eal: Eal,
}

/// The two rte_rings wiring a pair of ring ports to each other.
struct RingLink {
    rings: [NonNull<ffi::rte_ring>; 2],
}

// Safety: the rings are only freed, once, after both ports are closed.
unsafe impl Send for RingLink {}
// Safety: as above.
unsafe impl Sync for RingLink {}

impl Drop for RingLink {
    fn drop(&mut self) {
        for r in self.rings {
            // Safety: both ports using the ring are closed (each held this Arc).
            unsafe { ffi::rte_ring_free(r.as_ptr()) };
        }
    }
}

/// Who set the port up, and so what its `Drop` undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ownership {
    /// EAL created it (`--vdev`, PCI probe): stop and close.
    Owned,
    /// This crate probed it: stop, close and remove the device.
    Hotplugged,
    /// The host process owns it ([`Port::attach`]): leave it alone.
    Host,
}

/// What `rte_eth_dev_info_get` says about a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// The port id.
    pub id: u16,
    /// The ethdev name (`net_ring0`, `0000:b3:00.0`, ...).
    pub name: String,
    /// The PMD (`net_null`, `net_ring`, `net_tap`, `mlx5_pci`, ...).
    pub driver: String,
    /// Maximum rx queues.
    pub max_rx_queues: u16,
    /// Maximum tx queues.
    pub max_tx_queues: u16,
    /// `RTE_ETH_RX_OFFLOAD_*` bits.
    pub rx_offload_capa: u64,
    /// `RTE_ETH_TX_OFFLOAD_*` bits.
    pub tx_offload_capa: u64,
    /// `RTE_ETH_DEV_CAPA_*` bits.
    pub dev_capa: u64,
    /// `RTE_ETH_DEV_*` flags (`*dev_flags`), e.g. whether the port is a
    /// representor or its flow ops are thread-safe.
    pub dev_flags: u32,
    /// The E-Switch domain and the port's id in it, for switchdev ports.
    pub switch_domain: Option<SwitchInfo>,
}

/// `struct rte_eth_switch_info`: where a port sits in an E-Switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchInfo {
    /// The switch device's name.
    pub name: String,
    /// The domain id shared by a PF and its representors.
    pub domain_id: u16,
    /// The port's id in the domain.
    pub port_id: u16,
}

impl PortInfo {
    /// Whether the port is a representor of a VF or SF
    /// (`RTE_ETH_DEV_REPRESENTOR`).
    pub fn is_representor(&self) -> bool {
        self.dev_flags & ffi::XSC_ETH_DEV_REPRESENTOR != 0
    }

    /// Whether the driver runs rte_flow calls from several threads at once
    /// without ethdev's per-port lock (`RTE_ETH_DEV_FLOW_OPS_THREAD_SAFE`).
    pub fn flow_ops_thread_safe(&self) -> bool {
        self.dev_flags & ffi::XSC_ETH_DEV_FLOW_OPS_THREAD_SAFE != 0
    }
}

/// Queue set-up for [`Port::configure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// Receive queues.
    pub rx_queues: u16,
    /// Transmit queues.
    pub tx_queues: u16,
    /// Descriptors per queue.
    pub descriptors: u16,
    /// Mbufs in the pool the rx queues fill from.
    pub mbufs: u32,
}

impl Default for PortConfig {
    fn default() -> Self {
        Self {
            rx_queues: 1,
            tx_queues: 1,
            descriptors: 128,
            mbufs: 1023,
        }
    }
}

impl Port {
    /// Takes ownership of the port EAL created for `name` (from `--vdev` or
    /// a PCI probe). Wraps `rte_eth_dev_get_port_by_name`.
    pub fn by_name(eal: &Eal, name: &str) -> Result<Self, DeviceError> {
        Self::own(eal, Self::lookup(name)?, Ownership::Owned, None)
    }

    fn lookup(name: &str) -> Result<u16, DeviceError> {
        let c = CString::new(name).map_err(|_| DeviceError::InvalidArgument {
            what: format!("port name {name:?} contains a NUL byte"),
        })?;
        let mut id = 0u16;
        // Safety: c is a valid C string and id a valid out-pointer.
        let rc = unsafe { ffi::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
        if rc != 0 {
            return Err(DeviceError::NoSuchPort {
                port: name.to_owned(),
            });
        }
        Ok(id)
    }

    /// Takes ownership of port `id`.
    pub fn by_id(eal: &Eal, id: u16) -> Result<Self, DeviceError> {
        // Safety: plain value argument.
        if unsafe { ffi::rte_eth_dev_is_valid_port(id) } == 0 {
            return Err(DeviceError::NoSuchPort {
                port: id.to_string(),
            });
        }
        Self::own(eal, id, Ownership::Owned, None)
    }

    /// Uses port `id`, which the host process (OVS-DPDK) configured and
    /// started, for rte_flow only: dropping the `Port` destroys the rules
    /// made through it but never stops or closes the port, and
    /// [`configure`](Self::configure), [`start`](Self::start) and
    /// [`stop`](Self::stop) refuse with [`DeviceError::InvalidArgument`]. Made
    /// for an [`Eal::attach`]ed EAL; like [`by_id`](Self::by_id), one
    /// `Port` per id at a time.
    pub fn attach(eal: &Eal, id: u16) -> Result<Self, DeviceError> {
        // Safety: plain value argument.
        if unsafe { ffi::rte_eth_dev_is_valid_port(id) } == 0 {
            return Err(DeviceError::NoSuchPort {
                port: id.to_string(),
            });
        }
        Self::own(eal, id, Ownership::Host, None)
    }

    /// Whether this port came from [`attach`](Self::attach) (the host
    /// process owns it).
    pub fn is_attached(&self) -> bool {
        self.shared.attached
    }

    fn refuse_if_attached(&self, op: &str) -> Result<(), DeviceError> {
        if self.shared.attached {
            return Err(DeviceError::InvalidArgument {
                what: format!(
                    "port {} belongs to the host process (Port::attach): {op} is its job",
                    self.id()
                ),
            });
        }
        Ok(())
    }

    /// Hot-plugs a virtual device (`net_ring1`, `net_null3`,
    /// `net_tap0,iface=xsc0`) and takes its port. The device is removed again
    /// when the port is closed. Wraps `rte_dev_probe`.
    pub fn probe(eal: &Eal, devargs: &str) -> Result<Self, DeviceError> {
        eal.probe(devargs)?;
        let name = devargs.split(',').next().unwrap_or(devargs);
        Self::own(eal, Self::lookup(name)?, Ownership::Hotplugged, None)
    }

    /// Two `net_ring` ports wired back to back through two rte_rings: what
    /// one transmits, the other receives (`rte_ring_create`,
    /// `rte_eth_from_rings`). The ports are named `net_ring_<name>_a` and
    /// `net_ring_<name>_b`; the rings are freed after both ports are closed.
    #[cfg(xsc_net_ring)]
    pub fn ring_pair(eal: &Eal, name: &str) -> Result<(Self, Self), DeviceError> {
        let ring = |suffix: &str| -> Result<NonNull<ffi::rte_ring>, DeviceError> {
            let c = CString::new(format!("{name}_{suffix}")).map_err(|_| {
                DeviceError::InvalidArgument {
                    what: format!("ring name {name:?} contains a NUL byte"),
                }
            })?;
            // Safety: c is a valid C string; SOCKET_ID_ANY is -1; flags as
            // the ring PMD uses them (single producer, single consumer).
            let raw = unsafe {
                ffi::rte_ring_create(
                    c.as_ptr(),
                    1024,
                    -1,
                    ffi::RING_F_SP_ENQ | ffi::RING_F_SC_DEQ,
                )
            };
            NonNull::new(raw).ok_or_else(|| DeviceError::call("rte_ring_create", None, -1))
        };
        let a_to_b = ring("ab")?;
        let b_to_a = match ring("ba") {
            Ok(r) => r,
            Err(e) => {
                // Safety: created above and used by nothing.
                unsafe { ffi::rte_ring_free(a_to_b.as_ptr()) };
                return Err(e);
            }
        };
        let link = Arc::new(RingLink {
            rings: [a_to_b, b_to_a],
        });
        let make = |side: &str,
                    rx: NonNull<ffi::rte_ring>,
                    tx: NonNull<ffi::rte_ring>|
         -> Result<Self, DeviceError> {
            let c = CString::new(format!("{name}_{side}")).map_err(|_| {
                DeviceError::InvalidArgument {
                    what: format!("port name {name:?} contains a NUL byte"),
                }
            })?;
            let rx = [rx.as_ptr()];
            let tx = [tx.as_ptr()];
            // Safety: one valid ring each way; DPDK keeps the ring pointers,
            // which live until both ports are closed (RingLink).
            let id =
                unsafe { ffi::rte_eth_from_rings(c.as_ptr(), rx.as_ptr(), 1, tx.as_ptr(), 1, 0) };
            if id < 0 {
                return Err(DeviceError::call("rte_eth_from_rings", None, -1));
            }
            Self::own(eal, id as u16, Ownership::Hotplugged, Some(link.clone()))
        };
        let a = make("a", b_to_a, a_to_b)?;
        let b = make("b", a_to_b, b_to_a)?;
        Ok((a, b))
    }

    fn own(
        eal: &Eal,
        id: u16,
        ownership: Ownership,
        rings: Option<Arc<RingLink>>,
    ) -> Result<Self, DeviceError> {
        let mut owned = OWNED.lock();
        if owned.contains(&id) {
            return Err(DeviceError::InvalidArgument {
                what: format!("port {id} is already owned by another Port"),
            });
        }
        owned.push(id);
        LIVE.ports.fetch_add(1, Ordering::Relaxed);
        let shared = PortShared {
            id,
            flow_generation: RwLock::new(0),
            pool: Mutex::new(None),
            hotplugged: ownership == Ownership::Hotplugged,
            attached: ownership == Ownership::Host,
            _rings: rings,
            _eal: eal.clone(),
        };
        Ok(Self {
            shared: Arc::new(shared),
            started: false,
            configured: false,
        })
    }

    /// The ethdev port id.
    pub fn id(&self) -> u16 {
        self.shared.id
    }

    /// Reads `rte_eth_dev_info_get` and the port's name.
    pub fn info(&self) -> Result<PortInfo, DeviceError> {
        let id = self.id();
        let raw = dev_info(id)?;
        let mut name = [0 as libc::c_char; ffi::XSC_ETH_NAME_MAX_LEN as usize];
        // Safety: name has RTE_ETH_NAME_MAX_LEN bytes, as the call requires.
        let rc = unsafe { ffi::rte_eth_dev_get_name_by_port(id, name.as_mut_ptr()) };
        if rc != 0 {
            return Err(DeviceError::call(
                "rte_eth_dev_get_name_by_port",
                Some(id),
                rc,
            ));
        }
        let cstr = |p: *const libc::c_char| {
            if p.is_null() {
                String::new()
            } else {
                // Safety: ethdev strings are NUL-terminated and live as long as the port.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        };
        let switch_domain = (raw.switch_info.domain_id
            != ffi::XSC_ETH_DEV_SWITCH_DOMAIN_ID_INVALID as u16)
            .then(|| SwitchInfo {
                name: cstr(raw.switch_info.name),
                domain_id: raw.switch_info.domain_id,
                port_id: raw.switch_info.port_id,
            });
        Ok(PortInfo {
            id,
            name: cstr(name.as_ptr()),
            driver: cstr(raw.driver_name),
            max_rx_queues: raw.max_rx_queues,
            max_tx_queues: raw.max_tx_queues,
            rx_offload_capa: raw.rx_offload_capa,
            tx_offload_capa: raw.tx_offload_capa,
            dev_capa: raw.dev_capa,
            dev_flags: if raw.dev_flags.is_null() {
                0
            } else {
                // Safety: a non-NULL dev_flags points at the port's flags
                // word, alive with the port.
                unsafe { *raw.dev_flags }
            },
            switch_domain,
        })
    }

    /// Configures the port with `cfg.rx_queues`/`cfg.tx_queues` queues of
    /// `cfg.descriptors` descriptors and a fresh mbuf pool for its rx queues
    /// (`rte_eth_dev_configure`, `rte_eth_rx_queue_setup`,
    /// `rte_eth_tx_queue_setup`). The port must be stopped.
    pub fn configure(&mut self, eal: &Eal, cfg: &PortConfig) -> Result<(), DeviceError> {
        let id = self.id();
        self.refuse_if_attached("configure")?;
        if self.started {
            return Err(DeviceError::InvalidArgument {
                what: format!("port {id} must be stopped to configure it"),
            });
        }
        let conf = ffi::rte_eth_conf::default();
        // Safety: conf is a valid, zeroed configuration (no offloads, no RSS).
        let rc = unsafe { ffi::rte_eth_dev_configure(id, cfg.rx_queues, cfg.tx_queues, &conf) };
        if rc != 0 {
            return Err(DeviceError::call("rte_eth_dev_configure", Some(id), rc));
        }
        let pool = Mempool::new(
            eal,
            &format!("xsc_port{id}_{}", next_pool_serial()),
            cfg.mbufs,
        )?;
        // Safety: plain value argument.
        let socket = unsafe { ffi::rte_eth_dev_socket_id(id) };
        let socket = if socket < 0 { 0 } else { socket as u32 };
        for q in 0..cfg.rx_queues {
            // Safety: rxconf NULL selects the driver's defaults; the pool
            // outlives the queue (held in PortShared until close).
            let rc = unsafe {
                ffi::rte_eth_rx_queue_setup(
                    id,
                    q,
                    cfg.descriptors,
                    socket,
                    std::ptr::null(),
                    pool.as_ptr(),
                )
            };
            if rc != 0 {
                return Err(DeviceError::call("rte_eth_rx_queue_setup", Some(id), rc));
            }
        }
        for q in 0..cfg.tx_queues {
            // Safety: txconf NULL selects the driver's defaults.
            let rc = unsafe {
                ffi::rte_eth_tx_queue_setup(id, q, cfg.descriptors, socket, std::ptr::null())
            };
            if rc != 0 {
                return Err(DeviceError::call("rte_eth_tx_queue_setup", Some(id), rc));
            }
        }
        *self.shared.pool.lock() = Some(pool);
        self.configured = true;
        Ok(())
    }

    /// The mbuf pool made by [`configure`](Self::configure), to build packets for tx.
    pub fn mempool(&self) -> Option<Mempool> {
        self.shared.pool.lock().clone()
    }

    /// Starts the port (`rte_eth_dev_start`).
    pub fn start(&mut self) -> Result<(), DeviceError> {
        self.refuse_if_attached("start")?;
        // Safety: plain value argument.
        let rc = unsafe { ffi::rte_eth_dev_start(self.id()) };
        if rc != 0 {
            return Err(DeviceError::call("rte_eth_dev_start", Some(self.id()), rc));
        }
        self.started = true;
        Ok(())
    }

    /// Stops the port (`rte_eth_dev_stop`).
    pub fn stop(&mut self) -> Result<(), DeviceError> {
        self.refuse_if_attached("stop")?;
        // Safety: plain value argument.
        let rc = unsafe { ffi::rte_eth_dev_stop(self.id()) };
        if rc != 0 {
            return Err(DeviceError::call("rte_eth_dev_stop", Some(self.id()), rc));
        }
        self.started = false;
        Ok(())
    }

    /// Whether [`start`](Self::start) succeeded and no stop followed.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Whether [`configure`](Self::configure) succeeded.
    pub fn is_configured(&self) -> bool {
        self.configured
    }

    /// Sends packets on `queue` (`rte_eth_tx_burst`). The sent mbufs are
    /// removed from the front of `pkts`; what the driver did not take stays.
    pub fn tx_burst(&mut self, queue: u16, pkts: &mut Vec<Mbuf>) -> usize {
        let n = pkts.len().min(u16::MAX as usize);
        if n == 0 {
            return 0;
        }
        let mut raw: Vec<*mut ffi::rte_mbuf> = Vec::with_capacity(n);
        // Ownership moves to DPDK for the mbufs it accepts; the rest are
        // re-wrapped below.
        let taken: Vec<Mbuf> = pkts.drain(..n).collect();
        let pool = taken[0].pool().clone();
        raw.extend(taken.into_iter().map(Mbuf::into_raw));
        // Safety: raw holds n valid mbufs we own; the port's queue was set up.
        let sent =
            unsafe { ffi::xsc_eth_tx_burst(self.id(), queue, raw.as_mut_ptr(), n as u16) } as usize;
        let unsent = raw[sent..].iter().map(|&m| {
            // Safety: not taken by the driver, so still ours.
            Mbuf::from_raw(
                std::ptr::NonNull::new(m).expect("mbuf pointers are non-null"),
                pool.clone(),
            )
        });
        let mut rest: Vec<Mbuf> = unsent.collect();
        rest.append(pkts);
        *pkts = rest;
        sent
    }

    /// Receives up to `max` packets from `queue` (`rte_eth_rx_burst`).
    pub fn rx_burst(&mut self, queue: u16, max: u16) -> Vec<Mbuf> {
        let Some(pool) = self.mempool() else {
            return Vec::new();
        };
        let mut raw: Vec<*mut ffi::rte_mbuf> = vec![std::ptr::null_mut(); max as usize];
        // Safety: raw has room for max pointers; the queue was set up.
        let n = unsafe { ffi::xsc_eth_rx_burst(self.id(), queue, raw.as_mut_ptr(), max) } as usize;
        raw[..n]
            .iter()
            .filter_map(|&m| std::ptr::NonNull::new(m))
            .map(|m| Mbuf::from_raw(m, pool.clone()))
            .collect()
    }
}

/// The ids of every ethdev port DPDK knows (`rte_eth_dev_is_valid_port`),
/// owned by a [`Port`] or not.
pub fn port_ids() -> Vec<u16> {
    (0..ffi::RTE_MAX_ETHPORTS as u16)
        // Safety: plain value argument.
        .filter(|&id| unsafe { ffi::rte_eth_dev_is_valid_port(id) } != 0)
        .collect()
}

/// `rte_eth_dev_info_get` into an owned struct.
pub(crate) fn dev_info(id: u16) -> Result<ffi::rte_eth_dev_info, DeviceError> {
    let mut raw = ffi::rte_eth_dev_info::default();
    // Safety: raw is a valid out-pointer of the right type.
    let rc = unsafe { ffi::rte_eth_dev_info_get(id, &mut raw) };
    if rc != 0 {
        return Err(DeviceError::call("rte_eth_dev_info_get", Some(id), rc));
    }
    Ok(raw)
}

fn next_pool_serial() -> u64 {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

impl Drop for PortShared {
    fn drop(&mut self) {
        let id = self.id;
        if self.attached {
            OWNED.lock().retain(|&p| p != id);
            LIVE.ports.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let device = if self.hotplugged {
            dev_info(id).ok().map(|i| i.device)
        } else {
            None
        };
        // Safety: no flow, template or table of this port is left (each holds
        // an Arc<PortShared>); stop and close are valid in any state.
        unsafe {
            ffi::rte_eth_dev_stop(id);
            ffi::rte_eth_dev_close(id);
        }
        if let Some(device) = device.filter(|d| !d.is_null()) {
            // Safety: the device came from this port's dev_info and was
            // probed by us; its ethdev port is closed.
            unsafe { ffi::rte_dev_remove(device) };
        }
        // The rx queues are gone with the close: the pool may go now.
        self.pool.get_mut().take();
        OWNED.lock().retain(|&p| p != id);
        LIVE.ports.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Port")
            .field("id", &self.id())
            .field("configured", &self.configured)
            .field("started", &self.started)
            .finish()
    }
}
