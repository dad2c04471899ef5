//! One typed, checked view of rte_flow item and action memory.
//!
//! An `rte_flow_item` carries three untyped pointers (spec, last, mask) and
//! an `rte_flow_action` one (conf); which C struct lies behind them is
//! decided by the type code, as `rte_flow.h` documents per type. This module
//! is the one place that ties each struct to its type codes (as io-uring's
//! `opcode.rs` ties each submission entry to its opcode), in the tables of
//! `item_structs!` and `action_confs!`:
//!
//! - [`ItemStruct`] / [`ActionConf`]: the structs, each knowing the type
//!   codes it serves, so [`ItemView::spec`] and [`ActionView::conf`] check
//!   the struct against the type code (`assert!`) before they read.
//! - [`item_size`] / [`action_conf_size`]: how many bytes DPDK reads behind
//!   each pointer, from the same tables (what `rte_flow_conv` copies).
//! - [`RuleView`]: the items and actions of a sealed [`RteRule`] (safe: its
//!   pointers are the rule's own arena, pushed under `push_item`'s
//!   contract), or of any arrays DPDK handed back (`unsafe`
//!   [`RuleView::from_raw`] with that contract written down).
//!
//! Readers (the eswitch's rule compiler, the `rte_flow_conv` checks, tests)
//! read rule memory only through these views; none casts a pointer itself.
//! Reads are unaligned copies, so they compile to the loads a raw read
//! would do, plus one compare of the type code.

use std::marker::PhantomData;
use std::mem::size_of;

use super::RteRule;
use crate::ffi;

/// A C struct DPDK reads behind the spec, last and mask of some item types.
///
/// # Safety
///
/// [`is_for`](Self::is_for) must be true only for item types whose
/// spec/last/mask DPDK defines as this struct (so reading `size_of::<Self>()`
/// bytes behind those pointers stays inside what a valid rule provides), and
/// `Self` must be plain data — integers, arrays of them, bitfield units, no
/// pointers or enums — so that every byte pattern, all-zero included, is a
/// valid value. Implemented here, from one table, for the structs of
/// `rte_flow.h`, which all are.
pub unsafe trait ItemStruct: Copy + 'static {
    /// Whether DPDK reads this struct for items of type `t`.
    fn is_for(t: ffi::rte_flow_item_type) -> bool;
}

/// A C struct DPDK reads behind the conf of some action types.
///
/// # Safety
///
/// As [`ItemStruct`]: [`is_for`](Self::is_for) is true only for action
/// types whose conf DPDK defines as this struct.
pub unsafe trait ActionConf: Copy + 'static {
    /// Whether DPDK reads this struct as the conf of actions of type `t`.
    fn is_for(t: ffi::rte_flow_action_type) -> bool;
}

/// The item table: struct ← the type codes it serves.
macro_rules! item_structs {
    ($($ty:ident <- $($code:ident)|+;)*) => {
        $(
            // Safety: rte_flow.h defines `$ty` as the spec/last/mask of
            // exactly these item types (DPDK 22.11).
            unsafe impl ItemStruct for ffi::$ty {
                #[inline]
                fn is_for(t: ffi::rte_flow_item_type) -> bool {
                    matches!(t, $(ffi::$code)|+)
                }
            }
        )*

        /// Bytes DPDK reads behind an item's spec, last and mask, for the
        /// item types of the table; `None` for others (END, VOID, types this
        /// crate never emits).
        pub fn item_size(t: ffi::rte_flow_item_type) -> Option<usize> {
            match t {
                $($(ffi::$code)|+ => Some(size_of::<ffi::$ty>()),)*
                _ => None,
            }
        }
    };
}

item_structs! {
    rte_flow_item_eth <- RTE_FLOW_ITEM_TYPE_ETH;
    rte_flow_item_vlan <- RTE_FLOW_ITEM_TYPE_VLAN;
    rte_flow_item_ipv4 <- RTE_FLOW_ITEM_TYPE_IPV4;
    rte_flow_item_ipv6 <- RTE_FLOW_ITEM_TYPE_IPV6;
    rte_flow_item_ipv6_frag_ext <- RTE_FLOW_ITEM_TYPE_IPV6_FRAG_EXT;
    rte_flow_item_tcp <- RTE_FLOW_ITEM_TYPE_TCP;
    rte_flow_item_udp <- RTE_FLOW_ITEM_TYPE_UDP;
    rte_flow_item_sctp <- RTE_FLOW_ITEM_TYPE_SCTP;
    rte_flow_item_icmp <- RTE_FLOW_ITEM_TYPE_ICMP;
    rte_flow_item_icmp6 <- RTE_FLOW_ITEM_TYPE_ICMP6;
    rte_flow_item_arp_eth_ipv4 <- RTE_FLOW_ITEM_TYPE_ARP_ETH_IPV4;
    rte_flow_item_icmp6_nd_ns <- RTE_FLOW_ITEM_TYPE_ICMP6_ND_NS;
    rte_flow_item_icmp6_nd_na <- RTE_FLOW_ITEM_TYPE_ICMP6_ND_NA;
    rte_flow_item_icmp6_nd_opt_sla_eth <- RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_SLA_ETH;
    rte_flow_item_icmp6_nd_opt_tla_eth <- RTE_FLOW_ITEM_TYPE_ICMP6_ND_OPT_TLA_ETH;
    rte_flow_item_tag <- RTE_FLOW_ITEM_TYPE_TAG;
    rte_flow_item_meta <- RTE_FLOW_ITEM_TYPE_META;
    rte_flow_item_mark <- RTE_FLOW_ITEM_TYPE_MARK;
    rte_flow_item_ethdev <- RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT | RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR;
    rte_flow_item_vxlan <- RTE_FLOW_ITEM_TYPE_VXLAN;
    rte_flow_item_geneve <- RTE_FLOW_ITEM_TYPE_GENEVE;
}

/// The action table: conf struct ← the type codes it serves.
macro_rules! action_confs {
    ($($ty:ident <- $($code:ident)|+;)*) => {
        $(
            // Safety: rte_flow.h defines `$ty` as the conf of exactly these
            // action types (DPDK 22.11).
            unsafe impl ActionConf for ffi::$ty {
                #[inline]
                fn is_for(t: ffi::rte_flow_action_type) -> bool {
                    matches!(t, $(ffi::$code)|+)
                }
            }
        )*

        /// Bytes DPDK reads behind an action's conf, for the action types
        /// of the table; `None` for others (END, VOID, DROP and the other
        /// actions without a conf, types this crate never emits).
        pub fn action_conf_size(t: ffi::rte_flow_action_type) -> Option<usize> {
            match t {
                $($(ffi::$code)|+ => Some(size_of::<ffi::$ty>()),)*
                _ => None,
            }
        }
    };
}

action_confs! {
    rte_flow_action_count <- RTE_FLOW_ACTION_TYPE_COUNT;
    rte_flow_action_jump <- RTE_FLOW_ACTION_TYPE_JUMP;
    rte_flow_action_mark <- RTE_FLOW_ACTION_TYPE_MARK;
    rte_flow_action_set_tag <- RTE_FLOW_ACTION_TYPE_SET_TAG;
    rte_flow_action_set_meta <- RTE_FLOW_ACTION_TYPE_SET_META;
    rte_flow_action_queue <- RTE_FLOW_ACTION_TYPE_QUEUE;
    rte_flow_action_ethdev <- RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT | RTE_FLOW_ACTION_TYPE_PORT_REPRESENTOR;
    rte_flow_action_set_mac <- RTE_FLOW_ACTION_TYPE_SET_MAC_SRC | RTE_FLOW_ACTION_TYPE_SET_MAC_DST;
    rte_flow_action_set_ipv4 <- RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC | RTE_FLOW_ACTION_TYPE_SET_IPV4_DST;
    rte_flow_action_set_ipv6 <- RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC | RTE_FLOW_ACTION_TYPE_SET_IPV6_DST;
    rte_flow_action_set_tp <- RTE_FLOW_ACTION_TYPE_SET_TP_SRC | RTE_FLOW_ACTION_TYPE_SET_TP_DST;
    rte_flow_action_set_ttl <- RTE_FLOW_ACTION_TYPE_SET_TTL;
    rte_flow_action_set_dscp <- RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP | RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP;
    rte_flow_action_modify_field <- RTE_FLOW_ACTION_TYPE_MODIFY_FIELD;
    rte_flow_action_of_push_vlan <- RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN;
    rte_flow_action_of_set_vlan_vid <- RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID;
    rte_flow_action_of_set_vlan_pcp <- RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP;
    rte_flow_action_raw_encap <- RTE_FLOW_ACTION_TYPE_RAW_ENCAP;
    rte_flow_action_raw_decap <- RTE_FLOW_ACTION_TYPE_RAW_DECAP;
    rte_flow_action_sample <- RTE_FLOW_ACTION_TYPE_SAMPLE;
}

/// The panic of a typed read whose struct does not match the type code:
/// out of line and cold, so the check costs the reads one compare.
#[cold]
#[inline(never)]
#[track_caller]
fn wrong_struct<T>(what: &str, type_: u32) -> ! {
    panic!(
        "{} is not the {what} type {type_}",
        std::any::type_name::<T>()
    )
}

/// The pattern and actions of one rule, readable through typed views.
#[derive(Debug, Clone, Copy)]
pub struct RuleView<'a> {
    pattern: &'a [ffi::rte_flow_item],
    actions: &'a [ffi::rte_flow_action],
}

impl RteRule {
    /// The rule's items and actions as typed views, or `None` when the rule
    /// is not sealed (its pointers are not written yet).
    pub fn view(&self) -> Option<RuleView<'_>> {
        // A sealed rule's pointers point into its own arena at copies of
        // structs pushed under `push_item`/`push_action`'s contract: the
        // struct of each type code, and nested pointers relocated into the
        // arena. That is `from_raw`'s contract, kept for as long as `self`
        // is borrowed (sealing again needs `&mut`).
        self.is_sealed().then(|| RuleView {
            pattern: self.pattern(),
            actions: self.actions(),
        })
    }
}

impl<'a> RuleView<'a> {
    /// A view of arrays built elsewhere (by DPDK's `rte_flow_conv`, say).
    ///
    /// # Safety
    ///
    /// For as long as `'a`: every non-NULL spec, last and mask of an item
    /// whose type is in [`item_size`]'s table points at a readable struct of
    /// that type; every non-NULL conf of an action whose type is in
    /// [`action_conf_size`]'s table points at its readable conf struct; a
    /// RAW_ENCAP conf's `data` points at `size` readable bytes and a SAMPLE
    /// conf's `actions` at an END-terminated action list that satisfies
    /// this same contract.
    pub unsafe fn from_raw(
        pattern: &'a [ffi::rte_flow_item],
        actions: &'a [ffi::rte_flow_action],
    ) -> Self {
        Self { pattern, actions }
    }

    /// The items, END included when the arrays have it.
    pub fn items(self) -> impl ExactSizeIterator<Item = ItemView<'a>> + Clone {
        self.pattern.iter().map(|item| ItemView {
            item,
            _rule: PhantomData,
        })
    }

    /// The actions, END included when the arrays have it.
    pub fn actions(self) -> ActionViews<'a> {
        ActionViews(self.actions.iter())
    }
}

/// The actions of a [`RuleView`] or of a SAMPLE ([`ActionView::sample_actions`]).
#[derive(Debug, Clone)]
pub struct ActionViews<'a>(std::slice::Iter<'a, ffi::rte_flow_action>);

impl<'a> Iterator for ActionViews<'a> {
    type Item = ActionView<'a>;

    #[inline]
    fn next(&mut self) -> Option<ActionView<'a>> {
        self.0.next().map(|action| ActionView { action })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for ActionViews<'_> {}

/// Which of an item's three pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `spec`: the values to match.
    Spec,
    /// `last`: the upper bound of a range.
    Last,
    /// `mask`: the bits that matter.
    Mask,
}

/// One item of a [`RuleView`].
#[derive(Debug, Clone, Copy)]
pub struct ItemView<'a> {
    item: &'a ffi::rte_flow_item,
    _rule: PhantomData<&'a RteRule>,
}

impl<'a> ItemView<'a> {
    /// `rte_flow_item.type`.
    #[inline]
    pub fn type_(self) -> ffi::rte_flow_item_type {
        self.item.type_
    }

    #[inline]
    fn ptr(self, part: Part) -> *const libc::c_void {
        match part {
            Part::Spec => self.item.spec,
            Part::Last => self.item.last,
            Part::Mask => self.item.mask,
        }
    }

    /// Whether `part` is set (not NULL).
    #[inline]
    pub fn has(self, part: Part) -> bool {
        !self.ptr(part).is_null()
    }

    /// A copy of `part` as the struct `T`, `None` when it is NULL.
    ///
    /// # Panics
    ///
    /// If `T` is not the struct DPDK reads for this item's type.
    #[inline]
    pub fn get<T: ItemStruct>(self, part: Part) -> Option<T> {
        if !T::is_for(self.item.type_) {
            wrong_struct::<T>("struct of item", self.item.type_);
        }
        let p = self.ptr(part);
        // Safety: the view's contract (RuleView::from_raw, or a sealed
        // RteRule) puts a readable struct of the item's type behind every
        // non-NULL pointer, and the assert made T that struct. Unaligned:
        // DPDK does not promise alignment for arrays built elsewhere.
        (!p.is_null()).then(|| unsafe { p.cast::<T>().read_unaligned() })
    }

    /// [`get`](Self::get) of the spec.
    #[inline]
    pub fn spec<T: ItemStruct>(self) -> Option<T> {
        self.get(Part::Spec)
    }

    /// [`get`](Self::get) of the mask.
    #[inline]
    pub fn mask<T: ItemStruct>(self) -> Option<T> {
        self.get(Part::Mask)
    }

    /// [`get`](Self::get) of last.
    #[inline]
    pub fn last<T: ItemStruct>(self) -> Option<T> {
        self.get(Part::Last)
    }

    /// The bytes of `part` ([`item_size`] of them), `None` when it is NULL.
    ///
    /// # Panics
    ///
    /// If `part` is set on an item whose type is not in [`item_size`]'s
    /// table (the view does not know how many bytes are there).
    #[inline]
    pub fn bytes(self, part: Part) -> Option<&'a [u8]> {
        let p = self.ptr(part);
        if p.is_null() {
            return None;
        }
        let Some(len) = item_size(self.item.type_) else {
            panic!(
                "item type {} has no struct in the view's table",
                self.item.type_
            )
        };
        // Safety: the view's contract puts a readable struct of the item's
        // type, `len` bytes, behind the pointer for 'a.
        Some(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
    }
}

impl<'a> ItemView<'a> {
    /// The bytes of spec, last and mask, in that order ([`item_size`] of
    /// each, looked up once), `None` where the pointer is NULL.
    ///
    /// # Panics
    ///
    /// As [`bytes`](Self::bytes).
    #[inline]
    pub fn all_bytes(self) -> [Option<&'a [u8]>; 3] {
        let (spec, last, mask) = (self.item.spec, self.item.last, self.item.mask);
        if spec.is_null() && last.is_null() && mask.is_null() {
            return [None; 3];
        }
        let Some(len) = item_size(self.item.type_) else {
            panic!(
                "item type {} has no struct in the view's table",
                self.item.type_
            )
        };
        let part = |p: *const libc::c_void| {
            // Safety: as in `bytes`: a readable struct of the item's type,
            // `len` bytes, behind every non-NULL pointer for 'a.
            (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
        };
        [part(spec), part(last), part(mask)]
    }
}

/// One action of a [`RuleView`] (or of a SAMPLE's sub-action list).
#[derive(Debug, Clone, Copy)]
pub struct ActionView<'a> {
    action: &'a ffi::rte_flow_action,
}

impl<'a> ActionView<'a> {
    /// `rte_flow_action.type`.
    #[inline]
    pub fn type_(self) -> ffi::rte_flow_action_type {
        self.action.type_
    }

    /// Whether the conf is set (not NULL).
    #[inline]
    pub fn has_conf(self) -> bool {
        !self.action.conf.is_null()
    }

    /// A copy of the conf as the struct `T`, `None` when it is NULL.
    ///
    /// # Panics
    ///
    /// If `T` is not the conf struct DPDK reads for this action's type.
    #[inline]
    pub fn conf<T: ActionConf>(self) -> Option<T> {
        if !T::is_for(self.action.type_) {
            wrong_struct::<T>("conf of action", self.action.type_);
        }
        let p = self.action.conf;
        // Safety: the view's contract puts the conf struct of the action's
        // type behind a non-NULL conf, and the assert made T that struct.
        (!p.is_null()).then(|| unsafe { p.cast::<T>().read_unaligned() })
    }

    /// The bytes of the conf ([`action_conf_size`] of them), `None` when it
    /// is NULL.
    ///
    /// # Panics
    ///
    /// If the conf is set on an action whose type is not in
    /// [`action_conf_size`]'s table.
    pub fn conf_bytes(self) -> Option<&'a [u8]> {
        let p = self.action.conf;
        if p.is_null() {
            return None;
        }
        let Some(len) = action_conf_size(self.action.type_) else {
            panic!(
                "action type {} has no conf struct in the view's table",
                self.action.type_
            )
        };
        // Safety: the view's contract puts the conf struct of the action's
        // type, `len` bytes, behind a non-NULL conf for 'a.
        Some(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
    }

    /// A RAW_ENCAP's header bytes (`data[..size]`); `None` when the conf or
    /// its data is NULL.
    ///
    /// # Panics
    ///
    /// If the action is not RAW_ENCAP.
    pub fn raw_encap_data(self) -> Option<&'a [u8]> {
        let c = self.conf::<ffi::rte_flow_action_raw_encap>()?;
        if c.data.is_null() {
            return None;
        }
        // Safety: the view's contract: a RAW_ENCAP conf's data points at
        // `size` readable bytes for 'a.
        Some(unsafe { std::slice::from_raw_parts(c.data.cast_const(), c.size) })
    }

    /// A SAMPLE's sub-actions, up to and without their END, reading at most
    /// `max` entries: `None` when the conf or its list is NULL,
    /// `Some(Err(()))` when no END came within `max`.
    ///
    /// # Panics
    ///
    /// If the action is not SAMPLE.
    pub fn sample_actions(self, max: usize) -> Option<Result<SampleActions<'a>, ()>> {
        let c = self.conf::<ffi::rte_flow_action_sample>()?;
        if c.actions.is_null() {
            return None;
        }
        for k in 0..max {
            // Safety: the view's contract: the list is END-terminated and
            // readable for 'a; k advances only while no END was seen.
            let a = unsafe { &*c.actions.add(k) };
            if a.type_ == ffi::RTE_FLOW_ACTION_TYPE_END {
                // Safety: the k entries before END were just read.
                let list = unsafe { std::slice::from_raw_parts(c.actions, k) };
                return Some(Ok(SampleActions { list }));
            }
        }
        Some(Err(()))
    }
}

/// The sub-actions of a SAMPLE action, END excluded.
#[derive(Debug, Clone, Copy)]
pub struct SampleActions<'a> {
    list: &'a [ffi::rte_flow_action],
}

impl<'a> SampleActions<'a> {
    /// The raw entries (for templates and error indexes).
    pub fn raw(self) -> &'a [ffi::rte_flow_action] {
        self.list
    }

    /// The sub-actions as views.
    pub fn iter(self) -> ActionViews<'a> {
        ActionViews(self.list.iter())
    }
}

/// The 16 value bytes of a MODIFY_FIELD operand with id VALUE (the
/// operand's other members, and their layout per DPDK release, are
/// [`super::field_data`]'s).
pub fn modify_value(d: &super::field_data::FieldData) -> [u8; 16] {
    // Safety: every variant of the union is plain integers or bytes, and the
    // union is at least 16 bytes: any bits read as the value are valid.
    unsafe { d.__bindgen_anon_1.value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> RteRule {
        let mut r = RteRule::new();
        let mut ip = ffi::rte_flow_item_ipv4::default();
        ip.hdr.time_to_live = 64;
        let mut mask = ffi::rte_flow_item_ipv4::default();
        mask.hdr.time_to_live = 0xff;
        // Safety: IPV4 items take rte_flow_item_ipv4, JUMP rte_flow_action_jump.
        unsafe {
            r.push_item(ffi::RTE_FLOW_ITEM_TYPE_IPV4, Some(&ip), Some(&mask), None);
            r.push_action(
                ffi::RTE_FLOW_ACTION_TYPE_JUMP,
                Some(&ffi::rte_flow_action_jump { group: 7 }),
            );
        }
        r
    }

    #[test]
    fn an_unsealed_rule_has_no_view() {
        let mut r = rule();
        assert!(r.view().is_none());
        r.seal();
        assert!(r.view().is_some());
    }

    #[test]
    fn typed_reads_and_bytes_agree() {
        let mut r = rule();
        r.seal();
        let v = r.view().unwrap();
        let ip = v.items().next().unwrap();
        assert_eq!(
            ip.spec::<ffi::rte_flow_item_ipv4>()
                .unwrap()
                .hdr
                .time_to_live,
            64
        );
        assert!(ip.last::<ffi::rte_flow_item_ipv4>().is_none() && !ip.has(Part::Last));
        let bytes = ip.bytes(Part::Mask).unwrap();
        assert_eq!(bytes.len(), size_of::<ffi::rte_flow_item_ipv4>());
        assert_eq!(bytes[8], 0xff, "time_to_live is byte 8 of the IPv4 header");
        let jump = v.actions().next().unwrap();
        assert_eq!(jump.conf::<ffi::rte_flow_action_jump>().unwrap().group, 7);
        assert_eq!(v.items().len(), 2, "IPV4 + END");
    }

    #[test]
    #[should_panic(expected = "is not the struct of item type")]
    fn the_wrong_item_struct_is_refused() {
        let mut r = rule();
        r.seal();
        let ip = r.view().unwrap().items().next().unwrap();
        let _ = ip.spec::<ffi::rte_flow_item_ipv6>();
    }

    #[test]
    #[should_panic(expected = "is not the conf of action type")]
    fn the_wrong_conf_struct_is_refused() {
        let mut r = rule();
        r.seal();
        let jump = r.view().unwrap().actions().next().unwrap();
        let _ = jump.conf::<ffi::rte_flow_action_queue>();
    }

    #[test]
    fn every_emitted_type_has_a_size() {
        use crate::rule::{ActionKind, ItemKind};
        // Every item kind the rule vocabulary names has a struct here.
        assert_eq!(ItemKind::ALL.len(), 22);
        for t in [
            ffi::RTE_FLOW_ITEM_TYPE_ETH,
            ffi::RTE_FLOW_ITEM_TYPE_GENEVE,
            ffi::RTE_FLOW_ITEM_TYPE_PORT_REPRESENTOR,
        ] {
            assert!(item_size(t).is_some(), "{t}");
        }
        assert_eq!(item_size(ffi::RTE_FLOW_ITEM_TYPE_END), None);
        assert_eq!(ActionKind::ALL.len(), 30);
        assert_eq!(action_conf_size(ffi::RTE_FLOW_ACTION_TYPE_DROP), None);
        assert_eq!(
            action_conf_size(ffi::RTE_FLOW_ACTION_TYPE_SAMPLE),
            Some(size_of::<ffi::rte_flow_action_sample>())
        );
    }
}
