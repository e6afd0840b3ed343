//! GraphQL object types. They wrap core's domain values; resolvers stay thin and call core.

mod analytics;
mod client;
mod enums;
mod inputs;
mod objects;
mod sync;

pub use analytics::*;
pub use client::{ClientConnection, ClientObject, TransactionConnection};
pub use enums::*;
pub use inputs::*;
pub use objects::*;
pub use sync::*;
