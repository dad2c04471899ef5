//! Classic libpcap files for `process`, through the `pcap-file` crate:
//! reads both byte orders and both timestamp units (magic `a1b2c3d4`
//! microseconds, `a1b23c4d` nanoseconds), writes little-endian microsecond
//! files. Ethernet link type only. Errors name the file and the byte offset
//! of what is wrong; the checks `pcap-file` leaves to its caller (a record
//! cut by the snaplen, an absurd length) are made here.

use pcap_file::pcap::{PcapHeader, PcapParser, PcapWriter, RawPcapPacket};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// Seconds of the timestamp.
    pub sec: u32,
    /// Microseconds of the timestamp (nanosecond files are rounded down).
    pub usec: u32,
    /// The frame.
    pub data: Vec<u8>,
}

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
/// Larger than any frame: a bigger record length means a corrupt file.
const MAX_RECORD_LEN: u32 = 256 * 1024;

/// Reads the pcap file at `path`.
pub(crate) fn read(path: &str) -> Result<Vec<Record>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    parse(&bytes).map_err(|(offset, what)| format!("{path}: offset {offset}: {what}"))
}

/// Parses a whole pcap file; an error is `(byte offset, what)`.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Record>, (usize, String)> {
    let (mut rest, parser) = PcapParser::new(bytes).map_err(|e| match (e, bytes) {
        (PcapError::IncompleteBuffer, _) => (
            0,
            format!(
                "{} bytes, shorter than the 24-byte pcap header",
                bytes.len()
            ),
        ),
        (_, [a, b, c, d, ..]) => (
            0,
            format!(
                "magic {a:02x}{b:02x}{c:02x}{d:02x} is not a classic pcap file's (pcapng is not read)"
            ),
        ),
        (e, _) => (0, e.to_string()),
    })?;
    let header = parser.header();
    if header.datalink != DataLink::ETHERNET {
        let link = u32::from(header.datalink);
        return Err((20, format!("link type {link} is not Ethernet (1)")));
    }
    let nanos = header.ts_resolution == TsResolution::NanoSecond;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let at = bytes.len() - rest.len();
        let left = rest.len();
        let (next, raw) = match parser.next_raw_packet(rest) {
            Ok(r) => r,
            Err(_) if left < RECORD_HEADER_LEN => {
                return Err((
                    at,
                    format!("record header needs 16 bytes, the file has {left} left"),
                ))
            }
            Err(_) => {
                // The header read: only the data can run short.
                let (_, head) = bytes.split_at(at);
                let incl = raw_incl_len(head, header.endianness);
                if incl > MAX_RECORD_LEN {
                    return Err((at, format!("record claims {incl} bytes")));
                }
                return Err((
                    at,
                    format!(
                        "record of {incl} bytes runs past the end of the file ({} left)",
                        left - RECORD_HEADER_LEN
                    ),
                ));
            }
        };
        if raw.incl_len > MAX_RECORD_LEN {
            return Err((at, format!("record claims {} bytes", raw.incl_len)));
        }
        if raw.incl_len < raw.orig_len {
            return Err((
                at,
                format!(
                    "frame cut by the capture's snaplen ({} of {} bytes)",
                    raw.incl_len, raw.orig_len
                ),
            ));
        }
        out.push(Record {
            sec: raw.ts_sec,
            usec: if nanos {
                raw.ts_frac / 1000
            } else {
                raw.ts_frac
            },
            data: raw.data.into_owned(),
        });
        rest = next;
    }
    Ok(out)
}

/// `incl_len` of the record header at the start of `head` (16 bytes known).
fn raw_incl_len(head: &[u8], endianness: Endianness) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&head[8..12]);
    match endianness {
        Endianness::Big => u32::from_be_bytes(w),
        Endianness::Little => u32::from_le_bytes(w),
    }
}

/// A little-endian, microsecond, Ethernet pcap file of `records`.
pub(crate) fn encode(records: &[Record]) -> Vec<u8> {
    let size = GLOBAL_HEADER_LEN
        + records
            .iter()
            .map(|r| RECORD_HEADER_LEN + r.data.len())
            .sum::<usize>();
    let header = PcapHeader {
        endianness: Endianness::Little,
        ts_resolution: TsResolution::MicroSecond,
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    // Writing into a Vec cannot fail: no I/O, and raw records are written
    // as they are, unchecked.
    let mut w = PcapWriter::with_header(Vec::with_capacity(size), header)
        .expect("a Vec takes the pcap header");
    for r in records {
        let len = u32::try_from(r.data.len()).unwrap_or(u32::MAX);
        let raw = RawPcapPacket {
            ts_sec: r.sec,
            ts_frac: r.usec,
            incl_len: len,
            orig_len: len,
            data: std::borrow::Cow::Borrowed(&r.data),
        };
        w.write_raw_packet(&raw).expect("a Vec takes a pcap record");
    }
    w.into_writer()
}

/// Writes `records` to `path`.
pub(crate) fn write(path: &std::path::Path, records: &[Record]) -> Result<(), String> {
    std::fs::write(path, encode(records)).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(sec: u32, usec: u32, data: &[u8]) -> Record {
        Record {
            sec,
            usec,
            data: data.to_vec(),
        }
    }

    /// The big-endian (optionally nanosecond) twin of an `encode`d file.
    fn to_big_endian(le: &[u8], nanos: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        out.extend_from_slice(&magic.to_be_bytes());
        for w in le[4..8].chunks(2) {
            out.extend_from_slice(&[w[1], w[0]]);
        }
        for w in le[8..24].chunks(4) {
            out.extend_from_slice(&[w[3], w[2], w[1], w[0]]);
        }
        let mut at = 24;
        while at < le.len() {
            let mut head: Vec<u32> = le[at..at + 16]
                .chunks(4)
                .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
                .collect();
            if nanos {
                head[1] *= 1000;
            }
            for w in &head {
                out.extend_from_slice(&w.to_be_bytes());
            }
            let len = head[2] as usize;
            out.extend_from_slice(&le[at + 16..at + 16 + len]);
            at += 16 + len;
        }
        out
    }

    #[test]
    fn round_trips_in_every_byte_order_and_unit() {
        let records = vec![rec(1, 2, &[1, 2, 3]), rec(7, 999_999, &[0xab; 60])];
        let le = encode(&records);
        assert_eq!(parse(&le).unwrap(), records);
        assert_eq!(parse(&to_big_endian(&le, false)).unwrap(), records);
        assert_eq!(parse(&to_big_endian(&le, true)).unwrap(), records);
        // Little-endian nanoseconds.
        let mut le_ns = le.clone();
        le_ns[..4].copy_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        let second = 24 + 16 + 3;
        le_ns[second + 4..second + 8].copy_from_slice(&999_999_999u32.to_le_bytes());
        assert_eq!(parse(&le_ns).unwrap()[1].usec, 999_999);
        assert_eq!(parse(&encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn errors_say_where() {
        let le = encode(&[rec(0, 0, &[9; 20])]);
        assert_eq!(parse(&le[..10]).unwrap_err().0, 0);
        let mut bad = le.clone();
        bad[0] = 0;
        assert!(parse(&bad).unwrap_err().1.contains("magic 00c3b2a1"));
        let mut not_eth = le.clone();
        not_eth[20] = 105;
        assert_eq!(parse(&not_eth).unwrap_err().0, 20);
        let (at, what) = parse(&le[..le.len() - 1]).unwrap_err();
        assert_eq!(at, 24);
        assert!(what.contains("past the end"), "{what}");
        let (at, what) = parse(&le[..30]).unwrap_err();
        assert_eq!(at, 24);
        assert!(what.contains("16 bytes"), "{what}");
        let mut cut = le.clone();
        cut[24 + 12] = 40; // orig_len 40 > incl_len 20
        assert!(parse(&cut).unwrap_err().1.contains("snaplen"));
    }

    #[test]
    fn read_names_the_file_and_offset() {
        let dir = std::env::temp_dir().join(format!("xsc-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        let le = encode(&[rec(0, 0, &[1; 14])]);
        std::fs::write(&path, &le[..le.len() - 2]).unwrap();
        let p = path.to_str().unwrap();
        let err = read(p).unwrap_err();
        assert!(err.starts_with(&format!("{p}: offset 24: ")), "{err}");
        write(&path, &[rec(3, 4, &[5; 14])]).unwrap();
        assert_eq!(read(p).unwrap(), vec![rec(3, 4, &[5; 14])]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
