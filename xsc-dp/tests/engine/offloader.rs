//! The offload engine over the software eswitch: every flow ends in the
//! state the translator predicts, the device holds exactly the engine's
//! rules, modifications keep their counters, failures leak nothing, and a
//! flush leaves the device empty.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use xsc_dp::engine::{EngineConfig, FlowState, Mode, Offloader, Op, OpDone, SubmitError};
use xsc_dp::eswitch::Eswitch;
use xsc_dp::odp::{is_dump_header, ConnEntry, Megaflow, Ufid};
use xsc_dp::profile::DeviceProfile;
use xsc_dp::translate::{Config, PortMap, Translator};

const PORTS: &[u16] = &[0, 1, 2, 3, 100];
const FLOWS: &str = include_str!("../data/ovs/kube-ovn.flows");
const CONNTRACK: &str = include_str!("../data/ovs/kube-ovn.conntrack");

fn flows() -> Vec<Megaflow> {
    FLOWS
        .lines()
        .filter(|l| !is_dump_header(l) && !l.trim().is_empty())
        .map(|l| Megaflow::parse(l).unwrap())
        .collect()
}

fn conns() -> Vec<ConnEntry> {
    CONNTRACK
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| ConnEntry::parse(l).unwrap())
        .collect()
}

fn ufid(i: u32) -> Ufid {
    Ufid {
        parts: [0x5eed_0000 | i, i.wrapping_mul(2_654_435_761), 7, i],
    }
}

fn engine(esw: &Arc<Eswitch>, config: EngineConfig) -> Offloader<Eswitch> {
    Offloader::new(
        esw.clone(),
        esw.profile().clone(),
        PortMap::identity(),
        config,
    )
    .unwrap()
}

fn quiet() -> EngineConfig {
    EngineConfig {
        stats_interval: None,
        ..EngineConfig::default()
    }
}

/// The metaScale profile with the template/async API turned on, so both
/// modes can run on the same device model.
fn profile() -> DeviceProfile {
    let mut p = DeviceProfile::metascale();
    p.async_api = true;
    p
}

/// What a lone translator says of each flow: offloadable, or the reason.
fn expected(profile: &DeviceProfile, flows: &[Megaflow]) -> Vec<Result<(), String>> {
    let mut t = Translator::new(profile.clone(), PortMap::identity(), Config::default());
    flows
        .iter()
        .map(|f| t.translate(f).map(|_| ()).map_err(|r| r.to_string()))
        .collect()
}

fn check_states(off: &Offloader<Eswitch>, flows: &[Megaflow], profile: &DeviceProfile) {
    for (i, (f, want)) in flows.iter().zip(expected(profile, flows)).enumerate() {
        let got = off.get(&ufid(i as u32)).unwrap();
        match (&got, want) {
            (FlowState::Offloaded, Ok(())) => {}
            (FlowState::Rejected(r), Err(reason)) => assert_eq!(r.to_string(), reason),
            (got, want) => panic!("flow {i} ({f}): {got:?}, expected {want:?}"),
        }
    }
}

fn run_all(mode: Mode) {
    let esw = Arc::new(Eswitch::new(profile(), PORTS));
    if mode == Mode::Async {
        esw.configure(2, 64).unwrap();
    }
    let off = engine(
        &esw,
        EngineConfig {
            workers: 2,
            batch: 8,
            mode,
            ..quiet()
        },
    );
    assert_eq!(off.is_async(), mode == Mode::Async);
    let flows = flows();
    for (i, f) in flows.iter().enumerate() {
        off.put(ufid(i as u32), f.clone()).unwrap();
    }
    for c in conns() {
        off.ct_add(c).unwrap();
    }
    off.wait();
    check_states(&off, &flows, esw.profile());
    let counts = off.counts();
    assert!(counts.offloaded > 10, "{counts:?}");
    assert_eq!(counts.offloaded + counts.rejected, flows.len());
    assert_eq!(counts.failed, 0);
    assert!(counts.conns_offloaded > 0, "{counts:?}");
    assert_eq!(off.live_rules(), esw.rule_count());
    if mode == Mode::Async {
        assert!(off.live_tables() > 0);
        assert_eq!(esw.template_counts().2, off.live_tables());
    }
    // Delete half, then flush the rest.
    for i in (0..flows.len()).step_by(2) {
        off.del(ufid(i as u32)).unwrap();
    }
    off.wait();
    for i in 0..flows.len() {
        assert_eq!(off.get(&ufid(i as u32)).is_none(), i % 2 == 0, "flow {i}");
    }
    assert_eq!(off.live_rules(), esw.rule_count());
    off.flush().unwrap();
    assert_eq!(esw.rule_count(), 0);
    assert_eq!(esw.group_count(), 0);
    assert_eq!(esw.template_counts(), (0, 0, 0));
    assert_eq!(off.live_rules(), 0);
    assert_eq!(off.resource_counts(), (0, 0, 0, 0));
    assert_eq!(off.cache_usage().0, 0);
    assert_eq!(off.counts(), Default::default());
}

#[test]
fn sync_mode_offloads_what_the_translator_accepts_and_flush_empties_the_device() {
    run_all(Mode::Sync);
}

#[test]
fn async_mode_does_the_same_through_queues_and_tables() {
    run_all(Mode::Async);
}

#[test]
fn auto_mode_picks_async_only_with_a_queue_per_worker() {
    let esw = Arc::new(Eswitch::new(profile(), PORTS));
    assert!(!engine(&esw, quiet()).is_async());
    esw.configure(1, 16).unwrap();
    assert!(engine(&esw, quiet()).is_async());
    let two = EngineConfig {
        workers: 2,
        ..quiet()
    };
    assert!(!engine(&esw, two.clone()).is_async());
    let err = Offloader::new(
        esw.clone(),
        esw.profile().clone(),
        PortMap::identity(),
        EngineConfig {
            mode: Mode::Async,
            ..two
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("one flow queue per worker (2)"),
        "{err}"
    );
}

#[test]
fn a_full_device_fails_the_flows_it_cannot_hold_and_leaks_nothing() {
    for mode in [Mode::Sync, Mode::Async] {
        let mut profile = profile();
        profile.rules = 12;
        let esw = Arc::new(Eswitch::new(profile, PORTS));
        if mode == Mode::Async {
            esw.configure(1, 8).unwrap();
        }
        let off = engine(&esw, EngineConfig { mode, ..quiet() });
        let flows = flows();
        for (i, f) in flows.iter().enumerate() {
            off.put(ufid(i as u32), f.clone()).unwrap();
        }
        off.wait();
        let c = off.counts();
        assert!(c.failed > 0, "{mode:?} {c:?}");
        assert_eq!(c.offloaded + c.rejected + c.failed, flows.len());
        for i in 0..flows.len() {
            if let Some(FlowState::Failed(e)) = off.get(&ufid(i as u32)) {
                assert_eq!(e.errno(), Some(libc::ENOSPC), "{e}");
                assert!(e.to_string().contains("full"), "{e}");
            }
        }
        assert_eq!(off.live_rules(), esw.rule_count(), "{mode:?}");
        assert!(esw.rule_count() <= 12);
        off.flush().unwrap();
        assert_eq!(esw.rule_count(), 0, "{mode:?}");
        assert_eq!(esw.template_counts(), (0, 0, 0));
        assert_eq!(off.resource_counts(), (0, 0, 0, 0));
    }
}

#[test]
fn modify_is_make_before_break_and_keeps_the_counters() {
    let esw = Arc::new(Eswitch::new(profile(), PORTS));
    let off = engine(&esw, quiet());
    let flow = Megaflow::parse(
        "recirc_id(0),in_port(1),eth(src=00:00:00:9d:fb:1a,dst=00:00:00:ce:cf:b9),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2",
    )
    .unwrap();
    let u = ufid(1);
    off.put(u, flow.clone()).unwrap();
    off.wait();
    assert_eq!(off.get(&u), Some(FlowState::Offloaded));
    let packet = ipv4_frame();
    for _ in 0..3 {
        let v = esw.process(1, &packet);
        assert!(format!("{v:?}").contains("port: 2"), "{v:?}");
    }
    off.sync_stats();
    let s = off.stats(&u).unwrap();
    assert_eq!((s.packets, s.bytes), (3, 3 * packet.len() as u64));

    // Modify: output to 3 instead. The rule count never drops below one
    // rule for the flow (the new one is created before the old goes).
    let mut moved = flow.clone();
    moved.actions = xsc_dp::odp::parse_actions("3").unwrap();
    off.put(u, moved).unwrap();
    off.wait();
    assert_eq!(off.get(&u), Some(FlowState::Offloaded));
    assert_eq!(esw.rule_count(), 1);
    let v = esw.process(1, &packet);
    assert!(format!("{v:?}").contains("port: 3"), "{v:?}");
    off.sync_stats();
    let s = off.stats(&u).unwrap();
    assert_eq!(s.packets, 4, "three on the old rule, one on the new");
    assert_eq!(s.bytes, 4 * packet.len() as u64);
    let mut dump = String::new();
    off.dump_offloaded(&mut dump);
    let line = dump.lines().next().unwrap();
    assert!(line.contains("packets:4,"), "{line}");
    assert!(line.contains("offloaded:yes"), "{line}");
    assert!(line.ends_with("actions:3"), "{line}");
    let back = Megaflow::parse(line).unwrap();
    assert_eq!(back.ufid, Some(u));
    assert_eq!(back.stats.packets, 4);

    // A modification to something not offloadable removes the old rule.
    let mut soft = flow;
    soft.actions = xsc_dp::odp::parse_actions("userspace(pid=1)").unwrap();
    off.put(u, soft).unwrap();
    off.wait();
    assert!(matches!(off.get(&u), Some(FlowState::Rejected(_))));
    assert_eq!(esw.rule_count(), 0);
    assert_eq!(off.live_rules(), 0);
}

/// Ethernet 00:00:00:9d:fb:1a → 00:00:00:ce:cf:b9, IPv4 UDP.
fn ipv4_frame() -> Vec<u8> {
    let mut p = vec![
        0, 0, 0, 0xce, 0xcf, 0xb9, 0, 0, 0, 0x9d, 0xfb, 0x1a, 0x08, 0x00,
    ];
    let ip = [
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 16, 0, 14, 10, 16, 0, 18,
    ];
    let mut ip = ip.to_vec();
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend(ip);
    p.extend([0x0d, 0x81, 0, 80, 0, 8, 0, 0]);
    p
}

fn checksum(b: &[u8]) -> u16 {
    let mut s: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[test]
fn completions_report_each_outcome_and_a_full_queue_is_an_error() {
    let done: Arc<Mutex<Vec<OpDone>>> = Arc::default();
    let gate = Arc::new(parking_lot::Mutex::new(()));
    let held = gate.lock();
    let calls = Arc::new(AtomicUsize::new(0));
    let on_complete = {
        let (done, gate, calls) = (done.clone(), gate.clone(), calls.clone());
        Arc::new(move |d: &OpDone| {
            calls.fetch_add(1, Ordering::SeqCst);
            // The first completion waits for the test: the worker stalls.
            drop(gate.lock());
            done.lock().unwrap().push(d.clone());
        })
    };
    let esw = Arc::new(Eswitch::new(profile(), PORTS));
    let off = engine(
        &esw,
        EngineConfig {
            queue_depth: 2,
            batch: 1,
            on_complete: Some(on_complete),
            ..quiet()
        },
    );
    let flows = flows();
    off.put(ufid(0), flows[0].clone()).unwrap();
    while calls.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    off.put(ufid(1), flows[1].clone()).unwrap();
    off.put(ufid(2), flows[2].clone()).unwrap();
    let err = off.put(ufid(3), flows[3].clone()).unwrap_err();
    assert_eq!(
        err,
        SubmitError::Full {
            worker: 0,
            depth: 2
        }
    );
    assert!(err.to_string().contains("full"));
    drop(held);
    off.wait();
    off.del(ufid(0)).unwrap();
    off.wait();
    let done = done.lock().unwrap();
    let ops: Vec<Op> = done.iter().map(|d| d.op).collect();
    assert_eq!(
        ops,
        [
            Op::Put(ufid(0)),
            Op::Put(ufid(1)),
            Op::Put(ufid(2)),
            Op::Del(ufid(0))
        ]
    );
    let want = expected(esw.profile(), &flows[..3]);
    for (d, w) in done.iter().zip(want) {
        assert_eq!(matches!(d.state, FlowState::Offloaded), w.is_ok(), "{d:?}");
    }
    assert_eq!(done[3].state, FlowState::Removed);
}

#[test]
fn connections_are_added_counted_and_removed() {
    let esw = Arc::new(Eswitch::new(profile(), PORTS));
    let off = engine(&esw, quiet());
    let conns = conns();
    for c in &conns {
        off.ct_add(c.clone()).unwrap();
    }
    off.wait();
    let offloaded: Vec<&ConnEntry> = conns
        .iter()
        .filter(|c| off.ct_get(c) == Some(FlowState::Offloaded))
        .collect();
    assert!(!offloaded.is_empty());
    assert_eq!(off.counts().conns_offloaded, offloaded.len());
    assert!(esw.rule_count() >= 4 * offloaded.len());
    assert_eq!(off.live_rules(), esw.rule_count());
    off.sync_stats();
    assert_eq!(off.ct_stats(offloaded[0]).unwrap().0.packets, 0);
    for c in &conns {
        off.ct_del(c).unwrap();
    }
    off.wait();
    assert!(conns.iter().all(|c| off.ct_get(c).is_none()));
    assert_eq!(
        esw.rule_count(),
        0,
        "the CT tables go with their last connection"
    );
    assert_eq!(off.live_rules(), 0);
    assert_eq!(off.resource_counts(), (0, 0, 0, 0));
}
