//! Saved target areas: a named polygon moderators keep so that many entries
//! can target the same place, and one edit moves them all.

use super::geo::{self, Point};
use super::limits;
use super::validate::{Checker, FieldError};

/// What a moderator sets on a saved area.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AreaFields {
    pub name: String,
    pub description: String,
    pub polygon: Vec<Point>,
}

/// A partial update: `None` keeps a field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AreaPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub polygon: Option<Vec<Point>>,
}

impl AreaFields {
    pub fn apply(&mut self, patch: AreaPatch) {
        if let Some(name) = patch.name {
            self.name = name;
        }
        if let Some(description) = patch.description {
            self.description = description;
        }
        if let Some(polygon) = patch.polygon {
            self.polygon = polygon;
        }
    }
}

/// Validates and normalizes an area: a one-line name, an optional one-line
/// description and a polygon as entries take it.
pub fn validate(fields: &mut AreaFields) -> Result<(), Vec<FieldError>> {
    let mut check = Checker::new();
    fields.name = check.line("name", &fields.name, limits::NAME_CHARS, true);
    fields.description = check.line(
        "description",
        &fields.description,
        limits::SHORT_TEXT_CHARS,
        false,
    );
    geo::check_area(&mut check, "polygon", &fields.polygon);
    check.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> Vec<Point> {
        vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]
    }

    #[test]
    fn a_good_area_is_trimmed() {
        let mut fields = AreaFields {
            name: "  Lake Constance ".into(),
            description: String::new(),
            polygon: square(),
        };
        assert_eq!(validate(&mut fields), Ok(()));
        assert_eq!(fields.name, "Lake Constance");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut fields = AreaFields {
            name: "two\nlines".into(),
            description: "x".repeat(limits::SHORT_TEXT_CHARS + 1),
            polygon: vec![[0.0, 0.0], [200.0, 0.0], [1.0, 1.0]],
        };
        let errors = validate(&mut fields).unwrap_err();
        let names: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(names, ["name", "description", "polygon"]);
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name() {
        let mut fields = AreaFields {
            name: "A".into(),
            description: "d".into(),
            polygon: square(),
        };
        fields.apply(AreaPatch {
            name: Some("B".into()),
            ..AreaPatch::default()
        });
        assert_eq!(
            (fields.name.as_str(), fields.description.as_str()),
            ("B", "d")
        );
        assert_eq!(fields.polygon, square());
    }
}
