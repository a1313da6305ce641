//! The admin panel. The server checks the role on every call; hiding the
//! page from non-admins here is only a convenience.

use leptos::prelude::*;
use leptos_router::components::A;

use super::components::{ErrorNote, Why};
use crate::api;
use crate::auth::{format_time, Auth};
use crate::types::{AdminUserRow, Role};

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

#[component]
fn Users() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let query = RwSignal::new(None::<String>);
    let before = RwSignal::new(None::<i64>);
    let list = LocalResource::new(move || api::admin_list_users(query.get(), before.get()));
    let selected = RwSignal::new(None::<String>);
    let toggle = Action::new_local(|(id, disabled): &(String, bool)| api::admin_set_disabled(id.clone(), *disabled));
    Effect::new(move |_| {
        if toggle.value().get().is_some() {
            list.refetch();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        before.set(None);
        let text = search.get_untracked();
        query.set((!text.trim().is_empty()).then_some(text));
    };
    let row = move |u: AdminUserRow| {
        let (id, id2) = (u.id.clone(), u.id.clone());
        let disabled = u.status == "disabled";
        view! {
            <tr data-testid="admin-user-row">
                <td><code>{u.id.clone()}</code></td>
                <td data-testid="user-status">{u.status.clone()}</td>
                <td>{if u.role == Role::Admin { "admin" } else { "user" }}</td>
                <td>{format_time(u.created_at, false)}</td>
                <td>{u.last_signin_at.map(|t| format_time(t, false)).unwrap_or_else(|| "never".into())}</td>
                <td>
                    <button class="link" on:click=move |_| { toggle.dispatch_local((id.clone(), !disabled)); }>
                        {if disabled { "Enable" } else { "Disable" }}
                    </button>
                    " "
                    <button class="link" on:click=move |_| selected.set(Some(id2.clone()))>"Open…"</button>
                </td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <h2>"Users"</h2>
            <form on:submit=submit class="inline">
                <label for="user_search">"Find by exact email"</label>
                <input id="user_search" type="email" bind:value=search />
                <button type="submit">"Search"</button>
            </form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(page) => {
                        let next = page.next_before;
                        view! {
                            <table data-testid="admin-users">
                                <thead><tr><th>"Id"</th><th>"Status"</th><th>"Role"</th><th>"Created"</th><th>"Last sign-in"</th><th></th></tr></thead>
                                <tbody>{page.users.into_iter().map(row).collect_view()}</tbody>
                            </table>
                            {next.map(|n| view! { <button class="link" on:click=move |_| before.set(Some(n))>"Next page"</button> })}
                        }.into_any()
                    }
                })}
            </Suspense>
            {move || toggle.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            {move || selected.get().map(|id| view! { <UserDetail id=id /> })}
        </section>
    }
}

/// One user's actions: the audited personal-data view, role, deletion.
#[component]
fn UserDetail(id: String) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let view_id = id.clone();
    let open = Action::new_local(move |why: &String| api::admin_view_personal_data(view_id.clone(), why.clone()));
    let password = RwSignal::new(String::new());
    let delete_reason = RwSignal::new(String::new());
    let delete_id = id.clone();
    let delete = Action::new_local(move |(p, r): &(String, String)| api::admin_delete_user(p.clone(), delete_id.clone(), r.clone()));
    let role_id = id.clone();
    let role = Action::new_local(move |(p, r): &(String, Role)| api::admin_set_role(p.clone(), role_id.clone(), *r));
    let role_password = RwSignal::new(String::new());
    view! {
        <div class="card" data-testid="user-detail">
            <h3>"Account " <code>{id.clone()}</code></h3>
            <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); open.dispatch_local(reason.get_untracked()); }>
                <label for="access_reason">"Reason for opening this person's data"</label>
                <input id="access_reason" type="text" required bind:value=reason />
                <Why text="every access is logged, and the person sees it, with this reason, on their data page." />
                <button type="submit">"Show personal data"</button>
            </form>
            {move || open.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(data) => view! {
                    <dl data-testid="personal-data">
                        <dt>"Email"</dt><dd>{data.email}</dd>
                        <dt>"Name"</dt><dd>{data.display_name.unwrap_or_default()}</dd>
                        <dt>"Sign-ins"</dt>
                        <dd>{data.signins.into_iter().map(|s| view! { <div>{format_time(s.at, false)} " · " {s.ip} " · " {s.user_agent}</div> }).collect_view()}</dd>
                    </dl>
                }.into_any(),
            })}
            <h4>"Role"</h4>
            <label for="role_password">"Your password"</label>
            <input id="role_password" type="password" autocomplete="current-password" bind:value=role_password />
            <div class="choice">
                <button on:click=move |_| { role.dispatch_local((role_password.get_untracked(), Role::Admin)); }>"Make admin"</button>
                <button on:click=move |_| { role.dispatch_local((role_password.get_untracked(), Role::User)); }>"Make user"</button>
            </div>
            {move || role.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(()) => view! { <p class="success" data-testid="role-changed">"Role changed."</p> }.into_any(),
            })}
            <h4>"Delete this account"</h4>
            <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); delete.dispatch_local((password.get_untracked(), delete_reason.get_untracked())); }>
                <label for="delete_reason">"Reason"</label>
                <input id="delete_reason" type="text" required bind:value=delete_reason />
                <label for="admin_password">"Your password"</label>
                <input id="admin_password" type="password" autocomplete="current-password" required bind:value=password />
                <button type="submit" class="danger">"Delete the account and all its data"</button>
            </form>
            {move || delete.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(()) => view! { <p class="success">"Deleted. The person was mailed."</p> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn PublishPolicy() -> impl IntoView {
    let document = RwSignal::new("privacy".to_string());
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let summary = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let publish = Action::new_local(|(p, d, t, b, s): &(String, String, String, String, String)| {
        api::publish_policy(p.clone(), d.clone(), t.clone(), b.clone(), s.clone())
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        publish.dispatch_local((password.get_untracked(), document.get_untracked(), title.get_untracked(), body.get_untracked(), summary.get_untracked()));
    };
    view! {
        <section class="card">
            <h2>"Publish a policy version"</h2>
            <form on:submit=submit>
                <label for="policy_document">"Document"</label>
                <select id="policy_document" on:change=move |ev| document.set(event_target_value(&ev))>
                    <option value="privacy" selected>"Privacy policy"</option>
                    <option value="terms">"Terms of use"</option>
                </select>
                <label for="policy_title">"Title"</label>
                <input id="policy_title" type="text" required bind:value=title />
                <label for="policy_summary">"What changed"</label>
                <input id="policy_summary" type="text" bind:value=summary />
                <label for="policy_body">"Full text"</label>
                <textarea id="policy_body" rows="6" required bind:value=body></textarea>
                <label for="policy_password">"Your password"</label>
                <input id="policy_password" type="password" autocomplete="current-password" required bind:value=password />
                <Why text="publishing mails every user and asks each to accept again." />
                <button type="submit">"Publish"</button>
            </form>
            {move || publish.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(v) => view! { <p class="success" data-testid="policy-published">"Published version " {v} "."</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn ActionLog() -> impl IntoView {
    let log = LocalResource::new(|| api::admin_actions(None));
    view! {
        <section class="card">
            <h2>"Admin action log"</h2>
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

#[component]
fn Recipients() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let purpose = RwSignal::new(String::new());
    let categories = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let safeguards = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let save = Action::new_local(|(p, r): &(String, crate::types::Recipient)| api::admin_save_recipient(p.clone(), r.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let recipient = crate::types::Recipient {
            id: String::new(),
            name: name.get_untracked(),
            purpose: purpose.get_untracked(),
            categories: categories.get_untracked().split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            country: country.get_untracked(),
            safeguards: safeguards.get_untracked(),
        };
        save.dispatch_local((password.get_untracked(), recipient));
    };
    view! {
        <section class="card">
            <h2>"Declare a recipient of personal data"</h2>
            <p>"Any sharing must be said in advance: it appears on the privacy page and at registration, and every user is told."</p>
            <form on:submit=submit>
                <label for="recipient_name">"Recipient"</label>
                <input id="recipient_name" type="text" required bind:value=name />
                <label for="recipient_purpose">"Purpose"</label>
                <input id="recipient_purpose" type="text" required bind:value=purpose />
                <label for="recipient_categories">"Data categories (comma-separated)"</label>
                <input id="recipient_categories" type="text" required bind:value=categories />
                <label for="recipient_country">"Country"</label>
                <input id="recipient_country" type="text" required bind:value=country />
                <label for="recipient_safeguards">"Safeguards"</label>
                <input id="recipient_safeguards" type="text" required bind:value=safeguards />
                <label for="recipient_password">"Your password"</label>
                <input id="recipient_password" type="password" autocomplete="current-password" required bind:value=password />
                <button type="submit">"Declare"</button>
            </form>
            {move || save.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(_) => view! { <p class="success" data-testid="recipient-saved">"Declared. Users were told, and will re-accept the privacy policy."</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Breaches() -> impl IntoView {
    let list = LocalResource::new(api::admin_breaches);
    let discovered = RwSignal::new(String::new());
    let offset = RwSignal::new(0i32);
    let nature = RwSignal::new(String::new());
    let categories = RwSignal::new(String::new());
    let affected = RwSignal::new(String::new());
    let consequences = RwSignal::new(String::new());
    let measures = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // The browser's own time zone, for the local time typed in.
    #[cfg(target_arch = "wasm32")]
    offset.set(-(js_sys::Date::new_0().get_timezone_offset() as i32));
    let record = Action::new_local(|input: &crate::types::BreachInput| api::admin_record_breach(input.clone()));
    let chosen = RwSignal::new(String::new());
    let notify = Action::new_local(|(p, id, ids): &(String, String, Option<Vec<String>>)| api::admin_breach_notify_people(p.clone(), id.clone(), ids.clone()));
    // Empty: everyone; otherwise the listed account ids.
    let chosen_ids = move || {
        let ids: Vec<String> = chosen.get_untracked().split(',').map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect();
        (!ids.is_empty()).then_some(ids)
    };
    let authority = Action::new_local(|(p, id): &(String, String)| api::admin_breach_authority_notified(p.clone(), id.clone()));
    Effect::new(move |_| {
        if record.value().get().is_some() || notify.value().get().is_some() || authority.value().get().is_some() {
            list.refetch();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        record.dispatch_local(crate::types::BreachInput {
            discovered_local: discovered.get_untracked(),
            utc_offset_minutes: offset.get_untracked(),
            nature: nature.get_untracked(),
            categories: categories.get_untracked().split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            approx_affected: affected.get_untracked().trim().parse().unwrap_or(-1),
            consequences: consequences.get_untracked(),
            measures: measures.get_untracked(),
        });
    };
    view! {
        <section class="card">
            <h2>"Breach register"</h2>
            <form on:submit=submit>
                <label for="breach_discovered">"Discovered (your local time)"</label>
                <input id="breach_discovered" type="datetime-local" required bind:value=discovered />
                <label for="breach_nature">"What happened"</label>
                <input id="breach_nature" type="text" required bind:value=nature />
                <Why text="describe the incident, not the people: this register holds no personal data." />
                <label for="breach_categories">"Data categories (comma-separated)"</label>
                <input id="breach_categories" type="text" required bind:value=categories />
                <label for="breach_affected">"People affected (approximately)"</label>
                <input id="breach_affected" type="number" min="0" required bind:value=affected />
                <label for="breach_consequences">"Likely consequences"</label>
                <input id="breach_consequences" type="text" bind:value=consequences />
                <label for="breach_measures">"Measures taken"</label>
                <input id="breach_measures" type="text" bind:value=measures />
                <button type="submit">"Record the breach"</button>
            </form>
            {move || record.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
            <label for="breach_password">"Your password (to notify)"</label>
            <input id="breach_password" type="password" autocomplete="current-password" bind:value=password />
            <label for="breach_accounts">"Notify only these account ids (comma-separated; empty for everyone)"</label>
            <input id="breach_accounts" type="text" bind:value=chosen />
            <Suspense fallback=|| ()>
                {move || list.get().and_then(|r| r.ok()).map(|breaches| view! {
                    <ul data-testid="breaches">
                        {breaches.into_iter().map(|b| {
                            let (id1, id2) = (b.id.clone(), b.id.clone());
                            view! {
                                <li data-testid="breach">
                                    <strong>{b.nature.clone()}</strong>
                                    " · discovered " {format_time(b.discovered_at, true)}
                                    " · authority deadline " <span data-testid="breach-deadline">{format_time(b.deadline, true)}</span>
                                    {match b.authority_notified_at {
                                        Some(t) => view! { <span>" · authority notified " {format_time(t, true)}</span> }.into_any(),
                                        None => view! { <button class="link" on:click=move |_| { authority.dispatch_local((password.get_untracked(), id1.clone())); }>"Mark authority notified"</button> }.into_any(),
                                    }}
                                    " · notices: " <span data-testid="breach-notices">{b.notices_sent} " sent, " {b.notices_pending} " pending, " {b.notices_failed} " failed"</span>
                                    " " <button class="link" on:click=move |_| { notify.dispatch_local((password.get_untracked(), id2.clone(), chosen_ids())); }>"Notify the people affected"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })}
            </Suspense>
            {move || notify.value().get().map(|r| match r {
                Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                Ok(n) => view! { <p class="success" data-testid="breach-notified">{n} " notices queued."</p> }.into_any(),
            })}
            {move || authority.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e /> })}
        </section>
    }
}

#[component]
fn Overview() -> impl IntoView {
    let overview = LocalResource::new(api::fetch_admin_overview);
    view! {
        <section class="card">
            <h1>"Admin"</h1>
            <p><A href="/admin/processing">"Record of processing activities"</A></p>
            <Suspense fallback=|| ()>
                {move || overview.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(o) => view! {
                        {(o.password_age_days > 90).then(|| view! {
                            <p class="notice" role="alert" data-testid="password-age-warning">
                                "Your password is " {o.password_age_days} " days old. Change it, especially after a handover."
                            </p>
                        })}
                        <h2>"Policy acceptance"</h2>
                        <ul data-testid="acceptance">
                            {o.acceptance.into_iter().map(|a| view! {
                                <li>{a.document} " version " {a.version} ": " {a.accounts} " accounts"</li>
                            }).collect_view()}
                        </ul>
                        <RetentionForm initial=o.retention />
                        <p data-testid="last-purge">{match o.last_purge {
                            Some(p) => format!(
                                "Last purge {}: {} sign-ins, {} sessions, {} links, {} unverified accounts, {} exports, {} inactive leads, {} old messages deleted.",
                                format_time(p.at, false), p.signins, p.sessions, p.links, p.unverified_accounts, p.exports, p.leads, p.messages
                            ),
                            None => "The purge job has not run yet.".to_string(),
                        }}</p>
                        <p data-testid="dropped-events">{format!(
                            "Webhook events for Pages nobody connected (dropped since the server started): {}.",
                            o.dropped_webhook_events
                        )}</p>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RetentionForm(initial: crate::types::RetentionSettings) -> impl IntoView {
    let signins = RwSignal::new(initial.signin_history_days.to_string());
    let leads = RwSignal::new(initial.inactive_leads_days.to_string());
    let messages = RwSignal::new(initial.messages_days.to_string());
    let exports = RwSignal::new(initial.export_hours.to_string());
    let password = RwSignal::new(String::new());
    let save = Action::new_local(|(p, s): &(String, crate::types::RetentionSettings)| api::admin_set_retention(p.clone(), *s));
    let number = |s: RwSignal<String>| s.get_untracked().trim().parse().unwrap_or(0);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let settings = crate::types::RetentionSettings {
            signin_history_days: number(signins),
            inactive_leads_days: number(leads),
            messages_days: number(messages),
            export_hours: number(exports),
        };
        save.dispatch_local((password.get_untracked(), settings));
    };
    view! {
        <h2>"Retention"</h2>
        <form on:submit=submit>
            <label for="keep_signins">"Sign-in history (days)"</label>
            <input id="keep_signins" type="number" min="1" required bind:value=signins />
            <label for="keep_leads">"Inactive leads (days without interaction)"</label>
            <input id="keep_leads" type="number" min="1" required bind:value=leads />
            <label for="keep_messages">"Conversation messages (days)"</label>
            <input id="keep_messages" type="number" min="1" required bind:value=messages />
            <label for="keep_exports">"Export files (hours)"</label>
            <input id="keep_exports" type="number" min="1" required bind:value=exports />
            <label for="retention_password">"Your password"</label>
            <input id="retention_password" type="password" autocomplete="current-password" required bind:value=password />
            <button type="submit">"Save retention"</button>
        </form>
        {move || save.value().get().map(|r| match r {
            Err(e) => view! { <ErrorNote error=e /> }.into_any(),
            Ok(()) => view! { <p class="success" data-testid="retention-saved">"Saved. The purge job applies it within the hour."</p> }.into_any(),
        })}
    }
}

#[component]
fn MessengerApp() -> impl IntoView {
    let current = LocalResource::new(api::fetch_messenger_app);
    view! {
        <section class="card">
            <h2>"Facebook app"</h2>
            <Suspense fallback=|| ()>
                {move || current.get().map(|r| match r {
                    Err(e) => view! { <ErrorNote error=e /> }.into_any(),
                    Ok(v) => view! { <MessengerAppForm view=v /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn MessengerAppForm(view: crate::types::MessengerAppView) -> impl IntoView {
    let app_id = RwSignal::new(view.app_id.clone());
    let secret = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let base = RwSignal::new(view.graph_base_url.clone());
    let version = RwSignal::new(view.graph_version.clone());
    let password = RwSignal::new(String::new());
    let save = Action::new_local(|(p, i): &(String, crate::types::MessengerAppInput)| api::save_messenger_app(p.clone(), i.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = crate::types::MessengerAppInput {
            app_id: app_id.get_untracked(),
            app_secret: secret.get_untracked(),
            verify_token: token.get_untracked(),
            graph_base_url: base.get_untracked(),
            graph_version: version.get_untracked(),
        };
        save.dispatch_local((password.get_untracked(), input));
        secret.set(String::new());
    };
    view! {
        <p>"Callback URL for Meta's dashboard: " <code data-testid="callback-url">{view.callback_url.clone()}</code></p>
        <p>"Data Deletion Request URL: " <code data-testid="deletion-url">{view.callback_url.replace("/webhooks/messenger", "/webhooks/meta/data-deletion")}</code></p>
        <form on:submit=submit>
            <label for="fb_app_id">"App ID"</label>
            <input id="fb_app_id" type="text" required bind:value=app_id />
            <label for="fb_app_secret">"App Secret"</label>
            <input id="fb_app_secret" type="password" autocomplete="off" bind:value=secret
                placeholder=if view.configured { "stored; leave empty to keep it" } else { "" } />
            <Why text="it checks that webhook deliveries come from Meta. Stored encrypted and never shown again." />
            <label for="fb_verify_token">"Webhook verify token"</label>
            <input id="fb_verify_token" type="password" autocomplete="off" bind:value=token
                placeholder=if view.configured { "stored; leave empty to keep it" } else { "" } />
            <label for="fb_graph_base">"Graph API base URL"</label>
            <input id="fb_graph_base" type="text" required bind:value=base />
            <label for="fb_graph_version">"Graph API version"</label>
            <input id="fb_graph_version" type="text" required bind:value=version />
            <label for="fb_password">"Your password"</label>
            <input id="fb_password" type="password" autocomplete="current-password" required bind:value=password />
            <button type="submit">"Save the Facebook app"</button>
        </form>
        {move || save.value().get().map(|r| match r {
            Err(e) => view! { <ErrorNote error=e /> }.into_any(),
            Ok(()) => view! { <p class="success" data-testid="fb-app-saved">"Saved."</p> }.into_any(),
        })}
    }
}
