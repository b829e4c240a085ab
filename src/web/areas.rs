//! Saved target areas for moderators: list, create, edit, delete. Entries
//! pick them in their form; an edit moves every entry that uses the area.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::web::Path;

use super::context::{
    Ctx, Layout, Notice, WebError, WebResult, page_status, require_moderator, respond, see_other,
    sentence,
};
use super::display::Choice;
use super::forms::{Form, FormState, parse_area};
use super::query::id_of;
use crate::domain::FieldError;
use crate::domain::area::{AreaFields, AreaPatch, validate};
use crate::error::AppError;
use crate::service::Services;
use crate::service::areas::{self, AreaView};

/// One row of the list.
struct AreaRow {
    id: i64,
    name: String,
    description: String,
    points: usize,
    used_by: u64,
}

impl From<&AreaView> for AreaRow {
    fn from(view: &AreaView) -> Self {
        Self {
            id: view.area.id,
            name: view.area.name.clone(),
            description: view.area.description.clone(),
            points: view.polygon.len(),
            used_by: view.used_by,
        }
    }
}

/// The saved areas as the choices of an entry form ("none" first).
pub async fn area_choices(services: &Services) -> Result<Vec<Choice>, WebError> {
    let mut choices = vec![Choice::new("", "No saved area")];
    choices.extend(
        areas::names(services)
            .await?
            .into_iter()
            .map(|(id, name)| Choice::new(id.to_string(), name)),
    );
    Ok(choices)
}

/// The form's fields; a polygon that is not JSON is reported with the rest.
fn area_patch(form: &Form) -> (AreaPatch, Vec<FieldError>) {
    let mut errors = Vec::new();
    let polygon = parse_area(form.text("polygon"));
    if polygon.is_none() {
        errors.push(FieldError::new(
            "polygon",
            "must be a GeoJSON Polygon or a list of [longitude, latitude] points",
        ));
    }
    let patch = AreaPatch {
        name: Some(form.text("name").to_string()),
        description: Some(form.text("description").to_string()),
        polygon,
    };
    if !errors.is_empty() {
        // Every error at once: the domain's verdict on the other fields too.
        let mut fields = AreaFields::default();
        fields.apply(patch.clone());
        if let Err(more) = validate(&mut fields) {
            errors.extend(more.into_iter().filter(|error| error.field != "polygon"));
        }
    }
    (patch, errors)
}

/// A refusal that belongs next to a field: validation, or a taken name.
fn field_errors(error: AppError) -> Result<Vec<FieldError>, WebError> {
    match error {
        AppError::Validation(errors) => Ok(errors),
        AppError::Duplicate(message) => Ok(vec![FieldError::new("name", message)]),
        other => Err(other.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/areas.html")]
struct AreasPage {
    page: Layout,
    form: FormState,
    rows: Vec<AreaRow>,
}

async fn areas_page(ctx: &Ctx<'_>, form: FormState) -> WebResult {
    let rows = areas::list(ctx.services())
        .await?
        .iter()
        .map(AreaRow::from)
        .collect();
    let status = page_status(false, &form.errors);
    let page = ctx
        .layout("Saved areas", "moderation")
        .with_errors(&form.errors);
    Ok(respond(AreasPage { page, form, rows }, status))
}

#[handler]
pub async fn list(ctx: Ctx<'_>) -> WebResult {
    require_moderator(&ctx)?;
    areas_page(&ctx, FormState::default()).await
}

#[handler]
pub async fn create(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_moderator(&ctx)?;
    let (patch, mut errors) = area_patch(&form);
    if errors.is_empty() {
        let mut fields = AreaFields::default();
        fields.apply(patch);
        match areas::create(ctx.services(), &viewer.principal, fields).await {
            Ok(view) => {
                ctx.flash(
                    format!("Area {} saved. Entries can now choose it.", view.area.name),
                    None,
                );
                return Ok(see_other("/moderation/areas"));
            }
            Err(error) => errors = field_errors(error)?,
        }
    }
    areas_page(&ctx, FormState::with_errors(form.values(), errors)).await
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation/area.html")]
struct AreaPage {
    page: Layout,
    row: AreaRow,
    form: FormState,
    danger: FormState,
}

fn stored_values(view: &AreaView) -> HashMap<String, String> {
    HashMap::from([
        ("name".to_string(), view.area.name.clone()),
        ("description".to_string(), view.area.description.clone()),
        (
            "polygon".to_string(),
            serde_json::to_string(&view.polygon).unwrap_or_default(),
        ),
        ("version".to_string(), view.area.version.to_string()),
    ])
}

async fn area_page(
    ctx: &Ctx<'_>,
    id: i64,
    form: Option<FormState>,
    danger: FormState,
    notice: Option<Notice>,
) -> WebResult {
    let view = areas::get(ctx.services(), id).await?;
    let form = form.unwrap_or_else(|| FormState::new(stored_values(&view)));
    let status =
        page_status(notice.is_some(), &form.errors).max(page_status(false, &danger.errors));
    let mut page = ctx
        .layout(format!("Area {}", view.area.name), "moderation")
        .with_errors(&form.errors);
    page.notice = notice;
    let row = AreaRow::from(&view);
    Ok(respond(
        AreaPage {
            page,
            row,
            form,
            danger,
        },
        status,
    ))
}

#[handler]
pub async fn show(ctx: Ctx<'_>, Path(id): Path<String>) -> WebResult {
    require_moderator(&ctx)?;
    area_page(&ctx, id_of(&id, "area")?, None, FormState::default(), None).await
}

#[handler]
pub async fn update(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_moderator(&ctx)?;
    let id = id_of(&id, "area")?;
    let (patch, errors) = area_patch(&form);
    let version = form.text("version").parse().unwrap_or(0);
    if !errors.is_empty() {
        let state = FormState::with_errors(form.values(), errors);
        return area_page(&ctx, id, Some(state), FormState::default(), None).await;
    }
    match areas::update(ctx.services(), &viewer.principal, id, version, patch).await {
        Ok(view) => {
            ctx.flash(
                format!(
                    "Area {} saved; the feeds deliver its {} entries by the new outline.",
                    view.area.name, view.used_by
                ),
                None,
            );
            Ok(see_other(&format!("/moderation/areas/{id}")))
        }
        Err(AppError::StaleVersion { current_version }) => {
            let notice = Notice {
                heading: "Someone else changed this area".into(),
                text: format!(
                    "It changed while you edited it (it is now at version {current_version}); nothing of yours was saved. \
                     Your outline is still below: compare, then save again."
                ),
            };
            let mut values = form.values();
            values.insert("version".into(), current_version.to_string());
            area_page(
                &ctx,
                id,
                Some(FormState::new(values)),
                FormState::default(),
                Some(notice),
            )
            .await
        }
        Err(error) => {
            let state = FormState::with_errors(form.values(), field_errors(error)?);
            area_page(&ctx, id, Some(state), FormState::default(), None).await
        }
    }
}

#[handler]
pub async fn delete(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = require_moderator(&ctx)?;
    let id = id_of(&id, "area")?;
    if let Some(error) = form.unconfirmed() {
        let danger = FormState::with_errors(HashMap::new(), vec![error]);
        return area_page(&ctx, id, None, danger, None).await;
    }
    match areas::delete(ctx.services(), &viewer.principal, id).await {
        Ok(()) => {
            ctx.flash("Area deleted.", None);
            Ok(see_other("/moderation/areas"))
        }
        Err(AppError::Conflict(message)) => {
            let notice = Notice {
                heading: "Not deleted".into(),
                text: sentence(&message),
            };
            area_page(&ctx, id, None, FormState::default(), Some(notice)).await
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polygon_that_is_not_json_is_named() {
        let form = Form::parse(b"name=A&description=&polygon=not+json");
        let (patch, errors) = area_patch(&form);
        assert!(patch.polygon.is_none());
        assert_eq!(errors[0].field, "polygon");
    }
}
