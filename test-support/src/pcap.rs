//! Classic pcap files in tests, through the `pcap-file` crate (the codec
//! the CLI's `process` uses): reading what OVS's dummy ports
//! (`options:tx_pcap`) or `xsc-offload process --out-dir` write, and
//! writing inputs in either byte order and timestamp unit.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapParser, PcapWriter, RawPcapPacket};
use pcap_file::{DataLink, Endianness, TsResolution};

/// Larger than any frame a test sends; guards against reading garbage.
pub const MAX_RECORD_LEN: u32 = 1 << 20;

/// One frame with its timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The capture time (microsecond or nanosecond precision, as written).
    pub time: Duration,
    /// The bytes.
    pub data: Vec<u8>,
}

/// How a file is written: byte order and timestamp unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// Big-endian (magic `a1b2c3d4` as bytes) or little-endian.
    pub big_endian: bool,
    /// Nanosecond timestamps (magic `a1b23c4d`) or microseconds.
    pub nanos: bool,
}

impl Format {
    /// What libpcap writes on x86, and what `process --out-dir` writes.
    pub const LE_MICROS: Format = Format {
        big_endian: false,
        nanos: false,
    };
    /// The other byte order and unit: a reader must take it too.
    pub const BE_NANOS: Format = Format {
        big_endian: true,
        nanos: true,
    };
}

/// What was wrong with a pcap file, and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapError {
    /// The byte offset of the header or record at fault.
    pub offset: usize,
    /// What was wrong.
    pub what: String,
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pcap offset {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for PcapError {}

/// Every frame of a pcap file, in order; a file cut in a header or record
/// is an error (a record still being written is not silently dropped).
pub fn parse(bytes: &[u8]) -> Result<Vec<Frame>, PcapError> {
    let err = |offset, what: String| PcapError { offset, what };
    let (mut rest, parser) =
        PcapParser::new(bytes).map_err(|e| err(0, format!("global header: {e}")))?;
    let header = parser.header();
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let at = bytes.len() - rest.len();
        // A record claiming more than any test frame is garbage, not a
        // record still being written: say so before the parser asks for
        // that many bytes (`incl_len` is the third word of the record
        // header, in the file's byte order).
        if let Some(word) = rest.get(8..12) {
            let word: [u8; 4] = word.try_into().expect("four bytes");
            let incl_len = match header.endianness {
                Endianness::Big => u32::from_be_bytes(word),
                Endianness::Little => u32::from_le_bytes(word),
            };
            if incl_len > MAX_RECORD_LEN {
                return Err(err(
                    at,
                    format!("record claims {incl_len} bytes (more than {MAX_RECORD_LEN})"),
                ));
            }
        }
        let (next, raw) = parser.next_raw_packet(rest).map_err(|e| {
            err(
                at,
                format!("record cut short ({} bytes left): {e}", rest.len()),
            )
        })?;
        let nanos = match header.ts_resolution {
            TsResolution::MicroSecond => raw.ts_frac.saturating_mul(1000),
            TsResolution::NanoSecond => raw.ts_frac,
        };
        frames.push(Frame {
            time: Duration::new(u64::from(raw.ts_sec), nanos),
            data: raw.data.into_owned(),
        });
        rest = next;
    }
    Ok(frames)
}

/// The bytes of every frame, in order (what the OVS harness compares).
pub fn parse_packets(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PcapError> {
    Ok(parse(bytes)?.into_iter().map(|f| f.data).collect())
}

/// A pcap file of `frames` (Ethernet link type) in `format`.
pub fn write(frames: &[Frame], format: Format) -> Vec<u8> {
    let header = PcapHeader {
        endianness: if format.big_endian {
            Endianness::Big
        } else {
            Endianness::Little
        },
        ts_resolution: if format.nanos {
            TsResolution::NanoSecond
        } else {
            TsResolution::MicroSecond
        },
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).expect("a Vec takes the header");
    for f in frames {
        let len = u32::try_from(f.data.len()).expect("a test frame fits in u32");
        let frac = if format.nanos {
            f.time.subsec_nanos()
        } else {
            f.time.subsec_micros()
        };
        let raw = RawPcapPacket {
            ts_sec: u32::try_from(f.time.as_secs()).expect("a pcap time fits in u32"),
            ts_frac: frac,
            incl_len: len,
            orig_len: len,
            data: Cow::Borrowed(&f.data),
        };
        w.write_raw_packet(&raw).expect("a Vec takes a record");
    }
    w.into_writer()
}

/// Frames with timestamp 0, written little-endian in microseconds.
pub fn write_packets(packets: &[&[u8]]) -> Vec<u8> {
    let frames: Vec<Frame> = packets
        .iter()
        .map(|p| Frame {
            time: Duration::ZERO,
            data: p.to_vec(),
        })
        .collect();
    write(&frames, Format::LE_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_byte_orders_and_units_round_trip_and_cuts_are_errors() {
        let frames = vec![
            Frame {
                time: Duration::new(100, 5000),
                data: vec![1, 2, 3],
            },
            Frame {
                time: Duration::new(101, 999_999_000),
                data: vec![0xab; 60],
            },
        ];
        for format in [Format::LE_MICROS, Format::BE_NANOS] {
            let bytes = write(&frames, format);
            let magic = if format.nanos {
                0xa1b2_3c4du32
            } else {
                0xa1b2_c3d4
            };
            let want = if format.big_endian {
                magic.to_be_bytes()
            } else {
                magic.to_le_bytes()
            };
            assert_eq!(bytes[..4], want);
            assert_eq!(parse(&bytes).unwrap(), frames, "{format:?}");
            let cut = parse(&bytes[..bytes.len() - 1]).unwrap_err();
            assert_eq!(cut.offset, 24 + 16 + 3, "{cut}");
        }
        assert_eq!(parse(&[0; 10]).unwrap_err().offset, 0);
        let mut huge = write(&frames, Format::BE_NANOS);
        huge[24 + 8..24 + 12].copy_from_slice(&(MAX_RECORD_LEN + 1).to_be_bytes());
        let e = parse(&huge).unwrap_err();
        assert_eq!(e.offset, 24, "{e}");
        assert!(e.what.starts_with("record claims 1048577 bytes"), "{e}");
        assert_eq!(parse(&write_packets(&[])).unwrap(), vec![]);
        let two: [&[u8]; 2] = [&[1, 2], &[3]];
        assert_eq!(
            parse_packets(&write_packets(&two)).unwrap(),
            vec![vec![1, 2], vec![3]]
        );
    }
}
