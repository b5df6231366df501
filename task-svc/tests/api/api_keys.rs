//! API keys as credentials for machines: keys made through auth-svc's ApiKeyService, presented to task-svc as
//! `authorization: Bearer <key>` or `x-api-key`, checked by auth-svc on every call (by hash only). Each refusal the
//! issue names is shown on the very next call: a revoked, disabled, expired or used-up key, a key over its rate limit,
//! a key beyond its permissions, a stored hash presented as a key, a banned owner; and the server-only properties,
//! which only an administrator sets.

use std::time::Duration;

use tonic::{Code, Request, Status};
use tonic_types::StatusExt;
use warden_proto::{auth::v1 as auth_pb, task::v1 as pb};

use crate::helpers::{TestApp, User, bearer};

/// A refusal's code and its `ErrorInfo` reason, whichever service's domain it carries.
fn assert_refused(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo attached");
    assert_eq!(info.reason, reason, "{status:?}");
}

fn grants(pairs: &[(&str, &[&str])]) -> auth_pb::Permissions {
    auth_pb::Permissions {
        grants: pairs
            .iter()
            .map(|(resource, actions)| auth_pb::Grant {
                resource: (*resource).to_owned(),
                actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            })
            .collect(),
    }
}

/// Creates a key as `token`'s caller; the key and its row.
async fn create_key(
    app: &TestApp,
    token: &str,
    request: auth_pb::CreateApiKeyRequest,
) -> Result<(String, auth_pb::ApiKey), Status> {
    let created = app
        .api_keys
        .clone()
        .create_api_key(bearer(request, token))
        .await?
        .into_inner();
    Ok((created.key, created.api_key.expect("the key's row")))
}

/// A key for `user`, made by themselves with the defaults.
async fn own_key(app: &TestApp, user: &User) -> (String, auth_pb::ApiKey) {
    create_key(
        app,
        &user.session_token,
        auth_pb::CreateApiKeyRequest {
            name: Some("ci".into()),
            ..Default::default()
        },
    )
    .await
    .expect("a user creates a key for themselves")
}

/// A signed-up user made an administrator (their role written in the database, as an operator would).
async fn admin(app: &TestApp, email: &str) -> User {
    let user = app.sign_up(email).await;
    app.execute(&format!(
        r#"UPDATE "user" SET role = 'admin' WHERE id = '{}'"#,
        user.id
    ))
    .await;
    user
}

/// GetApiKey as `token`'s caller.
async fn get_key<I: Into<String>>(
    app: &TestApp,
    token: &str,
    id: I,
) -> Result<auth_pb::ApiKey, Status> {
    app.api_keys
        .clone()
        .get_api_key(bearer(auth_pb::GetApiKeyRequest { id: id.into() }, token))
        .await
        .map(tonic::Response::into_inner)
}

/// ListTasks with the key in `x-api-key`.
async fn list_with_header(app: &TestApp, key: &str) -> Result<pb::ListTasksResponse, Status> {
    let mut request = Request::new(pb::ListTasksRequest::default());
    request
        .metadata_mut()
        .insert("x-api-key", key.parse().unwrap());
    app.tasks
        .clone()
        .list_tasks(request)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_key_acts_as_its_owner_on_every_task_call_as_bearer_or_x_api_key() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("machine-owner@example.com").await;
    let (key, row) = own_key(&app, &user).await;
    assert_eq!(row.reference_id, user.id);
    assert_eq!(row.start.as_deref(), Some(&key[..6]));
    assert_eq!(key.len(), 64);

    let created = app.create(&key, "from a cron job").await.expect("created");
    assert_eq!(created.owner_id, user.id);
    let read = app.get(&key, &created.id).await.expect("read back");
    assert_eq!(read.title, "from a cron job");
    let listed = list_with_header(&app, &key).await.expect("listed");
    assert_eq!(listed.tasks.len(), 1);
    // The owner sees what the key made, and the key what the owner made: one identity.
    assert_eq!(app.list_all(&user.jwt).await.len(), 1);
    let renamed = app
        .update(
            &key,
            pb::Task {
                id: created.id.clone(),
                title: "renamed".into(),
                ..Default::default()
            },
            &["title"],
        )
        .await
        .expect("updated");
    app.delete(&key, &created.id, &renamed.etag)
        .await
        .expect("deleted");
    assert!(app.list_all(&user.jwt).await.is_empty());
    assert!(app.metrics.key_lookups() >= 5);

    // Each use was counted on the key.
    let counted = get_key(&app, &user.session_token, row.id.clone())
        .await
        .unwrap();
    assert_eq!(counted.request_count, 5);
    assert!(counted.last_request.is_some());
}

#[tokio::test]
async fn a_key_with_read_permission_lists_but_may_not_create_update_or_delete() {
    let app = TestApp::spawn().await;
    let root = admin(&app, "root@example.com").await;
    let user = app.sign_up("reader-owner@example.com").await;
    let task = app.create(&user.jwt, "owned").await.unwrap();
    let (reader, row) = create_key(
        &app,
        &root.session_token,
        auth_pb::CreateApiKeyRequest {
            user_id: Some(user.id.clone()),
            permissions: Some(grants(&[("task", &["read"])])),
            ..Default::default()
        },
    )
    .await
    .expect("an administrator gives a user a read-only key");
    assert_eq!(row.reference_id, user.id);
    assert_eq!(row.permissions, Some(grants(&[("task", &["read"])])));

    assert_eq!(
        list_with_header(&app, &reader).await.unwrap().tasks.len(),
        1
    );
    app.get(&reader, &task.id).await.expect("read is granted");
    let refused = app.create(&reader, "not allowed").await.unwrap_err();
    assert_refused(
        &refused,
        Code::PermissionDenied,
        "INSUFFICIENT_API_KEY_PERMISSIONS",
    );
    let refused = app
        .update(
            &reader,
            pb::Task {
                id: task.id.clone(),
                title: "x".into(),
                ..Default::default()
            },
            &["title"],
        )
        .await
        .unwrap_err();
    assert_refused(
        &refused,
        Code::PermissionDenied,
        "INSUFFICIENT_API_KEY_PERMISSIONS",
    );
    let refused = app.delete(&reader, &task.id, &task.etag).await.unwrap_err();
    assert_refused(
        &refused,
        Code::PermissionDenied,
        "INSUFFICIENT_API_KEY_PERMISSIONS",
    );
    assert_eq!(app.list_all(&user.jwt).await.len(), 1, "nothing changed");
    // The refusals were decided before any use was counted: two uses, the list and the read.
    let counted = get_key(&app, &user.session_token, row.id).await.unwrap();
    assert_eq!(counted.request_count, 2);
}

#[tokio::test]
async fn a_revoked_disabled_or_expired_key_is_refused_on_the_very_next_call() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("revoker@example.com").await;

    let (revoked, row) = own_key(&app, &user).await;
    app.list(&revoked, Default::default()).await.expect("works");
    app.api_keys
        .clone()
        .delete_api_key(bearer(
            auth_pb::DeleteApiKeyRequest {
                key_id: row.id,
                user_id: None,
            },
            &user.session_token,
        ))
        .await
        .expect("revoked");
    let refused = app.list(&revoked, Default::default()).await.unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "UNAUTHORIZED");

    let (disabled, row) = own_key(&app, &user).await;
    app.list(&disabled, Default::default())
        .await
        .expect("works");
    app.api_keys
        .clone()
        .update_api_key(bearer(
            auth_pb::UpdateApiKeyRequest {
                key_id: row.id.clone(),
                enabled: Some(false),
                ..Default::default()
            },
            &user.session_token,
        ))
        .await
        .expect("disabled");
    let refused = list_with_header(&app, &disabled).await.unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "KEY_DISABLED");

    // A key past its expiry (made so in the database, before any use) is refused, and so on every later call.
    let (expired, row) = own_key(&app, &user).await;
    app.execute(&format!(
        r#"UPDATE apikey SET "expiresAt" = '2020-01-01T00:00:00Z' WHERE id = '{}'"#,
        row.id
    ))
    .await;
    let refused = app.list(&expired, Default::default()).await.unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "KEY_EXPIRED");
    // As the package does, an expired key met in use is deleted.
    let gone = get_key(&app, &user.session_token, row.id)
        .await
        .unwrap_err();
    assert_refused(&gone, Code::NotFound, "KEY_NOT_FOUND");
}

#[tokio::test]
async fn a_used_up_key_and_a_key_over_its_rate_limit_are_resource_exhausted() {
    let app = TestApp::spawn().await;
    let root = admin(&app, "limits-root@example.com").await;
    let user = app.sign_up("limited@example.com").await;

    let (two_uses, _) = create_key(
        &app,
        &root.session_token,
        auth_pb::CreateApiKeyRequest {
            user_id: Some(user.id.clone()),
            remaining: Some(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    app.list(&two_uses, Default::default())
        .await
        .expect("1st use");
    app.list(&two_uses, Default::default())
        .await
        .expect("2nd use");
    let refused = app.list(&two_uses, Default::default()).await.unwrap_err();
    assert_refused(&refused, Code::ResourceExhausted, "USAGE_EXCEEDED");

    let (three_a_minute, _) = create_key(
        &app,
        &root.session_token,
        auth_pb::CreateApiKeyRequest {
            user_id: Some(user.id.clone()),
            rate_limit_max: Some(3),
            rate_limit_time_window: Some(60_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for call in 1..=3 {
        app.list(&three_a_minute, Default::default())
            .await
            .unwrap_or_else(|status| panic!("call {call}: {status:?}"));
    }
    let refused = app
        .list(&three_a_minute, Default::default())
        .await
        .unwrap_err();
    assert_refused(&refused, Code::ResourceExhausted, "RATE_LIMITED");
    let wait = refused
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .expect("RetryInfo says when to come back");
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );

    // The package's default: 10 requests a day, then RATE_LIMITED.
    let (default, _) = own_key(&app, &user).await;
    for call in 1..=10 {
        app.list(&default, Default::default())
            .await
            .unwrap_or_else(|status| panic!("call {call}: {status:?}"));
    }
    let refused = app.list(&default, Default::default()).await.unwrap_err();
    assert_refused(&refused, Code::ResourceExhausted, "RATE_LIMITED");
}

#[tokio::test]
async fn a_stored_hash_or_a_session_token_is_not_a_key() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("hash-thief@example.com").await;
    let (key, row) = own_key(&app, &user).await;
    let stored: String = {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = app.db.get_database_backend();
        let found = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!(r#"SELECT "key" FROM apikey WHERE id = '{}'"#, row.id),
            ))
            .await
            .unwrap()
            .unwrap();
        found.try_get("", "key").unwrap()
    };
    assert_eq!(stored, warden_common::token::hash_api_key(&key));
    assert_ne!(stored, key);
    let refused = list_with_header(&app, &stored).await.unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "UNAUTHORIZED");
    // A session token in x-api-key is no key either.
    let refused = list_with_header(&app, &user.session_token)
        .await
        .unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "UNAUTHORIZED");
    // A key one letter off.
    let mut forged = key.clone();
    forged.replace_range(63..64, if key.ends_with('a') { "b" } else { "a" });
    let refused = app.list(&forged, Default::default()).await.unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "UNAUTHORIZED");
    app.list(&key, Default::default())
        .await
        .expect("the key itself works");
}

#[tokio::test]
async fn a_banned_owner_s_keys_stop_working() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("banned-owner@example.com").await;
    let (key, _) = own_key(&app, &user).await;
    app.list(&key, Default::default()).await.expect("works");
    let root = admin(&app, "ban-root@example.com").await;
    app.admin
        .clone()
        .ban_user(bearer(
            auth_pb::BanUserRequest {
                user_id: user.id.clone(),
                ..Default::default()
            },
            &root.session_token,
        ))
        .await
        .expect("banned");
    let refused = app.list(&key, Default::default()).await.unwrap_err();
    assert_refused(&refused, Code::PermissionDenied, "BANNED_USER");
    // The refusal counted no use: one use, the call before the ban.
    let listed = app
        .api_keys
        .clone()
        .list_api_keys(bearer(
            auth_pb::ListApiKeysRequest {
                user_id: Some(user.id.clone()),
                ..Default::default()
            },
            &root.session_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.api_keys[0].request_count, 1);
    app.admin
        .clone()
        .unban_user(bearer(
            auth_pb::UnbanUserRequest {
                user_id: user.id.clone(),
            },
            &root.session_token,
        ))
        .await
        .expect("unbanned");
    app.list(&key, Default::default())
        .await
        .expect("the key works again once the ban is lifted");
}

#[tokio::test]
async fn server_only_properties_and_other_owners_need_an_administrator() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("plain@example.com").await;
    let other = app.sign_up("other@example.com").await;
    for request in [
        auth_pb::CreateApiKeyRequest {
            remaining: Some(5),
            ..Default::default()
        },
        auth_pb::CreateApiKeyRequest {
            permissions: Some(grants(&[("task", &["read", "create"])])),
            ..Default::default()
        },
        auth_pb::CreateApiKeyRequest {
            rate_limit_enabled: Some(false),
            ..Default::default()
        },
    ] {
        let refused = create_key(&app, &user.session_token, request)
            .await
            .unwrap_err();
        assert_refused(&refused, Code::InvalidArgument, "SERVER_ONLY_PROPERTY");
    }
    let refused = create_key(
        &app,
        &user.session_token,
        auth_pb::CreateApiKeyRequest {
            user_id: Some(other.id.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "UNAUTHORIZED_SESSION");

    // An administrator may, but not on a browser's behalf (`from_http`, as the gateway sends it).
    let root = admin(&app, "root2@example.com").await;
    let refused = create_key(
        &app,
        &root.session_token,
        auth_pb::CreateApiKeyRequest {
            remaining: Some(5),
            from_http: true,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_refused(&refused, Code::InvalidArgument, "SERVER_ONLY_PROPERTY");
    let (_, row) = create_key(
        &app,
        &root.session_token,
        auth_pb::CreateApiKeyRequest {
            user_id: Some(other.id.clone()),
            remaining: Some(5),
            rate_limit_enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .expect("an administrator sets them");
    assert_eq!(row.reference_id, other.id);
    assert_eq!(row.remaining, Some(5));
    assert!(!row.rate_limit_enabled);

    // The owner may rename it; not give it more uses.
    let refused = app
        .api_keys
        .clone()
        .update_api_key(bearer(
            auth_pb::UpdateApiKeyRequest {
                key_id: row.id.clone(),
                remaining: Some(500),
                ..Default::default()
            },
            &other.session_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&refused, Code::InvalidArgument, "SERVER_ONLY_PROPERTY");
    // Another user's key is not found, for get, update and delete alike.
    let stranger = user;
    let refused = get_key(&app, &stranger.session_token, row.id.clone())
        .await
        .unwrap_err();
    assert_refused(&refused, Code::NotFound, "KEY_NOT_FOUND");
    let refused = app
        .api_keys
        .clone()
        .update_api_key(bearer(
            auth_pb::UpdateApiKeyRequest {
                key_id: row.id.clone(),
                enabled: Some(false),
                ..Default::default()
            },
            &stranger.session_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&refused, Code::NotFound, "KEY_NOT_FOUND");
    let refused = app
        .api_keys
        .clone()
        .delete_api_key(bearer(
            auth_pb::DeleteApiKeyRequest {
                key_id: row.id.clone(),
                user_id: None,
            },
            &stranger.session_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&refused, Code::NotFound, "KEY_NOT_FOUND");
    let kept = get_key(&app, &other.session_token, row.id)
        .await
        .expect("still there");
    assert!(kept.enabled);
}

#[tokio::test]
async fn verify_and_the_expired_key_sweep_are_for_administrators() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("verifier@example.com").await;
    let (key, row) = own_key(&app, &user).await;
    let verify = |token: String, key: String| {
        let mut client = app.api_keys.clone();
        async move {
            client
                .verify_api_key(bearer(
                    auth_pb::VerifyApiKeyRequest {
                        key,
                        permissions: None,
                    },
                    &token,
                ))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let refused = verify(user.session_token.clone(), key.clone())
        .await
        .unwrap_err();
    assert_refused(&refused, Code::PermissionDenied, "FORBIDDEN");

    let root = admin(&app, "verify-root@example.com").await;
    let answer = verify(root.session_token.clone(), key.clone())
        .await
        .unwrap();
    assert!(answer.valid);
    assert_eq!(answer.api_key.unwrap().id, row.id);
    let answer = verify(root.session_token.clone(), format!("{key}x"))
        .await
        .unwrap();
    assert!(!answer.valid);
    assert_eq!(answer.error_code.as_deref(), Some("INVALID_API_KEY"));
    assert_eq!(answer.error_message.as_deref(), Some("Invalid API key."));
    let answer = app
        .api_keys
        .clone()
        .verify_api_key(bearer(
            auth_pb::VerifyApiKeyRequest {
                key: key.clone(),
                permissions: Some(grants(&[("task", &["read"])])),
            },
            &root.session_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.valid, "a key without permissions has none to show");
    assert_eq!(answer.error_code.as_deref(), Some("KEY_NOT_FOUND"));

    app.execute(&format!(
        r#"UPDATE apikey SET "expiresAt" = '2020-01-01T00:00:00Z' WHERE id = '{}'"#,
        row.id
    ))
    .await;
    let refused = app
        .api_keys
        .clone()
        .delete_expired_api_keys(bearer(
            auth_pb::DeleteExpiredApiKeysRequest {},
            &user.session_token,
        ))
        .await
        .unwrap_err();
    assert_refused(&refused, Code::PermissionDenied, "FORBIDDEN");
    let swept = app
        .api_keys
        .clone()
        .delete_expired_api_keys(bearer(
            auth_pb::DeleteExpiredApiKeysRequest {},
            &root.session_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(swept.deleted, 1);
}

#[tokio::test]
async fn keys_work_on_the_all_in_one_s_sqlite_too() {
    let app = TestApp::spawn_on_sqlite().await;
    let user = app.sign_up("sqlite-machine@example.com").await;
    let (key, _) = own_key(&app, &user).await;
    app.create(&key, "on sqlite").await.expect("created");
    assert_eq!(list_with_header(&app, &key).await.unwrap().tasks.len(), 1);
    let refused = app
        .list(&format!("{key}Z"), Default::default())
        .await
        .unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "UNAUTHORIZED");
}

#[tokio::test]
async fn an_impersonation_session_may_not_create_keys() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("impersonated@example.com").await;
    let root = admin(&app, "impersonator@example.com").await;
    // A session an administrator opened as the user (Better Auth's admin plugin's impersonate-user), as a database
    // taken over holds it: the stored token is its SHA-256.
    let token = "ImpersonationSessionToken0123456";
    app.execute(&format!(
        r#"INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "userId", "impersonatedBy")
           VALUES ('imp-session', '2099-01-01T00:00:00Z', '{}', now(), now(), '{}', '{}')"#,
        warden_common::token::hash_token(token),
        user.id,
        root.id
    ))
    .await;
    app.list(token, Default::default())
        .await
        .expect("the impersonation session acts as the user");
    let refused = create_key(&app, token, auth_pb::CreateApiKeyRequest::default())
        .await
        .unwrap_err();
    assert_refused(&refused, Code::PermissionDenied, "FORBIDDEN");
    assert!(
        create_key(&app, &user.session_token, Default::default())
            .await
            .is_ok(),
        "the user's own session may"
    );
}

#[tokio::test]
async fn a_user_who_deletes_their_account_takes_their_keys_with_them() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("leaving@example.com").await;
    let (key, _) = own_key(&app, &user).await;
    app.list(&key, Default::default()).await.expect("works");
    app.auth
        .clone()
        .delete_user(bearer(
            auth_pb::DeleteUserRequest {
                password: Some(crate::helpers::PASSWORD.into()),
                ..Default::default()
            },
            &user.session_token,
        ))
        .await
        .expect("deleted");
    let refused = app.list(&key, Default::default()).await.unwrap_err();
    assert_refused(&refused, Code::Unauthenticated, "UNAUTHORIZED");
}
