//! The admin panel. The server checks the role on every call; hiding the
//! page from non-admins here is only a convenience.

mod breaches;
mod facebook_app;
mod log;
mod overview;
mod policies;
mod recipients;
mod users;

use leptos::prelude::*;

use crate::auth::Auth;
use crate::types::Role;
use breaches::Breaches;
use facebook_app::MessengerApp;
use log::ActionLog;
use overview::Overview;
use policies::PublishPolicy;
use recipients::Recipients;
use users::Users;

#[component]
fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let auth = Auth::get();
    let is_admin = Memo::new(move |_| auth.user.with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin)));
    view! {
        <Show when=move || is_admin.get() fallback=|| view! { <section class="card"><p class="error">"You do not have access to this."</p></section> }>
            {children()}
        </Show>
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <AdminOnly>
            <Overview />
            <Users />
            <PublishPolicy />
            <MessengerApp />
            <Recipients />
            <Breaches />
            <ActionLog />
        </AdminOnly>
    }
}
