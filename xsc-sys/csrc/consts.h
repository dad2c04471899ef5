/*
 * DPDK constants defined through function-like macros (RTE_BIT32, UINT16_MAX)
 * that bindgen cannot evaluate, restated as enumerators clang evaluates.
 * Seen by bindgen only (wrapper.h), after the DPDK headers.
 */
#ifndef XSC_CONSTS_H
#define XSC_CONSTS_H

enum xsc_eth_dev_flag {
	XSC_ETH_DEV_FLOW_OPS_THREAD_SAFE = RTE_ETH_DEV_FLOW_OPS_THREAD_SAFE,
	XSC_ETH_DEV_INTR_LSC = RTE_ETH_DEV_INTR_LSC,
	XSC_ETH_DEV_REPRESENTOR = RTE_ETH_DEV_REPRESENTOR,
};

enum xsc_eth_const {
	XSC_ETH_DEV_SWITCH_DOMAIN_ID_INVALID = RTE_ETH_DEV_SWITCH_DOMAIN_ID_INVALID,
	XSC_ETH_NAME_MAX_LEN = RTE_ETH_NAME_MAX_LEN,
};

#endif
