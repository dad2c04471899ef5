//! `rte_flow_conv`: DPDK's own deep copy of a rule.
//!
//! DPDK walks the pattern and actions with its table of item and action
//! sizes and copies every spec, mask, last and conf (following the pointers
//! inside RAW_ENCAP and friends). A rule it copies is a rule whose every
//! type is known to this DPDK and whose structs have the sizes it expects;
//! comparing the copy with the original proves the bytes we lowered are the
//! bytes DPDK reads.

use std::fmt;
use std::marker::PhantomData;

use crate::device::{DeviceError, FlowError};
use crate::ffi;
use crate::rte::{RteRule, RuleView};

/// A deep copy of a rule, made by `rte_flow_conv(RTE_FLOW_CONV_OP_RULE)`,
/// in one 8-byte-aligned buffer owned here.
///
/// It borrows the original rule: DPDK 22.11 copies some confs shallowly
/// (RAW_ENCAP keeps its `data` pointer, SAMPLE its action list), so the
/// copy may point into the original's arena.
pub struct RuleCopy<'r> {
    buf: Vec<u64>,
    items: usize,
    actions: usize,
    _rule: PhantomData<&'r RteRule>,
}

impl<'r> RuleCopy<'r> {
    fn header(&self) -> &ffi::rte_flow_conv_rule {
        // Safety: rte_flow_conv wrote a struct rte_flow_conv_rule at the
        // start of buf (8-aligned) followed by what it points to.
        unsafe { &*self.buf.as_ptr().cast::<ffi::rte_flow_conv_rule>() }
    }

    /// The copied attributes.
    pub fn attr(&self) -> &ffi::rte_flow_attr {
        // Safety: points into buf, written by rte_flow_conv.
        unsafe { &*self.header().__bindgen_anon_1.attr_ro }
    }

    /// The copied pattern, END included.
    pub fn pattern(&self) -> &[ffi::rte_flow_item] {
        // Safety: rte_flow_conv copied `items` entries into buf.
        unsafe { std::slice::from_raw_parts(self.header().__bindgen_anon_2.pattern_ro, self.items) }
    }

    /// The copied actions, END included.
    pub fn actions(&self) -> &[ffi::rte_flow_action] {
        // Safety: rte_flow_conv copied `actions` entries into buf.
        unsafe {
            std::slice::from_raw_parts(self.header().__bindgen_anon_3.actions_ro, self.actions)
        }
    }

    /// The copied items and actions through `rte`'s typed view.
    pub fn view(&self) -> RuleView<'_> {
        // Safety: rte_flow_conv copied every spec/last/mask/conf of the
        // sealed original as the struct of its type (it walks DPDK's own
        // table of sizes), into `buf`, which lives as long as `self`;
        // pointers it copied shallowly point into the original rule, which
        // the 'r borrow keeps alive and unchanged for as long as `self`.
        unsafe { RuleView::from_raw(self.pattern(), self.actions()) }
    }

    /// Bytes DPDK needed for the copy.
    pub fn size(&self) -> usize {
        self.buf.len() * 8
    }
}

impl fmt::Debug for RuleCopy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleCopy")
            .field("items", &self.items)
            .field("actions", &self.actions)
            .finish()
    }
}

/// Deep-copies a sealed rule with `rte_flow_conv`. Needs no EAL and no port.
pub fn deep_copy(rule: &RteRule) -> Result<RuleCopy<'_>, DeviceError> {
    super::flow::check_sealed(rule)?;
    let src = ffi::rte_flow_conv_rule {
        __bindgen_anon_1: ffi::rte_flow_conv_rule__bindgen_ty_1 {
            attr_ro: rule.attr(),
        },
        __bindgen_anon_2: ffi::rte_flow_conv_rule__bindgen_ty_2 {
            pattern_ro: rule.pattern().as_ptr(),
        },
        __bindgen_anon_3: ffi::rte_flow_conv_rule__bindgen_ty_3 {
            actions_ro: rule.actions().as_ptr(),
        },
    };
    let conv = |dst: *mut u64, size: usize, err: &mut ffi::rte_flow_error| {
        // Safety: src points at the sealed rule's valid, END-terminated
        // arrays; dst has `size` writable bytes (or is NULL with size 0).
        unsafe {
            ffi::rte_flow_conv(
                ffi::RTE_FLOW_CONV_OP_RULE,
                dst.cast(),
                size,
                (&src as *const ffi::rte_flow_conv_rule).cast(),
                err,
            )
        }
    };
    let mut err = ffi::rte_flow_error::default();
    let need = conv(std::ptr::null_mut(), 0, &mut err);
    if need < 0 {
        return Err(FlowError::decode(
            "rte_flow_conv",
            0,
            need,
            &err,
            rule.pattern(),
            rule.actions(),
        )
        .into());
    }
    let mut buf = vec![0u64; (need as usize).div_ceil(8)];
    let got = conv(buf.as_mut_ptr(), buf.len() * 8, &mut err);
    if got < 0 || got > need {
        return Err(FlowError::decode(
            "rte_flow_conv",
            0,
            got.min(-1),
            &err,
            rule.pattern(),
            rule.actions(),
        )
        .into());
    }
    Ok(RuleCopy {
        buf,
        items: rule.pattern().len(),
        actions: rule.actions().len(),
        _rule: PhantomData,
    })
}
