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
