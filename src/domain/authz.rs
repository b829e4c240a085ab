//! Who may do what: pure decisions over an authenticated principal.

use std::collections::HashMap;

use super::validate::Refusal;
use super::{EntryStatus, GroupRole, GroupStatus, Role};

/// Whoever a request is authenticated as.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A person, logged in with a JWT.
    User {
        id: i64,
        name: String,
        role: Role,
        memberships: HashMap<i64, GroupRole>,
    },
    /// A group's API token: acts as an editor of that one group.
    GroupToken {
        token_id: i64,
        name: String,
        group_id: i64,
        /// The group's slug and status when the token was checked, so
        /// that writing to it needs no second look-up.
        group_slug: String,
        group_status: GroupStatus,
        created_by: i64,
    },
}

impl Principal {
    /// The user an action is attributed to: the person, or a token's creator.
    pub fn attributed_user_id(&self) -> i64 {
        match self {
            Principal::User { id, .. } => *id,
            Principal::GroupToken { created_by, .. } => *created_by,
        }
    }

    pub fn token_id(&self) -> Option<i64> {
        match self {
            Principal::User { .. } => None,
            Principal::GroupToken { token_id, .. } => Some(*token_id),
        }
    }

    /// How the actor appears in audit trails.
    pub fn display_name(&self) -> String {
        match self {
            Principal::User { name, .. } => name.clone(),
            Principal::GroupToken { name, .. } => format!("token {name}"),
        }
    }

    fn role(&self) -> Option<Role> {
        match self {
            Principal::User { role, .. } => Some(*role),
            Principal::GroupToken { .. } => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }

    /// Admins only: a refusal naming what only they may `do_what`.
    pub fn require_admin(&self, do_what: &str) -> Result<(), Refusal> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Refusal::Forbidden(format!("only admins may {do_what}")))
        }
    }

    /// Moderators and admins work the queue.
    pub fn is_moderator(&self) -> bool {
        matches!(self.role(), Some(Role::Admin | Role::Moderator))
    }

    /// The role this principal holds in a group, if any.
    pub fn group_role(&self, group_id: i64) -> Option<GroupRole> {
        match self {
            Principal::User { memberships, .. } => memberships.get(&group_id).copied(),
            Principal::GroupToken { group_id: own, .. } => {
                (*own == group_id).then_some(GroupRole::Editor)
            }
        }
    }

    /// A token's own group, named by `slug`, as it stood when the token
    /// was checked: its id and status.
    pub fn token_group(&self, slug: &str) -> Option<(i64, GroupStatus)> {
        match self {
            Principal::GroupToken {
                group_id,
                group_slug,
                group_status,
                ..
            } if group_slug == slug => Some((*group_id, *group_status)),
            _ => None,
        }
    }

    /// The groups whose entries this principal writes.
    pub fn own_group_ids(&self) -> Vec<i64> {
        match self {
            Principal::User { memberships, .. } => memberships.keys().copied().collect(),
            Principal::GroupToken { group_id, .. } => vec![*group_id],
        }
    }

    /// Create, edit, submit and withdraw the group's entries.
    pub fn can_write_entries(&self, group_id: i64) -> bool {
        self.is_admin() || self.group_role(group_id).is_some()
    }

    /// Edit an entry: its group, and moderators what is in review or
    /// published (fixing a typo themselves, as QGIS-Feed's reviewers can);
    /// a group's drafts stay its own.
    pub fn can_edit_entry(&self, group_id: i64, status: EntryStatus) -> bool {
        self.can_write_entries(group_id)
            || (self.is_moderator()
                && matches!(
                    status,
                    EntryStatus::Pending | EntryStatus::ChangesRequested | EntryStatus::Approved
                ))
    }

    /// See an entry: its group sees everything, moderators everything but drafts.
    pub fn can_view_entry(&self, group_id: i64, status: EntryStatus) -> bool {
        self.can_write_entries(group_id) || (self.is_moderator() && status != EntryStatus::Draft)
    }

    /// Add members and issue API tokens: admins and the group's owners.
    pub fn can_manage_group(&self, group_id: i64) -> bool {
        self.is_admin()
            || (matches!(self, Principal::User { .. })
                && self.group_role(group_id) == Some(GroupRole::Owner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, memberships: &[(i64, GroupRole)]) -> Principal {
        Principal::User {
            id: 1,
            name: "u".into(),
            role,
            memberships: memberships.iter().copied().collect(),
        }
    }

    #[test]
    fn editors_write_only_their_group() {
        let editor = user(Role::Member, &[(1, GroupRole::Editor)]);
        assert!(editor.can_write_entries(1));
        assert!(!editor.can_write_entries(2));
        assert!(!editor.can_view_entry(2, EntryStatus::Pending));
        assert!(!editor.can_manage_group(1));
    }

    #[test]
    fn moderators_see_all_but_drafts() {
        let moderator = user(Role::Moderator, &[]);
        assert!(moderator.can_view_entry(5, EntryStatus::Pending));
        assert!(!moderator.can_view_entry(5, EntryStatus::Draft));
        assert!(!moderator.can_write_entries(5));
    }

    #[test]
    fn moderators_edit_what_is_in_review_or_published() {
        let moderator = user(Role::Moderator, &[]);
        for status in [
            EntryStatus::Pending,
            EntryStatus::ChangesRequested,
            EntryStatus::Approved,
        ] {
            assert!(moderator.can_edit_entry(5, status), "{status}");
        }
        for status in [
            EntryStatus::Draft,
            EntryStatus::Rejected,
            EntryStatus::Withdrawn,
            EntryStatus::Unpublished,
        ] {
            assert!(!moderator.can_edit_entry(5, status), "{status}");
        }
        let editor = user(Role::Member, &[(1, GroupRole::Editor)]);
        assert!(editor.can_edit_entry(1, EntryStatus::Draft));
        assert!(!editor.can_edit_entry(2, EntryStatus::Pending));
    }

    #[test]
    fn tokens_act_as_editors_of_one_group() {
        let token = Principal::GroupToken {
            token_id: 1,
            name: "ci".into(),
            group_id: 3,
            group_slug: "three".into(),
            group_status: GroupStatus::Active,
            created_by: 9,
        };
        assert_eq!(token.token_group("three"), Some((3, GroupStatus::Active)));
        assert_eq!(token.token_group("four"), None);
        assert!(token.can_write_entries(3));
        assert!(!token.can_write_entries(4));
        assert!(!token.can_manage_group(3));
        assert!(!token.is_moderator());
        assert_eq!(token.attributed_user_id(), 9);
    }

    #[test]
    fn owners_manage_their_group() {
        let owner = user(Role::Member, &[(1, GroupRole::Owner)]);
        assert!(owner.can_manage_group(1));
        assert!(!owner.can_manage_group(2));
        assert!(user(Role::Admin, &[]).can_manage_group(2));
    }
}
