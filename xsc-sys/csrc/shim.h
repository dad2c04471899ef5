/*
 * xsc-sys C shim: DPDK's static-inline functions and macros, as real symbols
 * Rust can call. Each function does exactly what the DPDK function of the
 * same name (without the xsc_ prefix) does; nothing more.
 */
#ifndef XSC_SHIM_H
#define XSC_SHIM_H

#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

/* rte_errno of the calling thread. */
int xsc_errno(void);
void xsc_set_errno(int value);

/* rte_lcore_id(): LCORE_ID_ANY (UINT32_MAX) on threads EAL did not start. */
unsigned int xsc_lcore_id(void);

uint16_t xsc_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts, uint16_t nb_pkts);
uint16_t xsc_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts, uint16_t nb_pkts);

struct rte_mbuf *xsc_pktmbuf_alloc(struct rte_mempool *mp);
void xsc_pktmbuf_free(struct rte_mbuf *m);
/* Returns the start of the appended room, or NULL when the tailroom is too small. */
char *xsc_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
/* rte_pktmbuf_mtod(m, void *): the first data byte of the first segment. */
void *xsc_pktmbuf_mtod(struct rte_mbuf *m);
uint16_t xsc_pktmbuf_data_len(const struct rte_mbuf *m);
uint32_t xsc_pktmbuf_pkt_len(const struct rte_mbuf *m);
uint16_t xsc_pktmbuf_nb_segs(const struct rte_mbuf *m);
/* rte_pktmbuf_read(): copies [off, off+len) of a possibly segmented packet into buf
 * (or returns a pointer into the mbuf when contiguous); NULL when out of range. */
const void *xsc_pktmbuf_read(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf);
uint64_t xsc_pktmbuf_ol_flags(const struct rte_mbuf *m);
void xsc_pktmbuf_set_ol_flags(struct rte_mbuf *m, uint64_t flags);

/* rte_flow's mbuf dynamic field for META/SET_META (rte_flow_dynf_metadata_*). */
int xsc_flow_dynf_metadata_avail(void);
uint32_t xsc_flow_dynf_metadata_get(struct rte_mbuf *m);
/* Sets the value and the TX metadata flag, as an application must before tx. */
void xsc_flow_dynf_metadata_set(struct rte_mbuf *m, uint32_t value);
/* The RX flag that says the PMD delivered metadata with the packet. */
uint64_t xsc_flow_dynf_metadata_rx_flag(void);

/* Size and alignment of a DPDK struct as the C compiler lays it out, for the
 * layout tests that hold bindgen's view against the compiler's. */
struct xsc_layout {
	const char *name;
	size_t size;
	size_t align;
};
/* A table of *count entries that lives for the whole process. */
const struct xsc_layout *xsc_layouts(size_t *count);

/* Offset and size of a member DPDK moved between releases, as the C compiler
 * of this DPDK's headers lays it out ("rte_flow_action_modify_field.dst.tag"
 * is `dst.level` up to 23.03, `dst.tag_index` from 23.07), for the tests
 * that hold rte::lower's bytes against the release it was built for. */
struct xsc_member {
	const char *name;
	size_t offset;
	size_t size;
};
/* A table of *count entries that lives for the whole process. */
const struct xsc_member *xsc_members(size_t *count);

#endif
