//! The SPA shell and its routes, one module per page.

mod home;
mod not_found;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

pub use home::HomePage;
pub use not_found::NotFoundPage;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="site-header">
                <A href="/" attr:class="brand">"Chat FB Top"</A>
            </header>
            <main class="site-main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Self-hosted. No analytics, no third-party requests."</p>
            </footer>
        </Router>
    }
}
