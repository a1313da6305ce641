//! The admin action log: every admin action, newest first.

use leptos::prelude::*;

use crate::api;
use crate::auth::format_time;
use crate::pages::components::ErrorNote;

#[component]
pub(super) fn ActionLog() -> impl IntoView {
    let log = LocalResource::new(|| api::admin_actions(None));
    view! {
        <section class="card">
            <h1>"Admin action log"</h1>
            <button class="link" on:click=move |_| log.refetch()>"Refresh"</button>
            <Suspense fallback=|| ()>
                {move || log.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(rows) => view! {
                        <table data-testid="admin-actions">
                            <thead><tr><th>"When"</th><th>"Admin"</th><th>"Action"</th><th>"Account"</th><th>"Reason"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|a| view! {
                                    <tr><td>{format_time(a.at, false)}</td><td><code>{a.admin_id}</code></td><td>{a.action}</td>
                                        <td><code>{a.target_id.unwrap_or_default()}</code></td><td>{a.reason.unwrap_or_default()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
