//! Better Auth's two-factor plugin through the gateway, as a browser meets it: enrolment with an authenticator, the
//! sign-in's challenge and its `two_factor` cookie, trusted devices, backup codes, codes by mail, and each refusal
//! (wrong, replayed and guessed codes, a tampered challenge, a missing password). Codes come from the testkit's own
//! authenticator ([`warden_testkit::totp`]), not from Warden's TOTP code.

use reqwest::Response;
use serde_json::{Value, json};
use warden_testkit::totp;

use crate::account::mail_to;
use crate::helpers::{
    PASSWORD, TestApp, assert_error, on_both, secret, session_cookie, set_cookies,
};

const TWO_FACTOR_COOKIE: &str = "better-auth.two_factor";
const TRUST_COOKIE: &str = "better-auth.trust_device";

/// The `name=value` pair of cookie `name` a response sets (not deletes).
fn cookie(response: &Response, name: &str) -> Option<String> {
    set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")) && !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

fn deletes(response: &Response, name: &str) -> bool {
    set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
}

/// A user who enrolled an authenticator: their session cookie and the authenticator's URI and backup codes.
struct Enrolled {
    email: String,
    cookie: String,
    uri: String,
    backup_codes: Vec<String>,
    /// The time step whose code turned two-factor on.
    step: u64,
}

async fn enrol(app: &TestApp, email: &str) -> Enrolled {
    let cookie = app.signed_up_cookie(email).await;
    let response = app
        .post(
            "/api/auth/two-factor/enable",
            json!({"password": PASSWORD}),
            Some(&cookie),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        set_cookies(response.headers()).is_empty(),
        "enrolment starts without a new session"
    );
    let body: Value = response.json().await.unwrap();
    let uri = body["totpURI"].as_str().unwrap().to_owned();
    let backup_codes: Vec<String> = serde_json::from_value(body["backupCodes"].clone()).unwrap();
    // Not on until a code from the authenticator is shown.
    assert_eq!(
        app.session(&cookie).await["user"]["twoFactorEnabled"],
        false
    );
    let step = totp::now_step();
    let response = app
        .post(
            "/api/auth/two-factor/verify-totp",
            json!({"code": totp::code_at(&totp::secret_of(&uri), step)}),
            Some(&cookie),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cookie = session_cookie(response.headers()).expect("the session is replaced");
    assert_eq!(app.session(&cookie).await["user"]["twoFactorEnabled"], true);
    Enrolled {
        email: email.to_owned(),
        cookie,
        uri,
        backup_codes,
        step,
    }
}

/// A password sign-in that is challenged: the challenge cookie.
async fn challenged(app: &TestApp, email: &str, cookie: Option<&str>) -> String {
    let response = app
        .post(
            "/api/auth/sign-in/email",
            json!({"email": email, "password": PASSWORD}),
            cookie,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        session_cookie(response.headers()).is_none(),
        "no session before the second factor"
    );
    assert!(response.headers().get("set-auth-token").is_none());
    let challenge = cookie_of(&response, TWO_FACTOR_COOKIE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"twoFactorRedirect": true, "twoFactorMethods": ["totp", "otp"]})
    );
    challenge
}

/// A browser that completed a new challenge with the authenticator's code `offset` steps from now and asked to be
/// trusted: its `trust_device` cookie and its session cookie.
async fn trusted_browser(app: &TestApp, user: &Enrolled, offset: i64) -> (String, String) {
    let challenge = challenged(app, &user.email, None).await;
    let response = app
        .post(
            "/api/auth/two-factor/verify-totp",
            json!({"code": totp::code(&user.uri, offset), "trustDevice": true}),
            Some(&challenge),
        )
        .await;
    assert_eq!(response.status(), 200, "offset {offset}");
    let session = session_cookie(response.headers()).expect("a session");
    (cookie_of(&response, TRUST_COOKIE), session)
}

fn cookie_of(response: &Response, name: &str) -> String {
    cookie(response, name).unwrap_or_else(|| panic!("{name} is set"))
}

on_both! {
    async fn enrolment_gives_a_uri_codes_and_turns_on_with_the_first_code(app: TestApp) {
        let cookie = app.signed_up_cookie("ada@example.com").await;
        let response = app
            .post("/api/auth/two-factor/enable", json!({"password": PASSWORD}), Some(&cookie))
            .await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["method"], "totp");
        let uri = body["totpURI"].as_str().unwrap();
        assert!(uri.starts_with("otpauth://totp/Warden:ada%40example.com?secret="), "{uri}");
        assert!(uri.ends_with("&issuer=Warden&digits=6&period=30"), "{uri}");
        assert_eq!(totp::secret_of(uri).len(), 32);
        let codes = body["backupCodes"].as_array().unwrap();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|code| code.as_str().unwrap().len() == 11));

        assert_error(
            app.post("/api/auth/two-factor/verify-totp", json!({"code": "000000"}), Some(&cookie)).await,
            401,
            "INVALID_CODE",
            "Invalid code",
        )
        .await;
        // The same URI again, with the password; a second enable replaces an unverified secret.
        let again = app
            .post("/api/auth/two-factor/get-totp-uri", json!({"password": PASSWORD}), Some(&cookie))
            .await;
        assert_eq!(again.json::<Value>().await.unwrap()["totpURI"], uri);

        let response = app
            .post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(uri, 0)}), Some(&cookie))
            .await;
        assert_eq!(response.status(), 200);
        let new_cookie = session_cookie(response.headers()).unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["twoFactorEnabled"], true);
        assert_eq!(body["token"], crate::helpers::token_of(&new_cookie));
        // The old session was replaced.
        assert_eq!(app.get("/api/auth/get-session", Some(&cookie)).await.json::<Value>().await.unwrap(), Value::Null);
        assert_eq!(app.session(&new_cookie).await["user"]["twoFactorEnabled"], true);

        assert_error(
            app.post("/api/auth/two-factor/enable", json!({"password": PASSWORD}), Some(&new_cookie)).await,
            400,
            "TOTP_ALREADY_ENABLED",
            "TOTP is already enabled",
        )
        .await;
    }

    async fn a_password_sign_in_is_challenged_and_completed_with_the_authenticator(app: TestApp) {
        let user = enrol(&app, "bo@example.com").await;
        let challenge = challenged(&app, &user.email, None).await;
        let response = app
            .post(
                "/api/auth/two-factor/verify-totp",
                json!({"code": totp::code(&user.uri, 1)}),
                Some(&challenge),
            )
            .await;
        assert_eq!(response.status(), 200);
        assert!(deletes(&response, TWO_FACTOR_COOKIE));
        assert!(cookie(&response, TRUST_COOKIE).is_none());
        let session = session_cookie(response.headers()).unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token"], crate::helpers::token_of(&session));
        assert_eq!(body["user"]["email"], "bo@example.com");
        assert_eq!(app.session(&session).await["user"]["email"], "bo@example.com");
        // The challenge is spent.
        assert_error(
            app.post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(&user.uri, -1)}), Some(&challenge)).await,
            401,
            "INVALID_TWO_FACTOR_COOKIE",
            "Invalid two factor cookie",
        )
        .await;
        // A wrong password is still just a wrong password.
        assert_error(
            app.sign_in(&user.email, "not the password").await,
            401,
            "INVALID_EMAIL_OR_PASSWORD",
            "Invalid email or password",
        )
        .await;
    }

    async fn a_code_is_accepted_once_even_within_its_window(app: TestApp) {
        let user = enrol(&app, "cy@example.com").await;
        let secret = totp::secret_of(&user.uri);
        // Enrolment spent the code of its step, which is still within the window (Better Auth would take it again).
        assert!(totp::now_step() <= user.step + 1);
        let challenge = challenged(&app, &user.email, None).await;
        assert_error(
            app.post(
                "/api/auth/two-factor/verify-totp",
                json!({"code": totp::code_at(&secret, user.step)}),
                Some(&challenge),
            )
            .await,
            401,
            "INVALID_CODE",
            "Invalid code",
        )
        .await;
        // Two browsers presenting the same fresh code at once: one gets in.
        let first = challenged(&app, &user.email, None).await;
        let second = challenged(&app, &user.email, None).await;
        let code = totp::code_at(&secret, user.step + 1);
        let (a, b) = tokio::join!(
            app.post("/api/auth/two-factor/verify-totp", json!({"code": code}), Some(&first)),
            app.post("/api/auth/two-factor/verify-totp", json!({"code": code}), Some(&second)),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401]);
    }

    async fn a_trusted_device_skips_the_second_factor_for_its_user_only(app: TestApp) {
        let user = enrol(&app, "di@example.com").await;
        let challenge = challenged(&app, &user.email, None).await;
        let response = app
            .post(
                "/api/auth/two-factor/verify-totp",
                json!({"code": totp::code(&user.uri, 1), "trustDevice": true}),
                Some(&challenge),
            )
            .await;
        assert_eq!(response.status(), 200);
        let trust = cookie_of(&response, TRUST_COOKIE);
        assert!(set_cookies(response.headers()).iter().any(|c| c.starts_with(TRUST_COOKIE) && c.contains("Max-Age=2592000")));

        let response = app
            .post("/api/auth/sign-in/email", json!({"email": user.email, "password": PASSWORD}), Some(&trust))
            .await;
        assert_eq!(response.status(), 200);
        assert!(session_cookie(response.headers()).is_some(), "a trusted device signs in with the password");
        let renewed = cookie_of(&response, TRUST_COOKIE);
        assert_ne!(renewed, trust);
        // The old token was spent by the renewal; a browser presenting it again is challenged and told to drop it.
        let response = app
            .post("/api/auth/sign-in/email", json!({"email": user.email, "password": PASSWORD}), Some(&trust))
            .await;
        assert!(deletes(&response, TRUST_COOKIE));
        assert!(cookie(&response, TWO_FACTOR_COOKIE).is_some());
        // Another user's password with this user's trusted device is challenged.
        let other = enrol(&app, "ed@example.com").await;
        challenged(&app, &other.email, Some(&renewed)).await;
        // A forged token (right shape, not signed by Warden) does not help either.
        let forged = format!("{TRUST_COOKIE}={}", secret().sign_cookie("AAAA!trust-device-abc"));
        challenged(&app, &user.email, Some(&forged)).await;
    }

    async fn a_backup_code_works_once(app: TestApp) {
        let user = enrol(&app, "fa@example.com").await;
        let code = &user.backup_codes[3];
        let challenge = challenged(&app, &user.email, None).await;
        let response = app
            .post("/api/auth/two-factor/verify-backup-code", json!({"code": code}), Some(&challenge))
            .await;
        assert_eq!(response.status(), 200);
        assert!(session_cookie(response.headers()).is_some());
        let challenge = challenged(&app, &user.email, None).await;
        assert_error(
            app.post("/api/auth/two-factor/verify-backup-code", json!({"code": code}), Some(&challenge)).await,
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        )
        .await;
        // Another of them still works.
        let response = app
            .post("/api/auth/two-factor/verify-backup-code", json!({"code": user.backup_codes[4]}), Some(&challenge))
            .await;
        assert_eq!(response.status(), 200);
    }

    async fn a_code_by_mail_completes_the_challenge(app: TestApp) {
        let user = enrol(&app, "gu@example.com").await;
        let challenge = challenged(&app, &user.email, None).await;
        let response = app.post("/api/auth/two-factor/send-otp", json!({}), Some(&challenge)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        let code = mailed_code(&mail_to(&app, &user.email).await);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert_error(
            app.post("/api/auth/two-factor/verify-otp", json!({"code": wrong}), Some(&challenge)).await,
            401,
            "INVALID_CODE",
            "Invalid code",
        )
        .await;
        let response = app
            .post("/api/auth/two-factor/verify-otp", json!({"code": code}), Some(&challenge))
            .await;
        assert_eq!(response.status(), 200);
        assert!(session_cookie(response.headers()).is_some());
        // Used up.
        let challenge = challenged(&app, &user.email, None).await;
        assert_error(
            app.post("/api/auth/two-factor/verify-otp", json!({"code": code}), Some(&challenge)).await,
            400,
            "OTP_HAS_EXPIRED",
            "OTP has expired",
        )
        .await;
    }

    async fn five_wrong_codes_end_a_challenge_and_ten_lock_the_account(app: TestApp) {
        let user = enrol(&app, "hy@example.com").await;
        let challenge = challenged(&app, &user.email, None).await;
        for _ in 0..5 {
            assert_error(
                app.post("/api/auth/two-factor/verify-totp", json!({"code": "000000"}), Some(&challenge)).await,
                401,
                "INVALID_CODE",
                "Invalid code",
            )
            .await;
        }
        let response = app
            .post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(&user.uri, 1)}), Some(&challenge))
            .await;
        assert!(deletes(&response, TWO_FACTOR_COOKIE));
        assert_error(
            response,
            400,
            "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
            "Too many attempts. Please request a new code.",
        )
        .await;
        // Five more wrong codes on a new challenge make ten in a row: the second factor locks, right code or not.
        let challenge = challenged(&app, &user.email, None).await;
        for _ in 0..5 {
            app.post("/api/auth/two-factor/verify-backup-code", json!({"code": "wrong-guess"}), Some(&challenge))
                .await;
        }
        let challenge = challenged(&app, &user.email, None).await;
        assert_error(
            app.post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(&user.uri, 1)}), Some(&challenge)).await,
            429,
            "ACCOUNT_TEMPORARILY_LOCKED",
            "Too many failed verification attempts. Your account is temporarily locked. Please try again later.",
        )
        .await;
    }

    async fn a_tampered_or_missing_challenge_is_refused(app: TestApp) {
        let user = enrol(&app, "io@example.com").await;
        let challenge = challenged(&app, &user.email, None).await;
        let (name, value) = challenge.split_once('=').unwrap();
        let raw = secret().verify_cookie(value).unwrap();
        // The id changed under its signature, and the real id signed with another secret.
        let swapped = format!("{name}={}", value.replacen(&raw[..8], "2fa-XXXX", 1));
        let forged = format!(
            "{name}={}",
            warden_common::AuthSecret::parse("y".repeat(32).into()).unwrap().sign_cookie(&raw)
        );
        for cookie in [None, Some(swapped.as_str()), Some(forged.as_str())] {
            assert_error(
                app.post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(&user.uri, 1)}), cookie).await,
                401,
                "INVALID_TWO_FACTOR_COOKIE",
                "Invalid two factor cookie",
            )
            .await;
            assert_error(
                app.post("/api/auth/two-factor/send-otp", json!({}), cookie).await,
                401,
                "INVALID_TWO_FACTOR_COOKIE",
                "Invalid two factor cookie",
            )
            .await;
        }
        // The real one still works.
        let response = app
            .post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(&user.uri, 1)}), Some(&challenge))
            .await;
        assert_eq!(response.status(), 200);
    }

    async fn turning_off_or_regenerating_needs_the_password(app: TestApp) {
        let user = enrol(&app, "ju@example.com").await;
        for path in ["/api/auth/two-factor/disable", "/api/auth/two-factor/generate-backup-codes", "/api/auth/two-factor/get-totp-uri"] {
            assert_error(
                app.post(path, json!({}), Some(&user.cookie)).await,
                400,
                "VALIDATION_ERROR",
                "[body.password] Invalid input: expected string, received undefined",
            )
            .await;
            assert_error(
                app.post(path, json!({"password": "not the password"}), Some(&user.cookie)).await,
                400,
                "INVALID_PASSWORD",
                "Invalid password",
            )
            .await;
            let response = app.post(path, json!({"password": PASSWORD}), None).await;
            assert_eq!(response.status(), 401, "{path}");
        }
        // Nothing changed: still on, and the old backup codes still work.
        assert_eq!(app.session(&user.cookie).await["user"]["twoFactorEnabled"], true);
        let challenge = challenged(&app, &user.email, None).await;
        let response = app
            .post("/api/auth/two-factor/verify-backup-code", json!({"code": user.backup_codes[0]}), Some(&challenge))
            .await;
        assert_eq!(response.status(), 200);

        let response = app
            .post("/api/auth/two-factor/generate-backup-codes", json!({"password": PASSWORD}), Some(&user.cookie))
            .await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], true);
        let fresh: Vec<String> = serde_json::from_value(body["backupCodes"].clone()).unwrap();
        assert_eq!(fresh.len(), 10);
        let challenge = challenged(&app, &user.email, None).await;
        assert_error(
            app.post("/api/auth/two-factor/verify-backup-code", json!({"code": user.backup_codes[1]}), Some(&challenge)).await,
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        )
        .await;

        let response = app
            .post("/api/auth/two-factor/disable", json!({"password": PASSWORD}), Some(&user.cookie))
            .await;
        assert_eq!(response.status(), 200);
        let cookie = session_cookie(response.headers()).expect("the session is replaced");
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": true}));
        assert_eq!(app.session(&cookie).await["user"]["twoFactorEnabled"], false);
        let response = app.sign_in(&user.email, PASSWORD).await;
        assert!(session_cookie(response.headers()).is_some(), "no second factor once it is off");
        assert_error(
            app.post("/api/auth/two-factor/get-totp-uri", json!({"password": PASSWORD}), Some(&cookie)).await,
            400,
            "TOTP_NOT_ENABLED",
            "TOTP not enabled",
        )
        .await;
        assert_error(
            app.post("/api/auth/two-factor/generate-backup-codes", json!({"password": PASSWORD}), Some(&cookie)).await,
            400,
            "TWO_FACTOR_NOT_ENABLED",
            "Two factor isn't enabled",
        )
        .await;
    }

    async fn a_new_password_or_turning_off_forgets_every_trusted_device(app: TestApp) {
        let user = enrol(&app, "ka@example.com").await;
        // Two browsers, each trusted.
        let mut trusted = Vec::new();
        for offset in [1, -1] {
            trusted.push(trusted_browser(&app, &user, offset).await.0);
        }
        let response = app
            .post(
                "/api/auth/change-password",
                json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}),
                Some(&user.cookie),
            )
            .await;
        assert_eq!(response.status(), 200);
        for trust in &trusted {
            let response = app
                .post(
                    "/api/auth/sign-in/email",
                    json!({"email": user.email, "password": "a brand new passphrase"}),
                    Some(trust),
                )
                .await;
            assert!(cookie(&response, TWO_FACTOR_COOKIE).is_some(), "challenged after the password changed");
        }
    }

    async fn turning_two_factor_off_forgets_every_trusted_device(app: TestApp) {
        let user = enrol(&app, "ko@example.com").await;
        let (other_browser, _) = trusted_browser(&app, &user, 1).await;
        let response = app
            .post("/api/auth/two-factor/disable", json!({"password": PASSWORD}), Some(&user.cookie))
            .await;
        assert_eq!(response.status(), 200);
        let cookie = session_cookie(response.headers()).unwrap();
        // On again, with a new authenticator: the device trusted before is not trusted any more.
        let response = app
            .post("/api/auth/two-factor/enable", json!({"password": PASSWORD}), Some(&cookie))
            .await;
        let uri = response.json::<Value>().await.unwrap()["totpURI"].as_str().unwrap().to_owned();
        let response = app
            .post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(&uri, 0)}), Some(&cookie))
            .await;
        assert_eq!(response.status(), 200);
        challenged(&app, &user.email, Some(&other_browser)).await;
    }

    async fn a_session_opened_through_a_second_factor_is_like_any_other(app: TestApp) {
        let user = enrol(&app, "lu@example.com").await;
        let challenge = challenged(&app, &user.email, None).await;
        let response = app
            .post("/api/auth/two-factor/verify-backup-code", json!({"code": user.backup_codes[0]}), Some(&challenge))
            .await;
        let second = session_cookie(response.headers()).unwrap();
        let listed = app.get("/api/auth/list-sessions", Some(&user.cookie)).await;
        let sessions: Vec<Value> = listed.json().await.unwrap();
        assert_eq!(sessions.len(), 2);
        let token = sessions
            .iter()
            .map(|s| s["token"].as_str().unwrap().to_owned())
            .find(|t| *t != warden_common::token::hash_token(&crate::helpers::token_of(&user.cookie)))
            .unwrap();
        let response = app
            .post("/api/auth/revoke-session", json!({"token": token}), Some(&user.cookie))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.get("/api/auth/get-session", Some(&second)).await.json::<Value>().await.unwrap(), Value::Null);

        // Signing out ends one; a ban ends the rest.
        let mut opened = Vec::new();
        for code in &user.backup_codes[1..3] {
            let challenge = challenged(&app, &user.email, None).await;
            let response = app
                .post("/api/auth/two-factor/verify-backup-code", json!({"code": code}), Some(&challenge))
                .await;
            opened.push(session_cookie(response.headers()).unwrap());
        }
        let response = app.post("/api/auth/sign-out", json!({}), Some(&opened[0])).await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.get("/api/auth/get-session", Some(&opened[0])).await.json::<Value>().await.unwrap(), Value::Null);
        app.session(&opened[1]).await;
        let admin = crate::admin::admin_cookie(&app, "warden-admin@example.com").await;
        let user_id = app.user_id(&opened[1]).await;
        let response = app
            .post("/api/auth/admin/ban-user", json!({"userId": user_id}), Some(&admin))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.get("/api/auth/get-session", Some(&opened[1])).await.json::<Value>().await.unwrap(), Value::Null);
    }
}

on_both! {
    async fn an_administrator_resets_a_lost_second_factor(app: TestApp) {
        let user = enrol(&app, "mo@example.com").await;
        let (trust, phone_session) = trusted_browser(&app, &user, 1).await;
        let user_id = app.user_id(&user.cookie).await;

        let stranger = app.signed_up_cookie("nosy@example.com").await;
        assert_error(
            app.post("/api/warden/admin/reset-two-factor", json!({"userId": user_id}), Some(&stranger)).await,
            403,
            "YOU_ARE_NOT_ALLOWED_TO_RESET_TWO_FACTOR",
            "You are not allowed to reset users two factor",
        )
        .await;
        assert_eq!(app.session(&user.cookie).await["user"]["twoFactorEnabled"], true);

        let admin = crate::admin::admin_cookie(&app, "root@example.com").await;
        let response = app
            .post("/api/warden/admin/reset-two-factor", json!({"userId": user_id}), Some(&admin))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["twoFactorEnabled"], false);
        // Every session of the user ended.
        for cookie in [&user.cookie, &phone_session] {
            let session: Value = app.get("/api/auth/get-session", Some(cookie)).await.json().await.unwrap();
            assert_eq!(session, Value::Null);
        }
        // The password alone signs in now; enrolling again gives a new secret, and the old device is not trusted.
        let response = app.sign_in(&user.email, PASSWORD).await;
        let cookie = session_cookie(response.headers()).expect("no second factor after the reset");
        let response = app
            .post("/api/auth/two-factor/enable", json!({"password": PASSWORD}), Some(&cookie))
            .await;
        let uri = response.json::<Value>().await.unwrap()["totpURI"].as_str().unwrap().to_owned();
        assert_ne!(totp::secret_of(&uri), totp::secret_of(&user.uri));
        let response = app
            .post("/api/auth/two-factor/verify-totp", json!({"code": totp::code(&uri, 0)}), Some(&cookie))
            .await;
        assert_eq!(response.status(), 200);
        challenged(&app, &user.email, Some(&trust)).await;
        assert_error(
            app.post("/api/warden/admin/reset-two-factor", json!({"userId": "no-such-user"}), Some(&admin)).await,
            404,
            "USER_NOT_FOUND",
            "User not found",
        )
        .await;
    }
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let app = TestApp::postgres().await;
    let user = enrol(&app, "ny@example.com").await;
    let challenge = challenged(&app, &user.email, None).await;
    crate::admin::execute(
        &app,
        r#"UPDATE verification SET "expiresAt" = now() - interval '1 second' WHERE identifier LIKE '2fa-%'"#,
    )
    .await;
    assert_error(
        app.post(
            "/api/auth/two-factor/verify-totp",
            json!({"code": totp::code(&user.uri, 1)}),
            Some(&challenge),
        )
        .await,
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    )
    .await;
}

on_both! {
    async fn the_flag_is_the_servers_to_set(app: TestApp) {
        let response = app
            .post(
                "/api/auth/sign-up/email",
                json!({"name": "Pi", "email": "pi@example.com", "password": PASSWORD, "twoFactorEnabled": true}),
                None,
            )
            .await;
        let cookie = session_cookie(response.headers()).unwrap();
        assert_eq!(response.json::<Value>().await.unwrap()["user"]["twoFactorEnabled"], false);
        assert_error(
            app.post("/api/auth/update-user", json!({"twoFactorEnabled": true}), Some(&cookie)).await,
            400,
            "FIELD_NOT_ALLOWED",
            "twoFactorEnabled is not allowed to be set",
        )
        .await;
        assert_eq!(app.session(&cookie).await["user"]["twoFactorEnabled"], false);
    }
}

#[tokio::test]
async fn the_issuer_authenticator_apps_show_is_a_setting() {
    let app =
        TestApp::postgres_configured(|auth| auth.two_factor_issuer = "Acme & Co".into(), |_| {})
            .await;
    let cookie = app.signed_up_cookie("qi@example.com").await;
    let response = app
        .post(
            "/api/auth/two-factor/enable",
            json!({"password": PASSWORD}),
            Some(&cookie),
        )
        .await;
    let uri = response.json::<Value>().await.unwrap()["totpURI"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        uri.starts_with("otpauth://totp/Acme%20%26%20Co:qi%40example.com?"),
        "{uri}"
    );
    assert!(uri.contains("&issuer=Acme+%26+Co&"), "{uri}");
    // A request may name its own, as Better Auth's `issuer` field allows.
    let response = app
        .post(
            "/api/auth/two-factor/enable",
            json!({"password": PASSWORD, "issuer": "Other"}),
            Some(&cookie),
        )
        .await;
    let uri = response.json::<Value>().await.unwrap()["totpURI"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.starts_with("otpauth://totp/Other:"), "{uri}");
}

on_both! {
    async fn five_wrong_mailed_codes_use_up_that_code_and_the_challenge_takes_a_new_one(app: TestApp) {
        let user = enrol(&app, "ra@example.com").await;
        let challenge = challenged(&app, &user.email, None).await;
        let send = || app.post("/api/auth/two-factor/send-otp", json!({}), Some(&challenge));
        assert_eq!(send().await.status(), 200);
        let code = mailed_code(&mail_to(&app, &user.email).await);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            app.post("/api/auth/two-factor/verify-otp", json!({"code": wrong}), Some(&challenge)).await;
        }
        let response = app
            .post("/api/auth/two-factor/verify-otp", json!({"code": code}), Some(&challenge))
            .await;
        assert!(set_cookies(response.headers()).is_empty(), "the challenge is kept");
        assert_error(
            response,
            400,
            "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
            "Too many attempts. Please request a new code.",
        )
        .await;
        // A new code, as the message says, completes the same challenge.
        assert_eq!(send().await.status(), 200);
        let mut fresh = code.clone();
        for _ in 0..100 {
            let mails = crate::account::outbox(&app).await;
            fresh = mailed_code(&mails[0]);
            if mails.iter().filter(|mail| mail["to"] == user.email.as_str()).count() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let response = app
            .post("/api/auth/two-factor/verify-otp", json!({"code": fresh}), Some(&challenge))
            .await;
        assert_eq!(response.status(), 200);
        assert!(session_cookie(response.headers()).is_some());
    }
}

/// The six-digit code in a sign-in-code mail.
fn mailed_code(mail: &Value) -> String {
    mail["text"]
        .as_str()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .expect("a six-digit code in the mail")
        .to_owned()
}

on_both! {
    async fn a_password_reset_or_an_administrators_new_password_forgets_every_trusted_device(app: TestApp) {
        let user = enrol(&app, "sa@example.com").await;
        let mut trusted = Vec::new();
        for offset in [1, -1] {
            trusted.push(trusted_browser(&app, &user, offset).await.0);
        }
        // Trusted: the password alone signs in (and renews that device's token).
        let response = app
            .post("/api/auth/sign-in/email", json!({"email": user.email, "password": PASSWORD}), Some(&trusted[0]))
            .await;
        assert!(session_cookie(response.headers()).is_some());
        trusted[0] = cookie_of(&response, TRUST_COOKIE);

        crate::account::request_reset(&app, &user.email).await;
        let token = crate::account::reset_token(&app, &user.email).await;
        let response = app
            .post("/api/auth/reset-password", json!({"newPassword": PASSWORD, "token": token}), None)
            .await;
        assert_eq!(response.status(), 200);
        for device in &trusted {
            challenged(&app, &user.email, Some(device)).await;
        }

        // Trusted again, then an administrator sets a new password: forgotten again.
        let challenge = challenged(&app, &user.email, None).await;
        let backup = &user.backup_codes[0];
        let response = app
            .post(
                "/api/auth/two-factor/verify-backup-code",
                json!({"code": backup, "trustDevice": true}),
                Some(&challenge),
            )
            .await;
        let device = cookie_of(&response, TRUST_COOKIE);
        let user_id = app.user_id(&session_cookie(response.headers()).unwrap()).await;
        let admin = crate::admin::admin_cookie(&app, "sa-admin@example.com").await;
        let response = app
            .post(
                "/api/auth/admin/set-user-password",
                json!({"userId": user_id, "newPassword": PASSWORD}),
                Some(&admin),
            )
            .await;
        assert_eq!(response.status(), 200);
        challenged(&app, &user.email, Some(&device)).await;
    }
}
