//! The fediverse's rules, without HTTP or a database: HTTP signatures
//! (draft-cavage, as Mastodon speaks them), which addresses we may fetch
//! from, and the shapes of the ActivityPub documents we publish.

pub mod address;
pub mod documents;
pub mod signature;
