use warden_testkit::metrics::Scrape;

use crate::helpers::{TestApp, on_both, token_of};

async fn scrape(app: &TestApp) -> Scrape {
    Scrape::get(&app.url("/metrics")).await
}

fn requests(scrape: &Scrape, route: &str, method: &str, status: &str) -> f64 {
    scrape.sum(
        "http_requests_total",
        &[("route", route), ("method", method), ("status", status)],
    )
}

on_both! {
    async fn requests_are_counted_by_route_template_method_and_status(app: TestApp) {
        let before = scrape(&app).await;
        let cookie = app.signed_up_cookie("tia@example.com").await;
        for _ in 0..2 {
            app.session(&cookie).await;
        }
        let task = app.new_task(&cookie, "Water the plants").await;
        let id = task["id"].as_str().unwrap();
        assert_eq!(app.get_task(&cookie, id).await.status(), 200);
        assert_eq!(app.get_task(&cookie, "01937f00-0000-7000-8000-000000000000").await.status(), 404);

        let after = scrape(&app).await;
        let grew = |route: &str, method: &str, status: &str| {
            requests(&after, route, method, status) - requests(&before, route, method, status)
        };
        assert_eq!(grew("/api/auth/sign-up/email", "POST", "200"), 1.0, "{}", after.text());
        assert_eq!(grew("/api/auth/get-session", "GET", "200"), 2.0);
        assert_eq!(grew("/api/v1/tasks", "POST", "201"), 1.0);
        assert_eq!(grew("/api/v1/tasks/{id}", "GET", "200"), 1.0);
        assert_eq!(grew("/api/v1/tasks/{id}", "GET", "404"), 1.0);
        let timed = &[("route", "/api/auth/get-session"), ("method", "GET")];
        assert_eq!(
            after.sum("http_request_duration_seconds_count", timed)
                - before.sum("http_request_duration_seconds_count", timed),
            2.0
        );
        assert!(after.sum("http_request_duration_seconds_sum", timed) > 0.0);
        assert!(!after.text().contains(id), "task ids stay out of the labels");
    }

    async fn unknown_paths_and_methods_count_as_unmatched_never_as_the_path(app: TestApp) {
        let before = scrape(&app).await;
        for path in ["/api/no-such-route/7f3a", "/wp-login.php?user=admin"] {
            assert_eq!(app.get(path, None).await.status(), 404);
        }
        let odd = app
            .request(reqwest::Method::from_bytes(b"BREW").unwrap(), "/coffee", None)
            .send()
            .await
            .unwrap();
        assert_eq!(odd.status(), 404);

        let after = scrape(&app).await;
        let grew = |method: &str| {
            requests(&after, "unmatched", method, "404") - requests(&before, "unmatched", method, "404")
        };
        assert_eq!(grew("GET"), 2.0, "{}", after.text());
        assert_eq!(grew("other"), 1.0);
        for raw in ["no-such-route", "wp-login", "user=", "BREW", "coffee"] {
            assert!(!after.text().contains(raw), "{raw} reached the metrics");
        }
    }

    async fn a_known_path_keeps_its_route_whoever_answers(app: TestApp) {
        let before = scrape(&app).await;
        let wrong_method = app
            .request(reqwest::Method::DELETE, "/api/auth/sign-in/email", None)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_method.status(), 404);
        let preflight = app
            .http
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/get-session"))
            .header("origin", "http://trusted.example")
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success());

        let after = scrape(&app).await;
        let grew = |route: &str, method: &str, status: &str| {
            requests(&after, route, method, status) - requests(&before, route, method, status)
        };
        assert_eq!(grew("/api/auth/sign-in/email", "DELETE", "404"), 1.0, "{}", after.text());
        // CORS answers a preflight before routing.
        let preflight_status = preflight.status().as_u16().to_string();
        assert_eq!(grew("unrouted", "OPTIONS", &preflight_status), 1.0);
    }

    async fn no_token_or_email_ever_appears_in_the_metrics(app: TestApp) {
        let cookie = app.signed_up_cookie("uma@example.com").await;
        app.session(&cookie).await;
        app.sign_in("uma@example.com", "wrong password").await;
        let user_id = app.user_id(&cookie).await;

        let scrape = scrape(&app).await;
        let token = token_of(&cookie);
        let hash = warden_common::token::hash_token(&token);
        for secret in [token.as_str(), hash.as_str(), "uma@example.com", "wrong password", user_id.as_str()] {
            assert!(!scrape.text().contains(secret), "{secret} leaked");
        }
        let allowed = |value: &str| {
            value.chars().all(|c| c.is_ascii_alphanumeric() || "._-+/{}".contains(c))
        };
        assert!(scrape.label_values().all(allowed), "{}", scrape.text());
    }
}

#[tokio::test]
async fn the_all_in_one_shows_every_server_at_the_gateway() {
    let app = TestApp::all_in_one().await;
    let cookie = app.signed_up_cookie("vera@example.com").await;
    app.session(&cookie).await;
    app.new_task(&cookie, "Feed the cat").await;

    let scrape = scrape(&app).await;
    let handled = |service: &str, method: &str| {
        scrape.sum(
            "grpc_server_handled_total",
            &[("service", service), ("method", method), ("code", "OK")],
        )
    };
    assert!(
        handled("warden.auth.v1.AuthService", "GetSession") >= 2.0,
        "{}",
        scrape.text()
    );
    assert_eq!(handled("warden.task.v1.TaskService", "CreateTask"), 1.0);
    assert!(scrape.has(
        "http_requests_total",
        &[("route", "/api/v1/tasks"), ("status", "201")]
    ));
    assert!(scrape.sum("warden_session_cache_lookups_total", &[]) >= 2.0);
    assert!(scrape.has("warden_session_cache_entries", &[]));
    assert!(scrape.has("warden_password_hash_queue_depth", &[]));
    for pool in ["auth-svc", "task-svc"] {
        assert!(scrape.has("warden_db_pool_max_connections", &[("pool", pool)]));
    }
    assert!(scrape.has("warden_task_jwks_fetches_total", &[]));
    assert_eq!(
        scrape
            .text()
            .matches("# TYPE grpc_server_handled_total")
            .count(),
        1
    );
}

#[tokio::test]
async fn metrics_are_refused_to_clients_outside_metrics_allow() {
    let app = TestApp::postgres_with(|config| {
        config.limits.metrics_allow = vec!["192.0.2.0/24".parse().unwrap()].into();
    })
    .await;
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn metrics_are_refused_through_a_proxy_that_is_not_trusted() {
    let app = TestApp::postgres().await;
    let forwarded = app
        .http
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 404);
    assert_eq!(app.get("/metrics", None).await.status(), 200);
}
