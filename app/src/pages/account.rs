//! The signed-in user's account: password, email, device settings, and the
//! Security page with sign-in history and sessions.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::components::{outcome, ErrorNote, Why};
use crate::api;
use crate::auth::{format_time, Auth};
use crate::client_storage;

/// Shows its children only to a signed-in user; others are sent to sign in.
#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    // Only the first answer decides: later sign-outs navigate on their own.
    Effect::new(move |_| {
        if auth.checked.get() && auth.user.with_untracked(|u| u.is_none()) {
            navigate("/login", Default::default());
        }
    });
    // A memo, so that edits to the user (say, a paid password change) do not rebuild the page.
    let signed_in = Memo::new(move |_| auth.user.with(|u| u.is_some()));
    move || signed_in.get().then(|| children())
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <ChangePassword />
            <ChangeEmail />
            <DeviceSettings />
        </RequireSignIn>
    }
}

#[component]
fn ChangePassword() -> impl IntoView {
    let auth = Auth::get();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let action = Action::new_local(|(c, n): &(String, String)| api::change_password(c.clone(), n.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            auth.user.update(|u| {
                if let Some(u) = u {
                    u.must_change_password = false;
                }
            });
            current.set(String::new());
            new.set(String::new());
        }
    });
    let must_change = move || auth.user.get().is_some_and(|u| u.must_change_password);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch_local((current.get_untracked(), new.get_untracked()));
    };
    view! {
        <section class="card">
            <h1>"Your account"</h1>
            {move || must_change().then(|| view! {
                <p class="notice" role="alert">"This is a one-time password: choose your own before you continue."</p>
            })}
            <h2>"Change your password"</h2>
            <form on:submit=submit>
                <label for="current_password">"Current password"</label>
                <input id="current_password" type="password" autocomplete="current-password" required bind:value=current />
                <Why text="to confirm it is really you." />
                <label for="new_password">"New password"</label>
                <input id="new_password" type="password" autocomplete="new-password" required bind:value=new />
                <Why text="every other session is signed out, and we mail you a notice." />
                <button type="submit" disabled=move || action.pending().get()>"Change password"</button>
            </form>
            {outcome(action.value(), |_| view! {
                <p class="success" role="status" data-testid="password-changed">
                    "Your password was changed. Other sessions were signed out."
                </p>
            }.into_any())}
        </section>
    }
}

#[component]
fn ChangeEmail() -> impl IntoView {
    let new_email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let action = Action::new_local(|(e, p): &(String, String)| api::request_email_change(e.clone(), p.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch_local((new_email.get_untracked(), password.get_untracked()));
    };
    view! {
        <section class="card">
            <h2>"Change your email"</h2>
            <form on:submit=submit>
                <label for="new_email">"New email"</label>
                <input id="new_email" type="email" autocomplete="email" required bind:value=new_email />
                <Why text="we send a confirmation link there; your old address gets a notice." />
                <label for="email_password">"Password"</label>
                <input id="email_password" type="password" autocomplete="current-password" required bind:value=password />
                <Why text="to confirm it is really you." />
                <button type="submit" disabled=move || action.pending().get()>"Send confirmation link"</button>
            </form>
            {outcome(action.value(), |_| view! {
                <p class="success" role="status">"Check the new inbox for a confirmation link (valid 24 hours)."</p>
            }.into_any())}
        </section>
    }
}

#[component]
pub fn Notifications() -> impl IntoView {
    let current = LocalResource::new(api::notification_settings);
    let save = Action::new_local(|s: &crate::types::NotificationSettings| api::set_notification_settings(*s));
    view! {
        <section class="card">
            <h2>"Mail notifications"</h2>
            <p>"Security notices (password or email changed, password reset, account deleted) are always sent."</p>
            <Suspense fallback=|| ()>
                {move || current.get().and_then(|r| r.ok()).map(|initial| {
                    let settings = RwSignal::new(initial);
                    let toggle = move |field: fn(&mut crate::types::NotificationSettings) -> &mut bool| {
                        move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            settings.update(|s| *field(s) = on);
                            save.dispatch_local(settings.get_untracked());
                        }
                    };
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=initial.new_signin on:change=toggle(|s| &mut s.new_signin) />
                            "A sign-in from a new device or network"
                        </label>
                        <label class="check">
                            <input type="checkbox" prop:checked=initial.policy_updates on:change=toggle(|s| &mut s.policy_updates) />
                            "Updates to the terms or the privacy policy"
                        </label>
                        <label class="check">
                            <input type="checkbox" prop:checked=initial.export_ready on:change=toggle(|s| &mut s.export_ready) />
                            "My data export is ready"
                        </label>
                    }
                })}
            </Suspense>
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </section>
    }
}

#[component]
fn DeviceSettings() -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let remember = RwSignal::new(client_storage::enabled());
    let everywhere = Action::new_local(|_: &()| api::logout_everywhere());
    Effect::new(move |_| {
        if let Some(Ok(())) = everywhere.value().get() {
            auth.signed_out();
            navigate("/login", Default::default());
        }
    });
    view! {
        <section class="card">
            <h2>"This device"</h2>
            <label class="check">
                <input
                    id="remember_settings"
                    type="checkbox"
                    prop:checked=remember
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        client_storage::set_enabled(on);
                        remember.set(on);
                    }
                />
                "Remember my settings on this device"
            </label>
            <Why text="off, this app keeps nothing in your browser's storage." />
            <h2>"Sign out everywhere"</h2>
            <p>"Ends every session of your account, on every device, including this one."</p>
            <button class="danger" on:click=move |_| { everywhere.dispatch_local(()); }>"Sign out everywhere"</button>
            {move || everywhere.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </section>
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <SecurityOverviewView />
        </RequireSignIn>
    }
}

#[component]
pub fn SecurityOverviewView() -> impl IntoView {
    let overview = LocalResource::new(api::security_overview);
    let utc = RwSignal::new(client_storage::load("time_zone").as_deref() == Some("utc"));
    let revoke = Action::new_local(|id: &String| api::revoke_session(id.clone()));
    Effect::new(move |_| {
        if revoke.value().get().is_some() {
            overview.refetch();
        }
    });
    view! {
        <section class="card">
            <h1>"Security"</h1>
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=utc
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        client_storage::save("time_zone", if on { "utc" } else { "local" });
                        utc.set(on);
                    }
                />
                "Show times in UTC"
            </label>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || overview.get().map(|result| match result {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(o) => {
                        let utc = utc.get();
                        view! {
                            <h2>"Sign-in history"</h2>
                            <p data-testid="retention">
                                "We keep the time, IP address and browser family of each sign-in for "
                                {o.retention_days}
                                " days, only to protect your account: you can spot a sign-in that was not you. Then it is deleted."
                            </p>
                            <table data-testid="signin-history">
                                <thead><tr><th>"When"</th><th>"IP address"</th><th>"Browser"</th></tr></thead>
                                <tbody>
                                    {o.signins.into_iter().map(|s| view! {
                                        <tr><td>{format_time(s.at, utc)}</td><td>{s.ip}</td><td>{s.user_agent}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2>"Active sessions"</h2>
                            <ul class="sessions" data-testid="sessions">
                                {o.sessions.into_iter().map(|s| {
                                    let id = s.id.clone();
                                    view! {
                                        <li>
                                            {s.user_agent} " · started " {format_time(s.created_at, utc)}
                                            {if s.persistent { " · kept signed in" } else { "" }}
                                            {if s.current {
                                                view! { <strong>" · this device"</strong> }.into_any()
                                            } else {
                                                view! {
                                                    <button class="link" on:click=move |_| { revoke.dispatch_local(id.clone()); }>"Revoke"</button>
                                                }.into_any()
                                            }}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}
