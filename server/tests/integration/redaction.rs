//! Database addresses with credentials are never shown: not by `--help`
//! when they come from the environment, not when the database cannot be
//! opened, not when `db copy` fails. Run as the built binary.

use super::{binary, free_port};

const DB_URL: &str = "ws://dbuser:db%2Fsecret-1@127.0.0.1:{port}";
/// Every form the address's credentials and the separate password take.
const SECRETS: [&str; 6] = ["db%2Fsecret-1", "db/secret-1", "dbuser:", "db-secret-2", "master-secret-3", "mail-secret-4"];

fn with_secrets_in_the_environment(args: &[&str], port: u16) -> std::process::Command {
    let mut command = binary(args);
    command
        .env("CHATFBTOP_DB", DB_URL.replace("{port}", &port.to_string()))
        .env("CHATFBTOP_DB_USER", "root")
        .env("CHATFBTOP_DB_PASSWORD", "db-secret-2")
        .env("CHATFBTOP_MASTER_KEY", "master-secret-3")
        .env("CHATFBTOP_SMTP_URL", "smtp://mailer:mail-secret-4@127.0.0.1:2525");
    command
}

fn assert_withheld(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
}

#[test]
fn help_never_shows_a_database_address_or_a_secret_from_the_environment() {
    for args in [&["--help"][..], &["db", "copy", "--help"], &["serve", "--help"]] {
        let out = with_secrets_in_the_environment(args, 8000).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("CHATFBTOP_DB") && help.contains("CHATFBTOP_SMTP_URL"), "{args:?}: the variables are named: {help}");
        assert_withheld(&format!("{args:?}"), &help);
    }
}

#[test]
fn a_database_that_cannot_be_opened_or_copied_is_named_without_its_credentials() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let port = free_port();
    // Serving from a remote database nobody answers for.
    let out = with_secrets_in_the_environment(&["--data-dir", data.to_str().unwrap(), "--port", "0", "--no-http-redirect"], port).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("[credentials withheld]@127.0.0.1:{port}")), "{stderr}");
    assert_withheld("a failed start", &stderr);

    // Copying into one.
    let source = root.path().join("source");
    let to = DB_URL.replace("{port}", &port.to_string());
    let args = ["--data-dir", data.to_str().unwrap(), "db", "copy", "--from", &format!("rocksdb://{}", source.display()), "--to", &to];
    let out = with_secrets_in_the_environment(&args, port).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
    assert_withheld("a failed copy", &stderr);
}
