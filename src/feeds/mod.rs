//! What is live, held in memory and refreshed after every change and at the
//! next scheduled publish/expiry instant, so feeds never query the database
//! per request. Renderers turn the snapshot into bytes once per variant.

pub mod audience;
mod calendar;
mod entry_feed;
pub mod geoip;
mod http;
mod ics;
mod item;
mod params;
mod render;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::Notify;

pub use audience::Audience;
pub use entry_feed::{EntryDocument, EntryFeed};
pub use geoip::GeoIp;
pub use http::{Caching, Encoded, MIN_GZIP_BYTES, Rendered, plain_error};
pub use item::{Areas, CALENDAR_PAST_SECS, GroupInfo, Item, Localized, Position, Texts};
pub use params::{FeedFormat, FeedParams, FeedQuery, MAX_FEED_LIMIT, QgisQuery};
pub use render::{FeedRefusal, qgis_home};

use crate::Config;
use crate::clock::Clock;
use crate::domain::audience::{Key, day_of, is_qgis};
use crate::domain::geo::Point;
use crate::entities::{area, entry, group};

/// Longest the scheduler sleeps without a known instant: a safety net that also
/// moves the retention window and picks up changes made by other instances.
const MAX_SLEEP_SECS: i64 = 300;
/// Least time between reloads caused by requests for groups the snapshot
/// does not know, so made-up slugs cannot load the database.
const MISS_REFRESH_SECS: i64 = 5;
/// Rendered variants kept per snapshot; more are rendered on every request.
const MAX_CACHED_VARIANTS: usize = 256;
/// Later pages of the feeds (`before`) kept per snapshot, apart from the
/// other variants; each holds up to [`MAX_FEED_LIMIT`] entries.
const MAX_CACHED_PAGES: usize = 64;

/// The rows a snapshot is built from, as stored.
pub struct FeedRows {
    pub entries: Vec<entry::Model>,
    pub groups: Vec<group::Model>,
    /// The saved areas the entries' published revisions target.
    pub areas: Vec<area::Model>,
}

/// Which entries a snapshot needs besides those in the feed with no end:
/// those in the feed ending after `ended_after`, and those retracted after
/// `retracted_after` (Unix seconds).
#[derive(Clone, Copy, Debug)]
pub struct FeedWindow {
    pub ended_after: i64,
    pub retracted_after: i64,
}

/// Where the snapshot's rows come from: the services read them, and the
/// composition root hands the reader to the hub, so the feeds never query.
pub trait FeedSource: Send + Sync + 'static {
    fn load(
        &self,
        window: FeedWindow,
    ) -> Pin<Box<dyn Future<Output = Result<FeedRows, sea_orm::DbErr>> + Send + '_>>;
}

/// Settings the renderers need, copied from the config once.
#[derive(Debug)]
pub struct Settings {
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// Host of the public URL, for `tag:` ids and iCalendar UIDs.
    pub host: String,
    /// What the site calls itself (`--site-name`), for its pages.
    pub site_name: String,
    pub max_items: usize,
    pub max_age: u32,
    /// Headers of `/feed.*` and `/groups/{slug}/feed.*`.
    pub feed_caching: Caching,
    /// Headers of the QGIS array at `/` (which varies by User-Agent).
    pub home_caching: Caching,
    /// Headers of the start page: revalidated on every visit, so that an
    /// approval shows at once (a 304 while nothing changed).
    pub page_caching: Caching,
    pub retraction_secs: i64,
    /// Length of an event or meetup without an end.
    pub event_default_secs: i64,
    /// WebSub hubs the RSS and Atom feeds name (`--websub-hub`).
    pub websub_hubs: Vec<String>,
}

/// Entries that are live, scheduled, or recently expired or retracted, in
/// feed order (sticky first, then priority, then newest), with the groups
/// that may publish.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The instant liveness is judged at; the snapshot is rebuilt when it changes.
    pub built_at: i64,
    /// Latest change to anything in the snapshot, for `Last-Modified`.
    pub modified_at: i64,
    pub items: Vec<Item>,
    /// Groups that are not removed, by slug.
    pub groups: HashMap<String, Arc<GroupInfo>>,
    /// Next instant at which an item starts or stops being published.
    pub next_change: Option<i64>,
    /// Whether some live entry has a target area (only then is a client
    /// without `lat`/`lon` located by its address).
    pub has_areas: bool,
    cache: Variants,
    pages: Variants,
}

impl Snapshot {
    /// Entry `id` while it is live (what the public pages and embeds show).
    pub fn live_item(&self, id: i64) -> Option<&Item> {
        self.items
            .iter()
            .find(|item| item.id == id && item.is_live(self.built_at))
    }

    /// The variant cached under `key`, rendering (and gzip-compressing) it on
    /// a miss (at most [`MAX_CACHED_VARIANTS`] per snapshot).
    pub fn cached(&self, key: &str, render: impl FnOnce() -> Rendered) -> Arc<Rendered> {
        self.cache.get_or_render(key, MAX_CACHED_VARIANTS, render)
    }

    /// The same for later pages of the feeds (`before`), kept apart and
    /// fewer, so that walking the pages cannot crowd out the first ones.
    pub fn cached_page(&self, key: &str, render: impl FnOnce() -> Rendered) -> Arc<Rendered> {
        self.pages.get_or_render(key, MAX_CACHED_PAGES, render)
    }
}

/// Rendered variants by key. Reads take no lock: the map is replaced, not
/// changed, on the rare insert.
#[derive(Debug, Default)]
struct Variants(ArcSwap<HashMap<String, Arc<Rendered>>>);

impl Variants {
    /// The variant under `key`, rendered on a miss and kept while fewer
    /// than `room` are (else rendered again on every request).
    fn get_or_render(
        &self,
        key: &str,
        room: usize,
        render: impl FnOnce() -> Rendered,
    ) -> Arc<Rendered> {
        let has_room = {
            let cache = self.0.load();
            match cache.get(key) {
                Some(hit) => return hit.clone(),
                None => cache.len() < room,
            }
        };
        if !has_room {
            return Arc::new(render());
        }
        // Rendered and compressed outside the update; a concurrent miss of the
        // same key renders it too, and the first one stored wins.
        let rendered = Arc::new(render().with_gzip());
        let mut stored = rendered.clone();
        self.0.rcu(|cache| {
            let mut cache = HashMap::clone(cache);
            if cache.len() < room {
                stored = cache
                    .entry(key.to_string())
                    .or_insert_with(|| rendered.clone())
                    .clone();
            }
            cache
        });
        stored
    }
}

/// Builds a cache key in this thread's reused buffer and passes it to
/// `use_key`: the per-request path allocates no key.
pub fn with_key<T>(build: impl FnOnce(&mut String), use_key: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    KEY.with(|buffer| {
        // Taken out so that a nested call (none today) cannot panic.
        let mut key = buffer.take();
        key.clear();
        build(&mut key);
        let result = use_key(&key);
        buffer.replace(key);
        result
    })
}

pub struct FeedHub {
    snapshot: ArcSwap<Snapshot>,
    settings: Settings,
    source: Box<dyn FeedSource>,
    clock: Clock,
    /// Wakes the scheduler when a refresh may have brought an earlier instant.
    wake: Notify,
    /// Changes announced so far: a writer's change has generation n once it
    /// is committed and announced (see [`FeedHub::changed`]).
    requested: AtomicU64,
    /// Wakes the refresher when a change is announced.
    pending: Notify,
    /// The newest generation the snapshot has been rebuilt for (after a
    /// failed rebuild too: the writer is not kept waiting for it).
    covered: tokio::sync::watch::Sender<u64>,
    /// Serializes refreshes so an older read never replaces a newer snapshot.
    refreshing: tokio::sync::Mutex<()>,
    /// When a request for an unknown group last reloaded the snapshot.
    miss_refreshed_at: AtomicI64,
    /// Rebuilds so far, and the time they took in microseconds (for monitoring).
    pub rebuilds: AtomicU64,
    pub rebuild_micros: AtomicU64,
    /// Counters of QGIS requests to `/`.
    pub audience: Audience,
    geoip: Option<GeoIp>,
}

impl FeedHub {
    pub fn new(
        config: &Config,
        source: Box<dyn FeedSource>,
        clock: Clock,
        geoip: Option<GeoIp>,
    ) -> Self {
        let public_url = config.public_base_url();
        let host = config.public_host().unwrap_or_else(|| "localhost".into());
        Self {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            settings: Settings {
                public_url,
                host,
                site_name: config.site_name(),
                max_items: config.feed_max_items,
                max_age: config.feed_max_age,
                feed_caching: Caching::feed(config.feed_max_age, false),
                home_caching: Caching::feed(config.feed_max_age, true),
                page_caching: Caching::page(),
                retraction_secs: i64::from(config.retraction_days) * 86_400,
                event_default_secs: i64::from(config.event_default_hours) * 3600,
                websub_hubs: config.websub_hubs.clone(),
            },
            source,
            clock,
            wake: Notify::new(),
            requested: AtomicU64::new(0),
            pending: Notify::new(),
            covered: tokio::sync::watch::Sender::new(0),
            refreshing: tokio::sync::Mutex::new(()),
            miss_refreshed_at: AtomicI64::new(0),
            rebuilds: AtomicU64::new(0),
            rebuild_micros: AtomicU64::new(0),
            audience: Audience::default(),
            geoip,
        }
    }

    /// The hook of `GET /` for the JSON array: counts a QGIS request in the
    /// audience counters and, when the client sent no `lat`/`lon` and some
    /// live entry has a target area, places it where GeoIP says it is.
    /// Neither allocates nor touches the database; without a GeoIP
    /// database the client's address (`client_addr`, read from the request
    /// by the HTTP layer's rules) is not even asked for.
    pub fn observe(
        &self,
        agent: &str,
        client_addr: impl FnOnce() -> Option<std::net::IpAddr>,
        query: &mut QgisQuery,
    ) {
        let is_qgis = query.json && is_qgis(agent);
        let wants_point = query.point.is_none() && self.snapshot.load().has_areas;
        let located = match &self.geoip {
            Some(geoip) if is_qgis || wants_point => client_addr()
                .map(|address| geoip.locate(address))
                .unwrap_or_default(),
            _ => geoip::Located::default(),
        };
        if wants_point {
            query.point = located.point;
        }
        if let Some(key) = Key::of(
            agent,
            located.country(),
            query
                .languages
                .first()
                .as_ref()
                .and_then(|code| std::str::from_utf8(code).ok()),
        ) {
            self.audience.count(day_of(self.clock.now()), key);
        }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Reloads the snapshot from the rows the source reads (only what is
    /// in the feed or was retracted within the retention window, so the
    /// cost does not grow with the archive).
    pub async fn refresh(&self) -> Result<(), sea_orm::DbErr> {
        let _serial = self.refreshing.lock().await;
        let started = std::time::Instant::now();
        let now = self.clock.now();
        // Expired entries stay as long as retractions are announced, and
        // events as long as the calendars keep them after their end (the
        // window of an event ends with it).
        let window = FeedWindow {
            ended_after: now - self.settings.retraction_secs.max(CALENDAR_PAST_SECS),
            retracted_after: now - self.settings.retraction_secs,
        };
        let rows = self.source.load(window).await?;
        // Removed groups have no feeds and publish nothing (their entries were
        // retracted on removal); suspended ones cannot submit but what was
        // approved before stays published.
        let groups: HashMap<i64, Arc<GroupInfo>> = rows
            .groups
            .into_iter()
            .map(|group| (group.id, Arc::new(GroupInfo::from(group))))
            .collect();
        let areas = saved_areas(rows.areas);
        let entries = rows.entries;
        let snapshot = build(&self.settings, entries, groups, &areas, now);
        self.snapshot.store(Arc::new(snapshot));
        self.wake.notify_one();
        self.rebuilds.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.rebuild_micros.fetch_add(micros, Ordering::Relaxed);
        Ok(())
    }

    /// Announces a committed change and returns once a snapshot that holds
    /// it is served. Concurrent changes share rebuilds: the refresher
    /// rebuilds once for everything announced before it starts reading, so
    /// a hundred approvals at once cause a few rebuilds, not a hundred.
    pub async fn changed(&self) {
        let generation = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let mut covered = self.covered.subscribe();
        self.pending.notify_one();
        // Only the refresher's end (never, while the state lives) closes it.
        let _ = covered.wait_for(|done| *done >= generation).await;
    }

    /// The one task that rebuilds the snapshot for announced changes, until stopped.
    pub fn spawn_refresher(hub: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                hub.pending.notified().await;
                // Read before the rebuild reads the database: every change
                // counted here was committed before it.
                let generation = hub.requested.load(Ordering::SeqCst);
                if generation <= *hub.covered.borrow() {
                    continue;
                }
                hub.refresh_or_keep().await;
                hub.covered.send_replace(generation);
            }
        })
    }

    /// Reloads the snapshot; on failure the previous one keeps being served.
    pub async fn refresh_or_keep(&self) {
        if let Err(error) = self.refresh().await {
            tracing::error!(%error, "feed snapshot refresh failed; serving the previous one");
        }
    }

    /// The feed from the snapshot as it is (see [`FeedHub::feed`]).
    pub fn feed_now(
        &self,
        format: FeedFormat,
        query: FeedQuery,
        group: Option<&str>,
    ) -> Result<Arc<Rendered>, FeedRefusal> {
        render::feed(self, format, query, group)
    }

    /// A feed variant (`group` set for `/groups/{group}/feed.*`). Groups
    /// imported by another process (`newsfeed import-groups` on SQLite) do not
    /// tell the feeds, so a group the snapshot does not know reloads it first,
    /// at most every few seconds.
    pub async fn feed(
        &self,
        format: FeedFormat,
        query: FeedQuery,
        group: Option<&str>,
    ) -> Result<Arc<Rendered>, FeedRefusal> {
        match render::feed(self, format, query.clone(), group) {
            Err(refusal)
                if refusal.status == poem::http::StatusCode::NOT_FOUND
                    && self.claim_miss_refresh() =>
            {
                // Boxed: the rare refresh keeps its large future off the
                // per-request path.
                Box::pin(self.refresh_or_keep()).await;
                render::feed(self, format, query, group)
            }
            other => other,
        }
    }

    fn claim_miss_refresh(&self) -> bool {
        let now = self.clock.now();
        let last = self.miss_refreshed_at.load(Ordering::Relaxed);
        now - last >= MISS_REFRESH_SECS
            && self
                .miss_refreshed_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Rebuilds the snapshot at every scheduled instant, until stopped.
    pub fn spawn_scheduler(hub: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(schedule(hub))
    }
}

async fn schedule(hub: Arc<FeedHub>) {
    loop {
        let snapshot = hub.snapshot();
        let due = snapshot
            .next_change
            .unwrap_or(i64::MAX)
            .min(snapshot.built_at + MAX_SLEEP_SECS);
        drop(snapshot);
        let woken = tokio::select! {
            () = hub.clock.sleep_until(due) => false,
            () = hub.wake.notified() => true,
        };
        if woken {
            continue;
        }
        if let Err(error) = hub.refresh().await {
            tracing::error!(%error, "scheduled feed refresh failed; retrying shortly");
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }
}

/// The polygons of the saved areas that published revisions refer to.
fn saved_areas(rows: Vec<area::Model>) -> Areas {
    let mut areas = Areas::new();
    for model in rows {
        match serde_json::from_str::<Vec<Point>>(&model.polygon) {
            Ok(polygon) => {
                areas.insert(model.id, polygon.into());
            }
            Err(error) => tracing::error!(id = model.id, %error, "unreadable saved area"),
        }
    }
    areas
}

fn build(
    settings: &Settings,
    entries: Vec<entry::Model>,
    groups: HashMap<i64, Arc<GroupInfo>>,
    areas: &Areas,
    now: i64,
) -> Snapshot {
    let mut items: Vec<Item> = entries
        .into_iter()
        .filter_map(|model| {
            let group = groups.get(&model.group_id)?.clone();
            if group.removed && model.in_feed {
                return None;
            }
            Item::from_model(model, group, areas, settings, now)
        })
        .collect();
    items.sort_by(|a, b| a.feed_order(b));
    let next_change = items
        .iter()
        .flat_map(Item::instants)
        .filter(|instant| *instant > now)
        .min();
    let modified_at = items
        .iter()
        .filter_map(|item| item.last_change(now))
        .max()
        .unwrap_or(0);
    let has_areas = items
        .iter()
        .any(|item| item.is_live(now) && item.area.is_some());
    Snapshot {
        built_at: now,
        modified_at,
        items,
        groups: groups
            .into_values()
            .filter(|group| !group.removed)
            .map(|group| (group.slug.clone(), group))
            .collect(),
        has_areas,
        next_change,
        cache: Variants::default(),
        pages: Variants::default(),
    }
}
