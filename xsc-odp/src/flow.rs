//! Whole `dpctl/dump-flows` lines: [`Megaflow`] and [`FlowStats`].
//!
//! A line is, as `format_dpif_flow()` in `lib/dpctl.c` writes it:
//! `[ufid:UUID, ]KEY, packets:N, bytes:N, used:T[, flags:F][, offloaded:X]
//! [, dp:NAME], actions:ACTIONS[, dp-extra-info:TEXT]` — the bracketed
//! `ufid`, `offloaded`, `dp` and `dp-extra-info` only in the verbose (`-m`)
//! form.  A bare key (as `ovs-dpctl add-flow` takes it) is read by
//! [`parse_flow_key`].
//!
//! Invariant: [`Megaflow::format`] in [`Style::Verbose`] prints every field the
//! model holds, so verbose text → model → verbose text is the identity on
//! anything OVS printed; [`Style::Plain`] drops what the plain dump drops.
use super::action::text::{format_actions, parse_action_list_into, ListEnd};
use super::action::Actions;
use super::error::{Context, ErrorKind, ParseError};
use super::key::text::parse_key_attr;
use super::key::{format_flow_key, FlowKey, FlowMask};
use super::lex::{Cursor, PResult};
use super::write as w;
use core::fmt;
use core::str::FromStr;
use smallvec::SmallVec;

/// A megaflow's unique flow identifier (`ovs_u128` viewed as `struct uuid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ufid {
    /// The four 32-bit words, in the order `UUID_FMT` prints them.
    pub parts: [u32; 4],
}

/// Which of OVS's two dump forms to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// `dpctl/dump-flows`: wildcarded attributes and fields left out, exact
    /// masks not printed, no ufid/offloaded/dp/dp-extra-info.
    #[default]
    Plain,
    /// `dpctl/dump-flows -m`: everything.
    Verbose,
}

/// When the flow last matched a packet (`used:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Used {
    /// `used:never`.
    #[default]
    Never,
    /// `used:S.MMMs`: milliseconds before the dump (negative if the clock
    /// moved back).
    Ago { ms: i64 },
}

/// `offloaded:` in a verbose dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Offloaded {
    Yes,
    Partial,
}

/// A short name held inline (`dp:ovs`, `dp:tc`, `dp:dpdk`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DpLayer {
    len: u8,
    bytes: [u8; 15],
}

impl DpLayer {
    pub fn new(s: &str) -> Option<DpLayer> {
        let b = s.as_bytes();
        if b.is_empty() || b.len() > 15 {
            return None;
        }
        let mut bytes = [0u8; 15];
        bytes[..b.len()].copy_from_slice(b);
        Some(DpLayer {
            len: b.len() as u8,
            bytes,
        })
    }
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for DpLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// The statistics and attributes `dpctl` prints after the key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct FlowStats {
    pub packets: u64,
    pub bytes: u64,
    pub used: Used,
    /// TCP flags seen (`flags:S.`); 0 when not printed.
    pub tcp_flags: u16,
    pub offloaded: Option<Offloaded>,
    pub dp: Option<DpLayer>,
    /// `dp-extra-info:` text (inline up to 32 bytes).
    pub dp_extra_info: Option<SmallVec<[u8; 32]>>,
}

impl FlowStats {
    /// Resets `self` to `FlowStats::default()` in place.
    pub fn clear(&mut self) {
        let FlowStats {
            packets,
            bytes,
            used,
            tcp_flags,
            offloaded,
            dp,
            dp_extra_info,
        } = self;
        *packets = 0;
        *bytes = 0;
        *used = Used::Never;
        *tcp_flags = 0;
        *offloaded = None;
        *dp = None;
        *dp_extra_info = None;
    }

    /// The `dp-extra-info:` text.
    pub fn dp_extra_info(&self) -> Option<&str> {
        self.dp_extra_info
            .as_ref()
            .and_then(|b| core::str::from_utf8(b).ok())
    }
}

/// One datapath megaflow: what a dump-flows line says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Megaflow {
    pub ufid: Option<Ufid>,
    pub key: FlowKey,
    pub mask: FlowMask,
    pub actions: Actions,
    pub stats: FlowStats,
}

/// `packet_format_tcp_flags()` letters, in OVS's order.
const TCP_FLAG_LETTERS: [(u16, &str); 12] = [
    (0x002, "S"),
    (0x001, "F"),
    (0x008, "P"),
    (0x004, "R"),
    (0x020, "U"),
    (0x010, "."),
    (0x040, "E"),
    (0x080, "C"),
    (0x100, "N"),
    (0x200, "[200]"),
    (0x400, "[400]"),
    (0x800, "[800]"),
];

fn stat(name: &'static str) -> Context {
    Context::Stats(name)
}

fn parse_ufid(c: &mut Cursor<'_>) -> PResult<Ufid> {
    let ctx = Context::Key("ufid");
    let mut parts = [0u32; 4];
    // UUID_FMT "%08x-%04x-%04x-%04x-%04x%08x"
    let groups: [usize; 5] = [8, 4, 4, 4, 12];
    let mut nib: [u8; 32] = [0; 32];
    let mut n = 0;
    for (gi, &len) in groups.iter().enumerate() {
        if gi > 0 && !c.eat_byte(b'-') {
            return Err(c.expected("a UUID", ctx));
        }
        for _ in 0..len {
            match c.peek() {
                Some(b) if b.is_ascii_hexdigit() => {
                    nib[n] = super::lex::hexval(b);
                    n += 1;
                    c.bump();
                }
                _ => return Err(c.expected("a UUID", ctx)),
            }
        }
    }
    for (i, p) in parts.iter_mut().enumerate() {
        *p = nib[i * 8..i * 8 + 8]
            .iter()
            .fold(0u32, |a, &d| (a << 4) | u32::from(d));
    }
    Ok(Ufid { parts })
}

/// Reads key attributes separated by `,` up to `", "` or the end.
fn parse_key_list(
    c: &mut Cursor<'_>,
    key: &mut FlowKey,
    mask: &mut FlowMask,
    bare: bool,
) -> PResult<()> {
    loop {
        parse_key_attr(c, key, mask)?;
        match c.peek() {
            None => return Ok(()),
            Some(b) if bare && super::lex::is_delim(b) => {
                c.skip_delims();
                if c.at_end() {
                    return Ok(());
                }
            }
            Some(b',') if !bare => {
                if c.peek_at(1) == Some(b' ') {
                    return Ok(());
                }
                c.bump();
            }
            Some(_) => return Err(c.expected("',' after a key attribute", Context::Top)),
        }
    }
}

/// Parses a bare flow key with optional masks, as `ovs-dpctl add-flow`
/// takes it (`in_port(1),eth_type(0x0800),ipv4(dst=10.0.0.1/255.255.255.0)`),
/// ignoring a leading `ufid:`.  Attributes given without `/mask` are exact.
pub fn parse_flow_key(s: &str) -> Result<(FlowKey, FlowMask), ParseError> {
    let (mut key, mut mask) = (FlowKey::default(), FlowKey::default());
    parse_bare_key(s, &mut key, &mut mask)?;
    Ok((key, mask))
}

/// [`parse_flow_key`] into caller-owned values (reset first), so that a
/// hot loop reuses them instead of moving ~830 bytes of key and mask out
/// for every string.  On error `key` and `mask` hold what was read so far.
pub fn parse_flow_key_into(
    s: &str,
    key: &mut FlowKey,
    mask: &mut FlowMask,
) -> Result<(), ParseError> {
    key.clear();
    mask.clear();
    parse_bare_key(s, key, mask)
}

/// The body of [`parse_flow_key`], into a cleared `key` and `mask`.
fn parse_bare_key(s: &str, key: &mut FlowKey, mask: &mut FlowMask) -> Result<(), ParseError> {
    let mut c = Cursor::new(s);
    c.skip_delims();
    if c.eat("ufid:") {
        parse_ufid(&mut c)?;
        c.skip_delims();
    }
    if c.at_end() {
        return Err(c.expected("a key attribute", Context::Top));
    }
    parse_key_list(&mut c, key, mask, true)
}

impl Megaflow {
    /// Parses one `dpctl/dump-flows` line (plain or `-m`).  Trailing
    /// whitespace (`\r\n`) is ignored.
    pub fn parse(line: &str) -> Result<Megaflow, ParseError> {
        let mut m = Megaflow::default();
        m.parse_into(line)?;
        Ok(m)
    }

    /// Like [`Megaflow::parse`], reusing `self`'s storage.
    pub fn parse_into(&mut self, line: &str) -> Result<(), ParseError> {
        let line = line.trim_end();
        self.ufid = None;
        self.key.clear();
        self.mask.clear();
        self.stats.clear();
        let mut c = Cursor::new(line);
        if c.eat("ufid:") {
            self.ufid = Some(parse_ufid(&mut c)?);
            c.expect(", ", "', ' after the ufid", Context::Top)?;
        }
        // The plain form leaves out fully wildcarded attributes, so a key
        // with nothing matched prints as nothing; a key without attributes
        // prints as `<empty>` (OVS's odp_flow_format).
        if !c.eat("<empty>") && !c.rest().starts_with(b", packets:") {
            parse_key_list(&mut c, &mut self.key, &mut self.mask, false)?;
        }
        c.expect(", packets:", "', packets:' after the key", Context::Top)?;
        let st = &mut self.stats;
        st.packets = c.dec(u64::MAX, stat("packets"))?;
        c.expect(", bytes:", "', bytes:'", stat("packets"))?;
        st.bytes = c.dec(u64::MAX, stat("bytes"))?;
        c.expect(", used:", "', used:'", stat("bytes"))?;
        st.used = parse_used(&mut c)?;
        if c.eat(", flags:") {
            st.tcp_flags = parse_tcp_flag_letters(&mut c)?;
        }
        if c.eat(", offloaded:") {
            st.offloaded = Some(if c.eat("yes") {
                Offloaded::Yes
            } else if c.eat("partial") {
                Offloaded::Partial
            } else {
                return Err(c.expected("'yes' or 'partial'", stat("offloaded")));
            });
        }
        if c.eat(", dp:") {
            let at = c.pos();
            let n = c.take_while(|b| b != b',' && !b.is_ascii_whitespace());
            st.dp = core::str::from_utf8(n).ok().and_then(DpLayer::new);
            if st.dp.is_none() {
                return Err(c.err_at(
                    at,
                    stat("dp"),
                    ErrorKind::Expected("a datapath name of 1 to 15 bytes"),
                ));
            }
        }
        c.expect(", actions:", "', actions:'", Context::Top)?;
        self.actions.clear();
        parse_action_list_into(&mut c, ListEnd::DumpLine, &mut self.actions)?;
        if c.eat(", dp-extra-info:") {
            let at = c.pos();
            let rest = c.rest();
            c.set_pos(at + rest.len());
            self.stats.dp_extra_info = Some(SmallVec::from_slice(rest));
        }
        if !c.at_end() {
            return Err(c.expected("end of line", Context::Top));
        }
        Ok(())
    }

    /// Appends the line OVS would print in `style`.
    pub fn format(&self, out: &mut String, style: Style) {
        let verbose = style == Style::Verbose;
        if verbose {
            if let Some(u) = &self.ufid {
                format_ufid(out, u);
                out.push_str(", ");
            }
        }
        format_flow_key(out, &self.key, Some(&self.mask), verbose);
        out.push_str(", packets:");
        w::dec(out, self.stats.packets);
        out.push_str(", bytes:");
        w::dec(out, self.stats.bytes);
        out.push_str(", used:");
        match self.stats.used {
            Used::Never => out.push_str("never"),
            Used::Ago { ms } => {
                if ms < 0 {
                    out.push('-');
                }
                let a = ms.unsigned_abs();
                w::dec(out, a / 1000);
                out.push('.');
                let frac = a % 1000;
                if frac < 100 {
                    out.push('0');
                }
                if frac < 10 {
                    out.push('0');
                }
                w::dec(out, frac);
                out.push('s');
            }
        }
        if self.stats.tcp_flags != 0 {
            out.push_str(", flags:");
            for (bit, l) in TCP_FLAG_LETTERS {
                if self.stats.tcp_flags & bit != 0 {
                    out.push_str(l);
                }
            }
        }
        if verbose {
            match self.stats.offloaded {
                Some(Offloaded::Yes) => out.push_str(", offloaded:yes"),
                Some(Offloaded::Partial) => out.push_str(", offloaded:partial"),
                None => {}
            }
            if let Some(dp) = &self.stats.dp {
                out.push_str(", dp:");
                out.push_str(dp.as_str());
            }
        }
        out.push_str(", actions:");
        format_actions(out, &self.actions);
        if verbose {
            if let Some(x) = self.stats.dp_extra_info() {
                out.push_str(", dp-extra-info:");
                out.push_str(x);
            }
        }
    }

    /// The line as a new `String`.
    pub fn to_text(&self, style: Style) -> String {
        let mut s = String::with_capacity(512);
        self.format(&mut s, style);
        s
    }
}

/// `odp_format_ufid()`: `ufid:` and `UUID_FMT`.
pub fn format_ufid(out: &mut String, u: &Ufid) {
    let p = &u.parts;
    out.push_str("ufid:");
    w::hex_pad(out, u64::from(p[0]), 8);
    out.push('-');
    w::hex_pad(out, u64::from(p[1] >> 16), 4);
    out.push('-');
    w::hex_pad(out, u64::from(p[1] & 0xffff), 4);
    out.push('-');
    w::hex_pad(out, u64::from(p[2] >> 16), 4);
    out.push('-');
    w::hex_pad(out, u64::from(p[2] & 0xffff), 4);
    w::hex_pad(out, u64::from(p[3]), 8);
}

fn parse_used(c: &mut Cursor<'_>) -> PResult<Used> {
    if c.eat("never") {
        return Ok(Used::Never);
    }
    let neg = c.eat_byte(b'-');
    let secs = c.dec(u64::from(u32::MAX), stat("used"))?;
    c.expect(".", "'.' and three digits", stat("used"))?;
    let at = c.pos();
    let frac = c.take_while(|b| b.is_ascii_digit());
    if frac.len() != 3 {
        return Err(c.err_at(at, stat("used"), ErrorKind::Expected("three digits")));
    }
    let ms3 = frac.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0'));
    c.expect("s", "'s'", stat("used"))?;
    let ms = (secs * 1000 + ms3) as i64;
    Ok(Used::Ago {
        ms: if neg { -ms } else { ms },
    })
}

fn parse_tcp_flag_letters(c: &mut Cursor<'_>) -> PResult<u16> {
    let mut f = 0u16;
    loop {
        let mut hit = false;
        for (bit, l) in TCP_FLAG_LETTERS {
            if c.eat(l) {
                f |= bit;
                hit = true;
                break;
            }
        }
        if !hit {
            break;
        }
    }
    if f == 0 {
        return Err(c.expected(
            "TCP flag letters (S, F, P, R, U, ., E, C, N)",
            stat("flags"),
        ));
    }
    Ok(f)
}

impl FromStr for Megaflow {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Megaflow::parse(s)
    }
}

/// `{}` prints the plain form, `{:#}` the verbose form.
impl fmt::Display for Megaflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let style = if f.alternate() {
            Style::Verbose
        } else {
            Style::Plain
        };
        f.write_str(&self.to_text(style))
    }
}

/// True for the lines a dump has besides flows: blank lines and the
/// `flow-dump from pmd on cpu core: N` / `flow-dump from the main thread:`
/// headers of the userspace datapath.
pub fn is_dump_header(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with("flow-dump from ")
}

/// Parses every flow line of a whole dump, skipping [`is_dump_header`]
/// lines; each item carries its 1-based line number (also in the error).
pub fn parse_dump(text: &str) -> impl Iterator<Item = (usize, Result<Megaflow, ParseError>)> + '_ {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !is_dump_header(l))
        .map(|(i, l)| (i + 1, Megaflow::parse(l).map_err(|e| e.at_line(i + 1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "ct_state(-new+est-rel+rpl+trk),ct_mark(0/0x3),recirc_id(0x2d277),in_port(15),packet_type(ns=0,id=0),eth(src=00:00:00:9d:fb:1a,dst=00:00:00:ce:cf:b9),eth_type(0x0800),ipv4(dst=10.16.0.14,frag=no), packets:6, bytes:588, used:7.276s, actions:ct(zone=4,nat),recirc(0x2d278)";

    #[test]
    fn seed_line_round_trips() {
        let m: Megaflow = SEED.parse().unwrap();
        assert_eq!(m.to_text(Style::Plain), SEED);
        assert_eq!(m.key.recirc_id, 0x2d277);
        assert_eq!(m.key.in_port_number(), Some(15));
        assert_eq!(m.stats.used, Used::Ago { ms: 7276 });
        assert_eq!(m.actions.len(), 2);
    }

    #[test]
    fn headers_are_skipped_and_lines_numbered() {
        let dump = format!(
            "flow-dump from pmd on cpu core: 3\n{SEED}\n\nflow-dump from the main thread:\nbogus\n"
        );
        let v: Vec<_> = parse_dump(&dump).collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].0, 2);
        assert!(v[0].1.is_ok());
        let e = v[1].1.as_ref().unwrap_err();
        assert_eq!(e.line, 5);
        assert_eq!(e.to_string(), "unknown key attribute at 5:1");
    }

    #[test]
    fn parse_flow_key_into_reuses_and_resets() {
        let key = SEED.split(", packets:").next().unwrap();
        let fresh = parse_flow_key(key).unwrap();
        // Dirty values first: a different key with a VLAN encap, a tunnel
        // and fields the seed does not have.
        let (mut k, mut m) = parse_flow_key(
            "ufid:1a2b3c4d-1a2b-3c4d-1a2b-3c4d5e6f7a8b,tunnel(tun_id=0x5,dst=1.1.1.1),\
             in_port(1),eth_type(0x8100),vlan(vid=7),encap(eth_type(0x0800),\
             ipv4(src=1.2.3.4/255.0.0.0,proto=6,frag=no),tcp(dst=80))",
        )
        .unwrap();
        parse_flow_key_into(key, &mut k, &mut m).unwrap();
        assert_eq!((&k, &m), (&fresh.0, &fresh.1));
        // Same result twice over the same values, and the same errors.
        parse_flow_key_into(key, &mut k, &mut m).unwrap();
        assert_eq!((k.clone(), m.clone()), fresh);
        for bad in ["", "recirc_id(0),bogus(1)", "in_port(1) x"] {
            assert_eq!(
                parse_flow_key_into(bad, &mut k, &mut m).unwrap_err(),
                parse_flow_key(bad).unwrap_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn stats_errors() {
        let e = Megaflow::parse("recirc_id(0), packets:x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a decimal number in flow statistics field 'packets' at 1:23"
        );
        let e = Megaflow::parse("recirc_id(0) packets:1").unwrap_err();
        assert_eq!(e.to_string(), "expected ',' after a key attribute at 1:13");
    }
}
