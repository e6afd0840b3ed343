//! GraphQL object types. They wrap core's domain values; resolvers stay thin and call core.

mod analytics;
mod assistant;
mod brief;
mod client;
mod enums;
mod forecast;
mod holdings;
mod inputs;
mod objects;
mod rules;
mod signals;
mod sync;
mod teams;
mod wallet;
mod work;

pub use analytics::*;
pub use assistant::*;
pub use brief::*;
pub use client::{
    ClientConnection, ClientObject, TransactionConnection, TransactionReviewConnection,
};
pub use enums::*;
pub use forecast::*;
pub use holdings::*;
pub use inputs::*;
pub use objects::*;
pub use rules::*;
pub use signals::*;
pub use sync::*;
pub use teams::*;
pub use wallet::*;
pub use work::*;
