//! Packet buffers: an owned mempool and owned mbufs.

use std::ffi::CString;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Eal, LIVE};
use crate::device::DeviceError;
use crate::ffi;

/// A packet mbuf pool (`rte_pktmbuf_pool_create`), freed with
/// `rte_mempool_free` when the last user (ports' rx queues, mbufs) is gone.
#[derive(Clone)]
pub struct Mempool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    raw: NonNull<ffi::rte_mempool>,
    name: String,
    _eal: Eal,
}

// Safety: a DPDK mempool is a multi-producer/multi-consumer object; get and
// put from any thread are safe (without a per-lcore cache on non-EAL threads).
unsafe impl Send for PoolInner {}
// Safety: as above.
unsafe impl Sync for PoolInner {}

impl Mempool {
    /// Creates a pool of `n` packet mbufs with DPDK's default data room
    /// (2 KiB + headroom) on any NUMA socket.
    pub fn new(eal: &Eal, name: &str, n: u32) -> Result<Self, DeviceError> {
        let c = CString::new(name).map_err(|_| DeviceError::InvalidArgument {
            what: format!("mempool name {name:?} contains a NUL byte"),
        })?;
        let data_room = (ffi::RTE_MBUF_DEFAULT_BUF_SIZE) as u16;
        // Safety: c is a valid C string; the other arguments are plain values.
        // SOCKET_ID_ANY is -1.
        let raw = unsafe { ffi::rte_pktmbuf_pool_create(c.as_ptr(), n, 0, 0, data_room, -1) };
        let raw = NonNull::new(raw)
            .ok_or_else(|| DeviceError::call("rte_pktmbuf_pool_create", None, -1))?;
        LIVE.mempools.fetch_add(1, Ordering::Relaxed);
        Ok(Self {
            inner: Arc::new(PoolInner {
                raw,
                name: name.to_owned(),
                _eal: eal.clone(),
            }),
        })
    }

    /// The pool's raw pointer, for DPDK calls that take one.
    pub fn as_ptr(&self) -> *mut ffi::rte_mempool {
        self.inner.raw.as_ptr()
    }

    /// Mbufs currently free in the pool (`rte_mempool_avail_count`).
    pub fn available(&self) -> u32 {
        // Safety: the pool is alive while self is.
        unsafe { ffi::rte_mempool_avail_count(self.as_ptr()) }
    }

    /// Allocates one mbuf holding a copy of `bytes` (single segment).
    pub fn alloc_with(&self, bytes: &[u8]) -> Result<Mbuf, DeviceError> {
        let len = u16::try_from(bytes.len()).map_err(|_| DeviceError::InvalidArgument {
            what: format!("a packet of {} bytes does not fit one mbuf", bytes.len()),
        })?;
        // Safety: the pool is alive; alloc returns NULL when it is empty.
        let raw = NonNull::new(unsafe { ffi::xsc_pktmbuf_alloc(self.as_ptr()) }).ok_or(
            DeviceError::Call {
                op: "rte_pktmbuf_alloc",
                port: None,
                errno: libc::ENOMEM,
            },
        )?;
        let mbuf = Mbuf::from_raw(raw, self.clone());
        // Safety: the mbuf is fresh and owned; append returns NULL when the
        // tailroom is too small, otherwise `len` writable bytes.
        let dst = unsafe { ffi::xsc_pktmbuf_append(mbuf.raw.as_ptr(), len) };
        if dst.is_null() {
            return Err(DeviceError::InvalidArgument {
                what: format!("a packet of {len} bytes does not fit the mbuf data room"),
            });
        }
        // Safety: dst has len bytes of room that do not overlap `bytes`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.cast::<u8>(), bytes.len()) };
        Ok(mbuf)
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        // Safety: no rx queue or mbuf refers to the pool any more: each holds
        // a Mempool clone.
        unsafe { ffi::rte_mempool_free(self.raw.as_ptr()) };
        LIVE.mempools.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Mempool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mempool")
            .field("name", &self.inner.name)
            .field("available", &self.available())
            .finish()
    }
}

/// One owned packet (`struct rte_mbuf` chain), freed with
/// `rte_pktmbuf_free` on drop.
pub struct Mbuf {
    raw: NonNull<ffi::rte_mbuf>,
    /// Keeps the pool alive while the mbuf may return to it.
    pool: Mempool,
}

// Safety: an mbuf is owned by exactly one Mbuf value; moving it between
// threads is how DPDK applications pass packets.
unsafe impl Send for Mbuf {}

impl Mbuf {
    pub(crate) fn from_raw(raw: NonNull<ffi::rte_mbuf>, pool: Mempool) -> Self {
        LIVE.mbufs.fetch_add(1, Ordering::Relaxed);
        Self { raw, pool }
    }

    /// Gives the mbuf to DPDK (tx_burst took it); no free on drop.
    pub(crate) fn into_raw(self) -> *mut ffi::rte_mbuf {
        let mut this = std::mem::ManuallyDrop::new(self);
        LIVE.mbufs.fetch_sub(1, Ordering::Relaxed);
        // Safety: `this` is never used again; only its pool clone is
        // released, the mbuf itself now belongs to the caller.
        unsafe { std::ptr::drop_in_place(&mut this.pool) };
        this.raw.as_ptr()
    }

    /// The pool the mbuf returns to.
    pub fn pool(&self) -> &Mempool {
        &self.pool
    }

    /// Total packet length over all segments.
    pub fn len(&self) -> usize {
        // Safety: the mbuf is alive and owned.
        unsafe { ffi::xsc_pktmbuf_pkt_len(self.raw.as_ptr()) as usize }
    }

    /// Whether the packet has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The packet bytes, copied out of every segment.
    pub fn to_vec(&self) -> Vec<u8> {
        let len = self.len();
        let mut out = vec![0u8; len];
        // Safety: rte_pktmbuf_read copies [0, len) into `out` (or returns a
        // pointer to contiguous data of that length inside the mbuf).
        let src = unsafe {
            ffi::xsc_pktmbuf_read(self.raw.as_ptr(), 0, len as u32, out.as_mut_ptr().cast())
        };
        if !src.is_null() && src != out.as_ptr().cast() {
            // Safety: src points to `len` readable bytes inside the mbuf.
            unsafe { std::ptr::copy_nonoverlapping(src.cast::<u8>(), out.as_mut_ptr(), len) };
        }
        out
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // Safety: the mbuf is owned and was not handed to DPDK.
        unsafe { ffi::xsc_pktmbuf_free(self.raw.as_ptr()) };
        LIVE.mbufs.fetch_sub(1, Ordering::Relaxed);
    }
}

impl fmt::Debug for Mbuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mbuf").field("len", &self.len()).finish()
    }
}
