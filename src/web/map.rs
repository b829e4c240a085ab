//! A small map of an entry's venue and target area for the moderation page:
//! the shape drawn in SVG on Web Mercator pixels (enough without
//! JavaScript, with a graticule for scale), and the OpenStreetMap tiles
//! beneath it that the page's script adds when it runs.

use crate::domain::geo::Point;

/// The map's size in CSS pixels.
const WIDTH: f64 = 384.0;
const HEIGHT: f64 = 256.0;
/// One tile's side in pixels.
const TILE: f64 = 256.0;
/// Closest zoom: a venue alone shows its streets.
const MAX_ZOOM: u32 = 15;
/// Web Mercator stops short of the poles.
const MAX_LATITUDE: f64 = 85.051_128;

/// One OpenStreetMap tile: its URL and where its top left corner sits.
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub url: String,
    pub left: i64,
    pub top: i64,
}

/// What the template draws.
#[derive(Clone, Debug, PartialEq)]
pub struct MapView {
    pub width: u32,
    pub height: u32,
    /// SVG `points` of the target area's outline, if any.
    pub outline: Option<String>,
    /// Where the venue is, in map pixels.
    pub marker: Option<(f64, f64)>,
    /// Vertical and horizontal graticule lines, in map pixels.
    pub meridians: Vec<f64>,
    pub parallels: Vec<f64>,
    pub tiles: Vec<Tile>,
    /// A link to the same place on openstreetmap.org.
    pub link: String,
}

/// `[lon, lat]` as world pixels at `zoom`.
fn project([lon, lat]: Point, zoom: u32) -> (f64, f64) {
    let size = TILE * f64::from(1_u32 << zoom);
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = (lon + 180.0) / 360.0 * size;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * size;
    (x, y)
}

impl MapView {
    /// The map of `area` and `venue`; `None` when there is neither.
    pub fn of(area: Option<&[Point]>, venue: Option<Point>) -> Option<Self> {
        let mut points: Vec<Point> = area.unwrap_or_default().to_vec();
        points.extend(venue);
        if points.is_empty() {
            return None;
        }
        // The closest zoom at which everything fits with a margin.
        let zoom = (0..=MAX_ZOOM)
            .rev()
            .find(|zoom| {
                let projected: Vec<(f64, f64)> =
                    points.iter().map(|p| project(*p, *zoom)).collect();
                let span = |axis: fn(&(f64, f64)) -> f64| {
                    let values = projected.iter().map(axis);
                    let (low, high) = values.fold((f64::MAX, f64::MIN), |(low, high), v| {
                        (low.min(v), high.max(v))
                    });
                    high - low
                };
                span(|p| p.0) <= WIDTH * 0.8 && span(|p| p.1) <= HEIGHT * 0.8
            })
            .unwrap_or(0);
        let projected: Vec<(f64, f64)> = points.iter().map(|p| project(*p, zoom)).collect();
        let bound = |axis: fn(&(f64, f64)) -> f64, pick: fn(f64, f64) -> f64, start: f64| {
            projected.iter().map(axis).fold(start, pick)
        };
        let center_x =
            (bound(|p| p.0, f64::min, f64::MAX) + bound(|p| p.0, f64::max, f64::MIN)) / 2.0;
        let center_y =
            (bound(|p| p.1, f64::min, f64::MAX) + bound(|p| p.1, f64::max, f64::MIN)) / 2.0;
        let (origin_x, origin_y) = (center_x - WIDTH / 2.0, center_y - HEIGHT / 2.0);
        let local = |(x, y): (f64, f64)| (round(x - origin_x), round(y - origin_y));
        let outline = area.filter(|ring| !ring.is_empty()).map(|ring| {
            ring.iter()
                .map(|point| {
                    let (x, y) = local(project(*point, zoom));
                    format!("{x},{y}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        });
        let marker = venue.map(|point| local(project(point, zoom)));
        let tiles_across = 1_i64 << zoom;
        let first = |origin: f64| (origin / TILE).floor() as i64;
        let last = |origin: f64, extent: f64| ((origin + extent) / TILE).floor() as i64;
        let mut tiles = Vec::new();
        for ty in first(origin_y)..=last(origin_y, HEIGHT) {
            if !(0..tiles_across).contains(&ty) {
                continue;
            }
            for tx in first(origin_x)..=last(origin_x, WIDTH) {
                tiles.push(Tile {
                    url: format!(
                        "https://tile.openstreetmap.org/{zoom}/{}/{ty}.png",
                        tx.rem_euclid(tiles_across)
                    ),
                    left: (tx as f64 * TILE - origin_x).round() as i64,
                    top: (ty as f64 * TILE - origin_y).round() as i64,
                });
            }
        }
        let (meridians, parallels) = graticule(zoom, origin_x, origin_y);
        let [lon, lat] = venue.unwrap_or_else(|| {
            let size = TILE * f64::from(1_u32 << zoom);
            let lon = center_x / size * 360.0 - 180.0;
            let n = std::f64::consts::PI * (1.0 - 2.0 * center_y / size);
            [lon, n.sinh().atan().to_degrees()]
        });
        Some(Self {
            width: WIDTH as u32,
            height: HEIGHT as u32,
            outline,
            marker,
            meridians,
            parallels,
            tiles,
            link: format!(
                "https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map={zoom}/{lat:.5}/{lon:.5}"
            ),
        })
    }
}

/// Graticule lines every power-of-ten-ish degrees that land inside the map.
fn graticule(zoom: u32, origin_x: f64, origin_y: f64) -> (Vec<f64>, Vec<f64>) {
    let step = match zoom {
        0..=2 => 30.0,
        3..=4 => 10.0,
        5..=7 => 1.0,
        8..=11 => 0.1,
        _ => 0.01,
    };
    let lines = |range: std::ops::RangeInclusive<i64>, at: &dyn Fn(f64) -> f64, extent: f64| {
        range
            .map(|index| round(at(index as f64 * step)))
            .filter(|pixel| (0.0..=extent).contains(pixel))
            .collect::<Vec<f64>>()
    };
    let steps = |limit: f64| {
        let count = (limit / step).round() as i64;
        -count..=count
    };
    let meridians = lines(
        steps(180.0),
        &|lon| project([lon, 0.0], zoom).0 - origin_x,
        WIDTH,
    );
    let parallels = lines(
        steps(80.0),
        &|lat| project([0.0, lat], zoom).1 - origin_y,
        HEIGHT,
    );
    (meridians, parallels)
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_show_is_no_map() {
        assert_eq!(MapView::of(None, None), None);
    }

    #[test]
    fn a_venue_is_centred_at_street_level() {
        let map = MapView::of(None, Some([8.5417, 47.3769])).unwrap();
        assert_eq!(map.marker, Some((192.0, 128.0)));
        assert!(map.link.contains("map=15/47.37690/8.54170"), "{}", map.link);
        assert!(
            map.tiles[0]
                .url
                .starts_with("https://tile.openstreetmap.org/15/")
        );
        // The tiles cover the whole map.
        assert!(
            map.tiles
                .iter()
                .all(|tile| tile.left > -256 && tile.top > -256)
        );
        assert!(
            map.tiles.len() >= 4 && map.tiles.len() <= 9,
            "{:?}",
            map.tiles
        );
    }

    #[test]
    fn an_area_fits_inside_the_map() {
        let ring = [[5.9, 45.8], [10.5, 45.8], [10.5, 47.8], [5.9, 47.8]];
        let map = MapView::of(Some(&ring), None).unwrap();
        let outline = map.outline.unwrap();
        for pair in outline.split(' ') {
            let (x, y) = pair.split_once(',').unwrap();
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!(
                (0.0..=384.0).contains(&x) && (0.0..=256.0).contains(&y),
                "{outline}"
            );
        }
        assert!(!map.meridians.is_empty() && !map.parallels.is_empty());
    }

    #[test]
    fn a_world_wide_area_wraps_its_tiles() {
        let ring = [
            [-179.0, -80.0],
            [179.0, -80.0],
            [179.0, 80.0],
            [-179.0, 80.0],
        ];
        let map = MapView::of(Some(&ring), None).unwrap();
        assert!(
            map.tiles.iter().all(|tile| tile
                .url
                .starts_with("https://tile.openstreetmap.org/0/0/0.png")),
            "{:?}",
            map.tiles
        );
    }
}
