//! What the account tests share: one client call per lifecycle RPC, and the development outbox read over gRPC.

use std::time::Duration;

use tonic::{Status, transport::Channel};
use warden_proto::auth::v1::{self as pb, dev_service_client::DevServiceClient};

use crate::helpers::TestApp;

/// Calls `$rpc` on the app's client with `$message`, with `$token` as bearer when given.
macro_rules! call {
    ($app:expr, $rpc:ident, $message:expr) => {
        $app.client
            .clone()
            .$rpc($message)
            .await
            .map(tonic::Response::into_inner)
    };
    ($app:expr, $rpc:ident, $message:expr, $token:expr) => {
        $app.client
            .clone()
            .$rpc(crate::helpers::bearer($message, $token))
            .await
            .map(tonic::Response::into_inner)
    };
}
pub(crate) use call;

pub async fn dev(app: &TestApp) -> DevServiceClient<Channel> {
    DevServiceClient::connect(format!("http://{}", app.addr))
        .await
        .expect("connects to auth-svc")
}

/// Every mail in the development outbox, newest first.
pub async fn outbox(app: &TestApp) -> Vec<pb::OutboxMail> {
    dev(app)
        .await
        .list_outbox(pb::ListOutboxRequest {})
        .await
        .expect("ListOutbox succeeds")
        .into_inner()
        .mails
}

/// The newest mail to `to`, waiting up to five seconds for it (mail is sent off the request path).
pub async fn mail_to(app: &TestApp, to: &str) -> pb::OutboxMail {
    for _ in 0..100 {
        if let Some(mail) = outbox(app).await.into_iter().find(|mail| mail.to == to) {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {to} in the outbox");
}

/// How many mails to `to` the outbox holds.
pub async fn mails_to(app: &TestApp, to: &str) -> usize {
    outbox(app)
        .await
        .iter()
        .filter(|mail| mail.to == to)
        .count()
}

/// The link in a mail.
pub fn link(mail: &pb::OutboxMail) -> String {
    warden_testkit::smtp::first_link(&mail.text).expect("the mail holds a link")
}

/// The value of `name` in a URL's query string.
pub fn query(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).expect("a URL");
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The verification token of the newest mail to `to`.
pub async fn verification_token(app: &TestApp, to: &str) -> String {
    let mail = mail_to(app, to).await;
    query(&link(&mail), "token").expect("the link carries a token")
}

/// The reset token of the newest mail to `to` (the last path segment of its link).
pub async fn reset_token(app: &TestApp, to: &str) -> String {
    let mail = mail_to(app, to).await;
    let url = url::Url::parse(&link(&mail)).unwrap();
    url.path_segments().unwrap().next_back().unwrap().to_owned()
}

pub async fn verify_email(app: &TestApp, jwt: &str) -> Result<pb::VerifyEmailResponse, Status> {
    call!(
        app,
        verify_email,
        pb::VerifyEmailRequest {
            token: jwt.into(),
            callback_url: None,
        }
    )
}

pub async fn request_reset(app: &TestApp, email: &str) -> pb::RequestPasswordResetResponse {
    call!(
        app,
        request_password_reset,
        pb::RequestPasswordResetRequest {
            email: email.into(),
            redirect_to: Some("http://127.0.0.1:8080/reset".into()),
        }
    )
    .expect("RequestPasswordReset succeeds")
}

pub async fn reset_password(app: &TestApp, token: &str, password: &str) -> Result<(), Status> {
    call!(
        app,
        reset_password,
        pb::ResetPasswordRequest {
            new_password: password.into(),
            token: token.into(),
        }
    )
    .map(|_| ())
}

pub async fn session_user(app: &TestApp, token: &str) -> pb::User {
    app.get_session(token).await.unwrap().user.unwrap()
}
