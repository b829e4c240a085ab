//! Request-level guards shared by every route.

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::Config;

/// The largest bodies accepted: JSON everywhere, more for picture uploads
/// and calendar files.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub json: usize,
    pub upload: usize,
    pub calendar: usize,
}

impl BodyLimits {
    /// Uploads: the API's picture path, and the entry form (a picture field)
    /// sent as `multipart/form-data`; calendar files to import, through the
    /// API or the group's calendars page.
    fn for_request(self, request: &Request) -> usize {
        let path = request.uri().path();
        let calendar_import = (path.starts_with("/api/v1/groups/")
            || path.starts_with("/admin/groups/"))
            && path.ends_with("/calendars/import");
        if calendar_import {
            return self.calendar;
        }
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("multipart/form-data"));
        let entry_form = path == "/my/entries/new"
            || (path.starts_with("/my/entries/") && path.ends_with("/edit"));
        if (path.starts_with("/api/v1/entries/") && path.ends_with("/image"))
            || (multipart && entry_form)
        {
            self.upload
        } else {
            self.json
        }
    }
}

/// Refuses bodies over the path's limit with 413, whether or not the client
/// sent `Content-Length` (bodies without one are read up to the limit).
pub async fn limit_body<E: Endpoint>(
    endpoint: Arc<E>,
    mut request: Request,
    limits: BodyLimits,
) -> poem::Result<Response> {
    let max = limits.for_request(&request);
    let too_large = || {
        poem::Error::from_string(
            format!("request body larger than {max} bytes"),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let empty = match declared {
        Some(length) if length > max => return Err(too_large()),
        Some(length) => length == 0,
        // Chunked, or a body with no declared length at all.
        None => {
            let body = request
                .take_body()
                .into_bytes_limit(max)
                .await
                .map_err(|_| too_large())?;
            let empty = body.is_empty();
            request.set_body(body);
            empty
        }
    };
    // `curl -X POST …/submit` sends no body and no type; the actions take an
    // optional JSON body, so read "nothing" as "no JSON" rather than 415.
    if empty
        && request.method() == poem::http::Method::POST
        && !request.headers().contains_key(header::CONTENT_TYPE)
    {
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(endpoint.call(request).await?.into_response())
}

/// The address rate limits count against: the peer, or with
/// `--trust-proxy` the address our proxy appended to `X-Forwarded-For`
/// (earlier entries come from the client and can be forged), or, when the
/// peer is one of `--trusted-proxies`, the nearest hop that is not.
pub fn client_ip(config: &Config, request: &Request) -> String {
    if !config.trusted_proxies.is_empty() {
        if let Some(address) = client_addr(request, config.trust_proxy, &config.trusted_proxies) {
            return address.to_string();
        }
    }
    let forwarded = config
        .trust_proxy
        .then(|| {
            request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
        })
        .flatten()
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.rsplit(',').next())
        .map(str::trim)
        .filter(|address| !address.is_empty());
    let remote = request.remote_addr();
    match forwarded {
        Some(address) => address.to_string(),
        None => remote
            .as_socket_addr()
            .map(|addr| addr.ip().to_string())
            .unwrap_or_else(|| remote.to_string()),
    }
}

/// The client's IP address (for GeoIP): the peer's, or the one trusted
/// proxies (any peer with `trust_any`) name in `X-Forwarded-For`; `None`
/// when neither is known.
pub fn client_addr(
    request: &Request,
    trust_any: bool,
    trusted: &[crate::domain::net::Cidr],
) -> Option<std::net::IpAddr> {
    let peer = request.remote_addr().as_socket_addr().map(|addr| addr.ip());
    client_addr_of(peer, request.headers(), trust_any, trusted)
}

/// [`client_addr`] of a request from `peer` with `headers`.
pub fn client_addr_of(
    peer: Option<std::net::IpAddr>,
    headers: &poem::http::HeaderMap,
    trust_any: bool,
    trusted: &[crate::domain::net::Cidr],
) -> Option<std::net::IpAddr> {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok());
    crate::domain::net::forwarded_client(peer, forwarded, trust_any, trusted)
}
