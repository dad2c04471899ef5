//! Every function called from Rust as C would call it: round trips,
//! rejections, and the error path of each bad argument.

use super::*;

fn last_error() -> String {
    // Safety: xsc_last_error returns a valid C string until the next call.
    unsafe { CStr::from_ptr(xsc_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// An eswitch offloader on the seed's ports, through the ABI.
struct Handle(*mut xsc_offloader);

impl Handle {
    fn new() -> Self {
        let ports = [0u16, 8, 15];
        let mut cfg = xsc_offloader_config::default();
        // Safety: cfg is a valid, writable config; ports outlives the call.
        unsafe {
            assert_eq!(xsc_offloader_config_init(&mut cfg), XSC_OK);
            cfg.ports = ports.as_ptr();
            cfg.n_ports = ports.len();
            let mut h = std::ptr::null_mut();
            assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_OK, "{}", last_error());
            assert!(!h.is_null());
            Self(h)
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Safety: a live handle, used by nobody else now.
        unsafe { xsc_offloader_destroy(self.0) };
    }
}

fn seed_netlink() -> (Ufid, Vec<u8>, Vec<u8>, Vec<u8>) {
    let m = flows(SEED_FLOWS).remove(0);
    let (mut key, mut mask, mut actions) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut NoPortNames, &mut key, &mut mask, &mut actions)
        .expect("encode");
    (m.ufid.unwrap(), key, mask, actions)
}

#[test]
fn a_flow_round_trips_through_the_abi() {
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let mut reason = [0x55 as c_char; XSC_REASON_MAX];
    let mut stats = xsc_flow_stats::default();
    let mut dump: *mut c_char = std::ptr::null_mut();
    let mut len = 0usize;
    // Safety: every pointer is valid for its length.
    unsafe {
        let rc = xsc_flow_put(
            h.0,
            ufid.parts.as_ptr(),
            key.as_ptr(),
            key.len(),
            mask.as_ptr(),
            mask.len(),
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_OK, "{}", last_error());
        assert_eq!(last_error(), "");
        assert_eq!(xsc_offloader_wait(h.0), XSC_OK);
        let state = xsc_flow_get(h.0, ufid.parts.as_ptr(), reason.as_mut_ptr(), reason.len());
        assert_eq!(state, XSC_STATE_OFFLOADED, "{}", last_error());
        assert_eq!(reason[0], 0, "an offloaded flow has no reason");
        assert_eq!(xsc_flow_stats(h.0, ufid.parts.as_ptr(), &mut stats), XSC_OK);
        assert_eq!((stats.offloaded, stats.packets, stats.used), (1, 0, 0));

        assert_eq!(xsc_offloader_dump(h.0, &mut dump, &mut len), XSC_OK);
        let text = CStr::from_ptr(dump).to_str().expect("UTF-8").to_owned();
        xsc_string_free(dump);
        assert_eq!(text.len(), len);
        let mut want = String::new();
        xsc_dp::odp::format_ufid(&mut want, &ufid);
        assert!(text.starts_with(&want), "{text}");
        assert!(
            text.contains("ct_state(") && text.contains("offloaded:yes"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);

        let mut counts = xsc_counts::default();
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
        assert_eq!(counts.offloaded, 1);
        assert!(counts.live_rules > 0);

        assert_eq!(xsc_flow_del(h.0, ufid.parts.as_ptr()), XSC_OK);
        assert_eq!(xsc_offloader_wait(h.0), XSC_OK);
        assert_eq!(
            xsc_flow_get(h.0, ufid.parts.as_ptr(), std::ptr::null_mut(), 0),
            XSC_ENOENT
        );
        assert!(
            last_error().contains("ufid:5eed0000-0001-0002-0003-000400000000"),
            "{}",
            last_error()
        );
        assert_eq!(xsc_offloader_flush(h.0), XSC_OK);
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
        assert_eq!(counts.live_rules, 0);
    }
}

#[test]
fn a_rejected_flow_says_why() {
    let h = Handle::new();
    // +new: only software commits connections.
    let m: Megaflow = "ct_state(+new+trk),recirc_id(0x1),in_port(8),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:ct(commit,zone=4),8"
        .parse()
        .expect("parse");
    let (mut key, mut mask, mut actions) = (Vec::new(), Vec::new(), Vec::new());
    m.to_netlink(&mut NoPortNames, &mut key, &mut mask, &mut actions)
        .expect("encode");
    let ufid = ufid(77);
    let mut reason = [0 as c_char; XSC_REASON_MAX];
    let mut small = [0x55 as c_char; 8];
    // Safety: every pointer is valid for its length.
    unsafe {
        let rc = xsc_flow_put(
            h.0,
            ufid.parts.as_ptr(),
            key.as_ptr(),
            key.len(),
            mask.as_ptr(),
            mask.len(),
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_OK, "{}", last_error());
        xsc_offloader_wait(h.0);
        let s = xsc_flow_get(h.0, ufid.parts.as_ptr(), reason.as_mut_ptr(), reason.len());
        assert_eq!(s, XSC_STATE_REJECTED);
        let why = CStr::from_ptr(reason.as_ptr()).to_str().unwrap().to_owned();
        assert!(!why.is_empty());
        // A small buffer gets the start of it, cut and terminated.
        let s = xsc_flow_get(h.0, ufid.parts.as_ptr(), small.as_mut_ptr(), small.len());
        assert_eq!(s, XSC_STATE_REJECTED);
        let cut = CStr::from_ptr(small.as_ptr()).to_str().unwrap();
        assert_eq!(cut, format!("{}...", &why[..4]));
        // The reason's machine name, the one plan --json prints.
        let mut name = [0x55 as c_char; XSC_REASON_NAME_MAX];
        let s = xsc_flow_reason_name(h.0, ufid.parts.as_ptr(), name.as_mut_ptr(), name.len());
        assert_eq!(s, XSC_STATE_REJECTED);
        assert_eq!(
            CStr::from_ptr(name.as_ptr()).to_str().unwrap(),
            "ct_state_new"
        );
        assert_eq!(
            xsc_flow_reason_name(h.0, ufid.parts.as_ptr(), std::ptr::null_mut(), 0),
            XSC_STATE_REJECTED
        );
        let mut stats = xsc_flow_stats::default();
        assert_eq!(xsc_flow_stats(h.0, ufid.parts.as_ptr(), &mut stats), XSC_OK);
        assert_eq!(stats.offloaded, 0);
    }
}

/// `rc` is `code` and the last error starts with `want` (read right after
/// the call that set it).
fn check(rc: i32, code: i32, want: &str) {
    let msg = last_error();
    assert_eq!(rc, code, "{msg}");
    assert!(
        msg.starts_with(want),
        "{msg:?} does not start with {want:?}"
    );
}

#[test]
fn bad_handles_and_pointers_are_einval_with_a_message() {
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let (k, kl) = (key.as_ptr(), key.len());
    let u = ufid.parts.as_ptr();
    let null = std::ptr::null::<u8>();
    let fake = [0u64; 8];
    let fake = fake.as_ptr() as *mut xsc_offloader;
    let words = [0u32; 5];
    // Safety: one byte into an array of u32: readable, misaligned.
    let misaligned = unsafe { words.as_ptr().cast::<u8>().add(1).cast::<u32>() };
    let mut stats = xsc_flow_stats::default();
    let e = XSC_EINVAL;
    // Safety: the library checks each pointer before reading it; the valid
    // ones are valid for their lengths.
    unsafe {
        let put = |h, u, k, kl, m, ml, a, al| xsc_flow_put(h, u, k, kl, m, ml, a, al);
        check(
            put(null_mut(), u, k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: offloader is NULL",
        );
        check(
            put(fake, u, k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: offloader is not a live handle",
        );
        check(
            put(h.0, std::ptr::null(), k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: ufid is NULL",
        );
        check(
            put(h.0, misaligned, k, kl, null, 0, null, 0),
            e,
            "xsc_flow_put: ufid is not aligned",
        );
        check(
            put(h.0, u, null, 12, null, 0, null, 0),
            e,
            "xsc_flow_put: key is NULL with length 12",
        );
        check(
            put(h.0, u, k, kl, null, mask.len(), null, 0),
            e,
            "xsc_flow_put: mask is NULL with length",
        );
        check(
            put(
                h.0,
                u,
                k,
                kl,
                mask.as_ptr(),
                mask.len(),
                null,
                actions.len(),
            ),
            e,
            "xsc_flow_put: actions is NULL with length",
        );
        check(
            xsc_flow_del(null_mut(), u),
            e,
            "xsc_flow_del: offloader is NULL",
        );
        check(
            xsc_flow_get(h.0, u, null_mut(), 16),
            e,
            "xsc_flow_get: reason is NULL with size 16",
        );
        check(
            xsc_flow_stats(h.0, u, null_mut()),
            e,
            "xsc_flow_stats: out is NULL",
        );
        check(
            xsc_flow_stats(std::ptr::null(), u, &mut stats),
            e,
            "xsc_flow_stats: offloader is NULL",
        );
        check(
            xsc_ct_add(h.0, std::ptr::null(), 3),
            e,
            "xsc_ct_add: line is NULL with length 3",
        );
        check(
            xsc_offloader_wait(null_mut()),
            e,
            "xsc_offloader_wait: offloader is NULL",
        );
        check(
            xsc_offloader_flush(null_mut()),
            e,
            "xsc_offloader_flush: offloader is NULL",
        );
        check(
            xsc_offloader_dump(h.0, null_mut(), null_mut()),
            e,
            "xsc_offloader_dump: out is NULL",
        );
        check(
            xsc_offloader_counts(h.0, null_mut()),
            e,
            "xsc_offloader_counts: out is NULL",
        );
        check(
            xsc_offloader_config_init(null_mut()),
            e,
            "xsc_offloader_config_init: config is NULL",
        );
        // NULL is a no-op for the two freeing functions, and a success
        // clears the last error.
        xsc_offloader_destroy(null_mut());
        xsc_string_free(null_mut());
        assert_eq!(last_error(), "");
    }
}

#[test]
fn malformed_input_is_ebadmsg_naming_what_and_where() {
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let u = ufid.parts.as_ptr();
    let null = std::ptr::null::<u8>();
    // Safety: every pointer is valid for its length.
    unsafe {
        // A key cut inside its last attribute.
        let rc = xsc_flow_put(
            h.0,
            u,
            key.as_ptr(),
            key.len() - 2,
            null,
            0,
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_EBADMSG);
        let msg = last_error();
        assert!(
            msg.starts_with("xsc_flow_put: key: ") && msg.contains(" at byte "),
            "{msg}"
        );
        // A mask whose first attribute claims more bytes than there are.
        let mut bad_mask = mask.clone();
        bad_mask[0] = 0xff;
        let rc = xsc_flow_put(
            h.0,
            u,
            key.as_ptr(),
            key.len(),
            bad_mask.as_ptr(),
            bad_mask.len(),
            null,
            0,
        );
        assert_eq!(rc, XSC_EBADMSG);
        assert!(
            last_error().starts_with("xsc_flow_put: key or mask: "),
            "{}",
            last_error()
        );
        // Actions: an attribute header with 2 of its 4 bytes.
        let rc = xsc_flow_put(
            h.0,
            u,
            key.as_ptr(),
            key.len(),
            null,
            0,
            [4u8, 0].as_ptr(),
            2,
        );
        assert_eq!(rc, XSC_EBADMSG);
        assert!(
            last_error().starts_with("xsc_flow_put: actions: "),
            "{}",
            last_error()
        );
        // Nothing was queued by the failed puts.
        xsc_offloader_wait(h.0);
        assert_eq!(xsc_flow_get(h.0, u, std::ptr::null_mut(), 0), XSC_ENOENT);

        // Conntrack text: not UTF-8, empty, two lines, not a connection.
        let bad: &[(&[u8], &str)] = &[
            (
                b"tcp,orig=(src=10.0.0.\xff)",
                "xsc_ct_add: line is not UTF-8 (invalid byte at offset 21)",
            ),
            (b"  \n", "xsc_ct_add: line is empty"),
            (
                b"tcp,zone=1\ntcp,zone=2",
                "xsc_ct_add: line holds several lines",
            ),
            (b"tcp,orig=(src=10.0.0.1", "xsc_ct_add: line: "),
        ];
        for (bytes, want) in bad {
            let rc = xsc_ct_add(h.0, bytes.as_ptr().cast(), bytes.len());
            assert_eq!(rc, XSC_EBADMSG, "{want}");
            assert!(last_error().starts_with(want), "{} vs {want}", last_error());
        }
        let mut cs = xsc_ct_stats::default();
        let line = read(KUBE_CONNTRACK);
        let line = line.lines().next().unwrap();
        assert_eq!(
            xsc_ct_stats(h.0, line.as_ptr().cast(), line.len(), &mut cs),
            XSC_ENOENT
        );
    }
}

#[test]
fn bad_configs_are_refused_and_out_is_cleared() {
    let mut h: *mut xsc_offloader = 0x10 as *mut xsc_offloader;
    let port = 0u16;
    // Safety: configs are valid structs; strings are NUL-terminated.
    unsafe {
        let mut cfg = xsc_offloader_config::default();
        xsc_offloader_config_init(&mut cfg);
        cfg.profile = c"bluefield".as_ptr();
        assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_EINVAL);
        assert!(h.is_null(), "out is NULL after a failure");
        assert!(
            last_error().contains("config.profile is \"bluefield\""),
            "{}",
            last_error()
        );

        assert_eq!(xsc_offloader_new(std::ptr::null(), &mut h), XSC_EINVAL);
        assert_eq!(last_error(), "xsc_offloader_new: config is NULL");
        xsc_offloader_config_init(&mut cfg);
        assert_eq!(xsc_offloader_new(&cfg, std::ptr::null_mut()), XSC_EINVAL);

        let mut old = cfg;
        old.size -= 8;
        assert_eq!(xsc_offloader_new(&old, &mut h), XSC_EINVAL);
        assert!(
            last_error().contains("xsc_offloader_config_init"),
            "{}",
            last_error()
        );

        // No EAL in this process: a DPDK offloader says what is missing.
        xsc_offloader_config_init(&mut cfg);
        cfg.device = XSC_DEVICE_DPDK;
        cfg.ports = &port;
        cfg.n_ports = 1;
        assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_ENODEV);
        assert!(
            last_error().contains("rte_eal_init has not been called"),
            "{}",
            last_error()
        );
    }
}

#[test]
fn the_last_error_is_per_thread() {
    // Safety: NULL handles are refused before anything is read.
    unsafe {
        assert_eq!(xsc_offloader_wait(std::ptr::null_mut()), XSC_EINVAL);
        let mine = last_error();
        let theirs = std::thread::spawn(last_error).join().unwrap();
        assert_eq!(theirs, "");
        assert_eq!(last_error(), mine);
    }
}

/// The handle is shared by threads as OVS shares it between its offload
/// and revalidator threads: puts, gets and stats at once.
#[test]
fn threads_share_one_offloader() {
    let h = Handle::new();
    let (_, key, mask, actions) = seed_netlink();
    let ptr = h.0 as usize;
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let (key, mask, actions) = (key.clone(), mask.clone(), actions.clone());
            std::thread::spawn(move || {
                let h = ptr as *mut xsc_offloader;
                for i in 0..50u32 {
                    let u = [t, i, 0xabcd, 0x1234];
                    // Safety: a live handle (destroyed after the joins);
                    // buffers valid for their lengths.
                    unsafe {
                        let rc = loop {
                            let rc = xsc_flow_put(
                                h,
                                u.as_ptr(),
                                key.as_ptr(),
                                key.len(),
                                mask.as_ptr(),
                                mask.len(),
                                actions.as_ptr(),
                                actions.len(),
                            );
                            if rc != XSC_EAGAIN {
                                break rc;
                            }
                            xsc_offloader_wait(h);
                        };
                        assert_eq!(rc, XSC_OK, "{}", last_error());
                        let s = xsc_flow_get(h, u.as_ptr(), std::ptr::null_mut(), 0);
                        assert!(s == XSC_ENOENT || s >= 0, "{s}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let mut counts = xsc_counts::default();
    // Safety: a live handle.
    unsafe {
        xsc_offloader_wait(h.0);
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
    }
    assert_eq!(counts.offloaded, 200);
}

// ---- only documented codes escape; XSC_MODE_ASYNC ------------------------

/// A config for an eswitch offloader on the seed's ports (`ports` must
/// outlive its use).
fn eswitch_config(ports: &[u16], profile: &'static CStr, mode: u32) -> xsc_offloader_config {
    let mut cfg = xsc_offloader_config::default();
    // Safety: a valid, writable config.
    assert_eq!(unsafe { xsc_offloader_config_init(&mut cfg) }, XSC_OK);
    cfg.ports = ports.as_ptr();
    cfg.n_ports = ports.len();
    cfg.profile = profile.as_ptr();
    cfg.mode = mode;
    cfg
}

/// Drives every error path reachable without a device fault and checks
/// that each code returned is one the header documents (and that
/// `xsc_strerror` knows it), and that the message is set.
#[test]
fn every_error_path_returns_a_documented_code() {
    let documented: Vec<i32> = XSC_ERRORS.iter().map(|&(c, _)| c).collect();
    let mut seen: Vec<i32> = Vec::new();
    let mut note = |rc: i32, what: &str| {
        assert!(rc < 0, "{what}: expected an error, got {rc}");
        assert!(documented.contains(&rc), "{what}: undocumented code {rc}");
        // Safety: a static C string.
        let text = unsafe { CStr::from_ptr(xsc_strerror(rc)) };
        assert_ne!(text, c"unknown xsc error code", "{what}");
        assert!(!last_error().is_empty(), "{what}: no message");
        seen.push(rc);
    };
    let h = Handle::new();
    let (ufid, key, mask, actions) = seed_netlink();
    let u = ufid.parts.as_ptr();
    let unknown = [1u32, 2, 3, 4];
    let null = std::ptr::null_mut::<xsc_offloader>();
    let cut = &key[..key.len() - 1];
    let ports = [0u16, 8, 15];
    let mut out: *mut xsc_offloader = std::ptr::null_mut();
    let mut stats = xsc_flow_stats::default();
    let mut ct_stats = xsc_ct_stats::default();
    let mut counts = xsc_counts::default();
    let mut dump: *mut c_char = std::ptr::null_mut();
    let line = read(KUBE_CONNTRACK).lines().next().unwrap().to_owned();
    // Safety: pointers are valid for their lengths or NULL where the call
    // must refuse them.
    unsafe {
        let put = |h, key: &[u8]| {
            xsc_flow_put(
                h,
                u,
                key.as_ptr(),
                key.len(),
                mask.as_ptr(),
                mask.len(),
                actions.as_ptr(),
                actions.len(),
            )
        };
        note(put(null, &key), "put on NULL");
        note(put(h.0, cut), "put of a cut key");
        note(xsc_flow_del(null, u), "del on NULL");
        note(xsc_flow_del(h.0, std::ptr::null()), "del of a NULL ufid");
        note(
            xsc_flow_get(h.0, unknown.as_ptr(), std::ptr::null_mut(), 0),
            "get of an unknown UFID",
        );
        note(
            xsc_flow_stats(h.0, unknown.as_ptr(), &mut stats),
            "stats of an unknown UFID",
        );
        note(
            xsc_flow_stats(h.0, u, std::ptr::null_mut()),
            "stats into NULL",
        );
        note(xsc_ct_add(h.0, c"x".as_ptr(), 1), "ct_add of garbage");
        note(
            xsc_ct_del(null, line.as_ptr().cast(), line.len()),
            "ct_del on NULL",
        );
        note(
            xsc_ct_get(
                h.0,
                line.as_ptr().cast(),
                line.len(),
                std::ptr::null_mut(),
                0,
            ),
            "ct_get of a connection never added",
        );
        note(
            xsc_ct_stats(h.0, line.as_ptr().cast(), line.len(), &mut ct_stats),
            "ct_stats of a connection never added",
        );
        note(xsc_offloader_wait(null), "wait on NULL");
        note(xsc_offloader_sync_stats(null), "sync_stats on NULL");
        note(
            xsc_offloader_dump(null, &mut dump, std::ptr::null_mut()),
            "dump of NULL",
        );
        note(xsc_offloader_flush(null), "flush on NULL");
        note(xsc_offloader_counts(null, &mut counts), "counts of NULL");
        note(
            xsc_offloader_config_init(std::ptr::null_mut()),
            "config_init of NULL",
        );
        let mut cfg = eswitch_config(&ports, c"metascale", 9);
        note(xsc_offloader_new(&cfg, &mut out), "a bad mode");
        cfg = eswitch_config(&ports, c"metascale", XSC_MODE_ASYNC);
        note(xsc_offloader_new(&cfg, &mut out), "async on metascale");
        assert!(out.is_null());
        cfg = eswitch_config(&[7], c"metascale", XSC_MODE_AUTO);
        cfg.device = XSC_DEVICE_DPDK;
        note(xsc_offloader_new(&cfg, &mut out), "a DPDK port without EAL");

        // A queue of depth 1 fills: EAGAIN, then the worker drains it.
        cfg = eswitch_config(&ports, c"metascale", XSC_MODE_SYNC);
        cfg.queue_depth = 1;
        let mut small: *mut xsc_offloader = std::ptr::null_mut();
        assert_eq!(
            xsc_offloader_new(&cfg, &mut small),
            XSC_OK,
            "{}",
            last_error()
        );
        let mut full = false;
        for _ in 0..10_000 {
            let rc = put(small, &key);
            if rc == XSC_EAGAIN {
                note(rc, "put into a full queue");
                full = true;
                break;
            }
            assert_eq!(rc, XSC_OK, "{}", last_error());
        }
        xsc_offloader_destroy(small);
        if !full {
            loud("the depth-1 queue never filled (the worker kept up): EAGAIN not driven");
        }
    }
    seen.sort_unstable();
    seen.dedup();
    for code in [XSC_EINVAL, XSC_EBADMSG, XSC_ENOENT, XSC_ENOTSUP, XSC_ENODEV] {
        assert!(seen.contains(&code), "{code} was not driven: {seen:?}");
    }
}

/// `XSC_MODE_ASYNC` on the eswitch with a profile that has the
/// template/async API: the flow goes through the flow queues and is
/// offloaded; metascale (no async API) is refused with `XSC_ENOTSUP`, as
/// the header says.
#[test]
fn async_mode_offloads_through_the_eswitchs_flow_queues() {
    let ports = [0u16, 8, 15];
    let cfg = eswitch_config(&ports, c"generic", XSC_MODE_ASYNC);
    let (ufid, key, mask, actions) = seed_netlink();
    let mut h: *mut xsc_offloader = std::ptr::null_mut();
    // Safety: valid config and pointers.
    unsafe {
        assert_eq!(xsc_offloader_new(&cfg, &mut h), XSC_OK, "{}", last_error());
        let h = Handle(h);
        let rc = xsc_flow_put(
            h.0,
            ufid.parts.as_ptr(),
            key.as_ptr(),
            key.len(),
            mask.as_ptr(),
            mask.len(),
            actions.as_ptr(),
            actions.len(),
        );
        assert_eq!(rc, XSC_OK, "{}", last_error());
        assert_eq!(xsc_offloader_wait(h.0), XSC_OK);
        let mut reason = [0 as c_char; XSC_REASON_MAX];
        let state = xsc_flow_get(h.0, ufid.parts.as_ptr(), reason.as_mut_ptr(), reason.len());
        assert_eq!(
            state,
            XSC_STATE_OFFLOADED,
            "{:?}",
            CStr::from_ptr(reason.as_ptr())
        );
        let mut dump: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            xsc_offloader_dump(h.0, &mut dump, std::ptr::null_mut()),
            XSC_OK
        );
        let text = CStr::from_ptr(dump).to_string_lossy().into_owned();
        xsc_string_free(dump);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(xsc_offloader_flush(h.0), XSC_OK, "{}", last_error());
        let mut counts = xsc_counts::default();
        assert_eq!(xsc_offloader_counts(h.0, &mut counts), XSC_OK);
        assert_eq!(counts.live_rules, 0);

        let cfg = eswitch_config(&ports, c"metascale", XSC_MODE_ASYNC);
        let mut out: *mut xsc_offloader = std::ptr::null_mut();
        assert_eq!(xsc_offloader_new(&cfg, &mut out), XSC_ENOTSUP);
        assert!(out.is_null());
        assert!(
            last_error().contains("no template/async API"),
            "{}",
            last_error()
        );
    }
}
