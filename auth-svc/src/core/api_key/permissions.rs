//! A key's permissions: for each resource, the actions it may take (`{"task": ["read"]}`), kept in the order given,
//! and stored as the package stores them, as JSON text.

use serde::de::{Deserializer, MapAccess, Visitor};

/// Resources and their actions, in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions(pub Vec<(String, Vec<String>)>);

impl Permissions {
    /// The stored text, `{"resource":["action",…],…}`.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (index, (resource, actions)) in self.0.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::Value::from(resource.as_str()).to_string());
            out.push(':');
            out.push_str(&serde_json::Value::from(actions.clone()).to_string());
        }
        out.push('}');
        out
    }

    /// Reads the stored text; `None` for anything that is not an object of string arrays (the package's
    /// `safeJSONParse` giving nothing usable).
    pub fn from_json(text: &str) -> Option<Self> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let read = (&mut deserializer).deserialize_map(OrderedMap).ok()?;
        deserializer.end().ok()?;
        Some(read)
    }

    /// Whether these permissions allow every action `required` names (the package's `role(…).authorize`: each
    /// resource present, each of its actions listed).
    pub fn allows(&self, required: &Permissions) -> bool {
        required.0.iter().all(|(resource, actions)| {
            self.actions(resource)
                .is_some_and(|granted| actions.iter().all(|action| granted.contains(action)))
        })
    }

    /// The actions granted on `resource`, if it is named.
    pub fn actions(&self, resource: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(name, _)| name == resource)
            .map(|(_, actions)| actions.as_slice())
    }
}

struct OrderedMap;

impl<'de> Visitor<'de> for OrderedMap {
    type Value = Permissions;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an object of string arrays")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Permissions, A::Error> {
        let mut grants: Vec<(String, Vec<String>)> = Vec::new();
        while let Some((resource, actions)) = map.next_entry::<String, Vec<String>>()? {
            // A repeated resource keeps its last value in its first place, as JSON.parse does.
            match grants.iter_mut().find(|(name, _)| *name == resource) {
                Some(existing) => existing.1 = actions,
                None => grants.push((resource, actions)),
            }
        }
        Ok(Permissions(grants))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(pairs: &[(&str, &[&str])]) -> Permissions {
        Permissions(
            pairs
                .iter()
                .map(|(resource, actions)| {
                    (
                        (*resource).to_owned(),
                        actions.iter().map(|a| (*a).to_owned()).collect(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn keeps_the_order_given_through_storage() {
        let written = grants(&[("task", &["read", "write"]), ("account", &["read"])]);
        let text = written.to_json();
        assert_eq!(text, r#"{"task":["read","write"],"account":["read"]}"#);
        assert_eq!(Permissions::from_json(&text), Some(written));
    }

    #[test]
    fn unreadable_text_grants_nothing() {
        for text in [
            "",
            "null",
            "[]",
            r#"{"task":"read"}"#,
            r#"{"task":[1]}"#,
            "{} x",
        ] {
            assert_eq!(Permissions::from_json(text), None, "{text}");
        }
    }

    #[test]
    fn allows_only_actions_listed_for_each_resource() {
        let key = grants(&[("task", &["read", "write"])]);
        assert!(key.allows(&grants(&[("task", &["read"])])));
        assert!(key.allows(&grants(&[("task", &["read", "write"])])));
        assert!(key.allows(&grants(&[])));
        assert!(!key.allows(&grants(&[("task", &["delete"])])));
        assert!(!key.allows(&grants(&[("task", &["read"]), ("user", &["read"])])));
        assert!(!grants(&[]).allows(&grants(&[("task", &["read"])])));
    }
}
