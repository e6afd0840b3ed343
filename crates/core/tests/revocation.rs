//! Ending links from the CRM: unlinking revokes the consent at the bank and stops syncing while
//! the client's data stays; relinking asks anew; deleting a client revokes every consent first;
//! a bank that cannot be reached keeps a pending revocation that the background job finishes.
//! Runs on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use crm_connector::*;
use crm_core::auth::Actor;
use crm_core::banks::BankRegistry;
use crm_core::clients::NewClient;
use crm_core::domain::{ConsentStatus as LinkConsent, Role};
use crm_core::entity::audit_log;
use crm_core::sync::{SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::transactions::TransactionFilter;
use crm_core::{Core, CoreError, CoreSettings};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A bank that authorises at once, lists one account with one row, and records revocations;
/// `down` makes every call fail as a network error would.
struct Bank {
    identity: BankIdentity,
    down: AtomicBool,
    issued: AtomicU32,
    revoked: Mutex<Vec<String>>,
}

impl Bank {
    fn unavailable(&self) -> ConnectorResult<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ConnectorError::Unavailable {
                bank: self.identity.code.clone(),
                status: 503,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl BankConnector for Bank {
    fn identity(&self) -> &BankIdentity {
        &self.identity
    }
    async fn request_consent(&self, _client_id: &str) -> ConnectorResult<Consent> {
        self.unavailable()?;
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Consent {
            status: ConsentStatus::Authorized,
            consent_id: Some(format!("consent-{n}")),
            request_id: None,
            expires_at: Some(Utc::now() + Duration::days(365)),
            message: None,
        })
    }
    async fn consent_status(&self, _client: &str, consent: &Consent) -> ConnectorResult<Consent> {
        self.unavailable()?;
        Ok(consent.clone())
    }
    async fn revoke_consent(&self, id: &str) -> ConnectorResult<()> {
        self.unavailable()?;
        self.revoked.lock().unwrap().push(id.to_owned());
        Ok(())
    }
    async fn accounts(&self, access: &Access<'_>) -> ConnectorResult<Vec<AccountData>> {
        self.unavailable()?;
        let consent = access.consent_id.unwrap_or_default().to_owned();
        if consent.is_empty() || self.revoked.lock().unwrap().contains(&consent) {
            return Err(ConnectorError::ConsentRequired {
                bank: self.identity.code.clone(),
                detail: "no consent".into(),
            });
        }
        Ok(vec![AccountData {
            id: "acc-1".into(),
            status: AccountStatus::Enabled,
            currency: "RUB".into(),
            account_type: "Personal".into(),
            account_subtype: None,
            kind: AccountKind::Current,
            nickname: None,
            number: Some("40817810000000000001".into()),
            holder_name: None,
            opened_on: None,
        }])
    }
    async fn balances(&self, _a: &Access<'_>, _account: &str) -> ConnectorResult<Vec<BalanceData>> {
        Ok(vec![])
    }
    async fn transactions(
        &self,
        _a: &Access<'_>,
        account: &str,
        _from: chrono::DateTime<Utc>,
        _to: chrono::DateTime<Utc>,
    ) -> ConnectorResult<TransactionBatch> {
        let row = TransactionData {
            id: "tx-1".into(),
            account_id: account.into(),
            amount: Decimal::new(1_000, 2),
            currency: "RUB".into(),
            direction: Direction::Debit,
            status: BookingStatus::Booked,
            raw_status: None,
            booked_at: Utc::now() - Duration::days(1),
            value_at: None,
            description: "Кофе".into(),
            bank_transaction_code: None,
            merchant: None,
            card_masked: None,
            card_id: None,
            counterparty: None,
            counterparty_account: None,
            counterparty_bank: None,
        };
        Ok(TransactionBatch {
            reported_total: Some(1),
            transactions: vec![row],
            shortfall: 0,
            rejected: vec![],
        })
    }
    async fn products(&self) -> ConnectorResult<Vec<ProductData>> {
        Ok(vec![])
    }
}

fn manager(user_id: i64) -> Actor {
    Actor {
        user_id,
        username: "manager".into(),
        role: Role::Manager,
        session_id: 0,
        password_change_required: false,
    }
}

async fn setup() -> (Arc<Core>, Arc<Bank>, TestDatabase, Actor, i64) {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let db = TestDatabase::create(pg.as_deref()).await.unwrap();
    let bank = Arc::new(Bank {
        identity: BankIdentity {
            code: "abank".into(),
            name: "ABank".into(),
        },
        down: AtomicBool::new(false),
        issued: AtomicU32::new(0),
        revoked: Mutex::new(Vec::new()),
    });
    let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
    let core = Arc::new(Core::new(db.db.clone(), CoreSettings::default(), registry).unwrap());
    let user = core
        .auth()
        .create_user("manager", "manager-password-123", Role::Manager)
        .await
        .unwrap();
    let who = manager(user.id);
    let client = core
        .create_client(
            &who,
            NewClient {
                display_name: "Иванов".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    (core, bank, db, who, client)
}

async fn actions(core: &Core, action: &str) -> Vec<String> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(core.db().conn())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.details)
        .collect()
}

#[tokio::test]
async fn unlinking_revokes_at_the_bank_stops_syncing_and_keeps_the_data() {
    let (core, bank, _db, who, client) = setup().await;
    let link = core
        .sync()
        .link_bank(&who, client, "abank", "team200-1")
        .await
        .unwrap();
    core.sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    let rows = || async {
        core.count_transactions(client, &TransactionFilter::default())
            .await
            .unwrap()
    };
    assert_eq!(rows().await, 1);

    // A viewer may not; a manager may.
    let viewer = Actor {
        role: Role::Viewer,
        ..who.clone()
    };
    assert!(matches!(
        core.sync().unlink_bank(&viewer, link.id).await,
        Err(CoreError::Forbidden(_))
    ));
    let unlinked = core.sync().unlink_bank(&who, link.id).await.unwrap();
    assert_eq!(unlinked.consent_status, LinkConsent::Revoked);
    assert_eq!(*bank.revoked.lock().unwrap(), vec!["consent-1".to_owned()]);
    assert!(unlinked
        .status_message
        .as_deref()
        .unwrap_or_default()
        .contains("data stays"));
    assert_eq!(actions(&core, "bank.unlink").await.len(), 1);

    assert_eq!(
        unlinked.state(Utc::now(), 7),
        crm_core::links::LinkState::Unlinked
    );
    // A sync leaves it alone (it is not in any run: the run is not held back by it), and the
    // data stays.
    let before = bank.issued.load(Ordering::SeqCst);
    let run = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert_eq!(
        run.status,
        crm_core::sync::SyncRunStatus::Succeeded,
        "{run:?}"
    );
    assert_eq!(
        bank.issued.load(Ordering::SeqCst),
        before,
        "no new consent asked for"
    );
    assert_eq!(rows().await, 1);

    // Relinking asks anew, and syncs again; a link that is not unlinked is refused clearly,
    // with nothing audited.
    let relinked = core.sync().relink_bank(&who, link.id).await.unwrap();
    assert_eq!(relinked.consent_status, LinkConsent::Authorized);
    assert_eq!(actions(&core, "bank.relink").await.len(), 1);
    assert!(matches!(
        core.sync().relink_bank(&who, link.id).await,
        Err(CoreError::InvalidInput(_))
    ));
    assert_eq!(actions(&core, "bank.relink").await.len(), 1);
    let run = core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
}

#[tokio::test]
async fn an_unreachable_bank_keeps_a_pending_revocation_that_the_job_finishes() {
    let (core, bank, _db, who, client) = setup().await;
    core.sync()
        .link_bank(&who, client, "abank", "team200-1")
        .await
        .unwrap();
    bank.down.store(true, Ordering::SeqCst);
    // Deleting the client revokes first; the bank is down, so the revocation waits.
    core.delete_client(&who, client).await.unwrap();
    assert!(bank.revoked.lock().unwrap().is_empty());
    assert_eq!(
        core.sync()
            .pending_revocations()
            .await
            .unwrap()
            .get("abank"),
        Some(&1)
    );
    let revoke = actions(&core, "bank.revoke").await;
    assert_eq!(revoke.len(), 1);
    assert!(revoke[0].contains("pending"), "{revoke:?}");
    // The job tries and fails while the bank is down (and so is retried later)...
    let runner = core.job_runner(Default::default());
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    assert_eq!(core.sync().retry_revocations().await.unwrap(), 1);
    // ...and finishes once it is back.
    bank.down.store(false, Ordering::SeqCst);
    assert_eq!(core.sync().retry_revocations().await.unwrap(), 0);
    assert_eq!(*bank.revoked.lock().unwrap(), vec!["consent-1".to_owned()]);
    assert!(core.sync().pending_revocations().await.unwrap().is_empty());
    let revoke = actions(&core, "bank.revoke").await;
    assert_eq!(revoke.len(), 2);
    assert!(revoke[1].contains("done"), "{revoke:?}");
}

#[tokio::test]
async fn deleting_a_client_revokes_its_consents_at_the_bank() {
    let (core, bank, _db, who, client) = setup().await;
    core.sync()
        .link_bank(&who, client, "abank", "team200-1")
        .await
        .unwrap();
    core.delete_client(&who, client).await.unwrap();
    assert_eq!(*bank.revoked.lock().unwrap(), vec!["consent-1".to_owned()]);
    assert!(core.sync().pending_revocations().await.unwrap().is_empty());
    assert!(matches!(
        core.delete_client(&who, client).await,
        Err(CoreError::NotFound { .. })
    ));
}
