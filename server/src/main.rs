use std::process::ExitCode;

use clap::Parser;
use server::config::{AdminCommand, Cli, Command, ConsentCommand, DbCommand, KeysCommand, PolicyCommand, SiteCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    server::init_logging(server::DEFAULT_LOG_FILTER);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime ({e})");
            return ExitCode::FAILURE;
        }
    };
    let config = cli.serve;
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve(config)),
        Command::Keys(KeysCommand::Rotate) => runtime.block_on(server::rotate_keys(&config)).map(|moved| {
            println!("Master key rotated: {moved} stored keys re-wrapped. The old key is no longer in the key file.");
        }),
        Command::Admin(AdminCommand::Create { email }) => runtime.block_on(server::create_admin(&config, &email)).map(|one_time_password| {
            println!("Admin created. One-time password (shown only now; it must be changed at first sign-in):");
            println!("{one_time_password}");
        }),
        Command::Policy(PolicyCommand::Publish { document, title, body_file, summary }) => match std::fs::read_to_string(&body_file) {
            Ok(body) => runtime.block_on(server::publish_policy(&config, &document, &title, &body, &summary)).map(|(version, mailed)| {
                println!("Published {document} version {version}; {mailed} notices queued.");
            }),
            Err(e) => {
                eprintln!("error: the policy text {} could not be read ({e})", body_file.display());
                return ExitCode::FAILURE;
            }
        },
        Command::Db(DbCommand::Copy { from, to }) => runtime.block_on(server::copy_database(&config, &from, &to)).map(|(copied, ledger)| {
            println!(
                "Copied and verified {} rows in {} tables; the consent ledger verifies on the copy ({} entries).",
                copied.rows, copied.tables, ledger.entries
            );
        }),
        Command::Site(SiteCommand::Precompress) => {
            let site = &config.site_dir;
            match server::http::precompress::precompress(site).and_then(|done| server::http::precompress::describe(site, &done)) {
                Ok(lines) => {
                    println!("Compressed {}:\n{}", site.display(), lines.join("\n"));
                    Ok(())
                }
                Err(e) => {
                    eprintln!("error: the built frontend in {} could not be compressed ({e})", site.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        Command::Consent(ConsentCommand::Verify) => match runtime.block_on(server::verify_consents(&config)) {
            Ok(report) if report.problems.is_empty() => {
                println!("Consent ledger intact: {} entries across {} accounts.", report.entries, report.accounts);
                Ok(())
            }
            Ok(report) => {
                for problem in &report.problems {
                    println!("{problem}");
                }
                eprintln!("error: the consent ledger was tampered with ({} problems)", report.problems.len());
                return ExitCode::FAILURE;
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: server::config::ServeConfig) -> Result<(), server::error::StartupError> {
    let running = server::start(&config).await?;
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down"),
        _ = running.listener_stopped() => tracing::error!("a listener stopped unexpectedly; shutting down"),
    }
    running.shutdown(config.shutdown_grace()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "SIGTERM handler unavailable; only Ctrl-C stops the server");
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
