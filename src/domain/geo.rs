//! Target areas: which points an entry is delivered to.

/// A point as `[lon, lat]`.
pub type Point = [f64; 2];

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

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: [Point; 4] = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];

    #[test]
    fn inside_and_outside() {
        assert!(contains(&SQUARE, [5.0, 5.0]));
        assert!(!contains(&SQUARE, [15.0, 5.0]));
        assert!(!contains(&SQUARE, [5.0, -0.1]));
        assert!(!contains(&[], [0.0, 0.0]));
    }
}
