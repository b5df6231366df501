//! The AdminService over real gRPC: who may call it, each RPC's answer, and the ban rules at sign-in and on reads.

use tonic::{Code, Request, Status, transport::Channel};
use warden_common::token::hash_token;
use warden_proto::auth::v1::{self as pb, admin_service_client::AdminServiceClient};

use crate::helpers::{PASSWORD, TestApp, assert_error, bearer};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn admin_client(app: &TestApp) -> AdminServiceClient<Channel> {
    AdminServiceClient::connect(format!("http://{}", app.addr))
        .await
        .expect("connects to the AdminService")
}

/// Signs up `email` and returns its token and user id.
async fn user(app: &TestApp, email: &str) -> (String, String) {
    let response = app.sign_up(email).await;
    (response.token.unwrap(), response.user.unwrap().id)
}

/// Signs up `email`, gives them the `admin` role in the database and returns their token and id.
async fn admin(app: &TestApp, email: &str) -> (String, String) {
    let (token, id) = user(app, email).await;
    app.execute(&format!(
        r#"UPDATE "user" SET "role" = 'admin' WHERE "id" = '{id}'"#
    ))
    .await;
    (token, id)
}

fn assert_user_not_found(status: &Status) {
    assert_error(status, Code::NotFound, "USER_NOT_FOUND");
    assert_eq!(status.message(), "User not found");
}

async fn redis_value(app: &TestApp, token: &str) -> Option<String> {
    let client = app.redis.as_ref().expect("tests run with Redis");
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{}session:{}", app.redis_prefix, hash_token(token));
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Every AdminService RPC, called with `token` (or none), each with the refusal code a non-admin gets.
async fn call_every_rpc(
    admin: &mut AdminServiceClient<Channel>,
    token: Option<&str>,
    target: &str,
) -> Vec<(&'static str, Status)> {
    fn req<T>(message: T, token: Option<&str>) -> Request<T> {
        match token {
            Some(token) => bearer(message, token),
            None => Request::new(message),
        }
    }
    let user_id = target.to_owned();
    vec![
        (
            "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
            admin
                .set_role(req(
                    pb::SetRoleRequest {
                        user_id: user_id.clone(),
                        role: vec!["admin".into()],
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
            admin
                .ban_user(req(
                    pb::BanUserRequest {
                        user_id: user_id.clone(),
                        ..Default::default()
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
            admin
                .unban_user(req(
                    pb::UnbanUserRequest {
                        user_id: user_id.clone(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
            admin
                .list_users(req(pb::ListUsersRequest::default(), token))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS",
            admin
                .list_user_sessions(req(
                    pb::ListUserSessionsRequest {
                        user_id: user_id.clone(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
            admin
                .revoke_user_session(req(
                    pb::RevokeUserSessionRequest {
                        session_token: "some-token".into(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
            admin
                .revoke_user_sessions(req(
                    pb::RevokeUserSessionsRequest {
                        user_id: user_id.clone(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS",
            admin
                .remove_user(req(
                    pb::RemoveUserRequest {
                        user_id: user_id.clone(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_GET_USER",
            admin
                .get_user(req(
                    pb::GetUserRequest {
                        id: user_id.clone(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
            admin
                .create_user(req(
                    pb::CreateUserRequest {
                        email: "made@example.com".into(),
                        password: PASSWORD.into(),
                        name: "Made".into(),
                        role: Vec::new(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
        (
            "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD",
            admin
                .set_user_password(req(
                    pb::SetUserPasswordRequest {
                        user_id,
                        new_password: NEW_PASSWORD.into(),
                    },
                    token,
                ))
                .await
                .unwrap_err(),
        ),
    ]
}

#[tokio::test]
async fn a_non_admin_is_refused_every_admin_rpc_with_its_own_code() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (token, _) = user(&app, "plain@example.com").await;
    let (_, target) = user(&app, "target@example.com").await;

    let refusals = call_every_rpc(&mut client, Some(&token), &target).await;

    assert_eq!(refusals.len(), 11);
    for (code, status) in &refusals {
        assert_error(status, Code::PermissionDenied, code);
        assert!(status.message().starts_with("You are not allowed to"));
    }
    assert_eq!(
        refusals[0].1.message(),
        "You are not allowed to change users role"
    );
    // Nothing happened to the target.
    let session = app.sign_in("target@example.com", PASSWORD).await.unwrap();
    assert_eq!(session.user.unwrap().role.as_deref(), Some("user"));
}

#[tokio::test]
async fn without_a_session_every_admin_rpc_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (_, target) = user(&app, "target@example.com").await;

    for token in [None, Some("not-a-session")] {
        for (_, status) in call_every_rpc(&mut client, token, &target).await {
            assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
        }
    }
}

#[tokio::test]
async fn an_admin_user_ids_user_and_a_role_admin_user_are_both_administrators() {
    let app = TestApp::spawn_with(|config| {
        config.admin_user_ids = vec!["listed-admin-id".into()];
    })
    .await;
    let mut client = admin_client(&app).await;
    let (role_admin, _) = admin(&app, "role-admin@example.com").await;
    // A user whose role is plain `user` but whose id is listed.
    app.execute(
        r#"INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt", "role", "banned")
           VALUES ('listed-admin-id', 'Listed', 'listed@example.com', false, now(), now(), 'user', false)"#,
    )
    .await;
    let listed_token = "listedadmintokenlistedadmintoken";
    app.execute(&format!(
        r#"INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "userId")
           VALUES ('listed-session', now() + interval '1 day', '{}', now(), now(), 'listed-admin-id')"#,
        hash_token(listed_token)
    ))
    .await;

    for token in [role_admin.as_str(), listed_token] {
        let page = client
            .list_users(bearer(pb::ListUsersRequest::default(), token))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.total, 2);
    }
}

#[tokio::test]
async fn any_admin_among_several_roles_makes_an_administrator() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (token, id) = user(&app, "multi@example.com").await;
    app.execute(&format!(
        r#"UPDATE "user" SET "role" = 'editor,admin' WHERE "id" = '{id}'"#
    ))
    .await;

    let user = client
        .get_user(bearer(pb::GetUserRequest { id: id.clone() }, &token))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(user.role.as_deref(), Some("editor,admin"));
}

#[tokio::test]
async fn set_role_joins_the_roles_and_an_admin_is_judged_by_their_current_role() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (other_token, other) = user(&app, "deputy@example.com").await;
    // Read twice, so the deputy's session (with role `user`) is served from the cache.
    app.get_session(&other_token).await.unwrap();
    app.get_session(&other_token).await.unwrap();

    let promoted = client
        .set_role(bearer(
            pb::SetRoleRequest {
                user_id: other.clone(),
                role: vec!["admin".into(), "editor".into()],
            },
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(promoted.role.as_deref(), Some("admin,editor"));
    // The deputy's cached session shows the new role straight away.
    let session = app.get_session(&other_token).await.unwrap();
    assert_eq!(session.user.unwrap().role.as_deref(), Some("admin,editor"));
    client
        .get_user(bearer(
            pb::GetUserRequest { id: other.clone() },
            &other_token,
        ))
        .await
        .unwrap();
    // Demoted behind the service's back: the cached session still says `admin,editor`.
    app.execute(&format!(
        r#"UPDATE "user" SET "role" = 'user' WHERE "id" = '{other}'"#
    ))
    .await;
    let cached = app.get_session(&other_token).await.unwrap();
    assert_eq!(cached.user.unwrap().role.as_deref(), Some("admin,editor"));

    let status = client
        .get_user(bearer(pb::GetUserRequest { id: other }, &other_token))
        .await
        .unwrap_err();
    assert_error(
        &status,
        Code::PermissionDenied,
        "YOU_ARE_NOT_ALLOWED_TO_GET_USER",
    );
}

#[tokio::test]
async fn set_role_on_an_unknown_user_is_not_found() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;

    let status = client
        .set_role(bearer(
            pb::SetRoleRequest {
                user_id: "nobody".into(),
                role: vec!["user".into()],
            },
            &admin_token,
        ))
        .await
        .unwrap_err();

    assert_user_not_found(&status);
}

#[tokio::test]
async fn a_ban_kills_live_sessions_on_the_next_request_even_cached_ones() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (first, id) = user(&app, "rogue@example.com").await;
    let second = app
        .sign_in("rogue@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    // Twice each, so both sessions are served from the cache.
    for token in [&first, &second, &first, &second] {
        app.get_session(token).await.unwrap();
    }
    assert!(redis_value(&app, &first).await.unwrap().starts_with('{'));

    let banned = client
        .ban_user(bearer(
            pb::BanUserRequest {
                user_id: id.clone(),
                ..Default::default()
            },
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();

    assert_eq!(banned.banned, Some(true));
    assert_eq!(banned.ban_reason.as_deref(), Some("No reason"));
    assert_eq!(banned.ban_expires, None);
    for token in [&first, &second] {
        let status = app.get_session(token).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
        // The cached copy (with its stale `banned: false`) is a tombstone now.
        assert_eq!(redis_value(&app, token).await.as_deref(), Some("!revoked"));
    }
    let left = app
        .query_strings(&format!(
            r#"SELECT "id" FROM "session" WHERE "userId" = '{id}'"#
        ))
        .await;
    assert!(left.is_empty());
    assert!(app.issue_token(&first).await.is_err());
}

#[tokio::test]
async fn a_banned_user_cannot_sign_in_until_unbanned() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (_, id) = user(&app, "rogue@example.com").await;
    let banned = client
        .ban_user(bearer(
            pb::BanUserRequest {
                user_id: id.clone(),
                ban_reason: Some("Spamming".into()),
                ban_expires_in: Some(3600),
            },
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(banned.ban_reason.as_deref(), Some("Spamming"));
    let expires = banned.ban_expires.unwrap().seconds;
    let in_an_hour = chrono::Utc::now().timestamp() + 3600;
    assert!(
        (expires - in_an_hour).abs() <= 5,
        "{expires} vs {in_an_hour}"
    );

    let status = app
        .sign_in("rogue@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "BANNED_USER");
    assert_eq!(
        status.message(),
        "You have been banned from this application. Please contact support if you believe this is an error."
    );
    // A wrong password still says only that.
    let wrong = app
        .sign_in("rogue@example.com", "not the password")
        .await
        .unwrap_err();
    assert_error(&wrong, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");

    let unbanned = client
        .unban_user(bearer(pb::UnbanUserRequest { user_id: id }, &admin_token))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(unbanned.banned, Some(false));
    assert_eq!(unbanned.ban_reason, None);
    assert_eq!(unbanned.ban_expires, None);
    let session = app.sign_in("rogue@example.com", PASSWORD).await.unwrap();
    let read = app.get_session(&session.token).await.unwrap();
    assert_eq!(read.user.unwrap().banned, Some(false));
}

#[tokio::test]
async fn an_expired_ban_lifts_itself_at_sign_in() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (_, id) = user(&app, "rogue@example.com").await;
    client
        .ban_user(bearer(
            pb::BanUserRequest {
                user_id: id.clone(),
                ban_reason: Some("Cooling off".into()),
                ban_expires_in: Some(60),
            },
            &admin_token,
        ))
        .await
        .unwrap();
    app.execute(&format!(
        r#"UPDATE "user" SET "banExpires" = now() - interval '1 second' WHERE "id" = '{id}'"#
    ))
    .await;

    let session = app.sign_in("rogue@example.com", PASSWORD).await.unwrap();

    let user = session.user.unwrap();
    assert_eq!(user.banned, Some(false));
    assert_eq!((user.ban_reason, user.ban_expires), (None, None));
    let stored = client
        .get_user(bearer(pb::GetUserRequest { id }, &admin_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.banned, Some(false));
    assert_eq!((stored.ban_reason, stored.ban_expires), (None, None));
    assert!(app.get_session(&session.token).await.is_ok());
}

#[tokio::test]
async fn a_session_that_escaped_a_ban_is_no_session() {
    let app = TestApp::spawn().await;
    let (token, id) = user(&app, "rogue@example.com").await;
    // A ban written straight to the database, as another process sharing it would: the session row stays.
    app.execute(&format!(
        r#"UPDATE "user" SET "banned" = true, "banReason" = 'x' WHERE "id" = '{id}'"#
    ))
    .await;
    app.evict(&token).await;

    let status = app.get_session(&token).await.unwrap_err();

    assert_error(&status, Code::Unauthenticated, "UNAUTHORIZED");
    let left = app
        .query_strings(&format!(
            r#"SELECT "id" FROM "session" WHERE "userId" = '{id}'"#
        ))
        .await;
    assert!(left.is_empty(), "the escaped session is deleted");
}

#[tokio::test]
async fn an_admin_cannot_ban_themself_nor_an_unknown_user() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, admin_id) = admin(&app, "boss@example.com").await;

    let own = client
        .ban_user(bearer(
            pb::BanUserRequest {
                user_id: admin_id,
                ..Default::default()
            },
            &admin_token,
        ))
        .await
        .unwrap_err();
    assert_error(&own, Code::InvalidArgument, "YOU_CANNOT_BAN_YOURSELF");
    assert_eq!(own.message(), "You cannot ban yourself");
    assert!(app.get_session(&admin_token).await.is_ok());

    let unknown = client
        .ban_user(bearer(
            pb::BanUserRequest {
                user_id: "nobody".into(),
                ..Default::default()
            },
            &admin_token,
        ))
        .await
        .unwrap_err();
    assert_user_not_found(&unknown);
    let unban_unknown = client
        .unban_user(bearer(
            pb::UnbanUserRequest {
                user_id: "nobody".into(),
            },
            &admin_token,
        ))
        .await
        .unwrap_err();
    assert_user_not_found(&unban_unknown);
}

async fn list(
    client: &mut AdminServiceClient<Channel>,
    token: &str,
    request: pb::ListUsersRequest,
) -> pb::ListUsersResponse {
    client
        .list_users(bearer(request, token))
        .await
        .unwrap()
        .into_inner()
}

fn emails(page: &pb::ListUsersResponse) -> Vec<&str> {
    page.users.iter().map(|u| u.email.as_str()).collect()
}

#[tokio::test]
async fn list_users_searches_sorts_pages_and_counts() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (token, _) = admin(&app, "zed-admin@example.com").await;
    for email in ["amy@example.com", "bob@example.org", "cat@example.com"] {
        user(&app, email).await;
    }
    app.execute(r#"UPDATE "user" SET "name" = 'Bobby Tables' WHERE "email" = 'bob@example.org'"#)
        .await;

    let all = list(&mut client, &token, pb::ListUsersRequest::default()).await;
    assert_eq!(all.total, 4);
    assert_eq!((all.limit, all.offset), (None, None));

    let sorted = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            sort_by: Some("email".into()),
            sort_direction: Some("desc".into()),
            limit: Some(2),
            offset: Some(1),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(emails(&sorted), ["cat@example.com", "bob@example.org"]);
    assert_eq!(sorted.total, 4);
    assert_eq!((sorted.limit, sorted.offset), (Some(2), Some(1)));

    let searched = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            search_value: Some("EXAMPLE.COM".into()),
            search_operator: Some("ends_with".into()),
            sort_by: Some("email".into()),
            limit: Some(1),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(emails(&searched), ["amy@example.com"]);
    assert_eq!(searched.total, 3, "total ignores the limit");

    let by_name = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            search_value: Some("bob".into()),
            search_field: Some("name".into()),
            search_operator: Some("starts_with".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(emails(&by_name), ["bob@example.org"]);

    let literal = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            search_value: Some("%".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(literal.total, 0, "wildcards in the value are literal");
}

#[tokio::test]
async fn list_users_filters_on_a_column() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (token, _) = admin(&app, "boss@example.com").await;
    let (_, rogue) = user(&app, "rogue@example.com").await;
    user(&app, "good@example.com").await;
    client
        .ban_user(bearer(
            pb::BanUserRequest {
                user_id: rogue,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap();

    let banned = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            filter_field: Some("banned".into()),
            filter_value: Some("true".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(emails(&banned), ["rogue@example.com"]);

    let not_admins = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            filter_field: Some("role".into()),
            filter_value: Some("admin".into()),
            filter_operator: Some("ne".into()),
            sort_by: Some("email".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        emails(&not_admins),
        ["good@example.com", "rogue@example.com"]
    );
    assert_eq!(not_admins.total, 2);

    let by_email = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            filter_value: Some("good@example.com".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(emails(&by_email), ["good@example.com"]);
}

#[tokio::test]
async fn list_users_refuses_unknown_options_and_matches_nothing_on_unknown_columns() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (token, _) = admin(&app, "boss@example.com").await;

    let status = client
        .list_users(bearer(
            pb::ListUsersRequest {
                search_field: Some("phone".into()),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
    assert_eq!(
        status.message(),
        r#"[query.searchField] Invalid option: expected one of "email"|"name""#
    );

    let nothing = list(
        &mut client,
        &token,
        pb::ListUsersRequest {
            sort_by: Some("password".into()),
            limit: Some(5),
            ..Default::default()
        },
    )
    .await;
    assert!(nothing.users.is_empty());
    assert_eq!(
        (nothing.total, nothing.limit, nothing.offset),
        (0, None, None)
    );
}

#[tokio::test]
async fn an_admin_lists_and_revokes_another_users_sessions() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (first, id) = user(&app, "kim@example.com").await;
    let second = app
        .sign_in("kim@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    let third = app
        .sign_in("kim@example.com", PASSWORD)
        .await
        .unwrap()
        .token;
    for token in [&first, &second, &third, &first, &second, &third] {
        app.get_session(token).await.unwrap();
    }

    let sessions = client
        .list_user_sessions(bearer(
            pb::ListUserSessionsRequest {
                user_id: id.clone(),
            },
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 3);
    assert!(sessions.iter().all(|s| s.user_id == id));
    assert!(sessions.iter().any(|s| s.token == hash_token(&second)));

    // By raw token, then by the listed hash.
    for target in [first.clone(), hash_token(&second)] {
        let response = client
            .revoke_user_session(bearer(
                pb::RevokeUserSessionRequest {
                    session_token: target,
                },
                &admin_token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(response.success);
    }
    assert!(app.get_session(&first).await.is_err());
    assert!(app.get_session(&second).await.is_err());
    assert!(app.get_session(&third).await.is_ok());

    let response = client
        .revoke_user_sessions(bearer(
            pb::RevokeUserSessionsRequest {
                user_id: id.clone(),
            },
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(response.success);
    assert!(app.get_session(&third).await.is_err());
    assert!(app.get_session(&admin_token).await.is_ok());
}

#[tokio::test]
async fn remove_user_deletes_the_user_and_ends_their_sessions() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, admin_id) = admin(&app, "boss@example.com").await;
    let (token, id) = user(&app, "gone@example.com").await;
    app.get_session(&token).await.unwrap();
    app.get_session(&token).await.unwrap();

    let response = client
        .remove_user(bearer(
            pb::RemoveUserRequest {
                user_id: id.clone(),
            },
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner();

    assert!(response.success);
    assert!(app.get_session(&token).await.is_err());
    let rows = app
        .query_strings(&format!(
            r#"SELECT "id" FROM "account" WHERE "userId" = '{id}' UNION ALL SELECT "id" FROM "user" WHERE "id" = '{id}'"#
        ))
        .await;
    assert!(rows.is_empty());
    let again = client
        .remove_user(bearer(pb::RemoveUserRequest { user_id: id }, &admin_token))
        .await
        .unwrap_err();
    assert_user_not_found(&again);
    let own = client
        .remove_user(bearer(
            pb::RemoveUserRequest { user_id: admin_id },
            &admin_token,
        ))
        .await
        .unwrap_err();
    assert_error(&own, Code::InvalidArgument, "YOU_CANNOT_REMOVE_YOURSELF");
    assert_eq!(own.message(), "You cannot remove yourself");
}

#[tokio::test]
async fn get_user_returns_the_user_or_not_found() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (_, id) = user(&app, "seen@example.com").await;

    let found = client
        .get_user(bearer(pb::GetUserRequest { id: id.clone() }, &admin_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (found.id.as_str(), found.email.as_str()),
        (id.as_str(), "seen@example.com")
    );
    assert_eq!(found.role.as_deref(), Some("user"));

    let missing = client
        .get_user(bearer(
            pb::GetUserRequest {
                id: "nobody".into(),
            },
            &admin_token,
        ))
        .await
        .unwrap_err();
    assert_user_not_found(&missing);
}

async fn create(
    client: &mut AdminServiceClient<Channel>,
    token: &str,
    email: &str,
    password: &str,
    role: &[&str],
) -> Result<pb::User, Status> {
    client
        .create_user(bearer(
            pb::CreateUserRequest {
                email: email.into(),
                password: password.into(),
                name: "Made".into(),
                role: role.iter().map(|r| (*r).to_owned()).collect(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().user.unwrap())
}

#[tokio::test]
async fn create_user_makes_a_user_who_can_sign_in() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;

    let plain = create(&mut client, &admin_token, "New@Example.com", PASSWORD, &[])
        .await
        .unwrap();
    let staff = create(
        &mut client,
        &admin_token,
        "staff@example.com",
        PASSWORD,
        &["admin", "support"],
    )
    .await
    .unwrap();

    assert_eq!(plain.email, "new@example.com");
    assert_eq!(plain.role.as_deref(), Some("user"));
    assert_eq!((plain.banned, plain.email_verified), (Some(false), false));
    assert_eq!(staff.role.as_deref(), Some("admin,support"));
    let session = app.sign_in("new@example.com", PASSWORD).await.unwrap();
    assert_eq!(session.user.unwrap().id, plain.id);
}

#[tokio::test]
async fn create_user_applies_the_sign_up_rules() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;

    let duplicate = create(&mut client, &admin_token, "BOSS@example.com", PASSWORD, &[])
        .await
        .unwrap_err();
    assert_error(
        &duplicate,
        Code::AlreadyExists,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    );
    let invalid = create(&mut client, &admin_token, "not-an-email", PASSWORD, &[])
        .await
        .unwrap_err();
    assert_error(&invalid, Code::InvalidArgument, "INVALID_EMAIL");
    let short = create(&mut client, &admin_token, "short@example.com", "short", &[])
        .await
        .unwrap_err();
    assert_error(&short, Code::InvalidArgument, "PASSWORD_TOO_SHORT");
    let long = create(
        &mut client,
        &admin_token,
        "long@example.com",
        &"x".repeat(129),
        &[],
    )
    .await
    .unwrap_err();
    assert_error(&long, Code::InvalidArgument, "PASSWORD_TOO_LONG");
}

#[tokio::test]
async fn set_user_password_replaces_the_password_or_creates_the_credential() {
    let app = TestApp::spawn().await;
    let mut client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (_, id) = user(&app, "forgetful@example.com").await;
    // A user created without a password has no credential account.
    let passwordless = create(&mut client, &admin_token, "nopass@example.com", "", &[])
        .await
        .unwrap();
    assert!(app.sign_in("nopass@example.com", PASSWORD).await.is_err());

    for user_id in [id, passwordless.id] {
        let response = client
            .set_user_password(bearer(
                pb::SetUserPasswordRequest {
                    user_id,
                    new_password: NEW_PASSWORD.into(),
                },
                &admin_token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(response.status);
    }

    for email in ["forgetful@example.com", "nopass@example.com"] {
        assert!(app.sign_in(email, NEW_PASSWORD).await.is_ok());
    }
    let old = app
        .sign_in("forgetful@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_error(&old, Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD");
    let hashes = app
        .query_strings(r#"SELECT "password" FROM "account" WHERE "password" IS NOT NULL"#)
        .await;
    assert!(hashes.iter().all(|hash| hash.starts_with("$argon2id$")));
}

async fn set_password(
    client: &AdminServiceClient<Channel>,
    token: &str,
    user_id: &str,
    new_password: &str,
) -> Status {
    let request = pb::SetUserPasswordRequest {
        user_id: user_id.into(),
        new_password: new_password.into(),
    };
    client
        .clone()
        .set_user_password(bearer(request, token))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn set_user_password_checks_the_password_and_the_user() {
    let app = TestApp::spawn().await;
    let client = admin_client(&app).await;
    let (admin_token, _) = admin(&app, "boss@example.com").await;
    let (_, id) = user(&app, "target@example.com").await;

    let short = set_password(&client, &admin_token, &id, "short").await;
    assert_error(&short, Code::InvalidArgument, "PASSWORD_TOO_SHORT");
    let long = set_password(&client, &admin_token, &id, &"x".repeat(129)).await;
    assert_error(&long, Code::InvalidArgument, "PASSWORD_TOO_LONG");
    let empty = set_password(&client, &admin_token, &id, "").await;
    assert_error(&empty, Code::InvalidArgument, "VALIDATION_ERROR");
    assert_eq!(
        empty.message(),
        "[body.newPassword] newPassword cannot be empty"
    );
    let unknown = set_password(&client, &admin_token, "nobody", NEW_PASSWORD).await;
    assert_user_not_found(&unknown);
}
