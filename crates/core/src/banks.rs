//! The banks the CRM knows: each registered connector, in display order. Core sees a bank only by
//! its code and through the `BankConnector` trait.

use std::sync::Arc;

use crm_connector::BankConnector;

/// A bank's identity as shown to users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankInfo {
    /// Stable lower-case code (`abank`), stored on links and accounts.
    pub code: String,
    pub name: String,
}

/// The registered banks.
#[derive(Clone, Default)]
pub struct BankRegistry {
    banks: Arc<Vec<(BankInfo, Arc<dyn BankConnector>)>>,
}

/// The pseudo-bank that holds accounts created for manual entries.
pub const MANUAL_BANK_CODE: &str = "manual";

impl BankRegistry {
    pub fn new(connectors: Vec<Arc<dyn BankConnector>>) -> Self {
        let banks = connectors
            .into_iter()
            .map(|c| {
                let id = c.identity();
                (
                    BankInfo {
                        code: id.code.clone(),
                        name: id.name.clone(),
                    },
                    c,
                )
            })
            .collect();
        BankRegistry {
            banks: Arc::new(banks),
        }
    }

    pub fn all(&self) -> Vec<BankInfo> {
        self.banks.iter().map(|(info, _)| info.clone()).collect()
    }

    pub fn get(&self, code: &str) -> Option<&BankInfo> {
        self.banks
            .iter()
            .find(|(b, _)| b.code == code)
            .map(|(b, _)| b)
    }

    pub fn connector(&self, code: &str) -> Option<Arc<dyn BankConnector>> {
        self.banks
            .iter()
            .find(|(b, _)| b.code == code)
            .map(|(_, c)| c.clone())
    }

    /// The bank's identity; an unregistered code (a bank removed from the configuration, or the
    /// manual pseudo-bank) still gets a readable name.
    pub fn describe(&self, code: &str) -> BankInfo {
        if let Some(bank) = self.get(code) {
            return bank.clone();
        }
        let name = if code == MANUAL_BANK_CODE {
            "Ручной ввод"
        } else {
            code
        };
        BankInfo {
            code: code.to_owned(),
            name: name.to_owned(),
        }
    }
}
