// Server features the app uses beyond what every server of this version offers. Each one is off
// until the server has the operations named beside it: an operation that does not validate
// against the server's schema fails the whole request, so nothing is sent for a feature that is
// off, and its part of the page is not shown.
//
// Turn a flag on in the same change that adds its operations to schema.graphql.

export const FEATURES = Object.freeze({
  // Query.assistantSuggestions(clientId): [String!]!
  // Subscription.assistantStream(question, clientId) { delta done model }
  assistant: true,
  // GET /export/clients/{id}/transactions.csv and .xlsx, GET /export/portfolio.xlsx
  // (session cookie; answered with Content-Disposition: attachment)
  exports: true,
});
