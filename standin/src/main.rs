//! `standin`: the Graph API stand-in on its own (tests, benchmarks, Playwright).

use std::process::ExitCode;

use clap::Parser;

/// Run the local Graph API stand-in (for tests, benchmarks and demos).
#[derive(Debug, Parser)]
#[command(name = "standin", version)]
struct Cli {
    /// Address to listen on (plain HTTP, local only).
    #[arg(long, default_value = "127.0.0.1:28600")]
    listen: std::net::SocketAddr,
    /// The Facebook app secret it signs simulated webhook deliveries with.
    #[arg(long, env = "CHATFBTOP_STANDIN_APP_SECRET", hide_env_values = true)]
    app_secret: Option<String>,
    /// The app's webhook, where simulated leads post their messages.
    #[arg(long)]
    webhook_url: Option<String>,
    /// Facebook Login mints a demo Page per sign-in, and simulated leads write to it.
    #[arg(long)]
    demo_pages: bool,
    /// The token its control endpoints (`/_standin/...`) want in `x-standin-token`; random and printed when not given.
    #[arg(long, env = "CHATFBTOP_STANDIN_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime ({e})");
            return ExitCode::FAILURE;
        }
    };
    let given = cli.control_token.is_some();
    let config = standin::StandinConfig { app_secret: cli.app_secret, webhook_url: cli.webhook_url, demo: cli.demo_pages, control_token: cli.control_token };
    runtime.block_on(async move {
        let running = match standin::Standin::start(cli.listen, config).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("error: the stand-in could not listen on {} ({e})", cli.listen);
                return ExitCode::FAILURE;
            }
        };
        println!("Graph API stand-in on {}", running.base_url());
        if !given {
            println!("Control token (send it as x-standin-token to /_standin/...): {}", running.state.control_token());
        }
        shutdown_signal().await;
        running.stop();
        ExitCode::SUCCESS
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
