//! The privacy dashboard (signed in) and the public privacy page, both
//! rendered from the one data inventory.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::account::RequireSignIn;
use super::components::{ErrorNote, Why};
use crate::api;
use crate::auth::{format_time, Auth};
use crate::error::AppError;
use crate::inventory::INVENTORY;
use crate::types::PolicyVersion;

#[component]
pub fn PrivacyDashboardPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <PrivacyDashboard />
            <super::account::SecurityOverviewView />
            <super::account::Notifications />
            <ExportData />
            <DeleteAccount />
        </RequireSignIn>
    }
}

#[component]
fn PrivacyDashboard() -> impl IntoView {
    let overview = LocalResource::new(api::privacy_overview);
    view! {
        <section class="card">
            <h1>"Your data"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || overview.get().map(|result| match result {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(o) => view! {
                        <h2>"What we hold about you"</h2>
                        <table data-testid="holdings">
                            <thead><tr><th>"Category"</th><th>"Items"</th><th>"Kept"</th></tr></thead>
                            <tbody>
                                {o.holdings.into_iter().map(|h| view! {
                                    <tr data-category=h.key.clone()>
                                        <td><strong>{h.title}</strong><br /><small>{h.what}</small></td>
                                        <td class="count">{h.count}</td>
                                        <td>{h.retention}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h2>"Who opened your data"</h2>
                        <p>"Each time an administrator opened your personal data, it is listed here with the reason they gave."</p>
                        <ul data-testid="admin-access">
                            {if o.admin_access.is_empty() {
                                view! { <li>"No one has."</li> }.into_any()
                            } else {
                                o.admin_access.into_iter().map(|a| view! {
                                    <li>{format_time(a.at, false)} " · an " {a.admin_role} " · " {a.categories.join(", ")} " · “" {a.reason} "”"</li>
                                }).collect_view().into_any()
                            }}
                        </ul>
                        <h2>"Your consents"</h2>
                        <ul data-testid="consents">
                            {o.consents.into_iter().map(|c| view! {
                                <li>"Accepted the " {c.document} " version " {c.version} " on " {format_time(c.accepted_at, false)}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ExportData() -> impl IntoView {
    let status = LocalResource::new(api::export_status);
    let password = RwSignal::new(String::new());
    let action = Action::new_local(|p: &String| api::request_export(p.clone()));
    // While a job runs, ask again every second to show its progress.
    Effect::new(move |_| {
        if let Some(Ok(Some(s))) = status.get() {
            if s.status.in_progress() {
                set_timeout(move || status.refetch(), std::time::Duration::from_millis(1000));
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            password.set(String::new());
            status.refetch();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch_local(password.get_untracked());
    };
    view! {
        <section class="card">
            <h2>"Download my data"</h2>
            <p>"A ZIP with all your data: " <code>"data.json"</code> " for machines and " <code>"index.html"</code>
               " to read. We mail you when it is ready; only you can download it, for 48 hours, then it is deleted."</p>
            <form on:submit=submit>
                <label for="export_password">"Password"</label>
                <input id="export_password" type="password" autocomplete="current-password" required bind:value=password />
                <Why text="your data leaves the app in this file, so we make sure it is you." />
                <button type="submit" disabled=move || action.pending().get()>"Prepare my data"</button>
            </form>
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            <div data-testid="export-status">
                {move || status.get().and_then(|r| r.ok()).flatten().map(|s| match s.download_url {
                    Some(url) => view! {
                        <p class="success">"Your data is ready. "
                            <a href=url download="chatfbtop-data.zip" data-testid="export-download">"Download the ZIP"</a>
                        </p>
                    }.into_any(),
                    None => view! {
                        <p>"Export " {s.status.as_str()} ": " <progress max="100" value=s.progress></progress> " " {s.progress} "%"</p>
                    }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn DeleteAccount() -> impl IntoView {
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    let action = Action::new_local(|(p, c): &(String, String)| api::delete_account(p.clone(), c.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            // Leave the signed-in area first; the goodbye page forgets the user.
            crate::client_storage::wipe_all();
            navigate("/goodbye", Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch_local((password.get_untracked(), confirmation.get_untracked()));
    };
    view! {
        <section class="card danger-zone">
            <h2>"Delete your account"</h2>
            <p>
                <strong>"This cannot be undone."</strong>
                " Your account and every piece of its data are erased at once, and its encryption key is destroyed, \
                 so no backup can bring it back. Back up your data first if you want to keep a copy."
            </p>
            <form on:submit=submit>
                <label for="delete_password">"Password"</label>
                <input id="delete_password" type="password" autocomplete="current-password" required bind:value=password />
                <Why text="to confirm it is really you." />
                <label for="delete_confirmation">"Type DELETE to confirm"</label>
                <input id="delete_confirmation" type="text" autocomplete="off" required bind:value=confirmation />
                <button type="submit" class="danger" disabled=move || action.pending().get()>"Delete my account for good"</button>
            </form>
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </section>
    }
}

#[component]
pub fn GoodbyePage() -> impl IntoView {
    Auth::get().signed_out();
    view! {
        <section class="card narrow" data-testid="goodbye">
            <h1>"Adios"</h1>
            <p>"Your account and all its data were deleted. A last mail confirms it; it too is removed once sent."</p>
        </section>
    }
}

/// The public privacy page: readable before anyone registers.
#[component]
pub fn PublicPrivacyPage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Privacy"</h1>
            <p>"This is everything this installation stores about the people who use it, why, and for how long. \
                It is generated from the same declaration the app uses to export and erase data."</p>
            <table data-testid="inventory">
                <thead><tr><th>"Data"</th><th>"Why"</th><th>"Legal basis"</th><th>"Kept"</th><th>"Shared with"</th></tr></thead>
                <tbody>
                    {INVENTORY.iter().map(|c| view! {
                        <tr>
                            <td><strong>{c.title}</strong><br /><small>{c.what}</small></td>
                            <td>{c.purpose}</td>
                            <td>{c.legal_basis}</td>
                            <td>{c.retention}</td>
                            <td>{if c.recipients.is_empty() { "No one".to_string() } else { c.recipients.join("; ") }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <RetentionList />
            <RecipientList />
            <p>"No analytics, no tracking, no third-party requests. Before you sign in, this site sets no cookie and stores nothing in your browser."</p>
        </section>
    }
}

/// The current terms of use and privacy policy, in full (public): what the
/// sign-up form's "I accept" refers to.
#[component]
pub fn TermsPage() -> impl IntoView {
    let policies = LocalResource::new(api::current_policies);
    view! {
        <section class="card" data-testid="terms">
            <h1>"Terms of use and privacy policy"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || policies.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(current) => current.into_iter().map(|p| view! {
                        <article id=p.document.clone()>
                            <h2>{p.title} " (version " {p.version} ")"</h2>
                            <p class="policy-body">{p.body}</p>
                        </article>
                    }).collect_view().into_any(),
                })}
            </Suspense>
            <p><A href="/privacy">"What we store, why, and for how long"</A></p>
        </section>
    }
}

/// Shown instead of the app while a new policy version waits for a decision.
#[component]
pub fn PolicyGate() -> impl IntoView {
    let auth = Auth::get();
    let accept = Action::new_local(|shown: &Vec<PolicyVersion>| api::accept_policies(shown.clone()));
    // A version published while the person read: show it instead.
    let reload = Action::new_local(|_: &()| api::current_user());
    Effect::new(move |_| match accept.value().get() {
        Some(Ok(user)) => auth.user.set(Some(user)),
        Some(Err(AppError::PolicyChangedMeanwhile)) => {
            reload.dispatch_local(());
        }
        _ => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(Some(user))) = reload.value().get() {
            auth.user.set(Some(user));
        }
    });
    let changes = move || auth.user.get().map(|u| u.pending_policies).unwrap_or_default();
    // Someone who never accepted (the first admin) has nothing "changed" to read.
    let first_reading = move || changes().iter().all(|c| c.summary.trim().is_empty());
    let shown = move || {
        let pending = auth.user.get_untracked().map(|u| u.pending_policies).unwrap_or_default();
        pending.into_iter().map(|c| PolicyVersion { document: c.document, version: c.version }).collect::<Vec<_>>()
    };
    view! {
        <section class="card" data-testid="policy-gate">
            {move || if first_reading() {
                view! {
                    <h1>"Please read our policies"</h1>
                    <p>"Before you start, please read and accept them. You can also download your data or delete your account."</p>
                }.into_any()
            } else {
                view! {
                    <h1>"Our policies changed"</h1>
                    <p>"Before you continue, please read what changed. You can accept, download your data, or delete your account."</p>
                }.into_any()
            }}
            {move || changes().into_iter().map(|c| view! {
                <article class="policy-change">
                    <h2>{c.title.clone()} " (version " {c.version} ")"</h2>
                    {(!c.summary.trim().is_empty()).then(|| view! {
                        <p data-testid="policy-summary"><strong>"What changed: "</strong>{c.summary.clone()}</p>
                    })}
                    <details><summary>"Read the full text"</summary><p class="policy-body">{c.body.clone()}</p></details>
                </article>
            }).collect_view()}
            <div class="choice">
                <button on:click=move |_| { accept.dispatch_local(shown()); } disabled=move || accept.pending().get()>"Accept"</button>
                <A href="/account/privacy">"Download my data or delete my account"</A>
            </div>
            {move || accept.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </section>
    }
}

/// Browser storage is offered once per session, with two equal choices, and
/// never over something that must be settled first (a one-time password, a
/// policy change). "No thanks" is remembered by the server, for the session.
#[component]
pub fn StorageOffer() -> impl IntoView {
    let auth = Auth::get();
    let decided = RwSignal::new(crate::client_storage::enabled());
    let decline = Action::new_local(|_: &()| api::decline_storage_offer());
    let visible = move || {
        let open = auth.user.with(|u| u.as_ref().is_some_and(|u| !u.must_change_password && u.pending_policies.is_empty() && !u.storage_offer_declined));
        open && !decided.get()
    };
    view! {
        <Show when=visible>
            <aside class="storage-offer" data-testid="storage-offer" role="dialog" aria-label="Browser storage">
                <p>"Remember your settings (like the time zone you pick) on this device? They stay in this browser only, \
                    and you can withdraw this at any time in your account settings."</p>
                <div class="choice">
                    <button on:click=move |_| { crate::client_storage::set_enabled(true); decided.set(true); }>"Allow"</button>
                    <button on:click=move |_| { crate::client_storage::set_enabled(false); decided.set(true); decline.dispatch_local(()); }>"No thanks"</button>
                </div>
            </aside>
        </Show>
    }
}

/// The record of processing activities (GDPR Art. 30), for admins: the same
/// declaration as the public page, with where each category is stored.
#[component]
pub fn ProcessingRecordPage() -> impl IntoView {
    let auth = Auth::get();
    let is_admin = move || auth.user.with(|u| u.as_ref().is_some_and(|u| u.role == crate::types::Role::Admin));
    view! {
        <Show when=is_admin fallback=|| view! { <section class="card"><p class="error">"You do not have access to this."</p></section> }>
            <section class="card">
                <h1>"Record of processing activities"</h1>
                <p>"Controller: the operator of this installation. Generated from the data inventory in the code."</p>
                <table data-testid="processing-record">
                    <thead><tr><th>"Category"</th><th>"Stored in"</th><th>"Purpose"</th><th>"Legal basis"</th><th>"Retention"</th><th>"Recipients"</th><th>"Safeguards"</th></tr></thead>
                    <tbody>
                        {INVENTORY.iter().map(|c| view! {
                            <tr>
                                <td><strong>{c.title}</strong><br /><small>{c.what}</small></td>
                                <td><code>{c.table}</code><br /><small>{c.personal_fields.join(", ")}</small></td>
                                <td>{c.purpose}</td>
                                <td>{c.legal_basis}</td>
                                <td>{c.retention}</td>
                                <td>{if c.recipients.is_empty() { "None".to_string() } else { c.recipients.join("; ") }}</td>
                                <td>{match c.sealing {
                                    crate::inventory::Sealing::AccountKey => "AES-256-GCM under the account's own key",
                                    crate::inventory::Sealing::SystemKey => "AES-256-GCM under the installation key",
                                    crate::inventory::Sealing::None => "No personal values; access control only",
                                }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        </Show>
    }
}

/// Who receives personal data (public): those the data inventory names,
/// then those the admins declared. "No one" only when both lists are empty.
#[component]
pub fn RecipientList() -> impl IntoView {
    let list = LocalResource::new(api::recipients);
    let built_in = crate::inventory::recipients();
    view! {
        <div data-testid="recipients">
            <h2>"Who else receives personal data"</h2>
            <Suspense fallback=|| ()>
                {move || list.get().and_then(|r| r.ok()).map(|recipients| if recipients.is_empty() && built_in.is_empty() {
                    view! { <p>"No one. This installation shares personal data with no processor or third party."</p> }.into_any()
                } else {
                    let declared = (!recipients.is_empty()).then(|| view! {
                        <p>"Declared by the administrators of this installation:"</p>
                        <table data-testid="declared-recipients">
                            <thead><tr><th>"Recipient"</th><th>"Why"</th><th>"Which data"</th><th>"Country"</th><th>"Safeguards"</th></tr></thead>
                            <tbody>
                                {recipients.into_iter().map(|r| view! {
                                    <tr><td>{r.name}</td><td>{r.purpose}</td><td>{r.categories.join(", ")}</td><td>{r.country}</td><td>{r.safeguards}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    });
                    view! {
                        <ul data-testid="built-in-recipients">
                            {built_in.iter().map(|r| view! { <li>{*r}</li> }).collect_view()}
                        </ul>
                        {declared}
                    }.into_any()
                })}
            </Suspense>
        </div>
    }
}

/// The retention periods in force, for the public page.
#[component]
fn RetentionList() -> impl IntoView {
    let retention = LocalResource::new(api::retention_settings);
    view! {
        <Suspense fallback=|| ()>
            {move || retention.get().and_then(|r| r.ok()).map(|r| view! {
                <h2>"How long we keep data"</h2>
                <ul data-testid="retention-periods">
                    <li>"Sign-in history: " {r.signin_history_days} " days"</li>
                    <li>"Leads with no interaction: " {r.inactive_leads_days} " days"</li>
                    <li>"Conversation messages: " {r.messages_days} " days"</li>
                    <li>"Data export files: " {r.export_hours} " hours"</li>
                </ul>
            })}
        </Suspense>
    }
}
