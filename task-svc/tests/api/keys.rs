use std::time::Duration;

use auth_svc::store::Store;

use crate::helpers::{TestApp, TestKey, assert_unauthenticated, claims, kid_of, secret};

#[tokio::test]
async fn tokens_signed_by_a_rotated_in_key_verify_on_a_running_task_service() {
    let app = TestApp::spawn_with(|settings| {
        settings.auth.key_refresh = Duration::ZERO;
        settings.task.jwks_refetch_interval = Duration::from_millis(200);
    })
    .await;
    let user = app.sign_up("ada@example.com").await;
    let before = user.jwt.clone();
    app.create(&before, "Before the rotation").await.unwrap();
    let fetches = app.metrics.jwks_fetches();

    let store = Store::connect(&app.database_url, 1).await.unwrap();
    let new_kid = auth_svc::core::jwt::rotate(&store, &secret())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let after = app.jwt(&user.session_token).await;

    assert_eq!(kid_of(&after), new_kid);
    assert_ne!(kid_of(&before), new_kid);
    app.create(&after, "After the rotation")
        .await
        .expect("the new key verifies");
    assert_eq!(app.metrics.jwks_fetches(), fetches + 1);
    // Tokens the old key signed keep working until they expire.
    assert_eq!(app.list_all(&before).await.len(), 2);
}

#[tokio::test]
async fn a_jwt_that_verified_is_not_checked_again_and_a_tampered_copy_still_fails() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;
    app.create(&user.jwt, "First").await.unwrap();
    let checks = app.metrics.signature_checks();
    assert!(checks >= 1);

    for _ in 0..5 {
        assert_eq!(app.list_all(&user.jwt).await.len(), 1);
    }
    assert_eq!(
        app.metrics.signature_checks(),
        checks,
        "the same JWT again costs no signature check"
    );

    // The same header and claims with another signature: a different string, checked, and refused.
    let (signed, signature) = user.jwt.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{flipped}{}", &signature[1..]);
    assert_unauthenticated(app.create(&tampered, "Tampered").await);
    assert_eq!(app.metrics.signature_checks(), checks + 1);
    assert_eq!(app.list_all(&user.jwt).await.len(), 1);
}

#[tokio::test]
async fn unknown_kids_refetch_the_jwks_at_most_once_per_interval() {
    let interval = Duration::from_millis(500);
    let app = TestApp::spawn_with(|settings| settings.task.jwks_refetch_interval = interval).await;
    let user = app.sign_up("ada@example.com").await;
    let forged: Vec<String> = (0..200)
        .map(|i| TestKey::generate(&format!("forged-{i}")).sign(&claims(&user.id)))
        .collect();

    let started = std::time::Instant::now();
    let results =
        futures::future::join_all(forged.iter().map(|token| app.create(token, "Forged"))).await;
    let elapsed = started.elapsed();

    for result in results {
        assert_unauthenticated(result);
    }
    // One fetch when the burst begins, then at most one per interval while it lasts.
    let allowed = 1 + (elapsed.as_millis() / interval.as_millis()) as u64 + 1;
    let fetches = app.metrics.jwks_fetches();
    assert!(fetches <= allowed, "{fetches} fetches in {elapsed:?}");
    assert!(
        elapsed < interval * 4,
        "each request waits at most one interval: {elapsed:?}"
    );
    // The fetches brought the genuine key along: no further fetch is needed for it.
    app.create(&user.jwt, "Genuine").await.unwrap();
    assert_eq!(app.metrics.jwks_fetches(), fetches);
}

#[tokio::test]
async fn a_new_key_is_accepted_even_right_after_a_forged_kid_used_the_fetch_window() {
    let app = TestApp::spawn_with(|settings| {
        settings.auth.key_refresh = Duration::ZERO;
        settings.task.jwks_refetch_interval = Duration::from_secs(1);
    })
    .await;
    let user = app.sign_up("ada@example.com").await;
    app.create(&user.jwt, "Before").await.unwrap();
    // A made-up kid takes the fetch window just before the key is rotated...
    let forged = TestKey::generate("forged").sign(&claims(&user.id));
    assert_unauthenticated(app.create(&forged, "Forged").await);
    let store = Store::connect(&app.database_url, 1).await.unwrap();
    auth_svc::core::jwt::rotate(&store, &secret())
        .await
        .unwrap();
    // ...so the new key is first seen while the window is still closed.
    let after = app.jwt(&user.session_token).await;

    app.create(&after, "After the rotation")
        .await
        .expect("the new key is found once the window reopens");
}

#[tokio::test]
async fn known_kids_are_verified_without_asking_auth_svc_again() {
    let app = TestApp::spawn().await;
    let user = app.sign_up("ada@example.com").await;

    for i in 0..10 {
        app.create(&user.jwt, &format!("Task {i}")).await.unwrap();
    }

    assert_eq!(app.metrics.jwks_fetches(), 1);
    assert_eq!(app.metrics.session_lookups(), 0);
}
