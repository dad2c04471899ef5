//! The `set(...)` and masked `set(...)` actions ([`SetAction`], [`SetField`]):
//! one key attribute with its mask, printed as OVS prints `set` and
//! `set_masked` (`format_odp_set_action()`).
//!
//! Invariant: the common fields (Ethernet, IPv4, L4 ports, ...) are inline,
//! anything else is a boxed key/mask pair holding exactly one attribute.
use super::{EthKey, FlowKey, Ipv4Key, KeyAttr, PortsKey};
use crate::key::eth::fmt_eth_key;
use crate::key::ip::fmt_ipv4_key;
use crate::key::l4::fmt_ports_key;
use crate::key::mask::attr_mask_is_exact;
use crate::key::text::format_key_attr;
use crate::write as w;

/// `set(attr(...))`.  `masked` is `OVS_ACTION_ATTR_SET_MASKED`: OVS picks it
/// when the mask is not all-ones and prints it without exact masks; the plain
/// form prints every field.
#[derive(Debug, Clone, PartialEq)]
pub struct SetAction {
    pub masked: bool,
    pub field: SetField,
}

/// The attribute a `set` writes, with its mask (all-ones for unmasked sets).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SetField {
    Eth {
        key: EthKey,
        mask: EthKey,
    },
    Ipv4 {
        key: Ipv4Key,
        mask: Ipv4Key,
    },
    Tcp {
        key: PortsKey,
        mask: PortsKey,
    },
    Udp {
        key: PortsKey,
        mask: PortsKey,
    },
    Sctp {
        key: PortsKey,
        mask: PortsKey,
    },
    SkbPriority {
        key: u32,
        mask: u32,
    },
    SkbMark {
        key: u32,
        mask: u32,
    },
    /// Any other single attribute (`ipv6`, `tunnel`, `arp`, `nd`, `mpls`, ...),
    /// held as a key and mask with exactly that attribute present.
    Other {
        attr: KeyAttr,
        key: Box<FlowKey>,
        mask: Box<FlowKey>,
    },
}

/// The `set` of the first attribute `k` holds (text: `set(ATTR(...))`), with
/// OVS's choice between `set` and `set_masked`.
pub(crate) fn make_set(k: FlowKey, m: FlowKey) -> SetAction {
    let attr = KeyAttr::CANONICAL_ORDER
        .into_iter()
        .find(|&a| k.has(a))
        .unwrap_or(KeyAttr::Priority);
    // OVS_ACTION_ATTR_SET_MASKED unless the mask bytes are all ones; ARP and
    // ND extensions carry padding and NSH is nested, so they are always
    // masked; tunnel keys are never masked.
    let masked = match attr {
        KeyAttr::Tunnel | KeyAttr::Encap => false,
        KeyAttr::Arp | KeyAttr::NdExtensions | KeyAttr::Nsh => true,
        a => !attr_mask_is_exact(a, &m),
    };
    SetAction {
        masked,
        field: SetField::new(attr, k, m),
    }
}

impl SetField {
    /// The field `attr` of `key`/`mask`: inline for the common attributes,
    /// else the whole key and mask boxed.  The one builder both the text and
    /// the netlink readers use.
    pub(crate) fn new(attr: KeyAttr, key: FlowKey, mask: FlowKey) -> SetField {
        match attr {
            KeyAttr::Ethernet => SetField::Eth {
                key: key.eth,
                mask: mask.eth,
            },
            KeyAttr::Ipv4 => SetField::Ipv4 {
                key: key.ipv4,
                mask: mask.ipv4,
            },
            KeyAttr::Tcp => SetField::Tcp {
                key: key.tcp,
                mask: mask.tcp,
            },
            KeyAttr::Udp => SetField::Udp {
                key: key.udp,
                mask: mask.udp,
            },
            KeyAttr::Sctp => SetField::Sctp {
                key: key.sctp,
                mask: mask.sctp,
            },
            KeyAttr::Priority => SetField::SkbPriority {
                key: key.skb_priority,
                mask: mask.skb_priority,
            },
            KeyAttr::SkbMark => SetField::SkbMark {
                key: key.skb_mark,
                mask: mask.skb_mark,
            },
            _ => SetField::Other {
                attr,
                key: Box::new(key),
                mask: Box::new(mask),
            },
        }
    }

    /// The inverse of [`SetField::new`]: the attribute, and a key and mask
    /// that hold it (and it alone, for the inline fields).
    pub(crate) fn to_key_mask(&self) -> (KeyAttr, FlowKey, FlowKey) {
        let mut k = FlowKey::default();
        let mut m = FlowKey::default();
        let attr = match self {
            SetField::Eth { key, mask } => {
                (k.eth, m.eth) = (*key, *mask);
                KeyAttr::Ethernet
            }
            SetField::Ipv4 { key, mask } => {
                (k.ipv4, m.ipv4) = (*key, *mask);
                KeyAttr::Ipv4
            }
            SetField::Tcp { key, mask } => {
                (k.tcp, m.tcp) = (*key, *mask);
                KeyAttr::Tcp
            }
            SetField::Udp { key, mask } => {
                (k.udp, m.udp) = (*key, *mask);
                KeyAttr::Udp
            }
            SetField::Sctp { key, mask } => {
                (k.sctp, m.sctp) = (*key, *mask);
                KeyAttr::Sctp
            }
            SetField::SkbPriority { key, mask } => {
                (k.skb_priority, m.skb_priority) = (*key, *mask);
                KeyAttr::Priority
            }
            SetField::SkbMark { key, mask } => {
                (k.skb_mark, m.skb_mark) = (*key, *mask);
                KeyAttr::SkbMark
            }
            SetField::Other { attr, key, mask } => {
                k = (**key).clone();
                m = (**mask).clone();
                *attr
            }
        };
        k.present.insert(attr);
        m.present.insert(attr);
        (attr, k, m)
    }
}

/// `OVS_ACTION_ATTR_SET` (all fields, verbose, no mask) or
/// `OVS_ACTION_ATTR_SET_MASKED` (wildcarded fields left out, masks shown).
pub(crate) fn fmt_set(out: &mut String, s: &SetAction) {
    out.push_str("set(");
    let verbose = !s.masked;
    macro_rules! mk {
        ($m:expr) => {
            if s.masked {
                Some($m)
            } else {
                None
            }
        };
    }
    match &s.field {
        SetField::Eth { key, mask } => {
            out.push_str("eth(");
            fmt_eth_key(out, key, mk!(mask), verbose);
            out.push(')');
        }
        SetField::Ipv4 { key, mask } => {
            out.push_str("ipv4(");
            fmt_ipv4_key(out, key, mk!(mask), verbose);
            out.push(')');
        }
        SetField::Tcp { key, mask }
        | SetField::Udp { key, mask }
        | SetField::Sctp { key, mask } => {
            out.push_str(match s.field {
                SetField::Tcp { .. } => "tcp(",
                SetField::Udp { .. } => "udp(",
                _ => "sctp(",
            });
            fmt_ports_key(out, key, mk!(mask), verbose);
            out.push(')');
        }
        SetField::SkbPriority { key, mask } | SetField::SkbMark { key, mask } => {
            out.push_str(if matches!(s.field, SetField::SkbPriority { .. }) {
                "skb_priority("
            } else {
                "skb_mark("
            });
            w::hex_alt(out, u64::from(*key));
            if s.masked && *mask != u32::MAX {
                out.push('/');
                w::hex_alt(out, u64::from(*mask));
            }
            out.push(')');
        }
        SetField::Other { attr, key, mask } => {
            format_key_attr(out, *attr, key, mk!(&**mask), verbose);
        }
    }
    out.push(')');
}
