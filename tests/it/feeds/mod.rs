//! Black-box tests of the public feeds through the real router.

mod archive;
mod areas;
mod audience;
mod calendars;
mod compression;
mod corrections;
mod delivery;
mod filters;
mod formats;
mod front;
mod http;
mod injection;
mod mmdb;
mod qgis;
mod qgisfeed_parity;
pub mod support;
