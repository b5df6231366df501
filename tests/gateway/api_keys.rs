//! API keys through the gateway: made on Better Auth's `/api/auth/api-key/*` routes with a browser's session, then
//! used by a machine on the task API (`/api/v1/*`) as `x-api-key` or `Authorization: Bearer <key>`, on both
//! deployments. A key is not a session on Better Auth's routes (the package's default), and the older per-user paths
//! take none.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, on_both};

/// A key made by the signed-in `cookie`, and its id.
async fn new_key(app: &TestApp, cookie: &str, name: &str) -> (String, String) {
    let response = app
        .post(
            "/api/auth/api-key/create",
            json!({ "name": name }),
            Some(cookie),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["key"].as_str().unwrap().to_owned(),
        body["id"].as_str().unwrap().to_owned(),
    )
}

fn with_key(app: &TestApp, method: Method, path: &str, key: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method, app.url(path))
        .header("x-api-key", key)
}

on_both! {
    async fn a_key_reaches_the_task_api_as_x_api_key_or_bearer_and_stops_when_revoked(app: TestApp) {
        let cookie = app.signed_up_cookie("key.rest@example.com").await;
        let owner = app.user_id(&cookie).await;
        let (key, id) = new_key(&app, &cookie, "cron").await;

        let created = with_key(&app, Method::POST, "/api/v1/tasks", &key)
            .json(&json!({"title": "nightly report"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let task: Value = created.json().await.unwrap();
        assert_eq!(task["ownerId"], owner.as_str());
        let listed = app
            .http
            .get(app.url("/api/v1/tasks"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status(), 200);
        let listed: Value = listed.json().await.unwrap();
        assert_eq!(listed["tasks"].as_array().unwrap().len(), 1);
        // The browser's session sees the machine's task: one owner.
        let mine: Value = app.list_tasks(&cookie, "").await.json().await.unwrap();
        assert_eq!(mine["tasks"][0]["title"], "nightly report");

        let revoked = app
            .post("/api/auth/api-key/delete", json!({ "keyId": id }), Some(&cookie))
            .await;
        assert_eq!(revoked.status(), 200);
        let refused = with_key(&app, Method::GET, "/api/v1/tasks", &key).send().await.unwrap();
        assert_error(refused, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn a_key_is_no_session_on_better_auths_routes_and_opens_no_older_path(app: TestApp) {
        let cookie = app.signed_up_cookie("key.no-session@example.com").await;
        let owner = app.user_id(&cookie).await;
        let (key, _) = new_key(&app, &cookie, "machine").await;

        let session = app
            .http
            .get(app.url("/api/auth/get-session"))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(session.status(), 200);
        assert_eq!(session.json::<Value>().await.unwrap(), Value::Null);
        let listed = with_key(&app, Method::GET, "/api/auth/api-key/list", &key).send().await.unwrap();
        assert_error(listed, 401, "UNAUTHORIZED", "Unauthorized").await;
        let listed = app.http.get(app.url("/api/auth/api-key/list")).bearer_auth(&key).send().await.unwrap();
        assert_error(listed, 401, "UNAUTHORIZED", "Unauthorized").await;

        let older = with_key(&app, Method::GET, &format!("/api/{owner}/tasks"), &key).send().await.unwrap();
        assert_error(older, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn a_key_over_its_daily_limit_is_429_with_the_packages_code(app: TestApp) {
        let cookie = app.signed_up_cookie("key.limit@example.com").await;
        let (key, _) = new_key(&app, &cookie, "chatty").await;
        for call in 1..=10 {
            let response = with_key(&app, Method::GET, "/api/v1/tasks", &key).send().await.unwrap();
            assert_eq!(response.status(), 200, "call {call}");
        }
        let refused = with_key(&app, Method::GET, "/api/v1/tasks", &key).send().await.unwrap();
        assert_eq!(refused.status(), 429);
        let retry: u64 = refused.headers()["x-retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry > 86_000 && retry <= 86_400, "{retry}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "RATE_LIMITED");
        assert_eq!(body["message"], "Rate limit exceeded.");
        let wait = body["details"]["tryAgainIn"].as_i64().unwrap();
        assert!(wait > 86_000_000 && wait <= 86_400_000, "{wait}");
    }
}

/// A service account made by the administrator `admin` (no password: it signs in with keys only); its id.
async fn service_account(app: &TestApp, admin: &str, email: &str) -> String {
    let created = app
        .post(
            "/api/auth/admin/create-user",
            json!({ "email": email, "name": "Nightly exporter", "role": "service" }),
            Some(admin),
        )
        .await;
    assert_eq!(created.status(), 200);
    let body: Value = created.json().await.unwrap();
    body["user"]["id"].as_str().unwrap().to_owned()
}

on_both! {
    async fn an_administrator_runs_a_service_account_on_keys_alone(app: TestApp) {
        let admin = crate::admin::admin_cookie(&app, "ops@example.com").await;
        let service = service_account(&app, &admin, "exporter@example.com").await;

        // A read-only key with a limit of its own, issued by the administrator.
        let issued = app
            .post(
                "/api/warden/admin/create-api-key",
                json!({
                    "userId": service,
                    "name": "exporter",
                    "permissions": { "task": ["read"] },
                    "rateLimitMax": 1000,
                    "rateLimitTimeWindow": 60_000,
                }),
                Some(&admin),
            )
            .await;
        assert_eq!(issued.status(), 200);
        let issued: Value = issued.json().await.unwrap();
        assert_eq!(issued["referenceId"], service.as_str());
        assert_eq!(issued["permissions"], json!({ "task": ["read"] }));
        assert_eq!(issued["rateLimitMax"], 1000);
        let key = issued["key"].as_str().unwrap().to_owned();

        let listed = with_key(&app, Method::GET, "/api/v1/tasks", &key).send().await.unwrap();
        assert_eq!(listed.status(), 200);
        let created = with_key(&app, Method::POST, "/api/v1/tasks", &key)
            .json(&json!({"title": "not mine to make"}))
            .send()
            .await
            .unwrap();
        assert_error(
            created,
            403,
            "INSUFFICIENT_API_KEY_PERMISSIONS",
            "The API key's permissions do not allow this.",
        )
        .await;

        // The account itself signs in nowhere: no password, no reset mail.
        let signed_in = app
            .post(
                "/api/auth/sign-in/email",
                json!({ "email": "exporter@example.com", "password": "anything at all" }),
                None,
            )
            .await;
        assert_eq!(signed_in.status(), 401);
        let reset = app
            .post(
                "/api/auth/request-password-reset",
                json!({ "email": "exporter@example.com" }),
                None,
            )
            .await;
        assert_eq!(reset.status(), 200, "answered as any address");
        app.sign_up("person@example.com").await;
        app.post(
            "/api/auth/request-password-reset",
            json!({ "email": "person@example.com" }),
            None,
        )
        .await;
        crate::account::mail_to(&app, "person@example.com").await;
        let mails = crate::account::outbox(&app).await;
        assert!(
            mails.iter().all(|mail| mail["to"] != "exporter@example.com"),
            "no reset link for a service account: {mails:?}"
        );

        // The administrator sees and revokes its keys; nobody else may.
        let person = app.signed_up_cookie("curious@example.com").await;
        let peeked = app
            .get(&format!("/api/warden/admin/list-api-keys?userId={service}"), Some(&person))
            .await;
        assert_error(peeked, 401, "UNAUTHORIZED_SESSION", "Unauthorized or invalid session").await;
        let listed: Value = app
            .get(&format!("/api/warden/admin/list-api-keys?userId={service}"), Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed["total"], 1);
        assert_eq!(listed["apiKeys"][0]["name"], "exporter");
        let revoked = app
            .post(
                "/api/warden/admin/delete-api-key",
                json!({ "keyId": issued["id"], "userId": service }),
                Some(&admin),
            )
            .await;
        assert_eq!(revoked.status(), 200);
        let refused = with_key(&app, Method::GET, "/api/v1/tasks", &key).send().await.unwrap();
        assert_eq!(refused.status(), 401);
    }
}

#[tokio::test]
async fn no_provider_sign_in_takes_over_a_service_account() {
    let fx = crate::social_flow::Fixture::start().await;
    let app = &fx.app;
    let admin = crate::admin::admin_cookie(app, "root@example.com").await;
    // The provider's ada@example.com is verified there; here it is a service account's address.
    service_account(app, &admin, "ada@example.com").await;
    // Even with its address verified here too.
    crate::admin::execute(
        app,
        r#"UPDATE "user" SET "emailVerified" = true WHERE email = 'ada@example.com'"#,
    )
    .await;
    let taken_over = fx
        .sign_in_as(
            "ada@example.com",
            "ada password",
            json!({"errorCallbackURL": "/oops"}),
        )
        .await;
    assert_eq!(
        crate::social_flow::location(&taken_over),
        "/oops?error=account_not_linked"
    );
    let accounts = fx
        .rows(r#"select a.id from account a join "user" u on u.id = a."userId" where u.email = 'ada@example.com'"#)
        .await;
    assert!(accounts.is_empty(), "nothing was linked");
}
