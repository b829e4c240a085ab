//! Where a client is, from its address in a MaxMind-format database
//! (`--geoip-db`): the country for the audience statistics and, when the
//! database has coordinates, a point for entries with a target area.

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::domain::geo::Point;

/// An opened `.mmdb` file, read into memory once.
pub struct GeoIp(maxminddb::Reader<Vec<u8>>);

/// What the database knows about an address.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Located {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<[u8; 2]>,
    pub point: Option<Point>,
}

impl Located {
    pub fn country(&self) -> Option<&str> {
        self.country
            .as_ref()
            .and_then(|code| std::str::from_utf8(code).ok())
    }
}

/// The parts of a GeoIP2/GeoLite2 Country or City record used here.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<CountryPart<'a>>,
    #[serde(default)]
    location: Option<LocationPart>,
}

#[derive(Deserialize)]
struct CountryPart<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct LocationPart {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

impl GeoIp {
    /// Opens `path`; the reason when it is not a MaxMind DB.
    pub fn open(path: &Path) -> Result<Self, String> {
        maxminddb::Reader::open_readfile(path)
            .map(Self)
            .map_err(|error| format!("cannot read the GeoIP database {}: {error}", path.display()))
    }

    /// What the database says about `address` (nothing when it has no
    /// record or the record is unreadable).
    pub fn locate(&self, address: IpAddr) -> Located {
        let record = self
            .0
            .lookup(address)
            .and_then(|found| found.decode::<Record<'_>>());
        let Ok(Some(record)) = record else {
            return Located::default();
        };
        let country = record
            .country
            .and_then(|country| country.iso_code)
            .and_then(|code| match code.as_bytes() {
                [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                    Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
                }
                _ => None,
            });
        let point = record
            .location
            .and_then(|location| Some([location.longitude?, location.latitude?]))
            .filter(|[lon, lat]| (-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat));
        Located { country, point }
    }
}
