//! The sync engine against an in-process bank (the conformance kit runs the real protocol client
//! against the sandbox bank; here the engine's own rules are checked quickly on both databases).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
// Amounts are written as rubles_kopecks (150_000_00) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use crm_connector::*;
use crm_core::auth::Actor;
use crm_core::banks::BankRegistry;
use crm_core::clients::NewClient;
use crm_core::domain::{ConsentStatus as LinkConsent, Role};
use crm_core::links::LinkState;
use crm_core::sync::{LinkResult, SyncRunStatus, SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::transactions::TransactionFilter;
use crm_core::{Core, CoreSettings};
use rust_decimal::Decimal;

#[derive(Default)]
struct BankState {
    approved: bool,
    revoked: bool,
    /// Consents issued so far (ids are `consent-<n>`), and the one in force.
    issued: u32,
    /// Per client id.
    active: std::collections::HashMap<String, String>,
    fail_account: Option<String>,
    /// Every data call answers 503.
    down: bool,
    /// Consent calls fail as if the network were cut.
    unreachable: bool,
    /// The oldest rows of each read are not delivered (and are reported as a shortfall).
    short: u64,
    /// Rows refused as malformed by the connector: left out of a read and reported as rejected.
    refused: Vec<String>,
    /// The consent is revoked in the bank's app when this data call comes (`balances`,
    /// `transactions`, `agreements`, `cards`): that call and every later one need consent.
    revoke_on: Option<&'static str>,
    /// Every data call answers 429, the limit resetting after this long.
    limited: Option<std::time::Duration>,
    /// Our credentials are refused (the connector's token renewal failed too).
    credentials_refused: bool,
    /// Catalogue reads so far.
    product_calls: u32,
    /// Data calls (accounts, balances, transactions) made so far.
    data_calls: u32,
    accounts: Vec<AccountData>,
    transactions: Vec<TransactionData>,
}

struct FakeBank {
    identity: BankIdentity,
    auto_approve: bool,
    state: Mutex<BankState>,
}

fn err(detail: &str) -> ConnectorError {
    ConnectorError::ConsentRequired {
        bank: "fake".into(),
        detail: detail.into(),
    }
}

impl FakeBank {
    /// A data call other than the accounts list: refused once the consent is revoked, which
    /// happens at the call `revoke_on` names.
    fn data_call(&self, call: &str) -> ConnectorResult<()> {
        let mut s = self.state.lock().unwrap();
        s.data_calls += 1;
        if s.revoke_on == Some(call) {
            s.revoked = true;
        }
        if s.revoked {
            return Err(err("consent revoked"));
        }
        Ok(())
    }
}

#[async_trait]
impl BankConnector for FakeBank {
    fn identity(&self) -> &BankIdentity {
        &self.identity
    }
    async fn request_consent(&self, client_id: &str) -> ConnectorResult<Consent> {
        if self.state.lock().unwrap().unreachable {
            return Err(ConnectorError::Network {
                bank: self.identity.code.clone(),
                detail: "connection refused".into(),
            });
        }
        let known = client_id
            .strip_prefix("team200-")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=10).contains(&n));
        if !known {
            return Err(ConnectorError::NotFound {
                bank: "fake".into(),
                detail: format!("Client {client_id} not found"),
            });
        }
        let mut s = self.state.lock().unwrap();
        s.issued += 1;
        let id = format!("consent-{}", s.issued);
        if self.auto_approve {
            s.approved = true;
            s.revoked = false;
            s.active.insert(client_id.to_owned(), id.clone());
        }
        Ok(Consent {
            status: if self.auto_approve {
                ConsentStatus::Authorized
            } else {
                ConsentStatus::AwaitingAuthorization
            },
            consent_id: self.auto_approve.then_some(id),
            request_id: Some("req-1".into()),
            expires_at: Some(Utc::now() + Duration::days(365)),
            message: None,
        })
    }
    async fn consent_status(&self, _client: &str, consent: &Consent) -> ConnectorResult<Consent> {
        let s = self.state.lock().unwrap();
        let status = if s.approved {
            ConsentStatus::Authorized
        } else {
            ConsentStatus::AwaitingAuthorization
        };
        Ok(Consent {
            status,
            ..consent.clone()
        })
    }
    async fn revoke_consent(&self, id: &str) -> ConnectorResult<()> {
        let mut s = self.state.lock().unwrap();
        if s.active.values().any(|a| a == id) || !self.auto_approve {
            s.revoked = true;
        }
        Ok(())
    }
    async fn accounts(&self, access: &Access<'_>) -> ConnectorResult<Vec<AccountData>> {
        let mut s = self.state.lock().unwrap();
        s.data_calls += 1;
        if s.credentials_refused {
            return Err(ConnectorError::Unauthorized {
                bank: "fake".into(),
                detail: "invalid client credentials".into(),
            });
        }
        if let Some(reset) = s.limited {
            return Err(ConnectorError::RateLimited {
                bank: "fake".into(),
                retry_after: Some(reset),
            });
        }
        if s.down {
            return Err(ConnectorError::Unavailable {
                bank: "fake".into(),
                status: 503,
            });
        }
        if !s.approved || s.revoked {
            return Err(err("no consent"));
        }
        if let (Some(asked), Some(active)) = (access.consent_id, s.active.get(access.client_id)) {
            if asked != active {
                return Err(err("unknown consent"));
            }
        }
        if access.client_id != "team200-1" {
            return Ok(vec![]);
        }
        Ok(s.accounts.clone())
    }
    async fn balances(
        &self,
        _access: &Access<'_>,
        _account: &str,
    ) -> ConnectorResult<Vec<BalanceData>> {
        self.data_call("balances")?;
        Ok(vec![BalanceData {
            kind: BalanceKind::InterimAvailable,
            amount: Decimal::new(1_000_00, 2),
            currency: "RUB".into(),
            at: None,
        }])
    }
    async fn transactions(
        &self,
        _a: &Access<'_>,
        account: &str,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
    ) -> ConnectorResult<TransactionBatch> {
        self.data_call("transactions")?;
        let s = self.state.lock().unwrap();
        if s.fail_account.as_deref() == Some(account) {
            return Err(ConnectorError::Unavailable {
                bank: "fake".into(),
                status: 503,
            });
        }
        let mut transactions: Vec<TransactionData> = s
            .transactions
            .iter()
            .filter(|t| t.account_id == account && t.booked_at >= from && t.booked_at <= to)
            .cloned()
            .collect();
        let total = transactions.len() as u64;
        // Newest first, as banks page; the oldest rows fall off a short read.
        transactions.sort_by_key(|t| std::cmp::Reverse(t.booked_at));
        let kept = total.saturating_sub(s.short) as usize;
        transactions.truncate(kept);
        let delivered = transactions.len();
        transactions.retain(|t| !s.refused.contains(&t.id));
        let rejected = (transactions.len()..delivered)
            .map(|_| "bookingDateTime is not a date".to_owned())
            .collect();
        Ok(TransactionBatch {
            reported_total: Some(total),
            shortfall: total - kept as u64,
            transactions,
            rejected,
        })
    }
    async fn product_agreements(
        &self,
        _access: &Access<'_>,
    ) -> ConnectorResult<Vec<ProductAgreementData>> {
        self.data_call("agreements")?;
        Ok(vec![])
    }
    async fn cards(&self, _access: &Access<'_>) -> ConnectorResult<Vec<CardData>> {
        self.data_call("cards")?;
        Ok(vec![])
    }
    async fn products(&self) -> ConnectorResult<Vec<ProductData>> {
        self.state.lock().unwrap().product_calls += 1;
        Ok(vec![ProductData {
            id: "prod-dep-01".into(),
            product_type: ProductType::Deposit,
            name: "Надёжный вклад".into(),
            description: None,
            interest_rate: Some(Decimal::new(165, 1)),
            min_amount: Some(Decimal::new(50_000, 0)),
            max_amount: None,
            term_months: Some(12),
        }])
    }
}

fn account(id: &str) -> AccountData {
    AccountData {
        id: id.into(),
        status: AccountStatus::Enabled,
        currency: "RUB".into(),
        account_type: "Personal".into(),
        account_subtype: None,
        kind: crm_connector::AccountKind::Current,
        nickname: Some(format!("Счёт {id}")),
        number: Some("40817810099910004312".into()),
        holder_name: Some("Иванов Иван Иванович".into()),
        opened_on: None,
    }
}

fn tx(
    id: &str,
    account: &str,
    minor: i64,
    credit: bool,
    days_ago: i64,
    pending: bool,
) -> TransactionData {
    TransactionData {
        id: id.into(),
        account_id: account.into(),
        amount: Decimal::new(minor, 2),
        currency: "RUB".into(),
        direction: if credit {
            Direction::Credit
        } else {
            Direction::Debit
        },
        status: if pending {
            BookingStatus::Pending
        } else {
            BookingStatus::Booked
        },
        raw_status: None,
        booked_at: Utc::now() - Duration::days(days_ago),
        value_at: None,
        description: format!("Операция {id}"),
        bank_transaction_code: None,
        merchant: None,
        card_masked: None,
        card_id: None,
        counterparty: None,
        counterparty_account: None,
        counterparty_bank: None,
    }
}

async fn setup(auto_approve: bool) -> (Arc<Core>, Arc<FakeBank>, TestDatabase, i64) {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let bank = Arc::new(FakeBank {
        identity: BankIdentity {
            code: "fake".into(),
            name: "FakeBank".into(),
        },
        auto_approve,
        state: Mutex::new(BankState {
            accounts: vec![account("acc-1"), account("acc-2")],
            transactions: vec![
                tx("tx-1", "acc-1", 150_000_00, true, 40, false),
                tx("tx-2", "acc-1", 1_249_50, false, 10, false),
                tx("tx-3", "acc-2", 500_00, false, 5, false),
                tx("tx-4", "acc-2", 500_00, false, 5, false),
            ],
            ..Default::default()
        }),
    });
    let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
    let core = Arc::new(Core::new(tdb.db.clone(), CoreSettings::default(), registry).unwrap());
    let admin = Actor {
        user_id: 1,
        username: "admin".into(),
        role: Role::Admin,
        session_id: 0,
        password_change_required: false,
    };
    let client = core
        .create_client(
            &admin,
            NewClient {
                display_name: "team200-1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (core, bank, tdb, client.id)
}

/// The run is partial, the client's link says `code` and is incomplete, and its message holds
/// `words`.
async fn assert_incomplete(
    core: &Core,
    client: i64,
    run: &crm_core::sync::SyncRunSummary,
    code: &str,
    words: &str,
) {
    assert_eq!(run.status, SyncRunStatus::Partial, "{run:?}");
    let links = run_links(core, run.id).await;
    assert_eq!(links[&client], (LinkResult::Partial, Some(code.into())));
    let link = link_of(core, client).await;
    assert_eq!(link.state(Utc::now(), 7), LinkState::Incomplete);
    let message = link.status_message.unwrap_or_default();
    assert!(message.contains(words), "{message}");
}

/// Links the client at the fake bank and syncs once, completely.
async fn link_and_sync(core: &Core, client: i64) {
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    let first = sync_all(core).await;
    assert_eq!(first.status, SyncRunStatus::Succeeded, "{first:?}");
}

/// A manual run over every link.
async fn sync_all(core: &Core) -> crm_core::sync::SyncRunSummary {
    core.sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap()
}

fn admin() -> Actor {
    Actor {
        user_id: 1,
        username: "admin".into(),
        role: Role::Admin,
        session_id: 0,
        password_change_required: false,
    }
}

async fn row_count(core: &Core, client: i64) -> (u64, u64) {
    let counted = core
        .count_transactions(client, &TransactionFilter::default())
        .await
        .unwrap();
    let all = TransactionFilter {
        from: Some(Utc::now() - Duration::days(3650)),
        ..Default::default()
    };
    (
        counted,
        core.count_transactions(client, &all).await.unwrap(),
    )
}

#[tokio::test]
async fn syncing_twice_changes_nothing_the_second_time() {
    let (core, _bank, tdb, client) = setup(true).await;
    let link = core
        .sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    assert_eq!(link.consent_status, LinkConsent::Authorized);
    let first = sync_all(&core).await;
    assert_eq!(
        (
            first.status,
            first.accounts,
            first.added,
            first.updated,
            first.unchanged
        ),
        (SyncRunStatus::Succeeded, 2, 4, 0, 0),
        "{first:?}"
    );
    let second = sync_all(&core).await;
    // The second run re-reads only the overlap window behind the newest booked row (7 days
    // before 5 days ago): the three recent rows, unchanged.
    assert_eq!(
        (second.added, second.updated, second.unchanged),
        (0, 0, 3),
        "{second:?}"
    );
    assert_eq!(row_count(&core, client).await, (4, 4));
    // The first sync is on the client's timeline once, with its money; the second brought
    // nothing and is not.
    let timeline = core
        .timeline(&crm_core::testing::admin(), client, 50, None, &[])
        .await
        .unwrap();
    let syncs: Vec<_> = timeline
        .entries
        .iter()
        .filter(|e| e.kind == crm_core::domain::TimelineKind::SyncImported)
        .collect();
    assert_eq!(syncs.len(), 1, "{:?}", timeline.entries);
    assert_eq!(
        syncs[0].summary.ru,
        "FakeBank: 4 новые операции, списано 2\u{a0}249,50\u{a0}₽, поступило 150\u{a0}000\u{a0}₽"
    );
    assert_eq!(
        syncs[0].summary.en,
        "FakeBank: 4 new transactions, ₽2,249.50 out, ₽150,000 in"
    );
    assert!(timeline
        .entries
        .iter()
        .any(|e| e.kind == crm_core::domain::TimelineKind::BankLinked));
    // Two identical coffees on one day stay two transactions.
    let stats = core.stats(&crm_core::testing::admin()).await.unwrap();
    assert_eq!(stats.income.minor, 150_000_00);
    assert_eq!(stats.expense.minor, 1_249_50 + 500_00 + 500_00);
    // The bank's products were stored once, however often it synced.
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        crm_core::entity::products::Entity::find()
            .count(core.db().conn())
            .await
            .unwrap(),
        1
    );
    // The client created from the bank id took the holder's name.
    assert_eq!(
        core.client(client).await.unwrap().display_name,
        "Иванов Иван Иванович"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_pending_row_booked_under_a_new_id_is_replaced_not_doubled() {
    let (core, bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    bank.state
        .lock()
        .unwrap()
        .transactions
        .push(tx("tx-p", "acc-1", 777_00, false, 1, true));
    sync_all(&core).await;
    assert_eq!(row_count(&core, client).await, (5, 5));
    let expense_before = core
        .stats(&crm_core::testing::admin())
        .await
        .unwrap()
        .expense
        .minor;
    {
        let mut s = bank.state.lock().unwrap();
        s.transactions.retain(|t| t.id != "tx-p");
        s.transactions
            .push(tx("tx-b", "acc-1", 777_00, false, 1, false));
    }
    let run = sync_all(&core).await;
    assert_eq!(run.added, 1, "{run:?}");
    assert_eq!(
        row_count(&core, client).await,
        (5, 5),
        "the booked row replaces the pending one"
    );
    assert_eq!(
        core.stats(&crm_core::testing::admin())
            .await
            .unwrap()
            .expense
            .minor,
        expense_before + 777_00
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_consent_awaiting_approval_is_picked_up_by_a_later_sync() {
    let (core, bank, tdb, client) = setup(false).await;
    let link = core
        .sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    assert_eq!(link.consent_status, LinkConsent::AwaitingAuthorization);
    assert!(link.status_message.unwrap_or_default().contains("approve"));
    let waiting = sync_all(&core).await;
    assert_eq!(waiting.added, 0);
    assert!(waiting.message.unwrap_or_default().contains("1 waiting"));
    bank.state.lock().unwrap().approved = true;
    let synced = sync_all(&core).await;
    assert_eq!(synced.added, 4, "{synced:?}");
    let links = core.links_of_clients(&[client]).await.unwrap();
    assert_eq!(links[&client][0].consent_status, LinkConsent::Authorized);
    assert!(
        core.sync()
            .link_bank(&admin(), client, "fake", "team200-99")
            .await
            .is_err(),
        "unknown at the bank"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_interrupted_run_repeated_ends_with_exactly_the_banks_data() {
    let (core, bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    bank.state.lock().unwrap().fail_account = Some("acc-2".into());
    let broken = sync_all(&core).await;
    assert_eq!(broken.status, SyncRunStatus::Failed, "{broken:?}");
    assert!(broken.errors[0].contains("503"), "{broken:?}");
    let links = core.links_of_clients(&[client]).await.unwrap();
    assert!(
        links[&client][0].last_booked_at.is_none(),
        "the cursor does not move past a failure"
    );
    bank.state.lock().unwrap().fail_account = None;
    let repeated = sync_all(&core).await;
    assert_eq!(repeated.status, SyncRunStatus::Succeeded);
    // acc-1 was stored with its cursor, so only its overlap window is read again (tx-2);
    // acc-2 is read in full.
    assert_eq!((repeated.added, repeated.unchanged), (2, 1), "{repeated:?}");
    assert_eq!(row_count(&core, client).await, (4, 4));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_revoked_consent_stops_the_link_with_a_reason() {
    let (core, bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    sync_all(&core).await;
    bank.state.lock().unwrap().revoked = true;
    let run = sync_all(&core).await;
    assert_eq!(run.status, SyncRunStatus::Failed);
    let link = &core.links_of_clients(&[client]).await.unwrap()[&client][0];
    assert_eq!(link.consent_status, LinkConsent::Revoked);
    assert!(link
        .status_message
        .as_deref()
        .unwrap_or_default()
        .contains("revoked"));
    // Later runs skip it with the reason, and call the bank for no data.
    let calls = bank.state.lock().unwrap().data_calls;
    let skipped = sync_all(&core).await;
    assert_eq!(skipped.status, SyncRunStatus::Partial, "{skipped:?}");
    assert!(skipped
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("1 consent revoked"));
    assert_eq!(
        run_links(&core, skipped.id).await[&client],
        (LinkResult::Skipped, Some("CONSENT_REVOKED".into()))
    );
    assert_eq!(bank.state.lock().unwrap().data_calls, calls);
    let link = link_of(&core, client).await;
    assert_eq!(link.state(Utc::now(), 7), LinkState::ConsentRevoked);
    let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
    assert_eq!((status.revoked_consents, status.awaiting_consents), (1, 0));
    assert_eq!(status.health, crm_core::sync::BankHealth::Degraded);
    // Linking again asks for a new consent and the data flows again.
    relink_and_sync_whole(&core, client).await;
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_consent_revoked_during_any_data_call_says_so_on_the_link_and_a_relink_reads_it_all() {
    let (core, bank, tdb, client) = setup(true).await;
    link_and_sync(&core, client).await;
    for call in ["agreements", "cards", "balances", "transactions"] {
        bank.state.lock().unwrap().revoke_on = Some(call);
        let run = sync_all(&core).await;
        assert_eq!(run.status, SyncRunStatus::Failed, "{call}: {run:?}");
        assert_eq!(
            run_links(&core, run.id).await[&client],
            (LinkResult::Failed, Some("CONSENT_REQUIRED".into())),
            "{call}"
        );
        // The link says it, as when the accounts list is refused: not a healthy link.
        let link = link_of(&core, client).await;
        assert_eq!(link.consent_status, LinkConsent::Revoked, "{call}");
        assert_eq!(
            link.state(Utc::now(), 7),
            LinkState::ConsentRevoked,
            "{call}"
        );
        assert!(
            link.status_message
                .as_deref()
                .unwrap_or_default()
                .contains("revoked"),
            "{call}: {link:?}"
        );
        let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
        assert_eq!(status.revoked_consents, 1, "{call}");
        // A new consent: the data flows again, exactly the bank's.
        bank.state.lock().unwrap().revoke_on = None;
        relink_and_sync_whole(&core, client).await;
        assert_eq!(
            link_of(&core, client).await.state(Utc::now(), 7),
            LinkState::Ok
        );
    }
    tdb.cleanup().await.unwrap();
}

/// Links the client again (a new consent, authorised at once) and syncs: the bank's four rows.
async fn relink_and_sync_whole(core: &Core, client: i64) {
    let relinked = core
        .sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    assert_eq!(relinked.consent_status, LinkConsent::Authorized);
    let again = sync_all(core).await;
    assert_eq!(again.status, SyncRunStatus::Succeeded, "{again:?}");
    assert_eq!(row_count(core, client).await, (4, 4));
}

#[tokio::test]
async fn a_long_rate_limit_reset_holds_the_link_and_the_bank_until_it_passes() {
    let (core, bank, tdb, client) = setup(true).await;
    link_and_sync(&core, client).await;
    bank.state.lock().unwrap().limited = Some(std::time::Duration::from_secs(3600));
    let limited = sync_all(&core).await;
    assert_eq!(limited.status, SyncRunStatus::Failed, "{limited:?}");
    assert_eq!(
        run_links(&core, limited.id).await[&client],
        (LinkResult::Failed, Some("RATE_LIMITED".into()))
    );
    // The link's next automatic attempt is no earlier than the bank's reset (the backoff alone
    // says five minutes), and the link says when the limit resets.
    let link = stored_link(&core, client).await;
    let next = link.next_attempt_at.expect("a next attempt time");
    assert!(next >= Utc::now() + Duration::minutes(59), "{next}");
    assert!(
        link.status_message
            .as_deref()
            .unwrap_or_default()
            .contains("resets in 3600 s"),
        "{link:?}"
    );
    // The bank is not called again before then, not even by a person.
    let calls = bank.state.lock().unwrap().data_calls;
    let manual = sync_all(&core).await;
    assert_eq!(
        run_links(&core, manual.id).await[&client],
        (LinkResult::Skipped, Some("CIRCUIT_OPEN".into()))
    );
    assert_eq!(bank.state.lock().unwrap().data_calls, calls);

    // An hour later (a new process; the link's next attempt is now): the data flows again.
    bank.state.lock().unwrap().limited = None;
    let mut stored: crm_core::entity::bank_links::ActiveModel = link.into();
    stored.next_attempt_at = sea_orm::Set(Some(Utc::now() - Duration::seconds(1)));
    sea_orm::ActiveModelTrait::update(stored, core.db().conn())
        .await
        .unwrap();
    let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
    let later = Core::new(tdb.db.clone(), CoreSettings::default(), registry).unwrap();
    let nightly = later
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Schedule)
        .await
        .unwrap();
    assert_eq!(nightly.status, SyncRunStatus::Succeeded, "{nightly:?}");
    assert_eq!(row_count(&later, client).await, (4, 4));
    tdb.cleanup().await.unwrap();
}

async fn stored_link(core: &Core, client: i64) -> crm_core::entity::bank_links::Model {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    crm_core::entity::bank_links::Entity::find()
        .filter(crm_core::entity::bank_links::Column::ClientId.eq(client))
        .one(core.db().conn())
        .await
        .unwrap()
        .unwrap()
}

async fn set_consent_expiry(core: &Core, client: i64, at: chrono::DateTime<Utc>) {
    use sea_orm::{ActiveModelTrait, Set};
    let mut link: crm_core::entity::bank_links::ActiveModel =
        stored_link(core, client).await.into();
    link.consent_expires_at = Set(Some(at));
    link.update(core.db().conn()).await.unwrap();
}

#[tokio::test]
async fn a_failing_link_backs_off_for_automatic_runs_and_recovers() {
    let (core, bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    bank.state.lock().unwrap().fail_account = Some("acc-2".into());
    let failed = sync_all(&core).await;
    assert_eq!(failed.status, SyncRunStatus::Failed);
    let link = stored_link(&core, client).await;
    assert_eq!(link.failure_count, 1);
    let next = link.next_attempt_at.expect("a next attempt time");
    assert!(next > Utc::now() + Duration::minutes(3), "{next}");

    // The nightly run leaves the link alone until then (the budget is in the database, so
    // it holds across restarts) and says why.
    let nightly = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Schedule)
        .await
        .unwrap();
    assert_eq!((nightly.added, nightly.accounts), (0, 0), "{nightly:?}");
    assert!(
        nightly
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("1 skipped"),
        "{nightly:?}"
    );
    assert_eq!(stored_link(&core, client).await.failure_count, 1);
    let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
    assert_eq!(status.health, crm_core::sync::BankHealth::Unavailable);
    assert_eq!(status.failing_links, 1);

    // A person may still try, and a success resets the budget.
    bank.state.lock().unwrap().fail_account = None;
    let manual = sync_all(&core).await;
    assert_eq!(manual.status, SyncRunStatus::Succeeded, "{manual:?}");
    let link = stored_link(&core, client).await;
    assert_eq!((link.failure_count, link.next_attempt_at), (0, None));
    let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
    assert_eq!(status.health, crm_core::sync::BankHealth::Ok);
    assert_eq!(
        (
            status.linked_clients,
            status.authorized_consents,
            status.failing_links
        ),
        (1, 1, 0)
    );
    assert!(status.last_synced_at.is_some());
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_link_over_its_failure_budget_is_left_to_a_person() {
    let (core, _bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    sync_all(&core).await;
    // Eight failures in a row, the last one a while ago (as after a restart).
    use sea_orm::{ActiveModelTrait, Set};
    let mut link: crm_core::entity::bank_links::ActiveModel =
        stored_link(&core, client).await.into();
    link.failure_count = Set(8);
    link.next_attempt_at = Set(Some(Utc::now() - Duration::minutes(1)));
    link.update(core.db().conn()).await.unwrap();
    let nightly = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Schedule)
        .await
        .unwrap();
    assert!(
        nightly
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("1 skipped"),
        "the nightly run does not call the bank again: {nightly:?}"
    );
    // A person syncing it by hand does, and the success resets the budget.
    let manual = sync_all(&core).await;
    assert_eq!(manual.status, SyncRunStatus::Succeeded, "{manual:?}");
    assert_eq!(stored_link(&core, client).await.failure_count, 0);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_failing_bank_opens_its_circuit_and_later_links_are_skipped() {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let bank = Arc::new(FakeBank {
        identity: BankIdentity {
            code: "fake".into(),
            name: "FakeBank".into(),
        },
        auto_approve: true,
        state: Mutex::new(BankState::default()),
    });
    let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
    let mut settings = CoreSettings::default();
    settings.sync.per_bank_concurrency = 1;
    settings.sync.budget.breaker_threshold = 2;
    let core = Arc::new(Core::new(tdb.db.clone(), settings, registry).unwrap());
    for n in 1..=4 {
        let c = core
            .create_client(
                &admin(),
                NewClient {
                    display_name: format!("Клиент {n}"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        core.sync()
            .link_bank(&admin(), c.id, "fake", &format!("team200-{n}"))
            .await
            .unwrap();
    }
    bank.state.lock().unwrap().down = true;
    let run = sync_all(&core).await;
    assert_eq!(
        run.errors.len(),
        2,
        "two calls, then the circuit opens: {run:?}"
    );
    assert!(
        run.message
            .as_deref()
            .unwrap_or_default()
            .contains("2 skipped"),
        "{run:?}"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_consent_close_to_expiry_is_renewed_at_an_auto_approving_bank() {
    let (core, _bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    let first = stored_link(&core, client).await;
    assert!(first.consent_expires_at.is_some(), "the expiry is learnt");
    set_consent_expiry(&core, client, Utc::now() + Duration::days(3)).await;
    let run = sync_all(&core).await;
    assert_eq!(run.status, SyncRunStatus::Succeeded, "{run:?}");
    let renewed = stored_link(&core, client).await;
    assert_ne!(renewed.consent_id, first.consent_id, "a new consent");
    assert!(renewed.consent_expires_at.unwrap() > Utc::now() + Duration::days(300));
    assert_eq!(row_count(&core, client).await, (4, 4));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_renewal_waiting_for_the_client_keeps_the_current_consent_in_use() {
    let (core, bank, tdb, client) = setup(false).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    bank.state.lock().unwrap().approved = true;
    sync_all(&core).await;
    let approved = stored_link(&core, client).await;
    assert_eq!(approved.consent_status, "AUTHORIZED");
    let estimated = approved.consent_expires_at.expect("the protocol's 90 days");
    assert!(estimated > Utc::now() + Duration::days(89));

    set_consent_expiry(&core, client, Utc::now() + Duration::days(3)).await;
    let run = sync_all(&core).await;
    assert_eq!(run.status, SyncRunStatus::Succeeded, "{run:?}");
    let waiting = stored_link(&core, client).await;
    assert_eq!(waiting.consent_status, "AUTHORIZED");
    assert!(waiting.renewal_request_id.is_some());
    assert!(waiting
        .status_message
        .as_deref()
        .unwrap_or_default()
        .contains("renewal"));

    // The old consent lapses; the client had approved the renewal, which the bank shows only
    // through data calls: the link follows it.
    set_consent_expiry(&core, client, Utc::now() - Duration::minutes(1)).await;
    let run = sync_all(&core).await;
    assert_eq!(run.status, SyncRunStatus::Succeeded, "{run:?}");
    let followed = stored_link(&core, client).await;
    assert_eq!(followed.consent_status, "AUTHORIZED");
    assert!(followed.renewal_request_id.is_none());
    assert!(followed.consent_expires_at.unwrap() > Utc::now() + Duration::days(89));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn two_identical_pending_rows_booked_under_new_ids_are_each_replaced_once() {
    let (core, bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    {
        let mut s = bank.state.lock().unwrap();
        s.transactions
            .push(tx("tx-p1", "acc-1", 250_00, false, 1, true));
        s.transactions
            .push(tx("tx-p2", "acc-1", 250_00, false, 1, true));
    }
    sync_all(&core).await;
    assert_eq!(row_count(&core, client).await, (6, 6));
    let expense_before = core
        .stats(&crm_core::testing::admin())
        .await
        .unwrap()
        .expense
        .minor;
    {
        let mut s = bank.state.lock().unwrap();
        s.transactions.retain(|t| !t.id.starts_with("tx-p"));
        s.transactions
            .push(tx("tx-b1", "acc-1", 250_00, false, 1, false));
        s.transactions
            .push(tx("tx-b2", "acc-1", 250_00, false, 1, false));
    }
    let run = sync_all(&core).await;
    assert_eq!(run.added, 2, "{run:?}");
    assert_eq!(
        row_count(&core, client).await,
        (6, 6),
        "two coffees, counted once each"
    );
    assert_eq!(
        core.stats(&crm_core::testing::admin())
            .await
            .unwrap()
            .expense
            .minor,
        expense_before + 2 * 250_00
    );
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let replaced: Vec<Option<i64>> = crm_core::entity::transactions::Entity::find()
        .filter(crm_core::entity::transactions::Column::ExternalId.is_in(["tx-p1", "tx-p2"]))
        .all(core.db().conn())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.replaced_by_id)
        .collect();
    assert_eq!(replaced.len(), 2);
    assert!(replaced.iter().all(Option::is_some));
    assert_ne!(
        replaced[0], replaced[1],
        "each booked row replaces one pending row"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_run_cut_off_by_a_stop_is_closed_at_the_next_start() {
    let (core, _bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    // A run begun and never finished: the process died.
    let (run, _links) = core
        .sync()
        .begin_sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    {
        // Long enough ago for every backend (PostgreSQL spares runs another replica may own).
        use sea_orm::{ActiveModelTrait, Set};
        crm_core::entity::sync_runs::ActiveModel {
            id: Set(run.id),
            started_at: Set(Utc::now() - Duration::hours(7)),
            ..Default::default()
        }
        .update(core.db().conn())
        .await
        .unwrap();
    }
    assert_eq!(core.sync().close_interrupted_runs().await.unwrap(), 1);
    let runs = core.sync().sync_runs(10).await.unwrap();
    assert_eq!(runs[0].status, SyncRunStatus::Failed);
    assert!(runs[0]
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("interrupted"));
    assert_eq!(core.sync().close_interrupted_runs().await.unwrap(), 0);
    tdb.cleanup().await.unwrap();
}

fn fake_bank(code: &str, auto_approve: bool, state: BankState) -> Arc<FakeBank> {
    Arc::new(FakeBank {
        identity: BankIdentity {
            code: code.into(),
            name: format!("{code} bank"),
        },
        auto_approve,
        state: Mutex::new(state),
    })
}

/// The bank `fake`, approving consents at once, with one account of one row.
fn one_row_bank() -> Arc<FakeBank> {
    fake_bank(
        "fake",
        true,
        BankState {
            accounts: vec![account("acc-1")],
            transactions: vec![tx("tx-1", "acc-1", 100_00, false, 3, false)],
            ..Default::default()
        },
    )
}

async fn client_linked(core: &Core, name: &str, bank: &str, external: &str) -> i64 {
    let c = core
        .create_client(
            &admin(),
            NewClient {
                display_name: name.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    core.sync()
        .link_bank(&admin(), c.id, bank, external)
        .await
        .unwrap();
    c.id
}

async fn link_of(core: &Core, client: i64) -> crm_core::links::BankLink {
    core.links_of_clients(&[client]).await.unwrap()[&client][0].clone()
}

/// (result, code) of each link in a run, by client.
async fn run_links(
    core: &Core,
    run: i64,
) -> std::collections::BTreeMap<i64, (LinkResult, Option<String>)> {
    core.sync().run_links(&[run]).await.unwrap()[&run]
        .iter()
        .map(|l| (l.client_id, (l.result, l.code.clone())))
        .collect()
}

#[tokio::test]
async fn a_run_that_skips_or_fails_a_link_is_never_succeeded_and_says_why_per_link() {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let good = one_row_bank();
    let other = fake_bank("other", true, BankState::default());
    let registry = BankRegistry::new(vec![
        good.clone() as Arc<dyn BankConnector>,
        other.clone() as Arc<dyn BankConnector>,
    ]);
    let mut settings = CoreSettings::default();
    settings.sync.per_bank_concurrency = 1;
    settings.sync.budget.breaker_threshold = 1;
    let core = Arc::new(Core::new(tdb.db.clone(), settings, registry).unwrap());
    let a = client_linked(&core, "А", "fake", "team200-1").await;
    let b = client_linked(&core, "Б", "other", "team200-2").await;
    let c = client_linked(&core, "В", "other", "team200-3").await;
    other.state.lock().unwrap().down = true;

    let first = sync_all(&core).await;
    assert_eq!(first.status, SyncRunStatus::Partial, "{first:?}");
    let links = run_links(&core, first.id).await;
    assert_eq!(links[&a], (LinkResult::Succeeded, None));
    // One call fails and opens the circuit; the other link is not called.
    let failed: Vec<i64> = [b, c]
        .into_iter()
        .filter(|id| links[id].0 == LinkResult::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{links:?}");
    let (failed, spared) = if failed[0] == b { (b, c) } else { (c, b) };
    assert_eq!(links[&failed].1.as_deref(), Some("BANK_DOWN"));
    assert_eq!(
        links[&spared],
        (LinkResult::Skipped, Some("CIRCUIT_OPEN".into()))
    );
    let broken = link_of(&core, failed).await;
    assert_eq!(broken.failure_count, 1);
    assert!(broken.next_attempt_at.is_some());
    let error = broken.last_error.clone().expect("the error is on the link");
    assert_eq!(error.code, "BANK_DOWN");
    assert!(error.message.contains("503"), "{error:?}");
    assert_eq!(broken.state(Utc::now(), 7), LinkState::Failing);

    // Nothing fails now, but the circuit is still open: the other bank's links are skipped,
    // and a run that skipped links does not claim success.
    let second = sync_all(&core).await;
    assert!(second.errors.is_empty(), "{second:?}");
    assert_eq!(second.status, SyncRunStatus::Partial, "{second:?}");
    assert!(
        second
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("2 skipped (2 bank circuit open)"),
        "{second:?}"
    );
    let links = run_links(&core, second.id).await;
    assert_eq!(
        links[&b],
        (LinkResult::Skipped, Some("CIRCUIT_OPEN".into()))
    );
    assert_eq!(
        links[&c],
        (LinkResult::Skipped, Some("CIRCUIT_OPEN".into()))
    );
    let statuses = core
        .sync()
        .bank_statuses(&["fake".into(), "other".into()])
        .await
        .unwrap();
    assert_eq!(statuses["fake"].health, crm_core::sync::BankHealth::Ok);
    assert_eq!(
        statuses["other"].health,
        crm_core::sync::BankHealth::Unavailable
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn refused_credentials_stop_the_banks_other_calls_in_the_run_and_show_on_its_status() {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let bank = one_row_bank();
    let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
    let mut settings = CoreSettings::default();
    settings.sync.per_bank_concurrency = 1;
    let core = Arc::new(Core::new(tdb.db.clone(), settings, registry).unwrap());
    let a = client_linked(&core, "А", "fake", "team200-1").await;
    let b = client_linked(&core, "Б", "fake", "team200-2").await;
    let c = client_linked(&core, "В", "fake", "team200-3").await;
    bank.state.lock().unwrap().credentials_refused = true;

    let run = sync_all(&core).await;
    assert_eq!(run.status, SyncRunStatus::Failed, "{run:?}");
    // One link is refused; the bank is not called for the others, nor for its catalogue.
    let links = run_links(&core, run.id).await;
    let mut codes: Vec<_> = [a, b, c]
        .iter()
        .map(|id| links[id].1.clone().unwrap_or_default())
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        ["CREDENTIALS", "CREDENTIALS_REFUSED", "CREDENTIALS_REFUSED"]
    );
    let failed = [a, b, c]
        .iter()
        .filter(|id| links[id].0 == LinkResult::Failed)
        .count();
    assert_eq!(failed, 1);
    let calls = {
        let s = bank.state.lock().unwrap();
        (s.data_calls, s.product_calls)
    };
    assert_eq!(calls, (1, 0));
    assert!(run
        .errors
        .iter()
        .any(|e| e.contains("products not refreshed")));
    let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
    assert!(status.credentials_refused, "{status:?}");
    assert_eq!(status.health, crm_core::sync::BankHealth::Unavailable);

    // Credentials fixed: every link and the catalogue are read, the status clears.
    bank.state.lock().unwrap().credentials_refused = false;
    let fixed = sync_all(&core).await;
    assert_eq!(fixed.status, SyncRunStatus::Succeeded, "{fixed:?}");
    assert_eq!(bank.state.lock().unwrap().product_calls, 1);
    assert_eq!(row_count(&core, a).await, (1, 1));
    let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
    assert!(!status.credentials_refused, "{status:?}");
    assert_eq!(status.health, crm_core::sync::BankHealth::Ok);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_network_error_when_linking_is_on_the_link_and_the_bank_is_not_healthy() {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let bank = fake_bank("fake", true, BankState::default());
    let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
    let core = Arc::new(Core::new(tdb.db.clone(), CoreSettings::default(), registry).unwrap());
    client_linked(&core, "А", "fake", "team200-1").await;
    bank.state.lock().unwrap().unreachable = true;
    let cut = client_linked(&core, "Б", "fake", "team200-2").await;
    let link = link_of(&core, cut).await;
    let error = link
        .last_error
        .clone()
        .expect("a network error is on the link");
    assert_eq!(error.code, "NETWORK");
    assert!(error.message.contains("connection refused"), "{error:?}");
    assert_eq!(link.state(Utc::now(), 7), LinkState::ConsentMissing);
    let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
    assert_eq!(status.failing_links, 1);
    assert_eq!(status.health, crm_core::sync::BankHealth::Degraded);

    // The bank is back: a sync asks for the consent, reads, and clears the error.
    bank.state.lock().unwrap().unreachable = false;
    sync_all(&core).await;
    // (The fake bank keeps one consent at a time: the other client's is replaced, so only
    // this link is checked.)
    let link = link_of(&core, cut).await;
    assert_eq!(link.last_error, None, "{link:?}");
    assert_eq!(link.state(Utc::now(), 7), LinkState::Ok);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_short_read_keeps_the_cursor_so_a_later_sync_recovers_the_rows() {
    let (core, bank, tdb, client) = setup(true).await;
    core.sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    // The oldest row of each account (tx-1, 40 days back) does not come.
    bank.state.lock().unwrap().short = 1;
    let short = sync_all(&core).await;
    assert_incomplete(&core, client, &short, "SHORTFALL", "read again").await;
    let stored_after_short = row_count(&core, client).await.1;
    assert!(stored_after_short < 4, "{stored_after_short}");

    // Still short: the range is read again from where it was, nothing is lost or doubled.
    let again = sync_all(&core).await;
    assert_eq!(again.status, SyncRunStatus::Partial, "{again:?}");
    assert_eq!(row_count(&core, client).await.1, stored_after_short);

    // The bank delivers everything: the rows from beyond the overlap window come in too.
    bank.state.lock().unwrap().short = 0;
    let whole = sync_all(&core).await;
    assert_eq!(whole.status, SyncRunStatus::Succeeded, "{whole:?}");
    assert_eq!(row_count(&core, client).await, (4, 4));
    let link = link_of(&core, client).await;
    assert_eq!(link.last_error, None);
    assert_eq!(link.state(Utc::now(), 7), LinkState::Ok);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn refused_rows_keep_the_cursor_before_them_and_a_clean_read_fills_them_in() {
    let (core, bank, tdb, client) = setup(true).await;
    link_and_sync(&core, client).await;
    // acc-1's cursor is now tx-2 (10 days back): the next read starts 17 days back. A row booked
    // 9 days back is refused, a newer one is stored: moving the cursor to the newer one would
    // leave the refused row outside every later read (they start 7 days before the cursor).
    {
        let mut s = bank.state.lock().unwrap();
        s.transactions
            .push(tx("tx-5", "acc-1", 2_000_00, false, 9, false));
        s.transactions
            .push(tx("tx-6", "acc-1", 3_000_00, true, 1, false));
        s.refused = vec!["tx-5".into()];
    }
    let refused = sync_all(&core).await;
    // The link says from which date the rows are read again: 7 days before acc-1's cursor.
    let reread = (Utc::now() - Duration::days(17))
        .format("%Y-%m-%d")
        .to_string();
    let words = format!("from {reread} on are read again");
    assert_incomplete(&core, client, &refused, "SHORTFALL", &words).await;
    assert!(refused
        .errors
        .iter()
        .any(|e| e.contains(&format!("from {reread} on"))));
    assert_eq!(row_count(&core, client).await.1, 5);

    // The bank's rows come through clean: the refused row is read (it is inside the range the
    // cursor was held at) and the client has exactly the bank's six rows.
    bank.state.lock().unwrap().refused.clear();
    let clean = sync_all(&core).await;
    assert_eq!(clean.status, SyncRunStatus::Succeeded, "{clean:?}");
    assert_eq!(row_count(&core, client).await, (6, 6));
    let link = link_of(&core, client).await;
    assert_eq!(link.last_error, None);
    assert_eq!(link.state(Utc::now(), 7), LinkState::Ok);
    tdb.cleanup().await.unwrap();
}

/// The client's booked spending of the last 100 days as the aggregates hold it: rows and
/// minor units.
async fn spending(core: &Core, client: i64) -> (u64, i64) {
    let now = Utc::now();
    let rows = core
        .spending_by_category(
            client,
            now - Duration::days(100),
            now + Duration::days(1),
            &crm_core::domain::Currency::rub(),
        )
        .await
        .unwrap();
    (
        rows.iter().map(|r| r.count).sum(),
        rows.iter().map(|r| r.amount.minor).sum(),
    )
}

async fn reversed_rows(core: &Core, client: i64) -> u64 {
    let reversed = TransactionFilter {
        status: Some(crm_core::domain::TransactionStatus::Reversed),
        ..Default::default()
    };
    core.count_transactions(client, &reversed).await.unwrap()
}

#[tokio::test]
async fn a_booked_row_the_bank_stops_listing_is_reversed_and_booked_again_when_it_returns() {
    let (core, bank, tdb, client) = setup(true).await;
    link_and_sync(&core, client).await;
    assert_eq!(row_count(&core, client).await, (4, 4));
    // tx-2, tx-3, tx-4: three debits.
    assert_eq!(
        spending(&core, client).await,
        (3, 1_249_50 + 500_00 + 500_00)
    );

    // The bank takes tx-2 back: a complete read of its dates no longer lists it.
    let taken = {
        let mut s = bank.state.lock().unwrap();
        let i = s.transactions.iter().position(|t| t.id == "tx-2").unwrap();
        s.transactions.remove(i)
    };
    let run = sync_all(&core).await;
    assert_eq!(run.status, SyncRunStatus::Succeeded, "{run:?}");
    // The bank's three rows are what counts; the reversed one is kept and shown when asked for.
    assert_eq!(row_count(&core, client).await, (3, 3));
    assert_eq!(spending(&core, client).await, (2, 500_00 + 500_00));
    assert_eq!(reversed_rows(&core, client).await, 1);

    // The bank lists it again: booked again, counted again.
    bank.state.lock().unwrap().transactions.push(taken);
    let back = sync_all(&core).await;
    assert_eq!(back.status, SyncRunStatus::Succeeded, "{back:?}");
    assert_eq!(row_count(&core, client).await, (4, 4));
    assert_eq!(
        spending(&core, client).await,
        (3, 1_249_50 + 500_00 + 500_00)
    );
    assert_eq!(reversed_rows(&core, client).await, 0);
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn many_booked_rows_vanishing_at_once_are_kept_and_the_run_is_partial() {
    let (core, bank, tdb, client) = setup(true).await;
    bank.state
        .lock()
        .unwrap()
        .transactions
        .extend((5..=9).map(|n| tx(&format!("tx-{n}"), "acc-2", 100_00 * n, false, 4, false)));
    link_and_sync(&core, client).await;
    assert_eq!(row_count(&core, client).await, (9, 9));
    let before = spending(&core, client).await;

    // Four of acc-2's seven rows drop out of a read that is otherwise complete: a faulty read,
    // not four reversals.
    let gone: Vec<TransactionData> = {
        let mut s = bank.state.lock().unwrap();
        let (gone, kept) = s
            .transactions
            .drain(..)
            .partition(|t| ["tx-5", "tx-6", "tx-7", "tx-8"].contains(&t.id.as_str()));
        s.transactions = kept;
        gone
    };
    let run = sync_all(&core).await;
    assert_incomplete(
        &core,
        client,
        &run,
        "VANISHED",
        "4 booked transactions the bank no longer lists were kept",
    )
    .await;
    assert_eq!(row_count(&core, client).await, (9, 9));
    assert_eq!(spending(&core, client).await, before);
    assert_eq!(reversed_rows(&core, client).await, 0);

    // The bank lists them again: nothing changed, the link is whole.
    bank.state.lock().unwrap().transactions.extend(gone);
    let clean = sync_all(&core).await;
    assert_eq!(clean.status, SyncRunStatus::Succeeded, "{clean:?}");
    assert_eq!((clean.added, clean.updated), (0, 0), "{clean:?}");
    assert_eq!(row_count(&core, client).await, (9, 9));
    assert_eq!(spending(&core, client).await, before);
    assert_eq!(
        link_of(&core, client).await.state(Utc::now(), 7),
        LinkState::Ok
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_unanswered_consent_request_says_so_and_a_manager_asks_again() {
    let (core, bank, tdb, client) = setup(false).await;
    let link = core
        .sync()
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    assert_eq!(link.consent_status, LinkConsent::AwaitingAuthorization);
    let asked = link.consent_requested_at.expect("the request time is kept");
    let waiting = sync_all(&core).await;
    assert_eq!(waiting.status, SyncRunStatus::Partial, "{waiting:?}");
    assert_eq!(
        run_links(&core, waiting.id).await[&client],
        (LinkResult::Skipped, Some("CONSENT_WAITING".into()))
    );
    assert_eq!(
        link_of(&core, client).await.consent_requested_at,
        Some(asked),
        "following a request does not restart its clock"
    );

    // Eight days without an answer (the bank never says "rejected").
    {
        use sea_orm::{ActiveModelTrait, Set};
        let mut m: crm_core::entity::bank_links::ActiveModel =
            stored_link(&core, client).await.into();
        m.consent_requested_at = Set(Some(Utc::now() - Duration::days(8)));
        m.update(core.db().conn()).await.unwrap();
    }
    let unanswered = sync_all(&core).await;
    assert_eq!(
        run_links(&core, unanswered.id).await[&client],
        (LinkResult::Skipped, Some("CONSENT_NO_ANSWER".into()))
    );
    assert!(unanswered
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("1 no answer from the client"));
    let link = link_of(&core, client).await;
    assert_eq!(link.state(Utc::now(), 7), LinkState::ConsentNoAnswer);
    assert!(link
        .status_message
        .as_deref()
        .unwrap_or_default()
        .contains("no answer"));
    assert_eq!(link.last_error.as_ref().unwrap().code, "CONSENT_NO_ANSWER");
    let status = &core.sync().bank_statuses(&["fake".into()]).await.unwrap()["fake"];
    assert_eq!(
        (status.awaiting_consents, status.unanswered_consents),
        (0, 1)
    );
    assert_eq!(
        bank.state.lock().unwrap().data_calls,
        0,
        "no data call without a consent"
    );

    // A viewer may not ask; a manager may, and it is audited.
    let viewer = Actor {
        role: Role::Viewer,
        ..admin()
    };
    assert!(matches!(
        core.sync().request_consent_again(&viewer, link.id).await,
        Err(crm_core::CoreError::Forbidden(_))
    ));
    let manager = Actor {
        role: Role::Manager,
        ..admin()
    };
    let renewed = core
        .sync()
        .request_consent_again(&manager, link.id)
        .await
        .unwrap();
    assert_eq!(renewed.state(Utc::now(), 7), LinkState::ConsentWaiting);
    assert!(renewed.consent_requested_at.unwrap() > Utc::now() - Duration::minutes(1));
    let audit = core.audit().recent_audit(5).await.unwrap();
    assert!(
        audit.iter().any(|r| r.action == "bank.consent.request"),
        "{audit:?}"
    );

    // Approved: the link syncs; asking again is then refused.
    bank.state.lock().unwrap().approved = true;
    let synced = sync_all(&core).await;
    assert_eq!(synced.status, SyncRunStatus::Succeeded, "{synced:?}");
    assert_eq!(link_of(&core, client).await.consent_requested_at, None);
    assert!(matches!(
        core.sync().request_consent_again(&manager, link.id).await,
        Err(crm_core::CoreError::InvalidInput(_))
    ));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_large_booked_transaction_is_on_the_timeline_at_its_booking_time() {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
    let bank = fake_bank(
        "fake",
        true,
        BankState {
            accounts: vec![account("acc-1")],
            transactions: vec![
                tx("big-in", "acc-1", 450_000_00, true, 12, false),
                tx("big-pending", "acc-1", 900_000_00, false, 1, true),
                tx("small", "acc-1", 299_999_99, false, 3, false),
            ],
            ..Default::default()
        },
    );
    let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
    let mut settings = CoreSettings::default();
    assert_eq!(settings.sync.large_transaction_minor, Some(300_000_00));
    settings.sync.per_bank_concurrency = 1;
    let core = Arc::new(Core::new(tdb.db.clone(), settings, registry).unwrap());
    let client = client_linked(&core, "Клиент", "fake", "team200-1").await;
    sync_all(&core).await;
    let large = core
        .timeline(
            &admin(),
            client,
            50,
            None,
            &[crm_core::domain::TimelineKind::LargeTransaction],
        )
        .await
        .unwrap()
        .entries;
    // Booked and at least the threshold: the pending row and the one kopeck short are not.
    assert_eq!(large.len(), 1, "{large:?}");
    assert!(
        large[0]
            .summary
            .ru
            .starts_with("Крупное поступление 450\u{a0}000\u{a0}₽"),
        "{}",
        large[0].summary.ru
    );
    let booked = Utc::now() - Duration::days(12);
    assert!((large[0].at - booked).num_minutes().abs() < 5);
    tdb.cleanup().await.unwrap();
}
