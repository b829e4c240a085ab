//! What the buttons on an entry's pages do. A button posts to
//! `…/{id}/{command}`; the commands, which of them are confirmed first and
//! what the next page says are decided here for the group's page and the
//! moderator's alike.

use poem::web::Path;
use poem::{Response, handler};

use super::page::entry_page;
use crate::domain::lifecycle::{ActionRequest, LiveChange};
use crate::domain::{Action, FieldError, TextEnum};
use crate::error::{AppError, AppResult};
use crate::service::{entries, syndication};
use crate::web::context::{Ctx, Notice, Viewer, WebError, WebResult, see_other, sentence};
use crate::web::forms::{Form, FormState};
use crate::web::query::id_of;

/// What a button asks for: the last segment of the path it posts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// A step of the life cycle, named as the action with dashes:
    /// `submit`, `approve`, `request-changes`, …
    Act(Action),
    /// The status of a published event, changed without review.
    EventStatus,
    /// One meeting of a published series called off, without review.
    CancelOccurrence,
    Delete,
    Clone,
    /// A failed cross-post (form field `post`) sent again.
    RetryPost,
}

impl Command {
    pub fn parse(segment: &str) -> Option<Self> {
        Some(match segment {
            "event-status" => Self::EventStatus,
            "cancel-occurrence" => Self::CancelOccurrence,
            "delete" => Self::Delete,
            "clone" => Self::Clone,
            "retry-post" => Self::RetryPost,
            _ => Self::Act(
                Action::ALL
                    .iter()
                    .copied()
                    .find(|action| action.as_str().replace('_', "-") == segment)?,
            ),
        })
    }

    /// Steps that cannot be undone are confirmed first.
    pub fn is_irreversible(self) -> bool {
        matches!(
            self,
            Self::Delete | Self::Act(Action::Withdraw | Action::Reject | Action::Unpublish)
        )
    }

    /// What the entry's group does from its page (moderators decide from theirs).
    fn is_the_groups(self) -> bool {
        !matches!(self, Self::Act(action) if action.is_moderation()
            || matches!(action, Action::Create | Action::Edit | Action::Update))
    }
}

/// What the next page says once `action` was taken.
pub fn done_text(action: Action) -> &'static str {
    match action {
        Action::Submit => "Submitted for review: a moderator will look at it.",
        Action::Withdraw => "Withdrawn.",
        Action::Approve => "Approved: it is published in its window.",
        Action::Reject => "Rejected; the group sees your reason.",
        Action::RequestChanges => "Sent back to the group with your request.",
        Action::Unpublish => "Unpublished: the feeds tell clients to drop it.",
        Action::Comment => "Comment added.",
        Action::Create | Action::Edit | Action::Update => "Saved.",
    }
}

/// What an action's form asks: its comment, and the version the page was
/// shown at (a comment is added whatever the version).
pub fn action_request(form: &Form, action: Action) -> ActionRequest {
    ActionRequest {
        comment: form.optional("comment").map(str::to_string),
        version: form
            .text("version")
            .parse()
            .ok()
            .filter(|_| action != Action::Comment),
        ..ActionRequest::default()
    }
}

/// "Someone else was quicker": the 409s of actions, said plainly.
fn conflict_notice(error: &AppError) -> Option<Notice> {
    match error {
        AppError::StaleVersion { .. } => Some(Notice {
            heading: "This entry changed meanwhile".into(),
            text: "Someone else changed it after you opened this page, so nothing was done. \
                   Here it is as it stands now; decide again if you still want to."
                .into(),
        }),
        AppError::InvalidTransition(message) | AppError::Conflict(message) => Some(Notice {
            heading: "Not possible any more".into(),
            text: sentence(message),
        }),
        _ => None,
    }
}

/// Carries out `command` on entry `id` for its group; the page to go to next.
async fn carry_out(
    ctx: &Ctx<'_>,
    viewer: &Viewer,
    id: i64,
    command: Command,
    form: &Form,
) -> AppResult<Response> {
    let (services, principal) = (ctx.services(), &viewer.principal);
    let version = form.text("version").parse().ok();
    let back = format!("/my/entries/{id}");
    let live_changed = "Changed: it shows everywhere now.";
    let (text, next) = match command {
        Command::Act(action) => {
            let request = action_request(form, action);
            entries::act(services, principal, id, action, &request).await?;
            (done_text(action), back)
        }
        Command::EventStatus => {
            let change = LiveChange {
                version,
                event_status: Some(form.text("event_status").to_string()),
                ..LiveChange::default()
            };
            entries::change_live(services, principal, id, &change).await?;
            (live_changed, back)
        }
        Command::CancelOccurrence => {
            let occurrence = form.text("occurrence");
            entries::cancel_occurrence(services, principal, id, version, occurrence).await?;
            (live_changed, back)
        }
        Command::Delete => {
            entries::delete(services, principal, id).await?;
            ("Deleted.", "/my/entries".to_string())
        }
        Command::Clone => {
            let copy = entries::clone_entry(services, principal, id).await?;
            let edit = format!("/my/entries/{}/edit", copy.entry.id);
            ("A copy was made as a new draft: adjust it and save.", edit)
        }
        Command::RetryPost => {
            let post = form
                .text("post")
                .parse()
                .map_err(|_| AppError::not_found("post"))?;
            syndication::retry(services, principal, id, post).await?;
            ("It is being sent again.", back)
        }
    };
    ctx.flash(text, None);
    Ok(see_other(&next))
}

#[handler]
pub async fn act(
    ctx: Ctx<'_>,
    Path((id, command)): Path<(String, String)>,
    body: Vec<u8>,
) -> WebResult {
    let form = ctx.form(&body)?;
    let viewer = ctx.require()?;
    let entry = id_of(&id, "entry")?;
    let command = Command::parse(&command)
        .filter(|command| command.is_the_groups())
        .ok_or_else(|| WebError::App(AppError::not_found("action")))?;
    let again = |errors: Vec<FieldError>| {
        let state = FormState::with_errors(form.values(), errors);
        entry_page(&ctx, viewer, &id, state, None)
    };
    if command.is_irreversible() {
        if let Some(error) = form.unconfirmed() {
            return again(vec![error]).await;
        }
    }
    match carry_out(&ctx, viewer, entry, command, &form).await {
        Ok(response) => Ok(response),
        Err(AppError::Validation(errors)) => again(errors).await,
        Err(error) => match conflict_notice(&error) {
            Some(notice) => entry_page(&ctx, viewer, &id, FormState::default(), Some(notice)).await,
            None => Err(error.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_named_by_their_path() {
        assert_eq!(
            Command::parse("request-changes"),
            Some(Command::Act(Action::RequestChanges))
        );
        assert_eq!(Command::parse("request_changes"), None);
        assert_eq!(Command::parse("submit"), Some(Command::Act(Action::Submit)));
        assert_eq!(Command::parse("clone"), Some(Command::Clone));
        assert_eq!(Command::parse("retry-post"), Some(Command::RetryPost));
        assert_eq!(Command::parse("nothing"), None);
    }

    #[test]
    fn the_group_takes_its_steps_and_moderators_theirs() {
        let groups = |segment| Command::parse(segment).is_some_and(Command::is_the_groups);
        assert!(groups("submit") && groups("withdraw") && groups("comment"));
        assert!(groups("delete") && groups("cancel-occurrence"));
        assert!(!groups("approve") && !groups("unpublish") && !groups("edit"));
        assert!(Command::Act(Action::Reject).is_irreversible());
        assert!(!Command::Act(Action::Submit).is_irreversible());
    }
}
