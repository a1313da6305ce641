//! Users: the newest accounts, or one found by its exact address; one
//! account's detail (disable, role, deletion).

use leptos::prelude::*;

use crate::api;
use crate::auth::format_time;
use crate::pages::components::{Confirm, ErrorNote, Why};
use crate::types::{AdminUserRow, Role};

#[component]
pub(super) fn Users() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let query = RwSignal::new(None::<String>);
    let before = RwSignal::new(None::<i64>);
    let list = LocalResource::new(move || api::list_users(query.get(), before.get()));
    let selected = RwSignal::new(None::<String>);
    let toggle = Action::new_local(|(id, disabled): &(String, bool)| api::set_disabled(id.clone(), *disabled));
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
        let disabled = u.status == crate::types::AccountStatus::Disabled;
        view! {
            <tr data-testid="admin-user-row">
                <td><code>{u.id.clone()}</code></td>
                <td data-testid="user-status">{u.status.as_str()}</td>
                <td>{if u.role == Role::Admin { "admin" } else { "user" }}</td>
                <td>{format_time(u.created_at, false)}</td>
                <td>{u.last_signin_at.map(|t| format_time(t, false)).unwrap_or_else(|| "never".into())}</td>
                <td>
                    {if disabled {
                        view! { <button class="link" on:click=move |_| { toggle.dispatch_local((id.clone(), false)); }>"Enable"</button> }.into_any()
                    } else {
                        view! {
                            <Confirm ask="Disable…" confirm="Yes, disable this account"
                                consequence="Disabling signs the person out everywhere, pauses their campaigns and stops their webhook processing until an admin enables the account again."
                                on_confirm=move |()| { toggle.dispatch_local((id.clone(), true)); } />
                        }.into_any()
                    }}
                    " "
                    <button class="link" on:click=move |_| selected.set(Some(id2.clone()))>"Open…"</button>
                </td>
            </tr>
        }
    };
    view! {
        <section class="card">
            <h1>"Users"</h1>
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
    let open = Action::new_local(move |why: &String| api::view_personal_data(view_id.clone(), why.clone()));
    let password = RwSignal::new(String::new());
    let delete_reason = RwSignal::new(String::new());
    let delete_id = id.clone();
    let delete = Action::new_local(move |(p, r): &(String, String)| api::delete_user(p.clone(), delete_id.clone(), r.clone()));
    let role_id = id.clone();
    let role = Action::new_local(move |(p, r): &(String, Role)| api::set_role(p.clone(), role_id.clone(), *r));
    let role_password = RwSignal::new(String::new());
    view! {
        <div class="card" data-testid="user-detail">
            <h2>"Account " <code>{id.clone()}</code></h2>
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
            <h3>"Role"</h3>
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
            <h3>"Delete this account"</h3>
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
