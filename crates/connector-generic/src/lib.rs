//! Banks of the Russian Open Banking protocol that have no crate of their own, added by
//! configuration alone (`BANKS=code|Name|https://url`, options as `<CODE>_<KEY>`): the protocol
//! crate's generic builder as an entry of core's registry table.
//!
//! Why a crate of its own: core depends on connector crates, never on a protocol crate
//! (`server -> graphql -> core -> connector-* -> openbanking-ru -> connector`), so the generic
//! builder reaches core's table the way every bank does — one crate, one line, one feature
//! (`generic`) — and turning that feature off leaves only the bank crates.

pub use crm_openbanking_ru::{build, OPTIONS, REGISTRATION};
