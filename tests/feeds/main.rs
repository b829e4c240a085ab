//! Black-box tests of the public feeds through the real router.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod archive;
mod compression;
mod formats;
mod http;
mod qgis;
mod support;
