//! One data loader per relation, so a page of N clients costs a constant number of queries.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use crm_core::accounts::Account;
use crm_core::holdings::{Card, ProductAgreement};
use crm_core::links::BankLink;
use crm_core::offers::Product;
use crm_core::ratings::Rating;
use crm_core::Core;

use crate::error::ApiError;

/// Loads relations through core. Keys are newtypes so one loader serves every relation.
pub struct CoreLoader(pub Arc<Core>);

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct AccountsOf(pub i64);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct LinksOf(pub i64);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct RatingOf(pub i64);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct AccountById(pub i64);
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct BankStatusOf(pub String);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct TransactionById(pub i64);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct RunLinksOf(pub i64);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct AgreementsOf(pub i64);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct CardsOf(pub i64);
/// A bank's catalogue, by bank code.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct ProductsOf(pub String);

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> i64) -> Vec<i64> {
    keys.iter().map(|k| f(*k)).collect()
}

impl Loader<AccountsOf> for CoreLoader {
    type Value = Arc<Vec<Account>>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AccountsOf],
    ) -> Result<HashMap<AccountsOf, Self::Value>, Self::Error> {
        let mut found = self.0.accounts_of_clients(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, Arc::new(found.remove(&k.0).unwrap_or_default())))
            .collect())
    }
}

impl Loader<LinksOf> for CoreLoader {
    type Value = Arc<Vec<BankLink>>;
    type Error = ApiError;

    async fn load(&self, keys: &[LinksOf]) -> Result<HashMap<LinksOf, Self::Value>, Self::Error> {
        let mut found = self.0.links_of_clients(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, Arc::new(found.remove(&k.0).unwrap_or_default())))
            .collect())
    }
}

impl Loader<RatingOf> for CoreLoader {
    type Value = Arc<Rating>;
    type Error = ApiError;

    async fn load(&self, keys: &[RatingOf]) -> Result<HashMap<RatingOf, Self::Value>, Self::Error> {
        let found = self
            .0
            .ratings_of_clients_computing_missing(&ids(keys, |k| k.0), chrono::Utc::now())
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, r)| (RatingOf(id), Arc::new(r)))
            .collect())
    }
}

impl Loader<AccountById> for CoreLoader {
    type Value = Arc<Account>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AccountById],
    ) -> Result<HashMap<AccountById, Self::Value>, Self::Error> {
        let found = self.0.accounts_by_ids(&ids(keys, |k| k.0)).await?;
        Ok(found
            .into_iter()
            .map(|(id, a)| (AccountById(id), Arc::new(a)))
            .collect())
    }
}

impl Loader<TransactionById> for CoreLoader {
    type Value = Arc<crm_core::transactions::Transaction>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[TransactionById],
    ) -> Result<HashMap<TransactionById, Self::Value>, Self::Error> {
        let found = self.0.transactions_by_ids(&ids(keys, |k| k.0)).await?;
        Ok(found
            .into_iter()
            .map(|(id, t)| (TransactionById(id), Arc::new(t)))
            .collect())
    }
}

impl Loader<BankStatusOf> for CoreLoader {
    type Value = crm_core::sync::BankStatus;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[BankStatusOf],
    ) -> Result<HashMap<BankStatusOf, Self::Value>, Self::Error> {
        let codes: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut found = self.0.sync().bank_statuses(&codes).await?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0).map(|v| (k.clone(), v)))
            .collect())
    }
}

impl Loader<RunLinksOf> for CoreLoader {
    type Value = Arc<Vec<crm_core::sync::SyncRunLink>>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[RunLinksOf],
    ) -> Result<HashMap<RunLinksOf, Self::Value>, Self::Error> {
        let mut found = self.0.sync().run_links(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, Arc::new(found.remove(&k.0).unwrap_or_default())))
            .collect())
    }
}

impl Loader<AgreementsOf> for CoreLoader {
    type Value = Arc<Vec<ProductAgreement>>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[AgreementsOf],
    ) -> Result<HashMap<AgreementsOf, Self::Value>, Self::Error> {
        let mut found = self.0.agreements_of_clients(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, Arc::new(found.remove(&k.0).unwrap_or_default())))
            .collect())
    }
}

impl Loader<CardsOf> for CoreLoader {
    type Value = Arc<Vec<Card>>;
    type Error = ApiError;

    async fn load(&self, keys: &[CardsOf]) -> Result<HashMap<CardsOf, Self::Value>, Self::Error> {
        let mut found = self.0.cards_of_clients(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, Arc::new(found.remove(&k.0).unwrap_or_default())))
            .collect())
    }
}

impl Loader<ProductsOf> for CoreLoader {
    type Value = Arc<Vec<Product>>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ProductsOf],
    ) -> Result<HashMap<ProductsOf, Self::Value>, Self::Error> {
        let codes: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut found = self.0.products_of_banks(&codes).await?;
        Ok(keys
            .iter()
            .map(|k| (k.clone(), Arc::new(found.remove(&k.0).unwrap_or_default())))
            .collect())
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct UserById(pub i64);
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct TeamById(pub i64);

impl Loader<UserById> for CoreLoader {
    type Value = crm_core::auth::User;
    type Error = ApiError;

    async fn load(&self, keys: &[UserById]) -> Result<HashMap<UserById, Self::Value>, Self::Error> {
        let mut found = self.0.users_by_ids(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0).map(|u| (*k, u)))
            .collect())
    }
}

impl Loader<TeamById> for CoreLoader {
    type Value = crm_core::teams::Team;
    type Error = ApiError;

    async fn load(&self, keys: &[TeamById]) -> Result<HashMap<TeamById, Self::Value>, Self::Error> {
        let mut found = self.0.teams_by_ids(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0).map(|t| (*k, t)))
            .collect())
    }
}

/// A client by id, without an access check: only for values that were reached through one (a
/// task is returned only to those who see its client).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct ClientById(pub i64);

impl Loader<ClientById> for CoreLoader {
    type Value = crm_core::clients::Client;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ClientById],
    ) -> Result<HashMap<ClientById, Self::Value>, Self::Error> {
        let mut found = self.0.clients_by_ids(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0).map(|c| (*k, c)))
            .collect())
    }
}

/// The signal a task was made for (a page of tasks reads theirs in one statement).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct SignalOfTask(pub i64);

impl Loader<SignalOfTask> for CoreLoader {
    type Value = crm_core::signals::Signal;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SignalOfTask],
    ) -> Result<HashMap<SignalOfTask, Self::Value>, Self::Error> {
        let mut found = self.0.signals_of_tasks(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0).map(|s| (*k, s)))
            .collect())
    }
}

/// A signal's task (a page of signals reads theirs in one statement).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct TaskById(pub i64);

impl Loader<TaskById> for CoreLoader {
    type Value = crm_core::tasks::Task;
    type Error = ApiError;

    async fn load(&self, keys: &[TaskById]) -> Result<HashMap<TaskById, Self::Value>, Self::Error> {
        let mut found = self.0.tasks_by_ids(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| found.remove(&k.0).map(|t| (*k, t)))
            .collect())
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct SharesOf(pub i64);

impl Loader<SharesOf> for CoreLoader {
    type Value = Arc<Vec<crm_core::teams::Share>>;
    type Error = ApiError;

    async fn load(&self, keys: &[SharesOf]) -> Result<HashMap<SharesOf, Self::Value>, Self::Error> {
        let mut found = self.0.shares_of_clients(&ids(keys, |k| k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (*k, Arc::new(found.remove(&k.0).unwrap_or_default())))
            .collect())
    }
}

/// How many of a client's transactions match a filter (the connection's `totalCount`): a page
/// of clients with their counts costs one statement per distinct filter, not one per client.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct TransactionCountOf {
    pub client_id: i64,
    pub filter: Arc<crm_core::transactions::TransactionFilter>,
}

impl Loader<TransactionCountOf> for CoreLoader {
    type Value = u64;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[TransactionCountOf],
    ) -> Result<HashMap<TransactionCountOf, Self::Value>, Self::Error> {
        let mut by_filter: HashMap<&Arc<crm_core::transactions::TransactionFilter>, Vec<i64>> =
            HashMap::new();
        for k in keys {
            by_filter.entry(&k.filter).or_default().push(k.client_id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (filter, clients) in by_filter {
            let counts = self.0.count_transactions_of(&clients, filter).await?;
            for client_id in clients {
                let n = counts.get(&client_id).copied().unwrap_or(0);
                out.insert(
                    TransactionCountOf {
                        client_id,
                        filter: filter.clone(),
                    },
                    n,
                );
            }
        }
        Ok(out)
    }
}
