//! WebAssembly bindings of framex-core (work in progress).
#![forbid(unsafe_code)]
