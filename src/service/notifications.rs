//! Which mail each person wants: every kind can be turned off except
//! invitations and password resets (those are asked for).

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::Services;
use crate::domain::authz::Principal;
use crate::domain::mail::Topic;
use crate::entities::{mail_preference, user};
use crate::error::{AppError, AppResult};

/// A person's choices; everything on unless turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preferences {
    pub submissions: bool,
    pub decisions: bool,
    pub access_requests: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            submissions: true,
            decisions: true,
            access_requests: true,
        }
    }
}

impl Preferences {
    fn wants(&self, topic: Topic) -> bool {
        match topic {
            Topic::Submissions => self.submissions,
            Topic::Decisions => self.decisions,
            Topic::AccessRequests => self.access_requests,
        }
    }
}

impl From<mail_preference::Model> for Preferences {
    fn from(row: mail_preference::Model) -> Self {
        Self {
            submissions: row.submissions,
            decisions: row.decisions,
            access_requests: row.access_requests,
        }
    }
}

/// A change: `None` keeps a choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PreferencesPatch {
    pub submissions: Option<bool>,
    pub decisions: Option<bool>,
    pub access_requests: Option<bool>,
}

async fn of(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Preferences> {
    Ok(mail_preference::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(Preferences::from)
        .unwrap_or_default())
}

/// Whether `user_id` wants mail on `topic`.
pub async fn wants(db: &impl ConnectionTrait, user_id: i64, topic: Topic) -> AppResult<bool> {
    Ok(of(db, user_id).await?.wants(topic))
}

/// Those of `people` who want mail on `topic` (one query for all).
pub async fn wanting(
    db: &impl ConnectionTrait,
    people: Vec<user::Model>,
    topic: Topic,
) -> AppResult<Vec<user::Model>> {
    let choices: HashMap<i64, Preferences> = mail_preference::Entity::find()
        .filter(mail_preference::Column::UserId.is_in(people.iter().map(|person| person.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.user_id, Preferences::from(row)))
        .collect();
    Ok(people
        .into_iter()
        .filter(|person| {
            choices
                .get(&person.id)
                .copied()
                .unwrap_or_default()
                .wants(topic)
        })
        .collect())
}

fn person(principal: &Principal) -> AppResult<i64> {
    match principal {
        Principal::User { id, .. } => Ok(*id),
        Principal::GroupToken { .. } => Err(AppError::Forbidden(
            "API tokens receive no mail; log in as a person".into(),
        )),
    }
}

/// The signed-in person's choices.
pub async fn get(services: &Services, principal: &Principal) -> AppResult<Preferences> {
    of(&services.db, person(principal)?).await
}

/// Changes the signed-in person's choices.
pub async fn set(
    services: &Services,
    principal: &Principal,
    patch: PreferencesPatch,
) -> AppResult<Preferences> {
    let user_id = person(principal)?;
    let current = of(&services.db, user_id).await?;
    let wanted = Preferences {
        submissions: patch.submissions.unwrap_or(current.submissions),
        decisions: patch.decisions.unwrap_or(current.decisions),
        access_requests: patch.access_requests.unwrap_or(current.access_requests),
    };
    mail_preference::Entity::insert(mail_preference::ActiveModel {
        user_id: Set(user_id),
        submissions: Set(wanted.submissions),
        decisions: Set(wanted.decisions),
        access_requests: Set(wanted.access_requests),
        updated_at: Set(services.now()),
    })
    .on_conflict(
        OnConflict::column(mail_preference::Column::UserId)
            .update_columns([
                mail_preference::Column::Submissions,
                mail_preference::Column::Decisions,
                mail_preference::Column::AccessRequests,
                mail_preference::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&services.db)
    .await?;
    Ok(wanted)
}
