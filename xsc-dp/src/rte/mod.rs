//! Owned rte_flow rules: the exact C arrays DPDK receives.
