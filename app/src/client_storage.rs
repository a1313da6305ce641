//! Browser storage, strictly opt-in. Nothing of the app's is written to
//! localStorage or sessionStorage unless "Remember my settings on this
//! device" is on, and logout wipes every key under the app's prefix.

/// Every key the app writes starts with this.
pub const PREFIX: &str = "chatfbtop:";

#[cfg(target_arch = "wasm32")]
mod imp {
    use gloo_storage::{LocalStorage, SessionStorage, Storage};

    use super::PREFIX;

    const REMEMBER_KEY: &str = "chatfbtop:remember";

    pub fn enabled() -> bool {
        LocalStorage::get::<bool>(REMEMBER_KEY).unwrap_or(false)
    }

    pub fn set_enabled(on: bool) {
        if on {
            let _ = LocalStorage::set(REMEMBER_KEY, true);
        } else {
            wipe_all();
        }
    }

    pub fn save(key: &str, value: &str) {
        if enabled() {
            let _ = LocalStorage::set(format!("{PREFIX}{key}"), value);
        }
    }

    pub fn load(key: &str) -> Option<String> {
        if enabled() {
            LocalStorage::get(format!("{PREFIX}{key}")).ok()
        } else {
            None
        }
    }

    fn wipe(storage: web_sys::Storage) {
        let keys: Vec<String> = (0..storage.length().unwrap_or(0)).filter_map(|i| storage.key(i).ok().flatten()).collect();
        for key in keys.into_iter().filter(|k| k.starts_with(PREFIX)) {
            let _ = storage.remove_item(&key);
        }
    }

    pub fn wipe_all() {
        wipe(LocalStorage::raw());
        wipe(SessionStorage::raw());
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    //! The server build has no browser storage.
    pub fn enabled() -> bool {
        false
    }
    pub fn set_enabled(_on: bool) {}
    pub fn save(_key: &str, _value: &str) {}
    pub fn load(_key: &str) -> Option<String> {
        None
    }
    pub fn wipe_all() {}
}

pub use imp::{enabled, load, save, set_enabled, wipe_all};
