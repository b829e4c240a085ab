//! `/metrics` in the Prometheus text format: requests and latency per route
//! template and status (labels are bounded: templates, not raw paths), and,
//! read at scrape time, the moderation queue, the feed snapshot, logins,
//! limits and password checks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::{Endpoint, IntoResponse, Request, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use crate::domain::audience::MAJOR_LABELS;
use crate::feeds::FeedHub;
use crate::routes::Routes;
use crate::server::ConnectionStats;
use crate::service::Services;
use crate::service::outbox::OutboxCounts;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: Arc<str>,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MajorLabels {
    major: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TimeoutLabels {
    timeout: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Arc<str>,
}

/// Seconds: from a tenth of a millisecond (a cached feed) to ten seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.0, 10.0,
];

/// A latency histogram of atomics: observing takes no lock, so the feeds,
/// answered by the hundred thousand a second, never wait on each other.
#[derive(Clone, Debug, Default)]
pub struct LatencyHistogram(Arc<LatencyCounts>);

#[derive(Debug, Default)]
struct LatencyCounts {
    /// Per bucket of [`LATENCY_BUCKETS`], then one for slower answers.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl LatencyHistogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        let counts = &self.0;
        counts.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        counts.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        counts.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let counts = &self.0;
        let buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(&counts.buckets)
            .map(|(bound, count)| (bound, count.load(Ordering::Relaxed)))
            .collect();
        // Precision: nanoseconds summed as integers, read out as seconds.
        #[allow(clippy::cast_precision_loss)]
        let sum = counts.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(
            sum,
            counts.count.load(Ordering::Relaxed),
            &buckets,
            None,
        )
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// One route's counters, taken from the families once so that counting a
/// request is an atomic add (the feeds' answers: 200 and 304; any other
/// status is looked up in the family).
pub struct RouteMeter {
    route: Arc<str>,
    duration: LatencyHistogram,
    ok: Counter,
    not_modified: Counter,
}

impl RouteMeter {
    pub fn observe(&self, metrics: &Metrics, status: u16, started: Instant) {
        self.duration.observe(started.elapsed());
        match status {
            200 => {
                self.ok.inc();
            }
            304 => {
                self.not_modified.inc();
            }
            _ => metrics.count(self.route.clone(), "GET", status),
        }
    }
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, LatencyHistogram>,
    routes: Arc<Routes>,
    other: Arc<str>,
    /// Counted in the database when scraped.
    scraped: Arc<Mutex<Scraped>>,
}

impl Metrics {
    pub fn new(
        routes: Arc<Routes>,
        services: Arc<Services>,
        feeds: Arc<FeedHub>,
        connections: Arc<ConnectionStats>,
    ) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, LatencyHistogram>::default();
        registry.register(
            "newsfeed_http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "newsfeed_http_request_duration_seconds",
            "Time to answer, by route template",
            durations.clone(),
        );
        let scraped = Arc::new(Mutex::new(Scraped::default()));
        registry.register_collector(Box::new(ServiceCollector {
            services,
            feeds,
            connections,
            scraped: scraped.clone(),
        }));
        Self {
            registry,
            requests,
            durations,
            routes,
            other: "other".into(),
            scraped,
        }
    }

    fn route(&self, path: &str) -> Arc<str> {
        self.routes.template(path).unwrap_or(&self.other).clone()
    }

    /// Counts one answered request.
    pub fn observe(
        &self,
        route: Arc<str>,
        method: &poem::http::Method,
        status: u16,
        started: Instant,
    ) {
        let method = match *method {
            poem::http::Method::GET => "GET",
            poem::http::Method::HEAD => "HEAD",
            poem::http::Method::POST => "POST",
            poem::http::Method::PATCH => "PATCH",
            poem::http::Method::PUT => "PUT",
            poem::http::Method::DELETE => "DELETE",
            poem::http::Method::OPTIONS => "OPTIONS",
            _ => "OTHER",
        };
        self.durations
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(started.elapsed());
        self.count(route, method, status);
    }

    fn count(&self, route: Arc<str>, method: &'static str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// The counters of GETs of `route`, to count its requests without a
    /// look-up (see [`RouteMeter`]).
    pub fn meter(&self, route: Arc<str>) -> RouteMeter {
        let counter = |status| {
            self.requests
                .get_or_create(&RequestLabels {
                    route: route.clone(),
                    method: "GET",
                    status,
                })
                .clone()
        };
        RouteMeter {
            duration: self
                .durations
                .get_or_create(&RouteLabels {
                    route: route.clone(),
                })
                .clone(),
            ok: counter(200),
            not_modified: counter(304),
            route,
        }
    }

    /// The text exposition, with the queue length counted just now.
    pub async fn render(&self, services: &Services) -> crate::AppResult<String> {
        let pending = crate::service::entries::pending_count(services).await?;
        let outbox = crate::service::outbox::counts(services).await?;
        let deliveries = crate::service::federation::queue::backlog(services).await?;
        if let Ok(mut scraped) = self.scraped.lock() {
            *scraped = Scraped {
                pending: i64::try_from(pending).unwrap_or(i64::MAX),
                outbox,
                deliveries,
            };
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|error| crate::AppError::internal("cannot encode metrics", error))?;
        Ok(text)
    }
}

/// What a scrape counts in the database.
#[derive(Default)]
struct Scraped {
    /// Entries waiting for a moderator.
    pending: i64,
    outbox: OutboxCounts,
    /// Deliveries waiting, and when the oldest of them was queued.
    deliveries: (u64, Option<i64>),
}

/// Values that live elsewhere, read at each scrape.
struct ServiceCollector {
    services: Arc<Services>,
    feeds: Arc<FeedHub>,
    connections: Arc<ConnectionStats>,
    scraped: Arc<Mutex<Scraped>>,
}

impl std::fmt::Debug for ServiceCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceCollector")
    }
}

fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> std::fmt::Result {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> std::fmt::Result {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// A counter with one value per label set.
fn labelled_counter<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    values: impl IntoIterator<Item = (L, u64)>,
) -> std::fmt::Result {
    let mut family = encoder.encode_descriptor(
        name,
        help,
        None,
        prometheus_client::metrics::MetricType::Counter,
    )?;
    for (labels, value) in values {
        ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for ServiceCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        self.encode_work(&mut encoder)?;
        self.encode_deliveries(&mut encoder)?;
        self.encode_feeds(&mut encoder)?;
        self.encode_connections(&mut encoder)
    }
}

fn read(value: &std::sync::atomic::AtomicU64) -> u64 {
    value.load(Ordering::Relaxed)
}

impl ServiceCollector {
    /// What waits for people and for the mail worker.
    fn encode_work(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        let (pending, outbox) = match self.scraped.lock() {
            Ok(scraped) => (scraped.pending, scraped.outbox.clone()),
            Err(_) => (0, OutboxCounts::default()),
        };
        gauge(
            encoder,
            "newsfeed_moderation_pending",
            "Entries waiting for a moderator",
            pending,
        )?;
        let mail = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        gauge(
            encoder,
            "newsfeed_mail_waiting",
            "Mail in the outbox waiting to be sent (or retried)",
            mail(outbox.pending),
        )?;
        gauge(
            encoder,
            "newsfeed_mail_failed",
            "Mail given up after its retries",
            mail(outbox.failed),
        )?;
        gauge(
            encoder,
            "newsfeed_mail_sent",
            "Mail delivered to the SMTP server (kept in the outbox)",
            mail(outbox.sent + outbox.logged),
        )?;
        counter(
            encoder,
            "newsfeed_mail_worker_rounds",
            "Rounds of the mail worker (each looks for due mail and sends it)",
            read(&self.services.counters.mail_rounds),
        )
    }

    /// Requests to other servers: fediverse deliveries and WebSub pings.
    fn encode_deliveries(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        let (waiting, oldest) = match self.scraped.lock() {
            Ok(scraped) => scraped.deliveries,
            Err(_) => (0, None),
        };
        let deliveries = &self.services.deliveries;
        let outcomes = ["done", "retried", "failed", "dropped"];
        let values = ["activitypub", "websub", "syndication"]
            .into_iter()
            .zip(&deliveries.outcomes)
            .flat_map(|(kind, counts)| {
                outcomes
                    .into_iter()
                    .zip(counts)
                    .map(move |(outcome, count)| (DeliveryLabels { kind, outcome }, read(count)))
            });
        labelled_counter(
            encoder,
            "newsfeed_deliveries",
            "Attempts to deliver to other servers, by kind and outcome",
            values,
        )?;
        gauge(
            encoder,
            "newsfeed_deliveries_waiting",
            "Deliveries queued and not yet done",
            i64::try_from(waiting).unwrap_or(i64::MAX),
        )?;
        gauge(
            encoder,
            "newsfeed_deliveries_oldest_age_seconds",
            "Seconds since the oldest waiting delivery was queued (0 when none waits)",
            oldest.map_or(0, |queued| self.services.now() - queued),
        )?;
        counter(
            encoder,
            "newsfeed_fediverse_followers_dropped",
            "Followers dropped because their inbox failed for days",
            read(&deliveries.followers_dropped),
        )?;
        counter(
            encoder,
            "newsfeed_delivery_worker_rounds",
            "Rounds of the delivery worker",
            read(&deliveries.rounds),
        )
    }

    /// The feed snapshot and who reads it.
    fn encode_feeds(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        let snapshot = self.feeds.snapshot();
        let now = self.services.now();
        let live = snapshot
            .items
            .iter()
            .filter(|item| item.is_live(snapshot.built_at))
            .count();
        gauge(
            encoder,
            "newsfeed_feed_snapshot_age_seconds",
            "Seconds since the feed snapshot was built",
            now - snapshot.built_at,
        )?;
        gauge(
            encoder,
            "newsfeed_feed_live_entries",
            "Entries published right now",
            i64::try_from(live).unwrap_or(i64::MAX),
        )?;
        counter(
            encoder,
            "newsfeed_feed_rebuilds",
            "Feed snapshot rebuilds",
            read(&self.feeds.rebuilds),
        )?;
        let micros = read(&self.feeds.rebuild_micros);
        let metric = ConstCounter::new(micros as f64 / 1e6);
        metric.encode(encoder.encode_descriptor(
            "newsfeed_feed_rebuild_duration_seconds",
            "Time spent rebuilding the feed snapshot",
            None,
            metric.metric_type(),
        )?)?;
        let audience = &self.feeds.audience;
        labelled_counter(
            encoder,
            "newsfeed_feed_qgis_requests",
            "Requests to / from QGIS, by major QGIS version",
            MAJOR_LABELS
                .iter()
                .zip(&audience.by_major)
                .map(|(major, count)| (MajorLabels { major }, read(count))),
        )?;
        counter(
            encoder,
            "newsfeed_feed_stats_flushes",
            "Additions of the audience counters to the database",
            read(&audience.flushes),
        )?;
        counter(
            encoder,
            "newsfeed_feed_stats_rows_written",
            "Rows (day, dimension, value) those additions wrote",
            read(&audience.rows_written),
        )
    }

    /// Logins, limits, connections and password checks.
    fn encode_connections(&self, encoder: &mut DescriptorEncoder) -> std::fmt::Result {
        let counters = &self.services.counters;
        counter(
            encoder,
            "newsfeed_login_failures",
            "Logins refused for a wrong email or password",
            read(&counters.login_failures),
        )?;
        counter(
            encoder,
            "newsfeed_rate_limited",
            "Requests refused by an attempt limit (429)",
            read(&counters.rate_limited),
        )?;
        counter(
            encoder,
            "newsfeed_db_statements",
            "SQL statements sent to the database",
            read(&counters.db_statements),
        )?;
        let connections = &self.connections;
        gauge(
            encoder,
            "newsfeed_connections_open",
            "HTTP connections open",
            i64::try_from(read(&connections.open)).unwrap_or(i64::MAX),
        )?;
        counter(
            encoder,
            "newsfeed_connections_refused",
            "Connections answered 503 and closed because --max-connections were open",
            read(&connections.refused),
        )?;
        labelled_counter(
            encoder,
            "newsfeed_connections_timed_out",
            "Connections closed by a timeout: `header_read` (a request head too slow) or `idle` (kept alive, unused)",
            [
                ("header_read", &connections.header_timeouts),
                ("idle", &connections.idle_timeouts),
            ]
            .map(|(timeout, count)| (TimeoutLabels { timeout }, read(count))),
        )?;
        gauge(
            encoder,
            "newsfeed_password_checks_queued",
            "Password checks running or waiting for a core",
            i64::try_from(self.services.passwords.queued()).unwrap_or(i64::MAX),
        )
    }
}

/// Middleware: counts every request by route template, method and status,
/// and writes the access log line (target `newsfeed::access`, off by default).
pub async fn count_requests<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    metrics: Arc<Metrics>,
) -> poem::Result<Response> {
    let started = Instant::now();
    let route = metrics.route(request.uri().path());
    let method = request.method().clone();
    let access_log = tracing::enabled!(target: "newsfeed::access", tracing::Level::INFO);
    let path = access_log.then(|| request.uri().to_string());
    let response = endpoint.call(request).await?.into_response();
    let status = response.status().as_u16();
    if let Some(path) = path {
        tracing::info!(
            target: "newsfeed::access",
            %method,
            path,
            status,
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
    }
    metrics.observe(route, &method, status, started);
    Ok(response)
}
