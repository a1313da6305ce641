//! Messenger (issue 6, in progress): what Meta sends is checked here first.

pub mod signature;
