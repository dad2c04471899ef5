//! rte_flow rules as DPDK receives them.
//!
//! [`RteRule`] owns the `rte_flow_attr`, the END-terminated
//! `rte_flow_item[]`/`rte_flow_action[]` arrays and every spec, mask, last
//! and conf byte they point to. [`lower()`] builds one from an
//! [`HwRule`](crate::rule::HwRule). The DPDK port and the software eswitch
//! both consume exactly these bytes, and read them back only through
//! [`view`], the one typed, checked view of rte_flow item and action memory.
//!
//! This module imports the rule vocabulary (`rule`) and the raw bindings;
//! nothing below it (`device`, `dpdk`, `eswitch`, `engine`).

pub mod field_data;
mod lower;
mod rule;
pub mod view;

pub use lower::{lower, LowerError};
pub use rule::{ArenaRef, RteRule};
pub use view::{
    action_conf_size, item_size, ActionConf, ActionView, ActionViews, ItemStruct, ItemView, Part,
    RuleView, SampleActions,
};
