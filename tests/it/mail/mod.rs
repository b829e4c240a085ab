//! Mail through a real SMTP server (aiosmtpd, started by each test on loopback).

mod access;
mod account;
mod delivery;
mod queue;
mod site;
pub mod smtp;
