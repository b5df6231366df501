//! The roles an administrator gives a user.

/// One or more roles, stored joined by `,` as Better Auth stores several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles(Vec<String>);

impl Roles {
    /// `None` when no role is given.
    pub fn parse(roles: Vec<String>) -> Option<Self> {
        (!roles.is_empty()).then_some(Self(roles))
    }

    /// The stored form: `admin,user`.
    pub fn joined(&self) -> String {
        self.0.join(",")
    }
}

/// The role that makes a user an administrator (Better Auth's default `adminRoles`).
pub const ADMIN_ROLE: &str = "admin";

/// Whether `user` is an administrator: one of their roles is `admin`, or their id is listed.
pub fn is_admin(user: &super::UserRecord, admin_user_ids: &[String]) -> bool {
    admin_user_ids.contains(&user.id)
        || user
            .role
            .as_deref()
            .is_some_and(|roles| roles.split(',').any(|role| role.trim() == ADMIN_ROLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_stored_joined_and_none_is_refused() {
        assert_eq!(Roles::parse(Vec::new()), None);
        let roles = Roles::parse(vec!["admin".into(), "user".into()]).unwrap();
        assert_eq!(roles.joined(), "admin,user");
        assert_eq!(Roles::parse(vec!["user".into()]).unwrap().joined(), "user");
    }
}
