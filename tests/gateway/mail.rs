//! Mail through a real SMTP server (aiosmtpd, started by the test): the whole password-reset and email-verification
//! flows as a user lives them, from the mail in the inbox to the new session; and an SMTP server that never answers
//! must not slow a request down.

use std::time::{Duration, Instant};

use auth_svc::config::DEFAULT_MAIL_FROM;
use auth_svc::mail::SmtpSettings;
use serde_json::{Value, json};
use warden_testkit::smtp::{ReceivedMail, SmtpSink};

use crate::helpers::{PASSWORD, TestApp, assert_error, session_cookie};

const NEW_PASSWORD: &str = "a much better passphrase";

async fn app_with_smtp(smtp: &SmtpSink, require_verification: bool) -> TestApp {
    let url = smtp.url();
    TestApp::postgres_configured(
        move |auth| {
            auth.smtp =
                Some(SmtpSettings::parse(&url, "Warden Tests <accounts@example.com>").unwrap());
            auth.require_email_verification = require_verification;
        },
        |_| {},
    )
    .await
}

async fn mail(smtp: &SmtpSink, to: &str) -> ReceivedMail {
    smtp.mail_to(to, Duration::from_secs(20)).await
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_from_the_link_in_the_mail() {
    let smtp = SmtpSink::start().await;
    let app = app_with_smtp(&smtp, false).await;
    let old_session = app.signed_up_cookie("ada@example.com").await;

    let requested = app
        .post(
            "/api/auth/request-password-reset",
            json!({"email": "ada@example.com", "redirectTo": "/reset-password"}),
            None,
        )
        .await;
    assert_eq!(requested.status(), 200);

    let received = mail(&smtp, "ada@example.com").await;
    assert_eq!(received.from, "accounts@example.com");
    assert_eq!(received.subject, "Reset your password");
    let link = received.link().expect("a reset link");
    assert!(
        link.starts_with(&format!("{}/api/auth/reset-password/", app.base_url)),
        "{link}"
    );
    // The user opens the link; the gateway sends the browser on to the app's page with the token.
    let opened = app.http.get(&link).send().await.unwrap();
    assert_eq!(opened.status(), 302);
    let page = location(&opened);
    let prefix = format!("{}/reset-password?token=", app.base_url);
    let token = page
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{page}"))
        .to_owned();
    // The page posts the new password with the token.
    let reset = app
        .post(
            "/api/auth/reset-password",
            json!({"newPassword": NEW_PASSWORD, "token": token}),
            None,
        )
        .await;
    assert_eq!(reset.status(), 200);

    assert_eq!(app.session(&old_session).await, Value::Null);
    assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), 401);
    let signed_in = app.sign_in("ada@example.com", NEW_PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    let reopened = app.http.get(&link).send().await.unwrap();
    assert_eq!(
        location(&reopened),
        format!("{}/reset-password?error=INVALID_TOKEN", app.base_url)
    );
    // With SMTP configured there is no development outbox.
    assert_eq!(app.get("/api/dev/outbox", None).await.status(), 404);
}

#[tokio::test]
async fn with_verification_required_the_link_in_the_mail_lets_the_user_sign_in() {
    let smtp = SmtpSink::start().await;
    let app = app_with_smtp(&smtp, true).await;

    let signed_up = app
        .post(
            "/api/auth/sign-up/email",
            json!({"name": "Ada", "email": "ada@example.com", "password": PASSWORD, "callbackURL": "/dashboard"}),
            None,
        )
        .await;
    assert_eq!(signed_up.status(), 200);
    assert!(session_cookie(signed_up.headers()).is_none());
    let body: Value = signed_up.json().await.unwrap();
    assert_eq!(body["token"], Value::Null);
    assert_eq!(body["user"]["emailVerified"], false);

    let refused = app.sign_in("ada@example.com", PASSWORD).await;
    assert_error(refused, 403, "EMAIL_NOT_VERIFIED", "Email not verified").await;

    let received = mail(&smtp, "ada@example.com").await;
    assert_eq!(received.subject, "Verify your email address");
    let link = received.link().expect("a verification link");
    assert!(
        link.starts_with(&format!("{}/api/auth/verify-email?token=", app.base_url)),
        "{link}"
    );
    let opened = app.http.get(&link).send().await.unwrap();
    assert_eq!(opened.status(), 302);
    assert_eq!(location(&opened), "/dashboard");

    let signed_in = app.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    let cookie = session_cookie(signed_in.headers()).unwrap();
    assert_eq!(app.session(&cookie).await["user"]["emailVerified"], true);
}

#[tokio::test]
async fn an_smtp_server_that_never_answers_does_not_slow_the_request() {
    // It accepts connections and never says a word, so an SMTP client waits for a greeting that never comes.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::postgres_configured(
        move |auth| {
            auth.smtp = Some(
                SmtpSettings::parse(&format!("smtp://127.0.0.1:{port}"), DEFAULT_MAIL_FROM)
                    .unwrap(),
            )
        },
        |_| {},
    )
    .await;
    app.sign_up("ada@example.com").await;

    for _ in 0..3 {
        let started = Instant::now();
        let response = app
            .post(
                "/api/auth/request-password-reset",
                json!({"email": "ada@example.com"}),
                None,
            )
            .await;
        let took = started.elapsed();
        assert_eq!(response.status(), 200);
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}
