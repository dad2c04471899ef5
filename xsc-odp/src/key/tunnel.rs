//! The tunnel key `tunnel(...)` ([`Tunnel`]): one field per
//! `OVS_TUNNEL_KEY_ATTR_*`, Geneve options as raw TLVs, VXLAN GBP, ERSPAN and
//! GTP-U metadata, the tunnel flags; parse (`SCAN_BEGIN_NESTED("tunnel(")`) and
//! format (`format_odp_tun_attr()`) side by side.
//!
//! Invariant: a field is meaningful only when its [`TunnelAttr`] bit is in
//! `present`; Geneve options are at most 252 bytes.
use super::fields::{
    be16, be16x, fields, fmt_in6, fmt_ipv4, kf, m16, m32, m8, m_int, m_ipv4, m_ipv6, sep, u8u, u8x,
};
use super::flags::{format_flags, format_flags_masked, parse_flags, tun_flag_bit, tun_flag_name};
use crate::error::{Context, ErrorKind};
use crate::lex::{Cursor, PResult};
use crate::write as w;
use core::fmt;

/// `FLOW_TNL_F_*` tunnel flags.
pub mod tnl_flags {
    pub const OAM: u16 = 1 << 0;
    pub const DONT_FRAGMENT: u16 = 1 << 1;
    pub const CSUM: u16 = 1 << 2;
    pub const KEY: u16 = 1 << 3;
    pub const MASK: u16 = (1 << 4) - 1;
}

/// `OVS_TUNNEL_KEY_ATTR_*` numbers (the sub-attributes of `tunnel(...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum TunnelAttr {
    Id = 0,
    Ipv4Src = 1,
    Ipv4Dst = 2,
    Tos = 3,
    Ttl = 4,
    DontFragment = 5,
    Csum = 6,
    Oam = 7,
    GeneveOpts = 8,
    TpSrc = 9,
    TpDst = 10,
    VxlanOpts = 11,
    Ipv6Src = 12,
    Ipv6Dst = 13,
    ErspanOpts = 15,
    GtpuOpts = 16,
}

/// Geneve options as the raw TLVs OVS carries (class, type, length in 4-byte
/// words, data), at most `TLV_TOT_OPT_SIZE` (252) bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GeneveOpts {
    pub len: u8,
    pub data: [u8; 252],
}

impl Default for GeneveOpts {
    fn default() -> Self {
        GeneveOpts {
            len: 0,
            data: [0; 252],
        }
    }
}

impl GeneveOpts {
    pub fn bytes(&self) -> &[u8] {
        &self.data[..usize::from(self.len).min(252)]
    }
}

impl fmt::Debug for GeneveOpts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneveOpts")
            .field("bytes", &self.bytes())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ErspanOpts {
    pub ver: u8,
    pub idx: u32,
    pub dir: u8,
    pub hwid: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct GtpuOpts {
    pub flags: u8,
    pub msgtype: u8,
}

/// `tunnel(...)`: one field per `OVS_TUNNEL_KEY_ATTR_*`, with the set of
/// sub-attributes present.  `flags` holds `DONT_FRAGMENT`, `CSUM` and `OAM`
/// (each a flag attribute of its own); `KEY` is implied by `tun_id`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Tunnel {
    /// Bit `n` set when `TunnelAttr` `n` is present.
    pub present: u32,
    pub tun_id: u64,
    pub ipv4_src: u32,
    pub ipv4_dst: u32,
    pub ipv6_src: [u8; 16],
    pub ipv6_dst: [u8; 16],
    pub tos: u8,
    pub ttl: u8,
    pub tp_src: u16,
    pub tp_dst: u16,
    pub flags: u16,
    /// `(gbp_flags << 16) | gbp_id`, as `OVS_VXLAN_EXT_GBP` carries it.
    pub vxlan_gbp: u32,
    pub geneve: Option<Box<GeneveOpts>>,
    pub erspan: ErspanOpts,
    pub gtpu: GtpuOpts,
}

impl Tunnel {
    pub fn has(&self, a: TunnelAttr) -> bool {
        self.present & (1 << a as u16) != 0
    }
    pub fn set(&mut self, a: TunnelAttr) {
        self.present |= 1 << a as u16;
    }

    /// Resets `self` to `Tunnel::default()` in place.
    pub fn clear(&mut self) {
        let Tunnel {
            present,
            tun_id,
            ipv4_src,
            ipv4_dst,
            ipv6_src,
            ipv6_dst,
            tos,
            ttl,
            tp_src,
            tp_dst,
            flags,
            vxlan_gbp,
            geneve,
            erspan,
            gtpu,
        } = self;
        *present = 0;
        *tun_id = 0;
        *ipv4_src = 0;
        *ipv4_dst = 0;
        *ipv6_src = [0; 16];
        *ipv6_dst = [0; 16];
        *tos = 0;
        *ttl = 0;
        *tp_src = 0;
        *tp_dst = 0;
        *flags = 0;
        *vxlan_gbp = 0;
        *geneve = None;
        *erspan = ErspanOpts::default();
        *gtpu = GtpuOpts::default();
    }
}

/// `tunnel(...)` (`SCAN_BEGIN_NESTED("tunnel(", ...)`).
pub(crate) fn parse_tunnel(c: &mut Cursor<'_>, k: &mut Tunnel, m: &mut Tunnel) -> PResult<()> {
    const A: &str = "tunnel";
    *k = Tunnel::default();
    *m = Tunnel::default();
    if c.eat_byte(b')') {
        return Ok(());
    }
    loop {
        let at = c.pos();
        let name = c.ident();
        let fname: &'static str;
        if c.eat_byte(b'=') {
            fname = match name {
                b"tun_id" => {
                    let (v, mm) = m_int(c, u64::MAX, kf(A, "tun_id"))?;
                    (k.tun_id, m.tun_id) = (v, mm);
                    set2(k, m, TunnelAttr::Id);
                    "tun_id"
                }
                b"src" => {
                    (k.ipv4_src, m.ipv4_src) = m_ipv4(c, kf(A, "src"))?;
                    set2(k, m, TunnelAttr::Ipv4Src);
                    "src"
                }
                b"dst" => {
                    (k.ipv4_dst, m.ipv4_dst) = m_ipv4(c, kf(A, "dst"))?;
                    set2(k, m, TunnelAttr::Ipv4Dst);
                    "dst"
                }
                b"ipv6_src" => {
                    (k.ipv6_src, m.ipv6_src) = m_ipv6(c, kf(A, "ipv6_src"))?;
                    set2(k, m, TunnelAttr::Ipv6Src);
                    "ipv6_src"
                }
                b"ipv6_dst" => {
                    (k.ipv6_dst, m.ipv6_dst) = m_ipv6(c, kf(A, "ipv6_dst"))?;
                    set2(k, m, TunnelAttr::Ipv6Dst);
                    "ipv6_dst"
                }
                b"tos" => {
                    (k.tos, m.tos) = m8(c, kf(A, "tos"))?;
                    set2(k, m, TunnelAttr::Tos);
                    "tos"
                }
                b"ttl" => {
                    (k.ttl, m.ttl) = m8(c, kf(A, "ttl"))?;
                    set2(k, m, TunnelAttr::Ttl);
                    "ttl"
                }
                b"tp_src" => {
                    (k.tp_src, m.tp_src) = m16(c, kf(A, "tp_src"))?;
                    set2(k, m, TunnelAttr::TpSrc);
                    "tp_src"
                }
                b"tp_dst" => {
                    (k.tp_dst, m.tp_dst) = m16(c, kf(A, "tp_dst"))?;
                    set2(k, m, TunnelAttr::TpDst);
                    "tp_dst"
                }
                _ => return Err(c.err_at(at, Context::Key(A), ErrorKind::UnknownField)),
            };
        } else if c.eat_byte(b'(') {
            fname = match name {
                b"vxlan" => {
                    c.expect("gbp(", "'gbp('", kf(A, "vxlan"))?;
                    let (mut id, mut idm, mut fl, mut flm) = (0u16, 0u16, 0u8, 0u8);
                    fields(c, "gbp", true, |c, f| {
                        Ok(Some(match f {
                            b"id" => {
                                (id, idm) = m16(c, kf("gbp", "id"))?;
                                "id"
                            }
                            b"flags" => {
                                (fl, flm) = m8(c, kf("gbp", "flags"))?;
                                "flags"
                            }
                            _ => return Ok(None),
                        }))
                    })?;
                    c.expect(")", "')'", kf(A, "vxlan"))?;
                    k.vxlan_gbp = (u32::from(fl) << 16) | u32::from(id);
                    m.vxlan_gbp = (u32::from(flm) << 16) | u32::from(idm);
                    // vxlan_gbp_to_attr() emits the attribute only when non-zero.
                    if k.vxlan_gbp != 0 {
                        k.set(TunnelAttr::VxlanOpts);
                    }
                    if m.vxlan_gbp != 0 {
                        m.set(TunnelAttr::VxlanOpts);
                    }
                    "vxlan"
                }
                b"geneve" => {
                    let (gk, gm) = parse_geneve_opts(c, true)?;
                    k.geneve = Some(gk);
                    m.geneve = gm;
                    set2(k, m, TunnelAttr::GeneveOpts);
                    "geneve"
                }
                b"erspan" => {
                    let (mut e, mut em) = (
                        ErspanOpts::default(),
                        ErspanOpts {
                            ver: 0xff,
                            ..Default::default()
                        },
                    );
                    fields(c, "erspan", true, |c, f| {
                        Ok(Some(match f {
                            b"ver" => {
                                (e.ver, _) = m8(c, kf("erspan", "ver"))?;
                                "ver"
                            }
                            b"idx" => {
                                (e.idx, em.idx) = m32(c, kf("erspan", "idx"))?;
                                "idx"
                            }
                            b"dir" => {
                                (e.dir, em.dir) = m8(c, kf("erspan", "dir"))?;
                                "dir"
                            }
                            b"hwid" => {
                                (e.hwid, em.hwid) = m8(c, kf("erspan", "hwid"))?;
                                "hwid"
                            }
                            _ => return Ok(None),
                        }))
                    })?;
                    if e.ver != 1 && e.ver != 2 {
                        return Err(c.err_at(
                            at,
                            kf(A, "erspan"),
                            ErrorKind::Invalid("ERSPAN version (1 or 2)"),
                        ));
                    }
                    (k.erspan, m.erspan) = (e, em);
                    set2(k, m, TunnelAttr::ErspanOpts);
                    "erspan"
                }
                b"gtpu" => {
                    let (mut g, mut gm) = (GtpuOpts::default(), GtpuOpts::default());
                    fields(c, "gtpu", true, |c, f| {
                        Ok(Some(match f {
                            b"flags" => {
                                (g.flags, gm.flags) = m8(c, kf("gtpu", "flags"))?;
                                "flags"
                            }
                            b"msgtype" => {
                                (g.msgtype, gm.msgtype) = m8(c, kf("gtpu", "msgtype"))?;
                                "msgtype"
                            }
                            _ => return Ok(None),
                        }))
                    })?;
                    (k.gtpu, m.gtpu) = (g, gm);
                    set2(k, m, TunnelAttr::GtpuOpts);
                    "gtpu"
                }
                b"flags" => {
                    let (v, mm) =
                        parse_flags(c, tun_flag_bit, u32::from(tnl_flags::MASK), kf(A, "flags"))?;
                    c.expect(")", "')'", kf(A, "flags"))?;
                    let keep = tnl_flags::DONT_FRAGMENT | tnl_flags::CSUM | tnl_flags::OAM;
                    k.flags = (v as u16) & keep;
                    m.flags = (mm as u16) & keep;
                    "flags"
                }
                _ => return Err(c.err_at(at, Context::Key(A), ErrorKind::UnknownField)),
            };
        } else {
            if name.is_empty() {
                return Err(c.expected("a tunnel field", Context::Key(A)));
            }
            return Err(c.err_at(at, Context::Key(A), ErrorKind::UnknownField));
        }
        if sep(c, A, fname, true)? {
            return Ok(());
        }
    }
}

pub(crate) fn set2(k: &mut Tunnel, m: &mut Tunnel, a: TunnelAttr) {
    k.set(a);
    m.set(a);
}

/// `scan_geneve()`: `{class=,type=,len=,0xDATA[/0xMASK]}...)`, the `(` already
/// read, the final `)` consumed.  Returns the key options and, when `masked`,
/// the mask options.
pub(crate) fn parse_geneve_opts(
    c: &mut Cursor<'_>,
    masked: bool,
) -> PResult<(Box<GeneveOpts>, Option<Box<GeneveOpts>>)> {
    const A: &str = "geneve";
    let mut k = Box::<GeneveOpts>::default();
    let mut m = Box::<GeneveOpts>::default();
    let mut len = 0usize;
    while c.eat_byte(b'{') {
        if len + 4 > 252 {
            return Err(c.err(
                Context::Key(A),
                ErrorKind::Invalid("Geneve options longer than 252 bytes"),
            ));
        }
        let (mut class, mut classm, mut ty, mut tym, mut olen, mut olenm) =
            (0u16, 0u16, 0u8, 0u8, 0u8, 0u8);
        if c.eat("class=") {
            (class, classm) = m16(c, kf(A, "class"))?;
        }
        c.eat_byte(b',');
        if c.eat("type=") {
            (ty, tym) = m8(c, kf(A, "type"))?;
        }
        c.eat_byte(b',');
        if c.eat("len=") {
            let at = c.pos();
            (olen, olenm) = m8(c, kf(A, "len"))?;
            if olen > 124 || olen % 4 != 0 || len + 4 + usize::from(olen) > 252 {
                return Err(c.err_at(at, kf(A, "len"), ErrorKind::Invalid("Geneve option length")));
            }
        }
        let dl = usize::from(olen);
        let hdr = [(class >> 8) as u8, class as u8, ty, olen / 4];
        let hdrm = [(classm >> 8) as u8, classm as u8, tym, olenm];
        k.data[len..len + 4].copy_from_slice(&hdr);
        m.data[len..len + 4].copy_from_slice(&hdrm);
        if c.eat_byte(b',') {
            let v = c.u128(kf(A, "data"))?;
            put_be_bytes(&mut k.data[len + 4..len + 4 + dl], v, c, kf(A, "data"))?;
            if c.eat_byte(b'/') {
                let mv = c.u128(kf(A, "data"))?;
                put_be_bytes(&mut m.data[len + 4..len + 4 + dl], mv, c, kf(A, "data"))?;
            } else {
                m.data[len + 4..len + 4 + dl].fill(0xff);
            }
        } else if masked && c.eat_byte(b'/') {
            let mv = c.u128(kf(A, "data"))?;
            put_be_bytes(&mut m.data[len + 4..len + 4 + dl], mv, c, kf(A, "data"))?;
        }
        c.expect("}", "'}'", kf(A, "len"))?;
        len += 4 + dl;
    }
    c.expect(")", "'{' or ')'", Context::Key(A))?;
    k.len = len as u8;
    m.len = len as u8;
    Ok((k, masked.then_some(m)))
}

/// Stores `v` right-aligned, big-endian, in `dst`; an error if it does not fit.
pub(crate) fn put_be_bytes(dst: &mut [u8], v: u128, c: &Cursor<'_>, ctx: Context) -> PResult<()> {
    let bytes = v.to_be_bytes();
    let n = dst.len().min(16);
    if bytes[..16 - n].iter().any(|&b| b != 0) {
        return Err(c.err(
            ctx,
            ErrorKind::Invalid("option data longer than its length"),
        ));
    }
    let pad = dst.len() - n;
    dst[pad..].copy_from_slice(&bytes[16 - n..]);
    Ok(())
}

/// `format_odp_tun_attr()`.
pub(crate) fn fmt_tunnel(out: &mut String, k: &Tunnel, m: Option<&Tunnel>, verbose: bool) {
    let mv = |a: TunnelAttr| m.map(|m| m.has(a));
    let mut flags = k.flags;
    let mut mask_flags = m.map_or(0, |m| m.flags);
    if k.has(TunnelAttr::Id) {
        let mm = mv(TunnelAttr::Id).map(|h| if h { m.map_or(0, |m| m.tun_id) } else { 0 });
        if verbose || mm != Some(0) {
            out.push_str("tun_id=0x");
            w::hex(out, k.tun_id);
            if let Some(mm) = mm.filter(|&x| x != u64::MAX) {
                out.push('/');
                w::hex_alt(out, mm);
            }
            out.push(',');
        }
        flags |= tnl_flags::KEY;
        if m.is_some() {
            mask_flags |= tnl_flags::KEY;
        }
    }
    macro_rules! sub {
        ($a:expr, $field:ident) => {
            if mv($a) == Some(true) {
                m.map(|m| m.$field)
            } else if m.is_some() {
                Some(Default::default())
            } else {
                None
            }
        };
    }
    if k.has(TunnelAttr::Ipv4Src) {
        fmt_ipv4(
            out,
            "src",
            k.ipv4_src,
            sub!(TunnelAttr::Ipv4Src, ipv4_src),
            verbose,
        );
    }
    if k.has(TunnelAttr::Ipv4Dst) {
        fmt_ipv4(
            out,
            "dst",
            k.ipv4_dst,
            sub!(TunnelAttr::Ipv4Dst, ipv4_dst),
            verbose,
        );
    }
    if k.has(TunnelAttr::Ipv6Src) {
        let mm: Option<[u8; 16]> = sub!(TunnelAttr::Ipv6Src, ipv6_src);
        fmt_in6(out, "ipv6_src", &k.ipv6_src, mm.as_ref(), verbose);
    }
    if k.has(TunnelAttr::Ipv6Dst) {
        let mm: Option<[u8; 16]> = sub!(TunnelAttr::Ipv6Dst, ipv6_dst);
        fmt_in6(out, "ipv6_dst", &k.ipv6_dst, mm.as_ref(), verbose);
    }
    if k.has(TunnelAttr::Tos) {
        u8x(out, "tos", k.tos, sub!(TunnelAttr::Tos, tos), verbose);
    }
    if k.has(TunnelAttr::Ttl) {
        u8u(out, "ttl", k.ttl, sub!(TunnelAttr::Ttl, ttl), verbose);
    }
    if k.has(TunnelAttr::TpSrc) {
        be16(
            out,
            "tp_src",
            k.tp_src,
            sub!(TunnelAttr::TpSrc, tp_src),
            verbose,
        );
    }
    if k.has(TunnelAttr::TpDst) {
        be16(
            out,
            "tp_dst",
            k.tp_dst,
            sub!(TunnelAttr::TpDst, tp_dst),
            verbose,
        );
    }
    if k.has(TunnelAttr::VxlanOpts) {
        let mm: Option<u32> = sub!(TunnelAttr::VxlanOpts, vxlan_gbp);
        out.push_str("vxlan(gbp(");
        be16(out, "id", k.vxlan_gbp as u16, mm.map(|x| x as u16), verbose);
        u8x(
            out,
            "flags",
            (k.vxlan_gbp >> 16) as u8,
            mm.map(|x| (x >> 16) as u8),
            verbose,
        );
        w::chomp(out, ',');
        out.push_str(")),");
    }
    if k.has(TunnelAttr::GeneveOpts) {
        out.push_str("geneve(");
        let kb = k.geneve.as_deref().map_or(&[][..], GeneveOpts::bytes);
        let zero = [0u8; 252];
        let mb: Option<&[u8]> = match m {
            Some(m) if m.has(TunnelAttr::GeneveOpts) => Some(
                m.geneve
                    .as_deref()
                    .map_or(&zero[..kb.len()], GeneveOpts::bytes),
            ),
            Some(_) => Some(&zero[..kb.len()]),
            None => None,
        };
        if let Some(mb) = mb.filter(|mb| mb.len() != kb.len()) {
            out.push_str("value len ");
            w::dec(out, kb.len() as u64);
            out.push_str(" different from mask len ");
            w::dec(out, mb.len() as u64);
        } else {
            fmt_geneve_opts(out, kb, mb, verbose);
        }
        out.push_str("),");
    }
    if k.has(TunnelAttr::ErspanOpts) {
        out.push_str("erspan(");
        let e = &k.erspan;
        let em: Option<ErspanOpts> = sub!(TunnelAttr::ErspanOpts, erspan);
        u8u(out, "ver", e.ver, em.map(|x| x.ver), verbose);
        if e.ver == 1 {
            out.push_str("idx=");
            w::hex_alt(out, u64::from(e.idx));
            if let Some(em) = em {
                out.push('/');
                w::hex_alt(out, u64::from(em.idx));
            }
            out.push(',');
        } else if e.ver == 2 {
            u8u(out, "dir", e.dir, em.map(|x| x.dir), verbose);
            u8x(out, "hwid", e.hwid, em.map(|x| x.hwid), verbose);
        }
        w::chomp(out, ',');
        out.push_str("),");
    }
    if k.has(TunnelAttr::GtpuOpts) {
        out.push_str("gtpu(");
        let gm: Option<GtpuOpts> = sub!(TunnelAttr::GtpuOpts, gtpu);
        u8x(out, "flags", k.gtpu.flags, gm.map(|x| x.flags), verbose);
        u8u(
            out,
            "msgtype",
            k.gtpu.msgtype,
            gm.map(|x| x.msgtype),
            verbose,
        );
        w::chomp(out, ',');
        out.push_str("),");
    }
    // format_tun_flags()
    let mflags = m.map(|_| mask_flags);
    if verbose || mflags != Some(0) {
        out.push_str("flags(");
        match mflags {
            Some(mf) => format_flags_masked(
                out,
                tun_flag_name,
                u32::from(flags),
                u32::from(mf & tnl_flags::MASK),
                u32::from(tnl_flags::MASK),
            ),
            None => format_flags(out, tun_flag_name, u32::from(flags), '|'),
        }
        out.push_str("),");
    }
    w::chomp(out, ',');
}

/// `format_geneve_opts()`.
pub(crate) fn fmt_geneve_opts(out: &mut String, opts: &[u8], mask: Option<&[u8]>, verbose: bool) {
    let mut off = 0usize;
    while off < opts.len() {
        let rem = opts.len() - off;
        if rem < 4 {
            out.push_str("opt len ");
            w::dec(out, rem as u64);
            out.push_str(" less than minimum 4");
            return;
        }
        let o = &opts[off..];
        let data_len = usize::from(o[3] & 0x1f) * 4;
        let len = 4 + data_len;
        if len > rem {
            out.push_str("opt len ");
            w::dec(out, len as u64);
            out.push_str(" greater than remaining ");
            w::dec(out, rem as u64);
            return;
        }
        let mo = mask.map(|m| &m[off..off + len]);
        out.push('{');
        be16x(
            out,
            "class",
            u16::from_be_bytes([o[0], o[1]]),
            mo.map(|m| u16::from_be_bytes([m[0], m[1]])),
            verbose,
        );
        u8x(out, "type", o[2], mo.map(|m| m[2]), verbose);
        let dlm = mo.map(|m| {
            if m[3] & 0x1f == 0x1f {
                0xff
            } else {
                m[3] & 0x1f
            }
        });
        u8u(out, "len", data_len as u8, dlm, verbose);
        let data = &o[4..len];
        let dmask = mo.map(|m| &m[4..len]);
        if data_len != 0 && (verbose || dmask.map_or(true, |d| d.iter().any(|&b| b != 0))) {
            w::ds_hex(out, data);
            if let Some(d) = dmask.filter(|d| d.iter().any(|&b| b != 0xff)) {
                out.push('/');
                w::ds_hex(out, d);
            }
        } else {
            w::chomp(out, ',');
        }
        out.push('}');
        off += len;
    }
}
