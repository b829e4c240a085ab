//! Black-box tests of the public feeds through the real router.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod archive;
mod areas;
mod audience;
mod calendars;
mod compression;
mod delivery;
mod formats;
mod http;
mod injection;
mod mmdb;
mod qgis;
mod support;
