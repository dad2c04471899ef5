//! The rule compiler: an [`RteRule`]'s C structs → the eswitch's own
//! [`Compiled`] rule, checked against the device's limits.
//!
//! Everything the eswitch needs is copied out of the rule here, at create
//! (or validate) time; no pointer into the caller's rule is kept. A pattern
//! becomes a [`Matcher`]: the sequence of protocols the packet's layers must
//! have ([`Shape::protos`](super::compiled::Shape::protos)), the masked bytes
//! to compare (one [`KeyOp`](super::compiled::KeyOp) per
//! byte whose mask is not zero, for headers, flag bits and metadata) and the
//! `spec`..`last` ranges. Rules with the same
//! [`Shape`](super::compiled::Shape) differ only in their
//! key bytes, which is what the per-group hash index uses.
//!
//! rte_flow semantics kept here: a NULL `spec` matches any header of the
//! item's type; a NULL `mask` is the item's default mask
//! (`rte_flow_item_*_mask`); `(pkt & mask) == (spec & mask)`; with `last`,
//! per field, `spec & mask <= pkt & mask <= last & mask` unless the masked
//! `last` is 0 or equal to `spec` (then exact). Errors carry the errno DPDK
//! uses: `ENOTSUP` for what the profile lacks, `EINVAL` for malformed rules.
//!
//! No `unsafe` here: the rule's spec/mask/last/conf memory is read through
//! `rte`'s typed view (`rte::RuleView`), which ties each C struct to its
//! type code and checks it. `pattern` compiles the items into a matcher,
//! `actions` the actions; this file checks the attributes and ties them.

mod actions;
mod pattern;

use smallvec::SmallVec;

use super::compiled::{Act, Compiled, Matcher};
use crate::device::{DeviceError, FlowError, FlowErrorCause};
use crate::ffi;
use crate::profile::DeviceProfile;
use crate::rte::RteRule;
use crate::rule::Direction;

use actions::compile_actions;
use pattern::{item_kind, meta_item, proto_item};

/// What decoding checks against.
pub(crate) struct Limits<'a> {
    pub profile: &'a DeviceProfile,
    pub ports: &'a [u16],
    pub tags: u8,
    /// For errors: the operation and the port reported.
    pub op: &'static str,
    pub port: u16,
}

impl Limits<'_> {
    pub(crate) fn err(
        &self,
        errno: i32,
        cause: FlowErrorCause,
        index: Option<usize>,
        message: impl Into<String>,
    ) -> DeviceError {
        DeviceError::Flow(FlowError {
            op: self.op,
            port: self.port,
            errno,
            cause,
            index,
            message: message.into(),
        })
    }
}

/// Decodes and checks `rule` against the device limits.
pub(crate) fn compile(rule: &RteRule, lim: &Limits<'_>) -> Result<Compiled, DeviceError> {
    use FlowErrorCause as C;
    let Some(view) = rule.view() else {
        return Err(lim.err(libc::EINVAL, C::Unspecified, None, "the rule is not sealed"));
    };
    let attr = rule.attr();
    let dirs = [attr.ingress(), attr.egress(), attr.transfer()];
    if dirs.iter().filter(|&&d| d != 0).count() != 1 {
        return Err(lim.err(
            libc::EINVAL,
            C::Attr,
            None,
            "exactly one of ingress, egress and transfer must be set",
        ));
    }
    let dir = if attr.transfer() != 0 {
        Direction::Transfer
    } else if attr.ingress() != 0 {
        Direction::Ingress
    } else {
        Direction::Egress
    };
    if dir != lim.profile.direction {
        let cause = match dir {
            Direction::Transfer => C::AttrTransfer,
            Direction::Ingress => C::AttrIngress,
            Direction::Egress => C::AttrEgress,
        };
        return Err(lim.err(
            libc::ENOTSUP,
            cause,
            None,
            format!(
                "the {} profile takes {:?} rules only",
                lim.profile.name, lim.profile.direction
            ),
        ));
    }
    if attr.group >= lim.profile.groups {
        return Err(lim.err(
            libc::ENOTSUP,
            C::AttrGroup,
            None,
            format!(
                "group {} is beyond the {} groups of the device",
                attr.group, lim.profile.groups
            ),
        ));
    }
    if attr.priority >= lim.profile.priorities {
        return Err(lim.err(
            libc::ENOTSUP,
            C::AttrPriority,
            None,
            format!(
                "priority {} is beyond the {} levels of the device",
                attr.priority, lim.profile.priorities
            ),
        ));
    }
    let mut matcher = Matcher::default();
    let mut item_types = SmallVec::new();
    for (i, item) in view.items().enumerate() {
        let type_ = item.type_();
        if type_ == ffi::RTE_FLOW_ITEM_TYPE_END {
            break;
        }
        item_types.push(type_);
        if type_ == ffi::RTE_FLOW_ITEM_TYPE_VOID {
            continue;
        }
        let Some((kind, proto)) = item_kind(type_) else {
            return Err(lim.err(
                libc::ENOTSUP,
                C::Item,
                Some(i),
                format!("item type {type_} is not modelled by the eswitch"),
            ));
        };
        if !lim.profile.has_item(kind) {
            return Err(lim.err(
                libc::ENOTSUP,
                C::Item,
                Some(i),
                format!("the {} profile does not match on {kind}", lim.profile.name),
            ));
        }
        match proto {
            Some(p) => proto_item(&mut matcher, p, item, i, lim)?,
            None => meta_item(&mut matcher, kind, item, i, lim)?,
        }
    }
    let mut action_types = SmallVec::new();
    let actions = compile_actions(view.actions(), lim, false, &mut action_types, attr.group)?;
    let fates = actions.iter().filter(|a| a.is_fate()).count();
    if fates != 1 {
        return Err(lim.err(
            libc::EINVAL,
            C::Action,
            None,
            if fates == 0 {
                "no fate action (drop, jump, queue, represented_port, port_representor)"
            } else {
                "more than one fate action"
            },
        ));
    }
    let counts = actions.contains(&Act::Count);
    Ok(Compiled {
        group: attr.group,
        priority: attr.priority,
        matcher,
        actions: actions.into_boxed_slice(),
        counts,
        item_types,
        action_types,
    })
}
