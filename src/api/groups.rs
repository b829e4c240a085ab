use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json, types::MaybeUndefined};

use super::json::JsonBody;
use super::{ApiTags, BearerAuth, Created, Deleted, instant};
use crate::AppState;
use crate::domain::authz::Principal;
use crate::domain::group::{GroupPatch, languages_from_column, languages_of};
use crate::domain::{GroupRole, GroupStatus};
use crate::entities::{api_token, group, membership, user};
use crate::error::AppResult;
use crate::service::groups;

pub struct GroupsApi;

/// A group as an admin creates or updates it (absent fields keep their value on update).
#[derive(Object, Clone, Debug, Default, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct GroupInput {
    /// Lower-case letters, digits and dashes; 2 to 64 characters. Fixed once created.
    #[oai(nullable)]
    pub slug: MaybeUndefined<String>,
    /// Display name (required to create).
    #[oai(nullable)]
    pub name: MaybeUndefined<String>,
    /// ISO 3166-1 alpha-2 country, or empty for international groups.
    #[oai(nullable)]
    pub country: MaybeUndefined<String>,
    /// Group website (http or https), or empty.
    #[oai(nullable)]
    pub website: MaybeUndefined<String>,
    /// Contact person or address.
    #[oai(nullable)]
    pub contact: MaybeUndefined<String>,
    /// The languages the group writes in (ISO 639-1, main one first): new
    /// entries default to the first. `[]` goes back to its country's.
    #[oai(nullable)]
    pub languages: MaybeUndefined<Vec<String>>,
    /// Active groups publish; suspended ones cannot submit; removed ones are hidden.
    #[oai(nullable)]
    pub status: MaybeUndefined<GroupStatus>,
    /// Followable from the fediverse as `@slug@host`, its entries sent to
    /// its followers (off until turned on; owners may change this field alone).
    #[oai(nullable)]
    pub federated: MaybeUndefined<bool>,
}

impl GroupInput {
    /// The patch it asks for; `null` is refused (leave a field out to keep it).
    fn into_patch(self) -> AppResult<GroupPatch> {
        let mut errors = Vec::new();
        let patch = GroupPatch {
            slug: super::not_null("slug", self.slug, &mut errors),
            name: super::not_null("name", self.name, &mut errors),
            country: super::not_null("country", self.country, &mut errors),
            website: super::not_null("website", self.website, &mut errors),
            contact: super::not_null("contact", self.contact, &mut errors),
            languages: super::not_null("languages", self.languages, &mut errors),
            status: super::not_null("status", self.status, &mut errors),
            federated: super::not_null("federated", self.federated, &mut errors),
        };
        super::checked(patch, errors)
    }
}

#[derive(Object)]
struct GroupOut {
    slug: String,
    name: String,
    /// ISO 3166-1 alpha-2, or empty.
    country: String,
    website: String,
    /// The contact, often a person's address: only for admins and the group's owners.
    #[oai(skip_serializing_if_is_none)]
    contact: Option<String>,
    /// The languages it writes in, main one first: its own, else its country's.
    languages: Vec<String>,
    /// Whether `languages` are the group's own choice (else its country's).
    languages_set: bool,
    status: GroupStatus,
    /// Followable from the fediverse (`acct:{slug}@{host}`).
    federated: bool,
}

impl GroupOut {
    /// The group as `viewer` may see it.
    fn seen_by(group: group::Model, viewer: Option<&Principal>) -> Self {
        let contact_shown = viewer.is_some_and(|viewer| viewer.can_manage_group(group.id));
        Self {
            languages: languages_of(&languages_from_column(&group.languages), &group.country),
            languages_set: !group.languages.is_empty(),
            status: group.status,
            federated: group.federated,
            slug: group.slug,
            name: group.name,
            country: group.country,
            website: group.website,
            contact: contact_shown.then_some(group.contact),
        }
    }
}

#[derive(Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct AddMember {
    /// Email of an existing user.
    email: String,
    role: GroupRole,
}

#[derive(Object)]
struct MemberOut {
    user_id: i64,
    email: String,
    display_name: String,
    role: GroupRole,
}

impl From<(membership::Model, user::Model)> for MemberOut {
    fn from((membership, user): (membership::Model, user::Model)) -> Self {
        Self {
            user_id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: membership.role,
        }
    }
}

#[derive(Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    /// What the token is for, e.g. `website CI`.
    name: String,
}

#[derive(Object)]
struct TokenOut {
    id: i64,
    name: String,
    /// First characters of the secret, to recognize it.
    prefix: String,
    created_at: chrono::DateTime<chrono::Utc>,
    #[oai(nullable)]
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(nullable)]
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<api_token::Model> for TokenOut {
    fn from(token: api_token::Model) -> Self {
        Self {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            created_at: instant(token.created_at),
            last_used_at: token.last_used_at.map(instant),
            revoked_at: token.revoked_at.map(instant),
        }
    }
}

#[derive(Object)]
struct CreatedToken {
    /// The secret. Shown this once; only its hash is stored.
    token: String,
    #[oai(flatten)]
    details: TokenOut,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Groups")]
impl GroupsApi {
    /// The public directory of active groups.
    #[oai(path = "/groups", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        request: &poem::Request,
    ) -> AppResult<Json<Vec<GroupOut>>> {
        let viewer = super::optional_principal(&state, request).await?;
        let groups = groups::list_public(&state.services).await?;
        Ok(Json(
            groups
                .into_iter()
                .map(|group| GroupOut::seen_by(group, viewer.as_ref()))
                .collect(),
        ))
    }

    /// Create a group (admins only).
    #[oai(path = "/groups", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<GroupInput>,
    ) -> AppResult<Created<GroupOut>> {
        let group = groups::create(&state.services, &auth.0, &body.0.into_patch()?).await?;
        Ok(Created::Created(Json(GroupOut::seen_by(
            group,
            Some(&auth.0),
        ))))
    }

    /// One group, active or suspended; with an admin's bearer token, removed ones too.
    #[oai(path = "/groups/:slug", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        request: &poem::Request,
        slug: Path<String>,
    ) -> AppResult<Json<GroupOut>> {
        let principal = super::optional_principal(&state, request).await?;
        let group = groups::get(&state.services, principal.as_ref(), &slug).await?;
        Ok(Json(GroupOut::seen_by(group, principal.as_ref())))
    }

    /// Update a group; suspend or remove it through `status` (admins only).
    /// Owners may change `federated` alone.
    #[oai(path = "/groups/:slug", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        body: JsonBody<GroupInput>,
    ) -> AppResult<Json<GroupOut>> {
        let group = groups::update(&state.services, &auth.0, &slug, &body.0.into_patch()?).await?;
        Ok(Json(GroupOut::seen_by(group, Some(&auth.0))))
    }

    /// Members of a group (its members and moderators).
    #[oai(path = "/groups/:slug/members", method = "get")]
    async fn members(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
    ) -> AppResult<Json<Vec<MemberOut>>> {
        let members = groups::list_members(&state.services, &auth.0, &slug).await?;
        Ok(Json(members.into_iter().map(MemberOut::from).collect()))
    }

    /// Add a user to a group or change their role (admins and group owners).
    #[oai(path = "/groups/:slug/members", method = "post")]
    async fn add_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        body: JsonBody<AddMember>,
    ) -> AppResult<Created<MemberOut>> {
        let member =
            groups::add_member(&state.services, &auth.0, &slug, &body.email, body.role).await?;
        Ok(Created::Created(Json(member.into())))
    }

    /// Remove a user from a group (admins and group owners).
    #[oai(path = "/groups/:slug/members/:user_id", method = "delete")]
    async fn remove_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        user_id: Path<i64>,
    ) -> AppResult<Deleted> {
        groups::remove_member(&state.services, &auth.0, &slug, *user_id).await?;
        Ok(Deleted::Deleted)
    }

    /// The group's API tokens, without secrets (admins and group owners).
    #[oai(path = "/groups/:slug/tokens", method = "get")]
    async fn tokens(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
    ) -> AppResult<Json<Vec<TokenOut>>> {
        let tokens = groups::list_tokens(&state.services, &auth.0, &slug).await?;
        Ok(Json(tokens.into_iter().map(TokenOut::from).collect()))
    }

    /// Issue an API token that acts as an editor of the group; the secret is shown once.
    #[oai(path = "/groups/:slug/tokens", method = "post")]
    async fn create_token(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        body: JsonBody<CreateToken>,
    ) -> AppResult<Created<CreatedToken>> {
        let (token, secret) =
            groups::create_token(&state.services, &auth.0, &slug, &body.name).await?;
        Ok(Created::Created(Json(CreatedToken {
            token: secret,
            details: token.into(),
        })))
    }

    /// Revoke an API token; it stops working at once.
    #[oai(path = "/groups/:slug/tokens/:token_id", method = "delete")]
    async fn revoke_token(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        slug: Path<String>,
        token_id: Path<i64>,
    ) -> AppResult<Json<TokenOut>> {
        let token = groups::revoke_token(&state.services, &auth.0, &slug, *token_id).await?;
        Ok(Json(token.into()))
    }
}
