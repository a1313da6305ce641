// The bot's action: keep every received event in memory and answer nothing
// (no Graph API send), so the bench measures ingest only.
const received = [];

module.exports = async function App(context) {
  received.push(context.event.rawEvent);
};

// server.js reads this for GET /_count, proving each delivery reached the action.
module.exports.received = received;
