use warden_proto::task::v1 as pb;

use crate::helpers::TestApp;

#[tokio::test]
async fn tasks_are_kept_paged_and_guarded_on_sqlite_too() {
    let app = TestApp::spawn_on_sqlite().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let mut created = Vec::new();
    for i in 0..7 {
        let task = pb::Task {
            title: format!("Task {i}"),
            completed: i % 2 == 0,
            ..Default::default()
        };
        created.push(app.create_task(&ada.jwt, task).await.unwrap());
    }

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let request = pb::ListTasksRequest {
            page_size: 2,
            page_token: token,
            completed: None,
        };
        let page = app.list(&ada.session_token, request).await.unwrap();
        seen.extend(page.tasks.into_iter().map(|t| t.id));
        app.create(&ada.jwt, "Added meanwhile").await.unwrap();
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let newest_first: Vec<_> = created.iter().rev().map(|t| t.id.clone()).collect();
    assert_eq!(seen, newest_first);

    let first = &created[0];
    assert_eq!(&app.get(&ada.jwt, &first.id).await.unwrap(), first);
    assert!(app.get(&bob.jwt, &first.id).await.is_err());
    let updated = app
        .update(
            &ada.jwt,
            pb::Task {
                id: first.id.clone(),
                etag: first.etag.clone(),
                completed: false,
                ..Default::default()
            },
            &["completed"],
        )
        .await
        .unwrap();
    assert!(!updated.completed);
    assert!(
        app.update(&ada.jwt, first.clone(), &["title"])
            .await
            .is_err()
    );
    app.delete(&ada.jwt, &first.id, &updated.etag)
        .await
        .unwrap();

    app.execute(&format!(r#"DELETE FROM "user" WHERE id = '{}'"#, ada.id))
        .await;
    assert!(app.strings("SELECT id AS v FROM task").await.is_empty());
}
