// The GraphQL operations the web app sends (names as in schema.graphql).

export const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { user { id username role } }
}`;

export const LOGOUT = 'mutation Logout { logout }';

export const ME = 'query Me { me { id username role } }';

export const DASHBOARD = `query Dashboard($after: String, $filter: ClientFilter) {
  stats {
    clients { total active inactive }
    transactions { count income expense balance currency }
    banks
    balances { amount currency }
  }
  clients(first: 20, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id displayName status
        rating { grade score factors { name value impact } }
        totalBalance { amount currency }
        links { bank { code name } externalClientId }
      }
    }
  }
}`;

export const PAGE_SIZE = 20;

export const CLIENT_PAGE = `query ClientPage($id: ID!, $after: String) {
  client(id: $id) {
    id displayName email phone status
    links { bank { code name } externalClientId consentStatus }
    accounts { id bank { code name } name type currency status balance { amount currency } }
    totalBalance { amount currency }
    rating { grade score factors { name value impact } }
    transactions(first: 50, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id bookedAt amount currency direction description merchant mcc category categorySource
          account { id }
        }
      }
    }
  }
}`;
