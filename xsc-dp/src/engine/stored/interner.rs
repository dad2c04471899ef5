//! The interner: mask and action lists shared by many flows, kept once as
//! reference-counted blobs and found by their bytes; a mask blob also
//! holds its layout (`Shape`), worked out once. Port names are numbered
//! through its [`PortTable`] so that the same action list always encodes
//! to the same bytes.
//!
//! Must not depend on: anything in the crate but `crate::odp`.

use core::borrow::Borrow;
use core::fmt;
use core::hash::{Hash, Hasher};
use std::sync::Arc;

use hashbrown::HashSet;
use smallvec::SmallVec;

use crate::odp::netlink::{PortMap, PortTable};
use crate::odp::PortName;
use crate::odp::{Actions, FlowMask};

use super::packing::*;
use super::*;

/// What an interner holds: a value found by its bytes.
pub(super) trait Keyed {
    fn bytes(&self) -> &[u8];
    /// Heap bytes the value owns.
    fn heap_bytes(&self) -> usize;
}

impl Keyed for Box<[u8]> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn heap_bytes(&self) -> usize {
        self.len()
    }
}

/// An interned value behind a one-word pointer.
pub(super) struct Interned<T>(pub(super) Arc<T>);

impl<T: Keyed> Interned<T> {
    pub(super) fn bytes(&self) -> &[u8] {
        self.0.bytes()
    }
}

impl<T> Clone for Interned<T> {
    fn clone(&self) -> Self {
        Interned(Arc::clone(&self.0))
    }
}

impl<T: Keyed> Borrow<[u8]> for Interned<T> {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

// Hashes as the `[u8]` it borrows as, so that a `&[u8]` finds it.
impl<T: Keyed> Hash for Interned<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.bytes().hash(h);
    }
}

impl<T: Keyed> PartialEq for Interned<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.bytes() == other.bytes()
    }
}

impl<T: Keyed> Eq for Interned<T> {}

impl<T: Keyed> fmt::Debug for Interned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Interned({} bytes)", self.bytes().len())
    }
}

/// The interned value for `bytes`, made by `make` the first time.
pub(super) fn intern<T: Keyed>(
    set: &mut HashSet<Interned<T>>,
    bytes: &[u8],
    make: impl FnOnce(&[u8]) -> T,
) -> Interned<T> {
    if let Some(b) = set.get(bytes) {
        return b.clone();
    }
    let b = Interned(Arc::new(make(bytes)));
    set.insert(b.clone());
    b
}

/// Heap bytes of an interned set: the table, and per value the `Arc`'s two
/// counts, the value and what it owns.
pub(super) fn set_bytes<T: Keyed>(set: &HashSet<Interned<T>>) -> usize {
    let per_value = 2 * core::mem::size_of::<usize>() + core::mem::size_of::<T>();
    let values: usize = set.iter().map(|v| per_value + v.0.heap_bytes()).sum();
    // One slot and one control byte per bucket.
    values + set.capacity() * (core::mem::size_of::<Interned<T>>() + 1)
}

/// Reusable encoding buffers, so that storing a flow allocates only for a
/// blob not seen before or a key longer than [`INLINE_KEY_BYTES`].
#[derive(Debug, Default)]
pub(super) struct Scratch {
    pub(super) key: Vec<u8>,
    pub(super) mask: Vec<u8>,
    pub(super) actions: Vec<u8>,
    pub(super) out: Vec<u8>,
}

impl Scratch {
    pub(super) fn capacity(&self) -> usize {
        self.key.capacity() + self.mask.capacity() + self.actions.capacity() + self.out.capacity()
    }
}

/// Deduplicated mask and action lists, and the port-name numbering used to
/// encode them.
///
/// One per engine worker: it is `Send` but not shared between threads.  The
/// blobs it hands out are reference-counted, so flows outlive it and may be
/// read (and dropped) on any thread; [`Interner::sweep`] forgets the blobs
/// no flow holds any more.
pub struct Interner {
    pub(super) masks: HashSet<Interned<Shape>>,
    pub(super) actions: HashSet<Interned<Box<[u8]>>>,
    pub(super) ports: PortTable,
    pub(super) scratch: Scratch,
    pub(super) memo: Option<Box<Memo>>,
}

/// The last stored flow's mask and actions with their blobs. Flows come in
/// runs of one subtable with the same actions (a revalidation, a burst of
/// new connections), so the next one usually skips encoding and hashing
/// both.
pub(super) struct Memo {
    pub(super) mask: FlowMask,
    pub(super) actions: Actions,
    pub(super) shape: Interned<Shape>,
    pub(super) blob: Interned<Box<[u8]>>,
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Interner {
        Interner {
            masks: HashSet::new(),
            actions: HashSet::new(),
            ports: PortTable::new(AUTO_PORT_BASE),
            scratch: Scratch::default(),
            memo: None,
        }
    }

    /// Distinct blobs (mask lists and action lists) held.
    pub fn len(&self) -> usize {
        self.masks.len() + self.actions.len()
    }

    /// True when no blob is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes of the interner: the blobs (with their reference counts,
    /// and each mask's precomputed layout), the hash tables and the encoding
    /// buffers.  The port name table (a few dozen bytes per distinct name,
    /// none for flows that carry numbers) and the allocator's own per-block
    /// overhead are not counted.
    pub fn memory_bytes(&self) -> usize {
        set_bytes(&self.masks) + set_bytes(&self.actions) + self.scratch.capacity()
    }

    /// Forgets every blob that no [`StoredFlow`] holds any more.
    pub fn sweep(&mut self) {
        self.memo = None;
        // A count of 1 is the set's own reference.  No other thread can
        // take a new one: blobs are only handed out through `&mut self`.
        self.masks.retain(|b| Arc::strong_count(&b.0) > 1);
        self.actions.retain(|b| Arc::strong_count(&b.0) > 1);
    }

    /// Stores already encoded lists.  `mask == None` is OVS's key-only form.
    pub(super) fn store(
        &mut self,
        scratch: &mut Scratch,
        key: &[u8],
        mask: Option<&[u8]>,
        actions: &[u8],
        action_names: &[(u32, PortName)],
        in_port_name: Option<PortName>,
    ) -> StoredFlow {
        let out = &mut scratch.out;

        // Action blob: u32 length, the list, then (u32 number, u8 length,
        // name) for each port name the list had.
        out.clear();
        out.extend_from_slice(&(actions.len() as u32).to_le_bytes());
        out.extend_from_slice(actions);
        for (number, name) in action_names {
            let s = name.as_str().as_bytes();
            out.extend_from_slice(&number.to_le_bytes());
            out.push(s.len() as u8);
            out.extend_from_slice(s);
        }
        let actions = intern(&mut self.actions, out, |b| b.into());
        let shape = intern(&mut self.masks, mask.unwrap_or(&[]), Shape::new);
        pack_stored(out, key, mask.is_some(), shape, actions, in_port_name)
    }
}

/// A flow from its key and its interned mask and actions.
pub(super) fn pack_stored(
    out: &mut Vec<u8>,
    key: &[u8],
    has_mask: bool,
    shape: Interned<Shape>,
    actions: Interned<Box<[u8]>>,
    in_port_name: Option<PortName>,
) -> StoredFlow {
    out.clear();
    let mut flags = 0;
    if has_mask {
        if let Some(f) = pack(key, &shape.0, out) {
            if out.len() <= key.len() {
                flags = f;
            }
        }
    }
    if flags == 0 {
        out.clear();
        out.extend_from_slice(key);
    }
    if !has_mask {
        flags |= KEY_ONLY;
    }
    if let Some(name) = in_port_name {
        let s = name.as_str().as_bytes();
        out.extend_from_slice(s);
        out.push(s.len() as u8);
        flags |= IN_PORT_NAME;
    }
    StoredFlow {
        mask: shape,
        actions,
        key: KeyBytes::new(flags, out),
    }
}

impl Default for Interner {
    fn default() -> Interner {
        Interner::new()
    }
}

impl fmt::Debug for Interner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interner")
            .field("masks", &self.masks.len())
            .field("actions", &self.actions.len())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

/// Numbers port names through the interner's table and remembers which
/// numbers stood for which names.
pub(super) struct RecordNames<'a> {
    pub(super) table: &'a mut PortTable,
    pub(super) names: SmallVec<[(u32, PortName); 4]>,
}

impl PortMap for RecordNames<'_> {
    fn port_number(&mut self, name: &str) -> Option<u32> {
        let n = self.table.port_number(name)?;
        if let Some(p) = PortName::new(name) {
            if !self.names.iter().any(|&(m, _)| m == n) {
                self.names.push((n, p));
            }
        }
        Some(n)
    }
}
