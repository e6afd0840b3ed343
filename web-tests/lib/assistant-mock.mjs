// A stand-in for the assistant's server side, for pages where the test decides what "the
// model" says: the app's features.js is served with `assistant: true`, `Suggestions` is
// answered over HTTP, and /graphql/ws is a scripted graphql-transport-ws server that streams
// `answer` in chunks for every AskStream subscription (and answers nothing else).
//
// Used while the server has no assistant yet, and always for hostile answers.

/**
 * @param {import('playwright-core').Page} page
 * @param {{suggestions: string[], answer: (question: string) => string, chunk?: number, delayMs?: number}} script
 * @returns {{subscribes: object[], stops: string[], frames: object[]}} what the page sent
 */
export async function mockAssistant(page, { suggestions, answer, chunk = 12, delayMs = 120 }) {
  const seen = { subscribes: [], stops: [], frames: [] };
  await page.route('**/features.js', async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replace(/assistant:\s*false/, 'assistant: true');
    await route.fulfill({ response: res, body });
  });
  await page.route('**/graphql', async (route) => {
    const req = route.request();
    let op = null;
    try { op = req.postDataJSON(); } catch (e) { op = null; }
    if (op && op.operationName === 'Suggestions') {
      await route.fulfill({ contentType: 'application/json', body: JSON.stringify({ data: { assistantSuggestions: suggestions } }) });
      return;
    }
    await route.fallback();
  });
  await page.routeWebSocket('**/graphql/ws', (ws) => {
    const timers = new Map();
    ws.onMessage((raw) => {
      const msg = JSON.parse(String(raw));
      seen.frames.push(msg);
      switch (msg.type) {
        case 'connection_init':
          ws.send(JSON.stringify({ type: 'connection_ack' }));
          break;
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong', ...(msg.payload ? { payload: msg.payload } : {}) }));
          break;
        case 'subscribe': {
          seen.subscribes.push(msg);
          if (msg.payload.operationName !== 'AskStream') {
            ws.send(JSON.stringify({ id: msg.id, type: 'error', payload: [{ message: 'not scripted', extensions: { code: 'INTERNAL' } }] }));
            break;
          }
          const text = answer(msg.payload.variables.question);
          const parts = [];
          for (let i = 0; i < text.length; i += chunk) parts.push(text.slice(i, i + chunk));
          let k = 0;
          const step = () => {
            if (k < parts.length) {
              ws.send(JSON.stringify({ id: msg.id, type: 'next', payload: { data: { assistantStream: { delta: parts[k], done: false, model: null } } } }));
              k++;
              timers.set(msg.id, setTimeout(step, delayMs));
            } else {
              ws.send(JSON.stringify({ id: msg.id, type: 'next', payload: { data: { assistantStream: { delta: '', done: true, model: 'scripted-test-model' } } } }));
              ws.send(JSON.stringify({ id: msg.id, type: 'complete' }));
              timers.delete(msg.id);
            }
          };
          timers.set(msg.id, setTimeout(step, delayMs));
          break;
        }
        case 'complete':
          seen.stops.push(msg.id);
          clearTimeout(timers.get(msg.id));
          timers.delete(msg.id);
          break;
        default:
          break;
      }
    });
    ws.onClose(() => { for (const t of timers.values()) clearTimeout(t); });
  });
  return seen;
}
