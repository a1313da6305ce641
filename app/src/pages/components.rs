//! Small pieces the forms share.

use leptos::prelude::*;

use crate::error::AppError;

/// "Why we ask": every form field says what it is needed for.
#[component]
pub fn Why(#[prop(into)] text: String) -> impl IntoView {
    view! { <small class="why">"Why we ask: " {text}</small> }
}

/// An error from a server function, as a sentence (plus password feedback).
#[component]
pub fn ErrorNote(error: AppError) -> impl IntoView {
    let feedback = match &error {
        AppError::WeakPassword { feedback } => feedback.clone(),
        _ => Vec::new(),
    };
    view! {
        <div class="error" role="alert" data-testid="form-error">
            <p>{error.to_string()}</p>
            {(!feedback.is_empty()).then(|| view! {
                <ul data-testid="password-feedback">
                    {feedback.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// Renders the outcome of an action: nothing while idle, the error, or `ok`.
pub fn outcome<T, S>(value: S, ok: impl Fn(T) -> AnyView + Send + Sync + 'static) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        None => ().into_any(),
        Some(Ok(v)) => ok(v),
        Some(Err(e)) => view! { <ErrorNote error=e /> }.into_any(),
    }
}

/// The `token` query parameter of a mailed link.
pub fn query_token() -> Memo<String> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| query.read().get("token").unwrap_or_default())
}

/// For pages opened from a mailed link: runs `run` with the link's token as
/// soon as it is known, and returns the action to render its outcome.
pub fn run_with_link_token<T: 'static, Fut>(run: fn(String) -> Fut) -> Action<String, Result<T, AppError>>
where
    Fut: std::future::Future<Output = Result<T, AppError>> + 'static,
{
    let token = query_token();
    let action = Action::new_local(move |token: &String| run(token.clone()));
    Effect::new(move |_| {
        let token = token.get();
        if !token.is_empty() {
            action.dispatch_local(token);
        }
    });
    action
}

/// A risky action behind a confirmation: the first click says what will
/// happen, and only the second button does it. "Go back" changes nothing.
#[component]
pub fn Confirm(
    /// The button that asks, for example "Delete lead…".
    #[prop(into)]
    ask: String,
    /// What happens, in a sentence, shown before anything is done.
    #[prop(into)]
    consequence: Signal<String>,
    /// The button that does it, for example "Yes, delete the lead".
    #[prop(into)]
    confirm: String,
    #[prop(into)] on_confirm: Callback<()>,
    /// Whether the confirmation shows; give one that outlives the button
    /// where the page around it is rebuilt (a live campaign refreshes).
    #[prop(optional)]
    open: Option<RwSignal<bool>>,
) -> impl IntoView {
    let open = open.unwrap_or_else(|| RwSignal::new(false));
    move || {
        if open.get() {
            view! {
                <div class="confirm" role="alertdialog" aria-label=ask.clone() data-testid="confirmation">
                    <p>{move || consequence.get()}</p>
                    <div class="choice">
                        <button class="danger" on:click=move |_| { open.set(false); on_confirm.run(()); }>{confirm.clone()}</button>
                        <button on:click=move |_| open.set(false)>"Go back"</button>
                    </div>
                </div>
            }
            .into_any()
        } else {
            view! { <button class="danger" on:click=move |_| open.set(true)>{ask.clone()}</button> }.into_any()
        }
    }
}
