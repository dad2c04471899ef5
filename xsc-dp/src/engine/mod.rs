//! The offload engine: megaflows and connections in, rules on a
//! [`FlowDevice`](crate::device::FlowDevice) out, with a lock-free UFID
//! cache that readers consult without waiting for writers.

pub mod cache;
pub mod stored;
