//! Megaflows for the install benches: kube-ovn.flows' routed flow of recirc
//! 0x2 (`ct_state(-new-inv+trk),recirc_id(0x2),in_port(1),eth(src,dst),
//! ipv4(dst,proto=6,ttl=64)` → set MACs, TTL, `ct(zone=6),recirc(0x4)`)
//! with the source MAC and destination address made distinct per index:
//! one rule shape, shared CT and recirculation resources.

/// Flow number `i` (distinct for `i < 2^24`).
pub fn line(i: usize) -> String {
    format!(
        "ct_state(-new-inv+trk),recirc_id(0x2),in_port(1),packet_type(ns=0,id=0),\
         eth(src=02:00:00:{:02x}:{:02x}:{:02x},dst=00:00:00:10:00:01),eth_type(0x0800),\
         ipv4(dst=10.{}.{}.{},proto=6,ttl=64,frag=no), packets:0, bytes:0, used:never, \
         actions:set(eth(src=00:00:00:10:00:01,dst=00:00:00:ce:cf:b9)),set(ipv4(ttl=63)),\
         ct(zone=6),recirc(0x4)",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff,
        16 + ((i >> 16) & 0xff),
        (i >> 8) & 0xff,
        i & 0xff,
    )
}
