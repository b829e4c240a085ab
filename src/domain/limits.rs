//! Every size limit and time window the rules use, named in one place.

/// Entry titles, as QGIS-Feed allows.
pub const TITLE_CHARS: usize = 255;
/// Any URL we store (links, images, websites, online meetings).
pub const URL_CHARS: usize = 2048;
/// Short single-line texts: call to action, venue, contact.
pub const SHORT_TEXT_CHARS: usize = 255;
/// Languages an entry may be translated into besides its main one.
pub const MAX_TRANSLATIONS: usize = 10;
/// Group names (access requests included).
pub const GROUP_NAME_CHARS: usize = 200;
/// Group slugs, in bytes (they are ASCII).
pub const SLUG_BYTES: std::ops::RangeInclusive<usize> = 2..=64;
/// Display names of people and names of API tokens.
pub const NAME_CHARS: usize = 100;
/// Email addresses (RFC 5321 path limit).
pub const EMAIL_BYTES: usize = 254;
/// Passwords: long enough to resist guessing, short enough to hash cheaply.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=1024;
/// Moderation comments and reasons.
pub const COMMENT_CHARS: usize = 4000;
/// The message of an access request.
pub const ACCESS_REQUEST_MESSAGE_CHARS: usize = 2000;
/// Vertices of a target area.
pub const AREA_POINTS: std::ops::RangeInclusive<usize> = 3..=1000;

/// Latest instant accepted anywhere: keeps `publish_to` inside QGIS's uint32.
pub const MAX_INSTANT: i64 = 4_102_444_800; // 2100-01-01T00:00:00Z
/// QGIS reads `pk` as a signed 32-bit integer.
pub const MAX_PK: i64 = i32::MAX as i64;

/// Window over which failed logins are counted.
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;
/// Window over which access requests are counted.
pub const ACCESS_REQUEST_WINDOW_SECS: i64 = 3600;

/// How long an invitation link works.
pub const INVITATION_SECS: i64 = 7 * 86_400;
/// How long a password-reset link works.
pub const PASSWORD_RESET_SECS: i64 = 3600;
/// How long the link that confirms a new email address works.
pub const EMAIL_CHANGE_SECS: i64 = 86_400;
/// Password-reset links one client address may ask for one account per window (each sends mail).
pub const PASSWORD_RESETS_PER_WINDOW: u32 = 5;
/// Password-reset links one client address may ask for, whatever the accounts.
pub const PASSWORD_RESETS_PER_ADDRESS: u32 = 20;
/// Password-reset links one account may be sent per window, from every
/// address together: high enough that strangers cannot use up the owner's
/// own resets, low enough to bound the mail.
pub const PASSWORD_RESETS_PER_ACCOUNT: u32 = 50;
/// Window over which password-reset requests are counted.
pub const PASSWORD_RESET_WINDOW_SECS: i64 = 3600;

/// The furthest a listed page may start: a larger number is clamped before
/// any query (the database drivers take no offset beyond `i64`).
pub const MAX_LIST_OFFSET: u64 = 1_000_000_000;
/// The largest page of a list.
pub const MAX_PAGE_SIZE: u64 = 200;

/// `(limit, offset)` of a page clamped to what every list serves.
pub fn page_window(limit: u64, offset: u64) -> (u64, u64) {
    (limit.clamp(1, MAX_PAGE_SIZE), offset.min(MAX_LIST_OFFSET))
}

/// The year in `tag:` URIs (RFC 4151): fixed forever, so ids never change.
pub const TAG_URI_YEAR: u16 = 2026;

/// Stored pictures are cropped and scaled to fill exactly this size: twice
/// the 250x177 that QGIS's news panel shows, for HiDPI screens.
pub const IMAGE_WIDTH: u32 = 500;
pub const IMAGE_HEIGHT: u32 = 354;
/// Smaller uploads would be blown up past the panel's own size: refused.
pub const IMAGE_MIN_WIDTH: u32 = 250;
pub const IMAGE_MIN_HEIGHT: u32 = 177;
/// Largest side a decoder may announce; a bigger header is refused before
/// any pixel is decoded (a decompression bomb).
pub const IMAGE_MAX_SIDE: u32 = 12_000;
/// Memory, in MiB, the pictures being processed hold together at most: the
/// upload, the decoder's working memory, the decoded pixels and the
/// smaller copies, estimated from the header before any pixel is decoded.
/// A picture that alone would need more is refused (a 12-megapixel
/// baseline JPEG needs about 58 MiB, a 24-megapixel one of 10 MB about
/// 110; the largest 8-bit RGBA PNG that passes has about 28 megapixels).
/// With the HTTP side of 12 uploads at once it keeps the server under
/// 256 MiB above idle (BENCHMARKS.md).
pub const PICTURE_MEMORY_MIB: u64 = 128;
/// Pictures processed at once (each on a blocking thread): one per core.
pub const PICTURES_AT_ONCE: usize = 2;
/// JPEG quality of stored pictures (QGIS-Feed's 60 shows blocks on photos).
pub const IMAGE_JPEG_QUALITY: u8 = 82;
/// Room for the multipart framing around an uploaded file.
pub const MULTIPART_OVERHEAD_BYTES: usize = 64 * 1024;
/// How often unreferenced pictures are looked for, and how long a picture
/// no revision uses is kept after its last upload (an upload in flight,
/// an editor who removes and puts back the same picture).
pub const MEDIA_SWEEP_SECS: u64 = 3600;
pub const MEDIA_GRACE_SECS: i64 = 24 * 3600;

/// Submissions arriving within this window go to moderators as one digest.
pub const MAIL_DIGEST_SECS: i64 = 5 * 60;
/// Sending attempts before a mail is marked failed.
pub const MAIL_MAX_ATTEMPTS: i32 = 10;
/// First retry delay; doubled after each failure, up to `MAIL_RETRY_MAX_SECS`.
pub const MAIL_RETRY_BASE_SECS: i64 = 60;
pub const MAIL_RETRY_MAX_SECS: i64 = 6 * 3600;
/// How long a worker holds a mail it is sending before another may take it
/// (a worker that died mid-send).
pub const MAIL_CLAIM_SECS: i64 = 5 * 60;
/// How often the worker looks for due mail (it also wakes when the clock moves).
pub const MAIL_POLL_MILLIS: u64 = 1000;
/// Mails sent per worker round.
pub const MAIL_BATCH: u64 = 20;

/// Deliveries (fediverse, WebSub) sent at once per worker round.
pub const DELIVERY_BATCH: u64 = 50;
/// How often the delivery worker looks for due work (it is also woken when work is queued).
pub const DELIVERY_POLL_MILLIS: u64 = 1000;
/// How long a worker holds a delivery it is sending (each request takes at most 15 s).
pub const DELIVERY_CLAIM_SECS: i64 = 2 * 60;
/// First retry delay of a delivery; doubled after each failure, up to `DELIVERY_RETRY_MAX_SECS`.
pub const DELIVERY_RETRY_BASE_SECS: i64 = 30;
pub const DELIVERY_RETRY_MAX_SECS: i64 = 6 * 3600;
/// A delivery still failing this long after it was queued is given up, and
/// the followers behind its inbox are dropped (a server gone for days).
pub const DELIVERY_GIVE_UP_SECS: i64 = 3 * 86_400;
/// Largest actor document or activity read from another server.
pub const FEDERATION_MAX_BYTES: usize = 256 * 1024;
/// How long a fetched remote actor (its key, its inbox) is trusted before it is fetched again.
pub const REMOTE_ACTOR_TTL_SECS: i64 = 24 * 3600;

/// Largest calendar file fetched or uploaded (a busy group's year fits).
pub const CALENDAR_MAX_BYTES: usize = 5 * 1024 * 1024;
/// How often a subscribed calendar is fetched.
pub const CALENDAR_FETCH_SECS: i64 = 6 * 3600;
/// How long a worker holds a subscription it fetches.
pub const CALENDAR_CLAIM_SECS: i64 = 300;
/// Runs shown with a subscription.
pub const CALENDAR_RUNS_SHOWN: u64 = 10;
