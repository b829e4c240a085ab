//! Saved target areas: named polygons moderators keep and entries refer to
//! by `target_area_id`.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi};

use super::json::JsonBody;
use super::{ApiTags, BearerAuth, Created, Deleted, instant};
use crate::AppState;
use crate::domain::area::{AreaFields, AreaPatch};
use crate::error::{AppError, AppResult};
use crate::service::areas::{self, AreaView};

pub struct AreasApi;

/// A target area: `[[lon, lat], ...]`, or a GeoJSON Polygon (its outer ring counts).
#[derive(poem_openapi::Union, Clone, Debug)]
pub enum AreaInput {
    Points(Vec<Vec<f64>>),
    GeoJson(GeoJsonPolygon),
}

/// A GeoJSON Polygon: `{"type": "Polygon", "coordinates": [[[lon, lat], ...]]}`.
#[derive(Object, Clone, Debug)]
pub struct GeoJsonPolygon {
    /// `Polygon`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Rings of `[lon, lat]` positions; the first is the outline.
    pub coordinates: Vec<Vec<Vec<f64>>>,
}

/// Reads either shape, keeping the path of a wrong value (`target_area[0][1]`).
impl<'de> serde::Deserialize<'de> for AreaInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AreaInput;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("[[lon, lat], ...] or a GeoJSON Polygon")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<AreaInput, A::Error> {
                let mut points = Vec::new();
                while let Some(point) = seq.next_element::<Vec<f64>>()? {
                    points.push(point);
                }
                Ok(AreaInput::Points(points))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<AreaInput, A::Error> {
                let (mut kind, mut coordinates) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => kind = Some(map.next_value::<String>()?),
                        // Read as it comes: a Point's numbers must get the
                        // Polygon message, not a type error.
                        "coordinates" => coordinates = Some(map.next_value::<serde_json::Value>()?),
                        // GeoJSON allows more members (`bbox`, foreign ones).
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                match (kind, coordinates) {
                    (Some(kind), Some(coordinates)) if kind == "Polygon" => {
                        let coordinates = serde_json::from_value(coordinates).map_err(|_| {
                            serde::de::Error::custom(
                                "coordinates must be rings of [lon, lat] positions: [[[lon, lat], ...]]",
                            )
                        })?;
                        Ok(AreaInput::GeoJson(GeoJsonPolygon { kind, coordinates }))
                    }
                    _ => Err(serde::de::Error::custom(
                        "must be [[lon, lat], ...] or a GeoJSON Polygon {\"type\": \"Polygon\", \"coordinates\": [[[lon, lat], ...]]}",
                    )),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The points of an area; a point that is not a pair becomes NaN, so that
/// validation names the field.
pub(super) fn area_points(area: AreaInput) -> Vec<[f64; 2]> {
    let points = match area {
        AreaInput::Points(points) => points,
        AreaInput::GeoJson(polygon) => polygon.coordinates.into_iter().next().unwrap_or_default(),
    };
    points
        .iter()
        .map(|point| match point.as_slice() {
            [lon, lat] => [*lon, *lat],
            _ => [f64::NAN, f64::NAN],
        })
        .collect()
}

/// A saved area as sent to create or update it. To create, `name` and
/// `polygon` are required; to update, `version` is, and absent fields keep
/// their value.
#[derive(Object, Clone, Debug, Default, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct SavedAreaInput {
    /// Unique name, one line, at most 100 characters.
    #[oai(nullable)]
    pub name: MaybeUndefined<String>,
    /// One line, at most 255 characters; empty by default.
    #[oai(nullable)]
    pub description: MaybeUndefined<String>,
    /// The outline: 3 to 1,000 `[lon, lat]` points, or a GeoJSON Polygon.
    #[oai(nullable)]
    pub polygon: MaybeUndefined<AreaInput>,
    /// The version this update is based on (update only); a stale one gets 409.
    #[oai(nullable)]
    pub version: Option<i32>,
}

impl SavedAreaInput {
    fn into_patch(self) -> AppResult<(Option<i32>, AreaPatch)> {
        let mut errors = Vec::new();
        let patch = AreaPatch {
            name: super::not_null("name", self.name, &mut errors),
            description: super::not_null("description", self.description, &mut errors),
            polygon: super::not_null("polygon", self.polygon, &mut errors).map(area_points),
        };
        super::checked((self.version, patch), errors)
    }
}

/// A saved area.
#[derive(Object)]
struct SavedArea {
    /// What entries send as `target_area_id`.
    id: i64,
    name: String,
    description: String,
    /// The outline as `[lon, lat]` points.
    polygon: Vec<Vec<f64>>,
    /// Send it back with updates; it changes on every write.
    version: i32,
    /// How many entries (working or published revision) target this area.
    used_by: u64,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<AreaView> for SavedArea {
    fn from(view: AreaView) -> Self {
        Self {
            id: view.area.id,
            name: view.area.name,
            description: view.area.description,
            polygon: view.polygon.iter().map(|point| point.to_vec()).collect(),
            version: view.area.version,
            used_by: view.used_by,
            created_at: instant(view.area.created_at),
            updated_at: instant(view.area.updated_at),
        }
    }
}

#[derive(Object)]
struct SavedAreas {
    /// By name.
    areas: Vec<SavedArea>,
}

#[OpenApi(prefix_path = "/api/v1/areas", tag = "ApiTags::Moderation")]
impl AreasApi {
    /// Every saved area, by name (anyone signed in: editors choose them for
    /// their entries' `target_area_id`).
    #[oai(path = "/", method = "get")]
    async fn list(&self, state: Data<&AppState>, _auth: BearerAuth) -> AppResult<Json<SavedAreas>> {
        let areas = areas::list(&state.services).await?;
        Ok(Json(SavedAreas {
            areas: areas.into_iter().map(SavedArea::from).collect(),
        }))
    }

    /// Save a named area (moderators and admins).
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<SavedAreaInput>,
    ) -> AppResult<Created<SavedArea>> {
        let (version, patch) = body.0.into_patch()?;
        if version.is_some() {
            return Err(AppError::field("version", "is only for updates"));
        }
        let mut missing = Vec::new();
        if patch.name.is_none() {
            missing.push(crate::domain::FieldError::new("name", "is required"));
        }
        if patch.polygon.is_none() {
            missing.push(crate::domain::FieldError::new("polygon", "is required"));
        }
        super::checked((), missing)?;
        let mut fields = AreaFields::default();
        fields.apply(patch);
        let view = areas::create(&state.services, &auth.0, fields).await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// One saved area.
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        _auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Json<SavedArea>> {
        Ok(Json(areas::get(&state.services, *id).await?.into()))
    }

    /// Change a saved area (moderators and admins). A new outline is live at
    /// once for every published entry that uses the area.
    #[oai(path = "/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<SavedAreaInput>,
    ) -> AppResult<Json<SavedArea>> {
        let (version, patch) = body.0.into_patch()?;
        let version = version.ok_or_else(|| AppError::field("version", "is required"))?;
        let view = areas::update(&state.services, &auth.0, *id, version, patch).await?;
        Ok(Json(view.into()))
    }

    /// Delete a saved area no entry uses (moderators and admins); 409 names
    /// the entries that still do.
    #[oai(path = "/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> AppResult<Deleted> {
        areas::delete(&state.services, &auth.0, *id).await?;
        Ok(Deleted::Deleted)
    }
}
