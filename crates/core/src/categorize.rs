//! Choosing a transaction's category. Layers are tried in order of precedence and the first that
//! knows wins; its name is stored as the category source. This module holds the layers that exist
//! so far: manual choices are kept as they are, and everything else falls back to the direction's
//! catch-all category, so a credit never gets a spending category.

use crate::domain::{Category, CategorySource, Direction};

/// What the categoriser may look at.
#[derive(Clone, Copy, Debug)]
pub struct TransactionFacts<'a> {
    pub direction: Direction,
    pub description: &'a str,
    pub merchant: Option<&'a str>,
    pub mcc: Option<&'a str>,
}

/// Decides categories. Built once and shared; cheap to call.
#[derive(Clone, Debug, Default)]
pub struct Categorizer;

impl Categorizer {
    pub fn new() -> Self {
        Categorizer
    }

    pub fn categorize(&self, facts: &TransactionFacts<'_>) -> (Category, CategorySource) {
        (Category::fallback(facts.direction), CategorySource::Default)
    }
}

/// Whether a category may be put on a transaction of this direction.
pub fn fits_direction(category: Category, direction: Direction) -> bool {
    category.direction() == direction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_by_direction() {
        let c = Categorizer::new();
        let facts = TransactionFacts {
            direction: Direction::Credit,
            description: "x",
            merchant: None,
            mcc: None,
        };
        assert_eq!(
            c.categorize(&facts),
            (Category::OtherIncome, CategorySource::Default)
        );
        let facts = TransactionFacts {
            direction: Direction::Debit,
            ..facts
        };
        assert_eq!(
            c.categorize(&facts),
            (Category::OtherExpense, CategorySource::Default)
        );
    }
}
