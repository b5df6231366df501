//! What a body must be as a whole before its fields are read: Better Auth's zod schemas are objects, records (the
//! routes that take additional fields) or both (sign-up), and a few routes declare no body at all. A body that is
//! missing, `null`, an array or a scalar is refused as zod refuses it, `[body] Invalid input: expected object,
//! received array`, after the origin checks and before the fields are looked at.

use serde_json::Value;

use crate::error::ApiError;

/// The body a route's schema requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `z.object(…)`: a JSON object, present.
    Object,
    /// `z.object(…).optional()`: a JSON object, or no body at all (sign-out).
    OptionalObject,
    /// `z.record(…)`: update-user and update-session, whose bodies are additional fields.
    Record,
    /// `z.object(…).and(z.record(…))`: sign-up, where zod reports both halves.
    ObjectAndRecord,
    /// No body schema: anything JSON, read as an empty object (revoke-sessions, revoke-other-sessions).
    Any,
}

impl Shape {
    /// `Ok` when `body` (`None`: no body) has this shape, else 400 `VALIDATION_ERROR` with zod's message.
    pub fn check(self, body: Option<&Value>) -> Result<(), ApiError> {
        let expected: &[&str] = match (self, body) {
            (_, Some(Value::Object(_))) | (Self::Any, _) | (Self::OptionalObject, None) => {
                return Ok(());
            }
            (Self::Object | Self::OptionalObject, _) => &["object"],
            (Self::Record, _) => &["record"],
            (Self::ObjectAndRecord, _) => &["object", "record"],
        };
        let received = crate::json::received(body);
        let issues: Vec<String> = expected
            .iter()
            .map(|expected| {
                format!("[body] Invalid input: expected {expected}, received {received}")
            })
            .collect();
        Err(ApiError::validation(issues.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(shape: Shape, body: Option<Value>) -> Option<String> {
        match shape.check(body.as_ref()) {
            Ok(()) => None,
            Err(ApiError::Local {
                status,
                reason,
                message,
            }) => {
                assert_eq!(
                    (status.as_u16(), reason.as_str()),
                    (400, "VALIDATION_ERROR")
                );
                Some(message)
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn objects_pass_every_shape() {
        for shape in [
            Shape::Object,
            Shape::OptionalObject,
            Shape::Record,
            Shape::ObjectAndRecord,
            Shape::Any,
        ] {
            assert_eq!(message(shape, Some(json!({"a": 1}))), None, "{shape:?}");
        }
    }

    #[test]
    fn other_json_is_refused_naming_what_was_received() {
        let cases = [
            (json!([]), "array"),
            (json!([1]), "array"),
            (json!("x"), "string"),
            (json!(1), "number"),
            (json!(null), "null"),
            (json!(true), "boolean"),
        ];
        for (body, kind) in cases {
            assert_eq!(
                message(Shape::Object, Some(body.clone())).unwrap(),
                format!("[body] Invalid input: expected object, received {kind}")
            );
            assert_eq!(
                message(Shape::Record, Some(body.clone())).unwrap(),
                format!("[body] Invalid input: expected record, received {kind}")
            );
            assert_eq!(
                message(Shape::ObjectAndRecord, Some(body.clone())).unwrap(),
                format!(
                    "[body] Invalid input: expected object, received {kind}; \
                     [body] Invalid input: expected record, received {kind}"
                )
            );
            assert_eq!(message(Shape::Any, Some(body)), None);
        }
    }

    #[test]
    fn a_missing_body_is_undefined_unless_the_body_is_optional() {
        assert_eq!(
            message(Shape::Object, None).unwrap(),
            "[body] Invalid input: expected object, received undefined"
        );
        assert_eq!(
            message(Shape::Record, None).unwrap(),
            "[body] Invalid input: expected record, received undefined"
        );
        assert_eq!(message(Shape::OptionalObject, None), None);
        assert_eq!(message(Shape::Any, None), None);
        assert_eq!(
            message(Shape::OptionalObject, Some(json!(null))).unwrap(),
            "[body] Invalid input: expected object, received null"
        );
    }
}
