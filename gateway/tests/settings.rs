//! A bad setting stops the gateway before it serves, with one line naming the variable and exit code 2.

use std::process::{Command, Output};

fn gateway(env: &[(&str, &str)]) -> Output {
    let secret = "x".repeat(32);
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .env("AUTH_SECRET", &secret)
        .env("GATEWAY_ADDR", "127.0.0.1:0")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn a_bad_setting_is_one_line_naming_the_variable_and_exit_code_2() {
    for (env, line) in [
        (
            vec![("TASK_URL", "ftp://tasks")],
            "error: TASK_URL: `ftp://tasks` must be an http:// or https:// URL",
        ),
        (
            vec![("METRICS_ALLOW", "prometheus")],
            "error: METRICS_ALLOW: `prometheus` is not an IP address",
        ),
        (
            vec![("REDIS_URL", "127.0.0.1:6379")],
            "error: REDIS_URL: must be a redis://",
        ),
        (
            vec![("PLUGINS", "admin,magic-link")],
            "error: PLUGINS: `magic-link` is not a plugin",
        ),
        (
            vec![("AUTH_SECRET", "short")],
            "error: AUTH_SECRET: must be at least 32 characters",
        ),
        (
            vec![("RATE_LIMIT_ENABLED", "maybe")],
            "error: RATE_LIMIT_ENABLED: invalid value 'maybe'",
        ),
    ] {
        warden_testkit::assert_setting_refused(&gateway(&env), line);
    }
}
