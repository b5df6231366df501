//! The development outbox at `/api/dev/outbox`: the mails auth-svc kept instead of sending.

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use warden_proto::auth::v1 as pb;

use crate::client_ip::ClientIp;
use crate::error::{ApiError, Route};
use crate::extract::ClientInfo;
use crate::json::iso_date;
use crate::state::AppState;

#[derive(Serialize)]
struct OutboxMail {
    to: String,
    subject: String,
    text: String,
    sent_at: Option<String>,
}

/// The development outbox: the mails auth-svc kept instead of sending, newest first. Only while auth-svc has no
/// SMTP server, and only to a client on this machine, since the mails hold live links; otherwise 404.
pub async fn dev_outbox(
    State(state): State<AppState>,
    client: ClientInfo,
    request: http::request::Parts,
) -> Response {
    // The address the client-address layer believed, else the socket peer.
    let ip = request
        .extensions
        .get::<ClientIp>()
        .map(|ClientIp(ip)| *ip)
        .or_else(|| {
            request
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        });
    if !ip.is_some_and(|ip| ip.to_canonical().is_loopback()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let listed = state
        .dev
        .clone()
        .list_outbox(client.request(pb::ListOutboxRequest {}, None))
        .await;
    match listed {
        Ok(response) => {
            let mails: Vec<OutboxMail> = response
                .into_inner()
                .mails
                .into_iter()
                .map(|mail| OutboxMail {
                    sent_at: iso_date(mail.sent_at.as_ref()),
                    to: mail.to,
                    subject: mail.subject,
                    text: mail.text,
                })
                .collect();
            Json(mails).into_response()
        }
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::Unimplemented | tonic::Code::PermissionDenied
            ) =>
        {
            StatusCode::NOT_FOUND.into_response()
        }
        Err(status) => ApiError::upstream(Route::ListOutbox)(status).into_response(),
    }
}
