//! `OVS_ACTION_ATTR_SET` / `OVS_ACTION_ATTR_SET_MASKED` ↔ [`SetAction`]: one key
//! attribute, its payload followed by the mask's when masked (NSH: each
//! sub-attribute so).
use super::{
    decode_fixed, decode_tunnel, fixed_len, key_attr, put_key_attr, put_payload, FlowKey, KeyAttr,
    NetlinkError, SetAction, SetField,
};
use crate::netlink::attr::{self, Attr};
use crate::netlink::consts::{
    action_attr_name, key_attr_name, OVS_ACTION_ATTR_SET, OVS_ACTION_ATTR_SET_MASKED,
    OVS_KEY_ATTR_NSH,
};
use crate::netlink::nsh::{decode_set_nsh, put_nsh_subattrs};
use crate::netlink::ErrorKind;
use crate::netlink::PortMap;

pub(crate) fn decode_set(a: &Attr<'_>, masked: bool) -> Result<SetAction, NetlinkError> {
    let nm = action_attr_name(a.ty);
    let mut it = a.nested(key_attr_name);
    let Some(inner) = it.next() else {
        return Err(NetlinkError::invalid(
            nm,
            a.offset,
            "set without a key attribute",
        ));
    };
    let inner = inner?;
    if let Some(extra) = it.next() {
        let off = extra.map_or_else(|e| e.offset, |x| x.offset);
        return Err(NetlinkError::invalid(
            nm,
            off,
            "set with more than one key attribute",
        ));
    }
    let Some(attr) = key_attr(inner.ty) else {
        return Err(NetlinkError::new(
            key_attr_name(inner.ty),
            inner.offset,
            ErrorKind::UnknownAttr { ty: inner.ty },
        ));
    };
    let kn = key_attr_name(inner.ty);
    let mut key = FlowKey::default();
    let mut mask = FlowKey::default();
    match attr {
        KeyAttr::Tunnel if !masked => decode_tunnel(&inner, false, &mut key.tunnel)?,
        KeyAttr::Nsh if masked => decode_set_nsh(&inner, &mut key, &mut mask)?,
        KeyAttr::Encap | KeyAttr::Tunnel | KeyAttr::Nsh => {
            return Err(NetlinkError::invalid(
                kn,
                inner.offset,
                "attribute cannot be set this way",
            ));
        }
        _ if masked => {
            let p = inner.payload;
            if let Some(n) = fixed_len(attr) {
                if p.len() != 2 * n {
                    return Err(NetlinkError::bad_len(kn, inner.offset, p.len(), 2 * n));
                }
            } else if p.len() % 8 != 0 {
                return Err(NetlinkError::invalid(
                    kn,
                    inner.offset,
                    "MPLS value and mask differ in length",
                ));
            }
            let half = p.len() / 2;
            decode_fixed(attr, &p[..half], inner.offset, &mut key)?;
            decode_fixed(attr, &p[half..], inner.offset, &mut mask)?;
        }
        _ => decode_fixed(attr, inner.payload, inner.offset, &mut key)?,
    }
    key.present.insert(attr);
    mask.present.insert(attr);
    if !masked {
        mask = crate::netlink::key::exact_mask(&key);
    }
    Ok(SetAction {
        masked,
        field: SetField::new(attr, key, mask),
    })
}

pub(crate) fn encode_set(
    s: &SetAction,
    ports: &mut dyn PortMap,
    out: &mut Vec<u8>,
) -> Result<(), NetlinkError> {
    // Common inline forms first: no FlowKey construction needed.
    let (attr, k, m) = s.field.to_key_mask();
    if !s.masked {
        let at = attr::start_nested(out, OVS_ACTION_ATTR_SET);
        put_key_attr(attr, &k, false, ports, out, 0)?;
        attr::end_nested(out, at);
        return Ok(());
    }
    let kn = key_attr_name(attr as u16);
    let at = attr::start_nested(out, OVS_ACTION_ATTR_SET_MASKED);
    match attr {
        KeyAttr::Nsh => {
            let n = attr::start_nested(out, OVS_KEY_ATTR_NSH);
            put_nsh_subattrs(&k, false, out, true, Some(&m));
            attr::end_nested(out, n);
        }
        KeyAttr::Encap | KeyAttr::Tunnel => {
            return Err(NetlinkError::new(
                kn,
                0,
                ErrorKind::Unsupported("a masked set of this attribute"),
            ));
        }
        _ => {
            let inner = attr::start_unspec(out, attr as u16);
            put_payload(attr, &k, out)?;
            put_payload(attr, &m, out)?;
            attr::end_unspec(out, inner);
        }
    }
    attr::end_nested(out, at);
    Ok(())
}
