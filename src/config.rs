//! All runtime settings in one struct, read from flags and `NEWSFEED_*` env vars.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::domain::net::Cidr;

/// Settings for `newsfeed serve` (and the app that tests build).
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "NEWSFEED_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "NEWSFEED_DATABASE_URL",
        default_value = "sqlite://newsfeed.db?mode=rwc"
    )]
    pub database_url: String,

    /// Secret that signs login tokens (HS256). Required with `--production`.
    #[arg(long, env = "NEWSFEED_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Secret that seals stored credentials (cross-posting accounts);
    /// default: derived from `--jwt-secret`. Changing it makes stored
    /// credentials unreadable (connect the accounts again).
    #[arg(long, env = "NEWSFEED_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,

    /// Refuse to start without explicit secrets.
    #[arg(long, env = "NEWSFEED_PRODUCTION", default_value_t = false)]
    pub production: bool,

    /// Public base URL, for absolute links in feeds, pages and mail
    /// (default: `http://` and the bind address, `localhost` for 0.0.0.0).
    #[arg(long, env = "NEWSFEED_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The site's name, in page titles' stead of the host and in every
    /// mail's subject and signature (default: the host of `--public-url`).
    #[arg(long, env = "NEWSFEED_SITE_NAME")]
    pub site_name: Option<String>,

    /// Lifetime of a login token, in seconds.
    #[arg(long, env = "NEWSFEED_TOKEN_TTL", default_value_t = 12 * 3600)]
    pub token_ttl: u64,

    /// How long a sign-in to the web pages lasts, in seconds.
    #[arg(long, env = "NEWSFEED_SESSION_TTL", default_value_t = 12 * 3600)]
    pub session_ttl: u64,

    /// Longest entry content, counted as plain-text characters.
    #[arg(long, env = "NEWSFEED_CONTENT_MAX_CHARS", default_value_t = 500)]
    pub content_max_chars: usize,

    /// Most items in the QGIS JSON feed and the other feeds.
    #[arg(long, env = "NEWSFEED_FEED_MAX_ITEMS", default_value_t = 20)]
    pub feed_max_items: usize,

    /// `Cache-Control: max-age` of feed responses, in seconds.
    #[arg(long, env = "NEWSFEED_FEED_MAX_AGE", default_value_t = 60)]
    pub feed_max_age: u32,

    /// How long an announcement is published when its editor sets no end, in days.
    #[arg(long, env = "NEWSFEED_ANNOUNCEMENT_DAYS", default_value_t = 10)]
    pub announcement_days: u32,

    /// How long an event or meetup without an end lasts, in hours.
    #[arg(long, env = "NEWSFEED_EVENT_DEFAULT_HOURS", default_value_t = 2)]
    pub event_default_hours: u32,

    /// How long feeds keep announcing retracted entries, in days.
    #[arg(long, env = "NEWSFEED_RETRACTION_DAYS", default_value_t = 90)]
    pub retraction_days: u32,

    /// Failed logins allowed per account from one client address in 15
    /// minutes; then that pair gets 429 until the window ends.
    #[arg(long, env = "NEWSFEED_LOGIN_ATTEMPTS", default_value_t = 10)]
    pub login_attempts: u32,

    /// Failed logins allowed per client address (any account) in 15 minutes.
    #[arg(long, env = "NEWSFEED_LOGIN_ATTEMPTS_PER_IP", default_value_t = 50)]
    pub login_attempts_per_ip: u32,

    /// Failed logins per account (from all addresses) in 15 minutes after
    /// which every further attempt for it is slowed down (never refused, so
    /// nobody can lock the owner out).
    #[arg(
        long,
        env = "NEWSFEED_LOGIN_ATTEMPTS_PER_ACCOUNT",
        default_value_t = 200
    )]
    pub login_attempts_per_account: u32,

    /// Password checks waiting for a free core beyond this many get 503.
    #[arg(long, env = "NEWSFEED_PASSWORD_QUEUE", default_value_t = 64)]
    pub password_queue: usize,

    /// Access requests accepted per IP and hour (the form is public).
    #[arg(long, env = "NEWSFEED_ACCESS_REQUESTS_PER_HOUR", default_value_t = 5)]
    pub access_requests_per_hour: u32,

    /// Behind a reverse proxy: take the client address for login rate limiting
    /// from the last `X-Forwarded-For` entry (the one the proxy appended).
    #[arg(long, env = "NEWSFEED_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Proxies (addresses or networks, comma-separated: `10.0.0.0/8,::1`)
    /// whose `X-Forwarded-For` names the client: read from the nearest hop
    /// back, skipping these proxies. Used for GeoIP and the attempt limits.
    #[arg(long, env = "NEWSFEED_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Cidr>,

    /// A MaxMind-format database (`GeoLite2-Country.mmdb`, `GeoLite2-City.mmdb`):
    /// the country of QGIS clients for the audience statistics and, when it
    /// has coordinates, their position for entries with a target area.
    #[arg(long, env = "NEWSFEED_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,

    /// Seconds between additions of the audience counters to the database
    /// (they are also added at shutdown); 0: only at shutdown.
    #[arg(long, env = "NEWSFEED_STATS_FLUSH_SECS", default_value_t = 60)]
    pub stats_flush_secs: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "NEWSFEED_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds a client has to send a whole request head, from its first
    /// byte (on a new connection, from the connect); then the connection is closed.
    #[arg(long, env = "NEWSFEED_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout: u64,

    /// Seconds a kept-alive connection may wait for its next request.
    #[arg(long, env = "NEWSFEED_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,

    /// Connections open at once; one more is answered 503 and closed.
    #[arg(long, env = "NEWSFEED_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// Threads that accept connections and answer the feeds, each with a
    /// runtime and a listener of `--bind` of its own (`SO_REUSEPORT`), as
    /// nginx's workers do; everything else still runs on the application's
    /// threads. 0: connections are served on the application's threads.
    /// One per core answers more feed requests a second but, where the
    /// clients share the cores, with a longer tail (see BENCHMARKS.md).
    #[arg(long, env = "NEWSFEED_HTTP_THREADS", default_value_t = 0)]
    pub http_threads: usize,

    /// Database connection pool size.
    #[arg(long, env = "NEWSFEED_DB_POOL", default_value_t = 8)]
    pub db_pool: u32,

    /// Where uploaded pictures are stored; default: `media/` beside the SQLite
    /// database file (or in the working directory on PostgreSQL).
    #[arg(long, env = "NEWSFEED_MEDIA_DIR")]
    pub media_dir: Option<PathBuf>,

    /// Largest accepted image upload, in bytes.
    #[arg(long, env = "NEWSFEED_IMAGE_MAX_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub image_max_bytes: usize,

    /// SMTP server for outgoing mail: `smtp://host:port` (plain),
    /// `smtp+starttls://user:pass@host:587`, `smtps://user:pass@host:465`.
    /// Without it mail is written to the log (and kept in the outbox).
    #[arg(long, env = "NEWSFEED_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of outgoing mail; default `newsfeed <noreply@HOST>` with the host of `--public-url`.
    #[arg(long, env = "NEWSFEED_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Send queued mail from this instance (`false` on instances that only serve).
    #[arg(long, env = "NEWSFEED_MAIL_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub mail_worker: bool,

    /// The site's own fediverse actor (`@newsfeed@HOST`, relaying every
    /// group): on by default; groups federate only when their owner turns it on.
    #[arg(long, env = "NEWSFEED_FEDERATION", default_value_t = true, action = clap::ArgAction::Set)]
    pub federation: bool,

    /// Let fediverse fetches and deliveries reach loopback and private
    /// addresses, and plain http (only for tests on one machine).
    #[arg(
        long,
        env = "NEWSFEED_FEDERATION_ALLOW_PRIVATE",
        default_value_t = false
    )]
    pub federation_allow_private: bool,

    /// Let calendar subscriptions fetch from loopback and private addresses,
    /// and plain http (only for tests on one machine).
    #[arg(long, env = "NEWSFEED_FETCH_ALLOW_PRIVATE", default_value_t = false)]
    pub fetch_allow_private: bool,

    /// Fetch the groups' subscribed calendars from this instance.
    #[arg(long, env = "NEWSFEED_CALENDAR_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub calendar_worker: bool,

    /// WebSub hubs told when a feed changes (repeatable, or comma-separated).
    #[arg(
        long = "websub-hub",
        env = "NEWSFEED_WEBSUB_HUB",
        value_delimiter = ','
    )]
    pub websub_hubs: Vec<String>,

    /// Send queued fediverse deliveries and WebSub pings from this instance.
    #[arg(long, env = "NEWSFEED_DELIVERY_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub delivery_worker: bool,
}

/// A secret setting: its `Debug` does not show it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_string()))
    }
}

impl Config {
    /// The secret stored credentials are sealed with: `--secret-key`, else `--jwt-secret`.
    pub fn sealing_secret(&self) -> Option<&str> {
        self.secret_key
            .as_ref()
            .map(|secret| secret.0.as_str())
            .or(self.jwt_secret.as_deref())
            .filter(|secret| !secret.is_empty())
    }

    /// What a connection may take of the server.
    pub fn connection_limits(&self) -> crate::server::Limits {
        crate::server::Limits {
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }

    /// The media directory: `--media-dir`, or `media/` beside a SQLite file.
    pub fn media_dir(&self) -> PathBuf {
        if let Some(dir) = &self.media_dir {
            return dir.clone();
        }
        let file = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|file| !file.is_empty() && !file.starts_with(':'));
        match file.and_then(|file| Path::new(file).parent()) {
            Some(parent) => parent.join("media"),
            None => PathBuf::from("media"),
        }
    }

    /// The sender address of outgoing mail.
    pub fn mail_from(&self) -> String {
        self.mail_from.clone().unwrap_or_else(|| {
            let host = self
                .public_host()
                .filter(|host| host.contains('.') && host.parse::<std::net::IpAddr>().is_err())
                .unwrap_or_else(|| "localhost".into());
            format!("newsfeed <noreply@{host}>")
        })
    }
}

impl Config {
    /// The public base URL without a trailing slash: `--public-url`, or
    /// derived from `--bind` so that links follow the port.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let bind = self
                    .bind
                    .replace("0.0.0.0:", "localhost:")
                    .replace("[::]:", "localhost:");
                format!("http://{bind}")
            }
        }
    }

    /// The host name of the public URL, when it has one.
    pub fn public_host(&self) -> Option<String> {
        url::Url::parse(&self.public_base_url())
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
    }

    /// What the site calls itself: `--site-name`, or the public host.
    pub fn site_name(&self) -> String {
        self.site_name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .or_else(|| self.public_host())
            .unwrap_or_else(|| self.public_base_url())
    }
}

impl Default for Config {
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        // One source of defaults: the clap attributes above (env vars still apply).
        Wrapper::parse_from(["newsfeed"]).config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_follows_the_bind_address() {
        let config = |bind: &str, public_url: Option<&str>| Config {
            bind: bind.into(),
            public_url: public_url.map(str::to_string),
            ..Config::default()
        };
        assert_eq!(
            config("127.0.0.1:9999", None).public_base_url(),
            "http://127.0.0.1:9999"
        );
        assert_eq!(
            config("0.0.0.0:80", None).public_base_url(),
            "http://localhost:80"
        );
        assert_eq!(
            config("0.0.0.0:80", Some("https://feed.qgis.org/")).public_base_url(),
            "https://feed.qgis.org"
        );
    }
}
