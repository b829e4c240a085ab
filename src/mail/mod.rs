//! Mail: what each message says (askama templates in `templates/mail/`,
//! plain text with an HTML alternative), how it goes out (SMTP through
//! lettre, or the log), and the worker that sends the outbox.
//!
//! The services use [`templates`] and implement [`queue::MailQueue`];
//! [`transport`] and [`worker`] are infrastructure, started from `state.rs`.

pub mod queue;
pub mod templates;
pub mod transport;
pub mod worker;
