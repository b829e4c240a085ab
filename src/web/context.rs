//! What every page handler works with: the signed-in viewer, the layout
//! (navigation, flash message, CSRF token), form checking, and errors as
//! pages rather than problem documents.

use askama::Template;
use askama_web::WebTemplate;
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{CsrfToken, CsrfVerifier, Redirect};
use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};
use serde::{Deserialize, Serialize};

use super::assets;
use super::forms::Form;
use crate::AppState;
use crate::domain::authz::Principal;
use crate::domain::{FieldError, GroupRole};
use crate::error::AppError;
use crate::error::ProblemType;
use crate::service::{Services, auth, sessions};

/// The name of the hidden field every POST form carries.
pub const CSRF_FIELD: &str = "csrf_token";

/// Who is looking at the page.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub principal: Principal,
    pub name: String,
    pub email: String,
    /// `(group slug, role)`.
    pub memberships: Vec<(String, GroupRole)>,
    /// Entries waiting for moderation, for moderators.
    pub pending: Option<u64>,
    /// Access requests waiting for a decision, for admins.
    pub access_requests: Option<u64>,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.principal.is_admin()
    }

    pub fn is_moderator(&self) -> bool {
        self.principal.is_moderator()
    }

    /// Slugs of the groups this person owns.
    pub fn owned(&self) -> Vec<String> {
        self.memberships
            .iter()
            .filter(|(_, role)| *role == GroupRole::Owner)
            .map(|(slug, _)| slug.clone())
            .collect()
    }
}

/// A message shown once, on the next page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Flash {
    pub text: String,
    /// A link to show with it (an invitation link when no mail is sent).
    pub link: Option<String>,
}

const FLASH_KEY: &str = "flash";

/// A notice at the top of a page (e.g. someone else decided first).
#[derive(Clone, Debug, Default)]
pub struct Notice {
    pub heading: String,
    pub text: String,
}

/// What the layout shows around every page.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub title: String,
    /// What the site calls itself (`--site-name`): the header and `<title>`.
    pub site: String,
    /// The part of the site, to mark the current navigation link.
    pub section: &'static str,
    pub signed_in: bool,
    pub name: String,
    pub is_admin: bool,
    pub is_moderator: bool,
    pub writes: bool,
    pub owned: Vec<String>,
    pub pending: u64,
    /// Access requests waiting (admins).
    pub access_requests: u64,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub notice: Option<Notice>,
    /// Field errors, summarised at the top of the page.
    pub errors: Vec<SummaryError>,
    /// Feeds for autodiscovery: `(title, media type, href)`.
    pub alternates: Vec<(String, &'static str, String)>,
    pub css: &'static str,
    pub js: &'static str,
}

impl Layout {
    /// The layout of a page nobody in particular sees (cached public pages, errors).
    pub fn public(title: impl Into<String>, section: &'static str) -> Self {
        Self {
            title: title.into(),
            site: "newsfeed".into(),
            section,
            css: assets::url("style.css"),
            js: assets::url("app.js"),
            ..Self::default()
        }
    }

    /// Summarises `errors` at the top of the page.
    pub fn with_errors(mut self, errors: &[FieldError]) -> Self {
        self.errors = errors
            .iter()
            .map(|error| SummaryError {
                field: error.field.clone(),
                sentence: super::display::error_sentence(&error.field, &error.message),
            })
            .collect();
        self
    }
}

/// A field error in the summary: a link to the field, and what is wrong
/// in one sentence naming it.
#[derive(Clone, Debug, Default)]
pub struct SummaryError {
    pub field: String,
    pub sentence: String,
}

/// Why a page cannot be shown as asked.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A service refused or failed: shown as a page with its status.
    #[error(transparent)]
    App(AppError),
    /// Sign in first, then come back to this path.
    #[error("sign in to see {0}")]
    SignIn(String),
    /// The form came without a valid CSRF token.
    #[error("the form's security token is missing or too old")]
    Csrf,
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl From<crate::domain::Refusal> for WebError {
    fn from(refusal: crate::domain::Refusal) -> Self {
        Self::App(refusal.into())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Layout,
    status: u16,
    detail: String,
}

impl WebError {
    /// Its status, title and what the page says.
    pub fn explained(&self) -> (StatusCode, &'static str, String) {
        match self {
            WebError::SignIn(_) => (StatusCode::SEE_OTHER, "Sign in", String::new()),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from this site's current page (its security token \
                 is missing or too old). Go back, reload the page and send it again."
                    .into(),
            ),
            WebError::App(error) => {
                let kind = ProblemType::of(error);
                let detail = if error.is_internal() {
                    tracing::error!(%error, "page failed");
                    "Something failed on our side; it has been logged. Try again later.".into()
                } else {
                    sentence(&error.to_string())
                };
                let status = StatusCode::from_u16(kind.status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, kind.title(), detail)
            }
        }
    }

    /// The page for this error in `layout` (whose title it sets): the
    /// viewer's own header when `layout` is theirs.
    pub fn page(&self, mut layout: Layout) -> Response {
        if let WebError::SignIn(next) = self {
            return see_other(&format!("/login?next={}", super::forms::encode(next)));
        }
        let (status, title, detail) = self.explained();
        layout.title = title.to_string();
        layout.section = "";
        let page = ErrorPage {
            page: layout,
            status: status.as_u16(),
            detail,
        };
        respond(page, status)
    }
}

/// Pages render their errors with the viewer ([`show_errors`]); this is the
/// page of an error that reaches no page layer.
impl poem::error::ResponseError for WebError {
    fn status(&self) -> StatusCode {
        self.explained().0
    }

    fn as_response(&self) -> Response {
        self.page(Layout::public("", ""))
    }
}

/// Around every page, inside its session: an error (a refusal, a missing
/// entry, an expired form) becomes its page with the signed-in header.
pub async fn show_errors<E: poem::Endpoint>(
    endpoint: std::sync::Arc<E>,
    request: Request,
) -> poem::Result<Response> {
    let state = request.data::<AppState>().cloned();
    let session = request.extensions().get::<Session>().cloned();
    let csrf = request.extensions().get::<CsrfToken>().cloned();
    let error = match endpoint.call(request).await {
        Ok(response) => return Ok(response.into_response()),
        Err(error) => error,
    };
    let (Some(web), Some(state), Some(session), Some(csrf)) =
        (error.downcast_ref::<WebError>(), state, session, csrf)
    else {
        return Err(error);
    };
    // A viewer who cannot be loaded sees the page without their header.
    let viewer = load_viewer(&state.services, &session).await.ok().flatten();
    let mut layout = viewer_layout("", "", &session, &csrf, viewer.as_ref());
    layout.site = state.services.config.site_name();
    Ok(web.page(layout))
}

/// `text` with a capital letter and a full stop, as the pages write.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

pub type WebResult = Result<Response, WebError>;

/// The status of a page shown again: 409 with a conflict notice, 422 with
/// field errors, else 200.
pub fn page_status(conflict: bool, errors: &[FieldError]) -> StatusCode {
    if conflict {
        StatusCode::CONFLICT
    } else if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// A rendered template with `status`.
pub fn respond(template: impl IntoResponse, status: StatusCode) -> Response {
    template.with_status(status).into_response()
}

/// `303 See Other` to a path of ours (after a POST).
pub fn see_other(path: &str) -> Response {
    Redirect::see_other(path).into_response()
}

/// The request as a page handler sees it.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    session: &'a Session,
    csrf: &'a CsrfToken,
    verifier: &'a CsrfVerifier,
    pub viewer: Option<Viewer>,
    /// Path and query of this request (to come back after signing in).
    pub location: String,
    /// The client's address, for rate limits.
    pub client: String,
}

fn missing(what: &str) -> poem::Error {
    poem::Error::from_string(format!("{what} missing"), StatusCode::INTERNAL_SERVER_ERROR)
}

impl<'a> FromRequest<'a> for Ctx<'a> {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = request
            .data::<AppState>()
            .ok_or_else(|| missing("application state"))?;
        let extensions = request.extensions();
        let session = extensions
            .get::<Session>()
            .ok_or_else(|| missing("session"))?;
        let csrf = extensions
            .get::<CsrfToken>()
            .ok_or_else(|| missing("CSRF token"))?;
        let verifier = extensions
            .get::<CsrfVerifier>()
            .ok_or_else(|| missing("CSRF verifier"))?;
        let viewer = load_viewer(&state.services, session)
            .await
            .map_err(WebError::from)?;
        Ok(Self {
            state,
            session,
            csrf,
            verifier,
            viewer,
            location: request
                .uri()
                .path_and_query()
                .map_or_else(|| "/".into(), |path| path.as_str().to_string()),
            client: crate::middleware::client_ip(&state.config, request),
        })
    }
}

/// The signed-in person of `session` (one statement); a session whose
/// person is gone or disabled is ended.
async fn load_viewer(services: &Services, session: &Session) -> crate::AppResult<Option<Viewer>> {
    let Some(user_id) = session.get::<i64>(sessions::USER_KEY) else {
        return Ok(None);
    };
    let Some(signed_in) = auth::signed_in(services, user_id).await? else {
        session.purge();
        return Ok(None);
    };
    let person = signed_in.person;
    Ok(Some(Viewer {
        principal: signed_in.principal,
        name: person.user.display_name,
        email: person.user.email,
        memberships: person.memberships,
        pending: signed_in.pending,
        access_requests: signed_in.access_requests,
    }))
}

/// The layout of a page for `viewer` in `session`; takes the flash message.
fn viewer_layout(
    title: impl Into<String>,
    section: &'static str,
    session: &Session,
    csrf: &CsrfToken,
    viewer: Option<&Viewer>,
) -> Layout {
    let flash = session.get::<Flash>(FLASH_KEY);
    if flash.is_some() {
        session.remove(FLASH_KEY);
    }
    let mut layout = Layout::public(title, section);
    layout.csrf = csrf.0.clone();
    layout.flash = flash;
    if let Some(viewer) = viewer {
        layout.signed_in = true;
        layout.name = viewer.name.clone();
        layout.is_admin = viewer.is_admin();
        layout.is_moderator = viewer.is_moderator();
        layout.writes = viewer.is_admin() || !viewer.memberships.is_empty();
        layout.owned = viewer.owned();
        layout.pending = viewer.pending.unwrap_or(0);
        layout.access_requests = viewer.access_requests.unwrap_or(0);
    }
    layout
}

impl Ctx<'_> {
    pub fn services(&self) -> &Services {
        &self.state.services
    }

    pub fn now(&self) -> i64 {
        self.state.services.now()
    }

    /// The signed-in viewer, or a redirect to the sign-in page and back.
    pub fn require(&self) -> Result<&Viewer, WebError> {
        self.viewer
            .as_ref()
            .ok_or_else(|| WebError::SignIn(self.location.clone()))
    }

    /// The layout of this page for this viewer; takes the flash message.
    pub fn layout(&self, title: impl Into<String>, section: &'static str) -> Layout {
        let mut layout = viewer_layout(
            title,
            section,
            self.session,
            self.csrf,
            self.viewer.as_ref(),
        );
        layout.site = self.state.services.config.site_name();
        layout
    }

    /// The fields of a POSTed form, once its CSRF token checks out.
    pub fn form(&self, body: &[u8]) -> Result<Form, WebError> {
        self.checked(Form::parse(body))
    }

    /// `form`, however it was read, once its CSRF token checks out.
    pub fn checked(&self, form: Form) -> Result<Form, WebError> {
        if self.verifier.is_valid(form.text(CSRF_FIELD)) {
            Ok(form)
        } else {
            Err(WebError::Csrf)
        }
    }

    /// The session, for what a page keeps from one request to the next.
    pub fn session(&self) -> &Session {
        self.session
    }

    /// Shows `text` (and `link`) on the next page.
    pub fn flash(&self, text: impl Into<String>, link: Option<String>) {
        self.session.set(
            FLASH_KEY,
            Flash {
                text: text.into(),
                link,
            },
        );
    }

    /// Signs `user_id` in under a new session id (a session id known before
    /// signing in is worth nothing after).
    pub fn sign_in(&self, user_id: i64) {
        self.session.renew();
        self.session.set(sessions::USER_KEY, user_id);
    }

    /// Moves the session to a new id (after its other copies were revoked).
    pub fn renew(&self) {
        self.session.renew();
    }

    pub fn sign_out(&self) {
        self.session.purge();
    }
}

/// The signed-in moderator or admin; anyone else is refused.
pub fn require_moderator<'a>(ctx: &'a Ctx<'_>) -> Result<&'a Viewer, WebError> {
    let viewer = ctx.require()?;
    if viewer.is_moderator() {
        Ok(viewer)
    } else {
        Err(WebError::App(AppError::Forbidden(
            "only moderators and admins may open this page".into(),
        )))
    }
}
