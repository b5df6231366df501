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
