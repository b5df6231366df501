//! `PLUGINS`: a switched-off plugin's routes answer the bare 404 of a Better Auth server without that plugin, and
//! everything else goes on as before; `jwt` off hides only its routes and the `set-auth-jwt` header, while task
//! calls (which carry a JWT task-svc verifies) keep working.

use serde_json::json;
use warden_common::settings::{Plugin, Plugins};

use crate::helpers::*;

/// The same plugin set on every part of the deployment that reads it.
async fn with_plugins(plugins: Plugins, split: bool) -> TestApp {
    if split {
        TestApp::postgres_configured(
            |auth| auth.plugins = plugins,
            |gateway| gateway.plugins = plugins,
        )
        .await
    } else {
        TestApp::all_in_one_with(|settings| settings.plugins = plugins).await
    }
}

async fn assert_bare_404(response: reqwest::Response) {
    assert_eq!(response.status(), 404);
    assert!(response.headers().get("content-type").is_none());
    assert!(response.bytes().await.unwrap().is_empty());
}

async fn admin_off_answers_404_and_the_rest_goes_on(split: bool) {
    let app = with_plugins(Plugins::all().without(Plugin::Admin), split).await;
    let cookie = app.signed_up_cookie("ada@example.com").await;
    assert_bare_404(app.get("/api/auth/admin/list-users", Some(&cookie)).await).await;
    assert_bare_404(
        app.post(
            "/api/auth/admin/set-role",
            json!({"userId": "x", "role": "admin"}),
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert_eq!(
        app.get("/api/auth/get-session", Some(&cookie))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/auth/token", Some(&cookie)).await.status(),
        200
    );
}

async fn jwt_off_hides_its_routes_and_header_but_tasks_still_work(split: bool) {
    let app = with_plugins(Plugins::all().without(Plugin::Jwt), split).await;
    let cookie = app.signed_up_cookie("ada@example.com").await;
    assert_bare_404(app.get("/api/auth/token", Some(&cookie)).await).await;
    assert_bare_404(app.get("/api/auth/jwks", None).await).await;
    let session = app.get("/api/auth/get-session", Some(&cookie)).await;
    assert_eq!(session.status(), 200);
    assert!(session.headers().get("set-auth-jwt").is_none());
    let task = app.new_task(&cookie, "Still works").await;
    assert_eq!(task["title"], "Still works");
    let listed = app.list_tasks(&cookie, "").await;
    assert_eq!(listed.status(), 200);
    // An admin route is still there (401 without a session, Better Auth's bare answer).
    assert_eq!(
        app.get("/api/auth/admin/list-users", None).await.status(),
        401
    );
}

async fn every_plugin_on_serves_its_routes_and_header(split: bool) {
    let app = with_plugins(Plugins::all(), split).await;
    let cookie = app.signed_up_cookie("ada@example.com").await;
    let session = app.get("/api/auth/get-session", Some(&cookie)).await;
    assert!(session.headers().get("set-auth-jwt").is_some());
    assert_eq!(app.get("/api/auth/jwks", None).await.status(), 200);
    // Not an administrator: refused by the admin plugin, not a missing route.
    let listed = app.get("/api/auth/admin/list-users", Some(&cookie)).await;
    assert_eq!(listed.status(), 403);
}

#[tokio::test]
async fn admin_off_answers_404_and_the_rest_goes_on_split() {
    admin_off_answers_404_and_the_rest_goes_on(true).await
}

#[tokio::test]
async fn admin_off_answers_404_and_the_rest_goes_on_all_in_one() {
    admin_off_answers_404_and_the_rest_goes_on(false).await
}

#[tokio::test]
async fn jwt_off_hides_its_routes_and_header_but_tasks_still_work_split() {
    jwt_off_hides_its_routes_and_header_but_tasks_still_work(true).await
}

#[tokio::test]
async fn jwt_off_hides_its_routes_and_header_but_tasks_still_work_all_in_one() {
    jwt_off_hides_its_routes_and_header_but_tasks_still_work(false).await
}

#[tokio::test]
async fn every_plugin_on_serves_its_routes_and_header_split() {
    every_plugin_on_serves_its_routes_and_header(true).await
}

#[tokio::test]
async fn every_plugin_on_serves_its_routes_and_header_all_in_one() {
    every_plugin_on_serves_its_routes_and_header(false).await
}
