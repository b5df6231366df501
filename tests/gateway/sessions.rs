use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, on_both, session_cookie, set_cookies, token_of};

on_both! {
    async fn list_sessions_shows_every_active_session_with_hashed_tokens(app: TestApp) {
        let cookie = app.signed_up_cookie("ls@example.com").await;
        app.sign_in("ls@example.com", PASSWORD).await;

        let response = app.get("/api/auth/list-sessions", Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        let sessions: Vec<Value> = response.json().await.unwrap();
        assert_eq!(sessions.len(), 2);
        for session in &sessions {
            assert_eq!(session["token"].as_str().unwrap().len(), 64);
        }
    }

    async fn revoke_session_ends_the_named_session_and_clears_cookies_if_it_was_current(app: TestApp) {
        let cookie = app.signed_up_cookie("rs@example.com").await;
        let other = session_cookie(app.sign_in("rs@example.com", PASSWORD).await.headers()).unwrap();
        app.session(&other).await;

        let response = app.post("/api/auth/revoke-session", json!({"token": token_of(&other)}), Some(&cookie)).await;
        assert_eq!(response.status(), 200);
        assert!(set_cookies(response.headers()).is_empty());
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        assert_eq!(app.session(&other).await, Value::Null);
        assert_ne!(app.session(&cookie).await, Value::Null);

        let own = app.post("/api/auth/revoke-session", json!({"token": token_of(&cookie)}), Some(&cookie)).await;
        assert_eq!(own.status(), 200);
        crate::helpers::assert_deletion_cookies(own.headers());
        assert_eq!(app.session(&cookie).await, Value::Null);
    }

    async fn revoke_other_sessions_keeps_only_the_current(app: TestApp) {
        let cookie = app.signed_up_cookie("ro@example.com").await;
        let other = session_cookie(app.sign_in("ro@example.com", PASSWORD).await.headers()).unwrap();
        app.session(&other).await;

        let response = app.post("/api/auth/revoke-other-sessions", json!({}), Some(&cookie)).await;

        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        assert_eq!(app.session(&other).await, Value::Null);
        assert_ne!(app.session(&cookie).await, Value::Null);
    }

    async fn revoke_sessions_ends_all_and_clears_cookies(app: TestApp) {
        let cookie = app.signed_up_cookie("ra@example.com").await;
        let other = session_cookie(app.sign_in("ra@example.com", PASSWORD).await.headers()).unwrap();

        let response = app.post("/api/auth/revoke-sessions", json!({}), Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        crate::helpers::assert_deletion_cookies(response.headers());
        assert_eq!(app.session(&cookie).await, Value::Null);
        assert_eq!(app.session(&other).await, Value::Null);
    }
}

#[tokio::test]
async fn a_session_due_for_refresh_is_extended_once_and_the_cookie_re_sent() {
    let app = TestApp::postgres().await;
    let cookie = app.signed_up_cookie("slide@example.com").await;
    let Backend::Postgres {
        database_url,
        redis_prefix,
        ..
    } = &app.backend
    else {
        unreachable!()
    };
    let db = sea_orm::Database::connect(database_url.as_str())
        .await
        .unwrap();
    let now = chrono::Utc::now();
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(&format!(
        r#"update "session" set "updatedAt" = '{}', "expiresAt" = '{}'"#,
        (now - chrono::TimeDelta::days(2)).to_rfc3339(),
        (now + chrono::TimeDelta::days(5)).to_rfc3339()
    ))
    .await
    .unwrap();
    let redis = redis::Client::open(warden_testkit::redis_url()).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let key = format!(
        "{redis_prefix}session:{}",
        warden_common::token::hash_token(&token_of(&cookie))
    );
    let _: () = redis::cmd("DEL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();

    let first = app.get("/api/auth/get-session", Some(&cookie)).await;
    let second = app.get("/api/auth/get-session", Some(&cookie)).await;

    let resent = session_cookie(first.headers()).expect("cookie re-sent on refresh");
    assert_eq!(resent, cookie);
    let set = set_cookies(first.headers());
    assert!(set[0].contains("Max-Age=604800"), "{set:?}");
    assert!(first.headers().get("set-auth-token").is_some());
    let body: Value = first.json().await.unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["session"]["expiresAt"].as_str().unwrap())
            .unwrap();
    assert!((expires.timestamp() - (now + chrono::TimeDelta::days(7)).timestamp()).abs() < 60);
    assert!(
        set_cookies(second.headers()).is_empty(),
        "extended only once"
    );
}
