//! Registration, sign-in, email verification and password reset.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::components::{outcome, query_token, run_with_link_token, Why};
use crate::api;
use crate::auth::Auth;
use crate::error::AppError;
use crate::types::{LoginInput, PolicyVersion, RegisterInput};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let accept = RwSignal::new(false);
    // The versions shown here are the ones the consent records.
    let policies = LocalResource::new(api::current_policies);
    let shown = move || {
        let current = policies.get().and_then(|r| r.ok()).unwrap_or_default();
        current.into_iter().map(|p| PolicyVersion { document: p.document, version: p.version }).collect::<Vec<_>>()
    };
    let action = Action::new_local(|input: &RegisterInput| api::register(input.clone()));
    Effect::new(move |_| {
        // A version published while the form was open: show the new one.
        if let Some(Err(AppError::PolicyChangedMeanwhile)) = action.value().get() {
            policies.refetch();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = display_name.get_untracked();
        action.dispatch_local(RegisterInput {
            email: email.get_untracked(),
            password: password.get_untracked(),
            display_name: (!name.trim().is_empty()).then_some(name),
            accepted: if accept.get_untracked() { shown() } else { Vec::new() },
        });
    };
    view! {
        <section class="card narrow">
            <h1>"Create an account"</h1>
            <p class="lead">"We ask for as little as we can, and say below who else receives any of it."</p>
            <form on:submit=submit>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="email" required bind:value=email />
                <Why text="to sign you in and to send you account notices. Never marketing." />

                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="new-password" required bind:value=password />
                <Why text="to protect your account. We store only an Argon2id hash of it." />

                <label for="display_name">"Display name (optional)"</label>
                <input id="display_name" type="text" autocomplete="nickname" maxlength="100" bind:value=display_name />
                <Why text="only to greet you in the app. Leave it empty if you prefer." />

                <Suspense fallback=|| ()>
                    {move || policies.get().and_then(|r| r.ok()).map(|current| current.into_iter().map(|p| view! {
                        <details data-testid="policy-shown">
                            <summary>{p.title} " (version " {p.version} ")"</summary>
                            <p class="policy-body">{p.body}</p>
                        </details>
                    }).collect_view())}
                </Suspense>
                <label class="check">
                    <input id="accept" type="checkbox" bind:checked=accept />
                    "I accept the " <a href="/terms#terms" target="_blank" rel="noopener">"terms of use"</a>
                    " and the " <a href="/terms#privacy" target="_blank" rel="noopener">"privacy policy"</a> "."
                </label>
                <Why text="we record which versions you accepted, and when, in your consent ledger." />
                <small><A href="/privacy">"Read what we store, why, and for how long"</A></small>

                <button type="submit" disabled=move || action.pending().get() || shown().is_empty()>"Create account"</button>
            </form>
            {outcome(action.value(), move |_| view! {
                <p class="success" role="status" data-testid="register-done">
                    "Check your inbox: we sent a link to verify your email address. It is valid for 24 hours. \
                     An account whose address is not verified within 7 days is deleted."
                </p>
                <ResendVerification email=email />
            }.into_any())}
            <super::privacy::RecipientList />
            <p>"Already registered? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let keep = RwSignal::new(false);
    let action = Action::new_local(|input: &LoginInput| api::login(input.clone()));
    Effect::new(move |_| {
        if let Some(Ok(user)) = action.value().get() {
            let target = if user.must_change_password { "/account" } else { "/" };
            auth.user.set(Some(user));
            navigate(target, Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch_local(LoginInput { email: email.get_untracked(), password: password.get_untracked(), keep_signed_in: keep.get_untracked() });
    };
    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <form on:submit=submit>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="username" required bind:value=email />
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="current-password" required bind:value=password />
                <label class="check">
                    <input id="keep" type="checkbox" bind:checked=keep />
                    "Keep me signed in for 30 days"
                </label>
                <Why text="off, you are signed out when the browser closes or after 30 idle minutes." />
                <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
            </form>
            {outcome(action.value(), |_| ().into_any())}
            {move || matches!(action.value().get(), Some(Err(AppError::EmailNotVerified))).then(|| view! { <ResendVerification email=email /> })}
            <p><A href="/forgot-password">"Forgot your password?"</A></p>
            <p>"New here? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}

/// "Send the verification mail again", for the address typed above it. The
/// answer is the same whether or not that address has an unverified account.
#[component]
fn ResendVerification(email: RwSignal<String>) -> impl IntoView {
    let resend = Action::new_local(|email: &String| api::resend_verification(email.clone()));
    view! {
        <p>
            "No mail? "
            <button type="button" class="link" data-testid="resend-verification" disabled=move || resend.pending().get()
                on:click=move |_| { resend.dispatch_local(email.get_untracked()); }>
                "Send the verification link again"
            </button>
        </p>
        {outcome(resend.value(), |_| view! {
            <p class="success" role="status" data-testid="verification-resent">
                "If this address has an account waiting for verification, a new link is on its way. Earlier links no longer work."
            </p>
        }.into_any())}
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let auth = Auth::get();
    let action = run_with_link_token(api::verify_email);
    // The browser that registered is signed in by its link.
    Effect::new(move |_| {
        if let Some(Ok(Some(user))) = action.value().get() {
            auth.user.set(Some(user));
        }
    });
    view! {
        <section class="card narrow">
            <h1>"Verify your email"</h1>
            {move || action.pending().get().then(|| view! { <p>"Checking your link…"</p> })}
            {outcome(action.value(), |signed_in| match signed_in {
                Some(_) => view! {
                    <p class="success" role="status" data-testid="verified">
                        "Your email address is verified, and you are signed in. " <A href="/">"Get started"</A>
                    </p>
                }.into_any(),
                None => view! {
                    <p class="success" role="status" data-testid="verified">
                        "Your email address is verified. " <A href="/login">"Sign in"</A>
                    </p>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let action = Action::new_local(|email: &String| api::request_password_reset(email.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch_local(email.get_untracked());
    };
    view! {
        <section class="card narrow">
            <h1>"Reset your password"</h1>
            <form on:submit=submit>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="email" required bind:value=email />
                <Why text="to send the reset link to the address of your account." />
                <button type="submit" disabled=move || action.pending().get()>"Send the link"</button>
            </form>
            {outcome(action.value(), |_| view! {
                <p class="success" role="status">
                    "If an account uses this address, a reset link is on its way. It works once, for one hour."
                </p>
            }.into_any())}
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = query_token();
    let password = RwSignal::new(String::new());
    let action = Action::new_local(|(token, password): &(String, String)| api::reset_password(token.clone(), password.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch_local((token.get_untracked(), password.get_untracked()));
    };
    view! {
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            <form on:submit=submit>
                <label for="password">"New password"</label>
                <input id="password" type="password" autocomplete="new-password" required bind:value=password />
                <Why text="it replaces your old one; every session is signed out." />
                <button type="submit" disabled=move || action.pending().get()>"Set the password"</button>
            </form>
            {outcome(action.value(), |_| view! {
                <p class="success" role="status">"Your password was changed. " <A href="/login">"Sign in"</A></p>
            }.into_any())}
        </section>
    }
}

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let action = run_with_link_token(api::confirm_email_change);
    view! {
        <section class="card narrow">
            <h1>"Confirm your new email"</h1>
            {outcome(action.value(), |_| view! {
                <p class="success" role="status">"Your email address was changed."</p>
            }.into_any())}
        </section>
    }
}
