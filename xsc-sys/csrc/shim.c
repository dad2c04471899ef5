/* See shim.h. Compiled with DPDK's own cflags (-include rte_config.h, -march). */
#include "shim.h"

#include <stdalign.h>
#include <stddef.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_version.h>

int xsc_errno(void) { return rte_errno; }

void xsc_set_errno(int value) { rte_errno = value; }

unsigned int xsc_lcore_id(void) { return rte_lcore_id(); }

uint16_t xsc_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts, uint16_t nb_pkts)
{
	return rte_eth_rx_burst(port_id, queue_id, rx_pkts, nb_pkts);
}

uint16_t xsc_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	return rte_eth_tx_burst(port_id, queue_id, tx_pkts, nb_pkts);
}

struct rte_mbuf *xsc_pktmbuf_alloc(struct rte_mempool *mp) { return rte_pktmbuf_alloc(mp); }

void xsc_pktmbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }

char *xsc_pktmbuf_append(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_append(m, len); }

void *xsc_pktmbuf_mtod(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, void *); }

uint16_t xsc_pktmbuf_data_len(const struct rte_mbuf *m) { return rte_pktmbuf_data_len(m); }

uint32_t xsc_pktmbuf_pkt_len(const struct rte_mbuf *m) { return rte_pktmbuf_pkt_len(m); }

uint16_t xsc_pktmbuf_nb_segs(const struct rte_mbuf *m) { return m->nb_segs; }

const void *xsc_pktmbuf_read(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf)
{
	return rte_pktmbuf_read(m, off, len, buf);
}

uint64_t xsc_pktmbuf_ol_flags(const struct rte_mbuf *m) { return m->ol_flags; }

void xsc_pktmbuf_set_ol_flags(struct rte_mbuf *m, uint64_t flags) { m->ol_flags = flags; }

int xsc_flow_dynf_metadata_avail(void) { return rte_flow_dynf_metadata_avail(); }

uint32_t xsc_flow_dynf_metadata_get(struct rte_mbuf *m) { return rte_flow_dynf_metadata_get(m); }

void xsc_flow_dynf_metadata_set(struct rte_mbuf *m, uint32_t value)
{
	rte_flow_dynf_metadata_set(m, value);
	m->ol_flags |= RTE_MBUF_DYNFLAG_TX_METADATA;
}

uint64_t xsc_flow_dynf_metadata_rx_flag(void) { return RTE_MBUF_DYNFLAG_RX_METADATA; }

#define LAYOUT(type) { #type, sizeof(struct type), alignof(struct type) }

static const struct xsc_layout layouts[] = {
	LAYOUT(rte_flow_attr),
	LAYOUT(rte_flow_item),
	LAYOUT(rte_flow_action),
	LAYOUT(rte_flow_error),
	LAYOUT(rte_flow_query_count),
	LAYOUT(rte_flow_item_eth),
	LAYOUT(rte_flow_item_vlan),
	LAYOUT(rte_flow_item_ipv4),
	LAYOUT(rte_flow_item_ipv6),
	LAYOUT(rte_flow_item_tcp),
	LAYOUT(rte_flow_item_udp),
	LAYOUT(rte_flow_item_sctp),
	LAYOUT(rte_flow_item_icmp),
	LAYOUT(rte_flow_item_icmp6),
	LAYOUT(rte_flow_item_icmp6_nd_ns),
	LAYOUT(rte_flow_item_icmp6_nd_na),
	LAYOUT(rte_flow_item_arp_eth_ipv4),
	LAYOUT(rte_flow_item_tag),
	LAYOUT(rte_flow_item_meta),
	LAYOUT(rte_flow_item_mark),
	LAYOUT(rte_flow_item_ethdev),
	LAYOUT(rte_flow_item_vxlan),
	LAYOUT(rte_flow_item_geneve),
	LAYOUT(rte_flow_item_ipv6_frag_ext),
	LAYOUT(rte_flow_action_jump),
	LAYOUT(rte_flow_action_mark),
	LAYOUT(rte_flow_action_queue),
	LAYOUT(rte_flow_action_count),
	LAYOUT(rte_flow_action_set_tag),
	LAYOUT(rte_flow_action_set_meta),
	LAYOUT(rte_flow_action_ethdev),
	LAYOUT(rte_flow_action_modify_field),
	LAYOUT(rte_flow_action_raw_encap),
	LAYOUT(rte_flow_action_raw_decap),
	LAYOUT(rte_flow_action_of_push_vlan),
	LAYOUT(rte_flow_action_of_set_vlan_vid),
	LAYOUT(rte_flow_action_of_set_vlan_pcp),
	LAYOUT(rte_flow_action_set_ipv4),
	LAYOUT(rte_flow_action_set_ipv6),
	LAYOUT(rte_flow_action_set_tp),
	LAYOUT(rte_flow_action_set_mac),
	LAYOUT(rte_flow_action_set_ttl),
	LAYOUT(rte_flow_action_set_dscp),
	LAYOUT(rte_flow_action_sample),
	LAYOUT(rte_flow_port_info),
	LAYOUT(rte_flow_queue_info),
	LAYOUT(rte_flow_port_attr),
	LAYOUT(rte_flow_queue_attr),
	LAYOUT(rte_flow_pattern_template_attr),
	LAYOUT(rte_flow_actions_template_attr),
	LAYOUT(rte_flow_template_table_attr),
	LAYOUT(rte_flow_op_attr),
	LAYOUT(rte_flow_op_result),
	LAYOUT(rte_eth_conf),
	LAYOUT(rte_eth_dev_info),
	LAYOUT(rte_eth_stats),
};

const struct xsc_layout *xsc_layouts(size_t *count)
{
	*count = sizeof(layouts) / sizeof(layouts[0]);
	return layouts;
}

#define MEMBER(name, type, member) \
	{ name, offsetof(struct type, member), sizeof(((struct type *)0)->member) }

static const struct xsc_member members[] = {
#if RTE_VERSION >= RTE_VERSION_NUM(23, 7, 0, 0)
	/* 23.07 split the u32 `level` into u8 level + u8 tag_index. */
	MEMBER("modify_field.dst.level", rte_flow_action_modify_field, dst.level),
	MEMBER("modify_field.dst.tag", rte_flow_action_modify_field, dst.tag_index),
	MEMBER("modify_field.src.level", rte_flow_action_modify_field, src.level),
	MEMBER("modify_field.src.tag", rte_flow_action_modify_field, src.tag_index),
#else
	/* 22.11 carries the TAG index in `level`. */
	MEMBER("modify_field.dst.level", rte_flow_action_modify_field, dst.level),
	MEMBER("modify_field.dst.tag", rte_flow_action_modify_field, dst.level),
	MEMBER("modify_field.src.level", rte_flow_action_modify_field, src.level),
	MEMBER("modify_field.src.tag", rte_flow_action_modify_field, src.level),
#endif
	MEMBER("modify_field.dst.offset", rte_flow_action_modify_field, dst.offset),
	MEMBER("modify_field.src.offset", rte_flow_action_modify_field, src.offset),
	MEMBER("modify_field.width", rte_flow_action_modify_field, width),
	MEMBER("item_ipv6.hdr.src_addr", rte_flow_item_ipv6, hdr.src_addr),
	MEMBER("item_ipv6.hdr.dst_addr", rte_flow_item_ipv6, hdr.dst_addr),
};

const struct xsc_member *xsc_members(size_t *count)
{
	*count = sizeof(members) / sizeof(members[0]);
	return members;
}
