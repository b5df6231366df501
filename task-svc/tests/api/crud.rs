use tonic::Code;
use warden_proto::task::v1 as pb;

use crate::helpers::{TestApp, assert_error};

/// Create, read, list, update and delete one task with `token` as the bearer.
async fn full_lifecycle(app: &TestApp, token: &str, owner_id: &str) {
    let created = app
        .create_task(
            token,
            pb::Task {
                title: "  Buy milk  ".into(),
                description: "Two litres".into(),
                ..Default::default()
            },
        )
        .await
        .expect("created");
    assert_eq!(created.title, "Buy milk", "title is trimmed");
    assert_eq!(created.description, "Two litres");
    assert!(!created.completed);
    assert_eq!(created.owner_id, owner_id);
    assert_eq!(
        uuid::Uuid::parse_str(&created.id)
            .unwrap()
            .get_version_num(),
        7
    );
    assert!(!created.etag.is_empty());
    assert_eq!(created.created_at, created.updated_at);

    let read = app.get(token, &created.id).await.expect("read back");
    assert_eq!(read, created);

    let listed = app.list_all(token).await;
    assert_eq!(listed, std::slice::from_ref(&created));

    let updated = app
        .update(
            token,
            pb::Task {
                id: created.id.clone(),
                etag: created.etag.clone(),
                completed: true,
                title: "ignored: not in the mask".into(),
                ..Default::default()
            },
            &["completed"],
        )
        .await
        .expect("updated");
    assert!(updated.completed);
    assert_eq!(updated.title, "Buy milk");
    assert_eq!(updated.description, "Two litres");
    assert_ne!(updated.etag, created.etag, "a write changes the etag");
    assert_eq!(updated.created_at, created.created_at);
    let instant = |t: &Option<prost_types::Timestamp>| t.map(|t| (t.seconds, t.nanos));
    assert!(instant(&updated.updated_at) >= instant(&created.updated_at));
    assert_eq!(app.get(token, &created.id).await.unwrap(), updated);

    app.delete(token, &created.id, &updated.etag)
        .await
        .expect("deleted");
    let status = app.get(token, &created.id).await.unwrap_err();
    assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");
    assert_eq!(status.message(), "Task not found");
    assert!(app.list_all(token).await.is_empty());
}

#[tokio::test]
async fn a_user_creates_reads_lists_updates_and_deletes_a_task_with_a_jwt() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;

    full_lifecycle(&app, &user.jwt, &user.id).await;
}

#[tokio::test]
async fn a_session_token_works_as_the_bearer_too() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;

    full_lifecycle(&app, &user.session_token, &user.id).await;
    assert!(app.metrics.session_lookups() > 0);
}

#[tokio::test]
async fn a_signed_session_token_works_as_the_bearer() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let signed = crate::helpers::secret().sign_cookie(&user.session_token);

    let created = app.create(&signed, "Signed").await.expect("created");

    assert_eq!(created.owner_id, user.id);
}

#[tokio::test]
async fn the_owner_is_the_caller_whatever_the_request_says() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;

    let created = app
        .create_task(
            &bob.jwt,
            pb::Task {
                title: "Mine".into(),
                owner_id: ada.id.clone(),
                id: "chosen-id".into(),
                etag: "chosen-etag".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(created.owner_id, bob.id);
    assert_ne!(created.id, "chosen-id");
    assert_ne!(created.etag, "chosen-etag");
    assert!(app.list_all(&ada.jwt).await.is_empty());
}

#[tokio::test]
async fn titles_and_descriptions_are_checked() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;

    for title in ["", "   ", &"t".repeat(201)] {
        let status = app.create(&user.jwt, title).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
        assert_eq!(status.message(), "title must be 1 to 200 characters");
    }
    assert!(app.create(&user.jwt, &"ü".repeat(200)).await.is_ok());
    let long = pb::Task {
        title: "Long".into(),
        description: "d".repeat(10_001),
        ..Default::default()
    };
    let status = app.create_task(&user.jwt, long).await.unwrap_err();
    assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
    let just_fits = pb::Task {
        title: "Long".into(),
        description: "d".repeat(10_000),
        ..Default::default()
    };
    assert!(app.create_task(&user.jwt, just_fits).await.is_ok());
}

#[tokio::test]
async fn an_update_writes_only_the_fields_its_mask_names() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let task = app
        .create_task(
            &user.jwt,
            pb::Task {
                title: "Old".into(),
                description: "Old text".into(),
                completed: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // `completed: false` is a value like any other when the mask names it.
    let updated = app
        .update(
            &user.jwt,
            pb::Task {
                id: task.id.clone(),
                title: " New ".into(),
                ..Default::default()
            },
            &["title", "completed"],
        )
        .await
        .unwrap();

    assert_eq!(updated.title, "New");
    assert!(!updated.completed);
    assert_eq!(updated.description, "Old text");
}

#[tokio::test]
async fn an_empty_mask_changes_nothing_and_returns_the_task() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let task = app.create(&user.jwt, "Keep me").await.unwrap();

    let returned = app
        .update(
            &user.jwt,
            pb::Task {
                id: task.id.clone(),
                title: "Changed?".into(),
                completed: true,
                ..Default::default()
            },
            &[],
        )
        .await
        .unwrap();

    assert_eq!(returned, task);
    assert_eq!(app.get(&user.jwt, &task.id).await.unwrap(), task);
}

#[tokio::test]
async fn unknown_mask_paths_and_bad_values_are_invalid_arguments() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let task = app.create(&user.jwt, "Task").await.unwrap();

    for (paths, title) in [
        (&["owner_id"][..], "Task"),
        (&["etag"][..], "Task"),
        (&["title", "nope"][..], "Task"),
        (&["title"][..], "  "),
    ] {
        let request = pb::Task {
            id: task.id.clone(),
            title: title.into(),
            ..Default::default()
        };
        let status = app.update(&user.jwt, request, paths).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
    }
    assert_eq!(app.get(&user.jwt, &task.id).await.unwrap(), task);
}

#[tokio::test]
async fn a_stale_etag_fails_the_update_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let original = app.create(&user.jwt, "Original").await.unwrap();
    let current = app
        .update(
            &user.jwt,
            pb::Task {
                id: original.id.clone(),
                etag: original.etag.clone(),
                title: "Second".into(),
                ..Default::default()
            },
            &["title"],
        )
        .await
        .unwrap();

    let status = app
        .update(
            &user.jwt,
            pb::Task {
                id: original.id.clone(),
                etag: original.etag.clone(),
                title: "Lost update".into(),
                completed: true,
                ..Default::default()
            },
            &["title", "completed"],
        )
        .await
        .unwrap_err();

    assert_error(&status, Code::FailedPrecondition, "ETAG_MISMATCH");
    assert_eq!(status.message(), "The task has changed since it was read");
    assert_eq!(app.get(&user.jwt, &original.id).await.unwrap(), current);
    // Without an etag the write goes through.
    let forced = app
        .update(
            &user.jwt,
            pb::Task {
                id: original.id.clone(),
                title: "Forced".into(),
                ..Default::default()
            },
            &["title"],
        )
        .await
        .unwrap();
    assert_eq!(forced.title, "Forced");
}

#[tokio::test]
async fn a_stale_etag_fails_the_delete_and_the_task_stays() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let original = app.create(&user.jwt, "Original").await.unwrap();
    let current = app
        .update(
            &user.jwt,
            pb::Task {
                id: original.id.clone(),
                completed: true,
                ..Default::default()
            },
            &["completed"],
        )
        .await
        .unwrap();

    let status = app
        .delete(&user.jwt, &original.id, &original.etag)
        .await
        .unwrap_err();

    assert_error(&status, Code::FailedPrecondition, "ETAG_MISMATCH");
    assert_eq!(app.get(&user.jwt, &original.id).await.unwrap(), current);
    app.delete(&user.jwt, &original.id, "").await.unwrap();
}

#[tokio::test]
async fn concurrent_updates_with_the_same_etag_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let task = app.create(&user.jwt, "Contended").await.unwrap();

    let attempts = (0..8).map(|i| {
        app.update(
            &user.jwt,
            pb::Task {
                id: task.id.clone(),
                etag: task.etag.clone(),
                title: format!("Writer {i}"),
                ..Default::default()
            },
            &["title"],
        )
    });
    let results = futures::future::join_all(attempts).await;

    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for loser in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_error(loser, Code::FailedPrecondition, "ETAG_MISMATCH");
    }
    assert_eq!(&app.get(&user.jwt, &task.id).await.unwrap(), winners[0]);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found_and_an_empty_id_is_invalid() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;

    for id in [
        &uuid::Uuid::now_v7().to_string(),
        "42",
        "no such/id",
        "x'--",
    ] {
        let status = app.get(&user.jwt, id).await.unwrap_err();
        assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");
        let status = app.delete(&user.jwt, id, "").await.unwrap_err();
        assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");
    }
    let status = app.get(&user.jwt, "").await.unwrap_err();
    assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
}

#[tokio::test]
async fn deleting_a_user_deletes_their_tasks() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    for title in ["One", "Two"] {
        app.create(&ada.jwt, title).await.unwrap();
    }
    app.create(&bob.jwt, "Bob's").await.unwrap();

    app.execute(&format!(r#"DELETE FROM "user" WHERE id = '{}'"#, ada.id))
        .await;

    let left = app
        .strings(r#"SELECT owner_id AS v FROM task ORDER BY owner_id"#)
        .await;
    assert_eq!(left, std::slice::from_ref(&bob.id));
    // Ada's JWT lives until it expires, but there is nothing left to see.
    assert!(app.list_all(&ada.jwt).await.is_empty());
}

#[tokio::test]
async fn a_nul_in_a_title_description_or_etag_is_a_validation_error_not_a_database_failure() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let task = |title: &str, description: &str| pb::Task {
        title: title.into(),
        description: description.into(),
        ..Default::default()
    };

    let title = app.create_task(&user.jwt, task("Buy\0milk", "")).await;
    let description = app
        .create_task(&user.jwt, task("Buy milk", "two\0litres"))
        .await;
    let created = app.create(&user.jwt, "Buy milk").await.unwrap();
    let update = app
        .update(
            &user.jwt,
            pb::Task {
                id: created.id.clone(),
                title: "Buy\0bread".into(),
                ..Default::default()
            },
            &["title"],
        )
        .await;
    let delete = app.delete(&user.jwt, &created.id, "v\0").await;

    for (result, message) in [
        (title.map(drop), "title cannot contain a NUL character"),
        (
            description.map(drop),
            "description cannot contain a NUL character",
        ),
        (update.map(drop), "title cannot contain a NUL character"),
        (delete, "etag cannot contain a NUL character"),
    ] {
        let status = result.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
        assert_eq!(status.message(), message);
    }
    assert_eq!(app.list_all(&user.jwt).await, [created]);
}
