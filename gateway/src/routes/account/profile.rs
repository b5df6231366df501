//! The caller's profile (`update-user`) and email address (`change-email`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use warden_common::settings::{Plugin, Plugins};
use warden_proto::Reason;
use warden_proto::auth::v1 as pb;

use super::{require_session, same_session_cookie};
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::routes::{SERVER_ONLY_FIELDS, call, status_true};
use crate::state::AppState;

pub struct UpdateUserBody {
    name: Option<String>,
    /// `Some(None)`: `"image": null` (or `""`), which clears it.
    image: Option<Option<String>>,
    has_email: bool,
    server_only: Option<&'static str>,
    two_factor_enabled: bool,
}

/// The two-factor plugin's user field, which only the server sets.
const TWO_FACTOR_ENABLED: &str = "twoFactorEnabled";

impl Schema for UpdateUserBody {
    const SHAPE: crate::extract::Shape = crate::extract::Shape::Record;

    fn read(fields: &mut Fields<'_>) -> Self {
        let image = fields
            .nullable_string("image")
            .map(|image| Some(image).filter(|image| !image.is_empty()));
        Self {
            name: fields.optional_string("name"),
            image,
            has_email: fields.contains("email"),
            server_only: SERVER_ONLY_FIELDS
                .iter()
                .copied()
                .find(|key| fields.contains(key)),
            two_factor_enabled: fields.contains(TWO_FACTOR_ENABLED),
        }
    }
}

impl UpdateUserBody {
    /// What Better Auth refuses in the body once the session is confirmed; the two-factor plugin's field only while
    /// the plugin is served (Better Auth without it does not know the field).
    fn refusal(&self, plugins: Plugins) -> Option<ApiError> {
        if self.has_email {
            return Some(ApiError::bad_request(
                Reason::EmailCanNotBeUpdated,
                "Email can not be updated",
            ));
        }
        let two_factor = (self.two_factor_enabled && plugins.is_enabled(Plugin::TwoFactor))
            .then_some(TWO_FACTOR_ENABLED);
        self.server_only.or(two_factor).map(|key| {
            ApiError::bad_request(
                Reason::FieldNotAllowed,
                format!("{key} is not allowed to be set"),
            )
        })
    }
}

pub async fn update_user(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UpdateUserBody>,
) -> Result<Response, ApiError> {
    if let Some(refusal) = body.refusal(state.plugins) {
        require_session(&state, &current, &client).await?;
        return Err(refusal);
    }
    let remove_image = matches!(body.image, Some(None));
    let request = client.request(
        pb::UpdateUserRequest {
            name: body.name,
            image: body.image.flatten(),
            remove_image,
        },
        Some(&current),
    );
    call(Route::UpdateUser, state.auth.clone().update_user(request)).await?;
    Ok((same_session_cookie(&state, &current), status_true()).into_response())
}

pub struct ChangeEmailBody {
    new_email: String,
    callback_url: Option<String>,
}

impl Schema for ChangeEmailBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            new_email: fields.string("newEmail"),
            callback_url: fields.optional_string("callbackURL"),
        }
    }
}

pub async fn change_email(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<ChangeEmailBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = client.request(
        pb::ChangeEmailRequest {
            new_email: body.new_email,
            callback_url: body.callback_url,
        },
        Some(&current),
    );
    call(Route::ChangeEmail, state.auth.clone().change_email(request)).await?;
    Ok(status_true())
}
