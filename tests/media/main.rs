//! Entry pictures through the real router: uploads of real image bytes made
//! here, the refusals, serving, and the sweep.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod bounds;
mod images;
mod pictures;
