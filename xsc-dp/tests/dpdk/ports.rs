//! Tests against real DPDK (tier 2 of ARCHITECTURE.md): EAL without
//! hugepages, software PMDs hot-plugged per test (`net_null`, `net_ring`,
//! `net_tap`).
//!
//! EAL initialises once per process, so every test in this binary shares one
//! `Eal` through [`dpdk`], which also serialises the tests: DPDK's port table
//! and the live-handle counters are process-wide.

use std::sync::{Mutex, MutexGuard, OnceLock};

use xsc_dp::device::{DeviceError, FlowErrorCause};
use xsc_dp::dpdk::{
    live_handles, Eal, FlowQueuesConfig, LiveHandles, Port, PortConfig, NO_HUGE_ARGS,
};
use xsc_dp::ffi;
use xsc_dp::rte::RteRule;
use xsc_dp::rule::Direction;

struct Fixture {
    eal: Eal,
    serial: u32,
}

impl Fixture {
    /// A configured, started `net_tap` port on interface `xsc<tag><pid>`, or
    /// `None` (after saying so loudly) where this machine cannot make taps.
    /// Under `CI` a missing tap fails the test instead ([`missing_tap`]).
    fn started_tap(&mut self, tag: &str) -> Option<Port> {
        if !tap_available() {
            return None;
        }
        let name = self.name("net_tap");
        let iface = format!("xsc{tag}{}", std::process::id() % 10000);
        let mut port = match Port::probe(&self.eal, &format!("{name},iface={iface}")) {
            Ok(p) => p,
            Err(e) if e.errno() == Some(libc::EPERM) || e.errno() == Some(libc::EACCES) => {
                missing_tap(&format!("net_tap needs CAP_NET_ADMIN ({e})"));
                return None;
            }
            Err(e) => panic!("probe net_tap: {e}"),
        };
        port.configure(&self.eal, &PortConfig::default())
            .expect("configure tap");
        port.start().expect("start tap");
        Some(port)
    }

    /// A fresh device name, so that no two tests probe the same vdev.
    fn name(&mut self, driver: &str) -> String {
        self.serial += 1;
        format!("{driver}{}", self.serial)
    }
}

fn dpdk() -> MutexGuard<'static, Fixture> {
    static FIXTURE: OnceLock<Mutex<Fixture>> = OnceLock::new();
    let fixture = FIXTURE.get_or_init(|| {
        let eal = Eal::init(NO_HUGE_ARGS)
            .unwrap_or_else(|e| panic!("EAL must start without hugepages: {e}"));
        Mutex::new(Fixture { eal, serial: 0 })
    });
    // A failed test poisons the mutex; the fixture itself stays usable.
    fixture.lock().unwrap_or_else(|p| p.into_inner())
}

/// Handles held by the fixture itself: the EAL.
fn baseline() -> LiveHandles {
    LiveHandles {
        eal: 1,
        ..Default::default()
    }
}

fn u32_be(addr: [u8; 4]) -> u32 {
    u32::from_ne_bytes(addr)
}

/// eth / ipv4 dst 10.0.0.0/8 / tcp dst 80 → DROP, or udp → QUEUE 0.
fn tap_rule(l4: ffi::rte_flow_item_type, action: ffi::rte_flow_action_type) -> RteRule {
    let mut rule = RteRule::new();
    rule.set_attr(0, 0, Direction::Ingress);
    // Safety: the struct is the one DPDK reads for the type.
    unsafe {
        rule.push_item::<ffi::rte_flow_item_eth>(ffi::RTE_FLOW_ITEM_TYPE_ETH, None, None, None)
    };
    let mut spec = ffi::rte_flow_item_ipv4::default();
    let mut mask = ffi::rte_flow_item_ipv4::default();
    spec.hdr.dst_addr = u32_be([10, 0, 0, 0]);
    mask.hdr.dst_addr = u32_be([255, 0, 0, 0]);
    // Safety: the struct is the one DPDK reads for the type.
    unsafe { rule.push_item(ffi::RTE_FLOW_ITEM_TYPE_IPV4, Some(&spec), Some(&mask), None) };
    if l4 == ffi::RTE_FLOW_ITEM_TYPE_TCP {
        let mut spec = ffi::rte_flow_item_tcp::default();
        let mut mask = ffi::rte_flow_item_tcp::default();
        spec.hdr.dst_port = 80u16.to_be();
        mask.hdr.dst_port = u16::MAX;
        // Safety: the struct is the one DPDK reads for the type.
        unsafe { rule.push_item(l4, Some(&spec), Some(&mask), None) };
    } else {
        let mut spec = ffi::rte_flow_item_udp::default();
        let mut mask = ffi::rte_flow_item_udp::default();
        spec.hdr.dst_port = 4789u16.to_be();
        mask.hdr.dst_port = u16::MAX;
        // Safety: the struct is the one DPDK reads for the type.
        unsafe { rule.push_item(l4, Some(&spec), Some(&mask), None) };
    }
    if action == ffi::RTE_FLOW_ACTION_TYPE_QUEUE {
        // Safety: the struct is the one DPDK reads for the type.
        unsafe { rule.push_action(action, Some(&ffi::rte_flow_action_queue { index: 0 })) };
    } else {
        // Safety: DROP has no conf.
        unsafe { rule.push_action::<()>(action, None) };
    }
    rule.seal();
    rule
}

/// A transfer rule as the offload produces them: group 1, TAG match, COUNT,
/// JUMP. No software PMD implements it.
fn offload_rule() -> RteRule {
    let mut rule = RteRule::new();
    rule.set_attr(1, 0, Direction::Transfer);
    let tag = ffi::rte_flow_item_tag {
        data: 0x21,
        index: 0,
    };
    let tag_mask = ffi::rte_flow_item_tag {
        data: 0x3f,
        index: 0xff,
    };
    // Safety: the struct is the one DPDK reads for the type.
    unsafe {
        rule.push_item(
            ffi::RTE_FLOW_ITEM_TYPE_TAG,
            Some(&tag),
            Some(&tag_mask),
            None,
        )
    };
    // Safety: the struct is the one DPDK reads for the type.
    unsafe {
        rule.push_item::<ffi::rte_flow_item_eth>(ffi::RTE_FLOW_ITEM_TYPE_ETH, None, None, None)
    };
    // Safety: the struct is the one DPDK reads for the type.
    unsafe {
        rule.push_action(
            ffi::RTE_FLOW_ACTION_TYPE_COUNT,
            Some(&ffi::rte_flow_action_count { id: 0 }),
        )
    };
    // Safety: the struct is the one DPDK reads for the type.
    unsafe {
        rule.push_action(
            ffi::RTE_FLOW_ACTION_TYPE_JUMP,
            Some(&ffi::rte_flow_action_jump { group: 2 }),
        )
    };
    rule.seal();
    rule
}

/// Prints past the test harness's output capture, so that a skipped check
/// is seen in every run, not only in failing ones.
fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n*** {msg} ***\n");
}

/// Whether this machine can create tap devices; says why not through
/// [`missing_tap`].
fn tap_available() -> bool {
    if !std::path::Path::new("/dev/net/tun").exists() {
        missing_tap("net_tap needs /dev/net/tun, which this machine lacks");
        return false;
    }
    true
}

/// What a tap test does when this machine cannot make taps: under `CI`
/// (set to anything but ``, `0` or `false`, as the OVS tests read it) it
/// fails, because CI must run the net_tap tests; elsewhere it prints a
/// banner past the output capture and the test returns.
fn missing_tap(why: &str) {
    let ci = std::env::var_os("CI");
    match on_missing_tap(why, ci.as_deref()) {
        Err(fail) => panic!("{fail}"),
        Ok(skip) => loud(&skip),
    }
}

/// The decision of [`missing_tap`]: `Ok(skip banner)` or `Err(failure)`.
fn on_missing_tap(why: &str, ci: Option<&std::ffi::OsStr>) -> Result<String, String> {
    let in_ci = ci.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"));
    if in_ci {
        Err(format!(
            "{why}. CI is set, so the net_tap tests must run: give the runner /dev/net/tun and CAP_NET_ADMIN"
        ))
    } else {
        Ok(format!("SKIPPED: {why}; the net_tap checks did not run"))
    }
}

#[test]
fn a_missing_tap_fails_under_ci_and_skips_loudly_elsewhere() {
    use std::ffi::OsStr;
    for ci in ["true", "1", "yes"] {
        let e = on_missing_tap("no tun", Some(OsStr::new(ci))).unwrap_err();
        assert!(e.starts_with("no tun. CI is set"), "{ci}: {e}");
    }
    for ci in [None, Some(""), Some("0"), Some("false"), Some("FALSE")] {
        let skip = on_missing_tap("no tun", ci.map(OsStr::new)).expect("a skip");
        assert!(skip.starts_with("SKIPPED: no tun"), "{ci:?}: {skip}");
    }
}

#[test]
fn a_second_eal_init_is_a_typed_error() {
    let _fx = dpdk();
    assert!(Eal::was_initialized());
    match Eal::init(NO_HUGE_ARGS) {
        Err(DeviceError::EalAlreadyInitialized) => {}
        other => panic!("expected EalAlreadyInitialized, got {other:?}"),
    }
}

#[test]
fn null_port_lifecycle_and_info() {
    let mut fx = dpdk();
    let before = live_handles();
    assert_eq!(before, baseline());
    let name = fx.name("net_null");
    {
        let mut port = Port::probe(&fx.eal, &name).expect("probe net_null");
        let info = port.info().expect("info");
        assert_eq!(info.driver, "net_null");
        assert_eq!(info.name, name);
        assert!(info.max_rx_queues >= 1 && info.max_tx_queues >= 1);
        assert!(!info.is_representor());
        assert!(!port.is_configured());
        port.configure(&fx.eal, &PortConfig::default())
            .expect("configure");
        port.start().expect("start");
        assert!(port.is_started());
        // Configuring a started port is refused before DPDK is asked.
        assert!(matches!(
            port.configure(&fx.eal, &PortConfig::default()),
            Err(DeviceError::InvalidArgument { .. })
        ));
        port.stop().expect("stop");
        port.start().expect("restart");
        // Owning the same port twice is refused: it would be closed twice.
        assert!(matches!(
            Port::by_id(&fx.eal, port.id()),
            Err(DeviceError::InvalidArgument { .. })
        ));
        let live = live_handles();
        assert_eq!((live.ports, live.mempools), (1, 1));
    }
    // Dropping the port stopped and closed it, and removed the device.
    assert_eq!(live_handles(), before);
    assert!(matches!(
        Port::by_name(&fx.eal, &name),
        Err(DeviceError::NoSuchPort { .. })
    ));
}

/// What an OVS-DPDK offload provider does: the host owns EAL and the port;
/// the library only makes rules on it and never closes it.
#[test]
fn an_attached_port_is_left_open_for_its_host() {
    let mut fx = dpdk();
    // This process initialised EAL through Eal::init: attach says so.
    assert!(matches!(
        Eal::attach(),
        Err(DeviceError::EalNotAttachable { .. })
    ));
    let name = fx.name("net_null");
    let before: Vec<u16> = xsc_dp::dpdk::port_ids();
    fx.eal.probe(&name).expect("probe net_null");
    let id = xsc_dp::dpdk::port_ids()
        .into_iter()
        .find(|p| !before.contains(p))
        .expect("the probe made a port");
    {
        let mut port = Port::attach(&fx.eal, id).expect("attach");
        assert!(port.is_attached());
        assert!(matches!(
            port.configure(&fx.eal, &PortConfig::default()),
            Err(DeviceError::InvalidArgument { .. })
        ));
        assert!(matches!(
            port.start(),
            Err(DeviceError::InvalidArgument { .. })
        ));
        assert!(matches!(
            Port::by_id(&fx.eal, id),
            Err(DeviceError::InvalidArgument { .. })
        ));
        assert_eq!(live_handles().ports, 1);
    }
    assert_eq!(live_handles(), baseline());
    // Safety: a plain value argument; any port id may be asked about.
    let still_valid = unsafe { ffi::rte_eth_dev_is_valid_port(id) };
    assert_ne!(
        still_valid, 0,
        "dropping an attached port must not close it"
    );
    assert!(matches!(
        Port::attach(&fx.eal, u16::MAX - 1),
        Err(DeviceError::NoSuchPort { .. })
    ));
    // Close it the owning way, so later tests see a clean port table.
    drop(Port::by_name(&fx.eal, &name).expect("own it to close it"));
}

#[test]
fn ring_port_lifecycle() {
    let mut fx = dpdk();
    let name = fx.name("net_ring");
    let mut port = Port::probe(&fx.eal, &name).expect("probe net_ring");
    let info = port.info().expect("info");
    assert_eq!(info.driver, "net_ring");
    port.configure(&fx.eal, &PortConfig::default())
        .expect("configure");
    port.start().expect("start");
    port.stop().expect("stop");
    drop(port);
    assert_eq!(live_handles(), baseline());
}

#[test]
fn ring_pair_carries_packets_intact() {
    let mut fx = dpdk();
    let name = fx.name("xsc_pair");
    let (mut a, mut b) = Port::ring_pair(&fx.eal, &name).expect("ring pair");
    for p in [&mut a, &mut b] {
        p.configure(&fx.eal, &PortConfig::default())
            .expect("configure");
        p.start().expect("start");
    }
    // A TCP SYN from 10.16.0.14 to 10.16.0.18:80, and a 1400-byte frame.
    let syn: Vec<u8> = [
        &[
            0x00, 0x00, 0x00, 0xce, 0xcf, 0xb9, 0x00, 0x00, 0x00, 0x9d, 0xfb, 0x1a, 0x08, 0x00,
        ][..],
        &[
            0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 16, 0, 14,
            10, 16, 0, 18,
        ],
        &[
            0x0d, 0x81, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ],
    ]
    .concat();
    let big: Vec<u8> = (0..1400u32).map(|i| (i * 7 + 3) as u8).collect();
    let pool = a.mempool().expect("pool after configure");
    let mut out = vec![
        pool.alloc_with(&syn).unwrap(),
        pool.alloc_with(&big).unwrap(),
    ];
    assert_eq!(live_handles().mbufs, 2);
    let sent = a.tx_burst(0, &mut out);
    assert_eq!(sent, 2);
    assert!(out.is_empty());
    assert_eq!(live_handles().mbufs, 0, "sent mbufs belong to the driver");
    // Nothing loops back to the sender.
    assert!(a.rx_burst(0, 8).is_empty());
    let got = b.rx_burst(0, 8);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].to_vec(), syn);
    assert_eq!(got[1].to_vec(), big);
    assert_eq!(got[1].len(), 1400);
    // And back the other way.
    let mut back = got;
    assert_eq!(b.tx_burst(0, &mut back), 2);
    let echoed = a.rx_burst(0, 8);
    assert_eq!(
        echoed.iter().map(|m| m.to_vec()).collect::<Vec<_>>(),
        vec![syn, big]
    );
    drop(echoed);
    drop((a, b, pool));
    assert_eq!(live_handles(), baseline());
}

#[test]
fn null_port_refuses_rte_flow_with_a_typed_error_and_leaks_nothing() {
    let mut fx = dpdk();
    let name = fx.name("net_null");
    let mut port = Port::probe(&fx.eal, &name).expect("probe net_null");
    port.configure(&fx.eal, &PortConfig::default())
        .expect("configure");
    port.start().expect("start");
    let rule = offload_rule();
    let e = port.validate(&rule).expect_err("net_null has no flow ops");
    assert!(e.is_unsupported(), "{e}");
    match &e {
        DeviceError::Flow(f) => {
            assert_eq!(f.op, "rte_flow_validate");
            assert_eq!(f.port, port.id());
            assert!(f.errno == libc::ENOSYS || f.errno == libc::ENOTSUP, "{f}");
        }
        other => panic!("expected a flow error, got {other:?}"),
    }
    let before = live_handles();
    for _ in 0..100 {
        let e = port
            .create(&rule)
            .expect_err("net_null cannot create rules");
        assert!(e.is_unsupported(), "{e}");
    }
    assert_eq!(live_handles(), before, "failed creates leave no handle");
    assert!(port.flush().expect_err("no flush either").is_unsupported());
    // An unsealed rule never reaches DPDK.
    let mut unsealed = offload_rule();
    // Safety: the struct is the one DPDK reads for the type.
    unsafe {
        unsealed.push_action(
            ffi::RTE_FLOW_ACTION_TYPE_MARK,
            Some(&ffi::rte_flow_action_mark { id: 1 }),
        )
    };
    assert!(matches!(
        port.validate(&unsealed),
        Err(DeviceError::InvalidArgument { .. })
    ));
    drop(port);
    assert_eq!(live_handles(), baseline());
}

#[test]
fn async_flow_api_is_refused_on_a_port_without_it() {
    let mut fx = dpdk();
    for driver in ["net_null", "net_ring"] {
        let name = fx.name(driver);
        let mut port = Port::probe(&fx.eal, &name).expect("probe");
        port.configure(&fx.eal, &PortConfig::default())
            .expect("configure");
        let info = port
            .flow_info()
            .expect_err("no template API on software PMDs");
        assert!(info.is_unsupported(), "{info}");
        let e = port
            .configure_flow_queues(FlowQueuesConfig::default())
            .expect_err("gate must refuse");
        match &e {
            DeviceError::Flow(f) => {
                assert_eq!(f.op, "rte_flow_info_get");
                assert!(f.is_unsupported());
            }
            other => panic!("expected a flow error, got {other:?}"),
        }
        // The port still works for the sync API's answers and closes cleanly.
        port.start().expect("start after refused async configure");
        drop(port);
        assert_eq!(live_handles(), baseline());
    }
}

#[test]
fn tap_validates_eth_ipv4_tcp_udp_with_drop_and_queue() {
    let mut fx = dpdk();
    let Some(port) = fx.started_tap("tap") else {
        return;
    };
    assert_eq!(port.info().unwrap().driver, "net_tap");
    let drop_tcp = tap_rule(ffi::RTE_FLOW_ITEM_TYPE_TCP, ffi::RTE_FLOW_ACTION_TYPE_DROP);
    let queue_udp = tap_rule(ffi::RTE_FLOW_ITEM_TYPE_UDP, ffi::RTE_FLOW_ACTION_TYPE_QUEUE);
    port.validate(&drop_tcp)
        .unwrap_or_else(|e| panic!("tap must accept eth/ipv4/tcp → drop: {e}"));
    port.validate(&queue_udp)
        .unwrap_or_else(|e| panic!("tap must accept eth/ipv4/udp → queue: {e}"));

    // What tap cannot do is refused with the item or action named.
    let e = port
        .validate(&offload_rule())
        .expect_err("tap has no TAG/JUMP in transfer");
    let DeviceError::Flow(f) = &e else {
        panic!("expected a flow error, got {e:?}")
    };
    assert_ne!(f.cause, FlowErrorCause::None, "{f}");

    // Creating needs the kernel's TC flower and BPF support. Run it where
    // the kernel allows; say so loudly where it does not.
    let before = live_handles();
    match port.create(&drop_tcp) {
        Ok(flow) => {
            assert_eq!(live_handles().flows, before.flows + 1);
            assert_eq!(flow.port_id(), port.id());
            flow.destroy().expect("destroy");
        }
        Err(e) => loud(&format!(
            "NOTE: tap validated the rule but the kernel refused to install it: {e}"
        )),
    }
    assert_eq!(live_handles(), before);
    drop(port);
    assert_eq!(live_handles(), baseline());
}

#[test]
fn flow_handles_made_before_a_flush_are_inert() {
    let mut fx = dpdk();
    let Some(port) = fx.started_tap("fl") else {
        return;
    };
    let Ok(flow) = port.create(&tap_rule(
        ffi::RTE_FLOW_ITEM_TYPE_TCP,
        ffi::RTE_FLOW_ACTION_TYPE_DROP,
    )) else {
        loud("SKIPPED: the kernel refuses tap flow rules here (no TC flower); flush-vs-handle not testable");
        return;
    };
    port.flush().expect("flush");
    let e = flow
        .query_count(false)
        .expect_err("a flushed rule cannot be queried");
    assert_eq!(e.errno(), Some(libc::ENOENT));
    // Dropping it must not destroy (freed) memory again.
    drop(flow);
    drop(port);
    assert_eq!(live_handles(), baseline());
}

#[test]
fn probe_learns_what_tap_accepts_and_that_null_accepts_nothing() {
    use xsc_dp::dpdk::probe;
    use xsc_dp::profile::DeviceProfile;
    use xsc_dp::rule::{ActionKind, ItemKind};
    let mut fx = dpdk();
    let name = fx.name("net_null");
    let mut null = Port::probe(&fx.eal, &name).expect("probe net_null");
    null.configure(&fx.eal, &PortConfig::default())
        .expect("configure");
    let p = probe(&null, Direction::Transfer, &DeviceProfile::metascale());
    assert!(ItemKind::ALL.iter().all(|&k| !p.has_item(k)), "{p:?}");
    assert!(ActionKind::ALL.iter().all(|&k| !p.has_action(k)), "{p:?}");
    assert!(!p.async_api && !p.mirror);
    assert_eq!(p.name, "probed:net_null");
    // net_null has no flow ops at all (like the upstream metaScale PMD):
    // the profile says so rather than listing refusals.
    assert_eq!(
        p.no_flow_support.as_deref(),
        Some("no rte_flow support in driver net_null")
    );
    drop(null);

    let Some(tap) = fx.started_tap("pr") else {
        return;
    };
    let p = probe(&tap, Direction::Ingress, &DeviceProfile::generic());
    for k in [
        ItemKind::Eth,
        ItemKind::Vlan,
        ItemKind::Ipv4,
        ItemKind::Ipv6,
        ItemKind::Tcp,
        ItemKind::Udp,
    ] {
        assert!(p.has_item(k), "tap parses {k}: {p:?}");
    }
    for k in [ItemKind::Tag, ItemKind::Geneve, ItemKind::RepresentedPort] {
        assert!(!p.has_item(k), "tap has no {k}");
    }
    for k in [ActionKind::Drop, ActionKind::Queue] {
        assert!(p.has_action(k), "tap does {k}");
    }
    for k in [ActionKind::SetTag, ActionKind::Jump, ActionKind::RawEncap] {
        assert!(!p.has_action(k), "tap has no {k}");
    }
    drop(tap);
    assert_eq!(live_handles(), baseline());
}

#[test]
fn tap_validates_the_lowered_rules_of_flows_it_can_match() {
    use xsc_dp::dpdk::probe;
    use xsc_dp::odp::{parse_actions, parse_flow_key, Megaflow};
    use xsc_dp::profile::DeviceProfile;
    use xsc_dp::translate::{Config, PortMap, Translator};
    let mut fx = dpdk();
    let Some(tap) = fx.started_tap("tr") else {
        return;
    };
    // What tap parses: ingress eth/ipv4/ipv6/tcp/udp with drop; no COUNT,
    // no registers, no representors. Flows built for it, without in_port.
    let profile = probe(&tap, Direction::Ingress, &DeviceProfile::generic());
    let mut t = Translator::new(profile, PortMap::new(), Config::default());
    let flows = [
        "recirc_id(0),eth(src=00:00:00:9d:fb:1a,dst=00:00:00:ce:cf:b9),eth_type(0x0800),ipv4(src=10.16.0.14,dst=10.16.0.18,proto=6),tcp(dst=80)",
        "recirc_id(0),eth(),eth_type(0x0800),ipv4(dst=10.16.0.0/255.255.0.0,proto=17),udp(src=5353,dst=53)",
        "recirc_id(0),eth(),eth_type(0x86dd),ipv6(src=fd00::1,dst=fd00::2,proto=6),tcp(src=22)",
        "recirc_id(0),eth(dst=ff:ff:ff:ff:ff:ff),eth_type(0x86dd),ipv6(proto=17),udp(dst=546)",
    ];
    let mut rte = xsc_dp::rte::RteRule::new();
    for key in flows {
        let (key_v, mask) = parse_flow_key(key).expect("key");
        let f = Megaflow {
            ufid: None,
            key: key_v,
            mask,
            actions: parse_actions("drop").unwrap(),
            stats: Default::default(),
        };
        let tr = t.translate(&f).unwrap_or_else(|e| panic!("{key}: {e}"));
        xsc_dp::rte::lower(&tr.rule, &mut rte).expect("lower");
        tap.validate(&rte)
            .unwrap_or_else(|e| panic!("tap refused the rule of {key}: {e}\n{:?}", tr.rule));
    }
    drop(tap);
    assert_eq!(live_handles(), baseline());
}

#[test]
fn a_port_is_a_flow_device_that_refuses_cleanly() {
    use xsc_dp::device::FlowDevice;
    let mut fx = dpdk();
    let name = fx.name("net_null");
    let mut port = Port::probe(&fx.eal, &name).expect("probe");
    port.configure(&fx.eal, &PortConfig::default())
        .expect("configure");
    let dev: &dyn FlowDevice<Rule = xsc_dp::dpdk::Flow> = &port;
    assert_eq!(dev.name(), name);
    let rule = offload_rule();
    let mut out = Vec::new();
    dev.create_batch(&[&rule, &rule, &rule], &mut out);
    assert_eq!(out.len(), 3);
    assert!(out
        .iter()
        .all(|r| r.as_ref().is_err_and(|e| e.is_unsupported())));
    drop(out);
    drop(port);
    assert_eq!(live_handles(), baseline());
}
