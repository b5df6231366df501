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

fn refusal(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
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
        let stderr = refusal(&output);
        assert!(stderr.starts_with(line), "{variable}: {stderr}");
    }
}

#[test]
fn a_value_clap_cannot_read_names_its_variable_too() {
    let stderr = refusal(&auth_svc(&[("SESSION_CACHE_TTL", "soon")]));
    assert!(
        stderr.starts_with("error: SESSION_CACHE_TTL: invalid value 'soon'"),
        "{stderr}"
    );
    let stderr = refusal(&auth_svc(&[("AUTH_ADDR", "nowhere")]));
    assert!(
        stderr.starts_with("error: AUTH_ADDR: invalid value 'nowhere'"),
        "{stderr}"
    );
}
