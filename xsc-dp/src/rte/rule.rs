//! [`RteRule`]: one rte_flow rule as the exact C arrays DPDK takes, owned
//! together with every byte they point to.
//!
//! Items and actions are pushed with their spec/mask/last and conf structs,
//! which are copied into one 8-byte-aligned arena. Pointers are written only
//! by [`RteRule::seal`], after the last push, so the arena may grow freely
//! while the rule is built; a sealed rule's pointers stay valid while the
//! rule lives and is not modified (moving the `RteRule` does not move its
//! heap buffers). Buffers keep their capacity across [`RteRule::clear`], so
//! a rule reused for a batch allocates nothing in steady state.

use std::fmt;
use std::mem::{align_of, size_of};

use crate::ffi;
use crate::rule::Direction;

/// A position in a rule's arena, returned by [`RteRule::alloc`] and used to
/// point one arena object at another ([`RteRule::reloc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArenaRef(u32);

impl ArenaRef {
    /// The byte offset `offset` inside the referenced object, e.g. the
    /// address of one of its pointer fields. Only arithmetic: whether the
    /// result lies inside a rule's arena is checked where it is used
    /// ([`RteRule::reloc`]).
    ///
    /// # Panics
    ///
    /// If the offset leaves the arena's 32-bit address space.
    pub fn field(self, offset: usize) -> ArenaRef {
        let at = u32::try_from(offset)
            .ok()
            .and_then(|o| self.0.checked_add(o))
            .filter(|&at| at != NONE);
        match at {
            Some(at) => ArenaRef(at),
            None => panic!("arena offset {} + {offset} overflows", self.0),
        }
    }
}

const NONE: u32 = u32::MAX;

impl ArenaRef {
    /// The reference to byte `at` of an arena.
    fn at(at: usize) -> Self {
        match u32::try_from(at) {
            Ok(at) if at != NONE => Self(at),
            _ => panic!("rule arena over 4 GiB (offset {at})"),
        }
    }
}

/// One owned rte_flow rule: attributes, END-terminated pattern and actions.
pub struct RteRule {
    attr: ffi::rte_flow_attr,
    items: Vec<ffi::rte_flow_item>,
    actions: Vec<ffi::rte_flow_action>,
    /// Where each item's spec, mask and last live in the arena (`NONE`: NULL).
    item_refs: Vec<[u32; 3]>,
    /// Where each action's conf lives in the arena.
    action_refs: Vec<u32>,
    /// `(pointer slot, target)`: arena pointers to patch on seal.
    relocs: Vec<(u32, u32)>,
    arena: Vec<u64>,
    /// Bytes used in the arena.
    used: usize,
    sealed: bool,
}

// Safety: every pointer inside an RteRule points into its own heap buffers,
// which move with it between threads and are only written through &mut.
unsafe impl Send for RteRule {}
// Safety: shared access only reads.
unsafe impl Sync for RteRule {}

impl Default for RteRule {
    fn default() -> Self {
        Self::new()
    }
}

impl RteRule {
    /// An empty rule: group 0, priority 0, no direction, no items or actions.
    pub fn new() -> Self {
        Self {
            attr: ffi::rte_flow_attr::default(),
            items: Vec::new(),
            actions: Vec::new(),
            item_refs: Vec::new(),
            action_refs: Vec::new(),
            relocs: Vec::new(),
            arena: Vec::new(),
            used: 0,
            sealed: false,
        }
    }

    /// Empties the rule, keeping every buffer's capacity.
    pub fn clear(&mut self) {
        self.attr = ffi::rte_flow_attr::default();
        self.items.clear();
        self.actions.clear();
        self.item_refs.clear();
        self.action_refs.clear();
        self.relocs.clear();
        self.used = 0;
        self.sealed = false;
    }

    /// Sets `rte_flow_attr`: group, priority and direction bits.
    pub fn set_attr(&mut self, group: u32, priority: u32, dir: Direction) {
        let mut attr = ffi::rte_flow_attr {
            group,
            priority,
            ..Default::default()
        };
        attr.set_ingress(u32::from(dir == Direction::Ingress));
        attr.set_egress(u32::from(dir == Direction::Egress));
        attr.set_transfer(u32::from(dir == Direction::Transfer));
        self.attr = attr;
        self.sealed = false;
    }

    /// Copies `value` into the arena and returns where it is.
    ///
    /// `T` must be a plain C struct from the bindings (no Rust-owned
    /// pointers); its alignment must be at most 8.
    pub fn alloc<T: Copy>(&mut self, value: &T) -> ArenaRef {
        const { assert!(align_of::<T>() <= 8, "arena objects are at most 8-aligned") };
        let at = self.reserve(size_of::<T>(), align_of::<T>());
        // Safety: reserve made [at, at + size_of::<T>()) valid, zeroed and
        // aligned for T inside the arena; T is Copy, so a bitwise copy is a
        // valid value.
        unsafe {
            let dst = self.arena.as_mut_ptr().cast::<u8>().add(at).cast::<T>();
            std::ptr::write(dst, *value);
        }
        self.sealed = false;
        ArenaRef::at(at)
    }

    /// Copies a slice of C structs into the arena, contiguous, and returns
    /// where the first is (an action list referenced by a SAMPLE conf, say).
    pub fn alloc_slice<T: Copy>(&mut self, values: &[T]) -> ArenaRef {
        const { assert!(align_of::<T>() <= 8, "arena objects are at most 8-aligned") };
        let at = self.reserve(std::mem::size_of_val(values), align_of::<T>());
        // Safety: reserve made the range valid, zeroed and aligned for T;
        // the source does not overlap the arena.
        unsafe {
            let dst = self.arena.as_mut_ptr().cast::<u8>().add(at).cast::<T>();
            std::ptr::copy_nonoverlapping(values.as_ptr(), dst, values.len());
        }
        self.sealed = false;
        ArenaRef::at(at)
    }

    /// Copies raw bytes (an encap header, say) into the arena.
    pub fn alloc_bytes(&mut self, bytes: &[u8]) -> ArenaRef {
        let at = self.reserve(bytes.len(), 1);
        // Safety: reserve made [at, at + len) valid inside the arena.
        unsafe {
            let dst = self.arena.as_mut_ptr().cast::<u8>().add(at);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        }
        self.sealed = false;
        ArenaRef::at(at)
    }

    /// Records that the pointer-sized field at `slot` (inside an object
    /// allocated with [`alloc`](Self::alloc)) must point to `target` once
    /// the rule is sealed. This is how a RAW_ENCAP conf points at its header
    /// bytes and a SAMPLE conf at its sub-action list.
    ///
    /// # Panics
    ///
    /// If `slot` is not a pointer-aligned, pointer-sized place inside the
    /// arena as allocated so far, or `target` lies beyond it:
    /// [`seal`](Self::seal) writes through `slot`, so both are checked here,
    /// always.
    pub fn reloc(&mut self, slot: ArenaRef, target: ArenaRef) {
        let ptr = size_of::<*const libc::c_void>();
        let at = slot.0 as usize;
        assert!(
            at % align_of::<*const libc::c_void>() == 0,
            "reloc: pointer slot at arena offset {at} is not pointer-aligned"
        );
        assert!(
            at + ptr <= self.used,
            "reloc: pointer slot at arena offset {at} is outside the {} bytes allocated",
            self.used
        );
        assert!(
            target.0 as usize <= self.used,
            "reloc: target at arena offset {} is outside the {} bytes allocated",
            target.0,
            self.used
        );
        self.relocs.push((slot.0, target.0));
        self.sealed = false;
    }

    /// Appends a pattern item; `spec`, `mask` and `last` are copied.
    ///
    /// # Safety
    ///
    /// `T` must be the struct DPDK reads for `type_` (`rte_flow_item_ipv4`
    /// for `RTE_FLOW_ITEM_TYPE_IPV4`, ...), or at least as large: DPDK, and
    /// the software eswitch, read that many bytes behind each pointer.
    /// [`lower()`](crate::rte::lower()) is the safe way to build rules.
    pub unsafe fn push_item<T: Copy>(
        &mut self,
        type_: ffi::rte_flow_item_type,
        spec: Option<&T>,
        mask: Option<&T>,
        last: Option<&T>,
    ) {
        let refs = [spec, mask, last].map(|v| v.map_or(NONE, |v| self.alloc(v).0));
        self.items.push(ffi::rte_flow_item {
            type_,
            ..Default::default()
        });
        self.item_refs.push(refs);
        self.sealed = false;
    }

    /// Appends an action; `conf` is copied.
    ///
    /// # Safety
    ///
    /// `T` must be the conf struct DPDK reads for `type_`, and any pointer
    /// in it must point into this rule's arena (see [`reloc`](Self::reloc)).
    pub unsafe fn push_action<T: Copy>(
        &mut self,
        type_: ffi::rte_flow_action_type,
        conf: Option<&T>,
    ) -> Option<ArenaRef> {
        let conf = conf.map(|c| self.alloc(c));
        // Safety: the caller's contract: `T` is the conf struct of `type_`.
        unsafe { self.push_action_at(type_, conf) };
        conf
    }

    /// Appends an action whose conf is already in the arena (built with
    /// [`alloc`](Self::alloc) and [`reloc`](Self::reloc)).
    ///
    /// # Safety
    ///
    /// `conf` must hold the conf struct DPDK reads for `type_`, with any
    /// pointer in it relocated into this rule's arena.
    ///
    /// # Panics
    ///
    /// If `conf` lies beyond the arena as allocated so far.
    pub unsafe fn push_action_at(
        &mut self,
        type_: ffi::rte_flow_action_type,
        conf: Option<ArenaRef>,
    ) {
        if let Some(c) = conf {
            assert!(
                c.0 as usize <= self.used,
                "push_action_at: conf at arena offset {} is outside the {} bytes allocated",
                c.0,
                self.used
            );
        }
        self.actions.push(ffi::rte_flow_action {
            type_,
            conf: std::ptr::null(),
        });
        self.action_refs.push(conf.map_or(NONE, |r| r.0));
        self.sealed = false;
    }

    /// Terminates the pattern and actions with END and writes every pointer.
    /// Idempotent. After it, [`pattern`](Self::pattern) and
    /// [`actions`](Self::actions) are what DPDK takes.
    pub fn seal(&mut self) {
        if self.sealed {
            return;
        }
        let end_item = self
            .items
            .last()
            .is_some_and(|i| i.type_ == ffi::RTE_FLOW_ITEM_TYPE_END);
        if !end_item {
            self.items.push(ffi::rte_flow_item {
                type_: ffi::RTE_FLOW_ITEM_TYPE_END,
                ..Default::default()
            });
            self.item_refs.push([NONE; 3]);
        }
        let end_action = self
            .actions
            .last()
            .is_some_and(|a| a.type_ == ffi::RTE_FLOW_ACTION_TYPE_END);
        if !end_action {
            self.actions.push(ffi::rte_flow_action {
                type_: ffi::RTE_FLOW_ACTION_TYPE_END,
                conf: std::ptr::null(),
            });
            self.action_refs.push(NONE);
        }
        let base = self.arena.as_mut_ptr().cast::<u8>();
        let at = |off: u32| -> *const libc::c_void {
            if off == NONE {
                std::ptr::null()
            } else {
                // Safety: every recorded offset is at most `used`, inside
                // the arena or one past its end: spec/mask/last/conf come
                // from `alloc`, and `push_action_at` and `reloc` assert it
                // for the offsets they are handed.
                unsafe { base.add(off as usize) }.cast_const().cast()
            }
        };
        for (item, refs) in self.items.iter_mut().zip(&self.item_refs) {
            item.spec = at(refs[0]);
            item.mask = at(refs[1]);
            item.last = at(refs[2]);
        }
        for (action, &conf) in self.actions.iter_mut().zip(&self.action_refs) {
            action.conf = at(conf);
        }
        for &(slot, target) in &self.relocs {
            // Safety: `reloc` asserted that slot is pointer-aligned and that
            // slot + size_of::<pointer>() <= used <= the arena's length, and
            // `clear` drops relocs with the bytes they point into.
            unsafe {
                base.add(slot as usize)
                    .cast::<*const libc::c_void>()
                    .write(at(target))
            };
        }
        self.sealed = true;
    }

    /// Whether [`seal`](Self::seal) ran after the last change.
    pub fn is_sealed(&self) -> bool {
        self.sealed
    }

    /// The attributes.
    pub fn attr(&self) -> &ffi::rte_flow_attr {
        &self.attr
    }

    /// The pattern, END-terminated once sealed.
    pub fn pattern(&self) -> &[ffi::rte_flow_item] {
        &self.items
    }

    /// The actions, END-terminated once sealed.
    pub fn actions(&self) -> &[ffi::rte_flow_action] {
        &self.actions
    }

    fn reserve(&mut self, size: usize, align: usize) -> usize {
        let at = self.used.next_multiple_of(align.max(1));
        let end = at + size;
        let words = end.div_ceil(8);
        if words > self.arena.len() {
            self.arena.resize(words, 0);
        }
        // Zero what a previous use of the buffer left, so that padding and
        // bitfields DPDK reads are 0.
        // Safety: [at, end) is inside the arena after the resize.
        unsafe { std::ptr::write_bytes(self.arena.as_mut_ptr().cast::<u8>().add(at), 0, size) };
        self.used = end;
        at
    }
}

impl Clone for RteRule {
    fn clone(&self) -> Self {
        let mut copy = Self {
            attr: self.attr,
            items: self.items.clone(),
            actions: self.actions.clone(),
            item_refs: self.item_refs.clone(),
            action_refs: self.action_refs.clone(),
            relocs: self.relocs.clone(),
            arena: self.arena.clone(),
            used: self.used,
            sealed: false,
        };
        // The copied pointers point into self's arena: rewrite them.
        if self.sealed {
            copy.seal();
        }
        copy
    }
}

impl fmt::Debug for RteRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RteRule")
            .field("group", &self.attr.group)
            .field("priority", &self.attr.priority)
            .field(
                "items",
                &self.items.iter().map(|i| i.type_).collect::<Vec<_>>(),
            )
            .field(
                "actions",
                &self.actions.iter().map(|a| a.type_).collect::<Vec<_>>(),
            )
            .field("arena_bytes", &self.used)
            .field("sealed", &self.sealed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(dst: [u8; 4]) -> ffi::rte_flow_item_ipv4 {
        let mut v = ffi::rte_flow_item_ipv4::default();
        v.hdr.dst_addr = u32::from_ne_bytes(dst);
        v
    }

    #[test]
    fn sealed_pointers_point_at_copies_of_the_specs() {
        let mut rule = RteRule::new();
        rule.set_attr(3, 1, Direction::Transfer);
        // Safety: the struct is the one DPDK reads for the type.
        unsafe {
            rule.push_item::<ffi::rte_flow_item_eth>(ffi::RTE_FLOW_ITEM_TYPE_ETH, None, None, None);
        }
        // Safety: the struct is the one DPDK reads for the type.
        unsafe {
            rule.push_item(
                ffi::RTE_FLOW_ITEM_TYPE_IPV4,
                Some(&ipv4([10, 0, 0, 1])),
                Some(&ipv4([255; 4])),
                None,
            )
        };
        // Safety: the struct is the one DPDK reads for the type.
        unsafe {
            rule.push_action(
                ffi::RTE_FLOW_ACTION_TYPE_JUMP,
                Some(&ffi::rte_flow_action_jump { group: 7 }),
            );
        }
        assert!(!rule.is_sealed());
        rule.seal();
        assert!(rule.is_sealed());
        assert_eq!(rule.attr().group, 3);
        assert_eq!(rule.attr().transfer(), 1);
        assert_eq!(rule.attr().ingress(), 0);
        let items = rule.pattern();
        assert_eq!(items.len(), 3);
        assert_eq!(items[2].type_, ffi::RTE_FLOW_ITEM_TYPE_END);
        assert!(items[0].spec.is_null() && items[0].mask.is_null());
        // Safety: sealed pointers point at arena copies of the given structs.
        let spec = unsafe { &*items[1].spec.cast::<ffi::rte_flow_item_ipv4>() };
        // Safety: as above.
        let mask = unsafe { &*items[1].mask.cast::<ffi::rte_flow_item_ipv4>() };
        assert_eq!({ spec.hdr.dst_addr }.to_ne_bytes(), [10, 0, 0, 1]);
        assert_eq!({ mask.hdr.dst_addr }, u32::MAX);
        assert!(items[1].last.is_null());
        let actions = rule.actions();
        assert_eq!(actions.len(), 2);
        // Safety: as above.
        let jump = unsafe { &*actions[0].conf.cast::<ffi::rte_flow_action_jump>() };
        assert_eq!(jump.group, 7);
        assert_eq!(actions[1].type_, ffi::RTE_FLOW_ACTION_TYPE_END);
    }

    #[test]
    fn relocations_survive_arena_growth_and_clone() {
        let mut rule = RteRule::new();
        let header = [0xAAu8; 50];
        let bytes = rule.alloc_bytes(&header);
        let conf = rule.alloc(&ffi::rte_flow_action_raw_encap {
            data: std::ptr::null_mut(),
            preserve: std::ptr::null_mut(),
            size: 50,
        });
        rule.reloc(
            conf.field(std::mem::offset_of!(ffi::rte_flow_action_raw_encap, data)),
            bytes,
        );
        // Safety: the struct is the one DPDK reads for the type.
        unsafe { rule.push_action_at(ffi::RTE_FLOW_ACTION_TYPE_RAW_ENCAP, Some(conf)) };
        // Grow the arena well past its first allocation before sealing.
        for i in 0..64u32 {
            // Safety: the struct is the one DPDK reads for the type.
            unsafe {
                rule.push_action(
                    ffi::RTE_FLOW_ACTION_TYPE_MARK,
                    Some(&ffi::rte_flow_action_mark { id: i }),
                );
            }
        }
        rule.seal();
        let copy = rule.clone();
        drop(rule);
        let encap = copy.actions()[0];
        // Safety: sealed conf pointers point into copy's arena.
        let encap = unsafe { &*encap.conf.cast::<ffi::rte_flow_action_raw_encap>() };
        assert_eq!(encap.size, 50);
        // Safety: data was relocated to the 50 header bytes in copy's arena.
        let data = unsafe { std::slice::from_raw_parts(encap.data, 50) };
        assert_eq!(data, &header);
        // Safety: as above.
        let last_mark = unsafe { &*copy.actions()[64].conf.cast::<ffi::rte_flow_action_mark>() };
        assert_eq!(last_mark.id, 63);
    }

    #[test]
    fn clear_reuses_buffers() {
        let mut rule = RteRule::new();
        // Safety: the struct is the one DPDK reads for the type.
        unsafe {
            rule.push_action(
                ffi::RTE_FLOW_ACTION_TYPE_MARK,
                Some(&ffi::rte_flow_action_mark { id: u32::MAX }),
            );
        }
        rule.seal();
        let capacity = rule.arena.capacity();
        rule.clear();
        assert!(rule.pattern().is_empty() && rule.actions().is_empty());
        assert!(!rule.is_sealed());
        let r = rule.alloc(&ffi::rte_flow_action_jump { group: 5 });
        assert_eq!(r, ArenaRef(0));
        // Safety: the struct is the one DPDK reads for the type.
        unsafe { rule.push_action_at(ffi::RTE_FLOW_ACTION_TYPE_JUMP, Some(r)) };
        rule.seal();
        assert_eq!(rule.actions().len(), 2);
        // Safety: the sealed conf points at the jump in the arena.
        let jump = unsafe { &*rule.actions()[0].conf.cast::<ffi::rte_flow_action_jump>() };
        assert_eq!(jump.group, 5);
        assert_eq!(rule.arena.capacity(), capacity);
    }

    #[test]
    #[should_panic(expected = "is outside the 8 bytes allocated")]
    fn reloc_refuses_a_slot_past_the_arena() {
        let mut rule = RteRule::new();
        let word = rule.alloc(&0u64);
        rule.reloc(word.field(8), word);
    }

    #[test]
    #[should_panic(expected = "is not pointer-aligned")]
    fn reloc_refuses_a_misaligned_slot() {
        let mut rule = RteRule::new();
        let words = rule.alloc(&[0u64; 2]);
        rule.reloc(words.field(3), words);
    }

    #[test]
    #[should_panic(expected = "target at arena offset 4096 is outside")]
    fn reloc_refuses_a_target_past_the_arena() {
        let mut rule = RteRule::new();
        let word = rule.alloc(&0u64);
        rule.reloc(word, word.field(4096));
    }

    #[test]
    #[should_panic(expected = "outside the 0 bytes allocated")]
    fn reloc_refuses_refs_of_a_cleared_rule() {
        let mut rule = RteRule::new();
        let word = rule.alloc(&0u64);
        rule.clear();
        rule.reloc(word, word);
    }

    #[test]
    #[should_panic(expected = "overflows")]
    fn field_refuses_to_wrap() {
        let mut rule = RteRule::new();
        let word = rule.alloc(&0u64);
        let _ = word.field(usize::MAX);
    }

    #[test]
    #[should_panic(expected = "conf at arena offset 64 is outside")]
    fn push_action_at_refuses_a_conf_past_the_arena() {
        let mut rule = RteRule::new();
        let word = rule.alloc(&0u64);
        // Safety: the conf offset is what is under test; it panics before
        // anything is recorded.
        unsafe { rule.push_action_at(ffi::RTE_FLOW_ACTION_TYPE_COUNT, Some(word.field(64))) };
    }

    #[test]
    fn a_slot_at_the_end_of_the_arena_is_accepted() {
        let mut rule = RteRule::new();
        let words = rule.alloc(&[0u64; 2]);
        let slot = words.field(8);
        rule.reloc(slot, words);
        rule.seal();
        let base = rule.arena.as_ptr().cast::<u8>();
        // Safety: slot 8..16 is inside the 16-byte arena, aligned for a pointer.
        let written = unsafe { base.add(8).cast::<*const u8>().read() };
        assert_eq!(written, base);
    }
}
