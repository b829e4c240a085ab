//! Requests this service makes to other servers: fediverse fetches and
//! deliveries, WebSub pings. [`client`] guards where they may go and signs
//! them; [`worker`] sends the durable queue the services keep (as the mail
//! worker sends the outbox).

pub mod client;
pub mod worker;
