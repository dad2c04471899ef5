//! The NSH sub-attributes (`OVS_NSH_KEY_ATTR_*`) in one codec, for the three
//! places OVS nests them: the `OVS_KEY_ATTR_NSH` match key, `push_nsh`'s
//! header, and `set_masked(nsh(...))`, whose payloads are the value followed
//! by the mask.
//!
//! Layouts (uAPI `struct ovs_nsh_key_base`, `struct ovs_nsh_key_md1`):
//! `BASE` is flags, ttl, mdtype, np, then the service path header
//! (`spi << 8 | si`, big-endian), 8 bytes; `MD1` is four big-endian context
//! words, 16 bytes; `MD2` is variable-length TLVs, which only `push_nsh`
//! carries.
use super::attr::{self, be32, Attr};
use super::consts::{
    key_attr_name, OVS_KEY_ATTR_NSH, OVS_NSH_KEY_ATTR_BASE, OVS_NSH_KEY_ATTR_MD1,
    OVS_NSH_KEY_ATTR_MD2,
};
use super::{ErrorKind, NetlinkError};
use crate::{FlowKey, NshKey, PushNsh};

/// `OVS_NSH_KEY_ATTR_BASE` and `OVS_NSH_KEY_ATTR_MD1` payload lengths.
const BASE_LEN: usize = 8;
const MD1_LEN: usize = 16;

fn nsh_attr_name(t: u16) -> &'static str {
    match t {
        OVS_NSH_KEY_ATTR_BASE => "OVS_NSH_KEY_ATTR_BASE",
        OVS_NSH_KEY_ATTR_MD1 => "OVS_NSH_KEY_ATTR_MD1",
        OVS_NSH_KEY_ATTR_MD2 => "OVS_NSH_KEY_ATTR_MD2",
        _ => "OVS_NSH_KEY_ATTR_?",
    }
}

fn unknown(s: &Attr<'_>) -> NetlinkError {
    NetlinkError::new(
        "OVS_NSH_KEY_ATTR_?",
        s.offset,
        ErrorKind::UnknownAttr { ty: s.ty },
    )
}

/// Walks the NSH sub-attributes of `a` into `out`: one [`NshKey`] for a key
/// or `push_nsh` (payloads of exactly one struct), two (value, then mask) for
/// `set_masked` (payloads of two structs back to back).  `name` names a
/// sub-attribute in the errors of the walk itself; `md2` decides what an
/// `MD2` sub-attribute means where it occurs.
fn decode_subattrs(
    a: &Attr<'_>,
    name: fn(u16) -> &'static str,
    out: &mut [&mut NshKey],
    mut md2: impl FnMut(&Attr<'_>) -> Result<(), NetlinkError>,
) -> Result<(), NetlinkError> {
    for s in a.nested(name) {
        let s = s?;
        let (len, nm) = match s.ty {
            OVS_NSH_KEY_ATTR_BASE => (BASE_LEN, "OVS_NSH_KEY_ATTR_BASE"),
            OVS_NSH_KEY_ATTR_MD1 => (MD1_LEN, "OVS_NSH_KEY_ATTR_MD1"),
            OVS_NSH_KEY_ATTR_MD2 => {
                md2(&s)?;
                continue;
            }
            _ => return Err(unknown(&s)),
        };
        let p = s.payload;
        let want = len * out.len();
        if p.len() != want {
            return Err(NetlinkError::bad_len(nm, s.offset, p.len(), want));
        }
        for (half, n) in p.chunks_exact(len).zip(out.iter_mut()) {
            if len == BASE_LEN {
                (n.flags, n.ttl, n.mdtype, n.np) = (half[0], half[1], half[2], half[3]);
                let path = be32(half, 4);
                (n.spi, n.si) = (path >> 8, path as u8);
            } else {
                for (i, c) in n.context.iter_mut().enumerate() {
                    *c = be32(half, 4 * i);
                }
            }
        }
    }
    Ok(())
}

/// `OVS_KEY_ATTR_NSH` of a match key into `out.nsh`.  MD type 2 matching is
/// refused, as OVS refuses it.
pub(crate) fn decode_nsh(a: &Attr<'_>, out: &mut FlowKey) -> Result<(), NetlinkError> {
    decode_subattrs(a, nsh_attr_name, &mut [&mut out.nsh], |s| {
        Err(NetlinkError::invalid(
            "OVS_NSH_KEY_ATTR_MD2",
            s.offset,
            "NSH MD type 2 matching is not supported (OVS neither)",
        ))
    })
}

/// `OVS_ACTION_ATTR_PUSH_NSH`: exactly one nested `OVS_KEY_ATTR_NSH`, whose
/// `MD2` (if any) is kept as bytes.  A missing `BASE` leaves OVS's default
/// TTL of 63.
pub(crate) fn decode_push_nsh(a: &Attr<'_>) -> Result<PushNsh, NetlinkError> {
    let mut inner = None;
    for s in a.nested(key_attr_name) {
        let s = s?;
        if s.ty != OVS_KEY_ATTR_NSH || inner.is_some() {
            return Err(NetlinkError::invalid(
                key_attr_name(s.ty),
                s.offset,
                "push_nsh holds exactly one OVS_KEY_ATTR_NSH",
            ));
        }
        inner = Some(s);
    }
    let Some(inner) = inner else {
        return Err(NetlinkError::invalid(
            "OVS_ACTION_ATTR_PUSH_NSH",
            a.offset,
            "push_nsh holds exactly one OVS_KEY_ATTR_NSH",
        ));
    };
    let mut k = NshKey {
        ttl: 63,
        ..NshKey::default()
    };
    let mut md2 = Vec::new();
    decode_subattrs(&inner, nsh_attr_name, &mut [&mut k], |s| {
        md2 = s.payload.to_vec();
        Ok(())
    })?;
    Ok(PushNsh {
        flags: k.flags,
        ttl: k.ttl,
        mdtype: k.mdtype,
        np: k.np,
        spi: k.spi,
        si: k.si,
        context: k.context,
        md2,
    })
}

/// The nested NSH of `set_masked(nsh(...))` into `key.nsh` and `mask.nsh`.
/// `MD2` cannot be set.
pub(crate) fn decode_set_nsh(
    a: &Attr<'_>,
    key: &mut FlowKey,
    mask: &mut FlowKey,
) -> Result<(), NetlinkError> {
    decode_subattrs(
        a,
        |_| "OVS_NSH_KEY_ATTR",
        &mut [&mut key.nsh, &mut mask.nsh],
        |s| Err(unknown(s)),
    )
}

/// Appends the NSH sub-attributes of `k`: `BASE`, then `MD1` for a mask, a
/// masked set or an MD type 1 key.  `masked` with `mask` appends each
/// payload's mask after its value (`set_masked`).
pub(crate) fn put_nsh_subattrs(
    k: &FlowKey,
    is_mask: bool,
    out: &mut Vec<u8>,
    masked: bool,
    mask: Option<&FlowKey>,
) {
    let base = |k: &FlowKey, out: &mut Vec<u8>| {
        let n = &k.nsh;
        out.extend_from_slice(&[n.flags, n.ttl, n.mdtype, n.np]);
        out.extend_from_slice(&((n.spi << 8) | u32::from(n.si)).to_be_bytes());
    };
    let md1 = |k: &FlowKey, out: &mut Vec<u8>| {
        for c in k.nsh.context {
            out.extend_from_slice(&c.to_be_bytes());
        }
    };
    let at = attr::start_unspec(out, OVS_NSH_KEY_ATTR_BASE);
    base(k, out);
    if let (true, Some(m)) = (masked, mask) {
        base(m, out);
    }
    attr::end_unspec(out, at);
    if is_mask || masked || k.nsh.mdtype == 1 {
        let at = attr::start_unspec(out, OVS_NSH_KEY_ATTR_MD1);
        md1(k, out);
        if let (true, Some(m)) = (masked, mask) {
            md1(m, out);
        }
        attr::end_unspec(out, at);
    }
}
