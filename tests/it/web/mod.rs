//! The web pages through the real router, as a browser without JavaScript
//! uses them: cookies, forms with their CSRF token, redirects.

pub mod support;

mod account_links;
mod accounts;
mod admin;
mod admin_links;
mod areas;
mod calendar;
mod calendars;
mod drafts;
mod embed;
mod group_defaults;
mod hostile_numbers;
mod messages;
mod moderation;
mod moderator_edits;
mod my_entries;
mod pictures;
mod public;
mod search;
mod signed_in;
mod translations;
mod where_it_appears;
