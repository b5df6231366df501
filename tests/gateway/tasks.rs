//! The task REST API and the JWT routes through the gateway: the browser's cookie is confirmed by auth-svc, and
//! task-svc is called with the JWT that comes back, or with the JWT the caller sent, never with a user id.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error, on_both, session_cookie};

/// The task JSON of a response, after checking it has exactly the eight proto3 JSON keys.
async fn task_json(response: Response) -> Value {
    let task: Value = response.json().await.unwrap();
    let mut keys: Vec<&str> = task
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "completed",
            "createdAt",
            "description",
            "etag",
            "id",
            "ownerId",
            "title",
            "updatedAt"
        ],
        "{task}"
    );
    task
}

fn quoted(task: &Value) -> String {
    format!("\"{}\"", task["etag"].as_str().unwrap())
}

fn etag_header(response: &Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Verifies a JWT with the keys the gateway publishes at /api/auth/jwks and returns its claims.
async fn verify_with_jwks(app: &TestApp, token: &str) -> Value {
    let jwks: Value = app.get("/api/auth/jwks", None).await.json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let kid = header.kid.expect("a kid");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .expect("the signing key is published");
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[&app.base_url]);
    validation.set_audience(&[&app.base_url]);
    jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .expect("the JWT verifies")
        .claims
}

on_both! {
    async fn a_task_is_created_read_updated_and_deleted_over_rest(app: TestApp) {
        let cookie = app.signed_up_cookie("crud@example.com").await;
        let user_id = app.user_id(&cookie).await;

        let created = app.create_task(&cookie, json!({"title": "  Write the report ", "description": "by Friday"})).await;
        assert_eq!(created.status(), 201);
        let etag = etag_header(&created);
        let location = created.headers()["location"].to_str().unwrap().to_owned();
        let task = task_json(created).await;
        let id = task["id"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("/api/v1/tasks/{id}"));
        assert_eq!(etag, quoted(&task));
        assert_eq!(task["ownerId"], user_id.as_str());
        assert_eq!(task["title"], "Write the report");
        assert_eq!(task["description"], "by Friday");
        assert_eq!(task["completed"], false);
        let created_at = task["createdAt"].as_str().unwrap();
        assert!(created_at.ends_with('Z') && created_at.len() == 24, "{created_at}");

        let read = app.get_task(&cookie, &id).await;
        assert_eq!(read.status(), 200);
        assert_eq!(etag_header(&read), etag);
        assert_eq!(task_json(read).await, task);

        let updated = app.patch_task(&cookie, &id, json!({"title": "Send the report"}), Some(&etag)).await;
        assert_eq!(updated.status(), 200);
        let new_etag = etag_header(&updated);
        let updated = task_json(updated).await;
        assert_ne!(new_etag, etag);
        assert_eq!(new_etag, quoted(&updated));
        assert_eq!(updated["title"], "Send the report");
        assert_eq!(updated["description"], "by Friday", "fields not named are kept");

        let stale = app.patch_task(&cookie, &id, json!({"title": "Lost update"}), Some(&etag)).await;
        assert_error(stale, 412, "ETAG_MISMATCH", "The task has changed since it was read").await;
        let stale_in_body = app.patch_task(&cookie, &id, json!({"title": "Lost", "etag": task["etag"]}), None).await;
        assert_eq!(stale_in_body.status(), 412);
        let stale_delete = app.delete_task(&cookie, &id, Some(&etag)).await;
        assert_eq!(stale_delete.status(), 412);
        let unchanged = task_json(app.get_task(&cookie, &id).await).await;
        assert_eq!(unchanged["title"], "Send the report");

        let deleted = app.delete_task(&cookie, &id, Some(&new_etag)).await;
        assert_eq!(deleted.status(), 204);
        assert!(deleted.bytes().await.unwrap().is_empty());
        assert_error(app.get_task(&cookie, &id).await, 404, "TASK_NOT_FOUND", "Task not found").await;
        assert_eq!(app.delete_task(&cookie, &id, None).await.status(), 404);
    }

    async fn patching_completed_to_false_really_sets_false(app: TestApp) {
        let cookie = app.signed_up_cookie("uncomplete@example.com").await;
        let id = app.new_task(&cookie, "Toggle me").await["id"].as_str().unwrap().to_owned();

        let done = task_json(app.patch_task(&cookie, &id, json!({"completed": true}), None).await).await;
        assert_eq!(done["completed"], true);
        let undone = app.patch_task(&cookie, &id, json!({"completed": false}), None).await;

        assert_eq!(undone.status(), 200);
        assert_eq!(task_json(undone).await["completed"], false);
        assert_eq!(task_json(app.get_task(&cookie, &id).await).await["completed"], false);
    }

    async fn if_match_accepts_weak_tags_lists_and_a_star(app: TestApp) {
        let cookie = app.signed_up_cookie("ifmatch@example.com").await;
        let task = app.new_task(&cookie, "Tagged").await;
        let id = task["id"].as_str().unwrap();
        let etag = task["etag"].as_str().unwrap();

        let weak = app.patch_task(&cookie, id, json!({"description": "w"}), Some(&format!("W/\"{etag}\""))).await;
        assert_eq!(weak.status(), 200);
        let current = task_json(weak).await["etag"].as_str().unwrap().to_owned();
        let list = app.patch_task(&cookie, id, json!({"description": "l"}), Some(&format!("\"old\", \"{current}\""))).await;
        assert_eq!(list.status(), 200);
        let none_current = app.patch_task(&cookie, id, json!({"description": "x"}), Some("\"old\", \"older\"")).await;
        assert_eq!(none_current.status(), 412);
        let star = app.delete_task(&cookie, id, Some("*")).await;
        assert_eq!(star.status(), 204);
    }

    async fn pagination_walks_every_task_exactly_once_while_tasks_are_added(app: TestApp) {
        let cookie = app.signed_up_cookie("pages@example.com").await;
        let mut created = Vec::new();
        for n in 0..7 {
            created.push(app.new_task(&cookie, &format!("Task {n}")).await["id"].as_str().unwrap().to_owned());
        }

        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let response = app.list_tasks(&cookie, &format!("pageSize=3&pageToken={token}")).await;
            assert_eq!(response.status(), 200);
            let page: Value = response.json().await.unwrap();
            assert!(page["tasks"].as_array().unwrap().len() <= 3);
            seen.extend(ids(&page));
            app.new_task(&cookie, "Added while paging").await;
            token = page["nextPageToken"].as_str().unwrap().to_owned();
            if token.is_empty() {
                break;
            }
        }

        let newest_first: Vec<String> = created.iter().rev().cloned().collect();
        assert_eq!(seen, newest_first);
    }

    async fn a_tampered_page_token_is_a_400(app: TestApp) {
        let cookie = app.signed_up_cookie("badtoken@example.com").await;
        let response = app.list_tasks(&cookie, "pageToken=not-a-token").await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "INVALID_PAGE_TOKEN");
    }

    async fn the_completed_filter_lists_only_matching_tasks(app: TestApp) {
        let cookie = app.signed_up_cookie("filter@example.com").await;
        let open = app.new_task(&cookie, "Open").await["id"].as_str().unwrap().to_owned();
        let done = app.new_task(&cookie, "Done").await["id"].as_str().unwrap().to_owned();
        app.patch_task(&cookie, &done, json!({"completed": true}), None).await;

        let completed: Value = app.list_tasks(&cookie, "completed=true").await.json().await.unwrap();
        let pending: Value = app.list_tasks(&cookie, "completed=false").await.json().await.unwrap();
        let all: Value = app.list_tasks(&cookie, "").await.json().await.unwrap();

        assert_eq!(ids(&completed), [done.as_str()]);
        assert_eq!(ids(&pending), [open.as_str()]);
        assert_eq!(ids(&all), [done, open]);
        assert_eq!(all["nextPageToken"], "");
        let bad = app.list_tasks(&cookie, "completed=yes").await;
        assert_eq!(bad.status(), 400);
        assert_eq!(bad.json::<Value>().await.unwrap()["code"], "VALIDATION_ERROR");
    }

    async fn another_users_task_is_not_found_and_never_listed(app: TestApp) {
        let alice = app.signed_up_cookie("alice.tasks@example.com").await;
        let bob = app.signed_up_cookie("bob.tasks@example.com").await;
        let task = app.new_task(&alice, "Alice's secret").await;
        let id = task["id"].as_str().unwrap();

        assert_error(app.get_task(&bob, id).await, 404, "TASK_NOT_FOUND", "Task not found").await;
        let patched = app.patch_task(&bob, id, json!({"title": "Bob was here"}), None).await;
        assert_error(patched, 404, "TASK_NOT_FOUND", "Task not found").await;
        assert_error(app.delete_task(&bob, id, None).await, 404, "TASK_NOT_FOUND", "Task not found").await;
        let listed: Value = app.list_tasks(&bob, "").await.json().await.unwrap();
        assert_eq!(listed["tasks"], json!([]));

        assert_eq!(task_json(app.get_task(&alice, id).await).await, task);
    }

    async fn an_x_user_id_header_without_a_cookie_is_401(app: TestApp) {
        let alice = app.signed_up_cookie("forged@example.com").await;
        let alice_id = app.user_id(&alice).await;
        let id = app.new_task(&alice, "Not yours").await["id"].as_str().unwrap().to_owned();

        for (method, path) in [
            (Method::GET, "/api/v1/tasks".to_owned()),
            (Method::GET, format!("/api/v1/tasks/{id}")),
            (Method::DELETE, format!("/api/v1/tasks/{id}")),
            (Method::GET, format!("/api/{alice_id}/tasks")),
        ] {
            let response = app.request(method, &path, None).header("x-user-id", &alice_id).send().await.unwrap();
            assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
        }
        let create = app
            .request(Method::POST, "/api/v1/tasks", None)
            .header("x-user-id", &alice_id)
            .json(&json!({"title": "Forged"}))
            .send()
            .await
            .unwrap();
        assert_error(create, 401, "UNAUTHORIZED", "Unauthorized").await;
        let listed: Value = app.list_tasks(&alice, "").await.json().await.unwrap();
        assert_eq!(ids(&listed), [id]);
    }

    async fn after_sign_out_the_old_cookie_is_401(app: TestApp) {
        let cookie = app.signed_up_cookie("signout.tasks@example.com").await;
        assert_eq!(app.list_tasks(&cookie, "").await.status(), 200);

        app.post("/api/auth/sign-out", json!({}), Some(&cookie)).await;

        assert_error(app.list_tasks(&cookie, "").await, 401, "UNAUTHORIZED", "Unauthorized").await;
        let create = app.create_task(&cookie, json!({"title": "Too late"})).await;
        assert_error(create, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn the_signed_bearer_token_works_in_place_of_the_cookie(app: TestApp) {
        let signed_up = app.sign_up("bearer.tasks@example.com").await;
        let bearer = signed_up.headers()["set-auth-token"].to_str().unwrap().to_owned();

        let created = app
            .request(Method::POST, "/api/v1/tasks", None)
            .bearer_auth(&bearer)
            .json(&json!({"title": "From a native client"}))
            .send()
            .await
            .unwrap();

        assert_eq!(created.status(), 201);
        let listed = app.request(Method::GET, "/api/v1/tasks", None).bearer_auth(&bearer).send().await.unwrap();
        assert_eq!(ids(&listed.json().await.unwrap()).len(), 1);
    }

    async fn the_older_path_form_works_for_the_users_own_id_and_is_403_for_another(app: TestApp) {
        let alice = app.signed_up_cookie("legacy.alice@example.com").await;
        let bob = app.signed_up_cookie("legacy.bob@example.com").await;
        let alice_id = app.user_id(&alice).await;
        let bob_id = app.user_id(&bob).await;
        let own = format!("/api/{alice_id}/tasks");

        let created = app.request(Method::POST, &own, Some(&alice)).json(&json!({"title": "Old client"})).send().await.unwrap();
        assert_eq!(created.status(), 201);
        let task = task_json(created).await;
        let id = task["id"].as_str().unwrap();
        let one = format!("{own}/{id}");
        let listed: Value = app.get(&own, Some(&alice)).await.json().await.unwrap();
        assert_eq!(ids(&listed), [id]);
        assert_eq!(app.get(&one, Some(&alice)).await.status(), 200);
        let patched = app.request(Method::PATCH, &one, Some(&alice)).json(&json!({"completed": true})).send().await.unwrap();
        assert_eq!(task_json(patched).await["completed"], true);

        for (method, path) in [
            (Method::GET, format!("/api/{bob_id}/tasks")),
            (Method::POST, format!("/api/{bob_id}/tasks")),
            (Method::GET, format!("/api/{bob_id}/tasks/{id}")),
            (Method::PATCH, format!("/api/{bob_id}/tasks/{id}")),
            (Method::DELETE, format!("/api/{bob_id}/tasks/{id}")),
        ] {
            let response = app.request(method, &path, Some(&alice)).json(&json!({"title": "x"})).send().await.unwrap();
            assert_error(response, 403, "FORBIDDEN", "Forbidden").await;
        }
        let response = app.get(&format!("/api/{alice_id}/tasks"), Some(&bob)).await;
        assert_error(response, 403, "FORBIDDEN", "Forbidden").await;

        assert_eq!(app.request(Method::DELETE, &one, Some(&alice)).send().await.unwrap().status(), 204);
    }

    async fn task_validation_errors_come_back_as_400s(app: TestApp) {
        let cookie = app.signed_up_cookie("invalid.tasks@example.com").await;

        let blank = app.create_task(&cookie, json!({"title": "   "})).await;
        assert_eq!(blank.status(), 400);
        assert_eq!(blank.json::<Value>().await.unwrap()["code"], "VALIDATION_ERROR");
        let long = app.create_task(&cookie, json!({"title": "x".repeat(201)})).await;
        assert_eq!(long.status(), 400);
        let unknown = app.create_task(&cookie, json!({"title": "ok", "priority": 1})).await;
        assert_error(unknown, 400, "VALIDATION_ERROR", "[body] Unrecognized key: \"priority\"").await;
        let id = app.new_task(&cookie, "Valid").await["id"].as_str().unwrap().to_owned();
        let patch = app.patch_task(&cookie, &id, json!({"done": true}), None).await;
        assert_error(patch, 400, "VALIDATION_ERROR", "[body] Unrecognized key: \"done\"").await;
    }

    async fn a_second_sign_in_sees_the_same_tasks(app: TestApp) {
        let first = app.signed_up_cookie("devices@example.com").await;
        let id = app.new_task(&first, "Shared across devices").await["id"].as_str().unwrap().to_owned();

        let second = session_cookie(app.sign_in("devices@example.com", PASSWORD).await.headers()).unwrap();

        let listed: Value = app.list_tasks(&second, "").await.json().await.unwrap();
        assert_eq!(ids(&listed), [id]);
    }

    async fn a_jwt_bearer_works_in_place_of_the_session_until_it_expires(app: TestApp) {
        let alice = app.signed_up_cookie("jwt.alice@example.com").await;
        let bob = app.signed_up_cookie("jwt.bob@example.com").await;
        let (alice_id, bob_id) = (app.user_id(&alice).await, app.user_id(&bob).await);
        let token: Value = app.get("/api/auth/token", Some(&alice)).await.json().await.unwrap();
        let jwt = token["token"].as_str().unwrap().to_owned();
        let with_jwt = |method: Method, path: &str, jwt: &str| app.request(method, path, None).bearer_auth(jwt);

        let created = with_jwt(Method::POST, "/api/v1/tasks", &jwt).json(&json!({"title": "From a backend"})).send().await.unwrap();
        assert_eq!(created.status(), 201);
        let task = task_json(created).await;
        assert_eq!(task["ownerId"], alice_id.as_str());
        let one = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
        let patched = with_jwt(Method::PATCH, &one, &jwt)
            .header("if-match", quoted(&task))
            .json(&json!({"completed": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(task_json(patched).await["completed"], true);
        let own = with_jwt(Method::GET, &format!("/api/{alice_id}/tasks"), &jwt).send().await.unwrap();
        assert_eq!(ids(&own.json().await.unwrap()), [task["id"].as_str().unwrap()]);
        let other = with_jwt(Method::GET, &format!("/api/{bob_id}/tasks"), &jwt).send().await.unwrap();
        assert_error(other, 403, "FORBIDDEN", "Forbidden").await;

        // A JWT bearer goes before the cookie, as any bearer does: Bob's browser cookie with Alice's JWT is Alice.
        let both = with_jwt(Method::GET, "/api/v1/tasks", &jwt).header("cookie", &bob).send().await.unwrap();
        assert_eq!(ids(&both.json().await.unwrap()).len(), 1);
        assert_eq!(ids(&app.list_tasks(&bob, "").await.json().await.unwrap()).len(), 0);

        // Forged: a changed signature, or Bob's id put into Alice's claims, is refused by task-svc.
        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let bad_signature = format!("{signed}.{flipped}{}", &signature[1..]);
        let (header, payload) = signed.split_once('.').unwrap();
        let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let as_bob = URL_SAFE_NO_PAD.encode(claims.replace(&alice_id, &bob_id));
        let swapped = format!("{header}.{as_bob}.{signature}");
        // (The older paths are checked against the id a JWT claims before task-svc sees it, so only the claimed
        // user's own path gets as far as task-svc's verdict; another's is 403 on the claim alone.)
        for (forged, claimed) in [(bad_signature, &alice_id), (swapped, &bob_id)] {
            let response = with_jwt(Method::GET, "/api/v1/tasks", &forged).send().await.unwrap();
            assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
            let response = with_jwt(Method::GET, &format!("/api/{claimed}/tasks"), &forged).send().await.unwrap();
            assert_error(response, 401, "UNAUTHORIZED", "Unauthorized").await;
            let created = with_jwt(Method::POST, "/api/v1/tasks", &forged).json(&json!({"title": "Forged"})).send().await.unwrap();
            assert_error(created, 401, "UNAUTHORIZED", "Unauthorized").await;
        }
        assert_eq!(ids(&app.list_tasks(&bob, "").await.json().await.unwrap()).len(), 0);

        // Signed out: the cookie is refused at once, the JWT stays good until it expires (DESIGN.md's trade-off).
        app.post("/api/auth/sign-out", json!({}), Some(&alice)).await;
        assert_error(app.list_tasks(&alice, "").await, 401, "UNAUTHORIZED", "Unauthorized").await;
        let still = with_jwt(Method::GET, "/api/v1/tasks", &jwt).send().await.unwrap();
        assert_eq!(still.status(), 200);
    }
}

on_both! {
    async fn the_token_route_issues_a_jwt_that_the_published_keys_verify(app: TestApp) {
        let cookie = app.signed_up_cookie("jwt@example.com").await;
        let user_id = app.user_id(&cookie).await;

        let response = app.get("/api/auth/token", Some(&cookie)).await;

        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let claims = verify_with_jwks(&app, body["token"].as_str().unwrap()).await;
        assert_eq!(claims["sub"], user_id.as_str());
        assert_eq!(claims["id"], user_id.as_str());
        assert_eq!(claims["email"], "jwt@example.com");
        assert_eq!(claims["role"], "user");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
        assert_error(app.get("/api/auth/token", None).await, 401, "UNAUTHORIZED", "Unauthorized").await;
    }

    async fn the_jwks_has_better_auths_shape(app: TestApp) {
        let response = app.get("/api/auth/jwks", None).await;

        assert_eq!(response.status(), 200);
        let jwks: Value = response.json().await.unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert!(!keys.is_empty());
        for key in keys {
            let mut fields: Vec<&str> = key.as_object().unwrap().keys().map(String::as_str).collect();
            fields.sort_unstable();
            assert_eq!(fields, ["alg", "crv", "kid", "kty", "x"]);
            assert_eq!((&key["alg"], &key["crv"], &key["kty"]), (&json!("EdDSA"), &json!("Ed25519"), &json!("OKP")));
        }
        let kids: HashSet<&str> = keys.iter().map(|key| key["kid"].as_str().unwrap()).collect();
        assert_eq!(kids.len(), keys.len());
    }

    async fn get_session_sends_a_jwt_in_set_auth_jwt(app: TestApp) {
        let cookie = app.signed_up_cookie("setjwt@example.com").await;
        let user_id = app.user_id(&cookie).await;

        let response = app.get("/api/auth/get-session", Some(&cookie)).await;

        let jwt = response.headers()["set-auth-jwt"].to_str().unwrap().to_owned();
        let exposed = response.headers()["access-control-expose-headers"].to_str().unwrap().to_owned();
        assert!(exposed.contains("set-auth-jwt"), "{exposed}");
        assert_eq!(verify_with_jwks(&app, &jwt).await["sub"], user_id.as_str());

        let signed_out = app.get("/api/auth/get-session", None).await;
        assert!(signed_out.headers().get("set-auth-jwt").is_none());
    }
}
