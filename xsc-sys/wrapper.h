/* Everything bindgen sees. Parsed with DPDK's own cflags and -DALLOW_EXPERIMENTAL_API. */
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_dev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_ring.h>
#include <rte_eth_ring.h>

#include "shim.h"
#include "consts.h"
