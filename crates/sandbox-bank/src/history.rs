//! One account's transactions, generated on first use from the seed and kept compactly
//! (40 bytes a row; texts come from the catalogue when a page is rendered). A person's recurring
//! payments land on fixed days; transfers between their own accounts appear on both sides with
//! the same day and amount; spending happens at random times in the proportions of their habits.

use chrono::{Datelike, Months, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::catalog::{self, kind, Group, MERCHANTS, MERCHANT_BASE};
use crate::scenarios::salary_paid_at_home;
use crate::world::{
    mix48, month_days, rng, tag, ts, Account, AccountKind, BankWorld, Income, Lender, Person,
    Profile, Role, World, DISCRETIONARY,
};

/// A row, compact. `template` < [`MERCHANT_BASE`] is a transfer kind, else a merchant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tx {
    /// Booking time, unix seconds.
    pub at: i64,
    /// Minor units, positive.
    pub amount: i64,
    /// 48-bit id, unique within the bank.
    pub id: u64,
    pub micros: u32,
    /// The value date is this many seconds before the booking (card batches).
    pub value_offset: u32,
    pub template: u16,
    pub party: u16,
    pub flags: u8,
}

pub(crate) const CREDIT: u8 = 1;
pub(crate) const PENDING: u8 = 2;
pub(crate) const REFUND: u8 = 4;
pub(crate) const CARD: u8 = 8;

impl Tx {
    pub fn credit(&self) -> bool {
        self.flags & CREDIT != 0
    }
    pub fn pending(&self) -> bool {
        self.flags & PENDING != 0
    }
    pub fn signed(&self) -> i64 {
        if self.credit() {
            self.amount
        } else {
            -self.amount
        }
    }
}

/// The id of the `n`-th row generated for account `seq` (or added later, `added`).
pub(crate) fn row_id(salt: u64, seq: u32, n: u64, added: bool) -> u64 {
    let account = u64::from(seq) | if added { 1 << 19 } else { 0 };
    mix48(salt ^ (account << 28 | (n & ((1 << 28) - 1))))
}

struct Gen {
    r: ChaCha8Rng,
    rows: Vec<Tx>,
    start: i64,
    end: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

const DAY: i64 = 86_400;
/// Moscow is UTC+3: local hour h is UTC hour h - 3.
const MSK: i64 = 3 * 3_600;

impl Gen {
    fn push(&mut self, at: i64, amount: i64, template: u16, party: u16, mut flags: u8) {
        // A transfer's direction is its kind's.
        if let Some(k) = catalog::TRANSFERS.get(usize::from(template)) {
            flags = if k.credit {
                flags | CREDIT
            } else {
                flags & !CREDIT
            };
        }
        if at >= self.start && at < self.end && amount > 0 {
            self.rows.push(Tx {
                at,
                amount,
                id: 0,
                micros: 0,
                value_offset: 0,
                template,
                party,
                flags,
            });
        }
    }

    /// A card purchase at a random local time on a random day of the window.
    fn purchase(&mut self, merchant: usize, amount: i64, at: Option<i64>) {
        let at = at.unwrap_or_else(|| self.random_time(Group::Grocery));
        let micros = self.r.gen_range(0..1_000_000);
        if at < self.start || at >= self.end || amount <= 0 {
            return;
        }
        // Some terminals post in a nightly batch: booked at the next midnight (a tie with every
        // other row of that batch), valued at the purchase time.
        let batch_at = (at.div_euclid(DAY) + 1) * DAY;
        let batched = self.r.gen_bool(0.2) && batch_at < self.end - 2 * DAY;
        self.rows.push(Tx {
            at: if batched { batch_at } else { at },
            amount,
            id: 0,
            micros: if batched { 0 } else { micros },
            value_offset: if batched { (batch_at - at) as u32 } else { 0 },
            template: MERCHANT_BASE + merchant as u16,
            party: 0,
            flags: CARD,
        });
    }

    fn random_day(&mut self) -> i64 {
        let days = ((self.end - self.start) / DAY).max(1);
        (self.start.div_euclid(DAY) + self.r.gen_range(0..days)) * DAY
    }

    /// A random moment in the window at a local hour typical of the group.
    fn random_time(&mut self, group: Group) -> i64 {
        let (lo, hi) = match group {
            Group::Cafe => (8, 23),
            Group::Taxi => (7, 24),
            Group::Delivery => (11, 23),
            Group::Transport => (7, 22),
            Group::Alcohol => (12, 23),
            _ => (9, 22),
        };
        let day = self.random_day();
        let local = self.r.gen_range(lo * 3_600..hi * 3_600);
        day + local - MSK
    }

    /// The given day and UTC time of every month of the window (days past a month's end clamp).
    fn monthly(&self, day: u32, h: u32, m: u32, s: u32) -> Vec<i64> {
        let mut out = Vec::new();
        let Some(mut month) =
            NaiveDate::from_ymd_opt(self.start_date.year(), self.start_date.month(), 1)
        else {
            return out;
        };
        while month <= self.end_date {
            let d = day.clamp(1, month_days(month));
            if let Some(date) = NaiveDate::from_ymd_opt(month.year(), month.month(), d) {
                out.push(ts(date, h, m, s));
            }
            match month.checked_add_months(Months::new(1)) {
                Some(next) => month = next,
                None => break,
            }
        }
        out
    }

    fn months_active(&self) -> f64 {
        (self.end - self.start) as f64 / (30.44 * DAY as f64)
    }

    /// A count with mean `x`: its whole part and one more with the fraction's probability.
    fn count(&mut self, x: f64) -> usize {
        let x = x.max(0.0);
        let whole = x.floor();
        whole as usize + usize::from(self.r.gen_bool((x - whole).clamp(0.0, 1.0)))
    }

    fn amount(&mut self, merchant: usize, scale_pct: i64) -> i64 {
        let m = &MERCHANTS[merchant];
        if m.min == m.max {
            return m.min * 100;
        }
        let roubles = self.r.gen_range(m.min..=m.max);
        let scaled = (roubles * scale_pct / 100).clamp(m.min, m.max * 2);
        scaled * 100 + self.r.gen_range(0..100)
    }
}

/// One own transfer: the payer's debit time, the payee's credit time, the amount (minor units).
/// Within one bank both legs share the second; between banks the credit lands 0 to 2 days
/// after the debit (bank-in-a-box books at once, real banks take up to two working days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OwnTransfer {
    pub debit_at: i64,
    pub credit_at: i64,
    pub amount: i64,
}

/// Where a person's salary account is: (bank index, its position in the bank's `by_client`
/// list of the person). The payer of every own transfer.
pub(crate) fn salary_of(world: &World, person: &Person) -> Option<(usize, usize)> {
    let b = *person.banks.first()?;
    let list = world.banks.get(b)?.by_client.get(&person.id)?;
    list.iter()
        .position(|&i| world.banks[b].accounts[i].role == Role::Salary)
        .map(|pos| (b, pos))
}

/// A row's `party` naming one of the owner's accounts: bank x 16 + position + 1 (0: none).
pub(crate) fn own_party(bank: usize, position: usize) -> u16 {
    u16::try_from(bank * 16 + position + 1).unwrap_or(0)
}

/// The account a row's `party` names (see [`own_party`]).
pub(crate) fn own_account<'w>(
    world: &'w World,
    person: &Person,
    party: u16,
) -> Option<(&'w BankWorld, &'w Account)> {
    let n = usize::from(party.checked_sub(1)?);
    let bank = world.banks.get(n / 16)?;
    let &i = bank.by_client.get(&person.id)?.get(n % 16)?;
    Some((bank, &bank.accounts[i]))
}

/// A mirrored schedule of transfers into `target` (from the owner's salary account): both sides
/// compute it alike, so the debit and the credit share the amount, and the day (within a bank)
/// or a lag of at most two days (between banks). Transfers still in flight at the anchor are
/// left out on both sides.
pub(crate) fn transfers_into(
    world: &World,
    bank: &BankWorld,
    target: &Account,
) -> Vec<OwnTransfer> {
    let person = &world.persons[target.owner];
    let mut r = rng(
        world.seed,
        &[tag::TRANSFERS, bank.index as u64, u64::from(target.seq)],
    );
    let end = world.anchor.timestamp();
    let start = target.start;
    let scale = person.plan.scale_pct;
    let (per_month, lo, hi): ((u32, u32), i64, i64) = match target.kind {
        AccountKind::Savings => {
            let base = person.plan.savings_monthly.max(500_000);
            ((1, 1), base * 8 / 10, base * 12 / 10)
        }
        AccountKind::CreditCard => match person.profile {
            Profile::Stretched => ((1, 1), 300_000, 900_000),
            _ => ((1, 1), 600_000 * scale / 100, 3_500_000 * scale / 100),
        },
        AccountKind::Checking if target.role == Role::Secondary => {
            ((1, 2), 500_000 * scale / 100, 3_000_000 * scale / 100)
        }
        _ => return Vec::new(),
    };
    let cross_bank = person.banks.first() != Some(&bank.index);
    let income_day = match person.plan.income {
        Income::Salary { day, .. } | Income::Pension { day, .. } => day,
        Income::Freelance { .. } => 12,
    };
    let mut out = Vec::new();
    let start_date = crate::world::from_unix(start, 0).date_naive();
    let end_date = world.anchor.date_naive();
    let Some(mut month) = NaiveDate::from_ymd_opt(start_date.year(), start_date.month(), 1) else {
        return out;
    };
    while month <= end_date {
        let n = r.gen_range(per_month.0..=per_month.1);
        for k in 0..n {
            let day = if k == 0 {
                income_day + 1
            } else {
                r.gen_range(1..=28)
            };
            let d = day.clamp(1, month_days(month));
            let Some(date) = NaiveDate::from_ymd_opt(month.year(), month.month(), d) else {
                continue;
            };
            let at = ts(
                date,
                r.gen_range(6..18),
                r.gen_range(0..60),
                r.gen_range(0..60),
            );
            let amount = r.gen_range(lo / 100_000..=(hi / 100_000).max(lo / 100_000)) * 100_000;
            // The lag comes from a hash, not the generator, so no other draw moves.
            let lag = if cross_bank {
                let h = crate::world::mix(world.seed ^ (at as u64) << 8 ^ u64::from(target.seq));
                if h.is_multiple_of(4) {
                    0
                } else {
                    (h >> 8) as i64 % (2 * DAY + 1)
                }
            } else {
                0
            };
            if at >= start && at + lag < end && amount > 0 {
                out.push(OwnTransfer {
                    debit_at: at,
                    credit_at: at + lag,
                    amount,
                });
            }
        }
        match month.checked_add_months(Months::new(1)) {
            Some(next) => month = next,
            None => break,
        }
    }
    out
}

/// A steady saver's occasional withdrawals from a savings account back to the salary account,
/// as (time, amount): both sides compute them alike (the debit on the savings account, the
/// credit on the salary account, the same second), from a generator of their own.
pub(crate) fn withdrawals_from(
    world: &World,
    bank: &BankWorld,
    savings: &Account,
) -> Vec<(i64, i64)> {
    let person = &world.persons[savings.owner];
    if savings.kind != AccountKind::Savings || person.profile != Profile::Steady {
        return Vec::new();
    }
    let mut r = rng(
        world.seed,
        &[tag::WITHDRAWALS, bank.index as u64, u64::from(savings.seq)],
    );
    let end = world.anchor.timestamp();
    let start = savings.start;
    if end <= start + DAY {
        return Vec::new();
    }
    let months = (end - start) as f64 / (30.0 * DAY as f64);
    let n = (months / 6.0).round() as usize;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let day = r.gen_range(start / DAY + 1..end / DAY);
        let at = day * DAY + 10 * 3_600;
        let amount = r.gen_range(5..40) * 1_000 * 100;
        if at < end {
            out.push((at, amount));
        }
    }
    out
}

/// The person's trips: (departure, days, abroad).
fn trips(world: &World, person_index: usize) -> Vec<(i64, i64, bool)> {
    let person = &world.persons[person_index];
    let mut r = rng(world.seed, &[tag::TRANSFERS, u64::MAX, person_index as u64]);
    let end = world.anchor.timestamp();
    let start = world
        .anchor
        .date_naive()
        .checked_sub_months(Months::new(person.months))
        .map_or(end, |d| ts(d, 0, 0, 0));
    let expected = person.plan.trips_per_year * f64::from(person.months) / 12.0;
    let n = expected.floor() as usize
        + usize::from(r.gen_bool((expected - expected.floor()).clamp(0.0, 1.0)));
    (0..n)
        .map(|_| {
            let days = (end - start) / DAY;
            let at = (start / DAY + r.gen_range(0..days.max(1))) * DAY;
            (at, r.gen_range(3..10), r.gen_bool(0.45))
        })
        .collect()
}

/// Every row of one account, newest first (ties by id).
pub(crate) fn generate(world: &World, bank: &BankWorld, index: usize) -> Vec<Tx> {
    let a = &bank.accounts[index];
    if a.role == Role::Newcomer || a.quota == Some(0) {
        return Vec::new();
    }
    let person = &world.persons[a.owner];
    let end = world.anchor.timestamp();
    let mut g = Gen {
        r: rng(
            world.seed,
            &[tag::HISTORY, bank.index as u64, u64::from(a.seq)],
        ),
        rows: Vec::new(),
        start: a.start,
        end,
        start_date: crate::world::from_unix(a.start, 0).date_naive(),
        end_date: world.anchor.date_naive(),
    };
    match (a.kind, a.role) {
        (AccountKind::Checking, Role::Salary) => salary_account(&mut g, world, bank, a, person),
        (AccountKind::Checking, _) => secondary_account(&mut g, world, bank, a, person),
        (AccountKind::CreditCard, _) => credit_card(&mut g, world, bank, a, person),
        (AccountKind::Savings, _) => savings(&mut g, world, bank, a, person),
        (AccountKind::Currency, _) => currency(&mut g, world, a),
        (AccountKind::Loan, _) => loan_account(&mut g, a, person),
        (AccountKind::Deposit, _) => deposit_account(&mut g, world, a, person),
    }
    match a.quota {
        None => {
            discretionary(&mut g, person, a.share_pct, 1.0);
            if a.travel {
                travel(&mut g, world, a.owner, person.plan.scale_pct);
            }
        }
        Some(q) => fill(&mut g, world, a, person, q),
    }
    // Deposits funded from this account (pushed last, so no earlier row's id moves).
    if a.role == Role::Salary && a.quota.is_none() {
        deposit_fundings(&mut g, world, bank, person);
    }
    // Recent card payments are still pending.
    for row in &mut g.rows {
        if row.flags & CARD != 0 && row.at >= end - 2 * DAY {
            row.flags |= PENDING;
        }
    }
    for (n, row) in g.rows.iter_mut().enumerate() {
        row.id = row_id(bank.salt, a.seq, n as u64, false);
    }
    g.rows
        .sort_unstable_by(|x, y| y.at.cmp(&x.at).then(x.id.cmp(&y.id)));
    if let Some(q) = a.quota {
        g.rows.truncate(q as usize);
    }
    g.rows
}

fn salary_account(g: &mut Gen, world: &World, bank: &BankWorld, a: &Account, person: &Person) {
    let plan = &person.plan;
    match plan.income {
        Income::Salary {
            amount,
            day,
            advance,
        } => {
            for at in g.monthly(day, 6, 0, 0) {
                let month = crate::world::from_unix(at, 0).month();
                let bonus = if month == 12 && person.profile != Profile::Stretched {
                    amount / 2
                } else {
                    0
                };
                let wobble = g.r.gen_range(-150..=150) * 100;
                if salary_paid_at_home(&person.scenario, at) {
                    g.push(at, amount + bonus + wobble, kind::SALARY, 0, CREDIT);
                }
            }
            if let Some((adv, adv_day)) = advance {
                for at in g.monthly(adv_day, 6, 0, 0) {
                    if salary_paid_at_home(&person.scenario, at) {
                        g.push(at, adv, kind::ADVANCE, 0, CREDIT);
                    }
                }
            }
            if let Some((at, windfall)) = person.scenario.windfall {
                g.push(at, windfall, kind::WINDFALL, 0, CREDIT);
            }
        }
        Income::Pension { amount, day } => {
            for at in g.monthly(day, 4, 0, 0) {
                g.push(at, amount, kind::PENSION, 0, CREDIT);
            }
        }
        Income::Freelance { monthly } => {
            let months = g.months_active();
            let n = g.count(months * 2.5);
            for _ in 0..n {
                let at = g.random_day() + g.r.gen_range(7 * 3_600..16 * 3_600);
                let amount = (monthly * g.r.gen_range(15..65) / 100) / 100 * 100;
                let (template, party) = if g.r.gen_bool(0.5) {
                    (
                        kind::FREELANCE,
                        g.r.gen_range(0..crate::names::CUSTOMERS.len()) as u16,
                    )
                } else {
                    (kind::SBP_IN, g.r.gen_range(0..64))
                };
                g.push(at, amount, template, party, CREDIT);
            }
        }
    }
    if let Some((rent, day)) = plan.rent {
        let landlord = (person.id.len() as u16 * 7 + a.seq as u16) % 64;
        for at in g.monthly(day, 7, 0, 0) {
            g.push(at, rent, kind::RENT, landlord, 0);
        }
    }
    // Autopayments: one second, several rows.
    let eirc = MERCHANTS.iter().position(|m| m.name == "ЕИРЦ").unwrap_or(0);
    let power = MERCHANTS
        .iter()
        .position(|m| m.name == "Мосэнергосбыт")
        .unwrap_or(0);
    for at in g.monthly(plan.bills_day, 6, 0, 0) {
        let month = crate::world::from_unix(at, 0).month();
        let winter = matches!(month, 11 | 12 | 1 | 2 | 3);
        let utilities =
            plan.utilities * if winter { 130 } else { 100 } / 100 + g.r.gen_range(-30_000..30_000);
        g.push(at, utilities, MERCHANT_BASE + eirc as u16, 0, 0);
        let electricity = plan.power + g.r.gen_range(-20_000..20_000);
        g.push(at, electricity, MERCHANT_BASE + power as u16, 0, 0);
        g.push(
            at,
            plan.telecom.1,
            MERCHANT_BASE + plan.telecom.0 as u16,
            0,
            0,
        );
        if let Some((m, amount)) = plan.internet {
            g.push(at, amount, MERCHANT_BASE + m as u16, 0, 0);
        }
    }
    for &(m, day) in &plan.subscriptions {
        for at in g.monthly(day, 0, 0, 0) {
            g.push(
                at,
                MERCHANTS[m].min * 100,
                MERCHANT_BASE + m as u16,
                0,
                CARD,
            );
        }
    }
    for &(m, amount, day) in &plan.memberships {
        for at in g.monthly(day, 9, 0, 0) {
            g.push(at, amount, MERCHANT_BASE + m as u16, 0, CARD);
        }
    }
    if let Some(loan) = &plan.loan {
        for at in g.monthly(loan.day, 8, 0, 0) {
            g.push(at, loan.monthly, kind::LOAN_PAYMENT, 0, 0);
        }
    }
    if let Some(fee) = plan.card_fee {
        for at in g.monthly(1, 0, 0, 0) {
            g.push(at, fee, kind::FEE, 0, 0);
        }
    }
    if person.profile != Profile::Stretched {
        for at in g.monthly(2, 4, 0, 0) {
            let cashback = g.r.gen_range(100..2_500) * 100 * person.plan.scale_pct / 100;
            g.push(at, cashback, kind::CASHBACK, 0, CREDIT);
        }
    }
    if let Some((amount, month, day)) = plan.yearly_tax {
        let fns = MERCHANTS
            .iter()
            .position(|m| m.name == "ФНС России")
            .unwrap_or(0);
        for at in g.monthly(day, 9, 30, 0) {
            if crate::world::from_unix(at, 0).month() == month {
                g.push(at, amount, MERCHANT_BASE + fns as u16, 0, 0);
            }
        }
    }
    // Transfers to the person's other accounts, mirrored there.
    for (bi, other_bank) in world.banks.iter().enumerate() {
        let Some(accounts) = other_bank.by_client.get(&person.id) else {
            continue;
        };
        for (position, &i) in accounts.iter().enumerate() {
            let target = &other_bank.accounts[i];
            if bi == bank.index && target.seq == a.seq {
                continue;
            }
            let template = if bi == bank.index && target.kind == AccountKind::Savings {
                kind::TO_SAVINGS
            } else {
                kind::OWN_OUT
            };
            for t in transfers_into(world, other_bank, target) {
                g.push(t.debit_at, t.amount, template, own_party(bi, position), 0);
            }
            // Withdrawals from the person's savings, mirrored there (`savings`).
            for (at, amount) in withdrawals_from(world, other_bank, target) {
                g.push(
                    at,
                    amount,
                    kind::FROM_SAVINGS_IN,
                    own_party(bi, position),
                    CREDIT,
                );
            }
        }
    }
    cash_and_people(g, person, a.share_pct, 1.0);
}

fn cash_and_people(g: &mut Gen, person: &Person, share_pct: u32, factor: f64) {
    let plan = &person.plan;
    let months = g.months_active();
    let share = f64::from(share_pct) / 100.0 * factor;
    let atm = MERCHANTS
        .iter()
        .position(|m| m.group == Group::Atm)
        .unwrap_or(0);
    for _ in 0..g.count(plan.cash_per_month * months * share) {
        let at = g.random_time(Group::Atm);
        let (lo, hi) = plan.cash_range;
        let amount = g.r.gen_range(lo / 500..=hi / 500) * 500 * 100;
        g.push(at, amount, MERCHANT_BASE + atm as u16, 0, CARD);
    }
    for _ in 0..g.count(plan.p2p_out * months * share) {
        let at = g.random_time(Group::Cafe);
        let amount = g.r.gen_range(3..150) * 100 * 100 / if g.r.gen_bool(0.5) { 1 } else { 3 };
        let party = g.r.gen_range(0..64);
        g.push(at, amount, kind::SBP_OUT, party, 0);
    }
    for _ in 0..g.count(plan.p2p_in * months * share) {
        let at = g.random_time(Group::Cafe);
        let amount = g.r.gen_range(3..100) * 100 * 100 / if g.r.gen_bool(0.5) { 1 } else { 4 };
        let party = g.r.gen_range(0..64);
        g.push(at, amount, kind::SBP_IN, party, CREDIT);
    }
}

/// The credits of the own transfers into `a`, naming the paying salary account.
fn own_credits(g: &mut Gen, world: &World, bank: &BankWorld, a: &Account, template: u16) {
    let person = &world.persons[a.owner];
    let party = salary_of(world, person).map_or(0, |(b, pos)| own_party(b, pos));
    for t in transfers_into(world, bank, a) {
        g.push(t.credit_at, t.amount, template, party, CREDIT);
    }
}

fn secondary_account(g: &mut Gen, world: &World, bank: &BankWorld, a: &Account, person: &Person) {
    own_credits(g, world, bank, a, kind::OWN_IN);
    // A scenario's salary that moved here.
    if let (Some((b, i, from)), Income::Salary { amount, day, .. }) =
        (person.scenario.salary_moves, &person.plan.income)
    {
        if b == bank.index && bank.accounts.get(i).is_some_and(|x| x.seq == a.seq) {
            for at in g
                .monthly(*day, 6, 0, 0)
                .into_iter()
                .filter(|&at| at >= from)
            {
                g.push(at, *amount, kind::SALARY, 0, CREDIT);
            }
        }
    }
    if person.profile == Profile::Affluent {
        for at in g.monthly(3, 4, 0, 0) {
            let cashback = g.r.gen_range(50..900) * 100;
            g.push(at, cashback, kind::CASHBACK, 0, CREDIT);
        }
    }
    cash_and_people(g, person, a.share_pct, 0.6);
}

fn credit_card(g: &mut Gen, world: &World, bank: &BankWorld, a: &Account, person: &Person) {
    own_credits(g, world, bank, a, kind::CARD_REPAYMENT);
    let interest = person.profile == Profile::Stretched || a.target_balance < -5_000_000;
    if interest {
        for at in g.monthly(28, 21, 0, 0) {
            let amount = a.target_balance.abs() * g.r.gen_range(20..30) / 1_000;
            g.push(at, amount, kind::CARD_INTEREST, 0, 0);
        }
    }
}

fn savings(g: &mut Gen, world: &World, bank: &BankWorld, a: &Account, person: &Person) {
    let same_bank = person.banks.first() == Some(&bank.index);
    let top_up = if same_bank {
        kind::SAVINGS_TOP_UP
    } else {
        kind::OWN_IN
    };
    own_credits(g, world, bank, a, top_up);
    let months = g.monthly(31, 21, 0, 0);
    let n = months.len().max(1) as i64;
    for (k, at) in months.into_iter().enumerate() {
        // Interest grows with the balance: about 14 % a year on the way to today's balance.
        let balance = a.target_balance.max(0) * (k as i64 + 1) / n;
        g.push(at, balance * 117 / 10_000, kind::INTEREST, 0, CREDIT);
    }
    // Withdrawals back to the salary account, mirrored there (`salary_account`).
    let party = salary_of(world, person).map_or(0, |(b, pos)| own_party(b, pos));
    for (at, amount) in withdrawals_from(world, bank, a) {
        g.push(at, amount, kind::FROM_SAVINGS, party, 0);
    }
}

fn currency(g: &mut Gen, world: &World, a: &Account) {
    let months = g.months_active();
    for _ in 0..g.count(months / 2.0) {
        let at = g.random_day() + g.r.gen_range(6 * 3_600..18 * 3_600);
        let amount = g.r.gen_range(2..20) * 100 * 100;
        g.push(at, amount, kind::CURRENCY_BUY, 0, CREDIT);
    }
    let abroad: Vec<usize> = catalog::merchants_of(Group::Abroad);
    for (departure, days, is_abroad) in trips(world, a.owner) {
        if !is_abroad {
            continue;
        }
        for _ in 0..g.r.gen_range(3..9) {
            let m = abroad[g.r.gen_range(0..abroad.len())];
            let at =
                departure + g.r.gen_range(0..days) * DAY + g.r.gen_range(6 * 3_600..20 * 3_600);
            let amount = g.amount(m, 100);
            g.purchase(m, amount, Some(at));
        }
    }
}

fn loan_account(g: &mut Gen, a: &Account, person: &Person) {
    let Some(loan) = &person.plan.loan else {
        return;
    };
    if matches!(loan.lender, Lender::Bank(_)) {
        let opened = ts(a.opened, 9, 0, 0);
        g.push(opened, loan.principal, kind::LOAN_ISSUED, 0, 0);
        for at in g.monthly(loan.day, 8, 0, 0) {
            g.push(at, loan.monthly, kind::LOAN_REPAID, 0, CREDIT);
        }
    }
}

/// A deposit's opening credit, from the owner's salary account at this bank (§12's texts).
fn deposit_account(g: &mut Gen, world: &World, a: &Account, person: &Person) {
    let Some(agreement) = a.agreement.as_ref() else {
        return;
    };
    let party = salary_of(world, person).map_or(0, |(b, pos)| own_party(b, pos));
    g.push(
        agreement.start,
        agreement.amount,
        kind::DEPOSIT_OPENED,
        party,
        CREDIT,
    );
}

/// The salary account's debits that funded the owner's deposits at this bank.
fn deposit_fundings(g: &mut Gen, world: &World, bank: &BankWorld, person: &Person) {
    let Some(accounts) = bank.by_client.get(&person.id) else {
        return;
    };
    let _ = world;
    for (position, &i) in accounts.iter().enumerate() {
        let d = &bank.accounts[i];
        if let (AccountKind::Deposit, Some(agreement)) = (d.kind, d.agreement.as_ref()) {
            let party = own_party(bank.index, position);
            g.push(
                agreement.start,
                agreement.amount,
                kind::DEPOSIT_FUNDING,
                party,
                0,
            );
        }
    }
}

/// Card spending in the person's proportions: `share_pct` of all of it lands here.
fn discretionary(g: &mut Gen, person: &Person, share_pct: u32, factor: f64) {
    if share_pct == 0 {
        return;
    }
    let plan = &person.plan;
    let months = g.months_active();
    let share = f64::from(share_pct) / 100.0 * factor;
    for (i, group) in DISCRETIONARY.iter().enumerate() {
        let n = g.count(plan.rates[i] * months * share);
        let pool = catalog::merchants_of(*group);
        for _ in 0..n {
            spend_once(g, person, i, *group, &pool);
        }
    }
}

fn spend_once(g: &mut Gen, person: &Person, i: usize, group: Group, pool: &[usize]) {
    let merchant = if g.r.gen_bool(0.7) {
        person.plan.favourites[i]
    } else {
        pool[g.r.gen_range(0..pool.len())]
    };
    let at = g.random_time(group);
    let amount = g.amount(merchant, person.plan.scale_pct);
    g.purchase(merchant, amount, Some(at));
    let returns = matches!(
        group,
        Group::Marketplace | Group::Clothing | Group::Electronics
    );
    if returns && g.r.gen_bool(0.07) {
        let later = at + g.r.gen_range(3..15) * DAY;
        let back = if g.r.gen_bool(0.7) {
            amount
        } else {
            amount / 2
        };
        g.push(
            later,
            back,
            MERCHANT_BASE + merchant as u16,
            0,
            CREDIT | REFUND | CARD,
        );
    }
}

/// Tickets and hotels before each trip; taxis and cafes while away.
fn travel(g: &mut Gen, world: &World, owner: usize, scale_pct: i64) {
    let tickets: Vec<usize> = [Group::Airline, Group::Rail]
        .iter()
        .flat_map(|gr| catalog::merchants_of(*gr))
        .collect();
    let hotels = catalog::merchants_of(Group::Hotel);
    for (departure, days, abroad) in trips(world, owner) {
        let t = tickets[g.r.gen_range(0..tickets.len())];
        let booked = departure - g.r.gen_range(10..40) * DAY + g.r.gen_range(8 * 3_600..22 * 3_600);
        let amount = g.amount(t, scale_pct) * if abroad { 2 } else { 1 };
        g.purchase(t, amount, Some(booked));
        if !abroad || g.r.gen_bool(0.3) {
            let h = hotels[g.r.gen_range(0..hotels.len())];
            let booked =
                departure - g.r.gen_range(5..30) * DAY + g.r.gen_range(8 * 3_600..22 * 3_600);
            let amount = g.amount(h, scale_pct) * days / 3;
            g.purchase(h, amount, Some(booked));
        }
    }
}

/// Benchmark volumes: exactly `quota` rows, the recurring ones plus spending of the account's
/// kind at random times.
fn fill(g: &mut Gen, world: &World, a: &Account, person: &Person, quota: u64) {
    let missing = (quota as usize).saturating_sub(g.rows.len());
    g.rows.reserve(missing);
    let weights: Vec<f64> = person.plan.rates.iter().map(|r| r + 0.05).collect();
    let total: f64 = weights.iter().sum();
    let pools: Vec<Vec<usize>> = DISCRETIONARY
        .iter()
        .map(|gr| catalog::merchants_of(*gr))
        .collect();
    let abroad = catalog::merchants_of(Group::Abroad);
    let _ = world;
    let mut attempts = 0usize;
    while g.rows.len() < quota as usize && attempts < missing * 4 + 16 {
        attempts += 1;
        match a.kind {
            AccountKind::Checking | AccountKind::CreditCard => {
                let mut x = g.r.gen_range(0.0..total);
                let mut i = 0;
                while i + 1 < weights.len() && x >= weights[i] {
                    x -= weights[i];
                    i += 1;
                }
                let merchant = if g.r.gen_bool(0.6) {
                    person.plan.favourites[i]
                } else {
                    pools[i][g.r.gen_range(0..pools[i].len())]
                };
                let at = g.random_time(DISCRETIONARY[i]);
                let amount = g.amount(merchant, person.plan.scale_pct);
                g.purchase(merchant, amount, Some(at));
            }
            AccountKind::Currency => {
                let m = abroad[g.r.gen_range(0..abroad.len())];
                let at = g.random_time(Group::Cafe);
                let amount = g.amount(m, 100);
                g.purchase(m, amount, Some(at));
            }
            AccountKind::Savings | AccountKind::Loan | AccountKind::Deposit => {
                let at = g.random_day() + g.r.gen_range(6 * 3_600..20 * 3_600);
                let amount = g.r.gen_range(1..50) * 1_000 * 100;
                let (template, flags) = if g.r.gen_bool(0.5) {
                    (kind::OWN_IN, CREDIT)
                } else {
                    (kind::FROM_SAVINGS, 0)
                };
                g.push(at, amount, template, 0, flags);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SandboxConfig, Volume};

    fn world(volume: Volume) -> World {
        let anchor = "2025-11-06T00:00:00Z".parse().expect("time");
        World::generate(
            &SandboxConfig::default()
                .with_anchor(anchor)
                .with_volume(volume),
        )
    }

    #[test]
    fn histories_are_deterministic_sorted_and_unique() {
        let (a, b) = (world(Volume::Realistic), world(Volume::Realistic));
        for (bank_a, bank_b) in a.banks.iter().zip(&b.banks) {
            let mut ids = std::collections::HashSet::new();
            let mut total = 0;
            for i in 0..bank_a.accounts.len() {
                let rows = generate(&a, bank_a, i);
                assert_eq!(rows, generate(&b, bank_b, i));
                assert!(rows.windows(2).all(|w| w[0].at >= w[1].at));
                for r in &rows {
                    assert!(ids.insert(r.id), "duplicate id");
                    assert!(r.amount > 0);
                    assert!(r.at < a.anchor.timestamp());
                }
                total += rows.len();
            }
            assert!(
                (2_000..20_000).contains(&total),
                "{}: {total}",
                bank_a.config.code
            );
            let busiest = (0..bank_a.accounts.len())
                .map(|i| generate(&a, bank_a, i).len())
                .max()
                .unwrap_or(0);
            assert!(
                busiest >= 300,
                "{}: busiest account {busiest}",
                bank_a.config.code
            );
        }
    }

    #[test]
    fn benchmark_volumes_are_exact() {
        let w = world(Volume::PerBank(50_000));
        for bank in &w.banks {
            let total: usize = (0..bank.accounts.len())
                .map(|i| generate(&w, bank, i).len())
                .sum();
            assert_eq!(total, 50_000, "{}", bank.config.code);
        }
    }

    #[test]
    fn own_transfers_appear_on_both_sides() {
        let w = world(Volume::Realistic);
        let mut mirrored = 0;
        let mut lagged = 0;
        for bank in &w.banks {
            for (i, a) in bank.accounts.iter().enumerate() {
                if a.role != Role::Secondary {
                    continue;
                }
                let person = &w.persons[a.owner];
                let incoming: Vec<(i64, i64)> = generate(&w, bank, i)
                    .iter()
                    .filter(|t| t.template == kind::OWN_IN)
                    .map(|t| (t.at, t.amount))
                    .collect();
                let cross_bank = person.banks[0] != bank.index;
                let home = &w.banks[person.banks[0]];
                let Some(salary) = home.by_client[&person.id]
                    .iter()
                    .find(|&&j| home.accounts[j].role == Role::Salary)
                else {
                    continue;
                };
                let outgoing = generate(&w, home, *salary);
                for &(credit_at, amount) in &incoming {
                    // Same amount, opposite direction, the debit 0 to 2 days before the credit
                    // (the same second within one bank).
                    assert!(outgoing.iter().any(|t| {
                        let lag = credit_at - t.at;
                        t.template == kind::OWN_OUT
                            && !t.credit()
                            && t.amount == amount
                            && if cross_bank {
                                (0..=2 * DAY).contains(&lag)
                            } else {
                                lag == 0
                            }
                    }));
                    mirrored += 1;
                    if cross_bank && outgoing.iter().all(|t| t.at != credit_at) {
                        lagged += 1;
                    }
                }
            }
        }
        assert!(mirrored > 0);
        assert!(lagged > 0, "some legs between banks are days apart");
    }
}
