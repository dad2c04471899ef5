/*
 * xsc_offload.h — the C ABI of libxsc_offload: offload Open vSwitch
 * megaflows (conntrack and recirculation included) to rte_flow hardware
 * rules on Yunsilicon metaScale NICs, or to the software model of the NIC.
 *
 * This is what an OVS-DPDK offload provider calls. It hands the library each
 * megaflow as the three netlink attribute lists OVS holds (key, mask,
 * actions: OVS_KEY_ATTR_* and OVS_ACTION_ATTR_*, as in
 * <linux/openvswitch.h> plus OVS's userspace-only actions) together with its
 * UFID, each established conntrack entry as the line `ovs-appctl
 * dpctl/dump-conntrack` prints for it, and reads back each flow's state
 * (pending, offloaded, rejected with the reason, failed with the device's
 * error) and its hardware counters.
 *
 * Linking: `-lxsc_offload` (the shared library; it pulls in DPDK's shared
 * libraries itself), or the static archive `libxsc_offload.a` followed by
 * `$(pkg-config --libs libdpdk) -lrte_net_ring -lpthread -ldl -lm` (the ring
 * PMD only where DPDK ships it, as Debian's does; PMDs are not on
 * pkg-config's line). tests/c_abi.rs builds both ways.
 *
 * Conventions, for every function below:
 *
 * - Return values: `XSC_OK` (0) or a negative error code (`XSC_E*`, the
 *   negated Linux errno of the same name). On an error,
 *   xsc_last_error() says what was wrong, where and what was expected.
 * - Pointers: every pointer argument is checked for NULL and, for typed
 *   pointers, alignment; a pointer with a length may be NULL only when the
 *   length is 0. A check that fails returns XSC_EINVAL; nothing is
 *   dereferenced. A pointer that is non-NULL but does not point to as many
 *   readable bytes as its length says cannot be detected: that is the
 *   caller's contract, as with memcpy().
 * - Ownership: the library never keeps a pointer the caller passed after the
 *   call returns (it copies what it needs). What the library allocates
 *   for the caller (xsc_offloader_dump()) is freed with xsc_string_free().
 * - Threads: an offloader is safe to use from any number of threads at
 *   once; every function taking a `struct xsc_offloader *` may run
 *   concurrently with any other, except xsc_offloader_destroy(), which must
 *   be the last call on that handle. Operations on one UFID (and on one
 *   connection) are applied in the order they were submitted.
 * - Panics: a bug inside the library never unwinds into C: the call returns
 *   XSC_EINTERNAL and xsc_last_error() holds the panic message.
 */
#ifndef XSC_OFFLOAD_H
#define XSC_OFFLOAD_H 1

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ---------------------------------------------------------- */

/* The version of this header; xsc_version() is the library's at run time
 * (compare the two to catch a program run against another library). */
#define XSC_VERSION_MAJOR 0
#define XSC_VERSION_MINOR 1
#define XSC_VERSION_PATCH 0
#define XSC_VERSION_NUMBER \
    (XSC_VERSION_MAJOR * 100 * 100 + XSC_VERSION_MINOR * 100 + XSC_VERSION_PATCH)

/* XSC_VERSION_NUMBER of the running library. Thread-safe, never fails. */
unsigned xsc_version(void);

/* The running library's version as "MAJOR.MINOR.PATCH": a static string,
 * never NULL. Thread-safe, never fails. */
const char *xsc_version_string(void);

/* ---- error codes: negated Linux errno values ------------------------- */

/* These are the only codes any function of this header returns as an
 * error; a device's own errno is mapped onto them (XSC_ENOTSUP, XSC_ENODEV
 * or XSC_EIO) and named in the message of xsc_last_error(). */

#define XSC_OK 0
/* A flow or connection the offloader does not hold: never put, deleted,
 * or its put is still queued (call xsc_offloader_wait() first). */
#define XSC_ENOENT (-2)
/* The device refused an operation (xsc_last_error() names its errno,
 * e.g. EBUSY, ENOSPC), or gave no errno. */
#define XSC_EIO (-5)
/* The worker queue for this UFID is full: call xsc_offloader_wait() (or
 * come back later) and submit again. Nothing was queued. */
#define XSC_EAGAIN (-11)
/* The DPDK port is unknown, or EAL is not running (the host must call
 * rte_eal_init() before creating an XSC_DEVICE_DPDK offloader). */
#define XSC_ENODEV (-19)
/* A bad argument: NULL handle, NULL pointer with a nonzero length,
 * misaligned pointer, a config value out of range, a size that does not
 * match this header. */
#define XSC_EINVAL (-22)
/* Input that does not parse: malformed netlink attributes, a conntrack
 * line that is not `dpctl/dump-conntrack` syntax or not UTF-8. */
#define XSC_EBADMSG (-74)
/* The device cannot do what the config asks (XSC_MODE_ASYNC on a device
 * without flow queues), or its driver lacks an operation (ENOTSUP/ENOSYS). */
#define XSC_ENOTSUP (-95)
/* The engine has stopped (a worker died); destroy the offloader. */
#define XSC_ESHUTDOWN (-108)
/* A bug in the library (a Rust panic, caught at the boundary). The handle
 * may still work; report the message of xsc_last_error(). */
#define XSC_EINTERNAL (-131)

/* A short static description of an XSC_* code (XSC_OK included), for log
 * messages; an unknown code gets "unknown xsc error code". Never NULL;
 * thread-safe. xsc_last_error() says more about the last failed call. */
const char *xsc_strerror(int code);

/* ---- configuration --------------------------------------------------- */

/* Which device the rules go to. */
#define XSC_DEVICE_ESWITCH 0 /* the software model of the NIC (tests, dry runs) */
#define XSC_DEVICE_DPDK 1    /* a DPDK ethdev port of the host's EAL */

/* How rules reach the device. */
#define XSC_MODE_AUTO 0  /* template/async API when the device has flow queues */
#define XSC_MODE_SYNC 1  /* rte_flow_create, one rule at a time */
#define XSC_MODE_ASYNC 2 /* template/async API, or XSC_ENOTSUP at creation */
/*
 * XSC_MODE_ASYNC per device:
 * - XSC_DEVICE_ESWITCH: works with a profile that has the template/async
 *   API ("generic"): xsc_offloader_new() configures one flow queue per
 *   worker (rte_flow_configure), queue_depth operations deep. The
 *   "metascale" profile has none: XSC_ENOTSUP.
 * - XSC_DEVICE_DPDK: refused with XSC_ENOTSUP. rte_flow_configure needs a
 *   stopped port, and the library never stops the host's port; the port is
 *   driven through the sync API (XSC_MODE_SYNC, or XSC_MODE_AUTO).
 */

/*
 * Settings of an offloader. Fill it with xsc_offloader_config_init(), then
 * change what differs. The library reads it during xsc_offloader_new() only
 * and copies what it needs: the strings and the port array may be freed
 * afterwards.
 */
struct xsc_offloader_config {
    /* sizeof(struct xsc_offloader_config), set by
     * xsc_offloader_config_init(); another value is XSC_EINVAL (a program
     * compiled against another version of this header). */
    uint32_t size;
    /* XSC_DEVICE_ESWITCH or XSC_DEVICE_DPDK. Default: ESWITCH. */
    uint32_t device;
    /* The device profile: "metascale" or "generic" (NUL-terminated). NULL:
     * "metascale". */
    const char *profile;
    /* DPDK port ids (n_ports of them; ports may be NULL when n_ports is 0).
     * ESWITCH: the ports of the modelled switch (VF representors, uplink);
     * software_port is added when missing. DPDK: exactly one, the port the
     * rules are created on (the E-Switch manager, normally the PF). */
    const uint16_t *ports;
    size_t n_ports;
    /* OVS datapath port -> DPDK port, as `xsc-offload plan --port-map`
     * takes it: "15=3,8=4,vxlan_sys_4789=virtual:1" (NUL-terminated).
     * Ports not listed by number map to the DPDK port of the same number.
     * NULL or "": OVS port N is DPDK port N. */
    const char *port_map;
    /* Where table misses go (PORT_REPRESENTOR): the port OVS-DPDK receives
     * exceptions on, normally the PF. Default 0. */
    uint16_t software_port;
    uint16_t reserved0; /* must be 0 */
    /* rte_flow priority of megaflow and connection rules. Default 0. */
    uint32_t flow_priority;
    /* Worker threads. Default 1; at least 1. */
    uint32_t workers;
    /* Most operations a worker takes into one batch. Default 64; >= 1. */
    uint32_t batch;
    /* Operations each worker queues before a submission returns
     * XSC_EAGAIN. Default 4096; >= 1. */
    uint32_t queue_depth;
    /* XSC_MODE_*. Default XSC_MODE_AUTO. */
    uint32_t mode;
    /* How often the workers read the hardware counters on their own, in
     * milliseconds; 0: only in xsc_offloader_sync_stats() and
     * xsc_offloader_dump(). Default 1000. */
    uint32_t stats_interval_ms;
    uint32_t reserved1; /* must be 0 */
};

/*
 * Fills *config with the defaults listed above and sets config->size.
 * Returns XSC_OK, or XSC_EINVAL when config is NULL or misaligned.
 * Thread safety: touches only *config.
 */
int xsc_offloader_config_init(struct xsc_offloader_config *config);

/* ---- the offloader --------------------------------------------------- */

/* An offload engine over one device: opaque. */
struct xsc_offloader;

/*
 * Starts an offloader: checks the config, opens the device and starts the
 * worker threads. On XSC_OK, *out holds the new handle, owned by the
 * caller until xsc_offloader_destroy(); on an error *out is set to NULL
 * (when out itself is valid).
 *
 * XSC_DEVICE_DPDK: EAL must already be running in this process (OVS-DPDK
 * calls rte_eal_init() itself); the library never initialises EAL, never
 * cleans it up, and never configures, starts, stops or closes the port: it
 * only creates and destroys rte_flow rules on it.
 *
 * Errors: XSC_EINVAL (a config value; the message names the field),
 * XSC_ENODEV (no such port, or no EAL), XSC_ENOTSUP, XSC_EAGAIN (a worker
 * thread could not be started).
 */
int xsc_offloader_new(const struct xsc_offloader_config *config,
                      struct xsc_offloader **out);

/*
 * Removes every rule the offloader made from the device, stops its
 * workers and frees it. NULL is a no-op. The handle must not be used after
 * this call, by any thread; no other call on it may be running. Errors of
 * the final removal are not reported: call xsc_offloader_flush() first to
 * see them.
 */
void xsc_offloader_destroy(struct xsc_offloader *offloader);

/* ---- megaflows ------------------------------------------------------- */

/*
 * A UFID is `const uint32_t ufid[4]`: the u32[4] words of OVS's ovs_u128
 * in host byte order, i.e. `ufid->u32` for an `const ovs_u128 *ufid`. The
 * first word is the first 8 hex digits OVS prints after `ufid:`.
 */

/*
 * Offloads a megaflow, or replaces the one this UFID has (the new rules go
 * in before the old ones go). Returns once the flow is queued; its outcome
 * is read with xsc_flow_get().
 *
 * key/key_len: OVS_FLOW_ATTR_KEY's attributes (OVS_KEY_ATTR_*).
 * mask/mask_len: OVS_FLOW_ATTR_MASK's attributes; mask_len 0 (mask may
 *   then be NULL) means no mask list: every key attribute is an exact match,
 *   as when OVS omits OVS_FLOW_ATTR_MASK.
 * actions/actions_len: OVS_FLOW_ATTR_ACTIONS's attributes; length 0 is the
 *   empty action list (drop).
 * The buffers are decoded during the call and not kept.
 *
 * Errors: XSC_EINVAL, XSC_EBADMSG (the message names the attribute and its
 * byte offset), XSC_EAGAIN, XSC_ESHUTDOWN.
 */
int xsc_flow_put(struct xsc_offloader *offloader, const uint32_t ufid[4],
                 const uint8_t *key, size_t key_len,
                 const uint8_t *mask, size_t mask_len,
                 const uint8_t *actions, size_t actions_len);

/*
 * Removes the flow of this UFID from hardware (queued like a put; a UFID
 * the offloader does not hold is not an error).
 * Errors: XSC_EINVAL, XSC_EAGAIN, XSC_ESHUTDOWN.
 */
int xsc_flow_del(struct xsc_offloader *offloader, const uint32_t ufid[4]);

/* Where a flow or connection stands (what xsc_flow_get() returns). */
#define XSC_STATE_PENDING 0   /* taken by a worker, rules on their way */
#define XSC_STATE_OFFLOADED 1 /* in hardware */
#define XSC_STATE_REJECTED 2  /* not offloadable: stays in software; reason says why */
#define XSC_STATE_FAILED 3    /* the device refused it: stays in software; reason has the device's error */

/* Reasons never exceed this many bytes, NUL included (longer ones are cut
 * and end in "..."). */
#define XSC_REASON_MAX 512

/*
 * The state of the flow of this UFID (XSC_STATE_*, >= 0) or a negative
 * error: XSC_ENOENT when the offloader holds nothing for it (never put,
 * deleted, or its put still queued), XSC_EINVAL.
 *
 * reason/reason_size: optional (reason NULL with reason_size 0). When
 * given, receives the NUL-terminated reason of a rejected or failed flow
 * ("ct_state +new: ...", "rte_flow_create on port 0 failed: ENOSPC ..."),
 * "" otherwise, cut to reason_size bytes; XSC_REASON_MAX always suffices.
 * Lock-free: never waits for the workers.
 */
int xsc_flow_get(const struct xsc_offloader *offloader, const uint32_t ufid[4],
                 char *reason, size_t reason_size);

/* Machine names never exceed this many bytes, NUL included. */
#define XSC_REASON_NAME_MAX 64

/*
 * The state of the flow of this UFID, as xsc_flow_get(), with the machine
 * name of its reason instead of the sentence: name/name_size as
 * reason/reason_size there, receiving "" unless the flow is rejected or
 * failed. The names of rejections ("ct_state_new", "ct_label_mask",
 * "profile_item", "unsupported_action", ...) and of failures ("device",
 * "lower", "store") are stable: a name is never changed nor reused for
 * another reason, so programs may count and match them (xsc-offload plan
 * --json prints the same names). Lock-free. Errors: as xsc_flow_get().
 */
int xsc_flow_reason_name(const struct xsc_offloader *offloader, const uint32_t ufid[4],
                         char *name, size_t name_size);

/* A flow's statistics from the hardware counters. */
struct xsc_flow_stats {
    uint64_t packets;
    uint64_t bytes;
    /* Milliseconds since a packet last hit the flow; meaningful when used
     * is 1 (OVS's `used` is then time_msec() - used_ms_ago). */
    int64_t used_ms_ago;
    uint8_t used;      /* 0: never hit (OVS prints used:never) */
    uint8_t offloaded; /* 1: the flow is in hardware now */
    uint16_t tcp_flags;
    uint32_t reserved;
};

/*
 * The flow's statistics as of the last counter sweep (see
 * stats_interval_ms and xsc_offloader_sync_stats()), summed across
 * modifications of the flow. Lock-free.
 * Errors: XSC_ENOENT, XSC_EINVAL.
 */
int xsc_flow_stats(const struct xsc_offloader *offloader, const uint32_t ufid[4],
                   struct xsc_flow_stats *out);

/* ---- conntrack ------------------------------------------------------- */

/*
 * Connections are given as one line of `ovs-appctl dpctl/dump-conntrack`
 * (plain or -m), e.g.
 *   tcp,orig=(src=10.16.0.14,dst=10.16.0.18,sport=3457,dport=80),reply=(...),zone=6,mark=2,protoinfo=(state=ESTABLISHED)
 * as `line`/`len`: UTF-8, need not be NUL-terminated, surrounding
 * whitespace and a trailing newline ignored. A connection is identified by
 * its zone, protocol and original tuple.
 */

/*
 * Offloads an established connection (both directions, NAT included).
 * Queued; the outcome is read with xsc_ct_get().
 * Errors: XSC_EINVAL, XSC_EBADMSG, XSC_EAGAIN, XSC_ESHUTDOWN.
 */
int xsc_ct_add(struct xsc_offloader *offloader, const char *line, size_t len);

/* Removes a connection's rules. Errors as xsc_ct_add(). */
int xsc_ct_del(struct xsc_offloader *offloader, const char *line, size_t len);

/* A connection's state (XSC_STATE_*) and reason, as xsc_flow_get(). */
int xsc_ct_get(const struct xsc_offloader *offloader, const char *line, size_t len,
               char *reason, size_t reason_size);

/* A connection's state and the machine name of its reason, as
 * xsc_flow_reason_name(). */
int xsc_ct_reason_name(const struct xsc_offloader *offloader, const char *line, size_t len,
                       char *name, size_t name_size);

/* A connection's hardware counters, per direction. */
struct xsc_ct_stats {
    uint64_t orig_packets;
    uint64_t orig_bytes;
    uint64_t reply_packets;
    uint64_t reply_bytes;
};

/* A connection's counters as of the last sweep. Errors as xsc_flow_stats(). */
int xsc_ct_stats(const struct xsc_offloader *offloader, const char *line, size_t len,
                 struct xsc_ct_stats *out);

/* ---- the whole offloader --------------------------------------------- */

/*
 * Blocks until every operation submitted (by any thread) before the call
 * has been applied. Errors: XSC_EINVAL.
 */
int xsc_offloader_wait(struct xsc_offloader *offloader);

/*
 * Applies the queued operations, then reads every rule's counters now, so
 * that xsc_flow_stats() is fresh. Blocks. Errors: XSC_EINVAL.
 */
int xsc_offloader_sync_stats(struct xsc_offloader *offloader);

/*
 * The offloaded flows, one '\n'-terminated line each, as `ovs-appctl
 * dpctl/dump-flows -m type=offloaded` prints them, with fresh counters,
 * sorted by UFID. Blocks until the queued operations are applied.
 *
 * On XSC_OK, *out receives a NUL-terminated string allocated by the
 * library ("" when nothing is offloaded), which the caller owns and frees
 * with xsc_string_free() (not free()); *len (when len is not NULL)
 * receives its length without the NUL. On an error *out is NULL.
 * Errors: XSC_EINVAL.
 */
int xsc_offloader_dump(struct xsc_offloader *offloader, char **out, size_t *len);

/* Frees a string the library returned. NULL is a no-op. */
void xsc_string_free(char *s);

/*
 * Removes every flow and connection the offloader holds from the device,
 * and their shared rules. Blocks. Returns XSC_OK, or the code of the first
 * error the device reported (XSC_EIO, XSC_ENOTSUP or XSC_ENODEV; its errno
 * is in xsc_last_error()); everything is removed regardless.
 */
int xsc_offloader_flush(struct xsc_offloader *offloader);

/* How many flows and connections are in each state, and the rules the
 * offloader holds on the device (0 after a flush: a leak check). */
struct xsc_counts {
    uint64_t offloaded;
    uint64_t rejected;
    uint64_t failed;
    uint64_t conns_offloaded;
    uint64_t conns_rejected;
    uint64_t conns_failed;
    uint64_t live_rules;
};

/* Fills *out. Errors: XSC_EINVAL. Lock-free. */
int xsc_offloader_counts(const struct xsc_offloader *offloader, struct xsc_counts *out);

/* ---- errors ---------------------------------------------------------- */

/*
 * What the last failed call on this thread got wrong, NUL-terminated, ""
 * when it succeeded. Every other function of this header resets it on
 * entry, so read it right after the call that failed. The string belongs
 * to the library and stays valid until the next call of another xsc_
 * function on this thread (or the thread's exit). Never NULL.
 */
const char *xsc_last_error(void);

/* ==== the emulated NIC (for an OVS provider on the dummy datapath) ======
 *
 * An XSC_DEVICE_ESWITCH offloader's eswitch can stand in for the NIC: each
 * packet a port receives runs through it first, as through the hardware.
 * Ports are ethdev port numbers of the config (`ports`, with the
 * software_port first); with an empty port_map they are the OVS datapath
 * port numbers. Added by ovs/ (netdev-offload-xsc.c), which calls this for
 * every packet a netdev-dummy port receives.
 */

/* What xsc_eswitch_receive() did. */
#define XSC_RX_FORWARDED 0 /* sent out of ports: ops->output was called per copy */
#define XSC_RX_DROPPED 1   /* dropped by a rule: no callback */
#define XSC_RX_MISS 2      /* handed to software: ops->miss was called once */

/* Where software resumes a missed packet. */
#define XSC_RESUME_START 0  /* from recirc_id 0 with the frame as it entered: a
                             * table miss at the root, a conntrack miss (the
                             * hardware's lookups had no side effect, so
                             * re-running the pipeline gives what software
                             * alone does; copies the NIC took before are
                             * discarded, not sent) */
#define XSC_RESUME_RECIRC 1 /* at recirc_id with the ct_* fields below and
                             * the frame as the NIC left it (NAT applied) */

struct xsc_restore {
    uint32_t resume;    /* XSC_RESUME_* (the fields below are 0 for START) */
    uint32_t recirc_id; /* OVS's recirculation id */
    uint32_t ct_mark;
    uint16_t ct_zone;
    uint8_t ct_state;   /* OVS's bit order (new 0x01 ... dnat 0x80); 0: untracked */
    uint8_t reserved;
    uint64_t ct_label_lo; /* ct_label, as ovs_u128's u64.lo / u64.hi */
    uint64_t ct_label_hi;
};

/* The caller's callbacks. The frames belong to the library and are valid
 * only during the callback (copy them to keep them). Both run on the
 * calling thread, before xsc_eswitch_receive() returns, and must not call
 * back into this offloader's xsc_eswitch_receive(). */
struct xsc_rx_ops {
    /* One copy of the packet sent out of ethdev port `port`. */
    void (*output)(void *aux, uint16_t port, const uint8_t *frame, size_t len);
    /* The packet goes to software: resume as *restore says, with `frame`. */
    void (*miss)(void *aux, const struct xsc_restore *restore,
                 const uint8_t *frame, size_t len);
};

/*
 * Runs `frame` (len bytes, from its Ethernet header), received on ethdev
 * port in_port, through the offloader's eswitch, with the eswitch clock
 * at now_ms (the caller's clock, e.g. OVS's time_msec(): counters record
 * it as the last hit). Returns XSC_RX_* and calls ops as it says, or a
 * negative error with no callback: XSC_EINVAL (NULL handle, frame, ops or
 * callback), XSC_ENOTSUP (an XSC_DEVICE_DPDK offloader).
 * Threads: any number at once, and concurrently with every other call on
 * the offloader; lock-free but for a read lock of the eswitch's tables (and
 * the translator's lock on a miss that resumes at a recirc_id).
 */
int xsc_eswitch_receive(struct xsc_offloader *offloader, uint16_t in_port,
                        const uint8_t *frame, size_t len, uint64_t now_ms,
                        const struct xsc_rx_ops *ops, void *aux);

/*
 * Rules and groups (tables holding at least one rule) in the offloader's
 * eswitch: 0 and 0 once every flow and connection is gone. Errors:
 * XSC_EINVAL, XSC_ENOTSUP (an XSC_DEVICE_DPDK offloader).
 */
int xsc_eswitch_counts(const struct xsc_offloader *offloader, uint64_t *rules,
                       uint64_t *groups);

/* ==== end of the emulated NIC ========================================== */

#ifdef __cplusplus
}
#endif

#endif /* XSC_OFFLOAD_H */
