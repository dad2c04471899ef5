//! xsc-offload: the C ABI an OVS-DPDK offload provider links, and the CLI.
