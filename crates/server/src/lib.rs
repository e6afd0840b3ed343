//! `crm-server`: the `ai-crm` binary's library — configuration, the HTTP transport, sessions,
//! GraphiQL, the websocket and the command line. It is the only crate that reads the environment.

pub mod app;
pub mod brief_pdf;
pub mod cli;
pub mod config;
pub mod demo;
pub mod export;
pub mod http;
pub mod scheduler;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testkit;
