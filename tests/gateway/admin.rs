//! Better Auth's admin routes end to end: their answers, who may call them, and bans as a browser meets them.

use reqwest::Response;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, PASSWORD, TestApp, assert_error, on_both, session_cookie, set_cookies, token_of,
};

const BANNED_MESSAGE: &str = "You have been banned from this application. Please contact support if you believe this is an error.";

/// Runs SQL on the deployment's own database (PostgreSQL or the all-in-one's SQLite file).
pub(crate) async fn execute(app: &TestApp, sql: &str) {
    let url = match &app.backend {
        Backend::Postgres { database_url, .. } => database_url.clone(),
        Backend::Sqlite { _dir } => warden_testkit::sqlite_url(_dir.path()),
    };
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    db.close().await.unwrap();
}

/// Signs `email` up and makes them an administrator by role; returns their cookie.
pub(crate) async fn admin_cookie(app: &TestApp, email: &str) -> String {
    let cookie = app.signed_up_cookie(email).await;
    execute(
        app,
        &format!(r#"UPDATE "user" SET "role" = 'admin' WHERE "email" = '{email}'"#),
    )
    .await;
    cookie
}

async fn json_of(response: Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The keys of a Better Auth user object.
fn assert_user_shape(user: &Value) {
    let mut keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "banExpires",
            "banReason",
            "banned",
            "createdAt",
            "email",
            "emailVerified",
            "id",
            "image",
            "name",
            "role",
            "twoFactorEnabled",
            "updatedAt"
        ]
    );
}

/// Every admin route, with a body or query that would succeed for an administrator, and the code a non-admin gets.
fn every_route(target: &str) -> Vec<(&'static str, &'static str, Option<Value>, String)> {
    vec![
        (
            "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
            "You are not allowed to change users role",
            Some(json!({"userId": target, "role": "admin"})),
            "/api/auth/admin/set-role".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
            "You are not allowed to ban users",
            Some(json!({"userId": target})),
            "/api/auth/admin/ban-user".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
            "You are not allowed to ban users",
            Some(json!({"userId": target})),
            "/api/auth/admin/unban-user".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
            "You are not allowed to list users",
            None,
            "/api/auth/admin/list-users?limit=10".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS",
            "You are not allowed to list users sessions",
            Some(json!({"userId": target})),
            "/api/auth/admin/list-user-sessions".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
            "You are not allowed to revoke users sessions",
            Some(json!({"sessionToken": "some-token"})),
            "/api/auth/admin/revoke-user-session".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
            "You are not allowed to revoke users sessions",
            Some(json!({"userId": target})),
            "/api/auth/admin/revoke-user-sessions".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS",
            "You are not allowed to delete users",
            Some(json!({"userId": target})),
            "/api/auth/admin/remove-user".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_GET_USER",
            "You are not allowed to get user",
            None,
            format!("/api/auth/admin/get-user?id={target}"),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
            "You are not allowed to create users",
            Some(json!({"email": "made@example.com", "password": PASSWORD, "name": "Made"})),
            "/api/auth/admin/create-user".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD",
            "You are not allowed to set users password",
            Some(json!({"userId": target, "newPassword": "a brand new passphrase"})),
            "/api/auth/admin/set-user-password".into(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_RESET_TWO_FACTOR",
            "You are not allowed to reset users two factor",
            Some(json!({"userId": target})),
            "/api/warden/admin/reset-two-factor".into(),
        ),
    ]
}

async fn call(app: &TestApp, body: Option<Value>, path: &str, cookie: Option<&str>) -> Response {
    match body {
        Some(body) => app.post(path, body, cookie).await,
        None => app.get(path, cookie).await,
    }
}

on_both! {
    async fn a_non_admin_gets_403_on_every_admin_route(app: TestApp) {
        let cookie = app.signed_up_cookie("plain@example.com").await;
        let target_cookie = app.signed_up_cookie("target@example.com").await;
        let target = app.user_id(&target_cookie).await;

        for (code, message, body, path) in every_route(&target) {
            let response = call(&app, body, &path, Some(&cookie)).await;
            assert_error(response, 403, code, message).await;
        }
        let user = app.session(&target_cookie).await["user"].clone();
        assert_eq!((user["role"].as_str(), user["banned"].as_bool()), (Some("user"), Some(false)));
    }

    async fn without_a_session_every_admin_route_is_401_with_an_empty_body(app: TestApp) {
        let target_cookie = app.signed_up_cookie("target@example.com").await;
        let target = app.user_id(&target_cookie).await;

        for (_, _, body, path) in every_route(&target) {
            let response = call(&app, body, &path, None).await;
            assert_eq!(response.status(), 401, "{path}");
            assert_eq!(response.headers()["content-type"], "application/json", "{path}");
            assert_eq!(response.text().await.unwrap(), "", "{path}");
        }
    }

    async fn every_admin_route_answers_in_better_auths_shapes(app: TestApp) {
        let admin = admin_cookie(&app, "boss@example.com").await;
        let target_cookie = app.signed_up_cookie("target@example.com").await;
        let target = app.user_id(&target_cookie).await;

        let set_role = json_of(
            app.post("/api/auth/admin/set-role", json!({"userId": target, "role": ["support", "editor"]}), Some(&admin)).await,
        ).await;
        assert_user_shape(&set_role["user"]);
        assert_eq!(set_role["user"]["role"], "support,editor");

        let banned = json_of(
            app.post("/api/auth/admin/ban-user", json!({"userId": target, "banReason": "Spam", "banExpiresIn": 3600}), Some(&admin)).await,
        ).await;
        assert_user_shape(&banned["user"]);
        assert_eq!((banned["user"]["banned"].as_bool(), banned["user"]["banReason"].as_str()), (Some(true), Some("Spam")));
        assert!(banned["user"]["banExpires"].as_str().unwrap().ends_with('Z'));

        let unbanned = json_of(
            app.post("/api/auth/admin/unban-user", json!({"userId": target}), Some(&admin)).await,
        ).await;
        assert_eq!(
            (&unbanned["user"]["banned"], &unbanned["user"]["banReason"], &unbanned["user"]["banExpires"]),
            (&json!(false), &Value::Null, &Value::Null)
        );

        let listed = json_of(app.get("/api/auth/admin/list-users", Some(&admin)).await).await;
        assert_eq!(listed.as_object().unwrap().len(), 2, "no limit or offset when none was given: {listed}");
        assert_eq!(listed["total"], 2);
        assert_user_shape(&listed["users"][0]);

        let target_cookie = session_cookie(app.sign_in("target@example.com", PASSWORD).await.headers()).unwrap();
        let sessions = json_of(
            app.post("/api/auth/admin/list-user-sessions", json!({"userId": target}), Some(&admin)).await,
        ).await;
        let sessions = sessions["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["userId"], target.as_str());
        assert_eq!(sessions[0]["token"].as_str().unwrap().len(), 64);

        let revoked = json_of(
            app.post("/api/auth/admin/revoke-user-session", json!({"sessionToken": token_of(&target_cookie)}), Some(&admin)).await,
        ).await;
        assert_eq!(revoked, json!({"success": true}));
        assert_eq!(app.session(&target_cookie).await, Value::Null);

        let revoked_all = json_of(
            app.post("/api/auth/admin/revoke-user-sessions", json!({"userId": target}), Some(&admin)).await,
        ).await;
        assert_eq!(revoked_all, json!({"success": true}));

        let user = json_of(app.get(&format!("/api/auth/admin/get-user?id={target}"), Some(&admin)).await).await;
        assert_user_shape(&user);
        assert_eq!(user["email"], "target@example.com");

        let created = json_of(
            app.post("/api/auth/admin/create-user", json!({"email": "New@Example.com", "password": PASSWORD, "name": "New", "role": "user", "data": {}}), Some(&admin)).await,
        ).await;
        assert_user_shape(&created["user"]);
        assert_eq!((created["user"]["email"].as_str(), created["user"]["role"].as_str()), (Some("new@example.com"), Some("user")));
        assert_eq!(app.sign_in("new@example.com", PASSWORD).await.status(), 200);

        let password = json_of(
            app.post("/api/auth/admin/set-user-password", json!({"userId": target, "newPassword": "a brand new passphrase"}), Some(&admin)).await,
        ).await;
        assert_eq!(password, json!({"status": true}));
        assert_eq!(app.sign_in("target@example.com", "a brand new passphrase").await.status(), 200);

        let removed = json_of(
            app.post("/api/auth/admin/remove-user", json!({"userId": target}), Some(&admin)).await,
        ).await;
        assert_eq!(removed, json!({"success": true}));
        let gone = app.get(&format!("/api/auth/admin/get-user?id={target}"), Some(&admin)).await;
        assert_error(gone, 404, "USER_NOT_FOUND", "User not found").await;
    }

    async fn list_users_searches_sorts_pages_and_counts(app: TestApp) {
        let admin = admin_cookie(&app, "zed@example.com").await;
        for email in ["amy@example.com", "bob@example.org", "cat@example.com"] {
            app.sign_up(email).await;
        }

        let page = json_of(
            app.get("/api/auth/admin/list-users?sortBy=email&sortDirection=asc&limit=2&offset=1", Some(&admin)).await,
        ).await;
        let emails: Vec<&str> = page["users"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
        assert_eq!(emails, ["bob@example.org", "cat@example.com"]);
        assert_eq!((&page["total"], &page["limit"], &page["offset"]), (&json!(4), &json!(2), &json!(1)));

        let searched = json_of(
            app.get("/api/auth/admin/list-users?searchValue=example.com&searchField=email&searchOperator=ends_with&sortBy=email&sortDirection=desc&limit=2", Some(&admin)).await,
        ).await;
        let emails: Vec<&str> = searched["users"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
        assert_eq!(emails, ["zed@example.com", "cat@example.com"]);
        assert_eq!(searched["total"], 3);
        assert_eq!(searched["limit"], 2);
        assert!(searched.get("offset").is_none());

        let filtered = json_of(
            app.get("/api/auth/admin/list-users?filterField=role&filterValue=admin", Some(&admin)).await,
        ).await;
        assert_eq!(filtered["total"], 1);
        assert_eq!(filtered["users"][0]["email"], "zed@example.com");

        let refused = app.get("/api/auth/admin/list-users?searchOperator=like", None).await;
        assert_error(
            refused,
            400,
            "VALIDATION_ERROR",
            r#"[query.searchOperator] Invalid option: expected one of "contains"|"starts_with"|"ends_with""#,
        )
        .await;
    }

    async fn a_ban_kills_live_sessions_on_the_next_request(app: TestApp) {
        let admin = admin_cookie(&app, "boss@example.com").await;
        let cookie = app.signed_up_cookie("rogue@example.com").await;
        let other = session_cookie(app.sign_in("rogue@example.com", PASSWORD).await.headers()).unwrap();
        let rogue = app.user_id(&cookie).await;
        // Read twice each, so both sessions are served from the cache.
        for c in [&cookie, &other, &cookie, &other] {
            assert_ne!(app.session(c).await, Value::Null);
        }
        assert_eq!(app.new_task(&cookie, "before the ban").await["title"], "before the ban");

        let banned = app.post("/api/auth/admin/ban-user", json!({"userId": rogue}), Some(&admin)).await;
        assert_eq!(json_of(banned).await["user"]["banReason"], "No reason");

        for c in [&cookie, &other] {
            let response = app.get("/api/auth/get-session", Some(c)).await;
            assert!(!set_cookies(response.headers()).is_empty(), "the dead session's cookies are cleared");
            assert_eq!(response.json::<Value>().await.unwrap(), Value::Null);
        }
        assert_eq!(app.create_task(&cookie, json!({"title": "after the ban"})).await.status(), 401);
        assert_ne!(app.session(&admin).await, Value::Null);
    }

    async fn a_banned_user_signs_in_to_403_until_unbanned(app: TestApp) {
        let admin = admin_cookie(&app, "boss@example.com").await;
        let cookie = app.signed_up_cookie("rogue@example.com").await;
        let rogue = app.user_id(&cookie).await;
        app.post("/api/auth/admin/ban-user", json!({"userId": rogue, "banExpiresIn": 3600}), Some(&admin)).await;

        let refused = app.sign_in("rogue@example.com", PASSWORD).await;
        assert!(session_cookie(refused.headers()).is_none());
        assert_error(refused, 403, "BANNED_USER", BANNED_MESSAGE).await;

        app.post("/api/auth/admin/unban-user", json!({"userId": rogue}), Some(&admin)).await;
        assert_eq!(app.sign_in("rogue@example.com", PASSWORD).await.status(), 200);
    }

    async fn an_expired_ban_lifts_itself_at_sign_in(app: TestApp) {
        let admin = admin_cookie(&app, "boss@example.com").await;
        let cookie = app.signed_up_cookie("rogue@example.com").await;
        let rogue = app.user_id(&cookie).await;
        app.post("/api/auth/admin/ban-user", json!({"userId": rogue, "banExpiresIn": -60}), Some(&admin)).await;

        let response = app.sign_in("rogue@example.com", PASSWORD).await;

        let body = json_of(response).await;
        assert_eq!(
            (&body["user"]["banned"], &body["user"]["banReason"], &body["user"]["banExpires"]),
            (&json!(false), &Value::Null, &Value::Null)
        );
    }

    async fn admin_routes_report_better_auths_errors(app: TestApp) {
        let admin = admin_cookie(&app, "boss@example.com").await;
        let me = app.user_id(&admin).await;

        let own_ban = app.post("/api/auth/admin/ban-user", json!({"userId": me}), Some(&admin)).await;
        assert_error(own_ban, 400, "YOU_CANNOT_BAN_YOURSELF", "You cannot ban yourself").await;
        let own_removal = app.post("/api/auth/admin/remove-user", json!({"userId": me}), Some(&admin)).await;
        assert_error(own_removal, 400, "YOU_CANNOT_REMOVE_YOURSELF", "You cannot remove yourself").await;
        let unknown = app.post("/api/auth/admin/remove-user", json!({"userId": "nobody"}), Some(&admin)).await;
        assert_error(unknown, 404, "USER_NOT_FOUND", "User not found").await;
        let duplicate = app.post("/api/auth/admin/create-user", json!({"email": "boss@example.com", "password": PASSWORD, "name": "Again"}), Some(&admin)).await;
        assert_error(duplicate, 400, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.").await;
        let short = app.post("/api/auth/admin/set-user-password", json!({"userId": me, "newPassword": "short"}), Some(&admin)).await;
        assert_error(short, 400, "PASSWORD_TOO_SHORT", "Password too short").await;
        let no_id = app.get("/api/auth/admin/get-user", Some(&admin)).await;
        assert_error(no_id, 400, "VALIDATION_ERROR", "[query.id] Invalid input: expected string, received undefined").await;
        let no_role = app.post("/api/auth/admin/set-role", json!({"userId": me, "role": 5}), Some(&admin)).await;
        assert_error(no_role, 400, "VALIDATION_ERROR", "[body.role] Invalid input").await;
        // Body validation comes before the session check, as in Better Auth.
        let invalid = app.post("/api/auth/admin/ban-user", json!({"banExpiresIn": "soon"}), None).await;
        assert_error(
            invalid,
            400,
            "VALIDATION_ERROR",
            "[body.userId] Invalid input: expected string, received undefined; \
             [body.banExpiresIn] Invalid input: expected number, received string",
        )
        .await;
    }
}
