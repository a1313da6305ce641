//! The CSR entry point that Trunk builds into the WASM bundle.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
    // The static shell index.html shows while this WASM loads.
    if let Some(shell) = leptos::prelude::document().get_element_by_id("loading-shell") {
        shell.remove();
    }
}
