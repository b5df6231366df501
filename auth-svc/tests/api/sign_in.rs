use tonic::Code;

use crate::helpers::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn sign_in_opens_a_new_session() {
    let app = TestApp::spawn().await;
    let first = app.user_token("carol@example.com").await;

    let response = app.sign_in("CAROL@example.com", PASSWORD).await.unwrap();

    assert!(!response.redirect);
    assert_ne!(response.token, first);
    assert_eq!(response.user.unwrap().email, "carol@example.com");
    let session = app.get_session(&response.token).await.unwrap();
    assert_eq!(session.session.unwrap().token, response.token);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_identically() {
    let app = TestApp::spawn().await;
    app.sign_up("dave@example.com").await;

    let wrong = app
        .sign_in("dave@example.com", "not the password")
        .await
        .unwrap_err();
    let unknown = app
        .sign_in("nobody@example.com", PASSWORD)
        .await
        .unwrap_err();
    let short = app.sign_in("dave@example.com", "short").await.unwrap_err();

    for status in [&wrong, &unknown, &short] {
        assert_error(status, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");
        assert_eq!(status.message(), "Invalid email or password");
    }
}

#[tokio::test]
async fn an_over_long_password_or_malformed_email_is_invalid_argument() {
    let app = TestApp::spawn().await;

    let long = app
        .sign_in("erin@example.com", &"a".repeat(129))
        .await
        .unwrap_err();
    let malformed = app.sign_in("erin-at-example", PASSWORD).await.unwrap_err();

    assert_error(&long, Code::InvalidArgument, "PASSWORD_TOO_LONG");
    assert_error(&malformed, Code::InvalidArgument, "INVALID_EMAIL");
    assert_eq!(malformed.message(), "Invalid email");
}

#[tokio::test]
async fn a_callback_url_is_echoed_with_redirect() {
    let app = TestApp::spawn().await;
    app.sign_up("fay@example.com").await;

    let response = app
        .client
        .clone()
        .sign_in_email(warden_proto::auth::v1::SignInEmailRequest {
            email: "fay@example.com".into(),
            password: PASSWORD.into(),
            callback_url: Some("/dashboard".into()),
            remember_me: None,
            trust_device: None,
        })
        .await
        .unwrap()
        .into_inner();

    assert!(response.redirect);
    assert_eq!(response.url.as_deref(), Some("/dashboard"));
}

#[tokio::test]
async fn the_session_records_the_forwarded_client_only_from_a_trusted_proxy() {
    let trusting = TestApp::spawn().await;
    let distrusting =
        TestApp::spawn_with(|config| config.trusted_proxies = Default::default()).await;
    for app in [&trusting, &distrusting] {
        app.sign_up("gus@example.com").await;
    }
    let forwarded = |app: &TestApp| {
        let mut request = tonic::Request::new(warden_proto::auth::v1::SignInEmailRequest {
            email: "gus@example.com".into(),
            password: PASSWORD.into(),
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
        request
            .metadata_mut()
            .insert("x-forwarded-user-agent", "Firefox/140".parse().unwrap());
        let mut client = app.client.clone();
        async move {
            client
                .sign_in_email(request)
                .await
                .unwrap()
                .into_inner()
                .session
                .unwrap()
        }
    };

    let trusted = forwarded(&trusting).await;
    let untrusted = forwarded(&distrusting).await;

    assert_eq!(trusted.ip_address.as_deref(), Some("203.0.113.7"));
    assert_eq!(trusted.user_agent.as_deref(), Some("Firefox/140"));
    assert_eq!(untrusted.ip_address.as_deref(), Some("127.0.0.1"));
    assert!(untrusted.user_agent.unwrap().contains("tonic"));
}
