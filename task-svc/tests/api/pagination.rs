use std::collections::HashSet;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use tonic::Code;
use warden_proto::task::v1 as pb;

use crate::helpers::{TestApp, assert_error};

fn page(page_size: i32, page_token: &str, completed: Option<bool>) -> pb::ListTasksRequest {
    pb::ListTasksRequest {
        page_size,
        page_token: page_token.into(),
        completed,
    }
}

#[tokio::test]
async fn pages_walk_every_task_exactly_once_newest_first_while_tasks_are_added() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    let mut created = Vec::new();
    for i in 0..23 {
        created.push(
            app.create(&user.jwt, &format!("Task {i}"))
                .await
                .unwrap()
                .id,
        );
    }

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let response = app.list(&user.jwt, page(5, &token, None)).await.unwrap();
        assert!(response.tasks.len() <= 5);
        seen.extend(response.tasks.into_iter().map(|t| t.id));
        pages += 1;
        // Someone adds a task between every two pages.
        app.create(&user.jwt, &format!("Added after page {pages}"))
            .await
            .unwrap();
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
    }

    let newest_first: Vec<_> = created.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    assert_eq!(pages, 5);
}

#[tokio::test]
async fn tasks_created_in_the_same_instant_are_still_each_listed_once() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    app.execute(&format!(
        "INSERT INTO task (id, owner_id, title, created_at, updated_at, etag)
         SELECT 'same-' || lpad(i::text, 2, '0'), '{}', 'Same instant', '2026-01-01T00:00:00Z',
                '2026-01-01T00:00:00Z', md5(i::text)
         FROM generate_series(1, 12) AS i",
        user.id
    ))
    .await;

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let response = app.list(&user.jwt, page(5, &token, None)).await.unwrap();
        seen.extend(response.tasks.into_iter().map(|t| t.id));
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
    }

    let expected: Vec<_> = (1..=12).rev().map(|i| format!("same-{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn page_size_defaults_to_50_is_capped_at_100_and_must_not_be_negative() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    app.execute(&format!(
        "INSERT INTO task (id, owner_id, title, created_at, updated_at, etag)
         SELECT 'bulk-' || lpad(i::text, 3, '0'), '{}', 'Bulk', now() - i * interval '1 second', now(), md5(i::text)
         FROM generate_series(1, 120) AS i",
        user.id
    ))
    .await;

    let default = app.list(&user.jwt, page(0, "", None)).await.unwrap();
    assert_eq!(default.tasks.len(), 50);
    assert!(!default.next_page_token.is_empty());
    let capped = app.list(&user.jwt, page(1000, "", None)).await.unwrap();
    assert_eq!(capped.tasks.len(), 100);
    let rest = app
        .list(&user.jwt, page(1000, &capped.next_page_token, None))
        .await
        .unwrap();
    assert_eq!(rest.tasks.len(), 20);
    assert_eq!(rest.next_page_token, "", "the last page has no token");

    let status = app.list(&user.jwt, page(-1, "", None)).await.unwrap_err();
    assert_error(&status, Code::InvalidArgument, "VALIDATION_ERROR");
}

#[tokio::test]
async fn the_completed_filter_lists_only_matching_tasks_on_every_page() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    for i in 0..9 {
        let task = pb::Task {
            title: format!("Task {i}"),
            completed: i % 3 == 0,
            ..Default::default()
        };
        app.create_task(&user.jwt, task).await.unwrap();
    }

    for (completed, expected) in [(true, 3), (false, 6)] {
        let mut titles = HashSet::new();
        let mut token = String::new();
        loop {
            let response = app
                .list(&user.jwt, page(2, &token, Some(completed)))
                .await
                .unwrap();
            for task in response.tasks {
                assert_eq!(task.completed, completed);
                assert!(titles.insert(task.title));
            }
            if response.next_page_token.is_empty() {
                break;
            }
            token = response.next_page_token;
        }
        assert_eq!(titles.len(), expected);
    }
    assert_eq!(app.list_all(&user.jwt).await.len(), 9);
}

#[tokio::test]
async fn a_token_made_for_another_filter_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    for i in 0..3 {
        app.create(&user.jwt, &format!("Task {i}")).await.unwrap();
    }
    let first = app.list(&user.jwt, page(1, "", Some(false))).await.unwrap();

    for other in [None, Some(true)] {
        let status = app
            .list(&user.jwt, page(1, &first.next_page_token, other))
            .await
            .unwrap_err();
        assert_error(&status, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
        assert_eq!(status.message(), "Invalid page token");
    }
}

#[tokio::test]
async fn a_tampered_or_foreign_page_token_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    for i in 0..3 {
        app.create(&ada.jwt, &format!("Task {i}")).await.unwrap();
    }
    let first = app.list(&ada.jwt, page(1, "", None)).await.unwrap();
    let token = first.next_page_token;
    let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    let tampered = URL_SAFE_NO_PAD.encode(&bytes);

    for bad in [
        tampered.as_str(),
        "garbage",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &token[1..],
    ] {
        let status = app.list(&ada.jwt, page(1, bad, None)).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
    }
    // Bob cannot use Ada's token either.
    let status = app.list(&bob.jwt, page(1, &token, None)).await.unwrap_err();
    assert_error(&status, Code::InvalidArgument, "INVALID_PAGE_TOKEN");
    // The genuine token still works.
    assert_eq!(
        app.list(&ada.jwt, page(1, &token, None))
            .await
            .unwrap()
            .tasks
            .len(),
        1
    );
}
