//! The admin panel, one route per section. The server checks the role on
//! every call; hiding the pages from non-admins here is only a convenience.

mod breaches;
mod facebook_app;
mod log;
mod overview;
mod policies;
mod recipients;
mod retention;
mod users;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::Auth;
use crate::types::Role;
use breaches::Breaches;
use facebook_app::MessengerApp;
use log::ActionLog;
use overview::Overview;
use policies::PublishPolicy;
use recipients::Recipients;
use retention::Retention;
use users::Users;

/// The admin panel's sections, each on its own route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Overview,
    Users,
    Policies,
    Recipients,
    Breaches,
    Retention,
    FacebookApp,
    Log,
}

impl Section {
    const ALL: [Section; 8] =
        [Section::Overview, Section::Users, Section::Policies, Section::Recipients, Section::Breaches, Section::Retention, Section::FacebookApp, Section::Log];

    fn path(self) -> &'static str {
        match self {
            Section::Overview => "/admin",
            Section::Users => "/admin/users",
            Section::Policies => "/admin/policies",
            Section::Recipients => "/admin/recipients",
            Section::Breaches => "/admin/breaches",
            Section::Retention => "/admin/retention",
            Section::FacebookApp => "/admin/facebook-app",
            Section::Log => "/admin/log",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Users => "Users",
            Section::Policies => "Policies",
            Section::Recipients => "Recipients",
            Section::Breaches => "Breaches",
            Section::Retention => "Retention",
            Section::FacebookApp => "Facebook app",
            Section::Log => "Action log",
        }
    }
}

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
pub fn AdminPage(section: Section) -> impl IntoView {
    view! {
        <AdminOnly>
            <nav class="admin-nav" aria-label="Admin sections">
                {Section::ALL.into_iter().map(|s| view! { <A href=s.path() exact=true>{s.title()}</A> }).collect_view()}
            </nav>
            {match section {
                Section::Overview => view! { <Overview /> }.into_any(),
                Section::Users => view! { <Users /> }.into_any(),
                Section::Policies => view! { <PublishPolicy /> }.into_any(),
                Section::Recipients => view! { <Recipients /> }.into_any(),
                Section::Breaches => view! { <Breaches /> }.into_any(),
                Section::Retention => view! { <Retention /> }.into_any(),
                Section::FacebookApp => view! { <MessengerApp /> }.into_any(),
                Section::Log => view! { <ActionLog /> }.into_any(),
            }}
        </AdminOnly>
    }
}
