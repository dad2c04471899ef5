//! Compact per-flow storage of offloaded megaflows, and their `type=offloaded` dump lines.
