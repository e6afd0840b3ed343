//! Closed sets of values stored as text in the database. Each parses from and prints to the exact
//! string the database holds (the same word GraphQL shows), so a bad value is caught on read.

use crate::error::CoreError;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Result<Self, CoreError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(CoreError::invalid(format!(
                        concat!("unknown ", stringify!($name), " {:?}; expected one of: {}"),
                        other,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a user may do. Ordered: a higher role can do all that a lower one can.
    Role { Viewer => "VIEWER", Manager => "MANAGER", Admin => "ADMIN" }
);

text_enum!(
    /// Whether the bank relationship with a client is live.
    ClientStatus { Active => "ACTIVE", Inactive => "INACTIVE" }
);

text_enum!(
    /// Whether an account is open at its bank. An account the bank stops listing in a complete
    /// account list (or says is disabled or closed) is `Closed` until it is listed again.
    AccountStatus { Open => "OPEN", Closed => "CLOSED" }
);

text_enum!(
    /// What an account is. The balance of a `Loan` or `CreditCard` account is a debt: never
    /// part of the client's money.
    AccountKind {
        Current => "CURRENT",
        Savings => "SAVINGS",
        Deposit => "DEPOSIT",
        Card => "CARD",
        CreditCard => "CREDIT_CARD",
        Loan => "LOAN",
        Other => "OTHER",
    }
);

impl AccountKind {
    /// Whether the account's balance is money the client owes.
    pub fn is_debt(self) -> bool {
        matches!(self, AccountKind::Loan | AccountKind::CreditCard)
    }
}

text_enum!(
    /// What a product agreement is (a deposit, a loan or a credit line).
    AgreementKind {
        Deposit => "DEPOSIT",
        Loan => "LOAN",
        CreditLine => "CREDIT_LINE",
        Other => "OTHER",
    }
);

text_enum!(
    /// Where a product agreement stands.
    AgreementStatus {
        Active => "ACTIVE",
        Closed => "CLOSED",
        Defaulted => "DEFAULTED",
        Other => "OTHER",
    }
);

text_enum!(
    /// A debit or credit card.
    CardKind { Debit => "DEBIT", Credit => "CREDIT", Other => "OTHER" }
);

text_enum!(
    /// Where a card stands at its bank.
    CardStatus {
        Active => "ACTIVE",
        Blocked => "BLOCKED",
        Expired => "EXPIRED",
        Other => "OTHER",
    }
);

text_enum!(
    /// Money in (`Credit`) or out (`Debit`) of the client's account.
    Direction { Credit => "CREDIT", Debit => "DEBIT" }
);

text_enum!(
    /// Booked rows count in totals; pending rows are shown but may still change or vanish;
    /// reversed rows are booked rows the bank stopped listing: kept, counted nowhere, and booked
    /// again if the bank lists them again.
    TransactionStatus { Booked => "BOOKED", Pending => "PENDING", Reversed => "REVERSED" }
);

text_enum!(
    /// The A/B/C client grade.
    Grade { A => "A", B => "B", C => "C" }
);

text_enum!(
    /// Where a bank link stands with its consent.
    ConsentStatus {
        None => "NONE",
        AwaitingAuthorization => "AWAITING_AUTHORIZATION",
        Authorized => "AUTHORIZED",
        Rejected => "REJECTED",
        Revoked => "REVOKED",
        Expired => "EXPIRED",
    }
);

text_enum!(
    /// Which layer of categorisation decided a transaction's category (first match wins, in this
    /// order of precedence): a person, a user rule, the merchant dictionary, the MCC code, a keyword
    /// in the description, or the direction's fallback.
    CategorySource {
        Manual => "MANUAL",
        Rule => "RULE",
        Merchant => "MERCHANT",
        Mcc => "MCC",
        Keyword => "KEYWORD",
        Default => "DEFAULT",
        TransferMatch => "TRANSFER_MATCH",
    }
);

text_enum!(
    /// The fixed taxonomy. Codes are stable: they are stored and are part of the public API.
    Category {
        Groceries => "GROCERIES",
        Restaurants => "RESTAURANTS",
        FoodDelivery => "FOOD_DELIVERY",
        Transport => "TRANSPORT",
        Auto => "AUTO",
        Shopping => "SHOPPING",
        Home => "HOME",
        Health => "HEALTH",
        Beauty => "BEAUTY",
        Entertainment => "ENTERTAINMENT",
        Subscriptions => "SUBSCRIPTIONS",
        Telecom => "TELECOM",
        Utilities => "UTILITIES",
        Education => "EDUCATION",
        Travel => "TRAVEL",
        Cash => "CASH",
        TransfersOut => "TRANSFERS_OUT",
        LoanPayments => "LOAN_PAYMENTS",
        TaxesFees => "TAXES_FEES",
        OtherExpense => "OTHER_EXPENSE",
        Salary => "SALARY",
        Interest => "INTEREST",
        TransfersIn => "TRANSFERS_IN",
        Refunds => "REFUNDS",
        OtherIncome => "OTHER_INCOME",
        OwnTransfer => "OWN_TRANSFER",
    }
);

impl Role {
    /// Whether this role includes everything `needed` may do.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl Category {
    /// Whether money of this category is the client's income or spending (every category but
    /// [`Category::OwnTransfer`], money moved between the client's own accounts).
    pub fn is_flow(self) -> bool {
        self != Category::OwnTransfer
    }

    /// Whether a transaction of `direction` may have this category.
    pub fn fits(self, direction: Direction) -> bool {
        !self.is_flow() || self.direction() == direction
    }

    /// The direction whose money this category describes: a credit never gets a spending
    /// category. [`Category::OwnTransfer`] fits both directions ([`Category::fits`]); it is
    /// listed with the debits.
    pub fn direction(self) -> Direction {
        match self {
            Category::Salary
            | Category::Interest
            | Category::TransfersIn
            | Category::Refunds
            | Category::OtherIncome => Direction::Credit,
            _ => Direction::Debit,
        }
    }

    /// The category a transaction gets when no layer knows better.
    pub fn fallback(direction: Direction) -> Category {
        match direction {
            Direction::Credit => Category::OtherIncome,
            Direction::Debit => Category::OtherExpense,
        }
    }

    /// (Russian, English) display names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Category::Groceries => ("Продукты", "Groceries"),
            Category::Restaurants => ("Кафе и рестораны", "Restaurants"),
            Category::FoodDelivery => ("Доставка еды", "Food delivery"),
            Category::Transport => ("Транспорт", "Transport"),
            Category::Auto => ("Автомобиль", "Car"),
            Category::Shopping => ("Покупки", "Shopping"),
            Category::Home => ("Дом и ремонт", "Home"),
            Category::Health => ("Здоровье", "Health"),
            Category::Beauty => ("Красота", "Beauty"),
            Category::Entertainment => ("Развлечения", "Entertainment"),
            Category::Subscriptions => ("Подписки", "Subscriptions"),
            Category::Telecom => ("Связь", "Telecom"),
            Category::Utilities => ("ЖКХ", "Utilities"),
            Category::Education => ("Образование", "Education"),
            Category::Travel => ("Путешествия", "Travel"),
            Category::Cash => ("Наличные", "Cash"),
            Category::TransfersOut => ("Переводы", "Transfers out"),
            Category::LoanPayments => ("Платежи по кредитам", "Loan payments"),
            Category::TaxesFees => ("Налоги и комиссии", "Taxes and fees"),
            Category::OtherExpense => ("Прочие расходы", "Other expenses"),
            Category::Salary => ("Зарплата", "Salary"),
            Category::Interest => ("Проценты и кэшбэк", "Interest and cashback"),
            Category::TransfersIn => ("Входящие переводы", "Transfers in"),
            Category::Refunds => ("Возвраты", "Refunds"),
            Category::OtherIncome => ("Прочие поступления", "Other income"),
            Category::OwnTransfer => (
                "Перевод между своими счетами",
                "Transfer between own accounts",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_value() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()).ok(), Some(*c));
        }
        for s in ConsentStatus::ALL {
            assert_eq!(ConsentStatus::parse(s.as_str()).ok(), Some(*s));
        }
        assert!(Category::parse("groceries").is_err());
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.allows(Role::Manager));
        assert!(Role::Manager.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Manager));
    }

    #[test]
    fn income_and_spending_never_mix() {
        assert_eq!(
            Category::fallback(Direction::Credit).direction(),
            Direction::Credit
        );
        assert_eq!(
            Category::fallback(Direction::Debit).direction(),
            Direction::Debit
        );
        let income = Category::ALL
            .iter()
            .filter(|c| c.direction() == Direction::Credit)
            .count();
        assert_eq!(income, 5);
    }
}

text_enum!(
    /// What a client's timeline entry records.
    TimelineKind {
        Note => "NOTE",
        TaskCreated => "TASK_CREATED",
        TaskCompleted => "TASK_COMPLETED",
        TaskCancelled => "TASK_CANCELLED",
        TaskReopened => "TASK_REOPENED",
        BankLinked => "BANK_LINKED",
        BankUnlinked => "BANK_UNLINKED",
        ConsentChanged => "CONSENT_CHANGED",
        SyncImported => "SYNC_IMPORTED",
        LargeTransaction => "LARGE_TRANSACTION",
        RatingChanged => "RATING_CHANGED",
        ClientCreated => "CLIENT_CREATED",
        ClientEdited => "CLIENT_EDITED",
        ClientAssigned => "CLIENT_ASSIGNED",
        ClientShared => "CLIENT_SHARED",
        ClientUnshared => "CLIENT_UNSHARED",
        AssistantConversation => "ASSISTANT_CONVERSATION",
        SignalRaised => "SIGNAL_RAISED",
        SignalClosed => "SIGNAL_CLOSED",
        BriefGenerated => "BRIEF_GENERATED",
    }
);

text_enum!(
    /// What a signal is about (see `signals`).
    SignalKind {
        ConsentExpiring => "CONSENT_EXPIRING",
        ConsentLost => "CONSENT_LOST",
        DepositMaturing => "DEPOSIT_MATURING",
        LoanEnding => "LOAN_ENDING",
        SalaryMissing => "SALARY_MISSING",
        SalaryMoved => "SALARY_MOVED",
        IncomeDrop => "INCOME_DROP",
        LargeInflow => "LARGE_INFLOW",
        LowBalanceAhead => "LOW_BALANCE_AHEAD",
        Overdraft => "OVERDRAFT",
        RatingDowngrade => "RATING_DOWNGRADE",
        NewExternalProduct => "NEW_EXTERNAL_PRODUCT",
    }
);

impl SignalKind {
    /// The kind's short name.
    pub fn title(self, lang: crate::domain::Lang) -> &'static str {
        use SignalKind::*;
        match self {
            ConsentExpiring => lang.pick("Согласие истекает", "Consent expiring"),
            ConsentLost => lang.pick("Согласие потеряно", "Consent lost"),
            DepositMaturing => lang.pick("Вклад погашается", "Deposit maturing"),
            LoanEnding => lang.pick("Кредит заканчивается", "Loan ending"),
            SalaryMissing => lang.pick("Зарплата не пришла", "Salary missing"),
            SalaryMoved => lang.pick("Зарплата ушла в другой банк", "Salary moved"),
            IncomeDrop => lang.pick("Доход упал", "Income drop"),
            LargeInflow => lang.pick("Крупное поступление", "Large inflow"),
            LowBalanceAhead => lang.pick("Скоро низкий остаток", "Low balance ahead"),
            Overdraft => lang.pick("Овердрафт", "Overdraft"),
            RatingDowngrade => lang.pick("Рейтинг снизился", "Rating downgrade"),
            NewExternalProduct => {
                lang.pick("Новый продукт в другом банке", "New product elsewhere")
            }
        }
    }
}

text_enum!(
    /// Where a signal stands: open until acknowledged, done (its task completed, or the fact
    /// no longer holds) or dismissed with a reason.
    SignalState {
        Open => "OPEN",
        Acknowledged => "ACKNOWLEDGED",
        Done => "DONE",
        Dismissed => "DISMISSED",
    }
);

text_enum!(
    /// How soon a signal wants attention.
    SignalSeverity { Info => "INFO", Warning => "WARNING", Critical => "CRITICAL" }
);

text_enum!(
    /// What a product held at another bank is (see `wallet`).
    HeldAwayKind {
        Deposit => "DEPOSIT",
        Savings => "SAVINGS",
        Loan => "LOAN",
        CreditLine => "CREDIT_LINE",
        CreditCard => "CREDIT_CARD",
    }
);

impl HeldAwayKind {
    /// The kind's short name.
    pub fn title(self, lang: crate::domain::Lang) -> &'static str {
        use HeldAwayKind::*;
        match self {
            Deposit => lang.pick("Вклад", "Deposit"),
            Savings => lang.pick("Накопительный счёт", "Savings account"),
            Loan => lang.pick("Кредит", "Loan"),
            CreditLine => lang.pick("Кредитная линия", "Credit line"),
            CreditCard => lang.pick("Кредитная карта", "Credit card"),
        }
    }

    /// Whether the client owes this product's amount (a loan, a credit line or card).
    pub fn is_debt(self) -> bool {
        !matches!(self, HeldAwayKind::Deposit | HeldAwayKind::Savings)
    }
}

text_enum!(
    /// Where the knowledge of a held-away product comes from: the bank lists it (an agreement or
    /// an account of a linked bank), the client's payments show it, or both agree.
    HeldAwaySource { Listed => "LISTED", Flows => "FLOWS", Both => "BOTH" }
);

text_enum!(
    /// How sure an inference is.
    Confidence { High => "HIGH", Medium => "MEDIUM", Low => "LOW" }
);

text_enum!(
    /// Where a task stands: open until done or cancelled (either may be reopened).
    TaskStatus { Open => "OPEN", Done => "DONE", Cancelled => "CANCELLED" }
);

text_enum!(
    /// How urgent a task is.
    TaskPriority { Low => "LOW", Normal => "NORMAL", High => "HIGH", Urgent => "URGENT" }
);

text_enum!(
    /// Who made a task: a person, a signal, the assistant.
    TaskSource { Manual => "MANUAL", Signal => "SIGNAL", Assistant => "ASSISTANT" }
);
