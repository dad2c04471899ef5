/*
 * ovs_provider.c — an OVS offload provider in miniature, over the C ABI of
 * libxsc_offload (include/xsc_offload.h).
 *
 * It does what OVS-DPDK's offload thread does with a batch of megaflows:
 * puts each flow (netlink key, mask and actions with its UFID), adds the
 * established connections, waits, reads each flow's state and statistics,
 * dumps the offloaded flows, then deletes everything, flushes and destroys
 * the offloader, checking every answer on the way. It exits 0 and prints
 *
 *   ovs_provider: device=eswitch flows=6 offloaded=6 rejected=0 failed=0 conns=0/0/0/0 dump_lines=6 live_rules_after_delete=0 live_rules_after_flush=0: ok
 *
 * after a first line naming the library's version (xsc_version_string(),
 * checked against the header's XSC_VERSION_NUMBER), or exits 1 naming the
 * first unexpected result with xsc_strerror() of its code and
 * xsc_last_error() (2: bad usage or input).
 *
 * Usage:
 *   ovs_provider [--dpdk] [--ports 0,1,2,3] [--conntrack FILE]
 *                [--expect offloaded=N,rejected=N,failed=N,conns_offloaded=N,...]
 *                FLOWS.bin
 *
 * FLOWS.bin, in host byte order:
 *   "XSCFLOW1", uint32_t count, then count records of
 *   uint32_t ufid[4], uint32_t key_len, mask_len, actions_len,
 *   then the key, mask and actions bytes (OVS_FLOW_ATTR_KEY/_MASK/_ACTIONS
 *   payloads: lists of netlink attributes), no padding.
 * tests/c_abi.rs writes it from dump-flows text with Megaflow::to_netlink.
 * FILE: `ovs-appctl dpctl/dump-conntrack` output, one connection per line.
 *
 * --dpdk (built with -DWITH_DPDK and DPDK's cflags/libs): this program
 * initialises EAL itself, as OVS-DPDK does, with a net_null port 0, and the
 * offloader attaches to that port (XSC_DEVICE_DPDK). net_null has no
 * rte_flow, so every offloadable flow must end XSC_STATE_FAILED; after
 * xsc_offloader_destroy() the port must still be open: it is the host's.
 * XSC_MODE_ASYNC on that port must be refused with XSC_ENOTSUP.
 *
 * Build (the test does this):
 *   cc -Wall -Wextra -Werror -Iinclude examples/ovs_provider.c \
 *      -L target/debug -lxsc_offload -Wl,-rpath,target/debug -o ovs_provider
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsc_offload.h"

#ifdef WITH_DPDK
#include <rte_eal.h>
#include <rte_ethdev.h>
#endif

struct flow {
    uint32_t ufid[4];
    const uint8_t *key, *mask, *actions;
    uint32_t key_len, mask_len, actions_len;
    int state;
};

struct conn {
    char *line;
    int state;
};

/* What --expect asks for; -1: not checked. */
struct expect {
    long long offloaded, rejected, failed;
    long long conns_offloaded, conns_rejected, conns_failed;
};

static int
fail(const char *fmt, ...)
{
    va_list ap;

    fputs("ovs_provider: FAILED: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* Reads a whole file; *len gets its size. NULL on failure. */
static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f) {
        fprintf(stderr, "ovs_provider: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nbuf = realloc(buf, ncap + 1);
            if (!nbuf) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "ovs_provider: %s: read error\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static uint32_t
get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Splits FLOWS.bin into flows that point into buf. */
static int
parse_flows(const uint8_t *buf, size_t len, struct flow **out, size_t *n_out)
{
    size_t at = 12, n, i;
    struct flow *flows;

    if (len < 12 || memcmp(buf, "XSCFLOW1", 8)) {
        fprintf(stderr, "ovs_provider: not an XSCFLOW1 file\n");
        return 2;
    }
    n = get_u32(buf + 8);
    flows = calloc(n ? n : 1, sizeof *flows);
    if (!flows) {
        return 2;
    }
    for (i = 0; i < n; i++) {
        struct flow *f = &flows[i];
        if (len - at < 28) {
            fprintf(stderr, "ovs_provider: record %zu is cut short\n", i);
            free(flows);
            return 2;
        }
        for (int w = 0; w < 4; w++) {
            f->ufid[w] = get_u32(buf + at + 4 * w);
        }
        f->key_len = get_u32(buf + at + 16);
        f->mask_len = get_u32(buf + at + 20);
        f->actions_len = get_u32(buf + at + 24);
        at += 28;
        if ((uint64_t) f->key_len + f->mask_len + f->actions_len > len - at) {
            fprintf(stderr, "ovs_provider: record %zu is cut short\n", i);
            free(flows);
            return 2;
        }
        f->key = buf + at;
        f->mask = f->key + f->key_len;
        f->actions = f->mask + f->mask_len;
        at += (size_t) f->key_len + f->mask_len + f->actions_len;
    }
    if (at != len) {
        fprintf(stderr, "ovs_provider: %zu bytes after the last record\n", len - at);
        free(flows);
        return 2;
    }
    *out = flows;
    *n_out = n;
    return 0;
}

/* Splits a dump-conntrack text into lines (copies). */
static int
parse_conns(char *text, struct conn **out, size_t *n_out)
{
    size_t n = 0, cap = 16;
    struct conn *conns = calloc(cap, sizeof *conns);
    char *save = NULL;

    if (!conns) {
        return 2;
    }
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[strspn(line, " \t\r")] == '\0') {
            continue;
        }
        if (n == cap) {
            struct conn *nc = realloc(conns, 2 * cap * sizeof *conns);
            if (!nc) {
                goto oom;
            }
            conns = nc;
            cap *= 2;
        }
        conns[n].line = strdup(line);
        if (!conns[n].line) {
            goto oom;
        }
        n++;
    }
    *out = conns;
    *n_out = n;
    return 0;

oom:
    for (size_t i = 0; i < n; i++) {
        free(conns[i].line);
    }
    free(conns);
    return 2;
}

static int
parse_expect(const char *arg, struct expect *e)
{
    char *copy = strdup(arg), *save = NULL;
    int rc = 0;

    if (!copy) {
        return 2;
    }
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        long long v;
        if (!eq) {
            rc = 2;
            break;
        }
        *eq = '\0';
        v = strtoll(eq + 1, NULL, 10);
        if (!strcmp(kv, "offloaded")) {
            e->offloaded = v;
        } else if (!strcmp(kv, "rejected")) {
            e->rejected = v;
        } else if (!strcmp(kv, "failed")) {
            e->failed = v;
        } else if (!strcmp(kv, "conns_offloaded")) {
            e->conns_offloaded = v;
        } else if (!strcmp(kv, "conns_rejected")) {
            e->conns_rejected = v;
        } else if (!strcmp(kv, "conns_failed")) {
            e->conns_failed = v;
        } else {
            fprintf(stderr, "ovs_provider: unknown --expect key %s\n", kv);
            rc = 2;
            break;
        }
    }
    free(copy);
    return rc;
}

static size_t
parse_ports(const char *arg, uint16_t *ports, size_t max)
{
    size_t n = 0;
    const char *p = arg;

    while (*p && n < max) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v > 65535) {
            return 0;
        }
        ports[n++] = (uint16_t) v;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

static const char *
state_name(int state)
{
    switch (state) {
    case XSC_STATE_PENDING: return "pending";
    case XSC_STATE_OFFLOADED: return "offloaded";
    case XSC_STATE_REJECTED: return "rejected";
    case XSC_STATE_FAILED: return "failed";
    default: return "?";
    }
}

/* Submits `call` into rc, with the retry OVS's offload thread does on a
 * full queue: wait for the workers, submit again. */
#define SUBMIT(rc, h, call)                                                   \
    do {                                                                      \
        (rc) = (call);                                                        \
    } while ((rc) == XSC_EAGAIN && xsc_offloader_wait(h) == XSC_OK)

/* The error paths an integrator hits first: each must be refused with its
 * code and a message, and the next good call must clear the message. */
static int
check_error_paths(struct xsc_offloader *h, const struct flow *f)
{
    static const uint32_t unknown[4] = { 0xdeadbeef, 1, 2, 3 };
    struct xsc_flow_stats st;
    int rc;

    rc = xsc_flow_put(h, f->ufid, NULL, 4, NULL, 0, NULL, 0);
    if (rc != XSC_EINVAL || !strstr(xsc_last_error(), "key is NULL")) {
        return fail("put with a NULL key: %s: %s", xsc_strerror(rc), xsc_last_error());
    }
    if (f->key_len > 1) {
        rc = xsc_flow_put(h, f->ufid, f->key, f->key_len - 1, f->mask, f->mask_len,
                          f->actions, f->actions_len);
        if (rc != XSC_EBADMSG || !*xsc_last_error()) {
            return fail("put with a cut key: %s: %s", xsc_strerror(rc), xsc_last_error());
        }
    }
    rc = xsc_ct_add(h, "tcp,orig=(", 10);
    if (rc != XSC_EBADMSG || !strstr(xsc_last_error(), "xsc_ct_add: line")) {
        return fail("ct_add of a cut line: %s: %s", xsc_strerror(rc), xsc_last_error());
    }
    rc = xsc_flow_get(h, unknown, NULL, 0);
    if (rc != XSC_ENOENT) {
        return fail("get of an unknown UFID: %s: %s", xsc_strerror(rc), xsc_last_error());
    }
    rc = xsc_flow_stats(h, unknown, &st);
    if (rc != XSC_ENOENT) {
        return fail("stats of an unknown UFID: %s: %s", xsc_strerror(rc), xsc_last_error());
    }
    rc = xsc_flow_get(NULL, unknown, NULL, 0);
    if (rc != XSC_EINVAL || !strstr(xsc_last_error(), "offloader is NULL")) {
        return fail("get on a NULL handle: %s: %s", xsc_strerror(rc), xsc_last_error());
    }
    if (xsc_offloader_wait(h) != XSC_OK || *xsc_last_error()) {
        return fail("a good call must clear the last error: \"%s\"", xsc_last_error());
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *flows_path = NULL, *ct_path = NULL;
    struct expect expect = { -1, -1, -1, -1, -1, -1 };
    uint16_t ports[64];
    size_t n_ports = 0;
    int use_dpdk = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dpdk")) {
            use_dpdk = 1;
        } else if (!strcmp(argv[i], "--ports") && i + 1 < argc) {
            n_ports = parse_ports(argv[++i], ports, 64);
            if (!n_ports) {
                fprintf(stderr, "ovs_provider: bad --ports %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--conntrack") && i + 1 < argc) {
            ct_path = argv[++i];
        } else if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
            if (parse_expect(argv[++i], &expect)) {
                return 2;
            }
        } else if (argv[i][0] != '-' && !flows_path) {
            flows_path = argv[i];
        } else {
            fprintf(stderr, "usage: ovs_provider [--dpdk] [--ports LIST] [--conntrack FILE] "
                            "[--expect K=N,...] FLOWS.bin\n");
            return 2;
        }
    }
    if (!flows_path) {
        fprintf(stderr, "ovs_provider: no FLOWS.bin\n");
        return 2;
    }

    size_t flows_len = 0, ct_len = 0, n_flows = 0, n_conns = 0;
    uint8_t *flows_buf = read_file(flows_path, &flows_len);
    char *ct_text = NULL;
    struct flow *flows = NULL;
    struct conn *conns = NULL;
    struct xsc_offloader *h = NULL;
    char *dump = NULL;
    int rc = 2;

    if (!flows_buf || parse_flows(flows_buf, flows_len, &flows, &n_flows)) {
        goto out;
    }
    if (ct_path) {
        ct_text = (char *) read_file(ct_path, &ct_len);
        if (!ct_text || parse_conns(ct_text, &conns, &n_conns)) {
            goto out;
        }
    }

#ifdef WITH_DPDK
    if (use_dpdk) {
        /* What OVS-DPDK does at start-up: EAL is the host's. */
        char *eal_argv[] = {
            "ovs_provider", "-l", "0", "--no-huge", "-m", "128", "--no-shconf",
            "--no-pci", "--no-telemetry", "--log-level=*:error", "--vdev=net_null0", NULL,
        };
        if (rte_eal_init((int) (sizeof eal_argv / sizeof eal_argv[0]) - 1, eal_argv) < 0) {
            rc = fail("rte_eal_init: %s", rte_strerror(rte_errno));
            goto out;
        }
    }
#else
    if (use_dpdk) {
        fprintf(stderr, "ovs_provider: built without -DWITH_DPDK\n");
        goto out;
    }
#endif

    /* The library this program runs with must be the one it was built
     * for (a program's header and a distribution's .so can differ). */
    printf("ovs_provider: libxsc_offload %s (header %d.%d.%d)\n", xsc_version_string(),
           XSC_VERSION_MAJOR, XSC_VERSION_MINOR, XSC_VERSION_PATCH);
    if (xsc_version() != XSC_VERSION_NUMBER) {
        rc = fail("libxsc_offload %u is not the %d this program was built with", xsc_version(),
                  XSC_VERSION_NUMBER);
        goto out;
    }

    struct xsc_offloader_config cfg;
    uint16_t dpdk_port = 0;

    rc = 1;
    int r0 = xsc_offloader_config_init(&cfg);
    if (r0 != XSC_OK) {
        rc = fail("config_init: %s: %s", xsc_strerror(r0), xsc_last_error());
        goto out;
    }
    cfg.profile = "metascale";
    cfg.software_port = 0;
    cfg.workers = 2;
    cfg.batch = 8;
    cfg.queue_depth = 4; /* small, so that the XSC_EAGAIN retry runs */
    cfg.stats_interval_ms = 0;
    if (use_dpdk) {
        cfg.device = XSC_DEVICE_DPDK;
        cfg.ports = &dpdk_port;
        cfg.n_ports = 1;
    } else {
        cfg.device = XSC_DEVICE_ESWITCH;
        cfg.ports = ports;
        cfg.n_ports = n_ports;
    }
    if (use_dpdk) {
        /* The header's promise: the template/async API is refused on the
         * host's port (rte_flow_configure would need it stopped). */
        cfg.mode = XSC_MODE_ASYNC;
        r0 = xsc_offloader_new(&cfg, &h);
        if (r0 != XSC_ENOTSUP || h) {
            rc = fail("XSC_MODE_ASYNC on a DPDK port: %s: %s", xsc_strerror(r0), xsc_last_error());
            goto out;
        }
        cfg.mode = XSC_MODE_AUTO;
    }
    r0 = xsc_offloader_new(&cfg, &h);
    if (r0 != XSC_OK || !h) {
        rc = fail("xsc_offloader_new: %s: %s", xsc_strerror(r0), xsc_last_error());
        goto out;
    }
    if (n_flows && check_error_paths(h, &flows[0])) {
        goto out;
    }

    /* Put every flow, add every connection, wait for all of it. */
    for (size_t i = 0; i < n_flows; i++) {
        struct flow *f = &flows[i];
        int r;
        SUBMIT(r, h, xsc_flow_put(h, f->ufid, f->key, f->key_len, f->mask, f->mask_len,
                                  f->actions, f->actions_len));
        if (r != XSC_OK) {
            rc = fail("put of flow %zu: %d %s", i, r, xsc_last_error());
            goto out;
        }
    }
    for (size_t i = 0; i < n_conns; i++) {
        int r;
        SUBMIT(r, h, xsc_ct_add(h, conns[i].line, strlen(conns[i].line)));
        if (r != XSC_OK) {
            rc = fail("ct_add of line %zu: %d %s", i + 1, r, xsc_last_error());
            goto out;
        }
    }
    if ((r0 = xsc_offloader_sync_stats(h)) != XSC_OK) {
        rc = fail("sync_stats: %s: %s", xsc_strerror(r0), xsc_last_error());
        goto out;
    }

    /* Each flow's state; offloaded ones have statistics, the others a reason. */
    long long tally[4] = { 0 }, ct_tally[4] = { 0 };
    char reason[XSC_REASON_MAX];

    for (size_t i = 0; i < n_flows; i++) {
        struct flow *f = &flows[i];
        struct xsc_flow_stats st;
        int s = xsc_flow_get(h, f->ufid, reason, sizeof reason);

        if (s < 0 || s == XSC_STATE_PENDING) {
            rc = fail("flow %zu after wait: %d %s", i, s, xsc_last_error());
            goto out;
        }
        f->state = s;
        tally[s]++;
        if (s == XSC_STATE_OFFLOADED) {
            if (reason[0]) {
                rc = fail("offloaded flow %zu has a reason: %s", i, reason);
                goto out;
            }
            int r = xsc_flow_stats(h, f->ufid, &st);
            if (r != XSC_OK || !st.offloaded || st.packets || st.bytes || st.used) {
                rc = fail("stats of flow %zu: %d offloaded=%u packets=%" PRIu64 " used=%u %s", i,
                          r, st.offloaded, st.packets, st.used, xsc_last_error());
                goto out;
            }
        } else if (!reason[0]) {
            rc = fail("flow %zu is %s without a reason", i, state_name(s));
            goto out;
        } else {
            /* The same state, with the reason's stable machine name. */
            char name[XSC_REASON_NAME_MAX];
            int n = xsc_flow_reason_name(h, f->ufid, name, sizeof name);
            if (n != s || !name[0]) {
                rc = fail("flow %zu: reason name: %d '%s' %s", i, n, name, xsc_last_error());
                goto out;
            }
        }
    }
    for (size_t i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        int s = xsc_ct_get(h, c->line, strlen(c->line), reason, sizeof reason);

        if (s < 0 || s == XSC_STATE_PENDING) {
            rc = fail("connection %zu after wait: %d %s", i + 1, s, xsc_last_error());
            goto out;
        }
        c->state = s;
        ct_tally[s]++;
        if (s == XSC_STATE_OFFLOADED) {
            struct xsc_ct_stats cs;
            if (xsc_ct_stats(h, c->line, strlen(c->line), &cs) != XSC_OK || cs.orig_packets) {
                rc = fail("ct_stats of connection %zu: %s", i + 1, xsc_last_error());
                goto out;
            }
        } else if (!reason[0]) {
            rc = fail("connection %zu is %s without a reason", i + 1, state_name(s));
            goto out;
        } else {
            char name[XSC_REASON_NAME_MAX];
            int n = xsc_ct_reason_name(h, c->line, strlen(c->line), name, sizeof name);
            if (n != s || !name[0]) {
                rc = fail("connection %zu: reason name: %d '%s' %s", i + 1, n, name,
                          xsc_last_error());
                goto out;
            }
        }
    }

    /* The engine's own counts agree with what each flow said. */
    struct xsc_counts counts;
    if ((r0 = xsc_offloader_counts(h, &counts)) != XSC_OK) {
        rc = fail("counts: %s: %s", xsc_strerror(r0), xsc_last_error());
        goto out;
    }
    if ((long long) counts.offloaded != tally[XSC_STATE_OFFLOADED]
        || (long long) counts.rejected != tally[XSC_STATE_REJECTED]
        || (long long) counts.failed != tally[XSC_STATE_FAILED]
        || (long long) counts.conns_offloaded != ct_tally[XSC_STATE_OFFLOADED]
        || (long long) counts.conns_rejected != ct_tally[XSC_STATE_REJECTED]
        || (long long) counts.conns_failed != ct_tally[XSC_STATE_FAILED]) {
        rc = fail("counts disagree with the flows' states");
        goto out;
    }
    if ((counts.offloaded || counts.conns_offloaded) && !counts.live_rules) {
        rc = fail("offloaded flows but no live rules");
        goto out;
    }

    /* One dump line per offloaded flow, in the -m form. */
    size_t dump_len = 0, dump_lines = 0;
    if ((r0 = xsc_offloader_dump(h, &dump, &dump_len)) != XSC_OK || !dump) {
        rc = fail("dump: %s: %s", xsc_strerror(r0), xsc_last_error());
        goto out;
    }
    if (strlen(dump) != dump_len) {
        rc = fail("dump length %zu, strlen %zu", dump_len, strlen(dump));
        goto out;
    }
    for (const char *p = dump; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl || strncmp(p, "ufid:", 5) || !strstr(p, "offloaded:yes")) {
            rc = fail("dump line %zu is not a dump-flows -m line: %.*s", dump_lines + 1,
                      (int) (nl ? nl - p : (long) strlen(p)), p);
            goto out;
        }
        dump_lines++;
        p = nl + 1;
    }
    xsc_string_free(dump);
    dump = NULL;
    if ((long long) dump_lines != tally[XSC_STATE_OFFLOADED]) {
        rc = fail("%zu dump lines for %lld offloaded flows", dump_lines,
                  tally[XSC_STATE_OFFLOADED]);
        goto out;
    }

    /* What the caller expected. */
    const struct { const char *name; long long want, got; } checks[] = {
        { "offloaded", expect.offloaded, tally[XSC_STATE_OFFLOADED] },
        { "rejected", expect.rejected, tally[XSC_STATE_REJECTED] },
        { "failed", expect.failed, tally[XSC_STATE_FAILED] },
        { "conns_offloaded", expect.conns_offloaded, ct_tally[XSC_STATE_OFFLOADED] },
        { "conns_rejected", expect.conns_rejected, ct_tally[XSC_STATE_REJECTED] },
        { "conns_failed", expect.conns_failed, ct_tally[XSC_STATE_FAILED] },
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (checks[i].want >= 0 && checks[i].want != checks[i].got) {
            rc = fail("%s: expected %lld, got %lld", checks[i].name, checks[i].want,
                      checks[i].got);
            goto out;
        }
    }

    /* Delete everything: nothing is left, in the cache or on the device. */
    for (size_t i = 0; i < n_flows; i++) {
        int r;
        SUBMIT(r, h, xsc_flow_del(h, flows[i].ufid));
        if (r != XSC_OK) {
            rc = fail("del of flow %zu: %s: %s", i, xsc_strerror(r), xsc_last_error());
            goto out;
        }
    }
    for (size_t i = 0; i < n_conns; i++) {
        int r;
        SUBMIT(r, h, xsc_ct_del(h, conns[i].line, strlen(conns[i].line)));
        if (r != XSC_OK) {
            rc = fail("ct_del of line %zu: %s: %s", i + 1, xsc_strerror(r), xsc_last_error());
            goto out;
        }
    }
    xsc_offloader_wait(h);
    for (size_t i = 0; i < n_flows; i++) {
        int s = xsc_flow_get(h, flows[i].ufid, NULL, 0);
        if (s != XSC_ENOENT) {
            rc = fail("flow %zu after its delete: %d (%s)", i, s, xsc_strerror(s));
            goto out;
        }
    }
    for (size_t i = 0; i < n_conns; i++) {
        int s = xsc_ct_get(h, conns[i].line, strlen(conns[i].line), NULL, 0);
        if (s != XSC_ENOENT) {
            rc = fail("connection %zu after its delete: %d (%s)", i + 1, s, xsc_strerror(s));
            goto out;
        }
    }
    if ((r0 = xsc_offloader_counts(h, &counts)) != XSC_OK) {
        rc = fail("counts: %s: %s", xsc_strerror(r0), xsc_last_error());
        goto out;
    }
    uint64_t live_after_delete = counts.live_rules;
    if (counts.offloaded || counts.rejected || counts.failed || counts.conns_offloaded
        || counts.conns_rejected || counts.conns_failed) {
        rc = fail("flows or connections counted after deleting all of them");
        goto out;
    }
    int fr = xsc_offloader_flush(h);
    if (fr != XSC_OK) {
        rc = fail("flush: %s: %s", xsc_strerror(fr), xsc_last_error());
        goto out;
    }
    if (xsc_offloader_counts(h, &counts) != XSC_OK || counts.live_rules) {
        rc = fail("%" PRIu64 " rules left after flush", counts.live_rules);
        goto out;
    }
    xsc_offloader_destroy(h);
    h = NULL;

#ifdef WITH_DPDK
    if (use_dpdk && !rte_eth_dev_is_valid_port(0)) {
        rc = fail("destroying the offloader closed the host's port 0");
        goto out;
    }
#endif

    printf("ovs_provider: device=%s flows=%zu offloaded=%lld rejected=%lld failed=%lld "
           "conns=%zu/%lld/%lld/%lld dump_lines=%zu live_rules_after_delete=%" PRIu64
           " live_rules_after_flush=0: ok\n",
           use_dpdk ? "dpdk" : "eswitch", n_flows, tally[XSC_STATE_OFFLOADED],
           tally[XSC_STATE_REJECTED], tally[XSC_STATE_FAILED], n_conns,
           ct_tally[XSC_STATE_OFFLOADED], ct_tally[XSC_STATE_REJECTED],
           ct_tally[XSC_STATE_FAILED], dump_lines, live_after_delete);
    rc = 0;

out:
    xsc_string_free(dump);
    xsc_offloader_destroy(h);
#ifdef WITH_DPDK
    if (use_dpdk) {
        rte_eal_cleanup();
    }
#endif
    for (size_t i = 0; i < n_conns; i++) {
        free(conns[i].line);
    }
    free(conns);
    free(ct_text);
    free(flows);
    free(flows_buf);
    return rc;
}
