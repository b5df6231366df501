//! API keys across replicas: two auth-svc processes on one database and one Redis share each key's use counters
//! (its rate limit and remaining uses are one budget, decided atomically in Redis), honour a revocation made on the
//! other at once, and write the counters back to the `apikey` row periodically.

use std::time::Duration;

use auth_svc::{AuthServer, Config};
use tonic::{Code, Request, transport::Channel};
use tonic_types::StatusExt;
use warden_proto::auth::v1::{self as pb, api_key_service_client::ApiKeyServiceClient};

use crate::helpers::{PASSWORD, TestApp, assert_error, bearer, secret};

/// Another auth-svc on `app`'s database and Redis prefix: a second replica.
async fn replica(app: &TestApp, adjust: impl FnOnce(&mut Config)) -> ApiKeyServiceClient<Channel> {
    let mut config = Config::new(app.database_url.parse().unwrap(), secret());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.db_max_connections = 2;
    config.redis_url = Some(warden_testkit::redis_url().parse().unwrap());
    config.redis_key_prefix = app.redis_prefix.clone();
    config.rate_limit_enabled = false;
    adjust(&mut config);
    let server = AuthServer::build(config).await.expect("the replica builds");
    let addr = server.local_addr();
    tokio::spawn(server.run_until_stopped(std::future::pending()));
    keys_at(addr).await
}

async fn keys_at(addr: std::net::SocketAddr) -> ApiKeyServiceClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    ApiKeyServiceClient::new(channel)
}

async fn authenticate(
    client: &ApiKeyServiceClient<Channel>,
    key: &str,
) -> Result<pb::AuthenticatedApiKey, tonic::Status> {
    let mut request = Request::new(pb::AuthenticateApiKeyRequest::default());
    request
        .metadata_mut()
        .insert("x-api-key", key.parse().unwrap());
    client
        .clone()
        .authenticate_api_key(request)
        .await
        .map(tonic::Response::into_inner)
}

fn fast_write_back(config: &mut Config) {
    config.api_key.write_back = Duration::from_millis(200);
}

/// An administrator's session on `app`, and a user to own keys.
async fn admin_and_user(app: &TestApp) -> (String, String) {
    let root = app.sign_up("replica-root@example.com").await;
    let root_id = root.user.unwrap().id;
    app.execute(&format!(
        r#"UPDATE "user" SET role = 'admin' WHERE id = '{root_id}'"#
    ))
    .await;
    let user = app.sign_up("replica-user@example.com").await;
    (root.token.unwrap(), user.user.unwrap().id)
}

async fn issue(
    client: &ApiKeyServiceClient<Channel>,
    admin: &str,
    request: pb::CreateApiKeyRequest,
) -> (String, String) {
    let created = client
        .clone()
        .create_api_key(bearer(request, admin))
        .await
        .expect("issued")
        .into_inner();
    (created.key, created.api_key.unwrap().id)
}

#[tokio::test]
async fn two_replicas_share_one_rate_limit_and_one_budget_of_uses() {
    let app = TestApp::spawn_with(fast_write_back).await;
    let a = keys_at(app.addr).await;
    let b = replica(&app, fast_write_back).await;
    let (admin, user) = admin_and_user(&app).await;

    let (limited, limited_id) = issue(
        &a,
        &admin,
        pb::CreateApiKeyRequest {
            user_id: Some(user.clone()),
            rate_limit_max: Some(4),
            rate_limit_time_window: Some(60_000),
            ..Default::default()
        },
    )
    .await;
    for (call, replica) in [&a, &b, &a, &b].into_iter().enumerate() {
        authenticate(replica, &limited)
            .await
            .unwrap_or_else(|status| panic!("call {call}: {status:?}"));
    }
    for replica in [&a, &b] {
        let refused = authenticate(replica, &limited).await.unwrap_err();
        assert_error(&refused, Code::ResourceExhausted, "RATE_LIMITED");
        let wait = refused
            .get_details_retry_info()
            .unwrap()
            .retry_delay
            .unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
    }

    // The row learns the count at the next write-back.
    let mut written = Vec::new();
    for _ in 0..50 {
        written = app
            .query_strings(&format!(
                r#"SELECT "requestCount"::text FROM apikey WHERE id = '{limited_id}'"#
            ))
            .await;
        if written == ["4"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(written, ["4"], "the counters were written back");

    let (three_uses, three_id) = issue(
        &a,
        &admin,
        pb::CreateApiKeyRequest {
            user_id: Some(user.clone()),
            remaining: Some(3),
            rate_limit_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    for replica in [&b, &a, &b] {
        authenticate(replica, &three_uses)
            .await
            .expect("a use left");
    }
    let refused = authenticate(&a, &three_uses).await.unwrap_err();
    assert_error(&refused, Code::ResourceExhausted, "USAGE_EXCEEDED");
    // As the package does, a key used up for good is deleted.
    let rows = app
        .query_strings(&format!("SELECT id FROM apikey WHERE id = '{three_id}'"))
        .await;
    assert!(rows.is_empty(), "{rows:?}");
}

#[tokio::test]
async fn a_key_revoked_or_disabled_on_one_replica_stops_on_the_other_at_once() {
    let app = TestApp::spawn().await;
    let a = keys_at(app.addr).await;
    let b = replica(&app, |_| {}).await;
    let owner = app.sign_up("owner@example.com").await;
    let token = owner.token.unwrap();

    let (key, id) = issue(&a, &token, pb::CreateApiKeyRequest::default()).await;
    authenticate(&b, &key).await.expect("b has it cached now");
    a.clone()
        .update_api_key(bearer(
            pb::UpdateApiKeyRequest {
                key_id: id.clone(),
                enabled: Some(false),
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("disabled on a");
    let refused = authenticate(&b, &key).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "KEY_DISABLED");
    a.clone()
        .update_api_key(bearer(
            pb::UpdateApiKeyRequest {
                key_id: id.clone(),
                enabled: Some(true),
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("enabled again on a");
    authenticate(&b, &key).await.expect("works again on b");

    a.clone()
        .delete_api_key(bearer(
            pb::DeleteApiKeyRequest {
                key_id: id,
                user_id: None,
            },
            &token,
        ))
        .await
        .expect("revoked on a");
    let refused = authenticate(&b, &key).await.unwrap_err();
    assert_error(&refused, Code::Unauthenticated, "INVALID_API_KEY");
}

fn with_key<T>(message: T, key: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("x-api-key", key.parse().unwrap());
    request
}

fn grants(pairs: &[(&str, &[&str])]) -> pb::Permissions {
    pb::Permissions {
        grants: pairs
            .iter()
            .map(|(resource, actions)| pb::Grant {
                resource: (*resource).to_owned(),
                actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn get_session_with_a_key_answers_its_owner_and_no_jwt() {
    let app = TestApp::spawn().await;
    let keys = keys_at(app.addr).await;
    let owner = app.sign_up("whoami@example.com").await;
    let (key, id) = issue(
        &keys,
        &owner.token.unwrap(),
        pb::CreateApiKeyRequest::default(),
    )
    .await;
    for request in [
        with_key(pb::GetSessionRequest::default(), &key),
        bearer(pb::GetSessionRequest::default(), &key),
    ] {
        let answer = app
            .client
            .clone()
            .get_session(request)
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.user.unwrap().id, owner.user.as_ref().unwrap().id);
        let session = answer.session.unwrap();
        assert_eq!(session.id, id, "the key, in a session's shape");
        assert!(session.token.is_empty(), "the key is never echoed");
        assert!(answer.jwt.is_empty(), "no JWT outlives the key's checks");
    }
    // Nothing else of the AuthService takes a key: it is no session.
    let refused = app
        .client
        .clone()
        .list_sessions(with_key(pb::ListSessionsRequest {}, &key))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let refused = app
        .client
        .clone()
        .change_password(bearer(
            pb::ChangePasswordRequest {
                current_password: PASSWORD.into(),
                new_password: "another long passphrase".into(),
                ..Default::default()
            },
            &key,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_key_manages_keys_within_its_own_permissions_only() {
    let app = TestApp::spawn().await;
    let keys = keys_at(app.addr).await;
    let (admin, user) = admin_and_user(&app).await;
    // The administrator's automation key: it may make keys, for tasks it may read.
    let (maker, _) = issue(
        &keys,
        &admin,
        pb::CreateApiKeyRequest {
            permissions: Some(grants(&[
                ("apiKey", &["create", "read"]),
                ("task", &["read"]),
            ])),
            ..Default::default()
        },
    )
    .await;
    let created = keys
        .clone()
        .create_api_key(with_key(
            pb::CreateApiKeyRequest {
                user_id: Some(user.clone()),
                permissions: Some(grants(&[("task", &["read"])])),
                ..Default::default()
            },
            &maker,
        ))
        .await
        .expect("a key with fewer permissions")
        .into_inner();
    assert_eq!(created.api_key.unwrap().reference_id, user);
    for wider in [
        Some(grants(&[("task", &["read", "create"])])),
        Some(grants(&[("apiKey", &["create", "delete"])])),
        None,
    ] {
        let refused = keys
            .clone()
            .create_api_key(with_key(
                pb::CreateApiKeyRequest {
                    permissions: wider.clone(),
                    ..Default::default()
                },
                &maker,
            ))
            .await
            .unwrap_err();
        assert_error(
            &refused,
            Code::PermissionDenied,
            "INSUFFICIENT_API_KEY_PERMISSIONS",
        );
    }
    let listed = keys
        .clone()
        .list_api_keys(with_key(pb::ListApiKeysRequest::default(), &maker))
        .await
        .expect("read is granted")
        .into_inner();
    assert_eq!(listed.total, 1, "the maker's own keys: itself");
    let refused = keys
        .clone()
        .delete_api_key(with_key(
            pb::DeleteApiKeyRequest {
                key_id: listed.api_keys[0].id.clone(),
                user_id: None,
            },
            &maker,
        ))
        .await
        .unwrap_err();
    assert_error(
        &refused,
        Code::PermissionDenied,
        "INSUFFICIENT_API_KEY_PERMISSIONS",
    );
}

#[tokio::test]
async fn a_key_acts_on_the_admin_service_only_as_far_as_its_permissions_name_it() {
    let app = TestApp::spawn().await;
    let keys = keys_at(app.addr).await;
    let admin_client = warden_proto::auth::v1::admin_service_client::AdminServiceClient::new(
        Channel::from_shared(format!("http://{}", app.addr))
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    let (admin, user) = admin_and_user(&app).await;
    let (full, _) = issue(&keys, &admin, pb::CreateApiKeyRequest::default()).await;
    let (lister, _) = issue(
        &keys,
        &admin,
        pb::CreateApiKeyRequest {
            permissions: Some(grants(&[("user", &["list"])])),
            ..Default::default()
        },
    )
    .await;
    // Even a key with its owner's rights needs the action named.
    let refused = admin_client
        .clone()
        .list_users(with_key(pb::ListUsersRequest::default(), &full))
        .await
        .unwrap_err();
    assert_error(
        &refused,
        Code::PermissionDenied,
        "INSUFFICIENT_API_KEY_PERMISSIONS",
    );
    let listed = admin_client
        .clone()
        .list_users(with_key(pb::ListUsersRequest::default(), &lister))
        .await
        .expect("list is granted")
        .into_inner();
    assert_eq!(listed.total, 2);
    let refused = admin_client
        .clone()
        .ban_user(with_key(
            pb::BanUserRequest {
                user_id: user.clone(),
                ..Default::default()
            },
            &lister,
        ))
        .await
        .unwrap_err();
    assert_error(
        &refused,
        Code::PermissionDenied,
        "INSUFFICIENT_API_KEY_PERMISSIONS",
    );

    // A key naming the action is still only as good as its owner: not an administrator, not allowed.
    app.execute(&format!(
        r#"UPDATE "user" SET role = 'admin' WHERE id = '{user}'"#
    ))
    .await;
    let user_token = app
        .sign_in("replica-user@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    let (users_lister, _) = issue(
        &keys,
        &user_token,
        pb::CreateApiKeyRequest {
            permissions: Some(grants(&[("user", &["list"])])),
            ..Default::default()
        },
    )
    .await;
    app.execute(&format!(
        r#"UPDATE "user" SET role = 'user' WHERE id = '{user}'"#
    ))
    .await;
    let refused = admin_client
        .clone()
        .list_users(with_key(pb::ListUsersRequest::default(), &users_lister))
        .await
        .unwrap_err();
    assert_error(
        &refused,
        Code::PermissionDenied,
        "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
    );
}

#[tokio::test]
async fn a_key_without_limits_is_not_counted_but_its_last_use_is_noted_and_written_back() {
    let app = TestApp::spawn_with(fast_write_back).await;
    let keys = keys_at(app.addr).await;
    let (admin, user) = admin_and_user(&app).await;
    let (machine, id) = issue(
        &keys,
        &admin,
        pb::CreateApiKeyRequest {
            user_id: Some(user),
            rate_limit_enabled: Some(false),
            ..Default::default()
        },
    )
    .await;
    for _ in 0..20 {
        authenticate(&keys, &machine)
            .await
            .expect("no limit to reach");
    }
    let mut written = Vec::new();
    for _ in 0..50 {
        written = app
            .query_strings(&format!(
                r#"SELECT concat("requestCount", ' ', ("lastRequest" IS NOT NULL)::text) FROM apikey WHERE id = '{id}'"#
            ))
            .await;
        if written == ["0 true"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(written, ["0 true"], "nothing counted, the last use noted");
}
