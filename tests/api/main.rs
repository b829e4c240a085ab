//! Black-box tests of the HTTP API through the real router.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod concurrency;
mod lifecycle;
mod openapi;
mod roles;
mod smoke;
mod support;
mod validation;
