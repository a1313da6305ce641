//! The home page: what the product is and how to start, for visitors; a
//! greeting and the dashboard for the signed-in.

use leptos::prelude::*;
use leptos_router::components::A;

use super::dashboard::Dashboard;
use crate::auth::Auth;

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = Auth::get();
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
        <Show when=move || auth.user.with(|u| u.is_none())>
            <Introduction />
        </Show>
        // Not while a one-time password must be changed first.
        <Show when=move || auth.user.with(|u| u.as_ref().is_some_and(|u| !u.must_change_password))>
            <Dashboard />
        </Show>
    }
}

/// For visitors: what the app does, what it promises, and the first steps.
#[component]
fn Introduction() -> impl IntoView {
    view! {
        <section class="card" data-testid="introduction">
            <h2>"What it does"</h2>
            <ul>
                <li>"Answer the people who write to your Facebook Pages, in one inbox."</li>
                <li>"Everyone who writes to you becomes a lead, with signed proof that they started the conversation."</li>
                <li>"Send campaigns to your leads within Meta's rules: the 24-hour window, and an unsubscribe link in every message."</li>
            </ul>
            <h2>"What it promises"</h2>
            <p>"Personal data is encrypted at rest, nothing is sent to analytics or any other third party, \
                and every person can export or erase their data. " <A href="/privacy">"See exactly what is stored"</A> "."</p>
            <h2>"How to start"</h2>
            <ol data-testid="how-to-start">
                <li><A href="/register">"Create an account"</A> " and verify your email address."</li>
                <li>"Connect a Facebook Page you manage."</li>
                <li>"Answer the people who write to it, then send your first campaign."</li>
            </ol>
        </section>
    }
}
