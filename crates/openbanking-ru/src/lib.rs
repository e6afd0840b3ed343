//! `crm-openbanking-ru`: the typed client of the Russian Open Banking API as deployed for the
//! HackAPI sandbox (`../shared/openbanking-ru.md`). One [`OpenBankingClient`] per bank implements
//! `crm_connector::BankConnector`; bank crates configure it with their settings and quirks, and
//! [`build`] ([`REGISTRATION`]) is the generic builder for banks added by configuration alone.
//!
//! Architecture invariant: knows HTTP and this wire format; knows nothing of the database or of
//! core. Retry, backoff and token caching live here once for every bank of the protocol.

mod client;
mod config;
mod parse;
mod retry;
mod wire;

pub use client::{BankSettings, ConsentApproval, OpenBankingClient, TokenStyle};
pub use config::{build, connect, OPTIONS, REGISTRATION};
pub use retry::{parse_retry_after, RetryPolicy};
