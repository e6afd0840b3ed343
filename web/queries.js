// The GraphQL operations the web app sends (names as in schema.graphql). Every operation here
// must validate against the server's schema: web-tests/check-queries.mjs and the browser tests
// send each of them. Operations of features that are off (features.js) are sent only when on.

export const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { user { id username role passwordChangeRequired timeZone } expiresAt }
}`;

export const LOGOUT = 'mutation Logout { logout }';

export const ME = 'query Me { me { id username role passwordChangeRequired timeZone } }';

export const CHANGE_PASSWORD = `mutation ChangePassword($current: String!, $next: String!) {
  changePassword(currentPassword: $current, newPassword: $next) { user { id username role passwordChangeRequired timeZone } expiresAt }
}`;

export const PAGE_SIZE = 20;

export const DASHBOARD = `query Dashboard($after: String, $filter: ClientFilter, $orderBy: ClientOrder! = NAME) {
  stats {
    clients { total active inactive }
    transactions { count income expense balance currency }
    banks
    balances { amount currency }
    debts { amount currency }
  }
  clients(first: ${PAGE_SIZE}, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id displayName status
        rating { grade score factors { name value impact } }
        totalBalance { amount currency }
        links { bank { code name } externalClientId consentStatus lastSyncedAt }
      }
    }
  }
}`;

/**
 * The portfolio view: clients per grade (with the average score), totals per bank with the
 * bank's health, and the whole portfolio's spending by category in `[from, to)`.
 */
export const PORTFOLIO = `query Portfolio($from: DateTime!, $to: DateTime!) {
  portfolio {
    grades { grade count averageScore }
    banks {
      bank {
        code name
        status {
          health linkedClients authorizedConsents awaitingConsents unansweredConsents revokedConsents
          rejectedConsents expiredConsents failingLinks lastSyncedAt circuitOpenSecs
        }
      }
      clients accounts transactions
      balance { amount currency }
      debts { amount currency }
      income { amount currency }
      expense { amount currency }
    }
    categories(from: $from, to: $to) { category amount currency count share }
  }
}`;

/**
 * The home bank's share of wallet over the user's book and the products its clients hold at
 * other banks, per kind (null share: no home bank configured).
 */
export const BOOK_WALLET = `query BookWallet {
  bookWallet {
    clients clientsWithHeldAway
    share {
      homeBankName currency from to
      balances { percent home { amount currency } total { amount currency } }
      income { percent home { amount currency } total { amount currency } }
      spending { percent home { amount currency } total { amount currency } }
    }
    heldAway { kind count clients amount { amount currency } withAmount monthlyPayments { amount currency } }
  }
}`;

export const BANKS = 'query Banks { banks { code name } }';

export const CATEGORIES = 'query Categories { categories { code name nameEn direction bothDirections } }';

export const SYNC_NOW = `mutation SyncNow($bank: String, $clientId: ID) {
  syncNow(bank: $bank, clientId: $clientId) { id status startedAt }
}`;

export const SYNC_RUNS = `query SyncRuns($first: Int) {
  syncRuns(first: $first) {
    id trigger bank clientId status startedAt finishedAt accounts added updated unchanged errors message
    links { bank clientId result code message }
  }
}`;

export const SYNC_PROGRESS = `subscription SyncProgress {
  syncProgress {
    kind runId links bank clientId added updated unchanged error
    run {
      id status startedAt finishedAt accounts added updated unchanged errors message
      links { bank clientId result code message }
    }
  }
}`;

/**
 * A client's profile, banks, accounts and rating (the parts that do not page), plus the fields
 * of the extra sections in views/client-sections.js.
 * @param {string[]} [extra] selections to add inside `client { … }`
 */
/** What the client's page shows of a meeting brief. */
const BRIEF_FIELDS = 'id createdAt author text polished pdfUrl';

export const GENERATE_BRIEF = `mutation GenerateBrief($clientId: ID!, $lang: Lang!) {
  generateBrief(clientId: $clientId, lang: $lang) { ${BRIEF_FIELDS} }
}`;

export function clientQuery(extra = []) {
  const vars = extra.some((f) => f.includes('$lang')) ? '$id: ID!, $lang: Lang! = RU' : '$id: ID!';
  return `query Client(${vars}) {
  client(id: $id) {
    id displayName email phone status createdAt updatedAt
    owner { id username } team { id name lead { id } }
    notes(first: 20) { id kind body occurredAt author { id username } }
    briefs(first: 1) { ${BRIEF_FIELDS} }
    links {
      id bank { code name } externalClientId consentStatus consentExpiresAt statusMessage lastSyncedAt
      state failureCount nextAttemptAt consentRequestedAt lastError { code message at }
    }
    accounts {
      id bank { code name } name type subtype kind currency status closedAt openedAt numberMasked
      balance { amount currency } balanceAt
    }
    totalBalance { amount currency }
    position { currency assets debts net }
    agreements {
      id bank { code name } kind productName amount { amount currency } interestRate
      openedAt endsAt status accountNumberMasked
    }
    cards {
      id bank { code name } kind name numberMasked status expiryYear expiryMonth expired
      dailyLimit { amount currency } monthlyLimit { amount currency }
    }
    rating { grade score computedAt factors { code name nameEn value valueEn impact } }${extra.map((f) => `\n    ${f}`).join('')}
  }
}`;
}

export const CLIENT = clientQuery();

export const TX_PAGE_SIZE = 50;

export const CLIENT_TRANSACTIONS = `query ClientTransactions($id: ID!, $after: String, $filter: TransactionFilter) {
  client(id: $id) {
    id
    transactions(first: ${TX_PAGE_SIZE}, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id bookedAt amount currency direction status description merchant mcc counterparty
          category categorySource account { id }
        }
      }
    }
  }
}`;

export const CLIENT_ANALYTICS = `query ClientAnalytics($id: ID!, $from: DateTime!, $to: DateTime!) {
  client(id: $id) {
    id
    spendingByCategory(from: $from, to: $to) { category amount currency count share }
    topMerchants(from: $from, to: $to, first: 10) { merchant amount { amount currency } count share }
    cashflow(months: 12) { month income expense net movedOut movedIn currency }
  }
}`;

export const ADD_NOTE = `mutation AddNote($clientId: ID!, $kind: NoteKind!, $body: String!) {
  addNote(clientId: $clientId, kind: $kind, body: $body) { id kind body occurredAt author { id username } }
}`;

export const DELETE_NOTE = 'mutation DeleteNote($id: ID!) { deleteNote(id: $id) }';

export const UPDATE_CLIENT = `mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {
  updateClient(id: $id, input: $input) { id displayName email phone status updatedAt }
}`;

export const SET_CATEGORY = `mutation SetCategory($id: ID!, $category: Category!) {
  setTransactionCategory(id: $id, category: $category) { id category categorySource }
}`;

export const LINK_BANK = `mutation LinkBank($clientId: ID!, $bank: String!, $externalClientId: String!) {
  linkBank(clientId: $clientId, bank: $bank, externalClientId: $externalClientId) {
    id bank { code name } externalClientId consentStatus consentExpiresAt statusMessage lastSyncedAt
    state failureCount nextAttemptAt consentRequestedAt lastError { code message at }
  }
}`;

/** Asks the bank again for a consent that does not work (no answer, rejected, revoked, expired). */
export const REQUEST_CONSENT_AGAIN = `mutation RequestConsentAgain($linkId: ID!) {
  requestConsentAgain(linkId: $linkId) {
    id bank { code name } externalClientId consentStatus consentExpiresAt statusMessage lastSyncedAt
    state failureCount nextAttemptAt consentRequestedAt lastError { code message at }
  }
}`;

/** Ends a link: the consent is revoked at the bank, the link is no longer synced, the data stays. */
export const UNLINK_BANK = `mutation UnlinkBank($linkId: ID!) {
  unlinkBank(linkId: $linkId) {
    id bank { code name } externalClientId consentStatus consentExpiresAt statusMessage lastSyncedAt
    state failureCount nextAttemptAt consentRequestedAt lastError { code message at }
  }
}`;

/** Links an unlinked bank again (a new consent is asked for). */
export const RELINK_BANK = `mutation RelinkBank($linkId: ID!) {
  relinkBank(linkId: $linkId) {
    id bank { code name } externalClientId consentStatus consentExpiresAt statusMessage lastSyncedAt
    state failureCount nextAttemptAt consentRequestedAt lastError { code message at }
  }
}`;

// ---- the assistant (FEATURES.assistant) ------------------------------------------------------

export const SUGGESTIONS = 'query Suggestions($clientId: ID) { assistantSuggestions(clientId: $clientId) }';

export const ASK_STREAM = `subscription AskStream($question: String!, $clientId: ID, $conversationId: ID) {
  assistantStream(question: $question, clientId: $clientId, conversationId: $conversationId) {
    delta done model id conversationId fallbackReason
  }
}`;

/** The assistant conversations about a client, most recent first, with their turns. */
export const CONVERSATIONS = `query Conversations($clientId: ID!) {
  client(id: $clientId) {
    id
    conversations(first: 10) {
      id title createdAt updatedAt
      user { username }
      turns { id question answer model askedAt }
    }
  }
}`;

/** One conversation with its turns as the server has them now. */
export const CONVERSATION = `query Conversation($id: ID!) {
  conversation(id: $id) { id title turns { id question answer model askedAt } }
}`;

// ---- category rules -------------------------------------------------------------------------

export const CATEGORY_RULES = `query CategoryRules {
  categoryRules { id pattern field category priority createdBy createdAt }
  recategorisation { id trigger status rowsScanned rowsChanged startedAt finishedAt message }
}`;

export const CREATE_RULE = `mutation CreateCategoryRule($pattern: String!, $field: RuleField!, $category: Category!, $priority: Int) {
  createCategoryRule(pattern: $pattern, field: $field, category: $category, priority: $priority) {
    rule { id pattern field category priority createdBy createdAt }
    recategorisation { id trigger status rowsScanned rowsChanged startedAt finishedAt message }
  }
}`;

export const DELETE_RULE = `mutation DeleteCategoryRule($id: ID!) {
  deleteCategoryRule(id: $id) {
    id
    recategorisation { id trigger status rowsScanned rowsChanged startedAt finishedAt message }
  }
}`;

export const RECATEGORISATION = `query Recategorisation($id: ID) {
  recategorisation(id: $id) { id trigger status rowsScanned rowsChanged startedAt finishedAt message }
}`;

// ---- administration (users, teams) and the client's book ----------------------------------

const USER_FIELDS = 'id username role disabled passwordChangeRequired team { id name }';
const TEAM_FIELDS = 'id name lead { id username } createdAt';

/** Every user and team (administrators only). */
export const ADMIN_DATA = `query AdminData {
  users { ${USER_FIELDS} }
  teams { ${TEAM_FIELDS} }
}`;

export const CREATE_USER = `mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { ${USER_FIELDS} }
}`;

export const UPDATE_USER = `mutation UpdateUser($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { ${USER_FIELDS} }
}`;

/** A one-time temporary password: shown once, never asked for again. */
export const RESET_PASSWORD = `mutation ResetPassword($userId: ID!) {
  resetPassword(userId: $userId) { user { ${USER_FIELDS} } password }
}`;

export const SET_USER_TEAM = `mutation SetUserTeam($userId: ID!, $teamId: ID) {
  setUserTeam(userId: $userId, teamId: $teamId) { ${USER_FIELDS} }
}`;

export const CREATE_TEAM = `mutation CreateTeam($name: String!, $leadId: ID) {
  createTeam(name: $name, leadId: $leadId) { ${TEAM_FIELDS} }
}`;

export const UPDATE_TEAM = `mutation UpdateTeam($id: ID!, $name: String, $leadId: ID) {
  updateTeam(id: $id, name: $name, leadId: $leadId) { ${TEAM_FIELDS} }
}`;

export const CREATE_CLIENT = `mutation CreateClient($input: CreateClientInput!) {
  createClient(input: $input) { id displayName }
}`;

export const DELETE_CLIENT = 'mutation DeleteClient($id: ID!) { deleteClient(id: $id) }';

/** The users a client can be given to (administrators: `users` is theirs only). */
export const ASSIGNABLE_USERS = 'query AssignableUsers { users { id username role disabled team { id name } } }';

export const ASSIGN_CLIENT = `mutation AssignClient($clientId: ID!, $ownerId: ID!) {
  assignClient(clientId: $clientId, ownerId: $ownerId) { id owner { id username } team { id name lead { id } } }
}`;

// ---- the manager's workbench: tasks, the timeline, the time zone ----------------------------

const TASK_FIELDS = `id title details dueAt overdue status priority source sourceRef clientId
    client { id displayName } assignee { id username } creator { id username } createdAt closedAt`;

/** A signal with its evidence, in the reader's language (`$lang`). */
export const SIGNAL_FIELDS = `id kind title(lang: $lang) severity state resolution dismissReason
    summary(lang: $lang) figures(lang: $lang) { name kind text } evidence { kind id }
    dueOn raisedAt clientId client { id displayName } task { id status }`;

/** A task with the signal it was made for (when it was). */
const DAY_TASK_FIELDS = `${TASK_FIELDS} signal { ${SIGNAL_FIELDS} }`;

/**
 * "My day": my overdue tasks, today's (in my time zone) and the coming week's, my time zone,
 * the open signals of my book, and the clients of my book where something happened most
 * recently.
 */
export const MY_DAY = `query MyDay($lang: Lang! = RU) {
  me { id timeZone }
  overdue: myTasks(filter: { due: OVERDUE }) { ${DAY_TASK_FIELDS} }
  today: myTasks(filter: { due: TODAY }) { ${DAY_TASK_FIELDS} }
  week: myTasks(filter: { due: WEEK }) { ${DAY_TASK_FIELDS} }
  done: myTasks(filter: { status: DONE }) { ${DAY_TASK_FIELDS} }
  signals(first: 50) { totalCount edges { node { ${SIGNAL_FIELDS} } } }
  clients(first: 0) { totalCount }
  recentClients(first: 8) { id displayName status lastActivityAt }
}`;

export const SIGNAL_RAISED = `subscription SignalRaised($lang: Lang! = RU) {
  signalRaised { ${SIGNAL_FIELDS} }
}`;

export const ACKNOWLEDGE_SIGNAL = `mutation AcknowledgeSignal($id: ID!, $lang: Lang! = RU) {
  acknowledgeSignal(id: $id) { ${SIGNAL_FIELDS} }
}`;

export const DISMISS_SIGNAL = `mutation DismissSignal($id: ID!, $reason: String!, $lang: Lang! = RU) {
  dismissSignal(id: $id, reason: $reason) { ${SIGNAL_FIELDS} }
}`;

export const SET_MY_TIME_ZONE = `mutation SetMyTimeZone($timeZone: String!) {
  setMyTimeZone(timeZone: $timeZone) { id timeZone }
}`;

export const MY_TASKS_CHANGED = `subscription MyTasksChanged($lang: Lang! = RU) {
  myTasksChanged { ${DAY_TASK_FIELDS} }
}`;

/** A client's tasks, open ones first, and my time zone (the form's clock). */
export const CLIENT_TASKS = `query ClientTasks($id: ID!) {
  me { id username role timeZone }
  client(id: $id) { id tasks { ${TASK_FIELDS} } owner { id username role disabled } }
}`;

/** Who may be given a task about the client: its team's members (asked apart: a team may be hidden). */
export const CLIENT_MEMBERS = `query ClientMembers($id: ID!) {
  client(id: $id) { id team { id members { id username role disabled } } }
}`;

export const CREATE_TASK = `mutation CreateTask($input: CreateTaskInput!) {
  createTask(input: $input) { ${TASK_FIELDS} }
}`;

export const UPDATE_TASK = `mutation UpdateTask($id: ID!, $input: UpdateTaskInput!) {
  updateTask(id: $id, input: $input) { ${TASK_FIELDS} }
}`;

export const COMPLETE_TASK = `mutation CompleteTask($id: ID!) { completeTask(id: $id) { ${TASK_FIELDS} } }`;

export const REOPEN_TASK = `mutation ReopenTask($id: ID!) { reopenTask(id: $id) { ${TASK_FIELDS} } }`;

export const CANCEL_TASK = `mutation CancelTask($id: ID!) { cancelTask(id: $id) { ${TASK_FIELDS} } }`;

export const TIMELINE_PAGE_SIZE = 25;

export const CLIENT_TIMELINE = `query ClientTimeline($id: ID!, $after: String, $kinds: [TimelineKind!], $lang: Lang! = RU) {
  client(id: $id) {
    id
    timeline(first: ${TIMELINE_PAGE_SIZE}, after: $after, kinds: $kinds) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind at actor { username } summary(lang: $lang) object { kind id } } }
    }
  }
}`;

export const CLIENT_EVENTS = `subscription ClientEvents($clientId: ID!, $lang: Lang! = RU) {
  clientEvents(clientId: $clientId) { id kind at actor { username } summary(lang: $lang) object { kind id } }
}`;

export const REVIEW_PAGE_SIZE = 20;

/** The book's transactions the categoriser was unsure of (below the server's bar), newest first. */
export const TRANSACTIONS_TO_REVIEW = `query TransactionsToReview($after: String) {
  transactionsToReview(first: ${REVIEW_PAGE_SIZE}, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id bookedAt amount currency direction description merchant
        category categorySource categoryConfidence
        client { id displayName }
      }
    }
  }
}`;
