//! The client's view of who is signed in, shared through context.

use leptos::prelude::*;

use crate::api::current_user;
use crate::types::CurrentUser;

#[derive(Clone, Copy)]
pub struct Auth {
    pub user: RwSignal<Option<CurrentUser>>,
    /// False until the first answer from the server.
    pub checked: RwSignal<bool>,
}

impl Auth {
    pub fn provide() -> Auth {
        let auth = Auth { user: RwSignal::new(None), checked: RwSignal::new(false) };
        provide_context(auth);
        leptos::task::spawn_local(async move {
            let user = current_user().await.ok().flatten();
            auth.user.set(user);
            auth.checked.set(true);
        });
        auth
    }

    pub fn get() -> Auth {
        expect_context::<Auth>()
    }

    /// After logout: forget the user and every app key in browser storage.
    pub fn signed_out(&self) {
        crate::client_storage::wipe_all();
        self.user.set(None);
    }
}

/// Seconds since the epoch as a time of day (hours, minutes, seconds) in the
/// browser's zone; UTC outside the browser.
pub fn format_clock(unix_secs: i64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
        String::from(date.to_locale_time_string("en-GB"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let secs = unix_secs.rem_euclid(86_400);
        format!("{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

/// Minutes the browser's time zone is east of UTC now (60 in Paris in winter); 0 outside the browser.
pub fn browser_utc_offset_minutes() -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        -(js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// Seconds since the epoch as a short day ("4 Dec") in the browser's zone; the day number outside the browser.
pub fn format_day(unix_secs: i64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"day".into(), &"numeric".into());
        let _ = js_sys::Reflect::set(&options, &"month".into(), &"short".into());
        String::from(date.to_locale_date_string("en-GB", &options))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        (unix_secs.div_euclid(86_400)).to_string()
    }
}

/// Seconds since the epoch as a readable date, in the browser's zone or UTC.
pub fn format_time(unix_secs: i64, utc: bool) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
        if utc {
            String::from(date.to_iso_string()).replace('T', " ").chars().take(16).collect::<String>() + " UTC"
        } else {
            String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = utc;
        unix_secs.to_string()
    }
}
