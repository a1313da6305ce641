//! The storage layer as an operator meets it: an earlier release's SurrealKV
//! folder is refused with the command that converts it, and `server db copy`
//! copies a whole installation and proves the copy identical.

use std::path::Path;
use std::time::{Duration, Instant};

use server::config::{DbAddress, EngineOptions};
use server::db::Database;

use super::support::{verified_account, TestServer, STRONG_PASSWORD};

const EMAIL: &str = "long.standing@example.org";

fn rocksdb(path: &Path) -> String {
    format!("rocksdb://{}", path.display())
}

/// An installation with a verified account (so consent entries, mail and
/// sign-in history exist) in `data/rocksdb`, stopped.
async fn installation() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = TestServer::start_in(root, &["--db", &rocksdb(&data.join("rocksdb"))]).await;
    let mut api = verified_account(&server, EMAIL, STRONG_PASSWORD).await;
    api.login(EMAIL, STRONG_PASSWORD, false).await.ok();
    (server.stop().await, data)
}

fn serve_config(data: &Path) -> server::config::ServeConfig {
    use clap::Parser;
    server::config::Cli::try_parse_from(["server", "--data-dir", data.to_str().unwrap()]).unwrap().serve
}

/// SurrealKV releases its lock in a background task after the last handle goes.
async fn wait_unlocked(folder: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::fs::File::open(folder.join("LOCK")).map(|f| f.try_lock().is_err()).unwrap_or(false) {
        assert!(Instant::now() < deadline, "SurrealKV kept its lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn open(address: &str) -> Database {
    let address = DbAddress::parse(address).unwrap();
    Database::connect(&address, "chatfbtop", "main", None, &EngineOptions::default()).await.unwrap()
}

#[tokio::test]
async fn an_earlier_releases_surrealkv_folder_is_refused_until_db_copy_converts_it() {
    let (root, data) = installation().await;
    // Rewrite the installation as an earlier release stored it: SurrealKV in data/db.
    let dump = root.path().join("dump.surql");
    let current = open(&rocksdb(&data.join("rocksdb"))).await;
    current.client().export_to(dump.clone()).await.unwrap();
    current.close().await;
    std::fs::remove_dir_all(data.join("rocksdb")).unwrap();
    let legacy = data.join("db");
    {
        let old = surrealdb::engine::any::connect(format!("surrealkv://{}", legacy.display())).await.unwrap();
        old.use_ns("chatfbtop").use_db("main").await.unwrap();
        old.import(&dump).await.unwrap();
    }
    wait_unlocked(&legacy).await;
    let data_arg = data.to_str().unwrap();
    let ports = |p: u16, h: u16| [p.to_string(), h.to_string()];
    let [port, http_port] = ports(super::free_port(), super::free_port());

    // Started as before, it refuses with one sentence naming the conversion.
    let (code, err) = super::run_failing(&["--data-dir", data_arg, "--port", &port, "--http-port", &http_port]);
    assert_ne!(code, 0);
    let command = format!("server db copy --from surrealkv://{} --to rocksdb://{}", legacy.display(), data.join("rocksdb").display());
    super::assert_one_clear_sentence(&err, &command);
    assert_eq!(server::db::layout::detect(&data.join("rocksdb")), server::db::layout::FolderEngine::Empty, "no empty database beside the old one");
    // Serving from SurrealKV explicitly is refused the same way.
    let (code, err) = super::run_failing(&["--data-dir", data_arg, "--db", &format!("surrealkv://{}", legacy.display())]);
    assert_ne!(code, 0);
    super::assert_one_clear_sentence(&err, "server db copy --from surrealkv://");

    // The named command converts it and proves the copy.
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    let out = super::binary(&[args.as_slice(), &["--data-dir", data_arg]].concat()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Copied and verified") && stdout.contains("consent ledger verifies"), "{stdout}");

    // The server starts on the copy, and the account is all there.
    let server = TestServer::start_in(root, &["--db", &rocksdb(&data.join("rocksdb"))]).await;
    server.client().login(EMAIL, STRONG_PASSWORD, false).await.ok();
    server.stop().await;
}

#[tokio::test]
async fn db_copy_is_identical_row_for_row_and_refuses_what_would_lose_data() {
    let (_root, data) = installation().await;
    let config = serve_config(&data);
    let source = rocksdb(&data.join("rocksdb"));
    let target = rocksdb(&data.join("copy"));

    let (to_memory, ledger) = server::copy_database(&config, &source, "mem://").await.expect("copy to mem://");
    assert!(to_memory.tables >= 20 && to_memory.rows >= 10, "{to_memory:?}");
    assert!(ledger.entries >= 2, "the consent entries came along: {}", ledger.entries);
    let (embedded, _) = server::copy_database(&config, &source, &target).await.expect("copy to another folder");
    assert_eq!(embedded, to_memory, "the same rows whichever engine receives them");

    for (from, to, why) in [
        (source.as_str(), target.as_str(), "is not empty"),
        (source.as_str(), source.as_str(), "the same database"),
        ("mem://", target.as_str(), "nothing to copy"),
    ] {
        let err = server::copy_database(&config, from, to).await.expect_err(why).to_string();
        assert!(err.contains(why), "{err}");
    }

    // Verification compares every row: one changed value in the copy is found.
    let (a, b) = (open(&source).await, open(&target).await);
    assert_eq!(server::db::copy::verify(&a, &b).await.unwrap(), embedded);
    b.client().query("UPDATE policy SET title = title + ' (changed)'").await.unwrap().check().unwrap();
    let err = server::db::copy::verify(&a, &b).await.expect_err("a changed row").to_string();
    assert!(err.contains("policy"), "{err}");
    a.close().await;
    b.close().await;
}

#[test]
fn database_credentials_go_together_from_flags_or_the_environment_before_or_after_a_subcommand() {
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str], password_env: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.args(args).args(["--data-dir", data.path().to_str().unwrap()]).env_remove("CHATFBTOP_DB_PASSWORD").env_remove("CHATFBTOP_DB_USER");
        if password_env {
            cmd.env("CHATFBTOP_DB_PASSWORD", "from-the-environment");
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Both given: the command goes on (and refuses to copy a database onto itself).
    let both = run(&["db", "copy", "--db-user", "root", "--from", "mem://", "--to", "mem://"], true);
    assert!(both.contains("the source and the target are the same database"), "{both}");
    let both_before = run(&["--db-user", "root", "db", "copy", "--from", "mem://", "--to", "mem://"], true);
    assert!(both_before.contains("the source and the target are the same database"), "{both_before}");
    let alone = run(&["db", "copy", "--db-user", "root", "--from", "rocksdb:///nonexistent/a", "--to", "mem://"], false);
    assert!(alone.contains("--db-user and --db-password go together"), "{alone}");
}
