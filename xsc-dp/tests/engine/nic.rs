//! The emulated NIC ([`Offloader::receive`]): a packet of an offloaded,
//! established connection is forwarded in hardware; a conntrack miss
//! resumes from the start with the frame as it entered; a miss in a
//! recirculation group resumes at that `recirc_id` with the conntrack
//! metadata the hardware set.

use std::sync::Arc;

use xsc_dp::engine::nic::{Received, Resume};
use xsc_dp::engine::{EngineConfig, FlowState, Offloader};
use xsc_dp::eswitch::Eswitch;
use xsc_dp::odp::{ConnEntry, Megaflow, Ufid};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::PortMap;

const PORTS: &[u16] = &[0, 1, 2, 3];

/// Pod A (port 1) to pod B: conntrack zone 4, then recirculation 0x1.
const ROOT: &str = "recirc_id(0),in_port(1),eth(src=00:00:00:9d:fb:1a,dst=00:00:00:ce:cf:b9),eth_type(0x0800),ipv4(src=10.16.0.14,frag=no), packets:0, bytes:0, used:never, actions:ct(zone=4),recirc(0x1)";
/// Established UDP after conntrack: out of port 2.
const EST: &str = "ct_state(-new+est-rpl+trk),recirc_id(0x1),in_port(1),eth_type(0x0800),ipv4(proto=17,frag=no), packets:0, bytes:0, used:never, actions:2";
const CONN: &str = "udp,orig=(src=10.16.0.14,dst=10.16.0.18,sport=3457,dport=80),reply=(src=10.16.0.18,dst=10.16.0.14,sport=80,dport=3457),zone=4,mark=1,labels=0x10001";

fn ufid(i: u32) -> Ufid {
    Ufid {
        parts: [0x0a1c_0000 | i, i, 0, i],
    }
}

/// Ethernet pod A → pod B, IPv4 UDP 10.16.0.14:3457 → 10.16.0.18:80.
fn frame() -> Vec<u8> {
    let mut p = vec![
        0, 0, 0, 0xce, 0xcf, 0xb9, 0, 0, 0, 0x9d, 0xfb, 0x1a, 0x08, 0x00,
    ];
    let mut ip = vec![
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 16, 0, 14, 10, 16, 0, 18,
    ];
    let mut s: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    ip[10..12].copy_from_slice(&(!(s as u16)).to_be_bytes());
    p.extend(ip);
    p.extend([0x0d, 0x81, 0, 80, 0, 8, 0, 0]);
    p
}

fn offloader() -> Offloader<Eswitch> {
    let esw = Arc::new(Eswitch::new(DeviceProfile::metascale(), PORTS));
    Offloader::new(
        esw.clone(),
        esw.profile().clone(),
        PortMap::identity(),
        EngineConfig {
            stats_interval: None,
            ..EngineConfig::default()
        },
    )
    .expect("offloader")
}

fn put(off: &Offloader<Eswitch>, i: u32, text: &str) {
    off.put(ufid(i), Megaflow::parse(text).expect("flow"))
        .expect("put");
    off.wait();
    assert_eq!(off.get(&ufid(i)), Some(FlowState::Offloaded), "{text}");
}

#[test]
fn established_hit_conntrack_miss_and_recirculation_miss() {
    let off = offloader();
    let conn = ConnEntry::parse(CONN).expect("conn");
    put(&off, 1, ROOT);
    put(&off, 2, EST);
    off.ct_add(conn.clone()).expect("ct_add");
    off.wait();
    assert_eq!(off.ct_get(&conn), Some(FlowState::Offloaded));

    // An established packet: out of port 2, unchanged, in hardware.
    match off.receive(1, &frame(), 7) {
        Received::Forwarded(sent) => {
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0], (2, frame()));
        }
        other => panic!("expected a hardware forward, got {other:?}"),
    }

    // Without the connection: a conntrack miss resumes from the start,
    // with the frame as it entered and nothing sent.
    off.ct_del(&conn).expect("ct_del");
    off.wait();
    match off.receive(1, &frame(), 8) {
        Received::Miss {
            resume,
            frame: f,
            sent,
        } => {
            assert_eq!(resume, Resume::Start);
            assert_eq!(f, frame());
            assert!(sent.is_empty());
        }
        other => panic!("expected a miss, got {other:?}"),
    }

    // With the connection but without the recirc_id(0x1) flow: the miss
    // resumes at recirc_id 0x1 with the conntrack state, zone, mark and
    // label the hardware's CT rule set.
    off.ct_add(conn.clone()).expect("ct_add");
    off.del(ufid(2)).expect("del");
    off.wait();
    match off.receive(1, &frame(), 9) {
        Received::Miss {
            resume,
            frame: f,
            sent,
        } => {
            assert_eq!(
                resume,
                Resume::Recirc {
                    recirc_id: 1,
                    ct_state: 0x22,
                    ct_zone: 4,
                    ct_mark: 1,
                    ct_label: 0x10001,
                }
            );
            assert_eq!(f, frame(), "no NAT: the frame is unchanged");
            assert!(sent.is_empty());
        }
        other => panic!("expected a recirculation miss, got {other:?}"),
    }

    // A packet from a port the eswitch does not have: software decides.
    assert!(matches!(
        off.receive(9, &frame(), 10),
        Received::Miss {
            resume: Resume::Start,
            ..
        }
    ));
}
