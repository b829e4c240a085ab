//! Target areas: which points an entry is delivered to.

use crate::domain::codes::Languages;
use crate::domain::limits;
use crate::domain::validate::Checker;

/// A point as `[lon, lat]`.
pub type Point = [f64; 2];

pub fn valid_lat(lat: f64) -> bool {
    (-90.0..=90.0).contains(&lat)
}

pub fn valid_lon(lon: f64) -> bool {
    (-180.0..=180.0).contains(&lon)
}

/// Checks a polygon sent as `field`: 3 to 1,000 vertices (a closed ring
/// repeats its first one, an open one is closed implicitly), each a valid
/// `[lon, lat]`.
pub fn check_area(check: &mut Checker, field: &str, area: &[Point]) {
    let closed = area.len() > 1 && area.first() == area.last();
    let vertices = area.len() - usize::from(closed);
    if !limits::AREA_POINTS.contains(&vertices) {
        check.fail(
            field,
            format!(
                "must have {} to {} points",
                limits::AREA_POINTS.start(),
                limits::AREA_POINTS.end()
            ),
        );
    } else if !area
        .iter()
        .all(|[lon, lat]| valid_lon(*lon) && valid_lat(*lat))
    {
        check.fail(
            field,
            "every point must be [lon, lat] with lon in -180..180 and lat in -90..90",
        );
    }
}

/// Whether `point` lies inside the polygon `ring` (even-odd rule; the ring may
/// be open or closed).
pub fn contains(ring: &[Point], point: Point) -> bool {
    let [x, y] = point;
    let mut inside = false;
    let mut previous = match ring.last() {
        Some(last) => *last,
        None => return false,
    };
    for &current in ring {
        let ([x1, y1], [x2, y2]) = (previous, current);
        if (y1 > y) != (y2 > y) && x < (x2 - x1) * (y - y1) / (y2 - y1) + x1 {
            inside = !inside;
        }
        previous = current;
    }
    inside
}

/// Whether an entry with an optional `language` and target `area` goes to a
/// reader who asked for `languages` (empty: any) from `point` (if sent), as
/// on feed.qgis.org: a reader who sends neither gets everything; otherwise
/// the entry goes out when its language is asked for, or its area holds the
/// point, or it has neither (language and area combine as OR).
pub fn delivered(
    language: Option<&str>,
    area: Option<&[Point]>,
    languages: &Languages,
    point: Option<Point>,
) -> bool {
    if languages.is_empty() && point.is_none() {
        // No filter asked for: everything, as on feed.qgis.org.
        return true;
    }
    let speaks = language.is_some_and(|language| languages.contains(language));
    let inside = matches!((area, point), (Some(area), Some(point)) if contains(area, point));
    speaks || inside || (language.is_none() && area.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_and_area_combine_as_or() {
        let en = Languages::parse(Some("en")).unwrap_or_default();
        let none = Languages::default();
        let (inside, outside) = (Some([5.0, 5.0]), Some([50.0, 50.0]));
        let area = Some(&SQUARE[..]);
        // Neither filter on the entry: everyone.
        assert!(delivered(None, None, &en, outside));
        // A reader who sends nothing: everything.
        assert!(delivered(Some("de"), area, &none, None));
        // Either match is enough.
        assert!(delivered(Some("de"), area, &en, inside));
        assert!(delivered(Some("en"), area, &en, outside));
        assert!(!delivered(Some("de"), area, &en, outside));
        // A language-only reader misses area-only entries, and the other way round.
        assert!(!delivered(None, area, &en, None));
        assert!(!delivered(Some("de"), None, &none, inside));
        assert!(delivered(None, area, &none, inside));
    }

    const SQUARE: [Point; 4] = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];

    #[test]
    fn inside_and_outside() {
        assert!(contains(&SQUARE, [5.0, 5.0]));
        assert!(!contains(&SQUARE, [15.0, 5.0]));
        assert!(!contains(&SQUARE, [5.0, -0.1]));
        assert!(!contains(&[], [0.0, 0.0]));
    }
}
