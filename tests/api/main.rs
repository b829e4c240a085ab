//! Black-box tests of the HTTP API through the real router.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod lifecycle;
mod openapi;
mod roles;
mod smoke;
mod support;
