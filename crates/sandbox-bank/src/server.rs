//! Starting and stopping banks: one axum server per bank, each with the protocol endpoints and
//! the control API, on loopback ports of its own (tests, embedding) or on given addresses (a
//! standalone command).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Approval, SandboxConfig};
use crate::control::BankHandle;
use crate::state::Bank;
use crate::world::{HeldProduct, World};
use crate::SandboxError;

/// Where the banks listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bind {
    /// `127.0.0.1` on a free port per bank.
    Loopback,
    /// `host` on consecutive ports from `first_port`, one per bank in configuration order.
    Consecutive { host: IpAddr, first_port: u16 },
    /// An address per bank code; every bank needs one.
    Addresses(Vec<(String, SocketAddr)>),
}

/// A bank as a caller needs to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BankInfo {
    pub code: String,
    pub name: String,
    pub url: String,
    pub approval: Approval,
}

/// The banks of a configuration, generated and ready to serve (not listening yet).
pub struct Sandbox {
    config: SandboxConfig,
    banks: Vec<Arc<Bank>>,
}

impl Sandbox {
    /// Checks the configuration and lays out the world (people, accounts, products).
    /// Transactions are generated per account on first use.
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        config.validate()?;
        let world = Arc::new(World::generate(&config));
        let banks = (0..config.banks.len())
            .map(|i| Arc::new(Bank::new(world.clone(), i, &config)))
            .collect();
        Ok(Sandbox { config, banks })
    }

    /// Starts every bank on loopback, each on a free port.
    pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
        Sandbox::new(config)?.listen(Bind::Loopback).await
    }

    /// Starts every bank where `bind` says.
    pub async fn start_with(
        config: SandboxConfig,
        bind: Bind,
    ) -> Result<RunningSandbox, SandboxError> {
        Sandbox::new(config)?.listen(bind).await
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// The control handle of a bank.
    pub fn control(&self, code: &str) -> Option<BankHandle> {
        self.banks
            .iter()
            .find(|b| b.code() == code)
            .map(|b| BankHandle { bank: b.clone() })
    }

    /// The bank's HTTP application (protocol endpoints and `/sandbox` control API), to mount
    /// in another server (`Router::nest("/banks/abank", router)` works: the protocol's paths are
    /// relative to wherever it is mounted).
    pub fn router(&self, code: &str) -> Option<Router> {
        self.banks
            .iter()
            .find(|b| b.code() == code)
            .map(|b| app(b.clone()))
    }

    /// Binds every bank and serves until [`RunningSandbox::stop`] (or drop).
    pub async fn listen(self, bind: Bind) -> Result<RunningSandbox, SandboxError> {
        let mut listeners = Vec::with_capacity(self.banks.len());
        for (i, bank) in self.banks.iter().enumerate() {
            let addr = match &bind {
                Bind::Loopback => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                Bind::Consecutive { host, first_port } => {
                    let port = u16::try_from(usize::from(*first_port) + i).map_err(|_| {
                        SandboxError::Config(format!("bind: no port {first_port} + {i}"))
                    })?;
                    SocketAddr::new(*host, port)
                }
                Bind::Addresses(list) => list
                    .iter()
                    .find(|(code, _)| code == bank.code())
                    .map(|(_, a)| *a)
                    .ok_or_else(|| SandboxError::UnknownBank(bank.code().to_owned()))?,
            };
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| SandboxError::Bind { addr, source })?;
            let local = listener
                .local_addr()
                .map_err(|source| SandboxError::Bind { addr, source })?;
            listeners.push((listener, local));
        }
        let (shutdown, rx) = watch::channel(false);
        let mut running = Vec::with_capacity(self.banks.len());
        for (bank, (listener, addr)) in self.banks.iter().zip(listeners) {
            let mut rx = rx.clone();
            let router = app(bank.clone());
            let code = bank.code().to_owned();
            let task = tokio::spawn(async move {
                let stopped = async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::warn!(bank = %code, "sandbox bank stopped: {e}");
                }
            });
            let host = match addr.ip() {
                ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                ip => ip,
            };
            tracing::info!(bank = bank.code(), %addr, "sandbox bank listening");
            running.push(RunningBank {
                handle: BankHandle { bank: bank.clone() },
                addr,
                url: format!("http://{}", SocketAddr::new(host, addr.port())),
                task,
            });
        }
        Ok(RunningSandbox {
            config: self.config,
            banks: running,
            shutdown,
        })
    }
}

fn app(bank: Arc<Bank>) -> Router {
    crate::api::routes(bank.clone()).merge(crate::control::routes(bank))
}

struct RunningBank {
    handle: BankHandle,
    addr: SocketAddr,
    url: String,
    task: JoinHandle<()>,
}

/// Banks serving HTTP. Dropping it stops them too; [`RunningSandbox::stop`] waits until they
/// have.
pub struct RunningSandbox {
    config: SandboxConfig,
    banks: Vec<RunningBank>,
    shutdown: watch::Sender<bool>,
}

impl RunningSandbox {
    fn find(&self, code: &str) -> Option<&RunningBank> {
        self.banks.iter().find(|b| b.handle.code() == code)
    }

    /// The bank's base URL, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn url(&self, code: &str) -> Option<String> {
        self.find(code).map(|b| b.url.clone())
    }

    pub fn addr(&self, code: &str) -> Option<SocketAddr> {
        self.find(code).map(|b| b.addr)
    }

    /// Every bank: code, name, URL, approval mode, in configuration order.
    pub fn banks(&self) -> Vec<BankInfo> {
        self.banks
            .iter()
            .map(|b| BankInfo {
                code: b.handle.code().to_owned(),
                name: b.handle.name().to_owned(),
                url: b.url.clone(),
                approval: b.handle.approval(),
            })
            .collect()
    }

    /// The client ids the bank knows (`team200-1`, ...); empty for an unknown code.
    pub fn client_ids(&self, code: &str) -> Vec<String> {
        self.find(code)
            .map(|b| b.handle.client_ids())
            .unwrap_or_default()
    }

    /// The bank's control handle.
    pub fn control(&self, code: &str) -> Option<BankHandle> {
        self.find(code).map(|b| b.handle.clone())
    }

    /// Every product a person holds at any bank, and loans from lenders outside the sandbox:
    /// the truth an inference of held-away products is measured against.
    pub fn products_of(&self, person_id: &str) -> Vec<HeldProduct> {
        self.banks
            .first()
            .map(|b| b.handle.bank.world.products_of(person_id))
            .unwrap_or_default()
    }

    pub fn team_id(&self) -> &str {
        &self.config.team_id
    }

    pub fn team_secret(&self) -> &str {
        &self.config.team_secret
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Stops accepting, lets answers in flight finish (up to five seconds), then returns.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        for b in std::mem::take(&mut self.banks) {
            let abort = b.task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), b.task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Runs the sandbox until `shutdown` completes (for a standalone command: pass ctrl-c).
pub async fn serve(
    config: SandboxConfig,
    bind: Bind,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SandboxError> {
    let running = Sandbox::start_with(config, bind).await?;
    for b in running.banks() {
        tracing::info!(bank = %b.code, url = %b.url, "sandbox bank ready");
    }
    shutdown.await;
    running.stop().await;
    Ok(())
}
