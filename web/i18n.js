// Every string of the interface, in one place. Russian is the default; English is one click away
// (the choice is remembered in localStorage). A string may be a function of its arguments.
// Enum labels mirror the server's (crates/core/src/domain/enums.rs, the `categories` query);
// an unknown code is shown as it is.

const STRINGS = {
  ru: {
    appName: 'AI-CRM',
    skipToContent: 'Перейти к содержимому',
    switchLanguage: 'English',
    switchLanguageLabel: 'Switch the interface to English',
    graphiql: 'GraphiQL',
    logout: 'Выйти',
    signedInAs: (name, role) => `${name} (${role})`,
    loading: 'Загрузка…',
    retry: 'Повторить',
    none: '—',

    loginTitle: 'Вход для менеджера',
    username: 'Логин',
    password: 'Пароль',
    signIn: 'Войти',
    signingIn: 'Входим…',
    sessionExpired: 'Сессия закончилась. Войдите снова.',
    loggedOut: 'Вы вышли из системы.',

    errNetwork: 'Сервер недоступен. Проверьте подключение и попробуйте ещё раз.',
    errBadResponse: (status) => `Сервер ответил неожиданно (${status}).`,
    errForbidden: 'Недостаточно прав для этого действия.',
    errNotFound: 'Не найдено.',

    dashboardTitle: 'Клиенты',
    statClients: 'Клиенты',
    statClientsDetail: (active, inactive) => `активных ${active} · неактивных ${inactive}`,
    statTransactions: 'Операции',
    statIncome: 'Поступления',
    statExpense: 'Расходы',
    statNet: 'Сальдо',
    statBanks: 'Подключённые банки',
    statBalances: 'Остатки на счетах',
    searchLabel: 'Поиск по имени, e-mail или телефону',
    searchPlaceholder: 'Имя, e-mail или телефон',
    searchSubmit: 'Найти',
    searchClear: 'Сбросить',
    clientsCaption: 'Список клиентов',
    colName: 'Клиент',
    colStatus: 'Статус',
    colGrade: 'Рейтинг',
    colScore: 'Балл',
    colBalance: 'Остаток',
    colBanks: 'Банки',
    noClients: 'Клиентов нет.',
    noClientsFound: (q) => `По запросу «${q}» никого не нашли.`,
    range: (from, to, total) => (total === 0 ? 'Нет записей' : `${from}–${to} из ${total}`),
    prevPage: '← Назад',
    nextPage: 'Вперёд →',
    firstPage: 'В начало',
    pagination: 'Страницы',
    factorsTitle: 'Факторы рейтинга',

    backToClients: '← Все клиенты',
    clientTitle: 'Клиент',
    profile: 'Профиль',
    email: 'E-mail',
    phone: 'Телефон',
    status: 'Статус',
    bankLinks: 'Банки',
    totalBalance: 'Общий остаток',
    rating: 'Рейтинг',
    ratingNone: 'Рейтинг ещё не рассчитан.',
    scoreOf: (score) => `${score} из 100`,
    factor: 'Фактор',
    factorValue: 'Значение',
    factorImpact: 'Влияние, баллы',
    accountsTitle: 'Счета',
    noAccounts: 'Счетов нет.',
    colBank: 'Банк',
    colAccount: 'Счёт',
    colType: 'Тип',
    colCurrency: 'Валюта',
    colAccountStatus: 'Состояние',
    transactionsTitle: 'Операции',
    noTransactions: 'Операций нет.',
    colDate: 'Дата',
    colDescription: 'Описание',
    colCategory: 'Категория',
    colAmount: 'Сумма',
    merchant: 'Продавец',
    mcc: 'MCC',
    categorySourceHint: (source) => `определено: ${source}`,
    shownOf: (shown, total) => `Показано ${shown} из ${total}`,
    loadMore: 'Показать ещё',
  },

  en: {
    appName: 'AI-CRM',
    skipToContent: 'Skip to content',
    switchLanguage: 'Русский',
    switchLanguageLabel: 'Переключить интерфейс на русский',
    graphiql: 'GraphiQL',
    logout: 'Sign out',
    signedInAs: (name, role) => `${name} (${role})`,
    loading: 'Loading…',
    retry: 'Retry',
    none: '—',

    loginTitle: 'Manager sign-in',
    username: 'Username',
    password: 'Password',
    signIn: 'Sign in',
    signingIn: 'Signing in…',
    sessionExpired: 'Your session has ended. Please sign in again.',
    loggedOut: 'You have signed out.',

    errNetwork: 'The server cannot be reached. Check the connection and try again.',
    errBadResponse: (status) => `Unexpected answer from the server (${status}).`,
    errForbidden: 'You are not allowed to do this.',
    errNotFound: 'Not found.',

    dashboardTitle: 'Clients',
    statClients: 'Clients',
    statClientsDetail: (active, inactive) => `${active} active · ${inactive} inactive`,
    statTransactions: 'Transactions',
    statIncome: 'Income',
    statExpense: 'Spending',
    statNet: 'Net',
    statBanks: 'Connected banks',
    statBalances: 'Account balances',
    searchLabel: 'Search by name, e-mail or phone',
    searchPlaceholder: 'Name, e-mail or phone',
    searchSubmit: 'Search',
    searchClear: 'Clear',
    clientsCaption: 'Clients',
    colName: 'Client',
    colStatus: 'Status',
    colGrade: 'Grade',
    colScore: 'Score',
    colBalance: 'Balance',
    colBanks: 'Banks',
    noClients: 'No clients yet.',
    noClientsFound: (q) => `Nobody matches “${q}”.`,
    range: (from, to, total) => (total === 0 ? 'Nothing to show' : `${from}–${to} of ${total}`),
    prevPage: '← Previous',
    nextPage: 'Next →',
    firstPage: 'First page',
    pagination: 'Pages',
    factorsTitle: 'Rating factors',

    backToClients: '← All clients',
    clientTitle: 'Client',
    profile: 'Profile',
    email: 'E-mail',
    phone: 'Phone',
    status: 'Status',
    bankLinks: 'Banks',
    totalBalance: 'Total balance',
    rating: 'Rating',
    ratingNone: 'Not rated yet.',
    scoreOf: (score) => `${score} of 100`,
    factor: 'Factor',
    factorValue: 'Value',
    factorImpact: 'Impact, points',
    accountsTitle: 'Accounts',
    noAccounts: 'No accounts.',
    colBank: 'Bank',
    colAccount: 'Account',
    colType: 'Type',
    colCurrency: 'Currency',
    colAccountStatus: 'State',
    transactionsTitle: 'Transactions',
    noTransactions: 'No transactions.',
    colDate: 'Date',
    colDescription: 'Description',
    colCategory: 'Category',
    colAmount: 'Amount',
    merchant: 'Merchant',
    mcc: 'MCC',
    categorySourceHint: (source) => `set by: ${source}`,
    shownOf: (shown, total) => `Showing ${shown} of ${total}`,
    loadMore: 'Show more',
  },
};

const ENUMS = {
  ru: {
    ClientStatus: { ACTIVE: 'Активен', INACTIVE: 'Неактивен' },
    AccountStatus: { ENABLED: 'Открыт', DISABLED: 'Закрыт' },
    Role: { VIEWER: 'наблюдатель', MANAGER: 'менеджер', ADMIN: 'администратор' },
    Direction: { CREDIT: 'Поступление', DEBIT: 'Списание' },
    ConsentStatus: {
      NONE: 'нет согласия', AWAITING_AUTHORIZATION: 'ждёт подтверждения', AUTHORIZED: 'согласие есть',
      REJECTED: 'отклонено', REVOKED: 'отозвано', EXPIRED: 'истекло',
    },
    CategorySource: {
      MANUAL: 'вручную', RULE: 'правило', MERCHANT: 'продавец', MCC: 'код MCC',
      KEYWORD: 'ключевое слово', DEFAULT: 'по умолчанию',
    },
    Category: {
      GROCERIES: 'Продукты', RESTAURANTS: 'Кафе и рестораны', FOOD_DELIVERY: 'Доставка еды',
      TRANSPORT: 'Транспорт', AUTO: 'Автомобиль', SHOPPING: 'Покупки', HOME: 'Дом и ремонт',
      HEALTH: 'Здоровье', BEAUTY: 'Красота', ENTERTAINMENT: 'Развлечения', SUBSCRIPTIONS: 'Подписки',
      TELECOM: 'Связь', UTILITIES: 'ЖКХ', EDUCATION: 'Образование', TRAVEL: 'Путешествия',
      CASH: 'Наличные', TRANSFERS_OUT: 'Переводы', LOAN_PAYMENTS: 'Платежи по кредитам',
      TAXES_FEES: 'Налоги и комиссии', OTHER_EXPENSE: 'Прочие расходы', SALARY: 'Зарплата',
      INTEREST: 'Проценты и кэшбэк', TRANSFERS_IN: 'Входящие переводы', REFUNDS: 'Возвраты',
      OTHER_INCOME: 'Прочие поступления',
    },
  },
  en: {
    ClientStatus: { ACTIVE: 'Active', INACTIVE: 'Inactive' },
    AccountStatus: { ENABLED: 'Open', DISABLED: 'Closed' },
    Role: { VIEWER: 'viewer', MANAGER: 'manager', ADMIN: 'administrator' },
    Direction: { CREDIT: 'Money in', DEBIT: 'Money out' },
    ConsentStatus: {
      NONE: 'no consent', AWAITING_AUTHORIZATION: 'awaiting approval', AUTHORIZED: 'consent given',
      REJECTED: 'rejected', REVOKED: 'revoked', EXPIRED: 'expired',
    },
    CategorySource: {
      MANUAL: 'by hand', RULE: 'rule', MERCHANT: 'merchant', MCC: 'MCC code',
      KEYWORD: 'keyword', DEFAULT: 'default',
    },
    Category: {
      GROCERIES: 'Groceries', RESTAURANTS: 'Restaurants', FOOD_DELIVERY: 'Food delivery',
      TRANSPORT: 'Transport', AUTO: 'Car', SHOPPING: 'Shopping', HOME: 'Home', HEALTH: 'Health',
      BEAUTY: 'Beauty', ENTERTAINMENT: 'Entertainment', SUBSCRIPTIONS: 'Subscriptions',
      TELECOM: 'Telecom', UTILITIES: 'Utilities', EDUCATION: 'Education', TRAVEL: 'Travel',
      CASH: 'Cash', TRANSFERS_OUT: 'Transfers out', LOAN_PAYMENTS: 'Loan payments',
      TAXES_FEES: 'Taxes and fees', OTHER_EXPENSE: 'Other expenses', SALARY: 'Salary',
      INTEREST: 'Interest and cashback', TRANSFERS_IN: 'Transfers in', REFUNDS: 'Refunds',
      OTHER_INCOME: 'Other income',
    },
  },
};

const LOCALES = { ru: 'ru-RU', en: 'en-GB' };
const STORAGE_KEY = 'ai-crm.lang';
const listeners = new Set();

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch (e) {
    return null;
  }
}

let current = stored() === 'en' ? 'en' : 'ru';

/** The interface language: 'ru' or 'en'. */
export function lang() {
  return current;
}

/** The BCP 47 locale for numbers and dates in the current language. */
export function locale() {
  return LOCALES[current];
}

/** Switches the language, remembers it and tells the listeners. */
export function setLang(next) {
  if (!STRINGS[next] || next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch (e) {
    /* private mode: the choice lasts for this page only */
  }
  for (const fn of listeners) fn(next);
}

/** Calls `fn(lang)` after every language switch; returns a function that unsubscribes. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The string `key` in the current language (called with `args` when it is a function). */
export function t(key, ...args) {
  const value = key in STRINGS[current] ? STRINGS[current][key] : STRINGS.ru[key];
  if (value === undefined) return key;
  return typeof value === 'function' ? value(...args) : value;
}

/** The label of an enum value, e.g. label('Category', 'GROCERIES'); unknown codes as they are. */
export function label(type, code) {
  if (code === null || code === undefined) return t('none');
  const table = ENUMS[current][type];
  return table && table[code] ? table[code] : String(code);
}

/** For tests and tools: every key of every language (they must match). */
export const _strings = STRINGS;
