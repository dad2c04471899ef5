//! The emulated NIC of `include/xsc_offload.h`'s last section: a received
//! packet runs through an `XSC_DEVICE_ESWITCH` offloader's eswitch
//! ([`xsc_dp::engine::nic`]), and the outputs, or the point where software
//! resumes a miss, go back to the caller through its callbacks.
//!
//! Invariants: callbacks run on the caller's thread, during the call, with
//! frames the library owns (valid only during the callback); no panic
//! crosses into C (every body runs in [`guard`]).

use std::ffi::{c_int, c_void};

use xsc_dp::engine::nic::{Received, Resume};

use super::args;
use super::error::{guard, Error, XSC_ENOTSUP};
use super::offloader::{handle, xsc_offloader, Engine};

/// `XSC_RX_FORWARDED`: the NIC sent the packet (outputs given).
pub const XSC_RX_FORWARDED: c_int = 0;
/// `XSC_RX_DROPPED`: the NIC dropped the packet.
pub const XSC_RX_DROPPED: c_int = 1;
/// `XSC_RX_MISS`: the packet goes to software (miss callback given).
pub const XSC_RX_MISS: c_int = 2;
/// `XSC_RESUME_START`.
pub const XSC_RESUME_START: u32 = 0;
/// `XSC_RESUME_RECIRC`.
pub const XSC_RESUME_RECIRC: u32 = 1;

/// `struct xsc_restore`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct xsc_restore {
    pub resume: u32,
    pub recirc_id: u32,
    pub ct_mark: u32,
    pub ct_zone: u16,
    pub ct_state: u8,
    pub reserved: u8,
    pub ct_label_lo: u64,
    pub ct_label_hi: u64,
}

/// `struct xsc_rx_ops`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct xsc_rx_ops {
    pub output:
        Option<unsafe extern "C" fn(aux: *mut c_void, port: u16, frame: *const u8, len: usize)>,
    pub miss: Option<
        unsafe extern "C" fn(
            aux: *mut c_void,
            restore: *const xsc_restore,
            frame: *const u8,
            len: usize,
        ),
    >,
}

/// Runs a received frame through the eswitch. See `xsc_offload.h`.
///
/// # Safety
/// `offloader` is a live handle; `frame` holds `len` readable bytes; `ops`
/// points to a `struct xsc_rx_ops` whose callbacks are safe to call with
/// `aux` and a frame valid during the call.
#[no_mangle]
pub unsafe extern "C" fn xsc_eswitch_receive(
    offloader: *mut xsc_offloader,
    in_port: u16,
    frame: *const u8,
    len: usize,
    now_ms: u64,
    ops: *const xsc_rx_ops,
    aux: *mut c_void,
) -> c_int {
    guard("xsc_eswitch_receive", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `frame` is NULL with `len` 0, or readable for `len` bytes
        // (the contract); args::bytes refuses NULL with a length.
        let frame = unsafe { args::bytes(frame, len, "frame") }?;
        if ops.is_null() || !ops.is_aligned() {
            return Err(Error::invalid("ops is NULL or misaligned"));
        }
        // Safety: non-NULL, aligned, a struct xsc_rx_ops per the contract.
        let ops = unsafe { *ops };
        let (Some(output), Some(miss)) = (ops.output, ops.miss) else {
            return Err(Error::invalid("ops->output and ops->miss must both be set"));
        };
        let Engine::Eswitch(o) = &h.engine else {
            return Err(Error::new(
                XSC_ENOTSUP,
                "xsc_eswitch_receive needs an XSC_DEVICE_ESWITCH offloader",
            ));
        };
        let send = |sent: &[(u16, Vec<u8>)]| {
            for (port, bytes) in sent {
                // Safety: the caller's callback, with a frame valid during it.
                unsafe { output(aux, *port, bytes.as_ptr(), bytes.len()) };
            }
        };
        Ok(match o.receive(in_port, frame, now_ms) {
            Received::Forwarded(sent) if sent.is_empty() => XSC_RX_DROPPED,
            Received::Forwarded(sent) => {
                send(&sent);
                XSC_RX_FORWARDED
            }
            Received::Miss {
                resume,
                frame,
                sent,
            } => {
                send(&sent);
                let r = match resume {
                    Resume::Start => xsc_restore::default(),
                    Resume::Recirc {
                        recirc_id,
                        ct_state,
                        ct_zone,
                        ct_mark,
                        ct_label,
                    } => xsc_restore {
                        resume: XSC_RESUME_RECIRC,
                        recirc_id,
                        ct_mark,
                        ct_zone,
                        ct_state,
                        reserved: 0,
                        ct_label_lo: ct_label as u64,
                        ct_label_hi: (ct_label >> 64) as u64,
                    },
                };
                // Safety: as above; `r` lives across the call.
                unsafe { miss(aux, &r, frame.as_ptr(), frame.len()) };
                XSC_RX_MISS
            }
        })
    })
}

/// Rules and groups in the offloader's eswitch. See `xsc_offload.h`.
///
/// # Safety
/// `offloader` is a live handle; `rules` and `groups` point to writable
/// `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn xsc_eswitch_counts(
    offloader: *const xsc_offloader,
    rules: *mut u64,
    groups: *mut u64,
) -> c_int {
    guard("xsc_eswitch_counts", || {
        // Safety: `offloader` is NULL or a handle from xsc_offloader_new (this
        // function's contract); handle() refuses NULL, misaligned and foreign ones.
        let h = unsafe { handle(offloader) }?;
        // Safety: `rules` and `groups` are NULL or point to writable uint64_t
        // (the contract); args::out refuses NULL and misaligned pointers.
        let rules = unsafe { args::out(rules, "rules") }?;
        // Safety: as above.
        let groups = unsafe { args::out(groups, "groups") }?;
        let Engine::Eswitch(o) = &h.engine else {
            return Err(Error::new(
                XSC_ENOTSUP,
                "xsc_eswitch_counts needs an XSC_DEVICE_ESWITCH offloader",
            ));
        };
        rules.write(o.device().rule_count() as u64);
        groups.write(o.device().group_count() as u64);
        Ok(super::error::XSC_OK)
    })
}
