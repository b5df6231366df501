//! API keys across replicas: two auth-svc processes on one database and one Redis share each key's use counters
//! (its rate limit and remaining uses are one budget, decided atomically in Redis), honour a revocation made on the
//! other at once, and write the counters back to the `apikey` row periodically.

use std::time::Duration;

use auth_svc::{AuthServer, Config};
use tonic::{Code, Request, transport::Channel};
use tonic_types::StatusExt;
use warden_proto::auth::v1::{self as pb, api_key_service_client::ApiKeyServiceClient};

use crate::helpers::{TestApp, assert_error, bearer, secret};

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
    let mut request = Request::new(pb::AuthenticateApiKeyRequest {});
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
