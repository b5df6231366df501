//! A bad or missing DATABASE_URL stops `migrations` with one line naming the variable and exit code 2.

use std::process::Command;

#[test]
fn a_bad_database_url_is_one_line_naming_the_variable_and_exit_code_2() {
    for (url, line) in [
        (None, "error: DATABASE_URL: is required"),
        (
            Some("mysql://x"),
            "error: DATABASE_URL: must start with postgres:// or sqlite:",
        ),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_migrations"));
        command.env_clear().arg("status");
        if let Some(url) = url {
            command.env("DATABASE_URL", url);
        }
        warden_testkit::assert_setting_refused(&command.output().unwrap(), line);
    }
}
