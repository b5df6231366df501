//! The user list's query: Better Auth's `list-users` parameters, checked and typed.
//!
//! Enumerated parameters with an unknown value are a validation error, as Better Auth's schema makes them. A field
//! that is not a user column, or a filter value that cannot be one of the column's values, matches no user, as Better
//! Auth answers `{"users":[],"total":0}` when its adapter refuses the query.

use chrono::{DateTime, Utc};

use super::is_storable;

/// `list-users` as the caller sent it.
#[derive(Clone, Debug, Default)]
pub struct ListUsers {
    pub search_value: Option<String>,
    pub search_field: Option<String>,
    pub search_operator: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub sort_by: Option<String>,
    pub sort_direction: Option<String>,
    pub filter_field: Option<String>,
    pub filter_value: Option<String>,
    pub filter_operator: Option<String>,
}

/// A user column that can be searched, filtered or sorted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    Email,
    EmailVerified,
    Image,
    CreatedAt,
    UpdatedAt,
    Role,
    Banned,
    BanReason,
    BanExpires,
}

enum Kind {
    Text,
    Bool,
    Date,
}

impl Field {
    /// By Better Auth's (camelCase) field name.
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "name" => Self::Name,
            "email" => Self::Email,
            "emailVerified" => Self::EmailVerified,
            "image" => Self::Image,
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            "role" => Self::Role,
            "banned" => Self::Banned,
            "banReason" => Self::BanReason,
            "banExpires" => Self::BanExpires,
            _ => return None,
        })
    }

    fn kind(self) -> Kind {
        match self {
            Self::EmailVerified | Self::Banned => Kind::Bool,
            Self::CreatedAt | Self::UpdatedAt | Self::BanExpires => Kind::Date,
            _ => Kind::Text,
        }
    }

    /// A filter value as this column's type; `None` when it cannot be one.
    fn value(self, raw: &str) -> Option<Value> {
        match self.kind() {
            Kind::Text => Some(Value::Text(raw.to_owned())),
            Kind::Bool => match raw {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            Kind::Date => DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|date| Value::Date(date.with_timezone(&Utc))),
        }
    }
}

/// A filter value, typed as its column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Date(DateTime<Utc>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FilterOp {
    Eq(Value),
    Ne(Value),
    Lt(Value),
    Lte(Value),
    Gt(Value),
    Gte(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    Text(TextOp, String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub field: Field,
    pub op: TextOp,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub field: Field,
    pub op: FilterOp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub field: Field,
    pub descending: bool,
}

/// A checked user query. `limit` and `offset` are set only when given as positive numbers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserQuery {
    pub search: Option<Search>,
    pub filter: Option<Filter>,
    pub sort: Option<Sort>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

const SEARCH_FIELDS: &[&str] = &["email", "name"];
const TEXT_OPERATORS: &[&str] = &["contains", "starts_with", "ends_with"];
const DIRECTIONS: &[&str] = &["asc", "desc"];
const FILTER_OPERATORS: &[&str] = &[
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
];

impl ListUsers {
    /// The query, `Ok(None)` when it can match no user, or zod's message naming every bad parameter.
    pub fn parse(self) -> Result<Option<UserQuery>, String> {
        let mut issues = Vec::new();
        let mut option = |name: &str, value: &Option<String>, allowed: &[&str]| {
            if let Some(value) = value
                && !allowed.contains(&value.as_str())
            {
                let expected: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
                issues.push(format!(
                    "[query.{name}] Invalid option: expected one of {}",
                    expected.join("|")
                ));
            }
        };
        option("searchField", &self.search_field, SEARCH_FIELDS);
        option("searchOperator", &self.search_operator, TEXT_OPERATORS);
        option("sortDirection", &self.sort_direction, DIRECTIONS);
        option("filterOperator", &self.filter_operator, FILTER_OPERATORS);
        // The values are compared with columns; the other parameters are names, which a NUL never matches.
        for (name, value) in [
            ("searchValue", &self.search_value),
            ("filterValue", &self.filter_value),
        ] {
            if value.as_deref().is_some_and(|value| !is_storable(value)) {
                issues.push(format!(
                    "[query.{name}] {name} cannot contain a NUL character"
                ));
            }
        }
        if !issues.is_empty() {
            return Err(issues.join("; "));
        }

        let positive = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok()).filter(|n| *n > 0);
        let mut query = UserQuery {
            limit: positive(self.limit),
            offset: positive(self.offset),
            ..UserQuery::default()
        };
        if let Some(value) = self.search_value.filter(|value| !value.is_empty()) {
            let field = match self.search_field.as_deref() {
                Some("name") => Field::Name,
                _ => Field::Email,
            };
            let op = text_op(self.search_operator.as_deref()).unwrap_or(TextOp::Contains);
            query.search = Some(Search { field, op, value });
        }
        if let Some(raw) = self.filter_value {
            let Some(field) = Field::parse(self.filter_field.as_deref().unwrap_or("email")) else {
                return Ok(None);
            };
            let operator = self.filter_operator.as_deref().unwrap_or("eq");
            let Some(op) = filter_op(field, operator, &raw) else {
                return Ok(None);
            };
            query.filter = Some(Filter { field, op });
        }
        if let Some(sort_by) = self.sort_by {
            let Some(field) = Field::parse(&sort_by) else {
                return Ok(None);
            };
            let descending = self.sort_direction.as_deref() == Some("desc");
            query.sort = Some(Sort { field, descending });
        }
        Ok(Some(query))
    }
}

fn text_op(name: Option<&str>) -> Option<TextOp> {
    match name? {
        "contains" => Some(TextOp::Contains),
        "starts_with" => Some(TextOp::StartsWith),
        "ends_with" => Some(TextOp::EndsWith),
        _ => None,
    }
}

fn filter_op(field: Field, operator: &str, raw: &str) -> Option<FilterOp> {
    if let Some(op) = text_op(Some(operator)) {
        return matches!(field.kind(), Kind::Text).then(|| FilterOp::Text(op, raw.to_owned()));
    }
    let list = || -> Option<Vec<Value>> {
        raw.split(',')
            .map(|item| field.value(item.trim()))
            .collect()
    };
    Some(match operator {
        "in" => FilterOp::In(list()?),
        "not_in" => FilterOp::NotIn(list()?),
        "ne" => FilterOp::Ne(field.value(raw)?),
        "lt" => FilterOp::Lt(field.value(raw)?),
        "lte" => FilterOp::Lte(field.value(raw)?),
        "gt" => FilterOp::Gt(field.value(raw)?),
        "gte" => FilterOp::Gte(field.value(raw)?),
        _ => FilterOp::Eq(field.value(raw)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: ListUsers) -> Option<UserQuery> {
        input.parse().expect("valid query")
    }

    #[test]
    fn no_parameters_list_everyone_unpaged() {
        assert_eq!(parse(ListUsers::default()), Some(UserQuery::default()));
    }

    #[test]
    fn search_defaults_to_email_contains() {
        let query = parse(ListUsers {
            search_value: Some("ali".into()),
            ..ListUsers::default()
        })
        .unwrap();
        assert_eq!(
            query.search,
            Some(Search {
                field: Field::Email,
                op: TextOp::Contains,
                value: "ali".into()
            })
        );
        let empty = parse(ListUsers {
            search_value: Some(String::new()),
            ..ListUsers::default()
        })
        .unwrap();
        assert_eq!(empty.search, None);
    }

    #[test]
    fn unknown_options_are_reported_as_zod_reports_them() {
        let error = ListUsers {
            search_field: Some("phone".into()),
            sort_direction: Some("up".into()),
            ..ListUsers::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "[query.searchField] Invalid option: expected one of \"email\"|\"name\"; \
             [query.sortDirection] Invalid option: expected one of \"asc\"|\"desc\""
        );
    }

    #[test]
    fn values_with_a_nul_are_refused() {
        let error = ListUsers {
            search_value: Some("ada\0".into()),
            filter_value: Some("\0".into()),
            ..ListUsers::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            error,
            "[query.searchValue] searchValue cannot contain a NUL character; \
             [query.filterValue] filterValue cannot contain a NUL character"
        );
    }

    #[test]
    fn unknown_columns_and_impossible_values_match_nothing() {
        for input in [
            ListUsers {
                sort_by: Some("password".into()),
                ..ListUsers::default()
            },
            ListUsers {
                filter_field: Some("password".into()),
                filter_value: Some("x".into()),
                ..ListUsers::default()
            },
            ListUsers {
                filter_field: Some("banned".into()),
                filter_value: Some("maybe".into()),
                ..ListUsers::default()
            },
        ] {
            assert_eq!(input.parse().unwrap(), None);
        }
    }

    #[test]
    fn filters_take_their_columns_type() {
        let query = parse(ListUsers {
            filter_field: Some("banned".into()),
            filter_value: Some("true".into()),
            ..ListUsers::default()
        })
        .unwrap();
        assert_eq!(
            query.filter,
            Some(Filter {
                field: Field::Banned,
                op: FilterOp::Eq(Value::Bool(true))
            })
        );
        let query = parse(ListUsers {
            filter_field: Some("role".into()),
            filter_value: Some("admin, user".into()),
            filter_operator: Some("in".into()),
            ..ListUsers::default()
        })
        .unwrap();
        assert_eq!(
            query.filter.unwrap().op,
            FilterOp::In(vec![
                Value::Text("admin".into()),
                Value::Text("user".into())
            ])
        );
    }

    #[test]
    fn only_positive_limits_and_offsets_count() {
        let query = parse(ListUsers {
            limit: Some(0),
            offset: Some(-3),
            ..ListUsers::default()
        })
        .unwrap();
        assert_eq!((query.limit, query.offset), (None, None));
        let query = parse(ListUsers {
            limit: Some(5),
            offset: Some(10),
            ..ListUsers::default()
        })
        .unwrap();
        assert_eq!((query.limit, query.offset), (Some(5), Some(10)));
    }
}
