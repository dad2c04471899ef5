//! Reader for classic pcap files, as OVS's `netdev-dummy` writes them
//! (`options:tx_pcap`, `options:rxq_pcap`).
//!
//! Layout: a 24-byte global header whose magic says the byte order and the
//! timestamp unit (`a1b2c3d4` microseconds, `a1b23c4d` nanoseconds, either
//! byte order), then records of a 16-byte header (`ts_sec`, `ts_frac`,
//! `incl_len`, `orig_len`) followed by `incl_len` bytes. Only the packet bytes
//! are returned; a file cut in the middle of a header or record is an error
//! (a record still being written by OVS is not silently dropped).

use std::fmt;

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
/// Larger than any frame a test sends; guards against reading garbage.
const MAX_RECORD_LEN: u32 = 1 << 20;

/// What was wrong with a pcap file, and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PcapError {
    /// The file is shorter than the 24-byte global header.
    TruncatedHeader { len: usize },
    /// The magic number is none of the four known ones.
    BadMagic { magic: [u8; 4] },
    /// A record header or its data runs past the end of the file.
    TruncatedRecord {
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A record claims more than [`MAX_RECORD_LEN`] bytes.
    RecordTooLong { offset: usize, len: u32 },
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TruncatedHeader { len } => {
                write!(f, "pcap file is {len} bytes, shorter than the 24-byte global header")
            }
            Self::BadMagic { magic } => write!(
                f,
                "pcap magic {:02x}{:02x}{:02x}{:02x} at offset 0 is not a1b2c3d4/a1b23c4d in either byte order",
                magic[0], magic[1], magic[2], magic[3]
            ),
            Self::TruncatedRecord { offset, needed, available } => write!(
                f,
                "pcap record at offset {offset} needs {needed} bytes, only {available} left"
            ),
            Self::RecordTooLong { offset, len } => write!(
                f,
                "pcap record at offset {offset} claims {len} bytes (more than {MAX_RECORD_LEN})"
            ),
        }
    }
}

impl std::error::Error for PcapError {}

/// Parses a whole pcap file and returns each record's captured bytes.
pub fn parse(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PcapError> {
    if bytes.len() < GLOBAL_HEADER_LEN {
        return Err(PcapError::TruncatedHeader { len: bytes.len() });
    }
    let magic: [u8; 4] = bytes[..4].try_into().expect("length checked above");
    let big_endian = match magic {
        // Microsecond and nanosecond magics, written in the writer's order.
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        _ => return Err(PcapError::BadMagic { magic }),
    };
    let read_u32 = |at: usize| {
        let word: [u8; 4] = bytes[at..at + 4].try_into().expect("caller checked bounds");
        if big_endian {
            u32::from_be_bytes(word)
        } else {
            u32::from_le_bytes(word)
        }
    };

    let mut packets = Vec::new();
    let mut offset = GLOBAL_HEADER_LEN;
    while offset < bytes.len() {
        let available = bytes.len() - offset;
        if available < RECORD_HEADER_LEN {
            return Err(PcapError::TruncatedRecord {
                offset,
                needed: RECORD_HEADER_LEN,
                available,
            });
        }
        let incl_len = read_u32(offset + 8);
        if incl_len > MAX_RECORD_LEN {
            return Err(PcapError::RecordTooLong {
                offset,
                len: incl_len,
            });
        }
        let needed = RECORD_HEADER_LEN + incl_len as usize;
        if available < needed {
            return Err(PcapError::TruncatedRecord {
                offset,
                needed,
                available,
            });
        }
        let data = offset + RECORD_HEADER_LEN;
        packets.push(bytes[data..data + incl_len as usize].to_vec());
        offset += needed;
    }
    Ok(packets)
}

/// Writes `packets` as a little-endian, microsecond pcap (Ethernet link
/// type), all with timestamp 0. Used by tests of [`parse`].
pub fn write(packets: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes()); // version major
    out.extend_from_slice(&4u16.to_le_bytes()); // version minor
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for packet in packets {
        let len = u32::try_from(packet.len()).expect("test packet fits in u32");
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(packet);
    }
    out
}
