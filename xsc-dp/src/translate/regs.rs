//! TAG registers: the values and masks of the rte_flow `TAG`s a rule
//! matches (items) or writes (actions), built field by field.
//!
//! Invariants: a register field ([`RegField`]) is placed by its shift and
//! width; fields sharing a register combine; a register with an all-zero
//! mask is neither matched nor written.
//!
//! Must not depend on: anything below `translate` in the flow.

use crate::profile::RegField;
use crate::rule::{Action, Item, Masked};

/// TAG register values and masks being built for one rule.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Regs {
    regs: [(u32, u32); 8],
}

impl Regs {
    pub(super) fn set(&mut self, f: RegField, value: u32, mask: u32) {
        let (v, m) = &mut self.regs[usize::from(f.index) & 7];
        let field_mask = f.place(mask);
        *m |= field_mask;
        *v = (*v & !field_mask) | (f.place(value) & field_mask);
    }

    pub(super) fn items(&self) -> impl Iterator<Item = Item> + '_ {
        self.regs
            .iter()
            .enumerate()
            .filter(|(_, (_, m))| *m != 0)
            .map(|(i, &(v, m))| Item::Tag {
                index: i as u8,
                m: Masked::new(v, m),
            })
    }

    pub(super) fn actions(&self) -> impl Iterator<Item = Action> + '_ {
        self.regs
            .iter()
            .enumerate()
            .filter(|(_, (_, m))| *m != 0)
            .map(|(i, &(v, m))| Action::SetTag {
                index: i as u8,
                data: v,
                mask: m,
            })
    }
}
