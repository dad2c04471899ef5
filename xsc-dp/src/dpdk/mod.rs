//! Safe DPDK layer: EAL, ports, rte_flow (sync and template/async).
