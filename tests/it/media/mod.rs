//! Entry pictures through the real router: uploads of real image bytes made
//! here, the refusals, serving, and the sweep.

mod bounds;
pub mod images;
pub mod pictures;
