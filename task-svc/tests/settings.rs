//! A bad setting stops task-svc before it serves, with one line naming the variable and exit code 2.

use std::process::{Command, Output};

fn task_svc(env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_task-svc"))
        .env_clear()
        .env("DATABASE_URL", "sqlite::memory:")
        .env("TASK_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "off")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn a_bad_setting_is_one_line_naming_the_variable_and_exit_code_2() {
    for (env, line) in [
        (vec![("AUTH_URL", "127.0.0.1:50051")], "error: AUTH_URL: "),
        (
            vec![("BETTER_AUTH_URL", "example.com")],
            "error: BASE_URL: `example.com` must be",
        ),
        (
            vec![("TRUSTED_ORIGINS", "nope")],
            "error: TRUSTED_ORIGINS: `nope` is not an origin",
        ),
        (
            vec![("DATABASE_URL", "")],
            "error: DATABASE_URL: is required",
        ),
        (
            vec![("TLS_CERT", "/nonexistent/cert.pem")],
            "error: TLS_KEY: is required when TLS_CERT is set",
        ),
        (
            vec![("DATABASE_MAX_CONNECTIONS", "many")],
            "error: DATABASE_MAX_CONNECTIONS: invalid value 'many'",
        ),
    ] {
        warden_testkit::assert_setting_refused(&task_svc(&env), line);
    }
}
