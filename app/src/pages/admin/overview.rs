//! The overview: the server, policy acceptance, the last purge.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::auth::format_time;
use crate::pages::components::ErrorNote;
use crate::types::DatabaseState;

#[component]
pub(super) fn Overview() -> impl IntoView {
    let overview = LocalResource::new(api::admin_overview);
    view! {
        <section class="card">
            <h1>"Admin"</h1>
            <p><A href="/admin/processing">"Record of processing activities"</A></p>
            <ServerStatusCard />
            <Suspense fallback=|| ()>
                {move || overview.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(o) => view! {
                        {(o.password_age_days > 90).then(|| view! {
                            <p class="notice" role="alert" data-testid="password-age-warning">
                                "Your password is " {o.password_age_days} " days old. Change it, especially after a handover."
                            </p>
                        })}
                        <h2>"Policy acceptance"</h2>
                        <ul data-testid="acceptance">
                            {o.acceptance.into_iter().map(|a| view! {
                                <li>{a.document} " version " {a.version} ": " {a.accounts} " accounts"</li>
                            }).collect_view()}
                        </ul>
                        <p data-testid="last-purge">{match o.last_purge {
                            Some(p) => format!(
                                "Last purge {}: {} sign-ins, {} sessions, {} links, {} unverified accounts, {} exports, {} inactive leads, {} old messages deleted.",
                                format_time(p.at, false), p.signins, p.sessions, p.links, p.unverified_accounts, p.exports, p.leads, p.messages
                            ),
                            None => "The purge job has not run yet.".to_string(),
                        }}</p>
                        <p data-testid="dropped-events">{format!(
                            "Webhook events for Pages nobody connected (dropped since the server started): {}.",
                            o.dropped_webhook_events
                        )}</p>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// The version, database and schema this server runs.
#[component]
fn ServerStatusCard() -> impl IntoView {
    let status = crate::pages::Status::get().0;
    view! {
        <h2>"Server"</h2>
        <Suspense fallback=|| view! { <p data-testid="status-loading">"Checking the server…"</p> }>
            {move || status.get().map(|result| match result {
                Ok(s) => {
                    let database = match s.database {
                        DatabaseState::Ok => "ready",
                        DatabaseState::Unavailable => "unavailable",
                    };
                    view! {
                        <dl data-testid="server-status">
                            <dt>"Version"</dt>
                            <dd data-testid="status-version">{s.version}</dd>
                            <dt>"Database"</dt>
                            <dd data-testid="status-database">{database}</dd>
                            <dt>"Schema"</dt>
                            <dd data-testid="status-schema">{s.schema_version}</dd>
                        </dl>
                    }.into_any()
                }
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
            })}
        </Suspense>
    }
}
