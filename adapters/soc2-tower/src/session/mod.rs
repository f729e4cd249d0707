//! The session middleware: [`SessionLayer`] and its [`SessionService`].

mod layer;
mod service;

pub use layer::SessionLayer;
pub use service::SessionService;
