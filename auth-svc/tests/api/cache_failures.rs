use std::time::Duration;

use tokio::{io::AsyncReadExt, net::TcpListener};

use crate::helpers::{PASSWORD, TestApp, timed};

/// A port with nothing listening on it.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A server that accepts connections and never answers: every Redis call would wait for its timeout.
async fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    port
}

#[tokio::test]
async fn with_redis_unreachable_sign_in_and_get_session_still_work() {
    let port = closed_port().await;
    let app = TestApp::spawn_with(|config| {
        config.redis_url = Some(format!("redis://127.0.0.1:{port}").parse().unwrap())
    })
    .await;

    let token = app.user_token("vic@example.com").await;
    let signed_in = app.sign_in("vic@example.com", PASSWORD).await.unwrap();

    for t in [&token, &signed_in.token] {
        assert_eq!(
            app.get_session(t).await.unwrap().user.unwrap().email,
            "vic@example.com"
        );
    }
    app.client
        .clone()
        .sign_out(crate::helpers::bearer(
            warden_proto::auth::v1::SignOutRequest {},
            &token,
        ))
        .await
        .unwrap();
    assert!(
        app.get_session(&token).await.is_err(),
        "revocation still holds without the cache"
    );
}

#[tokio::test]
async fn once_the_breaker_opens_requests_stop_paying_the_redis_timeout() {
    let port = silent_server().await;
    let app = TestApp::spawn_with(|config| {
        config.redis_url = Some(format!("redis://127.0.0.1:{port}").parse().unwrap())
    })
    .await;
    let token = app.user_token("wes@example.com").await;
    // The first few reads each wait for Redis's bounded timeout, until the breaker opens.
    for _ in 0..4 {
        let (result, took) = timed(app.get_session(&token)).await;
        assert!(result.is_ok());
        assert!(
            took < Duration::from_secs(3),
            "a bounded timeout, not the client's ~9 s: {took:?}"
        );
    }

    let (results, took) = timed(async {
        let mut results = Vec::new();
        for _ in 0..10 {
            results.push(app.get_session(&token).await);
        }
        results
    })
    .await;

    assert!(results.iter().all(Result::is_ok));
    // Ten reads that each paid even one 300 ms timeout would take 3 s.
    assert!(
        took < Duration::from_millis(1500),
        "ten reads took {took:?}"
    );
}
