//! A bad setting stops auth-svc before it serves, with one line naming the variable and exit code 2.

use std::process::{Command, Output};

fn auth_svc(env: &[(&str, &str)]) -> Output {
    let secret = "x".repeat(32);
    Command::new(env!("CARGO_BIN_EXE_auth-svc"))
        .env_clear()
        .env("DATABASE_URL", "sqlite::memory:")
        .env("AUTH_SECRET", &secret)
        .env("AUTH_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "off")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn a_bad_setting_is_one_line_naming_the_variable_and_exit_code_2() {
    for (variable, value, line) in [
        (
            "BASE_URL",
            "example.com",
            "error: BASE_URL: `example.com` must be an http:// or https:// URL",
        ),
        (
            "DATABASE_URL",
            "mysql://x",
            "error: DATABASE_URL: must start with postgres:// or sqlite:",
        ),
        (
            "TRUSTED_PROXIES",
            "gateway",
            "error: TRUSTED_PROXIES: `gateway` is not an IP address or network",
        ),
        ("PLUGINS", "sso", "error: PLUGINS: `sso` is not a plugin"),
        (
            "BETTER_AUTH_SECRETS",
            "1:short",
            "error: AUTH_SECRETS: must start with a secret",
        ),
    ] {
        let output = match variable {
            // Better Auth's name is read when Warden's is unset; the error names Warden's.
            "BETTER_AUTH_SECRETS" => auth_svc(&[(variable, value), ("AUTH_SECRET", "")]),
            _ => auth_svc(&[(variable, value)]),
        };
        warden_testkit::assert_setting_refused(&output, line);
    }
}

#[test]
fn an_incomplete_provider_stops_the_start_naming_the_missing_variable() {
    warden_testkit::assert_setting_refused(
        &auth_svc(&[("GOOGLE_CLIENT_ID", "g.apps.googleusercontent.com")]),
        "error: GOOGLE_CLIENT_SECRET: required with GOOGLE_CLIENT_ID",
    );
    warden_testkit::assert_setting_refused(
        &auth_svc(&[
            ("OAUTH_PROVIDERS", "okta"),
            ("OAUTH_OKTA_CLIENT_ID", "okta-id"),
            ("OAUTH_OKTA_CLIENT_SECRET", "okta-secret"),
        ]),
        "error: OAUTH_OKTA_DISCOVERY_URL: required for the provider `okta`",
    );
    warden_testkit::assert_setting_refused(
        &auth_svc(&[
            ("OAUTH_PROVIDERS", "okta"),
            ("OAUTH_OKTA_DISCOVERY_URL", "https://example.okta.com"),
            ("OAUTH_OKTA_CLIENT_SECRET", "okta-secret"),
        ]),
        "error: OAUTH_OKTA_CLIENT_ID: required for the provider `okta` in OAUTH_PROVIDERS",
    );
}

#[test]
fn a_value_clap_cannot_read_names_its_variable_too() {
    warden_testkit::assert_setting_refused(
        &auth_svc(&[("SESSION_CACHE_TTL", "soon")]),
        "error: SESSION_CACHE_TTL: invalid value 'soon'",
    );
    warden_testkit::assert_setting_refused(
        &auth_svc(&[("AUTH_ADDR", "nowhere")]),
        "error: AUTH_ADDR: invalid value 'nowhere'",
    );
}
