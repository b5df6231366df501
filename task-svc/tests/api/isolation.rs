use tonic::{Code, Request};
use warden_proto::task::v1 as pb;

use crate::helpers::{TestApp, assert_error, assert_unauthenticated, bearer};

#[tokio::test]
async fn another_users_task_is_not_found_for_every_method_and_never_listed() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let task = app.create(&ada.jwt, "Ada's secret").await.unwrap();
    app.create(&bob.jwt, "Bob's own").await.unwrap();

    for token in [&bob.jwt, &bob.session_token] {
        let status = app.get(token, &task.id).await.unwrap_err();
        assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");

        let status = app
            .update(
                token,
                pb::Task {
                    id: task.id.clone(),
                    etag: task.etag.clone(),
                    title: "Taken over".into(),
                    ..Default::default()
                },
                &["title"],
            )
            .await
            .unwrap_err();
        assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");
        // Without an etag, and with an empty mask, just the same.
        for paths in [&["completed"][..], &[]] {
            let request = pb::Task {
                id: task.id.clone(),
                completed: true,
                ..Default::default()
            };
            let status = app.update(token, request, paths).await.unwrap_err();
            assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");
        }

        for etag in ["", task.etag.as_str(), "stale"] {
            let status = app.delete(token, &task.id, etag).await.unwrap_err();
            assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");
        }

        let listed = app.list_all(token).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].title, "Bob's own");
        let completed = app
            .list(
                token,
                pb::ListTasksRequest {
                    completed: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(completed.tasks.iter().all(|t| t.id != task.id));
    }

    assert_eq!(app.get(&ada.jwt, &task.id).await.unwrap(), task);
}

/// A request that claims to come from `user_id` through a header, with no credential.
fn claiming<T>(user_id: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("x-user-id", user_id.parse().unwrap());
    request
}

#[tokio::test]
async fn an_x_user_id_header_without_credentials_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create(&ada.jwt, "Ada's").await.unwrap();

    let mut client = app.tasks.clone();
    assert_unauthenticated(
        client
            .list_tasks(claiming(&ada.id, pb::ListTasksRequest::default()))
            .await,
    );
    assert_unauthenticated(
        client
            .get_task(claiming(
                &ada.id,
                pb::GetTaskRequest {
                    id: task.id.clone(),
                },
            ))
            .await,
    );
    assert_unauthenticated(
        client
            .create_task(claiming(
                &ada.id,
                pb::CreateTaskRequest {
                    task: Some(pb::Task {
                        title: "Forged".into(),
                        ..Default::default()
                    }),
                },
            ))
            .await,
    );
    assert_unauthenticated(
        client
            .delete_task(claiming(
                &ada.id,
                pb::DeleteTaskRequest {
                    id: task.id.clone(),
                    etag: String::new(),
                },
            ))
            .await,
    );
    assert_eq!(app.list_all(&ada.jwt).await, [task]);
}

#[tokio::test]
async fn an_x_user_id_header_beside_real_credentials_is_ignored() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let task = app.create(&ada.jwt, "Ada's").await.unwrap();

    let mut request = bearer(pb::GetTaskRequest { id: task.id }, &bob.jwt);
    request
        .metadata_mut()
        .insert("x-user-id", ada.id.parse().unwrap());
    let status = app.tasks.clone().get_task(request).await.unwrap_err();

    assert_error(&status, Code::NotFound, "TASK_NOT_FOUND");
}
