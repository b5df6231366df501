//! The admin plugin's actions, each refused with its own code to a caller who is not an administrator.

use warden_proto::Reason;

/// What an administrator may do; a caller who is not one is refused with the action's own Better Auth code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminAction {
    ListUsers,
    CreateUsers,
    SetRole,
    Ban,
    ListSessions,
    RevokeSessions,
    DeleteUsers,
    SetPassword,
    GetUser,
    /// Warden's own: turning a user's second factor off.
    ResetTwoFactor,
}

impl AdminAction {
    /// The Better Auth code a caller who is not an administrator is refused with.
    pub fn reason(self) -> Reason {
        match self {
            Self::ListUsers => Reason::YouAreNotAllowedToListUsers,
            Self::CreateUsers => Reason::YouAreNotAllowedToCreateUsers,
            Self::SetRole => Reason::YouAreNotAllowedToChangeUsersRole,
            Self::Ban => Reason::YouAreNotAllowedToBanUsers,
            Self::ListSessions => Reason::YouAreNotAllowedToListUsersSessions,
            Self::RevokeSessions => Reason::YouAreNotAllowedToRevokeUsersSessions,
            Self::DeleteUsers => Reason::YouAreNotAllowedToDeleteUsers,
            Self::SetPassword => Reason::YouAreNotAllowedToSetUsersPassword,
            Self::GetUser => Reason::YouAreNotAllowedToGetUser,
            Self::ResetTwoFactor => Reason::YouAreNotAllowedToResetTwoFactor,
        }
    }

    /// The action as Better Auth's admin access control names it (`resource`, `action`): what an API key's
    /// permissions must grant for the key to take it.
    pub fn statement(self) -> (&'static str, &'static str) {
        match self {
            Self::ListUsers => ("user", "list"),
            Self::CreateUsers => ("user", "create"),
            Self::SetRole => ("user", "set-role"),
            Self::Ban => ("user", "ban"),
            Self::ListSessions => ("session", "list"),
            Self::RevokeSessions => ("session", "revoke"),
            Self::DeleteUsers => ("user", "delete"),
            Self::SetPassword => ("user", "set-password"),
            Self::GetUser => ("user", "get"),
            Self::ResetTwoFactor => ("user", "update"),
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::ListUsers => "You are not allowed to list users",
            Self::CreateUsers => "You are not allowed to create users",
            Self::SetRole => "You are not allowed to change users role",
            Self::Ban => "You are not allowed to ban users",
            Self::ListSessions => "You are not allowed to list users sessions",
            Self::RevokeSessions => "You are not allowed to revoke users sessions",
            Self::DeleteUsers => "You are not allowed to delete users",
            Self::SetPassword => "You are not allowed to set users password",
            Self::GetUser => "You are not allowed to get user",
            Self::ResetTwoFactor => "You are not allowed to reset users two factor",
        }
    }
}
