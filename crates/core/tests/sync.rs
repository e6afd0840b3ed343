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
use crm_core::sync::{SyncRunStatus, SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::transactions::TransactionFilter;
use crm_core::{Core, CoreSettings};
use rust_decimal::Decimal;

#[derive(Default)]
struct BankState {
    approved: bool,
    revoked: bool,
    fail_account: Option<String>,
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

#[async_trait]
impl BankConnector for FakeBank {
    fn identity(&self) -> &BankIdentity {
        &self.identity
    }
    async fn request_consent(&self, client_id: &str) -> ConnectorResult<Consent> {
        if client_id != "team200-1" {
            return Err(ConnectorError::NotFound {
                bank: "fake".into(),
                detail: format!("Client {client_id} not found"),
            });
        }
        let mut s = self.state.lock().unwrap();
        s.revoked = false;
        if self.auto_approve {
            s.approved = true;
        }
        Ok(Consent {
            status: if self.auto_approve {
                ConsentStatus::Authorized
            } else {
                ConsentStatus::AwaitingAuthorization
            },
            consent_id: self.auto_approve.then(|| "consent-1".to_owned()),
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
    async fn revoke_consent(&self, _id: &str) -> ConnectorResult<()> {
        self.state.lock().unwrap().revoked = true;
        Ok(())
    }
    async fn accounts(&self, _access: &Access<'_>) -> ConnectorResult<Vec<AccountData>> {
        let s = self.state.lock().unwrap();
        if !s.approved || s.revoked {
            return Err(err("no consent"));
        }
        Ok(s.accounts.clone())
    }
    async fn balances(
        &self,
        _access: &Access<'_>,
        _account: &str,
    ) -> ConnectorResult<Vec<BalanceData>> {
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
        let s = self.state.lock().unwrap();
        if s.fail_account.as_deref() == Some(account) {
            return Err(ConnectorError::Unavailable {
                bank: "fake".into(),
                status: 503,
            });
        }
        let transactions: Vec<TransactionData> = s
            .transactions
            .iter()
            .filter(|t| t.account_id == account && t.booked_at >= from && t.booked_at <= to)
            .cloned()
            .collect();
        Ok(TransactionBatch {
            reported_total: Some(transactions.len() as u64),
            transactions,
            shortfall: 0,
            rejected: vec![],
        })
    }
    async fn products(&self) -> ConnectorResult<Vec<ProductData>> {
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
        counterparty: None,
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

fn admin() -> Actor {
    Actor {
        user_id: 1,
        username: "admin".into(),
        role: Role::Admin,
        session_id: 0,
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
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    assert_eq!(link.consent_status, LinkConsent::Authorized);
    let first = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
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
    let second = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    // The second run re-reads only the overlap window behind the newest booked row (7 days
    // before 5 days ago): the three recent rows, unchanged.
    assert_eq!(
        (second.added, second.updated, second.unchanged),
        (0, 0, 3),
        "{second:?}"
    );
    assert_eq!(row_count(&core, client).await, (4, 4));
    // Two identical coffees on one day stay two transactions.
    let stats = core.stats().await.unwrap();
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
    core.link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    bank.state
        .lock()
        .unwrap()
        .transactions
        .push(tx("tx-p", "acc-1", 777_00, false, 1, true));
    core.sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(row_count(&core, client).await, (5, 5));
    let expense_before = core.stats().await.unwrap().expense.minor;
    {
        let mut s = bank.state.lock().unwrap();
        s.transactions.retain(|t| t.id != "tx-p");
        s.transactions
            .push(tx("tx-b", "acc-1", 777_00, false, 1, false));
    }
    let run = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(run.added, 1, "{run:?}");
    assert_eq!(
        row_count(&core, client).await,
        (5, 5),
        "the booked row replaces the pending one"
    );
    assert_eq!(
        core.stats().await.unwrap().expense.minor,
        expense_before + 777_00
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_consent_awaiting_approval_is_picked_up_by_a_later_sync() {
    let (core, bank, tdb, client) = setup(false).await;
    let link = core
        .link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    assert_eq!(link.consent_status, LinkConsent::AwaitingAuthorization);
    assert!(link.status_message.unwrap_or_default().contains("approve"));
    let waiting = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(waiting.added, 0);
    assert!(waiting.message.unwrap_or_default().contains("1 waiting"));
    bank.state.lock().unwrap().approved = true;
    let synced = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(synced.added, 4, "{synced:?}");
    let links = core.links_of_clients(&[client]).await.unwrap();
    assert_eq!(links[&client][0].consent_status, LinkConsent::Authorized);
    assert!(
        core.link_bank(&admin(), client, "fake", "team200-99")
            .await
            .is_err(),
        "unknown at the bank"
    );
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_interrupted_run_repeated_ends_with_exactly_the_banks_data() {
    let (core, bank, tdb, client) = setup(true).await;
    core.link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    bank.state.lock().unwrap().fail_account = Some("acc-2".into());
    let broken = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(broken.status, SyncRunStatus::Failed, "{broken:?}");
    assert!(broken.errors[0].contains("503"), "{broken:?}");
    let links = core.links_of_clients(&[client]).await.unwrap();
    assert!(
        links[&client][0].last_booked_at.is_none(),
        "the cursor does not move past a failure"
    );
    bank.state.lock().unwrap().fail_account = None;
    let repeated = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(repeated.status, SyncRunStatus::Succeeded);
    assert_eq!(row_count(&core, client).await, (4, 4));
    tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_revoked_consent_stops_the_link_with_a_reason() {
    let (core, bank, tdb, client) = setup(true).await;
    core.link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    core.sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    bank.state.lock().unwrap().revoked = true;
    let run = core
        .sync(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(run.status, SyncRunStatus::Failed);
    let link = &core.links_of_clients(&[client]).await.unwrap()[&client][0];
    assert_eq!(link.consent_status, LinkConsent::Revoked);
    assert!(link
        .status_message
        .as_deref()
        .unwrap_or_default()
        .contains("revoked"));
    // Linking again asks for a new consent and the data flows again.
    core.link_bank(&admin(), client, "fake", "team200-1")
        .await
        .unwrap();
    tdb.cleanup().await.unwrap();
}
