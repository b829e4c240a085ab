//! One entry in several languages: translations stored, validated and
//! reviewed like the main texts, and readers given the text of their
//! language wherever the entry reaches them.

mod api;
mod feeds;
mod pages;
