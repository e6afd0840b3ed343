// Extra sections of the client page, each bringing the fields it reads. The page's query is
// built from the base selection plus every enabled section's `fields`, so a section is added
// here together with the server fields it needs, and nothing is sent for fields the server
// does not have. Sections render in this order after the charts.
//
// A section: {
//   id: 'insights',                       // DOM id of the section, also its heading's id prefix
//   enabled: () => boolean,               // e.g. () => FEATURES.insights
//   fields: 'insights { title text severity }',   // selection inside client { … }
//   title: () => the heading (a string of i18n.js),
//   render: (client, ctx) => Node | null,  // the section's content
// }
//
// Waiting for the server (see features.js): insights, recurring payments, offers, top merchants
// and income on Client.

/** @type {Array<{id: string, enabled: () => boolean, fields: string, title: () => string, render: (client: object, ctx: object) => Node|null}>} */
export const CLIENT_SECTIONS = [];

export function enabledSections() {
  return CLIENT_SECTIONS.filter((s) => s.enabled());
}
