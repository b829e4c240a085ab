//! Requests this service makes to other servers: fediverse fetches and
//! deliveries, WebSub pings, cross-posts. [`client`] guards where they may
//! go and signs them; [`syndication`] speaks each social network's API;
//! [`worker`] sends the durable queue the services keep (as the mail
//! worker sends the outbox).

pub mod client;
pub mod syndication;
pub mod worker;
