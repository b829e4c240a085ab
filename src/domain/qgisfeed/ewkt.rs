//! QGIS-Feed's `spatial_filter` (EWKT) as one of our target areas: a ring of
//! `[lon, lat]` points. What has no such ring (holes, several polygons, Z,
//! an unknown SRID) is refused with the reason, and the caller decides.

use crate::domain::geo::{Point, check_area};
use crate::domain::validate::{Checker, quoted};

/// The radius of the sphere Web Mercator (EPSG:3857) projects.
const MERCATOR_RADIUS: f64 = 6_378_137.0;

/// A spatial filter read as one of our areas, and what had to be converted.
#[derive(Clone, Debug, PartialEq)]
pub struct Area {
    pub ring: Vec<Point>,
    /// How the geometry was rewritten (another SRID, a multipolygon), if it was.
    pub converted: Option<String>,
}

/// `[lon, lat]` of a Web Mercator `[x, y]` in metres (the spherical inverse).
pub fn from_web_mercator([x, y]: Point) -> Point {
    let lon = (x / MERCATOR_RADIUS).to_degrees();
    let lat = (2.0 * (y / MERCATOR_RADIUS).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    [lon, lat]
}

/// The area of `SRID=4326;POLYGON ((lon lat, ...))`: SRID 4326 (or none) and
/// 3857 (converted), a POLYGON or a MULTIPOLYGON of one polygon, no holes;
/// the ring must pass our own area rules.
pub fn parse_area(text: &str) -> Result<Area, String> {
    let text = text.trim();
    let (srid, wkt) = match text.split_once(';') {
        Some((srid, rest)) => (srid.trim().to_ascii_uppercase(), rest.trim()),
        None => ("SRID=4326".to_string(), text),
    };
    let mercator = match srid.as_str() {
        "SRID=4326" => false,
        "SRID=3857" => true,
        other => return Err(format!("{other} is neither 4326 (lon/lat) nor 3857")),
    };
    let (ring, multi) = polygon_ring(wkt)?;
    let ring: Vec<Point> = if mercator {
        ring.into_iter().map(from_web_mercator).collect()
    } else {
        ring
    };
    let mut check = Checker::new();
    check_area(&mut check, "spatial_filter", &ring);
    if let Err(errors) = check.finish() {
        let reasons: Vec<String> = errors.into_iter().map(|error| error.message).collect();
        return Err(reasons.join("; "));
    }
    let converted = match (mercator, multi) {
        (false, false) => None,
        (true, false) => Some("converted from SRID 3857 to lon/lat".to_string()),
        (false, true) => Some("a MULTIPOLYGON of one polygon, taken as that polygon".to_string()),
        (true, true) => Some(
            "a MULTIPOLYGON of one polygon in SRID 3857, taken as that polygon in lon/lat"
                .to_string(),
        ),
    };
    Ok(Area { ring, converted })
}

/// The outer ring of a POLYGON, or of a MULTIPOLYGON of one polygon (then
/// `true`), as written.
fn polygon_ring(wkt: &str) -> Result<(Vec<Point>, bool), String> {
    let keyword_end = wkt
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(wkt.len());
    let (keyword, body) = wkt.split_at(keyword_end);
    let body = body.trim();
    if body.starts_with(['Z', 'z']) || body.eq_ignore_ascii_case("EMPTY") {
        return Err(format!("{keyword} {body} (3D or empty) is not supported"));
    }
    let (polygon, multi) = match keyword.to_ascii_uppercase().as_str() {
        "POLYGON" => (body, false),
        "MULTIPOLYGON" => {
            let polygons = group(body).ok_or_else(|| written_as("MULTIPOLYGON"))?;
            let polygon = group(polygons)
                .map(|_| polygons)
                .ok_or_else(|| "a MULTIPOLYGON of several polygons is not supported".to_string())?;
            (polygon, true)
        }
        _ => return Err(format!("{} is not a POLYGON", quoted(keyword))),
    };
    let rings = group(polygon).ok_or_else(|| written_as("POLYGON"))?;
    let ring = group(rings).ok_or_else(|| "polygons with holes are not supported".to_string())?;
    let points = ring.split(',').map(point).collect::<Result<_, _>>()?;
    Ok((points, multi))
}

fn written_as(keyword: &str) -> String {
    format!("a {keyword} is written {keyword} ((lon lat, ...))")
}

/// The inside of `(…)` when `text` is exactly one parenthesized group.
fn group(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix('(')?;
    let mut depth = 1;
    for (index, character) in inner.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return inner[index + 1..]
                        .trim()
                        .is_empty()
                        .then(|| inner[..index].trim());
                }
            }
            _ => {}
        }
    }
    None
}

/// `x y`: exactly two finite numbers.
fn point(pair: &str) -> Result<Point, String> {
    let numbers: Vec<f64> = pair
        .split_whitespace()
        .map(str::parse::<f64>)
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    match numbers.as_slice() {
        [x, y] if x.is_finite() && y.is_finite() => Ok([*x, *y]),
        _ => Err(format!("{} is not `lon lat`", quoted(pair.trim()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(text: &str) -> Result<Vec<Point>, String> {
        parse_area(text).map(|area| area.ring)
    }

    #[test]
    fn ewkt_polygons_become_lon_lat_rings() {
        assert_eq!(
            ring("SRID=4326;POLYGON ((95 -11, 141 -11, 141 6, 95 -11))"),
            Ok(vec![
                [95.0, -11.0],
                [141.0, -11.0],
                [141.0, 6.0],
                [95.0, -11.0]
            ])
        );
        assert_eq!(
            parse_area("POLYGON((0 0,1 0,1 1,0 0))"),
            Ok(Area {
                ring: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
                converted: None
            })
        );
    }

    #[test]
    fn web_mercator_comes_back_to_lon_lat() {
        let close = |[a, b]: Point, [c, d]: Point| (a - c).abs() < 1e-6 && (b - d).abs() < 1e-6;
        assert!(close(from_web_mercator([0.0, 0.0]), [0.0, 0.0]));
        // 20037508.34 m is the antimeridian; the projection's edge is ±85.0511°.
        assert!(close(
            from_web_mercator([20_037_508.342_789_244, 20_037_508.342_789_244]),
            [180.0, 85.051_128_779_806_59]
        ));
        // Bonn, 7.1° E 50.73° N.
        assert!(close(
            from_web_mercator([790_368.384_632_242_3, 6_573_672.101_475_485]),
            [7.1, 50.73]
        ));
        let area = parse_area(
            "SRID=3857;POLYGON ((0 0, 1113194.9079327357 0, 1113194.9079327357 1118889.9748579594, 0 0))",
        )
        .unwrap();
        assert!(close(area.ring[2], [10.0, 10.0]), "{:?}", area.ring);
        assert!(area.converted.unwrap().contains("3857"));
    }

    #[test]
    fn a_multipolygon_of_one_polygon_is_that_polygon() {
        let area = parse_area("SRID=4326;MULTIPOLYGON (((0 0, 10 0, 10 10, 0 0)))").unwrap();
        assert_eq!(area.ring.len(), 4);
        assert!(area.converted.unwrap().contains("MULTIPOLYGON"));
        assert!(
            ring("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))")
                .unwrap_err()
                .contains("several")
        );
    }

    #[test]
    fn what_has_no_single_ring_here_is_refused_with_the_reason() {
        for (text, reason) in [
            ("SRID=32632;POLYGON ((0 0, 1 0, 1 1, 0 0))", "SRID=32632"),
            ("POINT (1 2)", "not a POLYGON"),
            (
                "POLYGON ((0 0, 9 0, 9 9, 0 0), (1 1, 2 1, 2 2, 1 1))",
                "holes",
            ),
            ("POLYGON EMPTY", "empty"),
            ("POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))", "3D"),
            ("POLYGON ((0 0 1, 1 0 1, 1 1 1, 0 0 1))", "not `lon lat`"),
            ("POLYGON ((0 0, x 0, 1 1, 0 0))", "not `lon lat`"),
            ("POLYGON ((0 0, 1 0, 0 0))", "points"),
            ("POLYGON ((0 0, 200 0, 1 95, 0 0))", "lon in -180..180"),
        ] {
            let error = ring(text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }
}
