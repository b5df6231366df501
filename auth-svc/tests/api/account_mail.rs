//! Where mail goes: the development outbox (DevService) without SMTP_URL, a real SMTP server with it.

use std::time::Duration;

use auth_svc::config::DEFAULT_MAIL_FROM;
use auth_svc::mail::SmtpSettings;
use tonic::Code;
use warden_proto::auth::v1 as pb;
use warden_testkit::smtp::SmtpSink;

use crate::account_support::{dev, outbox, request_reset};
use crate::helpers::{TestApp, timed};

#[tokio::test]
async fn the_outbox_lists_the_latest_mails_newest_first() {
    let app = TestApp::spawn().await;
    app.sign_up("first@example.com").await;
    app.sign_up("second@example.com").await;

    request_reset(&app, "first@example.com").await;
    request_reset(&app, "second@example.com").await;

    let mut mails = outbox(&app).await;
    for _ in 0..100 {
        if mails.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        mails = outbox(&app).await;
    }
    let to: Vec<&str> = mails.iter().map(|mail| mail.to.as_str()).collect();
    assert_eq!(to, ["second@example.com", "first@example.com"]);
    assert!(mails[0].sent_at.is_some());
    assert!(mails[0].text.contains("/api/auth/reset-password/"));
}

#[tokio::test]
async fn the_outbox_is_refused_to_callers_outside_the_trusted_proxies() {
    let app = TestApp::spawn_with(|config| {
        config.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()].into();
    })
    .await;

    let status = dev(&app)
        .await
        .list_outbox(pb::ListOutboxRequest {})
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn with_smtp_mail_reaches_the_smtp_server_and_there_is_no_outbox() {
    let smtp = SmtpSink::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(|config| {
        config.smtp =
            Some(SmtpSettings::parse(&url, "Example App <accounts@example.com>").unwrap());
    })
    .await;
    app.sign_up("ada@example.com").await;

    request_reset(&app, "ada@example.com").await;

    let mail = smtp
        .mail_to("ada@example.com", Duration::from_secs(20))
        .await;
    assert_eq!(mail.from, "accounts@example.com");
    assert_eq!(mail.subject, "Reset your password");
    let link = mail.link().expect("a link");
    assert!(
        link.starts_with("http://127.0.0.1:8080/api/auth/reset-password/"),
        "{link}"
    );
    let status = dev(&app)
        .await
        .list_outbox(pb::ListOutboxRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

#[tokio::test]
async fn an_smtp_server_that_never_answers_does_not_hold_up_the_request() {
    // Accepts connections and never says a word: an SMTP client waits for a greeting that does not come.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::spawn_with(|config| {
        config.smtp = Some(
            SmtpSettings::parse(&format!("smtp://127.0.0.1:{port}"), DEFAULT_MAIL_FROM).unwrap(),
        );
    })
    .await;
    app.sign_up("ada@example.com").await;

    let (response, took) = timed(request_reset(&app, "ada@example.com")).await;
    let (again, took_again) = timed(request_reset(&app, "ada@example.com")).await;

    assert!(response.status && again.status);
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(took_again < Duration::from_secs(2), "{took_again:?}");
}
