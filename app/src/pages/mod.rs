//! The SPA shell and its routes, one module per area.

mod account;
mod admin;
mod auth;
mod broadcasts;
mod campaign_report;
mod components;
mod composer;
mod conversation;
mod dashboard;
mod home;
mod inbox;
mod leads;
mod messenger;
mod not_found;
pub(crate) mod privacy;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_navigate;
use leptos_router::path;

pub use home::HomePage;
pub use not_found::NotFoundPage;

use crate::auth::Auth;
use crate::types::ServerStatus;

/// The server's status, asked once per load and shared by every part that
/// shows it (the demo banner, the admin overview).
#[derive(Clone, Copy)]
pub struct Status(pub LocalResource<Result<ServerStatus, crate::error::AppError>>);

impl Status {
    fn provide() {
        provide_context(Status(LocalResource::new(crate::api::server_status)));
    }

    pub fn get() -> Self {
        expect_context()
    }
}

/// Pages a lead opens from a message: they stand alone, with no app
/// navigation, since a lead has no account here.
fn lead_facing(path: &str) -> bool {
    path.starts_with("/u/")
}

#[component]
pub fn App() -> impl IntoView {
    let auth = Auth::provide();
    Status::provide();
    let filters = leads::LeadFilters::provide();
    // Whoever signs in next starts with an unfiltered leads list: cleared
    // when a signed-in user signs out or another signs in, never at the
    // first load (a `?page=` link has just chosen its Page then).
    Effect::new(move |previous: Option<Option<String>>| {
        let who = auth.user.with(|u| u.as_ref().map(|u| u.email.clone()));
        if previous.is_some_and(|p| p.is_some() && p != who) {
            filters.clear();
        }
        who
    });
    view! {
        <Router>
            <Shell />
        </Router>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let for_lead = move || lead_facing(&location.pathname.get());
    let main = NodeRef::<leptos::html::Main>::new();
    // Focus is moved by hand: the router would take "#main" for a navigation.
    let skip = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        if let Some(main) = main.get() {
            let _ = main.focus();
        }
    };
    view! {
        // The first thing a keyboard reaches: straight to the page's content.
        <a class="skip-link" href="#main" on:click=skip>"Skip to content"</a>
        <Show when=move || !for_lead()>
            <Header />
        </Show>
        <DemoBanner />
        <Show when=move || !for_lead()>
            <privacy::StorageOffer />
        </Show>
        <main class="site-main" id="main" tabindex="-1" node_ref=main>
            <Gated />
        </main>
        <footer class="site-footer">
            <p>"Self-hosted. No analytics, no third-party requests. " <A href="/privacy">"Privacy"</A></p>
        </footer>
    }
}

/// The routes, or the policy gate while a policy change waits for a
/// decision (the data page stays open: export and deletion are choices too).
#[component]
fn Gated() -> impl IntoView {
    let auth = Auth::get();
    let location = leptos_router::hooks::use_location();
    let gated = move || {
        let pending = auth.user.with(|u| u.as_ref().is_some_and(|u| !u.pending_policies.is_empty() && !u.must_change_password));
        let path = location.pathname.get();
        pending && path != "/account/privacy" && !lead_facing(&path)
    };
    view! {
        <Show when=gated fallback=|| view! { <AppRoutes /> }>
            <privacy::PolicyGate />
        </Show>
    }
}

#[component]
fn AppRoutes() -> impl IntoView {
    view! {
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/register") view=auth::RegisterPage />
                    <Route path=path!("/login") view=auth::LoginPage />
                    <Route path=path!("/verify-email") view=auth::VerifyEmailPage />
                    <Route path=path!("/forgot-password") view=auth::ForgotPasswordPage />
                    <Route path=path!("/reset-password") view=auth::ResetPasswordPage />
                    <Route path=path!("/confirm-email") view=auth::ConfirmEmailPage />
                    <Route path=path!("/account") view=account::AccountPage />
                    <Route path=path!("/account/security") view=account::SecurityPage />
                    <Route path=path!("/account/privacy") view=privacy::PrivacyDashboardPage />
                    <Route path=path!("/goodbye") view=privacy::GoodbyePage />
                    <Route path=path!("/privacy") view=privacy::PublicPrivacyPage />
                    <Route path=path!("/terms") view=privacy::TermsPage />
                    <Route path=path!("/admin") view=|| view! { <admin::AdminPage section=admin::Section::Overview /> } />
                    <Route path=path!("/admin/users") view=|| view! { <admin::AdminPage section=admin::Section::Users /> } />
                    <Route path=path!("/admin/policies") view=|| view! { <admin::AdminPage section=admin::Section::Policies /> } />
                    <Route path=path!("/admin/recipients") view=|| view! { <admin::AdminPage section=admin::Section::Recipients /> } />
                    <Route path=path!("/admin/breaches") view=|| view! { <admin::AdminPage section=admin::Section::Breaches /> } />
                    <Route path=path!("/admin/retention") view=|| view! { <admin::AdminPage section=admin::Section::Retention /> } />
                    <Route path=path!("/admin/facebook-app") view=|| view! { <admin::AdminPage section=admin::Section::FacebookApp /> } />
                    <Route path=path!("/admin/log") view=|| view! { <admin::AdminPage section=admin::Section::Log /> } />
                    <Route path=path!("/admin/processing") view=privacy::ProcessingRecordPage />
                    <Route path=path!("/pages") view=messenger::PagesPage />
                    <Route path=path!("/pages/facebook") view=messenger::FacebookCallbackPage />
                    <Route path=path!("/leads") view=leads::LeadsPage />
                    <Route path=path!("/inbox/:lead?") view=inbox::InboxPage />
                    <Route path=path!("/data-deletion") view=messenger::DeletionStatusPage />
                    <Route path=path!("/campaigns") view=broadcasts::CampaignsPage />
                    <Route path=path!("/campaigns/:id") view=broadcasts::CampaignPage />
                    <Route path=path!("/u/:token") view=broadcasts::UnsubscribePage />
                </Routes>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let logout = Action::new_local(|_: &()| crate::api::logout());
    Effect::new(move |_| {
        // Whatever the server answered, this browser forgets everything.
        if logout.value().get().is_some() {
            auth.signed_out();
            navigate("/login", Default::default());
        }
    });
    // On a phone the navigation folds behind a menu button; any move closes it.
    let menu_open = RwSignal::new(false);
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Chat FB Top"</A>
            <button class="menu-button" aria-controls="site-nav" aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|open| *open = !*open)>"Menu"</button>
            <nav id="site-nav" class:open=move || menu_open.get()>
                {move || match auth.user.get() {
                    Some(user) => view! {
                        <A href="/inbox">"Inbox"</A>
                        <A href="/pages" exact=true>"Pages"</A>
                        <A href="/leads" exact=true>"Leads"</A>
                        <A href="/campaigns" exact=true>"Campaigns"</A>
                        <span class="who" data-testid="signed-in-as">{user.display_name.clone().unwrap_or(user.email.clone())}</span>
                        <A href="/account/privacy" exact=true>"Your data"</A>
                        <A href="/account/security" exact=true>"Security"</A>
                        <A href="/account" exact=true>"Account"</A>
                        {(user.role == crate::types::Role::Admin).then(|| view! { <A href="/admin" exact=true>"Admin"</A> })}
                        <button class="link" data-testid="sign-out" on:click=move |_| { logout.dispatch_local(()); }>"Sign out"</button>
                    }.into_any(),
                    None => view! {
                        <A href="/login" exact=true>"Sign in"</A>
                        <A href="/register" exact=true>"Create account"</A>
                    }.into_any(),
                }}
            </nav>
        </header>
    }
}

/// Demo mode is always visible: nothing here reaches Facebook.
#[component]
fn DemoBanner() -> impl IntoView {
    let status = Status::get().0;
    move || {
        status.get().and_then(|r| r.ok()).filter(|s| s.demo).map(|_| {
            view! {
                <p class="demo-banner" role="note" data-testid="demo-banner">
                    "Demo mode: Facebook is simulated by a built-in stand-in. Nothing is sent to real people."
                </p>
            }
        })
    }
}
