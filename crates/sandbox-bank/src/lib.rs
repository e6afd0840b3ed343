//! `crm-sandbox-bank`: an independent bank server of the Russian Open Banking protocol
//! (HackAPI flavour, `../shared/openbanking-ru.md`) for development, demos and tests. Several
//! banks run in one process, each with deterministic data generated from a seed, a control API
//! that plays the client and the chaos, and the quirks real banks have. It shares no code with
//! the connectors (`crm-openbanking-ru`): its wire types are its own, so connectors are tested
//! against an independent implementation.
//!
//! # Rust API
//! ```no_run
//! # async fn demo() -> Result<(), crm_sandbox_bank::SandboxError> {
//! use crm_sandbox_bank::{Sandbox, SandboxConfig, Volume, Fault};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;   // abank, vbank, sbank
//! let url = sandbox.url("abank").expect("configured");             // http://127.0.0.1:<port>
//! let clients = sandbox.client_ids("abank");                       // ["team200-1", ...]
//! let control = sandbox.control("sbank").expect("configured");
//! for request in control.consent_requests() {
//!     control.approve(&request.request_id).ok();                   // the client approves
//! }
//! control.inject(Fault::Status { status: 503 }, 2);                // the next two calls fail
//! sandbox.stop().await;
//! // Benchmarks: a million transactions over the same twenty people.
//! let big = SandboxConfig::default().with_volume(Volume::Total(1_000_000));
//! # let _ = (url, clients, big); Ok(()) }
//! ```
//! - [`SandboxConfig`]: seed, team credentials (`team200` and a 32-character secret by
//!   default), banks ([`BankConfig`] with [`Approval`] and [`Quirks`]), persons (20), months of
//!   history (6..=12), [`Volume`] (realistic, or an exact total for benchmarks), token TTL,
//!   anchor (the end of history; the start of the current UTC day by default), control token.
//! - [`Sandbox::new`] lays the world out; [`Sandbox::start`] / [`Sandbox::start_with`] bind
//!   ([`Bind`]: loopback ports, consecutive ports, or an address per bank) and return a
//!   [`RunningSandbox`] with `url`, `addr`, `banks`, `client_ids`, `control`, `stop`.
//!   [`Sandbox::router`] gives a bank's axum `Router` to mount elsewhere; [`serve`] runs until a
//!   shutdown future completes (a standalone command).
//! - [`BankHandle`] steers one bank (the same operations as the HTTP control API below).
//! - With the `conformance` feature, `conformance::SandboxControl` implements the conformance
//!   kit's `BankControl` for a bank of the sandbox.
//!
//! # The default world
//! Twenty people `team200-1 ..= team200-20` with realistic Russian full names (the same person
//! has the same id and name everywhere); each bank holds ten or more of them, some people bank at
//! two or three banks. Each has one to three accounts per bank: a RUB salary account at their
//! main bank, card accounts topped up from it elsewhere, savings, credit cards, USD/EUR accounts
//! and loan accounts. Six to twelve months of history: salary (or irregular freelance income, or
//! a pension), rent, utilities and telecom by autopayment on one day, subscriptions on fixed
//! days, loan payments, savings top-ups and interest, groceries, cafes, delivery, taxi,
//! marketplaces, pharmacies, fuel, travel, cash, transfers by SBP, refunds, cashback — real chains
//! with real MCC codes. People differ: affluent (high salary, savings), steady, and stretched
//! (overdrafts shown as `Debit` balances, cash, heavy loan payments). A few thousand transactions
//! per bank; each bank has an account of several hundred transactions, and a newcomer with an
//! empty account. Loan accounts carry a loan agreement; some clients of their salary bank hold
//! a deposit (a `Deposit` account appended after every other one, funded from the salary
//! account, with a maturity): `GET /product-agreements`. Every card account has a card with
//! expiry, limits and a status (`GET /cards`). Own transfers between banks are booked on both
//! sides with the same amount, the credit 0 to 2 days after the debit, in §12's texts: the
//! payer's row names the payee's bank and account number, the payee's the paying bank.
//!
//! # Protocol
//! `POST /auth/bank-token?client_id&client_secret`, `POST /oauth2/token` (RFC 6749, with the
//! `oauth2_token_endpoint` quirk), `POST /account-consents/request`,
//! `GET|DELETE /account-consents/{id}`, `GET /accounts?client_id=`,
//! `GET /accounts/{id}/balances`, `GET /accounts/{id}/transactions?page&limit[&from_booking_date_time&to_booking_date_time]`,
//! `GET /products[?product_type=]`, `GET /products/{id}`, `GET /cards?client_id=` and
//! `GET /cards/{id}` (§11: a `ReadCards` consent with `x-requesting-bank`, ownership without),
//! `GET /product-agreements?client_id=` and `GET /product-agreements/{id}` (§10: no consent) — with the document's headers, shapes,
//! status codes and error bodies. Quirks per bank: ABank takes consent requests without a
//! token; VBank sends some amounts as numbers and times without `Z`, ignores the date filter
//! and keeps answering account-level calls for ten minutes after a revocation; SBank needs the
//! client's approval and speaks the standard's `Booked`/`Pending`.
//!
//! # Control API (HTTP, on each bank's port, JSON)
//! | call | does |
//! |---|---|
//! | `GET /sandbox` | code, name, approval, client ids, the empty client, the busiest account, products, counters |
//! | `GET /sandbox/stats` | calls, calls without `x-fapi-interaction-id`, tokens issued, page requests, queued faults |
//! | `GET /sandbox/clients`, `GET /sandbox/clients/{id}` | clients with accounts, true counts and balances |
//! | `POST /sandbox/clients/{id}/revoke-consents` | the client revokes every consent: `{"revoked": n}` |
//! | `GET /sandbox/consent-requests` | requests with status `pending`/`approved`/`rejected` |
//! | `POST /sandbox/consent-requests/{id}/approve` | the client approves: `{"consentId"}` (a new id) |
//! | `POST /sandbox/consent-requests/{id}/reject` | the client rejects |
//! | `GET /sandbox/consents` | consents and their status |
//! | `POST /sandbox/faults` | `{"fault": F, "count": 1, "after": 0}` queues `count` faults after `after` normal calls; `F` is `{"type":"status","status":503}`, `{"type":"rateLimit","seconds":1}`, `{"type":"rateLimitReset","seconds":3600}` (429 with `X-RateLimit-Requests-Reset` only), `{"type":"oversize","bytes":20000000}` (a 200 body that large, streamed), `{"type":"delay","millis":1500}`, `{"type":"truncate"}`, `{"type":"wrongShape"}`, `{"type":"html"}` or `{"type":"expireTokens"}` |
//! | `DELETE /sandbox/faults` | clears the queue |
//! | `PUT /sandbox/faults/scope` | `{"tokenCalls": true}`: faults hit the token calls too |
//! | `PUT /sandbox/latency` | `{"millis": 200}` before every call |
//! | `POST /sandbox/tokens/expire` | every issued token answers 401 from now on |
//! | `PUT /sandbox/paging` | `{"shuffleTies": true, "insertAfter": 2}` unstable paging; `{"shrinkAfter": 2}` the total shrinks from the 2nd page request until a read restarts, `{"shrinkEveryRead": true}` in every read; `{"revokeAfter": 3}` the client revokes the consent of the 3rd page request; `{"garbleRows": 4}` the next read's 4 oldest rows are malformed; `{}` stable |
//! | `PUT /sandbox/date-filter` | `{"honour": false}` ignore the date filter, `null` the bank's default |
//! | `PUT /sandbox/noise` | `{"enabled": true}` unknown fields everywhere |
//! | `GET /sandbox/accounts/{id}` | the account with its true count and balance |
//! | `GET /sandbox/accounts/{id}/transactions[?rows=true]` | the true count (and rows) |
//! | `POST /sandbox/accounts/{id}/transactions` | books a row now: `{"amount":"120.00","direction":"debit","description":"...","pending":true,"merchant":{"name":"...","mcc":"5411"}}` → `{"transactionId"}` |
//! | `POST /sandbox/transactions/{id}/book` | a pending row becomes booked |
//! | `POST /sandbox/transactions/{id}/withdraw` | the bank takes a row back: it is no longer listed, nor in the balance (a booking reversed) |
//! | `POST /sandbox/clients/{id}/consents` | `{"permissions": ["ReadAccountsDetail"]}` grants a consent with exactly these (an old one without `ReadCards`): `{"consentId"}` |
//! | `GET /sandbox/clients/{id}/cards`, `GET /sandbox/clients/{id}/agreements` | the client's cards and deposit/loan agreements as the bank holds them |
//! | `POST /sandbox/accounts/{id}/close` | closes the account (§9: no money moves, it drops out of `GET /accounts`, still served by id, its agreement reads `closed`) |
//! | `POST /sandbox/accounts/{id}/reopen` | lists it again |
//! | `PUT /sandbox/cards/full-numbers` | `{"enabled": true}`: `GET /cards` sends whole card numbers (a misbehaving bank) |
//! | `POST /sandbox/reset` | back to the state after start (tokens stay valid; closed accounts reopen) |
//!
//! Faults apply to every protocol call but the token calls (unless the scope says so), in
//! queue order. With
//! `control_token` set, control calls need `Authorization: Bearer <token>`.

mod api;
mod catalog;
mod config;
mod control;
mod faults;
mod history;
mod names;
mod render;
mod scenarios;
mod server;
mod state;
mod world;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use config::{
    Approval, BankConfig, Quirks, SandboxConfig, Volume, DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET,
};
pub use control::{
    AccountInfo, AgreementInfo, BankHandle, CardInfo, ClientInfo, ConsentInfo, ConsentRequestInfo,
    ControlError, Direction, NewMerchant, NewTransaction, Stats, TransactionInfo,
};
pub use server::{serve, BankInfo, Bind, RunningSandbox, Sandbox};
pub use state::{Fault, Paging};
pub use world::{AccountKind, HeldProduct, Profile};

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox configuration: {0}")]
    Config(String),
    #[error("no address given for bank {0}")]
    UnknownBank(String),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}
