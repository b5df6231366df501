//! Better Auth's passkey plugin through the gateway, as a browser meets it: registering a passkey on a signed-in
//! account, signing in with it without typing an email, listing, renaming and deleting, the package's signed
//! `better-auth-passkey` cookie naming each ceremony, and each refusal the issue names: another origin or relying
//! party, a reused or expired challenge, a counter going backwards, no user verification, another user's passkey,
//! a banned user. The authenticator is the testkit's own ([`warden_testkit::webauthn`]), not Warden's verifier.

use reqwest::Response;
use serde_json::{Value, json};
use warden_testkit::webauthn::{Algorithm, Authenticator, Lie};

use crate::helpers::{TestApp, assert_error, on_both, session_cookie, set_cookies};

const CEREMONY_COOKIE: &str = "better-auth.better-auth-passkey";

/// The ceremony cookie an options answer sets, as `name=value`.
fn ceremony_cookie(response: &Response) -> String {
    let set = set_cookies(response.headers());
    let cookie = set
        .iter()
        .find(|c| c.starts_with(&format!("{CEREMONY_COOKIE}=")))
        .unwrap_or_else(|| panic!("no ceremony cookie in {set:?}"));
    assert!(cookie.contains("Max-Age=300"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

fn with(cookie: &str, other: &str) -> String {
    format!("{cookie}; {other}")
}

/// The options of a registration for the signed-in `cookie`, and the cookie naming the ceremony.
async fn registration_options(app: &TestApp, cookie: &str) -> (Value, String) {
    let response = app
        .get("/api/auth/passkey/generate-register-options", Some(cookie))
        .await;
    assert_eq!(response.status(), 200);
    let ceremony = ceremony_cookie(&response);
    (response.json().await.unwrap(), ceremony)
}

/// Sends the authenticator's `response` (and `name`) to verify-registration, with the caller's `cookie` and the
/// ceremony's.
async fn verify_registration(
    app: &TestApp,
    cookie: &str,
    ceremony: &str,
    response: Value,
    name: Option<&str>,
) -> Response {
    let mut body = json!({ "response": response });
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    app.post(
        "/api/auth/passkey/verify-registration",
        body,
        Some(&with(cookie, ceremony)),
    )
    .await
}

/// Registers `authenticator` for the signed-in `cookie` under `name`; the stored passkey.
async fn register(
    app: &TestApp,
    cookie: &str,
    authenticator: &mut Authenticator,
    name: &str,
) -> Value {
    let (options, ceremony) = registration_options(app, cookie).await;
    let response = authenticator.register(&options, &app.base_url);
    let answer = verify_registration(app, cookie, &ceremony, response, Some(name)).await;
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

/// Options to sign in (no session) and the ceremony cookie.
async fn sign_in_options(app: &TestApp, cookie: Option<&str>) -> (Value, String) {
    let response = app
        .get("/api/auth/passkey/generate-authenticate-options", cookie)
        .await;
    assert_eq!(response.status(), 200);
    let ceremony = ceremony_cookie(&response);
    (response.json().await.unwrap(), ceremony)
}

async fn verify_assertion(app: &TestApp, assertion: Value, ceremony: &str) -> Response {
    app.post(
        "/api/auth/passkey/verify-authentication",
        json!({"response": assertion}),
        Some(ceremony),
    )
    .await
}

/// A passkey sign-in told to lie as `lie` says.
async fn sign_in_lying(app: &TestApp, authenticator: &mut Authenticator, lie: &Lie) -> Response {
    let (options, ceremony) = sign_in_options(app, None).await;
    let assertion = authenticator.assert_lying(&options, &app.base_url, lie);
    verify_assertion(app, assertion, &ceremony).await
}

async fn list(app: &TestApp, cookie: &str) -> Vec<Value> {
    let response = app
        .get("/api/auth/passkey/list-user-passkeys", Some(cookie))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A signed-up user with one registered ES256 passkey.
async fn with_passkey(app: &TestApp, email: &str) -> (String, Authenticator, Value) {
    let cookie = app.signed_up_cookie(email).await;
    let mut authenticator = Authenticator::new(Algorithm::Es256);
    let passkey = register(app, &cookie, &mut authenticator, "Laptop").await;
    (cookie, authenticator, passkey)
}

async fn assert_refused(response: Response) {
    assert_error(
        response,
        400,
        "AUTHENTICATION_FAILED",
        "Authentication failed",
    )
    .await;
}

on_both! {
    async fn a_passkey_registers_and_signs_in_without_an_email(app: TestApp) {
        let cookie = app.signed_up_cookie("pk@example.com").await;
        let (options, ceremony) = registration_options(&app, &cookie).await;
        let host = url::Url::parse(&app.base_url).unwrap().host_str().unwrap().to_owned();
        assert_eq!(options["rp"], json!({"name": "Warden", "id": host}));
        assert_eq!(options["user"]["name"], "pk@example.com");
        assert_eq!(options["attestation"], "none");
        assert_eq!(options["excludeCredentials"], json!([]));
        assert_eq!(
            options["pubKeyCredParams"],
            json!([
                {"alg": -8, "type": "public-key"},
                {"alg": -7, "type": "public-key"},
                {"alg": -257, "type": "public-key"}
            ])
        );
        let mut authenticator = Authenticator::new(Algorithm::EdDsa);
        let response = authenticator.register(&options, &app.base_url);
        let answer =
            verify_registration(&app, &cookie, &ceremony, response, Some("  Blue key  ")).await;
        assert_eq!(answer.status(), 200);
        assert!(session_cookie(answer.headers()).is_none(), "no session without createSession");
        let text = answer.text().await.unwrap();
        assert!(
            text.find(r#""aaguid":"#) < text.find(r#","id":"#),
            "the package answers `id` last: {text}"
        );
        let passkey: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(passkey["name"], "Blue key");
        assert_eq!(passkey["credentialID"], authenticator.credential_id());
        assert_eq!(passkey["publicKey"], authenticator.public_key_base64());
        assert_eq!(passkey["deviceType"], "singleDevice");
        assert_eq!(passkey["transports"], "internal,hybrid");
        assert_eq!(passkey["counter"], 0);

        // A browser without any cookie: the options name no credential, the passkey names its user.
        let (options, ceremony) = sign_in_options(&app, None).await;
        assert!(options.get("allowCredentials").is_none());
        assert_eq!(options["rpId"], host);
        let assertion = authenticator.assert(&options, &app.base_url);
        let signed_in = verify_assertion(&app, assertion, &ceremony).await;
        assert_eq!(signed_in.status(), 200);
        let new_cookie = session_cookie(signed_in.headers()).expect("a session cookie");
        let body: Value = signed_in.json().await.unwrap();
        assert_eq!(body["user"]["email"], "pk@example.com");
        assert_eq!(app.session(&new_cookie).await["user"]["email"], "pk@example.com");

        let listed = list(&app, &new_cookie).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["counter"], 1, "the counter moved with the sign-in");

        // Signed in, the options name the user's passkeys and exclude them from a new registration.
        let (options, _) = sign_in_options(&app, Some(&new_cookie)).await;
        assert_eq!(options["allowCredentials"][0]["id"], authenticator.credential_id());
        let (options, _) = registration_options(&app, &new_cookie).await;
        assert_eq!(options["excludeCredentials"][0]["id"], authenticator.credential_id());
    }

    async fn passkeys_are_renamed_and_deleted_by_their_owner_only(app: TestApp) {
        let (cookie, mut authenticator, passkey) = with_passkey(&app, "owner@example.com").await;
        let id = passkey["id"].as_str().unwrap();
        let other = app.signed_up_cookie("other@example.com").await;

        let renamed = app
            .post("/api/auth/passkey/update-passkey", json!({"id": id, "name": " Work "}), Some(&cookie))
            .await;
        assert_eq!(renamed.status(), 200);
        assert_eq!(renamed.json::<Value>().await.unwrap()["passkey"]["name"], "Work");

        assert_error(
            app.post("/api/auth/passkey/update-passkey", json!({"id": id, "name": "Mine"}), Some(&other))
                .await,
            401,
            "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY",
            "You are not allowed to register this passkey",
        )
        .await;
        let refused = app
            .post("/api/auth/passkey/delete-passkey", json!({"id": id}), Some(&other))
            .await;
        assert_eq!(refused.status(), 401);
        assert!(refused.bytes().await.unwrap().is_empty(), "a bare 401, as Better Auth's");
        assert_error(
            app.post("/api/auth/passkey/update-passkey", json!({"id": id, "name": "  "}), Some(&cookie))
                .await,
            400,
            "VALIDATION_ERROR",
            "[body.name] Too small: expected string to have >=1 characters",
        )
        .await;
        // Nothing changed for the owner.
        let listed = list(&app, &cookie).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["name"], "Work");
        assert!(list(&app, &other).await.is_empty());

        let deleted = app
            .post("/api/auth/passkey/delete-passkey", json!({"id": id}), Some(&cookie))
            .await;
        assert_eq!(deleted.status(), 200);
        assert_eq!(deleted.json::<Value>().await.unwrap(), json!({"status": true}));
        assert!(list(&app, &cookie).await.is_empty());
        assert_error(
            app.post("/api/auth/passkey/delete-passkey", json!({"id": id}), Some(&cookie)).await,
            404,
            "PASSKEY_NOT_FOUND",
            "Passkey not found",
        )
        .await;
        // A deleted passkey signs nobody in.
        assert_error(
            sign_in_lying(&app, &mut authenticator, &Lie::default()).await,
            401,
            "PASSKEY_NOT_FOUND",
            "Passkey not found",
        )
        .await;
    }

    async fn a_challenge_is_used_once(app: TestApp) {
        let (_, mut authenticator, _) = with_passkey(&app, "once@example.com").await;
        let (options, ceremony) = sign_in_options(&app, None).await;
        let assertion = authenticator.assert(&options, &app.base_url);
        assert_eq!(verify_assertion(&app, assertion, &ceremony).await.status(), 200);
        // The same ceremony again, even with a fresh, valid signature over its challenge.
        let again = authenticator.assert(&options, &app.base_url);
        assert_error(
            verify_assertion(&app, again, &ceremony).await,
            400,
            "CHALLENGE_NOT_FOUND",
            "Challenge not found",
        )
        .await;
        // No ceremony at all.
        let (options, _) = sign_in_options(&app, None).await;
        let assertion = authenticator.assert(&options, &app.base_url);
        assert_error(
            verify_assertion(&app, assertion, "").await,
            400,
            "CHALLENGE_NOT_FOUND",
            "Challenge not found",
        )
        .await;
    }

    async fn assertions_for_another_origin_or_relying_party_are_refused(app: TestApp) {
        let (cookie, mut authenticator, _) = with_passkey(&app, "origin@example.com").await;
        let lies = [
            Lie { origin: Some("https://evil.example".into()), ..Default::default() },
            Lie { rp_id: Some("evil.example".into()), ..Default::default() },
            // A challenge of the attacker's choosing.
            Lie { challenge: Some("c29tZXRoaW5nIGVsc2U".into()), ..Default::default() },
        ];
        for lie in &lies {
            assert_refused(sign_in_lying(&app, &mut authenticator, lie).await).await;
        }
        // A registration from another origin is refused as the package refuses it.
        let (options, ceremony) = registration_options(&app, &cookie).await;
        let mut second = Authenticator::new(Algorithm::Es256);
        let lie = Lie { origin: Some("https://evil.example".into()), ..Default::default() };
        let response = second.register_lying(&options, &app.base_url, &lie);
        assert_error(
            verify_registration(&app, &cookie, &ceremony, response, None).await,
            500,
            "FAILED_TO_VERIFY_REGISTRATION",
            "Failed to verify registration",
        )
        .await;
        assert_eq!(list(&app, &cookie).await.len(), 1, "nothing was registered");
    }

    async fn a_sign_in_needs_user_verification_and_a_good_signature(app: TestApp) {
        let (_, mut authenticator, _) = with_passkey(&app, "uv@example.com").await;
        let unverified = Lie { unverified: true, ..Default::default() };
        assert_refused(sign_in_lying(&app, &mut authenticator, &unverified).await).await;
        let forged = Lie { bad_signature: true, ..Default::default() };
        assert_error(
            sign_in_lying(&app, &mut authenticator, &forged).await,
            401,
            "AUTHENTICATION_FAILED",
            "Authentication failed",
        )
        .await;
        assert_eq!(
            sign_in_lying(&app, &mut authenticator, &Lie::default()).await.status(),
            200
        );
    }

    async fn a_counter_that_goes_backwards_is_refused(app: TestApp) {
        let (cookie, mut authenticator, _) = with_passkey(&app, "clone@example.com").await;
        for _ in 0..3 {
            assert_eq!(
                sign_in_lying(&app, &mut authenticator, &Lie::default()).await.status(),
                200
            );
        }
        assert_eq!(list(&app, &cookie).await[0]["counter"], 3);
        // A clone of the authenticator, still at 2, or one that repeats 3.
        for counter in [2, 3] {
            let cloned = Lie { counter: Some(counter), ..Default::default() };
            assert_refused(sign_in_lying(&app, &mut authenticator, &cloned).await).await;
        }
        assert_eq!(list(&app, &cookie).await[0]["counter"], 3);
        // Authenticators that do not count (0 every time) keep working.
        let cookie = app.signed_up_cookie("synced@example.com").await;
        let mut synced = Authenticator::new(Algorithm::Es256).synced();
        let passkey = register(&app, &cookie, &mut synced, "Phone").await;
        assert_eq!(passkey["deviceType"], "multiDevice");
        assert_eq!(passkey["backedUp"], true);
        for _ in 0..2 {
            assert_eq!(sign_in_lying(&app, &mut synced, &Lie::default()).await.status(), 200);
        }
    }

    async fn a_banned_user_is_not_signed_in_by_a_passkey(app: TestApp) {
        let (_, mut authenticator, passkey) = with_passkey(&app, "banned@example.com").await;
        let user = passkey["userId"].as_str().unwrap();
        crate::admin::execute(&app, &format!(r#"UPDATE "user" SET banned = true WHERE id = '{user}'"#))
            .await;
        let refused = sign_in_lying(&app, &mut authenticator, &Lie::default()).await;
        assert_eq!(refused.status(), 403);
        assert_eq!(refused.json::<Value>().await.unwrap()["code"], "BANNED_USER");
    }

    async fn the_routes_need_a_session_and_the_right_ceremony(app: TestApp) {
        for path in [
            "/api/auth/passkey/generate-register-options",
            "/api/auth/passkey/list-user-passkeys",
        ] {
            assert_error(app.get(path, None).await, 401, "UNAUTHORIZED", "Unauthorized").await;
        }
        let (cookie, mut authenticator, _) = with_passkey(&app, "kinds@example.com").await;
        // A registration's ceremony does not sign anyone in.
        let (options, ceremony) = registration_options(&app, &cookie).await;
        let mut assertion_options = options.clone();
        assertion_options["rpId"] = options["rp"]["id"].clone();
        let assertion = authenticator.assert(&assertion_options, &app.base_url);
        assert_error(
            verify_assertion(&app, assertion, &ceremony).await,
            400,
            "CHALLENGE_NOT_FOUND",
            "Challenge not found",
        )
        .await;
        // Another user's registration ceremony.
        let thief = app.signed_up_cookie("thief@example.com").await;
        let (options, ceremony) = registration_options(&app, &cookie).await;
        let response = Authenticator::new(Algorithm::Es256).register(&options, &app.base_url);
        assert_error(
            verify_registration(&app, &thief, &ceremony, response, None).await,
            401,
            "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY",
            "You are not allowed to register this passkey",
        )
        .await;
        assert!(list(&app, &thief).await.is_empty());
    }
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let app = TestApp::postgres().await;
    let (_, mut authenticator, _) = with_passkey(&app, "late@example.com").await;
    let (options, ceremony) = sign_in_options(&app, None).await;
    crate::admin::execute(
        &app,
        r#"UPDATE verification SET "expiresAt" = now() - interval '1 second' WHERE value LIKE '{"type":"authentication"%'"#,
    )
    .await;
    let assertion = authenticator.assert(&options, &app.base_url);
    assert_error(
        verify_assertion(&app, assertion, &ceremony).await,
        400,
        "CHALLENGE_NOT_FOUND",
        "Challenge not found",
    )
    .await;
}

#[tokio::test]
async fn trusted_origins_are_passkey_origins_by_default() {
    let app = TestApp::postgres_configured(
        |auth| auth.trusted_origins = "http://trusted.example".parse().unwrap(),
        |_| {},
    )
    .await;
    let (_, mut authenticator, _) = with_passkey(&app, "trusted@example.com").await;
    let trusted = Lie {
        origin: Some("http://trusted.example".into()),
        ..Default::default()
    };
    assert_eq!(
        sign_in_lying(&app, &mut authenticator, &trusted)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn passkey_origins_are_the_setting_not_the_request() {
    let app = TestApp::postgres_configured(
        |auth| {
            auth.trusted_origins = "http://trusted.example".parse().unwrap();
            auth.passkey.origins = Some(auth.base_url.origin().parse().unwrap());
        },
        |_| {},
    )
    .await;
    let (_, mut authenticator, _) = with_passkey(&app, "strict@example.com").await;
    // http://trusted.example is a trusted origin of the gateway, but not a passkey origin here.
    let trusted = Lie {
        origin: Some("http://trusted.example".into()),
        ..Default::default()
    };
    assert_refused(sign_in_lying(&app, &mut authenticator, &trusted).await).await;
    // Nor does the request's own Origin header make an origin acceptable.
    let (options, ceremony) = sign_in_options(&app, None).await;
    let assertion = authenticator.assert_lying(&options, &app.base_url, &trusted);
    let response = app
        .http
        .post(app.url("/api/auth/passkey/verify-authentication"))
        .header("origin", "http://trusted.example")
        .header("cookie", &ceremony)
        .json(&json!({"response": assertion}))
        .send()
        .await
        .unwrap();
    assert_refused(response).await;
    assert_eq!(
        sign_in_lying(&app, &mut authenticator, &Lie::default())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn without_the_plugin_its_routes_are_not_found() {
    use warden_common::settings::{Plugin, Plugins};
    let plugins = Plugins::all().without(Plugin::Passkey);
    let app = TestApp::postgres_configured(
        |auth| auth.plugins = plugins,
        |gateway| gateway.plugins = plugins,
    )
    .await;
    let cookie = app.signed_up_cookie("off@example.com").await;
    for path in [
        "/api/auth/passkey/generate-register-options",
        "/api/auth/passkey/list-user-passkeys",
        "/api/auth/passkey/generate-authenticate-options",
    ] {
        let response = app.get(path, Some(&cookie)).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_registration_naming_no_origin_is_refused_after_the_session_checks() {
    let app = TestApp::postgres().await;
    let signed_up = app.sign_up("bearer@example.com").await;
    let token = signed_up.headers()["set-auth-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let send = |authorization: Option<String>| {
        let mut request = app
            .http
            .post(app.url("/api/auth/passkey/verify-registration"))
            .json(&json!({"response": {}}));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        request.send()
    };
    // No session: the session check answers first, as in Better Auth.
    assert_error(
        send(None).await.unwrap(),
        401,
        "UNAUTHORIZED",
        "Unauthorized",
    )
    .await;
    // A bearer session (no cookie, so no origin check) without an Origin header: the package's own refusal.
    assert_error(
        send(Some(format!("Bearer {token}"))).await.unwrap(),
        400,
        "FAILED_TO_VERIFY_REGISTRATION",
        "Failed to verify registration",
    )
    .await;
}
