//! `struct xsc_offloader` and the exported functions.
//!
//! Each function checks its arguments, then calls the engine
//! ([`xsc_dp::engine::Offloader`]) inside [`guard`]. The handle is a boxed
//! [`xsc_offloader`] whose first field is a magic number: a NULL or foreign
//! pointer is refused before anything else is read.

use std::ffi::{c_char, c_int, CString};
use std::sync::Arc;

use xsc_dp::dpdk::{Eal, Port};
use xsc_dp::engine::{FlowState, Mode, Offloader};
use xsc_dp::eswitch::Eswitch;
use xsc_dp::odp::netlink::{decode_actions_into, decode_key_into};
use xsc_dp::odp::{ConnEntry, Megaflow, Ufid, Used};

use super::args;
use super::config::{xsc_offloader_config, DeviceChoice};
use super::error::{c_string, guard, guard_void, last_error_ptr, Error, XSC_OK};

/// `XSC_STATE_PENDING`.
pub const XSC_STATE_PENDING: c_int = 0;
/// `XSC_STATE_OFFLOADED`.
pub const XSC_STATE_OFFLOADED: c_int = 1;
/// `XSC_STATE_REJECTED`.
pub const XSC_STATE_REJECTED: c_int = 2;
/// `XSC_STATE_FAILED`.
pub const XSC_STATE_FAILED: c_int = 3;
/// `XSC_REASON_MAX`: the longest reason, NUL included.
pub const XSC_REASON_MAX: usize = 512;
/// `XSC_REASON_NAME_MAX`: the longest machine name of a reason, NUL included.
pub const XSC_REASON_NAME_MAX: usize = 64;

/// "xsc offl" — the first word of every live handle.
const MAGIC: u64 = 0x7873_6320_6f66_666c;

/// The engine over one of the two device kinds.
pub(super) enum Engine {
    Eswitch(Offloader<Eswitch>),
    Dpdk(Offloader<Port>),
}

/// Runs `$body` with `$o` bound to the engine, whatever its device.
macro_rules! with_engine {
    ($handle:expr, $o:ident => $body:expr) => {
        match &$handle.engine {
            Engine::Eswitch($o) => $body,
            Engine::Dpdk($o) => $body,
        }
    };
}

/// `struct xsc_offloader`: opaque to C.
#[allow(non_camel_case_types)]
pub struct xsc_offloader {
    magic: u64,
    pub(super) engine: Engine,
}

impl std::fmt::Debug for xsc_offloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        with_engine!(self, o => o.fmt(f))
    }
}

/// `struct xsc_flow_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct xsc_flow_stats {
    pub packets: u64,
    pub bytes: u64,
    pub used_ms_ago: i64,
    pub used: u8,
    pub offloaded: u8,
    pub tcp_flags: u16,
    pub reserved: u32,
}

/// `struct xsc_ct_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct xsc_ct_stats {
    pub orig_packets: u64,
    pub orig_bytes: u64,
    pub reply_packets: u64,
    pub reply_bytes: u64,
}

/// `struct xsc_counts`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct xsc_counts {
    pub offloaded: u64,
    pub rejected: u64,
    pub failed: u64,
    pub conns_offloaded: u64,
    pub conns_rejected: u64,
    pub conns_failed: u64,
    pub live_rules: u64,
}

/// The live handle at `ptr`.
///
/// # Safety
/// `ptr` is NULL or a pointer this library handed out; NULL, misaligned and
/// foreign (wrong magic) pointers are refused. A destroyed handle is caught
/// only as far as its freed memory still holds a stale word.
pub(super) unsafe fn handle<'a>(ptr: *const xsc_offloader) -> Result<&'a xsc_offloader, Error> {
    if ptr.is_null() {
        return Err(Error::invalid("offloader is NULL"));
    }
    if !ptr.is_aligned() {
        return Err(Error::invalid(
            "offloader is not a handle from xsc_offloader_new (misaligned)",
        ));
    }
    // Safety: non-NULL and aligned; a live handle per the caller's contract.
    let h = unsafe { &*ptr };
    if h.magic != MAGIC {
        return Err(Error::invalid(
            "offloader is not a live handle from xsc_offloader_new (destroyed, or another pointer)",
        ));
    }
    Ok(h)
}

fn ufid_text(u: &Ufid) -> String {
    let mut s = String::from("flow ");
    xsc_dp::odp::format_ufid(&mut s, u);
    s
}

/// The state code, writing the reason into `reason`.
fn report_state(state: &FlowState, reason: Option<&mut [u8]>) -> Result<c_int, Error> {
    let (code, text) = match state {
        FlowState::Pending => (XSC_STATE_PENDING, None),
        FlowState::Offloaded => (XSC_STATE_OFFLOADED, None),
        FlowState::Rejected(r) => (XSC_STATE_REJECTED, Some(r.to_string())),
        FlowState::Failed(e) => (XSC_STATE_FAILED, Some(e.to_string())),
        // Only completions carry Removed; a lookup never should.
        FlowState::Removed => return Err(Error::not_found("it")),
    };
    if let Some(buf) = reason {
        args::write_reason(buf, text.as_deref().unwrap_or(""));
    }
    Ok(code)
}

/// Like [`report_state`], with the reason's stable machine name ("" unless
/// rejected or failed) instead of its sentence.
fn report_state_name(state: &FlowState, name: Option<&mut [u8]>) -> Result<c_int, Error> {
    let (code, text) = match state {
        FlowState::Pending => (XSC_STATE_PENDING, ""),
        FlowState::Offloaded => (XSC_STATE_OFFLOADED, ""),
        FlowState::Rejected(r) => (XSC_STATE_REJECTED, r.name()),
        FlowState::Failed(e) => (XSC_STATE_FAILED, e.name()),
        // Only completions carry Removed; a lookup never should.
        FlowState::Removed => return Err(Error::not_found("it")),
    };
    if let Some(buf) = name {
        args::write_reason(buf, text);
    }
    Ok(code)
}

/// A conntrack line, parsed.
///
/// # Safety
/// As [`args::text`].
unsafe fn conn(line: *const c_char, len: usize) -> Result<ConnEntry, Error> {
    // Safety: forwarded contract.
    let text = unsafe { args::text(line, len, "line") }?;
    if text.is_empty() {
        return Err(Error::bad_message(
            "line is empty: expected one dpctl/dump-conntrack line",
        ));
    }
    if text.contains('\n') {
        return Err(Error::bad_message(
            "line holds several lines: give one connection per call",
        ));
    }
    ConnEntry::parse(text).map_err(|e| Error::bad_message(format!("line: {e}")))
}

/// Fills `*config` with the defaults. See `xsc_offload.h`.
///
/// # Safety
/// `config` is NULL or points to a writable `struct xsc_offloader_config`.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_config_init(config: *mut xsc_offloader_config) -> c_int {
    guard("xsc_offloader_config_init", || {
        // Safety: forwarded contract.
        let out = unsafe { args::out(config, "config") }?;
        out.write(xsc_offloader_config::default());
        Ok(XSC_OK)
    })
}

/// Starts an offloader. See `xsc_offload.h`.
///
/// # Safety
/// `config` is NULL or points to a valid config whose strings and port
/// array are as the header says; `out` is NULL or points to a writable
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_new(
    config: *const xsc_offloader_config,
    out: *mut *mut xsc_offloader,
) -> c_int {
    guard("xsc_offloader_new", || {
        // Safety: forwarded contract.
        let out = unsafe { args::out(out, "out") }?;
        out.write(std::ptr::null_mut());
        if config.is_null() {
            return Err(Error::invalid("config is NULL"));
        }
        if !config.is_aligned() {
            return Err(Error::invalid("config is misaligned"));
        }
        // Safety: non-NULL, aligned, readable per the caller's contract;
        // the fields' pointers are checked by settings().
        let s = unsafe { (*config).settings() }?;
        let engine = match s.device {
            DeviceChoice::Eswitch { ports } => {
                let esw = Eswitch::new(s.profile.clone(), &ports);
                if s.engine.mode == Mode::Async {
                    // rte_flow_configure: one flow queue per worker, as deep
                    // as a worker's submission queue. ENOTSUP when the
                    // profile has no template/async API (metascale).
                    let queues = u16::try_from(s.engine.workers).map_err(|_| {
                        Error::invalid(format!(
                            "config.workers is {}: XSC_MODE_ASYNC has at most 65535 flow queues",
                            s.engine.workers
                        ))
                    })?;
                    let depth = u32::try_from(s.engine.queue_depth).unwrap_or(u32::MAX);
                    esw.configure(queues, depth)?;
                }
                Engine::Eswitch(Offloader::new(Arc::new(esw), s.profile, s.ports, s.engine)?)
            }
            DeviceChoice::Dpdk { port } => {
                let eal = Eal::attach()?;
                let port = Port::attach(&eal, port)?;
                Engine::Dpdk(Offloader::new(
                    Arc::new(port),
                    s.profile,
                    s.ports,
                    s.engine,
                )?)
            }
        };
        let handle = Box::new(xsc_offloader {
            magic: MAGIC,
            engine,
        });
        out.write(Box::into_raw(handle));
        Ok(XSC_OK)
    })
}

/// Removes every rule, stops the workers, frees the handle. See
/// `xsc_offload.h`.
///
/// # Safety
/// `offloader` is NULL or a live handle no other thread is using; it is
/// invalid after the call.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_destroy(offloader: *mut xsc_offloader) {
    guard_void("xsc_offloader_destroy", || {
        if offloader.is_null() {
            return Ok(());
        }
        // Safety: forwarded contract (checks the magic).
        unsafe { handle(offloader) }?;
        // Safety: a live handle from Box::into_raw, used by nobody else now.
        let mut boxed = unsafe { Box::from_raw(offloader) };
        boxed.magic = 0;
        drop(boxed);
        Ok(())
    })
}

/// Queues a megaflow given as netlink attributes. See `xsc_offload.h`.
///
/// # Safety
/// `offloader` as [`xsc_offloader_destroy`] but shared; `ufid` points to
/// four `uint32_t`; each buffer is NULL or holds its length in bytes.
#[no_mangle]
pub unsafe extern "C" fn xsc_flow_put(
    offloader: *mut xsc_offloader,
    ufid: *const u32,
    key: *const u8,
    key_len: usize,
    mask: *const u8,
    mask_len: usize,
    actions: *const u8,
    actions_len: usize,
) -> c_int {
    guard("xsc_flow_put", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `ufid` is NULL or points to four readable uint32_t (the
        // contract); args::ufid refuses NULL and misaligned pointers.
        let ufid = unsafe { args::ufid(ufid) }?;
        // Safety: `key` is NULL with `key_len` 0, or readable for `key_len` bytes (the
        // contract); args::bytes refuses NULL with a length.
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // Safety: `mask` is NULL with `mask_len` 0, or readable for `mask_len` bytes (the
        // contract); args::bytes refuses NULL with a length.
        let mask = unsafe { args::bytes(mask, mask_len, "mask") }?;
        // Safety: `actions` is NULL with `actions_len` 0, or readable for `actions_len` bytes (the
        // contract); args::bytes refuses NULL with a length.
        let actions = unsafe { args::bytes(actions, actions_len, "actions") }?;
        let mut flow = Box::new(Megaflow {
            ufid: Some(ufid),
            ..Megaflow::default()
        });
        let mask = (!mask.is_empty()).then_some(mask);
        decode_key_into(key, mask, &mut flow.key, &mut flow.mask).map_err(|e| {
            let list = if mask.is_some() { "key or mask" } else { "key" };
            Error::bad_message(format!("{list}: {e}"))
        })?;
        decode_actions_into(actions, &mut flow.actions)
            .map_err(|e| Error::bad_message(format!("actions: {e}")))?;
        with_engine!(h, o => o.try_put(ufid, flow).map_err(|r| r.error))?;
        Ok(XSC_OK)
    })
}

/// Queues the removal of a flow. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_flow_put`].
#[no_mangle]
pub unsafe extern "C" fn xsc_flow_del(offloader: *mut xsc_offloader, ufid: *const u32) -> c_int {
    guard("xsc_flow_del", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `ufid` is NULL or points to four readable uint32_t (the
        // contract); args::ufid refuses NULL and misaligned pointers.
        let ufid = unsafe { args::ufid(ufid) }?;
        with_engine!(h, o => o.del(ufid))?;
        Ok(XSC_OK)
    })
}

/// A flow's state and reason. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_flow_put`]; `reason` is NULL or holds `reason_size` writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn xsc_flow_get(
    offloader: *const xsc_offloader,
    ufid: *const u32,
    reason: *mut c_char,
    reason_size: usize,
) -> c_int {
    guard("xsc_flow_get", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `ufid` is NULL or points to four readable uint32_t (the
        // contract); args::ufid refuses NULL and misaligned pointers.
        let ufid = unsafe { args::ufid(ufid) }?;
        // Safety: `reason` is NULL or writable for `reason_size` bytes (the
        // contract); args::reason_buf refuses NULL with a size.
        let reason = unsafe { args::reason_buf(reason, reason_size) }?;
        let state =
            with_engine!(h, o => o.get(&ufid)).ok_or_else(|| Error::not_found(ufid_text(&ufid)))?;
        report_state(&state, reason)
    })
}

/// A flow's state and the machine name of its reason. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_flow_get`], with `name`/`name_size` for `reason`/`reason_size`.
#[no_mangle]
pub unsafe extern "C" fn xsc_flow_reason_name(
    offloader: *const xsc_offloader,
    ufid: *const u32,
    name: *mut c_char,
    name_size: usize,
) -> c_int {
    guard("xsc_flow_reason_name", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `ufid` is NULL or points to four readable uint32_t (the
        // contract); args::ufid refuses NULL and misaligned pointers.
        let ufid = unsafe { args::ufid(ufid) }?;
        // Safety: `name` is NULL or writable for `name_size` bytes (the
        // contract); args::reason_buf refuses NULL with a size.
        let name = unsafe { args::reason_buf(name, name_size) }?;
        let state =
            with_engine!(h, o => o.get(&ufid)).ok_or_else(|| Error::not_found(ufid_text(&ufid)))?;
        report_state_name(&state, name)
    })
}

/// A flow's statistics. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_flow_put`]; `out` points to a writable `struct xsc_flow_stats`.
#[no_mangle]
pub unsafe extern "C" fn xsc_flow_stats(
    offloader: *const xsc_offloader,
    ufid: *const u32,
    out: *mut xsc_flow_stats,
) -> c_int {
    guard("xsc_flow_stats", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `ufid` is NULL or points to four readable uint32_t (the
        // contract); args::ufid refuses NULL and misaligned pointers.
        let ufid = unsafe { args::ufid(ufid) }?;
        // Safety: `out` is NULL or points to writable memory of its type (the
        // contract); args::out refuses NULL and misaligned pointers.
        let out = unsafe { args::out(out, "out") }?;
        let s = with_engine!(h, o => o.stats(&ufid))
            .ok_or_else(|| Error::not_found(ufid_text(&ufid)))?;
        let (used, used_ms_ago) = match s.used {
            Used::Never => (0, 0),
            Used::Ago { ms } => (1, ms),
        };
        out.write(xsc_flow_stats {
            packets: s.packets,
            bytes: s.bytes,
            used_ms_ago,
            used,
            offloaded: u8::from(s.offloaded.is_some()),
            tcp_flags: s.tcp_flags,
            reserved: 0,
        });
        Ok(XSC_OK)
    })
}

/// Queues an established connection. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_flow_put`]; `line` is NULL or holds `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn xsc_ct_add(
    offloader: *mut xsc_offloader,
    line: *const c_char,
    len: usize,
) -> c_int {
    guard("xsc_ct_add", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `line` is NULL with `len` 0, or readable for `len` bytes (the
        // contract); conn() refuses NULL with a length.
        let c = unsafe { conn(line, len) }?;
        with_engine!(h, o => o.ct_add(c))?;
        Ok(XSC_OK)
    })
}

/// Queues the removal of a connection. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_ct_add`].
#[no_mangle]
pub unsafe extern "C" fn xsc_ct_del(
    offloader: *mut xsc_offloader,
    line: *const c_char,
    len: usize,
) -> c_int {
    guard("xsc_ct_del", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `line` is NULL with `len` 0, or readable for `len` bytes (the
        // contract); conn() refuses NULL with a length.
        let c = unsafe { conn(line, len) }?;
        with_engine!(h, o => o.ct_del(&c))?;
        Ok(XSC_OK)
    })
}

/// A connection's state and reason. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_ct_add`] and [`xsc_flow_get`].
#[no_mangle]
pub unsafe extern "C" fn xsc_ct_get(
    offloader: *const xsc_offloader,
    line: *const c_char,
    len: usize,
    reason: *mut c_char,
    reason_size: usize,
) -> c_int {
    guard("xsc_ct_get", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `line` is NULL with `len` 0, or readable for `len` bytes (the
        // contract); conn() refuses NULL with a length.
        let c = unsafe { conn(line, len) }?;
        // Safety: `reason` is NULL or writable for `reason_size` bytes (the
        // contract); args::reason_buf refuses NULL with a size.
        let reason = unsafe { args::reason_buf(reason, reason_size) }?;
        let state =
            with_engine!(h, o => o.ct_get(&c)).ok_or_else(|| Error::not_found("the connection"))?;
        report_state(&state, reason)
    })
}

/// A connection's state and the machine name of its reason. See
/// `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_ct_get`], with `name`/`name_size` for `reason`/`reason_size`.
#[no_mangle]
pub unsafe extern "C" fn xsc_ct_reason_name(
    offloader: *const xsc_offloader,
    line: *const c_char,
    len: usize,
    name: *mut c_char,
    name_size: usize,
) -> c_int {
    guard("xsc_ct_reason_name", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `line` is NULL with `len` 0, or readable for `len` bytes (the
        // contract); conn() refuses NULL with a length.
        let c = unsafe { conn(line, len) }?;
        // Safety: `name` is NULL or writable for `name_size` bytes (the
        // contract); args::reason_buf refuses NULL with a size.
        let name = unsafe { args::reason_buf(name, name_size) }?;
        let state =
            with_engine!(h, o => o.ct_get(&c)).ok_or_else(|| Error::not_found("the connection"))?;
        report_state_name(&state, name)
    })
}

/// A connection's counters. See `xsc_offload.h`.
///
/// # Safety
/// As [`xsc_ct_add`]; `out` points to a writable `struct xsc_ct_stats`.
#[no_mangle]
pub unsafe extern "C" fn xsc_ct_stats(
    offloader: *const xsc_offloader,
    line: *const c_char,
    len: usize,
    out: *mut xsc_ct_stats,
) -> c_int {
    guard("xsc_ct_stats", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `line` is NULL with `len` 0, or readable for `len` bytes (the
        // contract); conn() refuses NULL with a length.
        let c = unsafe { conn(line, len) }?;
        // Safety: `out` is NULL or points to writable memory of its type (the
        // contract); args::out refuses NULL and misaligned pointers.
        let out = unsafe { args::out(out, "out") }?;
        let (orig, reply) = with_engine!(h, o => o.ct_stats(&c))
            .ok_or_else(|| Error::not_found("the connection"))?;
        out.write(xsc_ct_stats {
            orig_packets: orig.packets,
            orig_bytes: orig.bytes,
            reply_packets: reply.packets,
            reply_bytes: reply.bytes,
        });
        Ok(XSC_OK)
    })
}

/// Waits for the queued operations. See `xsc_offload.h`.
///
/// # Safety
/// `offloader` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_wait(offloader: *mut xsc_offloader) -> c_int {
    guard("xsc_offloader_wait", || {
        // Safety: forwarded contract.
        let h = unsafe { handle(offloader) }?;
        with_engine!(h, o => o.wait());
        Ok(XSC_OK)
    })
}

/// Reads every rule's counters now. See `xsc_offload.h`.
///
/// # Safety
/// `offloader` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_sync_stats(offloader: *mut xsc_offloader) -> c_int {
    guard("xsc_offloader_sync_stats", || {
        // Safety: forwarded contract.
        let h = unsafe { handle(offloader) }?;
        with_engine!(h, o => o.sync_stats());
        Ok(XSC_OK)
    })
}

/// The offloaded flows as `dpctl/dump-flows -m type=offloaded` lines, in a
/// string the caller frees with [`xsc_string_free`]. See `xsc_offload.h`.
///
/// # Safety
/// `offloader` is NULL or a live handle; `out` points to a writable
/// `char *`; `len` is NULL or points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_dump(
    offloader: *mut xsc_offloader,
    out: *mut *mut c_char,
    len: *mut usize,
) -> c_int {
    guard("xsc_offloader_dump", || {
        // Safety: `out` is NULL or points to writable memory of its type (the
        // contract); args::out refuses NULL and misaligned pointers.
        let out = unsafe { args::out(out, "out") }?;
        out.write(std::ptr::null_mut());
        let len = if len.is_null() {
            None
        } else {
            // Safety: `len` is NULL or points to writable memory of its type (the
            // contract); args::out refuses NULL and misaligned pointers.
            Some(unsafe { args::out(len, "len") }?)
        };
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        let mut text = String::new();
        with_engine!(h, o => o.dump_offloaded(&mut text));
        let c = c_string(text);
        if let Some(len) = len {
            len.write(c.as_bytes().len());
        }
        out.write(c.into_raw());
        Ok(XSC_OK)
    })
}

/// Frees a string from [`xsc_offloader_dump`]. See `xsc_offload.h`.
///
/// # Safety
/// `s` is NULL or a string this library returned and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn xsc_string_free(s: *mut c_char) {
    guard_void("xsc_string_free", || {
        if !s.is_null() {
            // Safety: made by CString::into_raw in xsc_offloader_dump, per
            // the caller's contract.
            drop(unsafe { CString::from_raw(s) });
        }
        Ok(())
    })
}

/// Removes every flow and connection. See `xsc_offload.h`.
///
/// # Safety
/// `offloader` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_flush(offloader: *mut xsc_offloader) -> c_int {
    guard("xsc_offloader_flush", || {
        // Safety: forwarded contract.
        let h = unsafe { handle(offloader) }?;
        with_engine!(h, o => o.flush())?;
        Ok(XSC_OK)
    })
}

/// Flows and connections by state, and the live rules. See
/// `xsc_offload.h`.
///
/// # Safety
/// `offloader` is NULL or a live handle; `out` points to a writable
/// `struct xsc_counts`.
#[no_mangle]
pub unsafe extern "C" fn xsc_offloader_counts(
    offloader: *const xsc_offloader,
    out: *mut xsc_counts,
) -> c_int {
    guard("xsc_offloader_counts", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `out` is NULL or points to writable memory of its type (the
        // contract); args::out refuses NULL and misaligned pointers.
        let out = unsafe { args::out(out, "out") }?;
        let (c, live_rules) = with_engine!(h, o => (o.counts(), o.live_rules()));
        let n = |v: usize| v as u64;
        out.write(xsc_counts {
            offloaded: n(c.offloaded),
            rejected: n(c.rejected),
            failed: n(c.failed),
            conns_offloaded: n(c.conns_offloaded),
            conns_rejected: n(c.conns_rejected),
            conns_failed: n(c.conns_failed),
            live_rules: n(live_rules),
        });
        Ok(XSC_OK)
    })
}

/// The message of the last failed call on this thread, or `""`. See
/// `xsc_offload.h`.
#[no_mangle]
pub extern "C" fn xsc_last_error() -> *const c_char {
    last_error_ptr()
}
