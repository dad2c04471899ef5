//! `struct rte_flow_field_data`, the operand of `MODIFY_FIELD`, in the
//! layout of the DPDK release this crate was built against.
//!
//! DPDK changed it twice under the same meaning (see `build.rs`):
//!
//! | release | type name | where the TAG register index goes |
//! |---|---|---|
//! | 22.11 – 23.03 | `rte_flow_action_modify_data` | `level` (u32) |
//! | 23.07 – 23.11 | `rte_flow_action_modify_data` | `tag_index` (u8), `level` (u8) = 0 |
//! | 24.03 – | `rte_flow_field_data` | `tag_index` (u8), `level` (u8) = 0 |
//!
//! Writing the index into `level` on 23.07 or newer would silently ask for
//! TAG 0 at encapsulation level N: the one place that knows the layout is
//! here, and the `dpdk` test binary (`rte_lower`) holds it against the C compiler's offsets
//! (`xsc_members` in xsc-sys's shim).

use crate::ffi;

/// The C struct of this DPDK release.
#[cfg(xsc_dpdk_field_data)]
pub type FieldData = ffi::rte_flow_field_data;
/// The C struct of this DPDK release.
#[cfg(not(xsc_dpdk_field_data))]
pub type FieldData = ffi::rte_flow_action_modify_data;

/// An operand naming `field` (`RTE_FLOW_FIELD_*`), TAG register `tag_index`
/// (0 for fields that are not TAG), starting `offset` bits in.
pub fn new(field: ffi::rte_flow_field_id, tag_index: u8, offset: u32) -> FieldData {
    // Safety: an enum (0 is RTE_FLOW_FIELD_START, a valid value) and a union
    // of integers and pointers: all-zero is a valid value.
    let mut data: FieldData = unsafe { std::mem::zeroed() };
    data.field = field;
    // Safety: writing plain integers into the {level, tag_index, offset}
    // member of a zeroed union; nothing is read.
    #[cfg(xsc_dpdk_tag_index)]
    unsafe {
        let lo = &mut data.__bindgen_anon_1.__bindgen_anon_1;
        lo.offset = offset;
        lo.__bindgen_anon_1.__bindgen_anon_1.level = 0;
        lo.__bindgen_anon_1
            .__bindgen_anon_1
            .__bindgen_anon_1
            .tag_index = tag_index;
    }
    // Safety: writing plain integers into the {level, offset} member of a
    // zeroed union; nothing is read.
    #[cfg(not(xsc_dpdk_tag_index))]
    unsafe {
        let lo = &mut data.__bindgen_anon_1.__bindgen_anon_1;
        lo.offset = offset;
        lo.level = u32::from(tag_index);
    }
    data
}

/// The `{level, tag_index, offset}` of an operand whose field is neither
/// `VALUE` nor `POINTER` (the caller checks `field` first). Before 23.07 the
/// tag index is the u32 `level`, returned whole so that the caller's range
/// check refuses an index beyond its registers, and the level reads as 0.
pub fn parts(data: &FieldData) -> Parts {
    // Safety: the caller checked the field is neither VALUE nor POINTER, so
    // the union holds {level, tag_index, offset}: plain integers, any bits
    // are valid.
    #[cfg(xsc_dpdk_tag_index)]
    let parts = unsafe {
        let lo = &data.__bindgen_anon_1.__bindgen_anon_1;
        let l = &lo.__bindgen_anon_1.__bindgen_anon_1;
        Parts {
            level: u32::from(l.level),
            tag_index: u32::from(l.__bindgen_anon_1.tag_index),
            offset: lo.offset,
        }
    };
    // Safety: as above, the union holds {level, offset}.
    #[cfg(not(xsc_dpdk_tag_index))]
    let parts = unsafe {
        let lo = &data.__bindgen_anon_1.__bindgen_anon_1;
        Parts {
            level: 0,
            tag_index: lo.level,
            offset: lo.offset,
        }
    };
    parts
}

/// What [`parts`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// Encapsulation level (always 0 before DPDK 23.07, which had none
    /// apart from the tag index).
    pub level: u32,
    /// TAG register index.
    pub tag_index: u32,
    /// Bit offset into the field.
    pub offset: u32,
}
