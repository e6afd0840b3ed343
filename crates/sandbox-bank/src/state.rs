//! One bank's state while it runs: tokens, consents and consent requests, the fault queue,
//! paging mode, and rows added through the control API on top of the generated history.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Approval, SandboxConfig};
use crate::history::{self, Tx};
use crate::world::{mix48, BankWorld, World};

/// What the next data call does instead of (or before) answering normally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Fault {
    /// Answers this status: a JSON `{"detail": ...}` body, or an nginx HTML page for 502/504.
    Status { status: u16 },
    /// Answers 429 with `Retry-After: seconds`.
    RateLimit { seconds: u64 },
    /// Answers 429 saying only when the limit resets: `X-RateLimit-Requests-Remaining: 0` and
    /// `X-RateLimit-Requests-Reset: seconds` (no `Retry-After`).
    RateLimitReset { seconds: u64 },
    /// Answers 200 with a JSON body of this many bytes, streamed without a `Content-Length`
    /// (a page gone wild: a client must stop reading at its limit).
    Oversize { bytes: u64 },
    /// Answers normally after this long (beyond a client's timeout: a timeout).
    Delay { millis: u64 },
    /// Answers 200 with the real body cut in half (a consistent `Content-Length`).
    Truncate,
    /// Answers 200 with JSON of the wrong shape.
    WrongShape,
    /// Answers 200 with an HTML page of a proxy.
    Html,
    /// Expires every token issued so far, then answers (the call itself gets a 401).
    ExpireTokens,
}

/// How transactions are paged. The default is stable; both knobs mimic what the protocol
/// document reports of real banks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    /// Rows with the same `bookingDateTime` come back in a different order on every query, so
    /// a read across pages can return one twice and miss another.
    #[serde(default)]
    pub shuffle_ties: bool,
    /// After this many more transaction-page requests a new row is booked (now), shifting later
    /// pages by one. Once.
    #[serde(default)]
    pub insert_after: Option<u32>,
    /// After this many more transaction-page requests the bank's three newest rows drop out of
    /// the list it pages (the total shrinks by three and later pages shift up, so a reader that
    /// trusts the last page's total skips three rows), until page 1 is asked for again: a read
    /// started afresh sees every row. Once.
    #[serde(default)]
    pub shrink_after: Option<u32>,
    /// Every read's pages after the first come from a list three rows shorter (a list that
    /// keeps changing under the reader: no read of several pages is ever whole).
    #[serde(default)]
    pub shrink_every_read: bool,
    /// After this many more transaction-page requests the client revokes, in the bank's app,
    /// the consent that request came with (before it is answered): a consent lost mid-read.
    /// Once.
    #[serde(default)]
    pub revoke_after: Option<u32>,
    /// The next last page of a read (the account's oldest rows) has this many of its last rows
    /// malformed (a `bookingDateTime` that is no date): a client refuses them. Once.
    #[serde(default)]
    pub garble_rows: Option<u32>,
}

/// Rows hidden from the front of the paged list while a shrink is in force.
pub(crate) const SHRUNK_ROWS: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConsentState {
    Authorized,
    Revoked,
}

pub(crate) struct ConsentRec {
    pub client: String,
    pub state: ConsentState,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub permissions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RequestState {
    Pending,
    Approved(String),
    Rejected,
}

pub(crate) struct RequestRec {
    pub client: String,
    pub state: RequestState,
    pub created: DateTime<Utc>,
    pub permissions: Vec<String>,
}

pub(crate) struct TokenRec {
    pub expires: DateTime<Utc>,
    pub epoch: u64,
}

/// Texts of a row added through the control API.
#[derive(Clone, Debug)]
pub(crate) struct CustomRow {
    pub description: String,
    pub merchant: Option<(String, String)>,
    pub counterparty: Option<String>,
}

/// Texts of the added rows of an account, by row id.
pub(crate) type CustomRows = HashMap<u64, CustomRow>;

/// An account's rows once the control API changed them.
#[derive(Clone)]
pub(crate) struct Overlay {
    pub rows: Arc<Vec<Tx>>,
    pub custom: HashMap<u64, CustomRow>,
    /// Signed sum of the added rows (minor units): what they did to the balance.
    pub delta: i64,
}

#[derive(Default)]
pub(crate) struct Runtime {
    pub tokens: HashMap<String, TokenRec>,
    pub epoch: u64,
    pub tokens_issued: u64,
    pub consents: HashMap<String, ConsentRec>,
    pub requests: HashMap<String, RequestRec>,
    pub ids: u64,
    pub faults: VecDeque<Option<Fault>>,
    pub faults_on_token_calls: bool,
    pub latency: Duration,
    pub paging: Paging,
    /// A shrink (`Paging::shrink_after`) is in force: the newest rows are left out of pages.
    pub shrunk: bool,
    pub page_requests: u64,
    pub date_filter: Option<bool>,
    pub noise: bool,
    pub overlays: HashMap<usize, Overlay>,
    pub added: u64,
    pub calls: u64,
    pub calls_without_request_id: u64,
    pub wrong_shapes: u64,
    /// Accounts closed through the control API: no longer listed (§9), still served by id.
    pub closed: HashSet<usize>,
    /// A misbehaving bank: `GET /cards` sends whole card numbers.
    pub full_card_numbers: bool,
}

/// A bank of the sandbox: its generated data (shared world) and its runtime state.
pub(crate) struct Bank {
    pub world: Arc<World>,
    pub index: usize,
    pub team_id: String,
    pub team_secret: String,
    pub token_ttl: Duration,
    pub control_token: Option<String>,
    histories: Vec<OnceLock<Arc<Vec<Tx>>>>,
    rt: Mutex<Runtime>,
}

impl Bank {
    pub fn new(world: Arc<World>, index: usize, config: &SandboxConfig) -> Bank {
        let accounts = world.banks[index].accounts.len();
        Bank {
            world,
            index,
            team_id: config.team_id.clone(),
            team_secret: config.team_secret.clone(),
            token_ttl: config.token_ttl,
            control_token: config.control_token.clone(),
            histories: (0..accounts).map(|_| OnceLock::new()).collect(),
            rt: Mutex::new(Runtime::default()),
        }
    }

    pub fn data(&self) -> &BankWorld {
        &self.world.banks[self.index]
    }

    pub fn code(&self) -> &str {
        &self.data().config.code
    }

    pub fn approval(&self) -> Approval {
        self.data().config.approval
    }

    /// The runtime state. A poisoned lock (a panic elsewhere) still yields the state: every
    /// update leaves it consistent.
    pub fn rt(&self) -> MutexGuard<'_, Runtime> {
        self.rt.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generated rows of an account, generated on first use.
    pub fn base_rows(&self, account: usize) -> Arc<Vec<Tx>> {
        self.histories[account]
            .get_or_init(|| Arc::new(history::generate(&self.world, self.data(), account)))
            .clone()
    }

    /// The account's rows as served now (generated plus added), newest first, and the texts of
    /// added rows.
    pub fn rows(&self, account: usize) -> (Arc<Vec<Tx>>, Option<Arc<CustomRows>>) {
        if let Some(o) = self.rt().overlays.get(&account) {
            return (o.rows.clone(), Some(Arc::new(o.custom.clone())));
        }
        (self.base_rows(account), None)
    }

    /// A new opaque id like `consent-46965b4ef205`, unique in this bank's run.
    pub fn new_id(&self, rt: &mut Runtime, prefix: &str) -> String {
        rt.ids += 1;
        let salt = self.data().salt;
        format!(
            "{prefix}-{:012x}",
            mix48(salt.rotate_left(7) ^ (rt.ids << 4 | 0xA))
        )
    }

    pub fn honours_date_filter(&self) -> bool {
        let rt = self.rt();
        rt.date_filter
            .unwrap_or(!self.data().config.quirks.ignores_date_filter)
    }

    /// Adds a row to an account (control API, unstable paging). Returns its id.
    pub fn add_row(&self, account: usize, mut row: Tx, custom: Option<CustomRow>) -> u64 {
        let base = self.base_rows(account);
        let mut rt = self.rt();
        rt.added += 1;
        let seq = self.data().accounts[account].seq;
        row.id = history::row_id(self.data().salt, seq, rt.added, true);
        let overlay = rt.overlays.entry(account).or_insert_with(|| Overlay {
            rows: base,
            custom: HashMap::new(),
            delta: 0,
        });
        overlay.delta += row.signed();
        let rows = Arc::make_mut(&mut overlay.rows);
        let at = rows.partition_point(|t| {
            (t.at, std::cmp::Reverse(t.id)) > (row.at, std::cmp::Reverse(row.id))
        });
        rows.insert(at, row);
        if let Some(c) = custom {
            overlay.custom.insert(row.id, c);
        }
        row.id
    }

    /// The bank takes a row back (a reversed booking): it is no longer listed and the balance
    /// no longer holds it. Returns whether the row was found.
    pub fn withdraw_row(&self, id: u64) -> bool {
        for account in 0..self.data().accounts.len() {
            let (rows, _) = self.rows(account);
            let Some(pos) = rows.iter().position(|t| t.id == id) else {
                continue;
            };
            let base = self.base_rows(account);
            let mut rt = self.rt();
            let overlay = rt.overlays.entry(account).or_insert_with(|| Overlay {
                rows: base,
                custom: HashMap::new(),
                delta: 0,
            });
            let rows = Arc::make_mut(&mut overlay.rows);
            let row = rows.remove(pos);
            overlay.delta -= row.signed();
            overlay.custom.remove(&row.id);
            return true;
        }
        false
    }

    /// Marks a pending row booked. Returns whether the row was found.
    pub fn book_row(&self, id: u64) -> bool {
        let candidates: Vec<usize> = (0..self.data().accounts.len()).collect();
        for account in candidates {
            let (rows, _) = self.rows(account);
            let Some(pos) = rows.iter().position(|t| t.id == id) else {
                continue;
            };
            let base = self.base_rows(account);
            let mut rt = self.rt();
            let overlay = rt.overlays.entry(account).or_insert_with(|| Overlay {
                rows: base,
                custom: HashMap::new(),
                delta: 0,
            });
            let rows = Arc::make_mut(&mut overlay.rows);
            if let Some(row) = rows.get_mut(pos) {
                row.flags &= !history::PENDING;
            }
            return true;
        }
        false
    }

    /// Signed balance of an account in minor units: the generated one plus added rows.
    pub fn balance(&self, account: usize) -> i64 {
        let target = self.data().accounts[account].target_balance;
        target + self.rt().overlays.get(&account).map_or(0, |o| o.delta)
    }

    /// Whether the account is closed now.
    pub fn is_closed(&self, account: usize) -> bool {
        self.rt().closed.contains(&account)
    }

    /// Back to the state just after start: consents, requests, faults, paging, overrides, added
    /// rows and counters are forgotten. Tokens stay valid.
    pub fn reset(&self) {
        let mut rt = self.rt();
        let tokens = std::mem::take(&mut rt.tokens);
        let epoch = rt.epoch;
        let ids = rt.ids;
        *rt = Runtime {
            tokens,
            epoch,
            ids,
            ..Runtime::default()
        };
    }
}
