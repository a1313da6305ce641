//! The SPA shell and its routes, one module per area.

mod account;
mod admin;
mod auth;
mod broadcasts;
mod components;
mod home;
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

#[component]
pub fn App() -> impl IntoView {
    Auth::provide();
    view! {
        <Router>
            <Header />
            <DemoBanner />
            <privacy::StorageOffer />
            <main class="site-main">
                <Gated />
            </main>
            <footer class="site-footer">
                <p>"Self-hosted. No analytics, no third-party requests. " <A href="/privacy">"Privacy"</A></p>
            </footer>
        </Router>
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
        pending && location.pathname.get() != "/account/privacy"
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
                    <Route path=path!("/admin") view=admin::AdminPage />
                    <Route path=path!("/admin/processing") view=privacy::ProcessingRecordPage />
                    <Route path=path!("/pages") view=messenger::PagesPage />
                    <Route path=path!("/pages/facebook") view=messenger::FacebookCallbackPage />
                    <Route path=path!("/leads") view=messenger::LeadsPage />
                    <Route path=path!("/inbox/:lead") view=messenger::ConversationPage />
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
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Chat FB Top"</A>
            <nav>
                {move || match auth.user.get() {
                    Some(user) => view! {
                        <A href="/pages">"Pages"</A>
                        <A href="/leads">"Leads"</A>
                        <A href="/campaigns">"Campaigns"</A>
                        <span class="who" data-testid="signed-in-as">{user.display_name.clone().unwrap_or(user.email.clone())}</span>
                        <A href="/account/privacy">"Your data"</A>
                        <A href="/account/security">"Security"</A>
                        <A href="/account">"Account"</A>
                        {(user.role == crate::types::Role::Admin).then(|| view! { <A href="/admin">"Admin"</A> })}
                        <button class="link" data-testid="sign-out" on:click=move |_| { logout.dispatch_local(()); }>"Sign out"</button>
                    }.into_any(),
                    None => view! {
                        <A href="/login">"Sign in"</A>
                        <A href="/register">"Create account"</A>
                    }.into_any(),
                }}
            </nav>
        </header>
    }
}

/// Demo mode is always visible: nothing here reaches Facebook.
#[component]
fn DemoBanner() -> impl IntoView {
    let status = LocalResource::new(crate::api::server_status);
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
