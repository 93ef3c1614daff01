//! framex-executor (work in progress).
