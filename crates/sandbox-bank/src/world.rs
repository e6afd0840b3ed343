//! The generated world: people (the same person has the same id and name at every bank), who
//! banks where, their habits (`Plan`), their accounts and each bank's product catalogue. All of
//! it follows from the seed; transactions are generated per account on first use (`history.rs`).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::catalog::{self, Group, PRODUCTS};
use crate::config::{BankConfig, SandboxConfig, Volume};
use crate::names;

/// The splitmix64 finalizer: a bijection on `u64`, so distinct inputs stay distinct.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A bijection on 48-bit values (for 12-hex-digit ids that never collide).
pub(crate) fn mix48(x: u64) -> u64 {
    const MASK: u64 = (1 << 48) - 1;
    let mut x = x & MASK;
    x = (x ^ (x >> 24)) & MASK;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & MASK; // odd: invertible mod 2^48
    x = (x ^ (x >> 21)) & MASK;
    x = x.wrapping_mul(0xD6E8_FEB8_6659) & MASK; // odd
    (x ^ (x >> 19)) & MASK
}

/// A generator for one purpose, independent of the order anything else is generated in.
pub(crate) fn rng(seed: u64, parts: &[u64]) -> ChaCha8Rng {
    use rand::SeedableRng;
    let mut h = mix(seed);
    for p in parts {
        h = mix(h ^ p);
    }
    ChaCha8Rng::seed_from_u64(h)
}

/// Stable small numbers for the purposes of [`rng`].
pub(crate) mod tag {
    pub const PERSON: u64 = 1;
    pub const MEMBERSHIP: u64 = 2;
    pub const BANK: u64 = 3;
    pub const ACCOUNT: u64 = 4;
    pub const HISTORY: u64 = 5;
    pub const TRANSFERS: u64 = 6;
    pub const PRODUCTS: u64 = 7;
    pub const PROFILES: u64 = 8;
    pub const RUNTIME: u64 = 9;
    pub const WITHDRAWALS: u64 = 10;
}

/// Whom a person's finances look like. The sandbox makes the habits; rating them is the CRM's
/// job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Profile {
    /// High salary, savings, rarely cash.
    Affluent,
    /// A steady middle income, maybe a loan or a credit card.
    Steady,
    /// Low or irregular income, overdrafts, cash, heavy loan payments.
    Stretched,
}

pub(crate) enum Income {
    Salary {
        amount: i64,
        day: u32,
        advance: Option<(i64, u32)>,
    },
    Freelance {
        monthly: i64,
    },
    Pension {
        amount: i64,
        day: u32,
    },
}

pub(crate) enum Lender {
    Bank(usize),
    Other(&'static str),
}

pub(crate) struct Loan {
    pub monthly: i64,
    pub day: u32,
    pub lender: Lender,
    pub principal: i64,
    pub contract: String,
}

/// Spending that happens at random times, with the monthly rates of a person.
pub(crate) const DISCRETIONARY: [Group; 14] = [
    Group::Grocery,
    Group::Cafe,
    Group::Delivery,
    Group::Taxi,
    Group::Marketplace,
    Group::Pharmacy,
    Group::Fuel,
    Group::Clothing,
    Group::Electronics,
    Group::Beauty,
    Group::Entertainment,
    Group::Transport,
    Group::Home,
    Group::Alcohol,
];

/// A person's habits: what recurs on which day, how often they spend on what.
pub(crate) struct Plan {
    pub income: Income,
    pub rent: Option<(i64, u32)>,
    /// Utilities, power and telecom are paid by autopayment on this day, at the same second.
    pub bills_day: u32,
    pub utilities: i64,
    pub power: i64,
    pub telecom: (usize, i64),
    pub internet: Option<(usize, i64)>,
    /// (merchant, day of month).
    pub subscriptions: Vec<(usize, u32)>,
    /// (merchant, amount, day of month): fitness or courses.
    pub memberships: Vec<(usize, i64, u32)>,
    pub loan: Option<Loan>,
    /// Monthly saving (share of income) and the day after income it goes.
    pub savings_monthly: i64,
    /// Percent applied to discretionary amounts.
    pub scale_pct: i64,
    /// Monthly counts of [`DISCRETIONARY`] spending (all accounts together).
    pub rates: [f64; DISCRETIONARY.len()],
    /// A favourite merchant per discretionary group (index into `MERCHANTS`).
    pub favourites: [usize; DISCRETIONARY.len()],
    /// Expected ATM withdrawals per month (a count); their amounts come from `cash_range`, in
    /// minor units.
    pub cash_per_month: f64,
    pub cash_range: (i64, i64),
    /// Expected person-to-person transfers per month, out and in (counts).
    pub p2p_out: f64,
    pub p2p_in: f64,
    pub trips_per_year: f64,
    pub card_fee: Option<i64>,
    pub yearly_tax: Option<(i64, u32, u32)>,
}

pub(crate) struct Person {
    pub id: String,
    pub name: String,
    pub profile: Profile,
    pub city: &'static str,
    pub employer: &'static str,
    pub months: u32,
    pub plan: Plan,
    /// Bank indices, the primary (salary) bank first.
    pub banks: Vec<usize>,
    /// The demo's moments for this person (`scenarios.rs`); none in the plain world.
    pub scenario: crate::scenarios::Scenario,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AccountKind {
    Checking,
    Savings,
    CreditCard,
    Currency,
    Loan,
    /// The account of a deposit agreement (`Deposit` sub-type, §9/§10).
    Deposit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The salary account at the person's primary bank.
    Salary,
    /// A card account at another bank, topped up from the salary account.
    Secondary,
    /// Opened days ago: no transactions yet.
    Newcomer,
    /// Savings, credit card, currency or loan.
    Other,
}

pub(crate) struct Card {
    pub id: String,
    pub masked: String,
    pub kind: &'static str,
    pub name: &'static str,
    /// (month, year).
    pub expiry: (u32, i32),
    /// Minor units.
    pub daily_limit: i64,
    pub monthly_limit: i64,
    /// `active` or `blocked`.
    pub status: &'static str,
}

impl Card {
    /// Details of §11 derived from the card's id, so no generator draw moves.
    fn details(
        id_hash: u64,
        opened: NaiveDate,
        credit: bool,
    ) -> ((u32, i32), i64, i64, &'static str) {
        let h = mix(id_hash);
        let year = opened.year() + 4 + (h % 3) as i32;
        let month = 1 + ((h >> 8) % 12) as u32;
        let (daily, monthly) = if credit {
            (15_000_000, 60_000_000)
        } else {
            (10_000_000, 50_000_000)
        };
        let status = if (h >> 16) % 9 == 4 {
            "blocked"
        } else {
            "active"
        };
        ((month, year), daily, monthly, status)
    }
}

/// A deposit or loan agreement (§10) and its account.
pub(crate) struct Agreement {
    pub id: String,
    /// `deposit` or `loan`.
    pub kind: &'static str,
    /// Catalogue product id and name.
    pub product_id: String,
    pub product_name: &'static str,
    /// The principal at opening, minor units, positive.
    pub amount: i64,
    /// Unix seconds.
    pub start: i64,
    /// `start` + term x 30 days, as bank-in-a-box computes it.
    pub end: Option<i64>,
    /// Hundredths of a percent.
    pub rate: Option<i64>,
}

pub(crate) struct Account {
    pub id: String,
    pub seq: u32,
    pub owner: usize,
    pub kind: AccountKind,
    pub role: Role,
    pub currency: &'static str,
    pub subtype: &'static str,
    pub nickname: String,
    pub opened: NaiveDate,
    pub number: String,
    pub card: Option<Card>,
    /// First second of its history (unix time).
    pub start: i64,
    /// Signed balance at the anchor, in minor units.
    pub target_balance: i64,
    /// Percent of the owner's discretionary spending booked here.
    pub share_pct: u32,
    /// Trips are paid from this account.
    pub travel: bool,
    /// Exact number of rows (benchmark volumes); `None`: what the habits give.
    pub quota: Option<u64>,
    /// The deposit or loan agreement this account belongs to.
    pub agreement: Option<Agreement>,
}

pub(crate) struct Product {
    pub id: String,
    pub template: usize,
    /// Hundredths of a percent.
    pub rate: Option<i64>,
}

pub(crate) struct BankWorld {
    pub config: BankConfig,
    pub index: usize,
    pub salt: u64,
    pub members: Vec<usize>,
    pub accounts: Vec<Account>,
    pub by_client: HashMap<String, Vec<usize>>,
    pub by_id: HashMap<String, usize>,
    pub member_of: HashMap<String, usize>,
    pub products: Vec<Product>,
    pub newcomer: Option<usize>,
    /// Names of private persons in transfers (`Анна С.`).
    pub people: Vec<String>,
    /// A client whose consents here last days, not a year (a scenario).
    pub short_consent: Option<String>,
}

pub(crate) struct World {
    pub seed: u64,
    pub anchor: DateTime<Utc>,
    pub persons: Vec<Person>,
    pub banks: Vec<BankWorld>,
}

/// A product a person holds, as the world knows it: what a CRM's inference of products held at
/// other banks is measured against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldProduct {
    /// `deposit`, `savings`, `loan` or `credit_card`.
    pub kind: &'static str,
    /// The sandbox bank's code; `None` for a lender outside the sandbox.
    pub bank_code: Option<String>,
    /// The bank's name (the lender's, outside the sandbox).
    pub bank_name: String,
}

impl World {
    /// Every product `person_id` holds: savings, deposit, credit-card and loan accounts at each
    /// bank, and a loan whose lender is outside the sandbox or keeps no account for it.
    pub(crate) fn products_of(&self, person_id: &str) -> Vec<HeldProduct> {
        let Some(p) = self.persons.iter().position(|x| x.id == person_id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for bank in &self.banks {
            for &i in bank.by_client.get(person_id).into_iter().flatten() {
                let kind = match bank.accounts[i].kind {
                    AccountKind::Savings => "savings",
                    AccountKind::Deposit => "deposit",
                    AccountKind::CreditCard => "credit_card",
                    AccountKind::Loan => "loan",
                    AccountKind::Checking | AccountKind::Currency => continue,
                };
                out.push(HeldProduct {
                    kind,
                    bank_code: Some(bank.config.code.clone()),
                    bank_name: bank.config.name.clone(),
                });
            }
        }
        match self.persons[p].plan.loan.as_ref().map(|l| &l.lender) {
            Some(Lender::Other(name)) => out.push(HeldProduct {
                kind: "loan",
                bank_code: None,
                bank_name: (*name).to_owned(),
            }),
            Some(Lender::Bank(b)) => {
                let bank = &self.banks[*b];
                let listed = out
                    .iter()
                    .any(|h| h.kind == "loan" && h.bank_code.as_deref() == Some(&bank.config.code));
                if !listed {
                    out.push(HeldProduct {
                        kind: "loan",
                        bank_code: Some(bank.config.code.clone()),
                        bank_name: bank.config.name.clone(),
                    });
                }
            }
            None => {}
        }
        out
    }
}

pub(crate) fn start_of_day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(t)
}

pub(crate) fn ts(date: NaiveDate, h: u32, m: u32, s: u32) -> i64 {
    date.and_hms_opt(h, m, s)
        .map(|d| d.and_utc().timestamp())
        .unwrap_or_default()
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Roubles in `[lo, hi]` as minor units, rounded to whole roubles when `round`.
fn rub(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    rng.gen_range(lo..=hi) * 100
}

impl World {
    pub fn generate(config: &SandboxConfig) -> World {
        let anchor = config.anchor.unwrap_or_else(|| start_of_day(Utc::now()));
        let n = config.persons as usize;
        let nb = config.banks.len();
        let seed = config.seed;

        // Profiles: about 30 % affluent, 25 % stretched, the rest steady, in a seeded order.
        let mut profiles = Vec::with_capacity(n);
        let affluent = ((n as f64 * 0.3).round() as usize).max(usize::from(n >= 3));
        let stretched = ((n as f64 * 0.25).round() as usize).max(usize::from(n >= 3));
        for i in 0..n {
            profiles.push(if i < affluent {
                Profile::Affluent
            } else if i < affluent + stretched {
                Profile::Stretched
            } else {
                Profile::Steady
            });
        }
        profiles.shuffle(&mut rng(seed, &[tag::PROFILES]));

        // Who banks where: one to three banks each, then every bank topped up to its minimum.
        let mut membership: Vec<Vec<usize>> = Vec::with_capacity(n);
        let mut m_rng = rng(seed, &[tag::MEMBERSHIP]);
        for _ in 0..n {
            let roll: f64 = m_rng.gen();
            let count = if roll < 0.45 {
                1
            } else if roll < 0.8 {
                2
            } else {
                3
            }
            .min(nb);
            let mut order: Vec<usize> = (0..nb).collect();
            order.shuffle(&mut m_rng);
            order.truncate(count);
            membership.push(order);
        }
        let min_members = n.min(10);
        for b in 0..nb {
            loop {
                let have = membership.iter().filter(|m| m.contains(&b)).count();
                if have >= min_members {
                    break;
                }
                let candidate = (0..n)
                    .filter(|&p| !membership[p].contains(&b))
                    .min_by_key(|&p| {
                        (
                            membership[p].len(),
                            mix(seed ^ (p as u64) ^ (b as u64) << 32),
                        )
                    });
                match candidate {
                    Some(p) => membership[p].push(b),
                    None => break,
                }
            }
        }
        if nb >= 3 && n >= 4 {
            let all = membership.iter().filter(|m| m.len() == nb).count();
            for _ in all..2 {
                if let Some(p) = (0..n)
                    .filter(|&p| membership[p].len() < nb)
                    .max_by_key(|&p| (membership[p].len(), p))
                {
                    for b in 0..nb {
                        if !membership[p].contains(&b) {
                            membership[p].push(b);
                        }
                    }
                }
            }
        }

        // Each bank's newcomer (an account opened days ago, nothing on it yet): a member for whom
        // it is not the salary bank.
        let mut newcomers: Vec<Option<usize>> = vec![None; nb];
        for (b, slot) in newcomers.iter_mut().enumerate() {
            *slot = (0..n)
                .rev()
                .find(|&p| {
                    membership[p].len() > 1 && membership[p][0] != b && membership[p].contains(&b)
                })
                .or_else(|| (0..n).rev().find(|&p| membership[p].contains(&b)));
        }
        // Each bank's busiest client: the longest history and the most spending, so one account
        // there holds several hundred transactions.
        let mut busy = vec![false; n];
        for (b, newcomer) in newcomers.iter().enumerate() {
            if let Some(p) =
                (0..n).find(|&p| membership[p].first() == Some(&b) && *newcomer != Some(p))
            {
                busy[p] = true;
            }
        }

        let mut persons = Vec::with_capacity(n);
        let mut used_surnames: Vec<usize> = Vec::new();
        for i in 0..n {
            let mut r = rng(seed, &[tag::PERSON, i as u64]);
            let profile = profiles[i];
            let female = r.gen_bool(0.5);
            let mut s = r.gen_range(0..names::SURNAMES.len());
            if used_surnames.len() < names::SURNAMES.len() {
                while used_surnames.contains(&s) {
                    s = (s + 1) % names::SURNAMES.len();
                }
            }
            used_surnames.push(s);
            let (his, hers) = names::SURNAMES[s];
            let (pat_m, pat_f) = *pick(&mut r, names::PATRONYMICS);
            let name = if female {
                format!("{hers} {} {pat_f}", pick(&mut r, names::FEMALE_NAMES))
            } else {
                format!("{his} {} {pat_m}", pick(&mut r, names::MALE_NAMES))
            };
            let (lo, hi) = config.history_months;
            let months = if busy[i] { hi } else { r.gen_range(lo..=hi) };
            let city = *pick(&mut r, names::CITIES);
            let employer = *pick(&mut r, names::EMPLOYERS);
            let plan = make_plan(&mut r, profile, city, busy[i], &membership[i], nb);
            persons.push(Person {
                id: format!("{}-{}", config.team_id, i + 1),
                name,
                profile,
                city,
                employer,
                months,
                plan,
                banks: membership[i].clone(),
                scenario: Default::default(),
            });
        }

        let mut banks: Vec<BankWorld> = config
            .banks
            .iter()
            .enumerate()
            .map(|(b, cfg)| make_bank(seed, b, cfg, &persons, newcomers[b], anchor))
            .collect();
        assign_shares(&mut banks, &persons);
        assign_quotas(&mut banks, config.volume);
        let mut world = World {
            seed,
            anchor,
            persons,
            banks,
        };
        if config.scenarios {
            crate::scenarios::apply(&mut world);
        }
        world
    }
}

fn make_plan(
    r: &mut ChaCha8Rng,
    profile: Profile,
    city: &str,
    busy: bool,
    banks: &[usize],
    nb: usize,
) -> Plan {
    use Profile::*;
    let income = match profile {
        Affluent => Income::Salary {
            amount: rub(r, 180, 450) * 1_000,
            day: *pick(r, &[5, 10, 15, 25]),
            advance: r.gen_bool(0.4).then(|| (rub(r, 60, 120) * 1_000, 20)),
        },
        Steady => Income::Salary {
            amount: rub(r, 65, 140) * 1_000,
            day: *pick(r, &[5, 10, 15]),
            advance: r.gen_bool(0.6).then(|| (rub(r, 25, 45) * 1_000, 25)),
        },
        Stretched => {
            let roll: f64 = r.gen();
            if roll < 0.45 {
                Income::Freelance {
                    monthly: rub(r, 25, 60) * 1_000,
                }
            } else if roll < 0.6 {
                Income::Pension {
                    amount: rub(r, 18, 28) * 1_000,
                    day: *pick(r, &[3, 8, 13]),
                }
            } else {
                Income::Salary {
                    amount: rub(r, 28, 55) * 1_000,
                    day: *pick(r, &[10, 15]),
                    advance: None,
                }
            }
        }
    };
    let monthly_income = match &income {
        Income::Salary {
            amount, advance, ..
        } => amount + advance.map_or(0, |a| a.0),
        Income::Freelance { monthly } => *monthly,
        Income::Pension { amount, .. } => *amount,
    };
    let rent = match profile {
        Affluent => r.gen_bool(0.3).then(|| (rub(r, 60, 120) * 1_000, 1)),
        Steady => r
            .gen_bool(0.45)
            .then(|| (rub(r, 30, 55) * 1_000, *pick(r, &[1, 5, 10]))),
        Stretched => r.gen_bool(0.4).then(|| (rub(r, 18, 30) * 1_000, 1)),
    };
    let telecoms = catalog::merchants_of(Group::Telecom);
    let internets = catalog::merchants_of(Group::Internet);
    let subs = catalog::merchants_of(Group::Subscription);
    let telecom_m = *pick(r, &telecoms);
    let tm = &catalog::MERCHANTS[telecom_m];
    let telecom = (telecom_m, rub(r, tm.min, tm.max));
    let internet = r.gen_bool(0.7).then(|| {
        let i = *pick(r, &internets);
        let mm = &catalog::MERCHANTS[i];
        (i, rub(r, mm.min, mm.max))
    });
    let n_subs = match profile {
        Affluent => r.gen_range(2..=4),
        Steady => r.gen_range(1..=3),
        Stretched => r.gen_range(0..=1),
    };
    let mut pool = subs.clone();
    pool.shuffle(r);
    let subscriptions = pool
        .into_iter()
        .take(n_subs)
        .map(|m| (m, r.gen_range(1..=28)))
        .collect();
    let mut memberships = Vec::new();
    if profile != Stretched && r.gen_bool(0.4) {
        let f = *pick(r, &catalog::merchants_of(Group::Fitness));
        let mm = &catalog::MERCHANTS[f];
        memberships.push((f, rub(r, mm.min, mm.max) / 100 * 100, r.gen_range(1..=28)));
    }
    if r.gen_bool(0.2) {
        let e = *pick(r, &catalog::merchants_of(Group::Education));
        let mm = &catalog::MERCHANTS[e];
        memberships.push((e, rub(r, mm.min, mm.max) / 100 * 100, r.gen_range(1..=28)));
    }
    let has_loan = match profile {
        Affluent => r.gen_bool(0.1),
        Steady => r.gen_bool(0.4),
        Stretched => r.gen_bool(0.85),
    };
    let loan = has_loan.then(|| {
        let share = match profile {
            Stretched => r.gen_range(35..=55),
            _ => r.gen_range(10..=25),
        };
        let monthly = (monthly_income * share / 100) / 10_000 * 10_000 + rub(r, 0, 99);
        let lender = if r.gen_bool(0.6) && !banks.is_empty() {
            Lender::Bank(banks[r.gen_range(0..banks.len())])
        } else {
            Lender::Other(names::OTHER_LENDERS[r.gen_range(0..names::OTHER_LENDERS.len())])
        };
        let _ = nb;
        Loan {
            monthly,
            day: r.gen_range(1..=28),
            lender,
            principal: monthly * r.gen_range(24..=60),
            contract: format!(
                "{:02}-{:07}",
                r.gen_range(10..99),
                r.gen_range(0..10_000_000)
            ),
        }
    });
    let savings_monthly = match profile {
        Affluent => monthly_income * r.gen_range(15..=30) / 100 / 1_000 * 1_000,
        Steady => monthly_income * r.gen_range(3..=10) / 100 / 1_000 * 1_000,
        Stretched => 0,
    };
    let scale_pct = match profile {
        Affluent => r.gen_range(140..=190),
        Steady => r.gen_range(90..=115),
        Stretched => r.gen_range(65..=85),
    };
    let metro = city == "Москва" || city == "Санкт-Петербург";
    let has_car = match profile {
        Affluent => r.gen_bool(0.6),
        Steady => r.gen_bool(0.4),
        Stretched => r.gen_bool(0.2),
    };
    // Monthly rates per DISCRETIONARY group, by profile (affluent, steady, stretched).
    let base: [(f64, f64, f64); DISCRETIONARY.len()] = [
        (8.0, 10.0, 11.0), // grocery
        (9.0, 5.0, 2.5),   // cafe
        (5.0, 2.5, 1.5),   // delivery
        (8.0, 3.5, 1.5),   // taxi
        (4.5, 4.5, 3.5),   // marketplace
        (1.3, 1.3, 1.8),   // pharmacy
        (3.0, 3.0, 2.5),   // fuel (with a car)
        (1.3, 0.7, 0.3),   // clothing
        (0.35, 0.2, 0.12), // electronics
        (1.1, 0.6, 0.25),  // beauty
        (1.3, 0.9, 0.35),  // entertainment
        (3.0, 12.0, 14.0), // transport (metro cities)
        (0.7, 0.5, 0.25),  // home
        (0.8, 1.2, 1.8),   // alcohol
    ];
    let busy_factor = if busy { 1.5 } else { 1.0 };
    let mut rates = [0.0; DISCRETIONARY.len()];
    let mut favourites = [0usize; DISCRETIONARY.len()];
    for (i, group) in DISCRETIONARY.iter().enumerate() {
        let (a, s, c) = base[i];
        let mut rate = match profile {
            Affluent => a,
            Steady => s,
            Stretched => c,
        };
        if *group == Group::Fuel && !has_car {
            rate = 0.0;
        }
        if *group == Group::Transport && !metro {
            rate = 0.0;
        }
        rates[i] = rate * r.gen_range(0.7..1.3) * busy_factor;
        favourites[i] = *pick(r, &catalog::merchants_of(*group));
    }
    let (cash_per_month, cash_range) = match profile {
        Affluent => (0.4, (3_000, 15_000)),
        Steady => (1.5, (1_000, 7_000)),
        Stretched => (4.5, (500, 5_000)),
    };
    let (p2p_out, p2p_in) = match profile {
        Affluent => (3.0, 1.0),
        Steady => (3.0, 2.0),
        Stretched => (4.0, 3.0),
    };
    let trips_per_year = match profile {
        Affluent => r.gen_range(3.0..5.0),
        Steady => r.gen_range(1.0..2.0),
        Stretched => r.gen_range(0.0..0.6),
    };
    let card_fee =
        (profile == Stretched && r.gen_bool(0.5)).then(|| *pick(r, &[9_900i64, 14_900, 19_900]));
    let yearly_tax = (profile != Stretched && r.gen_bool(0.7)).then(|| {
        (
            rub(r, 2, 30) * 1_000,
            r.gen_range(9..=11),
            r.gen_range(1..=28),
        )
    });
    Plan {
        income,
        rent,
        bills_day: r.gen_range(10..=25),
        utilities: rub(r, 4_500, 11_000),
        power: rub(r, 900, 3_200),
        telecom,
        internet,
        subscriptions,
        memberships,
        loan,
        savings_monthly,
        scale_pct,
        rates,
        favourites,
        cash_per_month,
        cash_range,
        p2p_out,
        p2p_in,
        trips_per_year,
        card_fee,
        yearly_tax,
    }
}

fn account_number(
    kind: AccountKind,
    currency: &str,
    bank: usize,
    seq: u32,
    r: &mut ChaCha8Rng,
) -> String {
    let prefix = match kind {
        AccountKind::Savings => "42301",
        AccountKind::Loan => "45507",
        _ => "40817",
    };
    let ccy = match currency {
        "USD" => "840",
        "EUR" => "978",
        _ => "810",
    };
    format!(
        "{prefix}{ccy}{}{:04}{:07}",
        r.gen_range(0..10),
        1000 + bank * 111 % 9000,
        (u64::from(seq) * 7_919 + 10_007) % 10_000_000
    )
}

fn make_bank(
    seed: u64,
    b: usize,
    cfg: &BankConfig,
    persons: &[Person],
    newcomer: Option<usize>,
    anchor: DateTime<Utc>,
) -> BankWorld {
    let salt = mix(seed ^ mix(b as u64 + 17)) & ((1 << 48) - 1);
    let mut r = rng(seed, &[tag::BANK, b as u64]);
    let members: Vec<usize> = (0..persons.len())
        .filter(|&p| persons[p].banks.contains(&b))
        .collect();
    let anchor_date = anchor.date_naive();
    let mut accounts = Vec::new();
    let mut seq = 0u32;
    for &p in &members {
        let person = &persons[p];
        let mut ar = rng(seed, &[tag::ACCOUNT, b as u64, p as u64]);
        let history_start = anchor_date
            .checked_sub_months(Months::new(person.months))
            .unwrap_or(anchor_date);
        let mut kinds: Vec<(AccountKind, Role, &'static str)> = Vec::new();
        if newcomer == Some(p) {
            kinds.push((AccountKind::Checking, Role::Newcomer, "RUB"));
        } else if person.banks[0] == b {
            kinds.push((AccountKind::Checking, Role::Salary, "RUB"));
            match person.profile {
                Profile::Affluent => {
                    kinds.push((AccountKind::Savings, Role::Other, "RUB"));
                    if ar.gen_bool(0.6) {
                        kinds.push((
                            AccountKind::Currency,
                            Role::Other,
                            if ar.gen_bool(0.6) { "USD" } else { "EUR" },
                        ));
                    }
                }
                Profile::Steady => {
                    if ar.gen_bool(0.5) {
                        kinds.push((AccountKind::CreditCard, Role::Other, "RUB"));
                    }
                    if person.plan.savings_monthly > 0 && ar.gen_bool(0.5) {
                        kinds.push((AccountKind::Savings, Role::Other, "RUB"));
                    }
                }
                Profile::Stretched => {
                    if ar.gen_bool(0.6) {
                        kinds.push((AccountKind::CreditCard, Role::Other, "RUB"));
                    }
                }
            }
        } else {
            kinds.push((AccountKind::Checking, Role::Secondary, "RUB"));
            match person.profile {
                Profile::Affluent if ar.gen_bool(0.5) => {
                    kinds.push((AccountKind::Savings, Role::Other, "RUB"))
                }
                Profile::Affluent if ar.gen_bool(0.4) => {
                    kinds.push((AccountKind::Currency, Role::Other, "EUR"))
                }
                Profile::Steady | Profile::Stretched if ar.gen_bool(0.3) => {
                    kinds.push((AccountKind::CreditCard, Role::Other, "RUB"))
                }
                _ => {}
            }
        }
        let loan_here =
            matches!(person.plan.loan, Some(Loan { lender: Lender::Bank(lb), .. }) if lb == b);
        if loan_here && newcomer != Some(p) && kinds.len() < 3 {
            kinds.push((AccountKind::Loan, Role::Other, "RUB"));
        }
        for (kind, role, currency) in kinds {
            seq += 1;
            let opened = match role {
                Role::Newcomer => anchor_date - chrono::Duration::days(ar.gen_range(2..12)),
                Role::Salary => history_start - chrono::Duration::days(ar.gen_range(200..2_500)),
                _ if ar.gen_bool(0.5) => {
                    history_start - chrono::Duration::days(ar.gen_range(30..900))
                }
                _ => {
                    let span = (anchor_date - history_start).num_days().max(40);
                    history_start + chrono::Duration::days(ar.gen_range(0..span - 30))
                }
            };
            let start = ts(opened.max(history_start), 0, 0, 0);
            let (subtype, nickname) = match kind {
                AccountKind::Checking => (
                    "Checking",
                    if ar.gen_bool(0.5) {
                        "Checking счет".to_owned()
                    } else {
                        "Текущий счёт".to_owned()
                    },
                ),
                AccountKind::Savings => (
                    "Savings",
                    if ar.gen_bool(0.5) {
                        "Накопительный счёт".to_owned()
                    } else {
                        "Savings счет".to_owned()
                    },
                ),
                AccountKind::CreditCard => ("CreditCard", "Кредитная карта".to_owned()),
                AccountKind::Currency => ("Checking", format!("Валютный счёт {currency}")),
                AccountKind::Loan => ("Loan", "Кредит наличными".to_owned()),
                AccountKind::Deposit => ("Deposit", "Deposit счет".to_owned()),
            };
            let card = match kind {
                AccountKind::Checking | AccountKind::CreditCard | AccountKind::Currency => {
                    let credit = kind == AccountKind::CreditCard;
                    let names: &[&'static str] = if credit {
                        &["Мир Кредитная", "Visa Platinum", "Mastercard Gold"]
                    } else {
                        &[
                            "Мир Классическая",
                            "Visa Classic",
                            "Mastercard World",
                            "Мир Премиальная",
                        ]
                    };
                    let hash = mix48(salt ^ u64::from(seq) << 8 ^ 0xCA);
                    let (expiry, daily_limit, monthly_limit, status) =
                        Card::details(hash, opened, credit);
                    Some(Card {
                        id: format!("card-{hash:012x}"),
                        masked: format!("****{:04}", ar.gen_range(1000..10_000)),
                        kind: if credit { "credit" } else { "debit" },
                        name: names[ar.gen_range(0..names.len())],
                        expiry,
                        daily_limit,
                        monthly_limit,
                        status,
                    })
                }
                _ => None,
            };
            let target_balance = target_balance(&mut ar, person, kind, role);
            accounts.push(Account {
                id: format!("acc-{}", 1000 + seq),
                seq,
                owner: p,
                kind,
                role,
                currency,
                subtype,
                nickname,
                opened,
                number: account_number(kind, currency, b, seq, &mut ar),
                card,
                start,
                target_balance,
                share_pct: 0,
                travel: false,
                quota: None,
                agreement: None,
            });
        }
    }
    let products = make_products(seed, b);
    add_agreements(
        seed,
        b,
        salt,
        persons,
        newcomer,
        anchor,
        &products,
        &mut accounts,
        &mut seq,
    );
    let mut by_client: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_id = HashMap::new();
    for (i, a) in accounts.iter().enumerate() {
        by_client
            .entry(persons[a.owner].id.clone())
            .or_default()
            .push(i);
        by_id.insert(a.id.clone(), i);
    }
    let member_of = members
        .iter()
        .map(|&p| (persons[p].id.clone(), p))
        .collect();
    let mut people = Vec::with_capacity(64);
    for _ in 0..64 {
        let female = r.gen_bool(0.5);
        let first = if female {
            *pick(&mut r, names::FEMALE_NAMES)
        } else {
            *pick(&mut r, names::MALE_NAMES)
        };
        let (his, _) = *pick(&mut r, names::SURNAMES);
        let initial: String = his.chars().take(1).collect();
        people.push(format!("{first} {initial}."));
    }
    BankWorld {
        config: cfg.clone(),
        index: b,
        salt,
        members,
        accounts,
        by_client,
        by_id,
        member_of,
        products,
        newcomer,
        people,
        short_consent: None,
    }
}

fn target_balance(r: &mut ChaCha8Rng, person: &Person, kind: AccountKind, role: Role) -> i64 {
    use AccountKind::*;
    use Profile::*;
    if role == Role::Newcomer {
        return 0;
    }
    let minor = |r: &mut ChaCha8Rng, lo: i64, hi: i64| rub(r, lo, hi) + r.gen_range(0..100);
    match (kind, person.profile) {
        (Checking, Affluent) => minor(r, 80_000, 650_000),
        (Checking, Steady) => minor(r, 4_000, 120_000),
        (Checking, Stretched) => {
            if r.gen_bool(0.65) {
                -minor(r, 1_500, 28_000)
            } else {
                minor(r, 0, 3_000)
            }
        }
        (Savings, Affluent) => minor(r, 400_000, 4_500_000),
        (Savings, _) => minor(r, 20_000, 300_000),
        (CreditCard, Stretched) => -minor(r, 60_000, 240_000),
        (CreditCard, _) => -minor(r, 3_000, 80_000),
        (Currency, _) => minor(r, 800, 25_000),
        (Deposit, _) => 0,
        (Loan, _) => {
            let principal = person
                .plan
                .loan
                .as_ref()
                .map_or(30_000_000, |l| l.principal);
            -(principal * r.gen_range(30..90) / 100)
        }
    }
}

/// Splits each person's discretionary spending over their card accounts, and picks the one
/// that pays for trips (a credit card when there is one).
fn assign_shares(banks: &mut [BankWorld], persons: &[Person]) {
    let mut per_person: HashMap<usize, Vec<(usize, usize, u32)>> = HashMap::new();
    for (b, bank) in banks.iter().enumerate() {
        for (i, a) in bank.accounts.iter().enumerate() {
            let weight = match (a.kind, a.role) {
                (_, Role::Newcomer) => 0,
                (AccountKind::Checking, Role::Salary) => 60,
                (AccountKind::Checking, _) => 25,
                (AccountKind::CreditCard, _) => 30,
                _ => 0,
            };
            if weight > 0 {
                per_person.entry(a.owner).or_default().push((b, i, weight));
            }
        }
    }
    for (p, accounts) in per_person {
        let total: u32 = accounts.iter().map(|a| a.2).sum();
        let travel = accounts
            .iter()
            .find(|&&(b, i, _)| banks[b].accounts[i].kind == AccountKind::CreditCard)
            .or_else(|| {
                accounts
                    .iter()
                    .find(|&&(b, i, _)| banks[b].accounts[i].role == Role::Salary)
            })
            .or(accounts.first())
            .map(|&(b, i, _)| (b, i));
        for &(b, i, w) in &accounts {
            let a = &mut banks[b].accounts[i];
            a.share_pct = w * 100 / total.max(1);
            a.travel = travel == Some((b, i));
        }
        let _ = &persons[p];
    }
}

fn quota_weight(a: &Account) -> u64 {
    match (a.kind, a.role) {
        (_, Role::Newcomer) | (AccountKind::Deposit, _) => 0,
        (AccountKind::Checking, Role::Salary) => 10,
        (AccountKind::Checking, _) => 5,
        (AccountKind::CreditCard, _) => 4,
        _ => 1,
    }
}

/// Largest-remainder split of `total` by `weights`.
fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u64 = weights.iter().sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut out: Vec<u64> = weights
        .iter()
        .map(|w| (u128::from(total) * u128::from(*w) / u128::from(sum)) as u64)
        .collect();
    let mut rest = total - out.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0).collect();
    order.sort_by_key(|&i| {
        std::cmp::Reverse((
            u128::from(total) * u128::from(weights[i]) % u128::from(sum),
            i,
        ))
    });
    for i in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        out[*i] += 1;
        rest -= 1;
    }
    out
}

fn assign_quotas(banks: &mut [BankWorld], volume: Volume) {
    let per_bank: Vec<u64> = match volume {
        Volume::Realistic => return,
        Volume::PerBank(n) => vec![n; banks.len()],
        Volume::Total(n) => {
            let weights: Vec<u64> = banks
                .iter()
                .map(|b| b.accounts.iter().map(quota_weight).sum())
                .collect();
            split(n, &weights)
        }
    };
    for (bank, total) in banks.iter_mut().zip(per_bank) {
        let weights: Vec<u64> = bank.accounts.iter().map(quota_weight).collect();
        for (a, q) in bank.accounts.iter_mut().zip(split(total, &weights)) {
            a.quota = Some(q);
        }
    }
}

/// The first catalogue product of a kind at this bank: (id, name, rate, term in months).
fn product_of<'a>(
    products: &'a [Product],
    kind: &str,
) -> Option<(&'a Product, &'static catalog::ProductTemplate)> {
    products
        .iter()
        .map(|p| (p, &PRODUCTS[p.template]))
        .find(|(_, t)| t.kind == kind)
}

/// Loan agreements for the bank's loan accounts, and deposits (new `Deposit` accounts,
/// appended after every other account so no earlier id, number or history moves) for some
/// affluent and saving clients of their salary bank: at least one per bank.
#[allow(clippy::too_many_arguments)]
fn add_agreements(
    seed: u64,
    b: usize,
    salt: u64,
    persons: &[Person],
    newcomer: Option<usize>,
    anchor: DateTime<Utc>,
    products: &[Product],
    accounts: &mut Vec<Account>,
    seq: &mut u32,
) {
    const DAY: i64 = 86_400;
    let agreement_id =
        |seq: u32| format!("agr-{:012x}", mix48(salt ^ (u64::from(seq) << 12) ^ 0xA6));
    if let Some((product, template)) = product_of(products, "loan") {
        for a in accounts.iter_mut().filter(|a| a.kind == AccountKind::Loan) {
            let Some(loan) = persons[a.owner].plan.loan.as_ref() else {
                continue;
            };
            let start = ts(a.opened, 9, 0, 0);
            let term = i64::from(template.term_months.unwrap_or(36));
            a.agreement = Some(Agreement {
                id: agreement_id(a.seq),
                kind: "loan",
                product_id: product.id.clone(),
                product_name: template.name,
                amount: loan.principal,
                start,
                end: Some(start + term * 30 * DAY),
                rate: product.rate,
            });
        }
    }
    let Some((product, template)) = product_of(products, "deposit") else {
        return;
    };
    let anchor_date = anchor.date_naive();
    let eligible: Vec<usize> = (0..persons.len())
        .filter(|&p| {
            let person = &persons[p];
            person.banks.first() == Some(&b)
                && newcomer != Some(p)
                && person.plan.savings_monthly > 0
                && accounts.iter().filter(|a| a.owner == p).count() < 3
        })
        .collect();
    let mut chosen: Vec<usize> = eligible
        .iter()
        .copied()
        .filter(|&p| {
            let mut r = rng(seed, &[tag::PRODUCTS, b as u64, p as u64, 0xDE]);
            persons[p].profile == Profile::Affluent || r.gen_bool(0.3)
        })
        .collect();
    if chosen.is_empty() {
        chosen.extend(eligible.first());
    }
    for p in chosen {
        let person = &persons[p];
        let mut r = rng(seed, &[tag::PRODUCTS, b as u64, p as u64, 0xDF]);
        *seq += 1;
        let history_start = anchor_date
            .checked_sub_months(Months::new(person.months))
            .unwrap_or(anchor_date);
        let span = (anchor_date - history_start).num_days().max(40);
        // Most were opened inside the history (their funding shows), some long before.
        let opened = if r.gen_bool(0.7) {
            history_start + chrono::Duration::days(r.gen_range(5..span - 20))
        } else {
            history_start - chrono::Duration::days(r.gen_range(30..300))
        };
        let (lo, hi) = match person.profile {
            Profile::Affluent => (200, 1_500),
            _ => (50, 300),
        };
        let amount = rub(&mut r, lo, hi) * 1_000;
        let term = i64::from(*pick(&mut r, &[6u32, 12, 24]));
        let start = ts(opened, 10, r.gen_range(0..60), r.gen_range(0..60));
        accounts.push(Account {
            id: format!("acc-{}", 1000 + *seq),
            seq: *seq,
            owner: p,
            kind: AccountKind::Deposit,
            role: Role::Other,
            currency: "RUB",
            subtype: "Deposit",
            nickname: "Deposit счет".to_owned(),
            opened,
            number: format!("423{:015x}", mix(salt ^ u64::from(*seq) ^ 0xD3) >> 4),
            card: None,
            start: ts(opened.max(history_start), 0, 0, 0),
            target_balance: amount,
            share_pct: 0,
            travel: false,
            quota: None,
            agreement: Some(Agreement {
                id: agreement_id(*seq),
                kind: "deposit",
                product_id: product.id.clone(),
                product_name: template.name,
                amount,
                start,
                end: Some(start + term * 30 * DAY),
                rate: product.rate,
            }),
        });
    }
}

fn make_products(seed: u64, b: usize) -> Vec<Product> {
    let mut r = rng(seed, &[tag::PRODUCTS, b as u64]);
    let mut chosen: Vec<usize> = Vec::new();
    // One of each type, then a few more.
    for kind in ["deposit", "savings", "loan", "credit_card", "card"] {
        let of_kind: Vec<usize> = (0..PRODUCTS.len())
            .filter(|&i| PRODUCTS[i].kind == kind)
            .collect();
        chosen.push(*pick(&mut r, &of_kind));
    }
    let mut rest: Vec<usize> = (0..PRODUCTS.len())
        .filter(|i| !chosen.contains(i))
        .collect();
    rest.shuffle(&mut r);
    chosen.extend(rest.into_iter().take(3));
    chosen.sort_unstable();
    let mut counters: HashMap<&str, u32> = HashMap::new();
    chosen
        .into_iter()
        .map(|t| {
            let tpl = &PRODUCTS[t];
            let n = counters.entry(tpl.short).or_insert(0);
            *n += 1;
            Product {
                id: format!("prod-{}-{:02}", tpl.short, *n),
                template: t,
                rate: tpl.rate.map(|(lo, hi)| r.gen_range(lo / 10..=hi / 10) * 10),
            }
        })
        .collect()
}

/// Days in the month of `date`.
pub(crate) fn month_days(date: NaiveDate) -> u32 {
    let first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap_or(date);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    (next - first).num_days() as u32
}

pub(crate) fn from_unix(secs: i64, micros: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, micros * 1_000)
        .single()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixers_are_bijective_on_a_sample() {
        let mut seen = std::collections::HashSet::new();
        for x in 0..200_000u64 {
            assert!(seen.insert(mix48(x << 20 | 7)));
        }
    }

    #[test]
    fn split_is_exact() {
        assert_eq!(split(10, &[1, 1, 1]).iter().sum::<u64>(), 10);
        assert_eq!(
            split(1_000_003, &[10, 5, 0, 4, 1]).iter().sum::<u64>(),
            1_000_003
        );
        assert_eq!(split(7, &[0, 0]), vec![0, 0]);
    }

    #[test]
    fn the_default_world_has_overlapping_banks_of_ten_or_more() {
        let w = World::generate(&SandboxConfig::default());
        assert_eq!(w.persons.len(), 20);
        for bank in &w.banks {
            assert!(
                bank.members.len() >= 10,
                "{}: {}",
                bank.config.code,
                bank.members.len()
            );
            for accounts in bank.by_client.values() {
                assert!((1..=3).contains(&accounts.len()));
            }
            assert!(bank.newcomer.is_some());
            let agreements: Vec<&Agreement> = bank
                .accounts
                .iter()
                .filter_map(|a| a.agreement.as_ref())
                .collect();
            assert!(
                agreements
                    .iter()
                    .any(|a| a.kind == "deposit" && a.end.is_some()),
                "{}: a deposit with a maturity",
                bank.config.code
            );
            for a in bank.accounts.iter().filter(|a| a.kind == AccountKind::Loan) {
                assert!(
                    a.agreement.is_some()
                        || !matches!(
                            w.persons[a.owner].plan.loan.as_ref().map(|l| &l.lender),
                            Some(Lender::Bank(_))
                        )
                );
            }
        }
        assert!(w.persons.iter().any(|p| p.banks.len() == 3));
        assert!(w.persons.iter().any(|p| p.banks.len() == 2));
        for profile in [Profile::Affluent, Profile::Steady, Profile::Stretched] {
            assert!(
                w.persons.iter().any(|p| p.profile == profile),
                "{profile:?}"
            );
        }
        let names: std::collections::HashSet<&str> =
            w.persons.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 20, "everyone has their own name");
    }
}
