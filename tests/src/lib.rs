//! Helpers shared by the framex cross-crate tests.
