use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::server_status;
use crate::auth::Auth;
use crate::types::DatabaseState;

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = Auth::get();
    let status = LocalResource::new(server_status);

    view! {
        <section class="hero">
            <h1>"Chat FB Top"</h1>
            <p>"Messenger marketing for your Facebook Pages, with every privacy promise kept in code."</p>
            {move || match auth.user.get() {
                Some(user) => view! {
                    <p data-testid="welcome">"Welcome, " {user.display_name.unwrap_or(user.email)} "."</p>
                }.into_any(),
                None => view! {
                    <p><A href="/register">"Create an account"</A> " or " <A href="/login">"sign in"</A> "."</p>
                }.into_any(),
            }}
        </section>
        <section class="card" aria-live="polite">
            <h2>"Server status"</h2>
            <Suspense fallback=|| view! { <p data-testid="status-loading">"Checking the server…"</p> }>
                {move || {
                    status
                        .get()
                        .map(|result| match result {
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
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}
