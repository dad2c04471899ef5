//! A generic netlink attribute (`struct nlattr`) reader and writer.
//!
//! Layout (Linux `include/uapi/linux/netlink.h`, OVS `lib/netlink.c`): a
//! 4-byte header `{ u16 nla_len; u16 nla_type; }` in host byte order, then
//! `nla_len - 4` payload bytes, then padding to a multiple of
//! `NLA_ALIGNTO` (4).  `nla_len` counts the header and payload but not the
//! padding.  Like OVS's `NL_ATTR_FOR_EACH`, the last attribute of a list may
//! omit its padding.  The two top bits of `nla_type` are the
//! `NLA_F_NESTED` / `NLA_F_NET_BYTEORDER` flags and are masked off.
use super::NetlinkError;

pub const NLA_HDRLEN: usize = 4;
pub const NLA_ALIGNTO: usize = 4;
pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Rounds `n` up to a multiple of [`NLA_ALIGNTO`].
#[inline]
pub const fn nla_align(n: usize) -> usize {
    (n + NLA_ALIGNTO - 1) & !(NLA_ALIGNTO - 1)
}

/// One attribute of a list.
#[derive(Debug, Clone, Copy)]
pub struct Attr<'a> {
    /// The type, flags masked off.
    pub ty: u16,
    /// The payload, without padding.
    pub payload: &'a [u8],
    /// Byte offset of the attribute's header in the outermost buffer.
    pub offset: usize,
}

impl<'a> Attr<'a> {
    /// Byte offset of the payload in the outermost buffer.
    #[inline]
    pub fn payload_offset(&self) -> usize {
        self.offset + NLA_HDRLEN
    }

    /// The nested attribute list in the payload.
    #[inline]
    pub fn nested(&self, namer: fn(u16) -> &'static str) -> AttrIter<'a> {
        AttrIter::new(self.payload, self.payload_offset(), namer)
    }
}

/// Iterates over an attribute list, yielding a typed error (with the byte
/// offset) for a truncated header or an `nla_len` that does not fit.
#[derive(Debug, Clone)]
pub struct AttrIter<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    namer: fn(u16) -> &'static str,
    failed: bool,
}

impl<'a> AttrIter<'a> {
    /// `base` is the offset of `buf[0]` in the outermost buffer (for error
    /// messages); `namer` names attribute types of this list.
    pub fn new(buf: &'a [u8], base: usize, namer: fn(u16) -> &'static str) -> Self {
        AttrIter {
            buf,
            pos: 0,
            base,
            namer,
            failed: false,
        }
    }
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = Result<Attr<'a>, NetlinkError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..)?;
        if self.failed || rest.is_empty() {
            return None;
        }
        let offset = self.base + self.pos;
        let Some(&[l0, l1, t0, t1]) = rest.first_chunk::<NLA_HDRLEN>() else {
            self.failed = true;
            return Some(Err(NetlinkError::truncated_header(offset, rest.len())));
        };
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        let ty = u16::from_ne_bytes([t0, t1]) & NLA_TYPE_MASK;
        let Some(payload) = rest.get(NLA_HDRLEN..len) else {
            // len < NLA_HDRLEN or len > rest.len().
            self.failed = true;
            return Some(Err(NetlinkError::bad_nla_len(
                (self.namer)(ty),
                offset,
                len,
                rest.len(),
            )));
        };
        self.pos += nla_align(len).min(rest.len());
        Some(Ok(Attr {
            ty,
            payload,
            offset,
        }))
    }
}

// ---------------------------------------------------------------------------
// Writer: appends to a `Vec<u8>`, as OVS's `nl_msg_put_*` append to an ofpbuf.

/// Appends an attribute with `payload`, padded to 4 bytes.
pub fn put(out: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = NLA_HDRLEN + payload.len();
    debug_assert!(len <= usize::from(u16::MAX));
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(payload);
    pad(out);
}

/// Appends zero bytes up to the next 4-byte boundary.
pub fn pad(out: &mut Vec<u8>) {
    let n = nla_align(out.len()) - out.len();
    out.extend_from_slice(&[0u8; NLA_ALIGNTO][..n]);
}

pub fn put_flag(out: &mut Vec<u8>, ty: u16) {
    put(out, ty, &[]);
}
pub fn put_u8(out: &mut Vec<u8>, ty: u16, v: u8) {
    put(out, ty, &[v]);
}
/// Host-order `u16` (`nl_msg_put_u16`).
pub fn put_u16(out: &mut Vec<u8>, ty: u16, v: u16) {
    put(out, ty, &v.to_ne_bytes());
}
/// Host-order `u32` (`nl_msg_put_u32`).
pub fn put_u32(out: &mut Vec<u8>, ty: u16, v: u32) {
    put(out, ty, &v.to_ne_bytes());
}
/// Network-order 16 bits (`nl_msg_put_be16`).
pub fn put_be16(out: &mut Vec<u8>, ty: u16, v: u16) {
    put(out, ty, &v.to_be_bytes());
}
/// Network-order 32 bits (`nl_msg_put_be32`).
pub fn put_be32(out: &mut Vec<u8>, ty: u16, v: u32) {
    put(out, ty, &v.to_be_bytes());
}
/// Network-order 64 bits (`nl_msg_put_be64`).
pub fn put_be64(out: &mut Vec<u8>, ty: u16, v: u64) {
    put(out, ty, &v.to_be_bytes());
}
/// A NUL-terminated string (`nl_msg_put_string`).
pub fn put_string(out: &mut Vec<u8>, ty: u16, s: &[u8]) {
    let len = NLA_HDRLEN + s.len() + 1;
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(s);
    out.push(0);
    pad(out);
}

/// Starts a nested attribute; returns the offset to give [`end_nested`].
pub fn start_nested(out: &mut Vec<u8>, ty: u16) -> usize {
    let at = out.len();
    out.extend_from_slice(&0u16.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    at
}

/// Ends a nested attribute: writes its length (`nl_msg_end_nested`).
// Takes the message `Vec` like its `start_nested` counterpart (public API).
#[allow(clippy::ptr_arg)]
pub fn end_nested(out: &mut Vec<u8>, at: usize) {
    let len = (out.len() - at) as u16;
    out[at..at + 2].copy_from_slice(&len.to_ne_bytes());
}

/// Starts an attribute whose payload the caller appends (then calls
/// [`end_nested`] too, which also fits unstructured payloads).
pub fn start_unspec(out: &mut Vec<u8>, ty: u16) -> usize {
    start_nested(out, ty)
}

/// Ends an attribute started with [`start_unspec`] and pads it.
pub fn end_unspec(out: &mut Vec<u8>, at: usize) {
    end_nested(out, at);
    pad(out);
}

// ---------------------------------------------------------------------------
// Payload readers for fixed layouts (the caller has checked the length).

#[inline]
pub fn ne16(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes(arr(b, at))
}
#[inline]
pub fn ne32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(arr(b, at))
}
#[inline]
pub fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(arr(b, at))
}
#[inline]
pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(arr(b, at))
}
#[inline]
pub fn arr<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(_: u16) -> &'static str {
        "T"
    }

    #[test]
    fn writer_pads_and_reader_round_trips() {
        let mut v = Vec::new();
        put_u8(&mut v, 3, 7);
        put_be16(&mut v, 4, 0x0800);
        let n = start_nested(&mut v, 5);
        put_u32(&mut v, 1, 0xdead_beef);
        end_nested(&mut v, n);
        // u8: 4 header + 1 + 3 pad; be16: 4 + 2 + 2; nested: 4 + 8.
        assert_eq!(v.len(), 8 + 8 + 12);
        assert_eq!(&v[0..5], &[5, 0, 3, 0, 7]);
        assert_eq!(&v[8..14], &[6, 0, 4, 0, 0x08, 0x00]);
        let attrs: Vec<_> = AttrIter::new(&v, 0, name).map(Result::unwrap).collect();
        assert_eq!(attrs.len(), 3);
        assert_eq!((attrs[2].ty, attrs[2].offset), (5, 16));
        let inner: Vec<_> = attrs[2].nested(name).map(Result::unwrap).collect();
        assert_eq!(ne32(inner[0].payload, 0), 0xdead_beef);
        assert_eq!(inner[0].offset, 20);
    }

    #[test]
    fn last_attribute_may_omit_padding() {
        let v = [5u8, 0, 3, 0, 7];
        let a: Vec<_> = AttrIter::new(&v, 0, name).map(Result::unwrap).collect();
        assert_eq!(a[0].payload, &[7]);
    }

    #[test]
    fn truncation_is_an_error_with_offset() {
        let v = [8u8, 0, 3, 0, 1, 2, 3, 4, 9, 0];
        let r: Vec<_> = AttrIter::new(&v, 100, name).collect();
        assert!(r[0].is_ok());
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(e.offset, 108);
        assert_eq!(r.len(), 2);
        let v = [12u8, 0, 3, 0, 1, 2, 3, 4];
        let e = AttrIter::new(&v, 0, name).next().unwrap().unwrap_err();
        assert_eq!(
            e.to_string(),
            "T at byte 0: nla_len 12 exceeds the 8 bytes left"
        );
        let v = [2u8, 0, 3, 0];
        let e = AttrIter::new(&v, 0, name).next().unwrap().unwrap_err();
        assert_eq!(
            e.to_string(),
            "T at byte 0: nla_len 2 is below the 4-byte header"
        );
    }

    #[test]
    fn flag_bits_are_masked() {
        let v = [4u8, 0, 0x10, 0x80];
        let a = AttrIter::new(&v, 0, name).next().unwrap().unwrap();
        assert_eq!(a.ty, 0x10);
    }
}
