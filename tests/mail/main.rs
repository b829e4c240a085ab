//! Mail through a real SMTP server (aiosmtpd, started by each test on loopback).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod access;
mod delivery;
mod queue;
mod smtp;
