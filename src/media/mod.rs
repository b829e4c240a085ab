//! Pictures: the pipeline that turns an upload into the one JPEG we serve,
//! and the content-addressed store of those files. No database, no HTTP.

mod container;
pub mod pipeline;
pub mod store;

pub use pipeline::{ImageRefusal, Inspected, Picture, decode, inspect, process};
pub use store::MediaStore;
