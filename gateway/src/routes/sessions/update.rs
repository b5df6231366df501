//! `POST /api/auth/update-session`: the session's additional fields, as `AuthService.UpdateSession`. The body is a
//! record of fields (zod's `z.record`), passed on whole as a `google.protobuf.Struct`; Warden configures no
//! additional session fields, so auth-svc answers `No fields to update` (or `FIELD_NOT_ALLOWED`) once the session is
//! confirmed, as Better Auth does with none.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use prost_types::value::Kind;
use serde_json::{Map, Value, json};
use warden_proto::auth::v1 as pb;

use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema, Shape};
use crate::json::Session;
use crate::routes::stale_session;
use crate::state::AppState;

pub struct UpdateSessionBody(Map<String, Value>);

impl Schema for UpdateSessionBody {
    const SHAPE: Shape = Shape::Record;

    fn read(fields: &mut Fields<'_>) -> Self {
        Self(fields.object().clone())
    }
}

/// A JSON value as a protobuf `Value`.
fn proto_value(value: Value) -> prost_types::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(value) => Kind::BoolValue(value),
        Value::Number(number) => Kind::NumberValue(number.as_f64().unwrap_or(f64::NAN)),
        Value::String(text) => Kind::StringValue(text),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(proto_value).collect(),
        }),
        Value::Object(object) => Kind::StructValue(proto_struct(object)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn proto_struct(object: Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: object
            .into_iter()
            .map(|(key, value)| (key, proto_value(value)))
            .collect(),
    }
}

pub async fn update_session(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(UpdateSessionBody(fields)): Body<UpdateSessionBody>,
) -> Response {
    let request = client.request(
        pb::UpdateSessionRequest {
            fields: Some(proto_struct(fields)),
        },
        Some(&current),
    );
    match state.auth.clone().update_session(request).await {
        Ok(response) => match response.into_inner().session {
            Some(session) => Json(json!({ "session": Session::from(session) })).into_response(),
            None => ApiError::Internal("UpdateSession returned no session").into_response(),
        },
        Err(status) => stale_session::refuse(
            &state,
            &current,
            ApiError::upstream(Route::UpdateSession)(status),
            &["UNAUTHORIZED"],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_become_structs_value_for_value() {
        let Value::Object(object) = json!({"a": null, "b": [1, "x"], "c": {"d": true}}) else {
            unreachable!()
        };
        let converted = proto_struct(object);
        assert_eq!(converted.fields["a"].kind, Some(Kind::NullValue(0)));
        let Some(Kind::ListValue(list)) = &converted.fields["b"].kind else {
            panic!("{converted:?}")
        };
        assert_eq!(list.values[0].kind, Some(Kind::NumberValue(1.0)));
        assert_eq!(list.values[1].kind, Some(Kind::StringValue("x".into())));
        let Some(Kind::StructValue(inner)) = &converted.fields["c"].kind else {
            panic!("{converted:?}")
        };
        assert_eq!(inner.fields["d"].kind, Some(Kind::BoolValue(true)));
    }
}
