use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="card" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><A href="/">"Back to the home page"</A></p>
        </section>
    }
}
