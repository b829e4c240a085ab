//! The integration tests, one binary (the crate is linked once): each
//! module drives the real router or the real command, on SQLite and, with
//! `NEWSFEED_TEST_DATABASE_URL`, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

mod api;
mod calendars;
mod cli;
mod federation;
mod feeds;
mod mail;
mod media;
mod syndication;
mod translations;
mod web;
