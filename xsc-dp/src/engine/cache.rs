//! The lock-free UFID cache.
