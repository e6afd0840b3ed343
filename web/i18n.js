// Every string of the interface, Russian first, English available.
export const strings = {
  ru: {
    lang: 'English', graphiql: 'GraphiQL', logout: 'Выйти', loginTitle: 'Вход', username: 'Логин',
    password: 'Пароль', signIn: 'Войти', search: 'Поиск клиентов', find: 'Найти',
    clientsCaption: 'Клиенты', name: 'Клиент', status: 'Статус', grade: 'Рейтинг', score: 'Балл',
    balance: 'Баланс', banks: 'Банки', first: 'В начало', more: 'Дальше', back: '← Ко всем клиентам',
    accounts: 'Счета', account: 'Счёт', bank: 'Банк', currency: 'Валюта', transactions: 'Операции',
    date: 'Дата', amount: 'Сумма', description: 'Описание', category: 'Категория',
    email: 'E-mail', phone: 'Телефон', shown: (n, total) => `Показано ${n} из ${total}`,
    statClients: 'Клиенты', statActive: 'активных', statTx: 'Операции', statIncome: 'Доходы',
    statExpense: 'Расходы', statBanks: 'Банки', ACTIVE: 'активен', INACTIVE: 'неактивен', none: '—',
  },
  en: {
    lang: 'Русский', graphiql: 'GraphiQL', logout: 'Sign out', loginTitle: 'Sign in', username: 'Username',
    password: 'Password', signIn: 'Sign in', search: 'Search clients', find: 'Search',
    clientsCaption: 'Clients', name: 'Client', status: 'Status', grade: 'Grade', score: 'Score',
    balance: 'Balance', banks: 'Banks', first: 'First page', more: 'Next', back: '← All clients',
    accounts: 'Accounts', account: 'Account', bank: 'Bank', currency: 'Currency', transactions: 'Transactions',
    date: 'Date', amount: 'Amount', description: 'Description', category: 'Category',
    email: 'E-mail', phone: 'Phone', shown: (n, total) => `Showing ${n} of ${total}`,
    statClients: 'Clients', statActive: 'active', statTx: 'Transactions', statIncome: 'Income',
    statExpense: 'Spending', statBanks: 'Banks', ACTIVE: 'active', INACTIVE: 'inactive', none: '—',
  },
};
