//! The banks the CRM knows. Connectors register here; core sees a bank only by its code.

use std::sync::Arc;

/// A bank's identity as shown to users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankInfo {
    /// Stable lower-case code (`abank`), stored on links and accounts.
    pub code: String,
    pub name: String,
}

/// The registered banks, in display order.
#[derive(Clone, Debug, Default)]
pub struct BankRegistry {
    banks: Arc<Vec<BankInfo>>,
}

/// The pseudo-bank that holds accounts created for manual entries.
pub const MANUAL_BANK_CODE: &str = "manual";

impl BankRegistry {
    pub fn new(banks: Vec<BankInfo>) -> Self {
        BankRegistry {
            banks: Arc::new(banks),
        }
    }

    pub fn all(&self) -> &[BankInfo] {
        &self.banks
    }

    pub fn get(&self, code: &str) -> Option<&BankInfo> {
        self.banks.iter().find(|b| b.code == code)
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
